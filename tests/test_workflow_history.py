"""History store and diff: scans are recorded (to the test history, never the user's), listed, re-recorded
idempotently; diff between two static-evidence scans where one control regresses and one is fixed."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
import yaml

from mlps_scan.diff import diff
from mlps_scan.history import ENV, History, default_path, resolve_path

from conftest import TEST_HISTORY, run_cli


def _estate(tmp: Path, name: str, fw: dict, extra: list[dict] | None = None) -> Path:
    d = tmp / name
    d.mkdir()
    (d / "network.yaml").write_text(yaml.safe_dump({"kind": "mlps-scan/static", "assets": [fw, *(extra or [])]}))
    (d / "scan.yaml").write_text(yaml.safe_dump({
        "system": {"name": "Diff Shop", "level": 3, "filing_date": "2024-02-29"},
        "static": [{"name": "network", "path": "network.yaml"}]}))
    return d / "scan.yaml"


RULES = [{"name": "web", "action": "allow", "source": "any", "destination": "10.0.1.0/24", "ports": "443", "protocol": "tcp"}]
OLD_FW = {"type": "network.firewall", "id": "fw-edge", "name": "edge",
          "attributes": {"zone": "edge", "default_action": "deny", "logging": False, "log_destination": None, "rules": RULES}}
NEW_FW = {"type": "network.firewall", "id": "fw-edge", "name": "edge",
          "attributes": {"zone": "edge", "default_action": "allow", "logging": True,
                         "log_destination": "syslog://10.0.0.5", "rules": RULES}}
OLD_ONLY = {"type": "network.switch", "id": "sw-old", "attributes": {"zone": "office"}}
NEW_ONLY = {"type": "network.switch", "id": "sw-new", "attributes": {"zone": "office"}}


@pytest.fixture(scope="module")
def two_scans(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("diff")
    hist = tmp / "h.sqlite3"
    outs = []
    for name, fw, extra in (("old", OLD_FW, [OLD_ONLY]), ("new", NEW_FW, [NEW_ONLY])):
        out = tmp / f"{name}-out"
        r = run_cli("scan", "--config", str(_estate(tmp, name, fw, extra)), "--out", str(out), "--quiet",
                    env={ENV: str(hist)})
        assert r.returncode == 1, r.stderr
        outs.append(out)
    return outs[0], outs[1], hist


def test_diff_regression_and_fix(two_scans):
    old, new, _ = two_scans
    d = diff(old, new)
    assert [(f["check_id"], f["resource_id"], f["was"]) for f in d["new_failures"]] == [
        ("network.firewall.default_deny", "fw-edge", "pass")]
    assert [(f["check_id"], f["resource_id"]) for f in d["fixed"]] == [("network.firewall.logging", "fw-edge")]
    changed = {c["control_id"]: (c["old"], c["new"], c["change"]) for c in d["controls_changed"]}
    assert changed["L3-ABS1-05"][1:] == ("non_compliant", "regressed")   # default deny
    assert changed["L3-ABS1-16"][0] == "non_compliant" and changed["L3-ABS1-16"][2] == "improved"  # logging
    assert set(changed) == {"L3-ABS1-05", "L3-ABS1-16"}
    assert d["regressed"] is True
    assert d["assets_added"] == [{"type": "network.switch", "id": "sw-new", "name": None, "scope": "static/network"}]
    assert [a["id"] for a in d["assets_removed"]] == ["sw-old"]
    assert d["summary"]["controls_regressed"] == 1 and d["summary"]["controls_improved"] == 1
    # the same scans the other way round: the regression becomes the fix
    back = diff(new, old)
    assert [f["check_id"] for f in back["new_failures"]] == ["network.firewall.logging"]
    assert [f["check_id"] for f in back["fixed"]] == ["network.firewall.default_deny"]


def test_diff_cli_formats_and_exit_codes(two_scans):
    old, new, _ = two_scans
    r = run_cli("diff", str(old), str(new), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["summary"]["new_failures"] == 1
    r = run_cli("diff", str(old), str(new / "bundle.zip"), "--fail-on-regression")
    assert r.returncode == 1, r.stderr
    assert "L3-ABS1-05" in r.stdout and "regressed" in r.stdout and "sw-new" in r.stdout
    assert run_cli("diff", str(new), str(old), "--fail-on-regression").returncode == 1  # logging regresses back
    assert run_cli("diff", str(old), str(old), "--fail-on-regression").returncode == 0
    assert run_cli("diff", str(old), str(old.parent / "nope")).returncode == 2


def test_scans_are_recorded_in_the_history(two_scans):
    old, new, hist = two_scans
    with History(hist) as h:
        scans = h.scans()
        assert [s["bundle_path"] for s in scans] == [str(old), str(new)]
        s = scans[0]
        assert (s["system"], s["level"], s["filing_date"], s["partial"]) == ("Diff Shop", 3, "2024-02-29", False)
        m = json.loads((old / "manifest.json").read_text())
        assert s["findings"]["fail"] == m["counts"]["findings"]["fail"]
        assert s["controls"] == m["counts"]["controls"]
        import hashlib
        assert s["bundle_hash"] == hashlib.sha256((old / "manifest.json").read_bytes()).hexdigest()
        ctl = h.control_statuses(s["id"])
        assert len(ctl) == len(json.loads((old / "controls.json").read_text()))
        assert ctl["L3-ABS1-05"] == "compliant" or ctl["L3-ABS1-05"] == "partial"
        assert h.control_statuses(scans[1]["id"])["L3-ABS1-05"] == "non_compliant"
    r = run_cli("history", "--format", "json", "--system", "Diff Shop", env={ENV: str(hist)})
    assert r.returncode == 0 and len(json.loads(r.stdout)["scans"]) == 2
    r = run_cli("history", "--system", "Nobody", env={ENV: str(hist)})
    assert r.returncode == 0 and "no scans recorded" in r.stdout
    # recording the same bundle again (folder or zip) does not duplicate it
    r = run_cli("history", "record", str(old / "bundle.zip"), "--history", str(hist))
    assert r.returncode == 0 and "already recorded" in r.stdout
    with History(hist) as h:
        assert len(h.scans()) == 2


def test_no_history_flag_and_history_record(tmp_path, sample_bundle):
    hist = tmp_path / "h.sqlite3"
    out = tmp_path / "out"
    r = run_cli("scan", "--config", "sample_inventories/acme-shop/scan.yaml", "--level", "3", "--out", str(out),
                "--quiet", "--no-history", env={ENV: str(hist)})
    assert r.returncode == 1 and not hist.exists()
    r = run_cli("history", "record", str(sample_bundle), env={ENV: str(hist)})
    assert r.returncode == 0 and "recorded scan #1" in r.stdout
    with sqlite3.connect(hist) as c:
        assert c.execute("SELECT system, level FROM scans").fetchall() == [("Acme Shop", 3)]
    # a collect-only bundle has no level to record
    col = tmp_path / "col"
    assert run_cli("collect", "--config", "sample_inventories/acme-shop/scan.yaml", "--out", str(col), "--quiet").returncode == 0
    r = run_cli("history", "record", str(col), env={ENV: str(hist)})
    assert r.returncode == 2 and "no evaluated level" in r.stderr
    assert run_cli("history", "record", env={ENV: str(hist)}).returncode == 2
    assert run_cli("history", "list", str(col), env={ENV: str(hist)}).returncode == 2


def test_an_unusable_history_warns_but_keeps_the_scan(tmp_path):
    out = tmp_path / "out"
    r = run_cli("scan", "--config", "sample_inventories/acme-shop/scan.yaml", "--level", "3", "--out", str(out),
                "--quiet", "--history", str(tmp_path))  # a folder, not a file
    assert r.returncode == 1 and (out / "manifest.json").exists()
    assert "warning: scan not recorded in the history" in r.stderr


def test_history_location(tmp_path):
    # tests never touch the real user data dir: conftest points the env var at a temp file
    assert os.environ[ENV] == TEST_HISTORY and resolve_path() == Path(TEST_HISTORY)
    assert resolve_path(tmp_path / "x.db") == tmp_path / "x.db"
    assert default_path().name == "history.sqlite3" and "mlps-scan" in str(default_path())


def test_controls_that_lose_their_evidence_are_not_improvements(two_scans, tmp_path):
    _, new, _ = two_scans
    empty = _estate(tmp_path, "empty", {"type": "network.switch", "id": "sw", "attributes": {}})
    out = tmp_path / "empty-out"
    r = run_cli("scan", "--config", str(empty), "--out", str(out), "--quiet", "--no-history")
    assert r.returncode == 0, r.stderr
    d = diff(new, out)
    changes = {c["control_id"]: c["change"] for c in d["controls_changed"]}
    assert changes["L3-ABS1-05"] == "no_longer_assessed" and changes["L3-ABS1-16"] == "no_longer_assessed"
    assert d["regressed"] is False and d["summary"]["controls_improved"] == 0
    assert [f["resource_id"] for f in d["resolved_resource_gone"]] == ["fw-edge"]
    # and the other way: controls that start failing where nothing was assessed before are regressions
    back = diff(out, new)
    assert {c["control_id"]: c["change"] for c in back["controls_changed"]}["L3-ABS1-05"] == "regressed"


def test_tampered_bundles_are_flagged(two_scans, tmp_path):
    import shutil
    old, new, _ = two_scans
    bad = tmp_path / "bad"
    shutil.copytree(new, bad)
    (bad / "bundle.zip").unlink()
    f = json.loads((bad / "findings.json").read_text())
    for x in f:
        x["status"] = "pass"
    (bad / "findings.json").write_text(json.dumps(f))
    d = diff(old, bad)
    assert d["new"]["verified"] is False and d["old"]["verified"] is True
    assert any("new bundle fails verification" in n and "findings.json" in n for n in d["notes"])
    r = run_cli("history", "record", str(bad), "--history", str(tmp_path / "h.db"))
    assert r.returncode == 1 and "fails verification" in r.stderr
    with History(tmp_path / "h.db") as h:
        assert h.scans() == []


# --------------------------------------------------------------------------- diff: bad input is not a regression


def test_diff_on_an_unreadable_bundle_is_an_input_error_not_a_regression(two_scans, tmp_path):
    import shutil
    old, new, _ = two_scans
    broken = tmp_path / "broken"
    shutil.copytree(new, broken)
    (broken / "findings.json").write_text("{not json")
    (broken / "bundle.zip").unlink()
    for args in ((str(old), str(broken)), (str(broken), str(old))):
        r = run_cli("diff", *args, "--fail-on-regression")
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert str(broken) in r.stderr and "findings.json is not valid JSON" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    (broken / "findings.json").write_text("[{\"check_id\": 1}]")  # JSON, but not findings
    r = run_cli("diff", str(old), str(broken), "--fail-on-regression")
    assert r.returncode == 2 and str(broken) in r.stderr, r.stderr
    r = run_cli("diff", str(old), str(tmp_path / "absent"), "--fail-on-regression")
    assert r.returncode == 2 and "not found" in r.stderr


def test_diff_reports_attestation_changes_as_judgement_changes(tmp_path):
    def scan(name, attestations):
        d = tmp_path / name
        d.mkdir()
        (d / "a.yaml").write_text(yaml.safe_dump({"attestations": attestations}))
        (d / "scan.yaml").write_text(yaml.safe_dump({"system": {"name": "Shop", "level": 3},
                                                     "static": [{"name": "assessor", "path": "a.yaml"}]}))
        out = d / "out"
        r = run_cli("scan", "--config", str(d / "scan.yaml"), "--out", str(out), "--quiet", "--no-history",
                    "--as-of", "2026-11-29")
        assert r.returncode in (0, 1), r.stderr
        return out

    room = {"control_ids": ["L3-PES1-01"], "status": "pass", "by": "Li", "date": "2026-11-18", "note": "seen"}
    wifi = {"control_ids": ["L3-ABS1-04"], "status": "not_applicable", "by": "Li", "date": "2026-11-18", "note": "no wifi"}
    old = scan("old", [room])
    new = scan("new", [{**room, "status": "fail", "note": "door log not kept"}, wifi])
    d = diff(old, new)
    notes = " | ".join(d["notes"])
    assert "judged with different attestations" in notes
    assert "L3-PES1-01 pass -> fail" in notes and "added" in notes and "L3-ABS1-04" in notes
    changed = {c["control_id"]: c["change"] for c in d["controls_changed"]}
    assert changed["L3-ABS1-04"] == "applicability_changed"
    assert not [n for n in diff(old, old)["notes"] if "attestations" in n]
