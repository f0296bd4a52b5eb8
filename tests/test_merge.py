"""Shards of one system scanned apart merge into one bundle that verifies and is evaluated as a whole."""
from __future__ import annotations

import json

import yaml

from conftest import check_bundle, run_cli

FW = {"default_action": "deny", "logging": True, "log_destination": "syslog://x",
      "rules": [{"name": "web", "action": "allow", "source": "any", "destination": "10.0.0.1", "ports": "443", "protocol": "tcp"}]}


def shard(tmp_path, name, attrs):
    d = tmp_path / name
    d.mkdir()
    (d / "net.yaml").write_text(yaml.safe_dump({"assets": [{"type": "network.firewall", "id": f"fw-{name}", "attributes": attrs}]}))
    (d / "scan.yaml").write_text(yaml.safe_dump({"system": {"name": "Shop", "level": 3},
                                                 "static": [{"name": name, "path": "net.yaml"}]}))
    out = d / "out"
    r = run_cli("scan", "--config", str(d / "scan.yaml"), "--out", str(out), "--quiet")
    assert r.returncode in (0, 1), r.stderr
    return out


def test_merge_two_shards(tmp_path):
    a = shard(tmp_path, "dc-shanghai", FW)
    b = shard(tmp_path, "dc-beijing", {**FW, "default_action": "allow"})
    out = tmp_path / "merged"
    r = run_cli("merge", str(a), str(b / "bundle.zip"), "--out", str(out), "--quiet")
    assert r.returncode == 1, r.stderr  # the Beijing firewall fails
    inv = json.loads((out / "inventory.json").read_text())
    assert {x["id"] for x in inv["assets"]} == {"fw-dc-shanghai", "fw-dc-beijing"}
    st = {c["control_id"]: c["status"] for c in json.loads((out / "controls.json").read_text())}
    assert st["L3-ABS1-05"] == "partial"
    findings = json.loads((out / "findings.json").read_text())
    ev = {p.stem for p in (out / "evidence").glob("*.json")}
    assert all(set(f["evidence"]) <= ev for f in findings)
    assert run_cli("verify", str(out)).returncode == 0
    assert check_bundle(out).returncode == 0


def test_merge_refuses_bundles_of_different_systems(tmp_path):
    a = shard(tmp_path, "one", FW)
    other = tmp_path / "other"
    other.mkdir()
    (other / "scan.yaml").write_text(yaml.safe_dump({"system": {"name": "Other", "level": 3}}))
    r0 = run_cli("scan", "--config", str(other / "scan.yaml"), "--out", str(other / "out"), "--quiet")
    assert r0.returncode == 0, r0.stderr
    r = run_cli("merge", str(a), str(other / "out"), "--out", str(tmp_path / "m"))
    assert r.returncode == 2 and "different systems" in r.stderr and not (tmp_path / "m").exists()


def _shard(tmp_path, name, attrs, *, system=None, profile=None):
    d = tmp_path / name
    d.mkdir()
    (d / "net.yaml").write_text(yaml.safe_dump({"assets": [{"type": "network.firewall", "id": f"fw-{name}",
                                                            "attributes": attrs}]}))
    cfg = {"system": {"name": "Shop", "level": 3, **(system or {})}, "static": [{"name": name, "path": "net.yaml"}]}
    if profile is not None:
        cfg["profile"] = profile
    (d / "scan.yaml").write_text(yaml.safe_dump(cfg))
    out = d / "out"
    r = run_cli("scan", "--config", str(d / "scan.yaml"), "--out", str(out), "--quiet", "--no-history")
    assert r.returncode in (0, 1), r.stderr
    return out


def test_merge_keeps_the_shards_declared_scope_and_profile(tmp_path):
    a = _shard(tmp_path, "a", FW, system={"extensions": ["cloud"]}, profile={"log_retention_days": 365})
    b = _shard(tmp_path, "b", FW, system={"extensions": ["cloud"]}, profile={"log_retention_days": 365})
    out = tmp_path / "merged"
    r = run_cli("merge", str(a), str(b), "--out", str(out), "--quiet")
    assert r.returncode in (0, 1), r.stderr
    scan = json.loads((out / "scan.json").read_text())
    assert scan["profile"]["log_retention_days"] == 365  # the shards' thresholds, not the level's defaults
    assert scan["scope"] == json.loads((a / "scan.json").read_text())["scope"]
    assert scan["scope"]["source"] == "declared" and scan["scope"]["extensions"] == ["cloud"]
    a_na = json.loads((a / "assessment.json").read_text())["counts"]["not_applicable"]
    assert json.loads((out / "assessment.json").read_text())["counts"]["not_applicable"] == a_na == 0


