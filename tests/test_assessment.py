"""The assessment's judgement (issue 10) on evidence fixtures: waivers and their states, compensating measures
on a control, 不适用 by attestation and by scope, stale and future attestations, the high-risk cases of the
guideline, the 符合率 and the conclusion at their boundaries. The command-line paths (exit 2 on bad decisions,
`check --waivers`, `--fail-on high-risk`, documents in the bundle) run the real CLI on files in tmp_path."""
from __future__ import annotations

import json
import shutil
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from mlps_scan import assessment as A
from mlps_scan.catalogue import load as load_catalogue
from mlps_scan.errors import InputError
from mlps_scan.models import (Asset, Automation, Bilingual, ControlResult, ControlStatus, Finding, FindingStatus,
                              Inventory)
from mlps_scan.pipeline import evaluate
from mlps_scan.plugins import checks
from mlps_scan.profile import build_profile

from conftest import ROOT, SAMPLE_AS_OF, check_bundle, run_cli

D = date.fromisoformat
AS_OF = D("2026-11-29")
FW_OK = {"default_action": "deny", "logging": True, "log_destination": "syslog://x",
         "rules": [{"name": "web", "action": "allow", "source": "any", "destination": "10.0.0.1", "ports": "443", "protocol": "tcp"}]}
FW_BAD = {**FW_OK, "default_action": "allow"}


def fw(id_, attrs):
    return Asset(type="network.firewall", id=id_, scope="static/net", attributes=attrs, evidence=["ev.fw"])


def waiver(id_, *, checks=("network.firewall.default_deny",), controls=(), resources=(), approved_on="2026-10-01",
           expires="2027-03-31", compensating=None):
    attrs = {"id": id_, "checks": list(checks), "controls": list(controls), "resources": list(resources),
             "justification": "legacy edge firewall replaced in Q1", "approved_by": "CISO",
             "approved_on": approved_on, "expires": expires, "compensating": compensating, "file": "waivers.yaml"}
    return Asset(type="waiver", id=id_, scope="static/decisions", attributes=attrs, evidence=["ev.w"])


def attestation(n, ids, status, when="2026-11-18", note="seen on site", by="Li Ming"):
    return Asset(type="attestation", id=f"att.yaml#attestations[{n}]", scope="static/assessor", evidence=["ev.att"],
                 attributes={"control_ids": ids, "status": status, "by": by, "date": when, "note": note, "documents": []})


def judge(*assets, level=3, as_of=AS_OF, extensions=None, profile=None):
    inv = Inventory(assets=list(assets))
    f, c, a = evaluate(inv, level, profile or build_profile(level), system="t", as_of=as_of, extensions=extensions)
    return {x.resource_id: x for x in f if x.check_id == "network.firewall.default_deny"}, \
        {x.control_id: x for x in c}, a


# --------------------------------------------------------------------------- waivers


def test_an_active_waiver_keeps_the_failure_and_records_its_handling():
    f, c, a = judge(fw("fw1", FW_BAD), waiver("W-1", compensating="host firewalls on every server"))
    assert f["fw1"].status == FindingStatus.fail  # the verdict is not rewritten
    assert f["fw1"].waiver.id == "W-1" and f["fw1"].waiver.compensating and str(f["fw1"].waiver.expires) == "2027-03-31"
    ctl = c["L3-ABS1-05"]
    assert ctl.counts == {"waived": 1} and ctl.status == ControlStatus.partial  # at best partial, never compliant
    assert "W-1" in ctl.summary and "compensating" in ctl.summary
    (w,) = a.waivers
    assert w.status == "active" and [(r.check_id, r.resource_id) for r in w.findings] == [("network.firewall.default_deny", "fw1")]
    (hr,) = [h for h in a.high_risks if h.case_id == "6.3.2.1"]
    # the compensating measure is a claim for the assessor: the case stays a candidate until they rule on it
    assert hr.waivers == ["W-1"] and [c.waiver for c in hr.mitigation_claims] == ["W-1"] and hr.major
    assert hr.state == "candidate"
    # serialised: `waiver` only on covered findings
    assert "waiver" in f["fw1"].model_dump(mode="json")
    plain, _, _ = judge(fw("fw1", FW_BAD))
    assert "waiver" not in plain["fw1"].model_dump(mode="json")


def test_a_waiver_without_a_compensating_measure_accepts_the_risk_but_does_not_raise_the_control():
    f, c, a = judge(fw("fw1", FW_BAD), waiver("W-1"))
    assert f["fw1"].waiver.id == "W-1" and f["fw1"].waiver.compensating is None
    assert c["L3-ABS1-05"].status == ControlStatus.non_compliant and "risk accepted" in c["L3-ABS1-05"].summary
    (hr,) = [h for h in a.high_risks if h.case_id == "6.3.2.1"]
    assert hr.waivers == ["W-1"] and not hr.mitigation_claims and hr.major


