"""Hostile inputs: files and options a user (or an attacker feeding a user) gives the command line. Each is one
line on stderr, exit 2, nothing written: deep nesting, duplicate keys, impossible dates, wrong types, FIFOs,
devices, huge files, unwritable output folders, host targets that reach too far."""
from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from conftest import run_cli
from relhelp import cli_inprocess


@pytest.fixture(autouse=True)
def _inprocess(capsys):
    """Most cases run the command line in this process (fast); `run_cli` (a subprocess) is kept where a
    regression could hang (FIFOs)."""
    global _CAPSYS
    _CAPSYS = capsys
    yield
    _CAPSYS = None


_CAPSYS = None


def cli(*argv, env: dict | None = None, timeout: int = 120):
    return cli_inprocess(_CAPSYS, *argv, env=env)


def one_line_error(r, *needles: str, code: int = 2) -> None:
    assert r.returncode == code, (r.returncode, r.stderr, r.stdout[-500:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)


def scan(tmp_path, cfg_text: str, *extra: str, env: dict | None = None, name: str = "scan.yaml"):
    cfg = tmp_path / name
    cfg.write_text(cfg_text)
    out = tmp_path / "out"
    r = cli("scan", "--config", str(cfg), "--out", str(out), "--level", "3", "--quiet", "--no-history", *extra,
            env=env)
    return r, out


def static_cfg(path: str) -> str:
    return f"system: {{name: T, level: 3}}\nstatic:\n  - {{name: s, path: '{path}'}}\n"


DEEP_YAML = "a: " + "[" * 5000 + "]" * 5000 + "\n"
DEEP_JSON = '{"assets": ' + "[" * 5000 + "]" * 5000 + "}"


# ------------------------------------------------------------------ nesting, duplicate keys, dates


@pytest.mark.parametrize("where", ["config", "profile", "static-yaml", "static-json", "questionnaire"])
def test_deep_nesting_is_an_input_error(tmp_path, where):
    if where == "config":
        r, out = scan(tmp_path, "system: {name: T, level: 3}\nx: " + "[" * 5000 + "]" * 5000 + "\n")
    elif where == "profile":
        (tmp_path / "p.yaml").write_text(DEEP_YAML)
        r, out = scan(tmp_path, "system: {name: T, level: 3}\n", "--profile", str(tmp_path / "p.yaml"))
    elif where == "static-yaml":
        (tmp_path / "s.yaml").write_text(DEEP_YAML)
        r, out = scan(tmp_path, static_cfg("s.yaml"))
    elif where == "static-json":
        (tmp_path / "s.json").write_text(DEEP_JSON)
        r, out = scan(tmp_path, static_cfg("s.json"))
    else:
        (tmp_path / "q.yaml").write_text(DEEP_YAML)
        r = cli("grade", str(tmp_path / "q.yaml"))
        out = tmp_path / "out"
    one_line_error(r, "nested")
    assert not out.exists()


def test_nesting_built_from_yaml_aliases_and_alias_bombs_are_refused(tmp_path):
    chain = "\n".join(["l0: &l0 [x]"] + [f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, 200)]) + "\n"
    (tmp_path / "s.yaml").write_text(chain)
    r, _ = scan(tmp_path, static_cfg("s.yaml"))
    one_line_error(r, "nested deeper")
    bomb = "a: &a [" + ",".join(["x"] * 10) + "]\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 10) + "]\n" for p, c in zip("abcdefg", "bcdefgh"))
    (tmp_path / "b.yaml").write_text(bomb)
    r, _ = scan(tmp_path, static_cfg("b.yaml"), name="scan2.yaml")
    one_line_error(r, "expands to more than")


@pytest.mark.parametrize("text,needle", [
    ("system: {name: T, level: 3, filing_date: 2026-02-30}\n", "not a real date: 2026-02-30"),
    ("system: {name: T, level: 3, filing_date: 2026-13-01}\n", "not a real date: 2026-13-01"),
    ("system: {name: T, level: 3, filing_date: '2026-02-30'}\n", "system.filing_date"),
    ("system: {name: T, level: 3}\nsystem: {name: U, level: 2}\n", "duplicate key 'system'"),
    ("system: {name: T, level: 3, name: U}\n", "duplicate key 'name'"),
])
def test_dates_and_duplicate_keys_in_the_config(tmp_path, text, needle):
    r, out = scan(tmp_path, text)
    one_line_error(r, needle)
    assert not out.exists()


