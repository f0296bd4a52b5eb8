"""`mlps-scan export`: CSV, JUnit XML, SARIF 2.1.0 (validated against the OASIS schema vendored in
tests/data/schemas) and OCSF Compliance Findings (validated by py-ocsf-models), only from a bundle that verifies;
waived findings marked, never dropped."""
from __future__ import annotations

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from conftest import run_cli
from fixtures.outputs import FORMULA_ID, WAIVER

SARIF_SCHEMA = Path(__file__).parent / "data" / "schemas" / "sarif-schema-2.1.0.json"


def _export(bundle, fmt, tmp_path, *extra):
    out = tmp_path / f"out.{fmt}"
    r = run_cli("export", str(bundle), "--format", fmt, "-o", str(out), *extra)
    assert r.returncode == 0, r.stderr
    return out


def _findings(bundle):
    return json.loads((bundle / "findings.json").read_text(encoding="utf-8"))


def _waived(bundle) -> set[str]:
    """The ids of the waivers covering findings of the bundle (the sample's own active one and the marked one)."""
    ids = {f["waiver"]["id"] for f in _findings(bundle) if f.get("waiver")}
    assert WAIVER["id"] in ids and len(ids) >= 2
    return ids


def test_csv_one_row_per_finding(marked_bundle, tmp_path):
    out = _export(marked_bundle, "csv", tmp_path)
    import os
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask, "a plain file's permissions, not the temp file's 0600"
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so spreadsheet programs read the Chinese"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    findings = _findings(marked_bundle)
    assert len(rows) == len(findings)
    assert Counter(r["status"] for r in rows) == Counter(f["status"] for f in findings)
    waived = [r for r in rows if r["waiver_id"]]
    assert {r["waiver_id"] for r in waived} == _waived(marked_bundle) and {r["status"] for r in waived} == {"fail"}
    mine = next(r for r in waived if r["waiver_id"] == WAIVER["id"])
    assert mine["waiver_expires"] == WAIVER["expires"] and mine["waiver_compensating"] == WAIVER["compensating"]
    assert all(r["message_zh"] for r in rows if r["check_id"] != "attestation")
    # a value a spreadsheet would run as a formula stays text
    hit = [r for r in rows if "HYPERLINK" in r["resource_id"]]
    assert hit and hit[0]["resource_id"] == "'" + FORMULA_ID


def test_csv_controls(marked_bundle, tmp_path):
    out = _export(marked_bundle, "csv", tmp_path, "--controls")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    controls = json.loads((marked_bundle / "controls.json").read_text())
    assert [r["control_id"] for r in rows] == [c["control_id"] for c in controls]
    by = {r["control_id"]: r for r in rows}
    assert by["L3-PES1-01"]["status"] == "compliant" and by["L3-PES1-01"]["status_zh"] == "符合"
    assert by["L3-PES1-01"]["area_zh"] == "安全物理环境"
    assert any(r["status_zh"] == "待核查" and r["manual_zh"] for r in rows)