def test_waived_and_passing_findings_make_the_control_partial_and_counts_keep_them_apart():
    f, c, a = judge(fw("fw1", FW_BAD), fw("fw2", FW_OK), fw("fw3", FW_BAD), waiver("W-1", resources=["fw1"]))
    assert f["fw1"].waiver and f["fw3"].waiver is None
    assert c["L3-ABS1-05"].counts == {"waived": 1, "fail": 1, "pass": 1} and c["L3-ABS1-05"].status == ControlStatus.partial
    assert a.counts["waived_failures"] == 1


def test_expired_pending_and_unused_waivers_do_nothing_and_are_reported():
    f, c, a = judge(fw("fw1", FW_BAD),
                    waiver("W-old", approved_on="2025-06-01", expires="2026-05-31", compensating="x"),
                    waiver("W-later", approved_on="2026-12-05", expires="2027-06-30", compensating="x"),
                    waiver("W-none", checks=("host.mfa",), compensating="x"))
    assert f["fw1"].waiver is None and c["L3-ABS1-05"].status == ControlStatus.non_compliant
    assert {w.id: w.status for w in a.waivers} == {"W-old": "expired", "W-later": "pending", "W-none": "unused"}
    assert all(not w.findings for w in a.waivers)
    assert any("W-old expired on 2026-05-31" in n.en and "到期" in n.zh for n in a.notes)
    assert any("W-none covers no failed" in n.en for n in a.notes)
    # the day it expires it still holds; the day after it does not
    assert judge(fw("fw1", FW_BAD), waiver("W", expires="2026-11-29"))[0]["fw1"].waiver is not None
    assert judge(fw("fw1", FW_BAD), waiver("W", expires="2026-11-28"))[0]["fw1"].waiver is None


def test_a_waiver_may_cover_controls_and_resource_patterns():
    f, c, a = judge(fw("edge-1", FW_BAD), fw("core-1", FW_BAD),
                    waiver("W-ctl", checks=(), controls=("L3-ABS1-05",), resources=["edge-*"], compensating="x"))
    assert f["edge-1"].waiver and f["core-1"].waiver is None


@pytest.mark.parametrize("change,msg", [
    ({"expires": "2027-12-31"}, "days after approved_on"),   # longer than waiver_max_days (365)
])
def test_a_waiver_longer_than_the_profile_allows_is_an_input_error(change, msg):
    with pytest.raises(InputError, match=msg):
        judge(fw("fw1", FW_BAD), waiver("W-1", **change))
    # the profile decides: a consultant's profile may allow longer
    f, _, _ = judge(fw("fw1", FW_BAD), waiver("W-1", **change),
                    profile=build_profile(3, {"waiver_max_days": 730}))
    assert f["fw1"].waiver is not None


def test_duplicate_and_unknown_ids_in_waivers_are_input_errors():
    with pytest.raises(InputError, match="duplicate waiver id"):
        judge(fw("fw1", FW_BAD), waiver("W-1"), waiver("W-1"))
    with pytest.raises(InputError, match="unknown check id"):
        judge(fw("fw1", FW_BAD), waiver("W-1", checks=("network.firewall.deafult_deny",)))
    with pytest.raises(InputError, match="unknown control id"):
        judge(fw("fw1", FW_BAD), waiver("W-1", checks=(), controls=("L3-ABS1-99",)))


# --------------------------------------------------------------------------- attestations and 不适用


def test_not_applicable_by_attestation():
    f, c, a = judge(attestation(0, ["L3-ABS1-04"], "not_applicable", note="no wireless network"), extensions=["cloud"])
    ctl = c["L3-ABS1-04"]
    assert ctl.status == ControlStatus.not_applicable and ctl.manual is None
    assert (ctl.na.reason, ctl.na.decided_by, ctl.na.source) == ("no wireless network", "Li Ming", "att.yaml#attestations[0]")
    (item,) = a.not_applicable
    assert item.control_id == "L3-ABS1-04" and item.decided_by == "Li Ming"
    assert a.counts["not_applicable"] == 1 and a.counts["applicable"] == len(c) - 1


def test_not_applicable_never_hides_an_automated_verdict():
    f, c, a = judge(fw("fw1", FW_BAD), attestation(0, ["L3-ABS1-05"], "not_applicable", note="no boundary"))
    assert c["L3-ABS1-05"].status == ControlStatus.non_compliant
    assert a.attestations[0].state == "contradicted" and any("L3-ABS1-05" in n.en and "不适用" in n.zh for n in a.notes)