def test_duplicate_keys_in_static_yaml_and_json(tmp_path):
    (tmp_path / "fw.yaml").write_text("kind: mlps-scan/static\nassets:\n  - type: network.firewall\n    id: fw1\n"
                                      "    attributes: {logging: true, logging: false}\n")
    r, _ = scan(tmp_path, static_cfg("fw.yaml"))
    one_line_error(r, "duplicate key 'logging'", "line 5")
    (tmp_path / "fw.json").write_text('{"assets": [{"type": "network.firewall", "id": "a", "id": "b"}]}')
    r, _ = scan(tmp_path, static_cfg("fw.json"), name="scan2.yaml")
    one_line_error(r, "duplicate key 'id'")


# ------------------------------------------------------------------ type confusion


def test_profile_ports_out_of_range_are_rejected(tmp_path):
    (tmp_path / "p.yaml").write_text("high_risk_ports: [99999, 0, -22]\n")
    r, _ = scan(tmp_path, "system: {name: T, level: 3}\n", "--profile", str(tmp_path / "p.yaml"))
    one_line_error(r, "high_risk_ports[0]")
    (tmp_path / "p2.yaml").write_text("admin_ports: ['22']\nrequire_mfa: 'false'\n")
    r, _ = scan(tmp_path, "system: {name: T, level: 3}\n", "--profile", str(tmp_path / "p2.yaml"))
    one_line_error(r, "admin_ports[0]")


def test_a_string_false_never_passes_firewall_logging(tmp_path):
    (tmp_path / "fw.yaml").write_text(yaml.safe_dump({"kind": "mlps-scan/static", "assets": [
        {"type": "network.firewall", "id": "fw1", "attributes": {
            "default_action": "deny", "logging": "false", "log_destination": "syslog://10.0.0.5", "rules": []}}]}))
    r, _ = scan(tmp_path, static_cfg("fw.yaml"))
    one_line_error(r, "assets[0].attributes.logging", "expected a boolean", "'false'")


def test_replayed_evidence_with_a_wrong_type_makes_the_check_say_error(tmp_path):
    """The same file replayed from a bundle (where the input check did not run): the check says error."""
    from mlps_scan.evidence import Recorder
    from mlps_scan.plugins import CollectSession, collectors
    from mlps_scan.profile import build_profile
    from mlps_scan.pipeline import evaluate
    from mlps_scan.models import Inventory
    rec = Recorder(tmp_path / "b")
    s = CollectSession("static", "fw", rec, base_dir=tmp_path)
    doc = {"assets": [{"type": "network.firewall", "id": "fw1", "attributes": {
        "default_action": "deny", "logging": "false", "log_destination": "syslog://10.0.0.5", "rules": []}}]}
    r = s.record("file:fw.yaml", doc, request={"path": "fw.yaml", "format": "assets"})
    from mlps_scan.models import EvidenceRecord
    collectors()["static"]().derive([EvidenceRecord.model_validate_json((rec.dir / f"{r.id}.json").read_text())], s)
    findings = evaluate(Inventory(assets=s.assets, coverage=s.coverage_records), 3, build_profile(3))[0]
    got = {f.check_id: f.status.value for f in findings if f.resource_id == "fw1"}
    assert got["network.firewall.logging"] == "error", got
    assert got["network.firewall.default_deny"] == "pass"


# ------------------------------------------------------------------ what is read: regular files under a size limit


@pytest.fixture
def fifo(tmp_path):
    p = tmp_path / "fifo.yaml"
    os.mkfifo(p)
    return p


@pytest.mark.parametrize("what", ["static", "config", "profile", "questionnaire", "kubeconfig"])
def test_a_fifo_is_refused_not_waited_for(tmp_path, fifo, what):
    """In a subprocess with a timeout: a regression here would hang, not fail."""
    def sub_scan(text: str, *extra: str):
        (tmp_path / "scan.yaml").write_text(text)
        return run_cli("scan", "--config", str(tmp_path / "scan.yaml"), "--out", str(tmp_path / "out"), "--level", "3",
                       "--quiet", "--no-history", *extra, timeout=60)
    if what == "static":
        r = sub_scan(static_cfg(str(fifo)))
    elif what == "config":
        r = run_cli("scan", "--config", str(fifo), "--out", str(tmp_path / "out"), timeout=60)
    elif what == "profile":
        r = sub_scan("system: {name: T, level: 3}\n", "--profile", str(fifo))
    elif what == "questionnaire":
        r = run_cli("grade", str(fifo), timeout=60)
    else:
        r = sub_scan(f"system: {{name: T, level: 3}}\nkubernetes:\n  - {{name: c, kubeconfig: '{fifo}'}}\n")
    one_line_error(r, "FIFO")


def test_a_device_is_refused(tmp_path):
    r, _ = scan(tmp_path, static_cfg("/dev/zero"))
    one_line_error(r, "/dev/zero", "device")
    r, _ = scan(tmp_path, "system: {name: T, level: 3}\n", "--profile", "/dev/zero", name="s2.yaml")
    one_line_error(r, "device")


