"""Host addresses as shard units on the real bed (sshd + nmap): each shard scans its own hosts, and the merge
of the shards gives the findings and control statuses of the unsharded scan."""
from __future__ import annotations

import json

import pytest

from conftest import check_bundle, run_cli
from test_hosts_scan import DB, WEB, write_config

pytestmark = pytest.mark.hosts


def results(out):
    f = json.loads((out / "findings.json").read_text())
    c = json.loads((out / "controls.json").read_text())
    return (sorted((x["check_id"], x["resource_id"], x["scope"], x["status"], x["message"]) for x in f),
            {x["control_id"]: x["status"] for x in c})


def test_host_shards_merge_into_the_unsharded_scan(host_bed, tmp_path):
    cfg = write_config(tmp_path / "scan.yaml", host_bed, known_hosts=host_bed.known, hang=False)
    whole = tmp_path / "whole"
    r = run_cli("scan", "--config", str(cfg), "--out", str(whole), "--quiet", timeout=240)
    assert r.returncode == 1, r.stderr
    shards = []
    for k in (1, 2):
        out = tmp_path / f"s{k}"
        r = run_cli("scan", "--config", str(cfg), "--shard", f"{k}/2", "--out", str(out), "--quiet", timeout=240)
        assert r.returncode in (0, 1), r.stderr  # web01 alone may be compliant
        shards.append(out)
    covered = [json.loads((s / "manifest.json").read_text())["shard"]["covered"] for s in shards]
    assert covered == [[f"hosts/lab/{WEB}"], [f"hosts/lab/{DB}"]]
    # each shard probed and logged in to its own host only
    for s, addr in zip(shards, (WEB, DB)):
        hosts = [a["id"] for a in json.loads((s / "inventory.json").read_text())["assets"] if a["type"] == "host"]
        assert hosts == [addr]
        nmap = [json.loads(p.read_text()) for p in (s / "evidence").glob("hosts.nmap.*.json")]
        assert [n["request"]["targets"] for n in nmap] == [[addr]]
    merged = tmp_path / "merged"
    r = run_cli("merge", *map(str, shards), "--out", str(merged), "--quiet")
    assert r.returncode == 1, r.stderr
    assert results(merged) == results(whole)
    assert run_cli("verify", str(merged)).returncode == 0 and check_bundle(merged).returncode == 0