def test_manual_items_are_never_silently_not_applicable():
    _, c, a = judge(fw("fw1", FW_OK), extensions=["cloud"])
    assert c["L3-ABS1-04"].status == ControlStatus.manual  # wireless: nobody said it does not apply
    assert not a.not_applicable


def test_not_applicable_by_declared_and_derived_scope():
    cat = load_catalogue()
    cloud = [x.id for x in cat.for_level(3) if x.extension == "cloud"]
    # declared: no extension
    _, c, a = judge(fw("fw1", FW_OK), extensions=[])
    assert all(c[i].status == ControlStatus.not_applicable for i in cloud)
    assert c[cloud[0]].na.decided_by == "scope: scan.yaml system.extensions" and a.scope.source == "declared"
    # derived: no collector of a cloud platform in the evidence -> cloud out of scope, and said so
    _, c, a = judge(fw("fw1", FW_OK))
    assert a.scope.source == "derived" and a.scope.extensions == [] and "derived" in c[cloud[0]].na.decided_by
    # derived: an AWS account in the evidence -> cloud in scope
    acct = Asset(type="aws.account", id="123456789012", scope="aws/prod/123456789012", attributes={})
    _, c, a = judge(fw("fw1", FW_OK), acct)
    assert a.scope.extensions == ["cloud"] and c[cloud[0]].status != ControlStatus.not_applicable
    # declared cloud beats derivation
    _, c, a = judge(fw("fw1", FW_OK), extensions=["cloud"])
    assert a.scope.extensions == ["cloud"] and c[cloud[0]].status == ControlStatus.manual
    # the rate leaves 不适用 items out of the denominator
    assert judge(fw("fw1", FW_OK), extensions=[])[2].counts["applicable"] == len(cat.for_level(3)) - len(cloud)


def test_stale_and_future_attestations_do_not_count():
    ids = ["L3-PES1-01"]
    _, c, a = judge(attestation(0, ids, "pass", when="2026-11-18"))
    assert c["L3-PES1-01"].status == ControlStatus.compliant and a.attestations[0].state == "counted"
    # older than attestation_max_age_days (365) on the assessment date: stale, the item is open again
    _, c, a = judge(attestation(0, ids, "pass", when="2025-11-28"))
    assert c["L3-PES1-01"].status == ControlStatus.manual and a.attestations[0].state == "stale"
    assert any("older than 365 days" in n.en and "不再采信" in n.zh for n in a.notes)
    _, c, a = judge(attestation(0, ids, "pass", when="2025-11-29"))  # exactly 365 days: still counts
    assert a.attestations[0].state == "counted"
    # dated after the assessment date: not counted
    _, c, a = judge(attestation(0, ids, "pass", when="2026-12-01"))
    assert c["L3-PES1-01"].status == ControlStatus.manual and a.attestations[0].state == "future"
    # a stale not-applicable attestation no longer makes the item 不适用
    _, c, _ = judge(attestation(0, ["L3-ABS1-04"], "not_applicable", when="2024-01-01"))
    assert c["L3-ABS1-04"].status == ControlStatus.manual


# --------------------------------------------------------------------------- high-risk cases


def _triggers():
    return {s.id: s.high_risk for s in checks().values() if s.high_risk}


def _high_risks(findings, level):
    return A.high_risks(findings, level, _triggers())[0]


def test_the_case_file_is_consistent_with_the_catalogue():
    cat = load_catalogue()
    assert A.cases(), "no cases"
    for case in A.cases():
        for lvl, ids in case.controls.items():
            assert lvl in case.levels, case.id
            assert all(i in cat and cat.get(i).level == lvl for i in ids), (case.id, ids)
        # which checks trigger the case, and that they are at least `high`: tests/test_high_risk.py
        assert case.question.zh and case.question.en and case.title.zh and case.title.en and case.basis
        assert (case.mitigation is not None) == case.mitigable or case.mitigation is not None
    ids = [c.id for c in A.cases()]
    assert len(ids) == len(set(ids))


def _sample_failures() -> list[Finding]:
    doc = json.loads((ROOT / "tests/data/golden/acme-shop/findings.json").read_text(encoding="utf-8"))
    return [Finding.model_validate(f) for f in doc if f["status"] == "fail"]


def _bed_failures() -> list[Finding]:
    """Failures the real checks produce on hand-made AWS evidence for what the sample estate passes."""
    from test_aws_checks import rec, run
    region = "us-east-1"
    records = [rec("mlps-scan:ScanScope", {"account_id": "123456789012", "partition": "aws", "regions": [region],
                                           "regions_source": "config", "global_region": region}, region=region),
               rec("sts:GetCallerIdentity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/x"}, region=region),
               rec("guardduty:ListDetectors", {"DetectorIds": []}, region=region)]
    inv, _ = run(records)
    from mlps_scan.runner import evaluate as run_checks
    return [f for f in run_checks(inv, 3, build_profile(3), load_catalogue()) if f.status == FindingStatus.fail]