def test_a_file_over_the_size_limit_is_refused_and_the_limit_is_settable(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as f:  # sparse: 300 MiB on paper, nothing on disk
        f.truncate(300 << 20)
    r, _ = scan(tmp_path, static_cfg("big.yaml"))
    one_line_error(r, "larger than 256 MiB", "MLPS_SCAN_MAX_INPUT_MB")
    small = tmp_path / "fw.yaml"
    small.write_text("kind: mlps-scan/static\nassets: []\n" + ("# " + "x" * 78 + "\n") * 27000)  # 2.1 MiB
    r, _ = scan(tmp_path, static_cfg("fw.yaml"), env={"MLPS_SCAN_MAX_INPUT_MB": "1"}, name="s2.yaml")
    one_line_error(r, "larger than 1 MiB")
    r, _ = scan(tmp_path, static_cfg("fw.yaml"), env={"MLPS_SCAN_MAX_INPUT_MB": "4"}, name="s3.yaml")
    assert r.returncode == 0, r.stderr
    r, _ = scan(tmp_path, static_cfg("fw.yaml"), env={"MLPS_SCAN_MAX_INPUT_MB": "lots"}, name="s4.yaml")
    one_line_error(r, "MLPS_SCAN_MAX_INPUT_MB")


# ------------------------------------------------------------------ where the bundle goes


def _ro_mount(tmp_path):
    mnt = tmp_path / "ro"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        return None
    return mnt


@pytest.mark.parametrize("where", ["/proc/mlps-out", "/dev/null/x", "read-only", "/sys/kernel/mlps-out"])
def test_an_unwritable_out_is_an_input_error(tmp_path, where):
    mnt = None
    if where == "read-only":
        mnt = _ro_mount(tmp_path)
        if mnt is None:
            pytest.skip("cannot mount a read-only tmpfs here")
        where = str(mnt / "out")
    try:
        (tmp_path / "scan.yaml").write_text("system: {name: T, level: 3}\n")
        r = cli("scan", "--config", str(tmp_path / "scan.yaml"), "--out", where, "--quiet", "--no-history")
        one_line_error(r, "--out", "cannot write there")
        assert not os.path.exists(where)
    finally:
        if mnt is not None:
            subprocess.run(["umount", str(mnt)], check=False)


def test_out_with_markup_is_written_and_exits_normally(tmp_path):
    (tmp_path / "scan.yaml").write_text("system: {name: T, level: 3}\n")
    r = cli("scan", "--config", str(tmp_path / "scan.yaml"), "--out", str(tmp_path / "out[/]"), "--no-history")
    assert r.returncode in (0, 1), r.stderr
    assert (tmp_path / "out[/]" / "manifest.json").exists()


# ------------------------------------------------------------------ host targets: how far a scan may reach


def hosts_cfg(targets: str, extra: str = "") -> str:
    return f"system: {{name: T, level: 3}}\nhosts:\n  - {{name: h, targets: {targets}, discover: false{extra}}}\n"


def test_public_addresses_need_an_explicit_opt_in(tmp_path):
    for targets in ("['8.8.8.0/24']", "['10.0.0.1', '1.1.1.1']", "['2001:4860::/120']"):
        r, out = scan(tmp_path, hosts_cfg(targets))
        one_line_error(r, "allow_public: true")
        assert not out.exists()


def test_the_addresses_of_a_scan_are_capped_and_the_cap_is_settable(tmp_path):
    whole_10 = "[" + ", ".join(f"'10.{i}.{j * 16}.0/20'" for i in range(4) for j in range(16)) + "]"
    r, _ = scan(tmp_path, hosts_cfg(whole_10))
    one_line_error(r, "262,144 addresses", "MLPS_SCAN_MAX_ADDRESSES")
    two = "system: {name: T, level: 3}\nhosts:\n" + "".join(
        f"  - {{name: h{i}, targets: ['10.{i}.0.0/24'], discover: false}}\n" for i in range(3))
    r, _ = scan(tmp_path, two, env={"MLPS_SCAN_MAX_ADDRESSES": "600"}, name="s2.yaml")
    one_line_error(r, "768 addresses")  # three targets together, counted once each


def test_accepted_targets_are_still_accepted():
    from mlps_scan.collectors.hosts.limits import count_addresses
    from mlps_scan.collectors.hosts import HostsTarget
    t = HostsTarget(targets=["10.0.0.0/24", "10.0.0.5", "web01.corp.example", "127.213.1.0/24"])
    assert count_addresses([t]) == 256 + 1 + 256  # the address inside the range is not counted twice
    pub = HostsTarget(targets=["8.8.8.8"], allow_public=True)
    from mlps_scan.collectors.hosts.limits import check_target
    from pathlib import Path
    check_target(pub, Path("."))