def test_merge_refuses_shards_judged_differently(tmp_path):
    a = _shard(tmp_path, "a", FW, system={"extensions": []})
    b = _shard(tmp_path, "b", FW, system={"extensions": ["cloud"]})
    r = run_cli("merge", str(a), str(b), "--out", str(tmp_path / "m1"))
    assert r.returncode == 2 and "extensions" in r.stderr and not (tmp_path / "m1").exists(), r.stderr
    c = _shard(tmp_path, "c", FW, profile={"log_retention_days": 365})
    d = _shard(tmp_path, "d", FW)
    r = run_cli("merge", str(c), str(d), "--out", str(tmp_path / "m2"))
    assert r.returncode == 2 and "profile" in r.stderr and not (tmp_path / "m2").exists(), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    # --profile decides for the merged result
    r = run_cli("merge", str(c), str(d), "--out", str(tmp_path / "m3"), "--profile", str(_profile(tmp_path)))
    assert r.returncode in (0, 1), r.stderr
    assert json.loads((tmp_path / "m3" / "scan.json").read_text())["profile"]["log_retention_days"] == 200


def _profile(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text(yaml.safe_dump({"log_retention_days": 200}))
    return p


def test_merge_keeps_the_shards_waivers_and_judgement_date(tmp_path):
    """A shard's waivers are evidence of the merged bundle, and the merged bundle is judged as of the shards'
    assessment date (the latest of them) unless --as-of says otherwise: merging later must not expire a waiver
    the shards counted, nor count one they did not."""
    d = tmp_path / "a"
    d.mkdir()
    (d / "net.yaml").write_text(yaml.safe_dump({"assets": [{"type": "network.firewall", "id": "fw-a",
                                                            "attributes": {**FW, "default_action": "allow"}}]}))
    (d / "w.yaml").write_text(yaml.safe_dump({"waivers": [{
        "id": "W-1", "checks": ["network.firewall.default_deny"], "justification": "migration window",
        "compensating": "host firewalls on every server", "approved_by": "CISO", "approved_on": "2026-06-01",
        "expires": "2026-12-31"}]}))
    (d / "scan.yaml").write_text(yaml.safe_dump({"system": {"name": "Shop", "level": 3}, "static": [
        {"name": "a", "path": "net.yaml"}, {"name": "w", "path": "w.yaml"}]}))
    a = d / "out"
    r = run_cli("scan", "--config", str(d / "scan.yaml"), "--out", str(a), "--quiet", "--no-history",
                "--as-of", "2026-11-29")
    assert r.returncode in (0, 1), r.stderr
    b = _shard(tmp_path, "b", FW)  # judged today
    shard_dates = {json.loads((p / "assessment.json").read_text())["as_of"] for p in (a, b)}
    out = tmp_path / "merged"
    r = run_cli("merge", str(a), str(b), "--out", str(out), "--quiet")
    assert r.returncode in (0, 1, 3), r.stderr
    merged = json.loads((out / "assessment.json").read_text())
    assert merged["as_of"] == max(shard_dates)
    assert [w["id"] for w in merged["waivers"]] == ["W-1"]  # the shard's waiver is in the merged evidence
    # --as-of decides for the merged bundle: the waiver is active then and covers the firewall's failure
    out2 = tmp_path / "merged2"
    r = run_cli("merge", str(a), str(b), "--out", str(out2), "--quiet", "--as-of", "2026-11-29")
    assert r.returncode in (0, 1, 3), r.stderr
    merged = json.loads((out2 / "assessment.json").read_text())
    assert merged["as_of"] == "2026-11-29"
    assert {w["id"]: w["status"] for w in merged["waivers"]} == {"W-1": "active"}
    fw = [f for f in json.loads((out2 / "findings.json").read_text())
          if f["check_id"] == "network.firewall.default_deny" and f["resource_id"] == "fw-a"]
    assert fw and fw[0]["status"] == "fail" and fw[0]["waiver"]["id"] == "W-1"


def test_merge_without_as_of_uses_the_shards_date_not_today(tmp_path):
    """Both shards judged as of one past date: the merged bundle is judged then too (a waiver that has expired
    since stays active, as in the shards)."""
    outs = []
    for name in ("a", "b"):
        d = tmp_path / name
        d.mkdir()
        (d / "net.yaml").write_text(yaml.safe_dump({
            "assets": [{"type": "network.firewall", "id": f"fw-{name}", "attributes": {**FW, "default_action": "allow"}}],
            "waivers": [{"id": f"W-{name}", "checks": ["network.firewall.default_deny"], "resources": [f"fw-{name}"],
                         "justification": "migration window", "approved_by": "CISO", "approved_on": "2024-01-01",
                         "expires": "2024-12-31"}]}))
        (d / "scan.yaml").write_text(yaml.safe_dump({"system": {"name": "Shop", "level": 3},
                                                     "static": [{"name": name, "path": "net.yaml"}]}))
        r = run_cli("scan", "--config", str(d / "scan.yaml"), "--out", str(d / "out"), "--quiet", "--no-history",
                    "--as-of", "2024-06-01")
        assert r.returncode in (0, 1), r.stderr
        outs.append(d / "out")
    out = tmp_path / "merged"
    r = run_cli("merge", *map(str, outs), "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr  # every failure waived as of 2024-06-01
    merged = json.loads((out / "assessment.json").read_text())
    assert merged["as_of"] == "2024-06-01"
    assert {w["id"]: w["status"] for w in merged["waivers"]} == {"W-a": "active", "W-b": "active"}