def test_every_case_in_the_data_file_is_triggered_by_a_recorded_or_bed_made_finding():
    found = _sample_failures() + _bed_failures()
    got = {h.case_id: h for h in _high_risks(found, 3)}
    declared = {c: {s for s, ts in _triggers().items() if any(t.case == c for t in ts)} for c in got}
    for case in A.cases():
        if 3 in case.levels and 3 in case.controls:
            assert case.id in got, f"case {case.id}: no recorded or bed-made failure of a check declaring it"
            h = got[case.id]
            assert h.control_ids == case.controls[3] and h.findings
            assert {r.check_id for r in h.findings} <= declared[case.id]
            # no ruling recorded: every candidate that can be major counts as one
            assert h.state == "candidate" and h.major == (case.major is not None) and h.mitigable == case.mitigable
    # level 2: the cases that apply there, on the same failures re-mapped by their checks
    l2 = {h.case_id for h in _high_risks(found, 2)}
    assert "6.4.1.1" in l2 and "6.4.1.3" not in l2  # 6.4.1.3 (two factors) is a level-3 case
    assert not _high_risks(found, 1)


def test_a_case_is_listed_once_with_all_its_findings_and_only_for_failures():
    fs = [Finding(check_id="host.empty_passwords", control_ids=["L3-CES1-01"], status=FindingStatus.fail,
                  resource_id=h, resource_type="host", message="x") for h in ("b", "a", "a")]
    fs.append(Finding(check_id="host.empty_passwords", control_ids=["L3-CES1-01"], status=FindingStatus.error,
                      resource_id="c", resource_type="host", message="x"))
    (h,) = _high_risks(fs, 3)
    assert h.case_id == "6.4.1.1" and [r.resource_id for r in h.findings] == ["a", "b"] and h.major_trigger == "A-18"


# --------------------------------------------------------------------------- 符合率 and the conclusion


def ctl(i, status, **counts):
    return ControlResult(control_id=f"L3-CES1-{i:02d}" if i < 100 else "L3-CES1-01", status=ControlStatus(status),
                         level=3, area="CES", extension="general", clause="x", id_basis="published",
                         automation=Automation.automated, title=Bilingual(en="t", zh="t"),
                         control_point=Bilingual(en="p", zh="p"), summary="", counts=counts)


@pytest.mark.parametrize("rate,majors,want", [
    (Fraction(599, 10), 0, "non_compliant"),
    (Fraction(60), 0, "basically_compliant"),
    (Fraction(899, 10), 0, "basically_compliant"),
    (Fraction(90), 0, "compliant"),
    (Fraction(95), 1, "basically_compliant"),   # a major risk hazard keeps a high rate from 符合
    (Fraction(95), 0, "compliant"),
    (Fraction(59), 2, "non_compliant"),
    (Fraction(100), 0, "compliant"),
    (Fraction(0), 0, "non_compliant"),
])
def test_conclusion_at_the_boundaries(rate, majors, want):
    c = A.conclude(rate, majors)
    assert c.code == want and c.zh == {"compliant": "符合", "basically_compliant": "基本符合", "non_compliant": "不符合"}[want]


@pytest.mark.parametrize("passed,total,low,code", [(599, 1000, 59.9, "non_compliant"), (600, 1000, 60.0, "basically_compliant"),
                                                   (899, 1000, 89.9, "basically_compliant"), (900, 1000, 90.0, "compliant")])
def test_rate_from_control_results_at_the_boundaries(passed, total, low, code):
    cs = [ctl(1, "compliant", **{"pass": 1})] * passed + [ctl(2, "non_compliant", fail=1)] * (total - passed)
    lo, hi, counts = A.compliance(cs)
    assert lo == hi and A._floor1(lo) == low and A.conclude(lo, 0).code == code
    assert counts["applicable"] == total and counts["open"] == 0


def test_rate_weights_partial_items_half_and_ranges_over_what_is_open():
    cs = [ctl(1, "compliant", **{"pass": 2}), ctl(2, "partial", fail=1, **{"pass": 1}), ctl(3, "non_compliant", fail=1),
          ctl(4, "manual"), ctl(5, "partial", **{"pass": 1}), ctl(6, "error", error=1), ctl(7, "not_applicable"),
          ctl(8, "non_compliant", fail=1, error=1)]
    lo, hi, counts = A.compliance(cs)
    # applicable 7: low = 1 + .5 + 0 + 0 + .5 + 0 + 0 = 2; high = 1 + .5 + 0 + 1 + 1 + 1 + .5 = 5
    assert counts["applicable"] == 7 and counts["not_applicable"] == 1 and counts["open"] == 4
    assert (lo, hi) == (Fraction(200, 7), Fraction(500, 7))
    assert counts["score"] == {"low": 2.0, "high": 5.0}
    assert A.compliance([ctl(7, "not_applicable")])[:2] == (None, None)
    assert A.conclude(None, 0) is None


