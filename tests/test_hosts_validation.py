"""Hosts targets are validated before anything reaches nmap or a shell: hostile strings exit 2 with one line."""
from __future__ import annotations

import pytest

from conftest import run_cli

HOSTILE = ["-oN /tmp/x", "a;b", "$(id)", "`id`", "-iL/etc/passwd", "host name", "a|b", "x&&y", "10.0.0.0/8",
           "::/0", "1.2.3.4/33", "--script=evil", "a\nb", "*.example.com", "../etc", "", "-", "host;rm -rf /"]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_target_strings_exit_2(tmp_path, target):
    import json
    cfg = tmp_path / "scan.yaml"
    cfg.write_text("system: {name: x, level: 3}\nhosts:\n  - targets: [" + json.dumps(target) + "]\n")
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out))
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "hosts" in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("extra,needle", [
    ("ssh: {user: 'root;id'}", "ssh user"),
    ("ssh: {jump_host: 'bastion;id'}", "jump_host"),
    ("ssh: {key: /nonexistent/key}", "ssh key not found"),
    ("ports: [0]", "port"),
    ("name: 'a b'", "name"),
])
def test_hostile_ssh_settings_exit_2(tmp_path, extra, needle):
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(f"system: {{name: x, level: 3}}\nhosts:\n  - targets: [127.0.0.1]\n    {extra}\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert needle in r.stderr and "Traceback" not in r.stderr


def test_accepted_targets_parse():
    from mlps_scan.collectors.hosts import parse_target
    assert parse_target("web01.corp.example")[0] == "name"
    assert parse_target("10.1.2.3")[0] == "ip"
    assert parse_target("fe80::1")[0] == "ip"
    assert parse_target("10.1.0.0/20")[0] == "net"
    assert parse_target("2001:db8::/116")[0] == "net"