def test_junit_suite_per_area_case_per_finding(marked_bundle, tmp_path):
    out = _export(marked_bundle, "junit", tmp_path, "--lang", "zh")
    root = ET.parse(out).getroot()
    findings = _findings(marked_bundle)
    assert root.tag == "testsuites" and int(root.get("tests")) == len(findings)
    assert int(root.get("failures")) == sum(f["status"] == "fail" for f in findings)
    assert int(root.get("errors")) == sum(f["status"] == "error" for f in findings)
    assert int(root.get("skipped")) == sum(f["status"] == "not_applicable" for f in findings)
    suites = root.findall("testsuite")
    names = [s.get("name").split()[0] for s in suites]
    assert len(names) == len(set(names)) and {"PES", "CES", "ABS"} <= set(names)
    for s in suites:  # each suite's counts add up
        cases = s.findall("testcase")
        assert int(s.get("tests")) == len(cases)
        assert int(s.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
    cases = root.findall(".//testcase")
    assert len(cases) == len(findings)
    waived = {p.get("value"): c for c in cases for p in c.iter("property") if p.get("name") == "waiver_id"}
    assert set(waived) == _waived(marked_bundle)
    fail = waived[WAIVER["id"]].find("failure")
    assert fail is not None and fail.get("message").startswith(f"[已豁免 {WAIVER['id']}")
    # --lang zh: Chinese result records
    assert any("未" in (c.find("failure").get("message") or "") for c in cases if c.find("failure") is not None)


def test_sarif_validates_against_the_schema(marked_bundle, tmp_path):
    out = _export(marked_bundle, "sarif", tmp_path)
    doc = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    v = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    run = doc["runs"][0]
    findings = _findings(marked_bundle)
    assert len(run["results"]) == sum(f["status"] == "fail" for f in findings)
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for res in run["results"]:
        assert rules[res["ruleId"]] is run["tool"]["driver"]["rules"][res["ruleIndex"]]
    r = rules["aws.iam.root_mfa"]
    assert "L3-CES1-04" in r["properties"]["control_ids"] and r["help"]["text"] and "MFA" in r["help"]["text"]
    assert r["defaultConfiguration"]["level"] == "error"
    sup = [res for res in run["results"] if res.get("suppressions")]
    assert {s["suppressions"][0]["properties"]["id"] for s in sup} == _waived(marked_bundle)
    assert all(s["suppressions"][0]["status"] == "accepted" for s in sup)
    assert any(WAIVER["compensating"] in s["suppressions"][0]["justification"] for s in sup)
    # every result points at an evidence file of the bundle
    for res in run["results"]:
        uri = res["locations"][0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
        if uri:
            assert (marked_bundle / uri).is_file()


def test_the_schema_check_can_fail(marked_bundle, tmp_path):
    """The validator is not vacuous: a result with a made-up level is rejected."""
    doc = json.loads(_export(marked_bundle, "sarif", tmp_path).read_text())
    doc["runs"][0]["results"][0]["level"] = "catastrophic"
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert list(jsonschema.Draft4Validator(schema).iter_errors(doc))


def test_ocsf_compliance_findings(marked_bundle, tmp_path):
    from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
    out = _export(marked_bundle, "ocsf", tmp_path, "--lang", "en")
    events = json.loads(out.read_text(encoding="utf-8"))
    findings = _findings(marked_bundle)
    assert len(events) == len(findings)
    for e in events:
        ComplianceFinding.model_validate(e)
        assert e["class_uid"] == 2003 and e["category_uid"] == 2 and e["type_uid"] == 200301
        assert e["metadata"]["product"]["name"] == "mlps-scan"
    assert Counter(e["compliance"]["status_id"] for e in events) == Counter(
        {"pass": 1, "fail": 3, "error": 2, "not_applicable": 99}[f["status"]] for f in findings)
    sup = [e for e in events if e["status_id"] == 3]
    assert {e["unmapped"]["waiver"]["id"] for e in sup} == _waived(marked_bundle)
    assert all(e["status"] == "Suppressed" and e["compliance"]["status_id"] == 3 for e in sup), "waived still fails"
    root = next(e for e in events if e["metadata"]["event_code"] == "aws.iam.root_mfa")
    assert "L3-CES1-04" in root["compliance"]["requirements"] and root["severity_id"] == 5


def test_export_refuses_a_bundle_that_does_not_verify(sample_bundle, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(sample_bundle, bad)
    f = _findings(bad)
    f[0]["status"] = "pass" if f[0]["status"] != "pass" else "fail"
    (bad / "findings.json").write_text(json.dumps(f))
    out = tmp_path / "x.csv"
    r = run_cli("export", str(bad), "--format", "csv", "-o", str(out))
    assert r.returncode == 2 and "fails verification" in r.stderr and r.stderr.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".x.csv*"))


def test_export_usage_errors(sample_bundle, tmp_path):
    r = run_cli("export", str(sample_bundle), "--format", "junit", "--controls", "-o", str(tmp_path / "x"))
    assert r.returncode == 2 and "--controls goes with --format csv" in r.stderr
    r = run_cli("export", str(sample_bundle), "--format", "pdf", "-o", str(tmp_path / "x"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = run_cli("export", str(sample_bundle), "--format", "sarif", "-o", "-")
    assert r.returncode == 0 and json.loads(r.stdout)["version"] == "2.1.0"