def test_the_verdict_of_a_judged_inventory_carries_the_rule_and_its_basis():
    _, c, a = judge(fw("fw1", FW_BAD))
    assert a.rule.provisional and "1846" in a.rule.basis["conclusion"] and a.rule.weights["partial"] == 0.5
    assert a.conclusion.low.code == "non_compliant" and a.compliance_rate.low < a.compliance_rate.high
    assert a.counts["major_risk_candidates"] == 1 and a.counts["high_risk_candidates"] == 1
    # every bound is the floor to 0.1: never rounded up across a threshold
    assert a.compliance_rate.low == A._floor1(A.compliance(list(c.values()))[0])


# --------------------------------------------------------------------------- the command line


def _static(tmp_path: Path, name: str, doc: dict) -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


def _config(tmp_path: Path, *files: str, system: dict | None = None) -> Path:
    cfg = {"system": {"name": "T", "level": 3, **(system or {})},
           "static": [{"name": Path(f).stem, "path": f} for f in files]}
    return _static(tmp_path, "scan.yaml", cfg)


FW_FILE = {"assets": [{"type": "network.firewall", "id": "fw1", "attributes": FW_BAD}]}
W = {"id": "W-1", "checks": ["network.firewall.default_deny"], "justification": "j", "approved_by": "CISO",
     "approved_on": "2026-10-01", "expires": "2027-03-31", "compensating": "host firewalls"}


@pytest.mark.parametrize("bad,msg", [
    ({"expires": None}, "waivers[0].expires: required key is missing"),
    ({"approved_by": None}, "waivers[0].approved_by: required key is missing"),
    ({"expires": "2027-02-30"}, "expires: Input should be a valid date"),
    ({"expires": "2026-09-01"}, "before approved_on"),
    ({"expires": "2027-12-31"}, "days after approved_on"),
    ({"approved_on": "2099-01-01", "expires": "2099-06-01"}, "in the future"),
    ({"checks": []}, "must name `checks:` or `controls:`"),
])
def test_a_bad_waiver_is_one_line_exit_2_and_nothing_written(tmp_path, bad, msg):
    w = {k: v for k, v in {**W, **bad}.items() if v is not None}
    _static(tmp_path, "fw.yaml", FW_FILE)
    _static(tmp_path, "w.yaml", {"waivers": [w]})
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(_config(tmp_path, "fw.yaml", "w.yaml")), "--out", str(out), "--no-history")
    assert r.returncode == 2, r.stdout + r.stderr
    assert msg in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not out.exists() and not list(tmp_path.glob(".out*"))


@pytest.mark.parametrize("bad,msg", [
    ({"date": "soon"}, "date: Input should be a valid date"),
    ({"date": "2099-01-01"}, "is in the future"),
    ({"documents": ["../../etc/passwd"]}, "relative to the static file's folder"),
])
def test_a_bad_attestation_is_one_line_exit_2(tmp_path, bad, msg):
    at = {"control_ids": ["L3-PES1-01"], "status": "pass", "by": "Li", "date": "2026-11-18", "note": "seen", **bad}
    _static(tmp_path, "a.yaml", {"attestations": [at]})
    r = run_cli("scan", "--config", str(_config(tmp_path, "a.yaml")), "--out", str(tmp_path / "o"), "--no-history")
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_documents_are_copied_and_hashed_and_a_missing_one_is_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "survey.txt").write_text("machine room survey\n")
    at = {"control_ids": ["L3-PES1-01"], "status": "pass", "by": "Li", "date": "2026-11-18", "note": "seen",
          "documents": ["docs/survey.txt", "missing.pdf"]}
    _static(tmp_path, "a.yaml", {"attestations": [at]})
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(_config(tmp_path, "a.yaml")), "--out", str(out), "--no-history",
                "--as-of", "2026-11-29")
    assert r.returncode == 3, r.stderr  # a missing document is not fatal, but it is evidence not collected:
    assert "document:missing.pdf" in r.stderr  # the scan is partial and says what is missing
    copy = out / "documents" / "a" / "docs" / "survey.txt"
    assert copy.read_text() == "machine room survey\n"
    man = {f["path"]: f["sha256"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert "documents/a/docs/survey.txt" in man
    a = json.loads((out / "assessment.json").read_text())
    (att,) = a["attestations"]
    docs = {d["name"]: d for d in att["documents"]}
    assert docs["docs/survey.txt"]["sha256"] == man["documents/a/docs/survey.txt"]
    assert docs["missing.pdf"]["path"] is None and "not found" in docs["missing.pdf"]["problem"]
    assert any("missing.pdf" in n["en"] and "缺失" in n["zh"] for n in a["notes"]) and att["state"] == "counted"
    assert run_cli("verify", str(out)).returncode == 0
    cb = check_bundle(out)
    assert cb.returncode == 0, cb.stdout
    # a re-check keeps the documents in the new bundle
    r = run_cli("check", str(out), "--out", str(tmp_path / "re"), "--as-of", "2026-11-29", "--quiet")
    assert (tmp_path / "re" / "documents" / "a" / "docs" / "survey.txt").exists(), r.stderr
    assert run_cli("verify", str(tmp_path / "re")).returncode == 0


def test_check_reapplies_waivers_offline_and_records_the_file(tmp_path, sample_bundle):
    bundle = tmp_path / "b"
    shutil.copytree(sample_bundle, bundle)
    before = json.loads((bundle / "assessment.json").read_text())
    assert {w["id"]: w["status"] for w in before["waivers"]} == {"W-2025-12": "expired", "W-2026-07": "active"}
    wf = _static(tmp_path, "new-waivers.yaml", {"waivers": [
        {**W, "id": "W-3", "checks": ["k8s.namespace.pod_security"], "approved_on": "2026-11-25", "expires": "2027-05-31"}]})
    # without --out: printed, nothing written
    r = run_cli("check", str(bundle), "--waivers", str(wf), "--as-of", SAMPLE_AS_OF, "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    # the file replaces the bundle's waivers: they are listed as superseded and do nothing
    assert {w["id"]: w["status"] for w in doc["assessment"]["waivers"]} == {
        "W-3": "active", "W-2025-12": "superseded", "W-2026-07": "superseded"}
    assert sum(1 for f in doc["findings"] if (f.get("waiver") or {}).get("id") == "W-3") == 5
    assert not any((f.get("waiver") or {}).get("id") == "W-2026-07" for f in doc["findings"])
    # with --out: the file is evidence of the new bundle, hashed in its manifest
    out = tmp_path / "re"
    r = run_cli("check", str(bundle), "--waivers", str(wf), "--as-of", SAMPLE_AS_OF, "--out", str(out))
    assert r.returncode == 1, r.stderr
    assert "waivers 豁免: 1 active" in r.stdout
    recs = [json.loads(p.read_text()) for p in (out / "evidence").glob("static.file-new-waivers.yaml.*.json")]
    assert len(recs) == 1 and recs[0]["answer"]["waivers"][0]["id"] == "W-3"
    man = {f["path"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert f"evidence/{recs[0]['id']}.json" in man
    a = json.loads((out / "assessment.json").read_text())
    assert [(w["id"], w["status"], w["evidence"]) for w in a["waivers"] if w["status"] == "active"] == [
        ("W-3", "active", [recs[0]["id"]])]
    assert run_cli("verify", str(out)).returncode == 0
    assert check_bundle(out).returncode == 0
    # a bad waivers file: one line, exit 2, nothing written
    bad = _static(tmp_path, "bad.yaml", {"waivers": [{**W, "expires": "2028-01-01"}]})
    r = run_cli("check", str(bundle), "--waivers", str(bad), "--out", str(tmp_path / "nope"))
    assert r.returncode == 2 and "waiver_max_days" in r.stderr and not (tmp_path / "nope").exists()
    r = run_cli("check", str(bundle), "--waivers", str(tmp_path / "absent.yaml"))
    assert r.returncode == 2 and "not found" in r.stderr
    mixed = _static(tmp_path, "mixed.yaml", {**FW_FILE, "waivers": [W]})
    r = run_cli("check", str(bundle), "--waivers", str(mixed))
    assert r.returncode == 2 and "more than `waivers:`" in r.stderr


def test_fail_on_high_risk(tmp_path):
    _static(tmp_path, "fw.yaml", FW_FILE)
    cfg = _config(tmp_path, "fw.yaml")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "o1"), "--no-history", "--fail-on", "high-risk")
    assert r.returncode == 1 and "疑似高风险: 1" in r.stdout
    ok = _static(tmp_path, "ok.yaml", {"assets": [{"type": "network.firewall", "id": "fw1",
                                                   "attributes": {**FW_BAD, "default_action": "deny", "logging": False}}]})
    r = run_cli("scan", "--config", str(_config(tmp_path, "ok.yaml")), "--out", str(tmp_path / "o2"), "--no-history",
                "--fail-on", "high-risk")
    assert r.returncode == 0, r.stdout  # failures, but none that the guideline calls high risk
    r = run_cli("scan", "--config", str(_config(tmp_path, "ok.yaml")), "--out", str(tmp_path / "o3"), "--no-history")
    assert r.returncode == 1
    assert ok.exists()


def test_declared_scope_in_scan_yaml_is_said_in_scan_json(tmp_path):
    _static(tmp_path, "fw.yaml", FW_FILE)
    out = tmp_path / "o"
    r = run_cli("scan", "--config", str(_config(tmp_path, "fw.yaml", system={"extensions": []})), "--out", str(out),
                "--no-history", "--quiet")
    assert r.returncode == 1, r.stderr
    scope = json.loads((out / "scan.json").read_text())["scope"]
    assert scope["source"] == "declared" and scope["extensions"] == []
    a = json.loads((out / "assessment.json").read_text())
    assert a["counts"]["not_applicable"] == len([c for c in load_catalogue().for_level(3) if c.extension == "cloud"])
    r = run_cli("scan", "--config", str(_config(tmp_path, "fw.yaml", system={"extensions": ["iot"]})),
                "--out", str(tmp_path / "o2"), "--no-history")
    assert r.returncode == 2 and "extensions" in r.stderr


def test_sample_shows_the_judgement_in_the_bundle_report_and_terminal(sample_bundle, tmp_path):
    a = json.loads((sample_bundle / "assessment.json").read_text())
    assert {w["id"]: w["status"] for w in a["waivers"]} == {"W-2025-12": "expired", "W-2026-07": "active"}
    assert [n["control_id"] for n in a["not_applicable"]] == ["L3-ABS1-04"]
    assert a["high_risks"] and a["conclusion"]["low"]["zh"] and a["compliance_rate"]["low"] is not None
    html = (sample_bundle / "report.html").read_text()
    for s in ("Verdict 测评结论预判", "符合率", "6.4.1.1", "W-2026-07", "expired", "L3-ABS1-04", "不适用", "provisional"):
        assert s in html, s
    r = run_cli("check", str(sample_bundle), "--as-of", SAMPLE_AS_OF)
    assert "符合率 compliance rate" in r.stdout and "疑似高风险" in r.stdout and "1 active 生效, 1 expired 已过期" in r.stdout
    cb = check_bundle(sample_bundle)
    assert cb.returncode == 0, cb.stdout


def test_diff_says_when_two_bundles_were_judged_with_different_profiles_or_waivers(tmp_path, sample_bundle):
    prof = _static(tmp_path, "p.yaml", {"log_retention_days": 90})
    wf = _static(tmp_path, "w.yaml", {"waivers": [
        {**W, "id": "W-3", "checks": ["k8s.namespace.pod_security"], "approved_on": "2026-11-25", "expires": "2027-05-31"}]})
    out = tmp_path / "re"
    r = run_cli("check", str(sample_bundle), "--profile", str(prof), "--waivers", str(wf), "--as-of", SAMPLE_AS_OF,
                "--out", str(out), "--quiet")
    assert r.returncode == 1, r.stderr
    d = json.loads(run_cli("diff", str(sample_bundle), str(out), "--format", "json").stdout)
    notes = " | ".join(d["notes"])
    assert "different profiles (log_retention_days 180 -> 90)" in notes
    assert "different waivers (added W-3; W-2025-12 expired -> superseded; W-2026-07 active -> superseded)" in notes
    same = json.loads(run_cli("diff", str(sample_bundle), str(sample_bundle), "--format", "json").stdout)
    assert not [n for n in same["notes"] if "judged with" in n]
    text = run_cli("diff", str(sample_bundle), str(out)).stdout
    assert "judged with different profiles" in text


def test_documents_follow_the_evidence_into_replays_and_merges(tmp_path, sample_bundle):
    docs = sorted(p.relative_to(sample_bundle).as_posix() for p in (sample_bundle / "documents").rglob("*") if p.is_file())
    assert docs == ["documents/assessor/DC-site-survey-2026.pdf", "documents/assessor/network-diagram-rev7.txt"]
    cfg = _static(tmp_path, "replay.yaml", {"system": {"name": "Acme Shop", "level": 3},
                                            "static": [{"name": "old", "path": str(sample_bundle), "format": "evidence"}]})
    out = tmp_path / "replayed"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--quiet", "--no-history", "--as-of", SAMPLE_AS_OF)
    assert r.returncode == 1, r.stderr
    assert all((out / d).read_bytes() == (sample_bundle / d).read_bytes() for d in docs)
    a = json.loads((out / "assessment.json").read_text())
    assert {w["id"]: w["status"] for w in a["waivers"]} == {"W-2025-12": "expired", "W-2026-07": "active"}
    assert [n["control_id"] for n in a["not_applicable"]] == ["L3-ABS1-04"]
    assert all(d["path"] for x in a["attestations"] for d in x["documents"])
    assert run_cli("verify", str(out)).returncode == 0
    merged = tmp_path / "merged"
    r = run_cli("merge", str(sample_bundle), str(out), "--out", str(merged), "--quiet", "--as-of", SAMPLE_AS_OF)
    assert r.returncode == 1, r.stderr
    assert all((merged / d).exists() for d in docs) and run_cli("verify", str(merged)).returncode == 0


def test_a_waived_failure_does_not_fail_the_run_but_stays_fail(tmp_path):
    from mlps_scan.runner import exit_code
    f, _, a = judge(fw("fw1", FW_BAD), waiver("W-1", compensating="x"))
    assert f["fw1"].status == FindingStatus.fail
    assert exit_code(list(f.values()), partial=False) == 0
    assert exit_code(list(f.values()), partial=False, fail_on="high-risk", high_risks=len(a.high_risks)) == 1
    plain, _, _ = judge(fw("fw1", FW_BAD))
    assert exit_code(list(plain.values()), partial=False) == 1


# --------------------------------------------------------------------------- 不适用 never over missing evidence


def test_not_applicable_never_hides_missing_evidence():
    # an attestation says the item does not apply, but a check could not read its evidence: error, reported
    broken = fw("fw1", {"logging": True})  # default_action and rules not collected
    f, c, a = judge(broken, attestation(0, ["L3-ABS1-05"], "not_applicable", note="no boundary"), extensions=["cloud"])
    assert f["fw1"].status == FindingStatus.error
    assert c["L3-ABS1-05"].status == ControlStatus.error and c["L3-ABS1-05"].na is None
    assert a.attestations[0].state == "contradicted"
    assert any("L3-ABS1-05" in n.en and "missing" in n.en and "证据缺失" in n.zh for n in a.notes)
    # the scope says the cloud extension is out, but a cloud item's evidence is missing: error, reported
    sg = Asset(type="aws.ec2.security_group", id="sg-1", scope="aws/p/1/cn-north-1", attributes={}, evidence=["ev.sg"])
    _, c, a = judge(sg, extensions=[])
    assert c["L3-ABS2-01"].status == ControlStatus.error and c["L3-ABS2-01"].na is None
    assert any("L3-ABS2-01" in n.en and "missing" in n.en for n in a.notes)
    # a cloud item nothing evidences is still 不适用 by scope
    assert c["L3-CES2-10"].status == ControlStatus.not_applicable


def test_attestations_naming_another_level_s_items_are_reported():
    _, c, a = judge(attestation(0, ["L2-PES1-01"], "pass"))
    (att,) = a.attestations
    assert att.state == "other_level" and att.ignored_ids == ["L2-PES1-01"]
    assert any("L2-PES1-01" in n.en and "level 3" in n.en and n.zh for n in a.notes)
    _, c, a = judge(attestation(0, ["L3-PES1-01", "L2-PES1-01"], "pass"))
    (att,) = a.attestations
    assert att.state == "counted" and att.ignored_ids == ["L2-PES1-01"] and c["L3-PES1-01"].status == ControlStatus.compliant
    assert any("L2-PES1-01" in n.en for n in a.notes)


# --------------------------------------------------------------------------- Chinese where an assessor reads


def test_waiver_states_summaries_and_scope_decisions_are_bilingual():
    f, c, a = judge(fw("fw1", FW_BAD), waiver("W-1", compensating="host firewalls"),
                    waiver("W-old", approved_on="2025-06-01", expires="2026-05-31"), extensions=[])
    assert {w.id: w.status_zh for w in a.waivers} == {"W-1": "生效", "W-old": "已过期"}
    ctl = c["L3-ABS1-05"]
    assert "W-1" in ctl.summary_zh and "补偿" in ctl.summary_zh
    assert all(x.summary_zh for x in c.values()), [x.control_id for x in c.values() if not x.summary_zh]
    cloud = next(x for x in c.values() if x.extension == "cloud")
    assert cloud.na.reason_zh and "云计算" in cloud.na.reason_zh and cloud.na.decided_by_zh == "定级范围（scan.yaml system.extensions）"
    _, c, _ = judge(attestation(0, ["L3-ABS1-04"], "not_applicable", note="无无线网络"), extensions=["cloud"])
    assert c["L3-ABS1-04"].na.reason_zh == "无无线网络" and c["L3-ABS1-04"].na.decided_by_zh == "Li Ming"
    from mlps_scan.cli import verdict_lines
    line = " ".join(verdict_lines(a))
    assert "1 active 生效" in line and "1 expired 已过期" in line
