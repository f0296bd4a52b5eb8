"""High-risk candidates (疑似高风险) and who decides them.

- A case stays a candidate (and, when it is in the 重大风险隐患 trigger table, a possible major risk in the
  conclusion) until an ASSESSOR rules on it (公网安〔2025〕1846号 Q19): a `high_risk_decision` in a static file.
  A waiver's compensating measure is input to the case's mitigation question, never the decision.
- A finding triggers a case only when what it records shows the case (`@check(high_risk=[{case, when}])`):
  an HTTPS listener with an old TLS policy is not data sent in clear; backups kept 3 days are backups.
- The guideline's cases are engine data; which check triggers which case is the check's own metadata.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from mlps_scan import assessment as A
from mlps_scan.models import Asset, Finding, FindingStatus, HighRiskTrigger, Inventory
from mlps_scan.pipeline import evaluate
from mlps_scan.plugins import checks
from mlps_scan.profile import build_profile

from conftest import run_cli

AS_OF = date(2026, 11, 29)
FW_BAD = {"default_action": "allow", "logging": True, "log_destination": "syslog://x", "rules": []}


def fw(id_="fw1", attrs=None):
    return Asset(type="network.firewall", id=id_, scope="static/net", attributes=attrs or FW_BAD, evidence=["ev.fw"])


def waiver(id_, compensating=None, checks=("network.firewall.default_deny",)):
    return Asset(type="waiver", id=id_, scope="static/decisions", evidence=["ev.w"], attributes={
        "id": id_, "checks": list(checks), "controls": [], "resources": [], "justification": "replaced in Q1",
        "approved_by": "CISO", "approved_on": "2026-10-01", "expires": "2027-03-31", "compensating": compensating,
        "file": "waivers.yaml"})


def decision(n, case_id, decision_, resources=(), when="2026-11-20", by="Li Ming (assessor)", note="verified on site"):
    return Asset(type="high_risk_decision", id=f"decisions.yaml#high_risk_decisions[{n}]", scope="static/assessor",
                 evidence=["ev.d"], attributes={"case_id": case_id, "resources": list(resources), "decision": decision_,
                                                "by": by, "date": when, "note": note})


def judge(*assets, level=3, profile=None):
    _, controls, a = evaluate(Inventory(assets=list(assets)), level, profile or build_profile(level), system="t",
                              as_of=AS_OF, extensions=["cloud"])
    return {h.case_id: h for h in a.high_risks}, a


# --------------------------------------------------------------------------- waivers do not decide a case


def test_a_compensating_waiver_is_a_claim_for_the_assessor_not_a_decision():
    cases, a = judge(fw(), waiver("W-1", compensating="host firewalls on every server"))
    hr = cases["6.3.2.1"]
    assert hr.state == "candidate" and hr.major and hr.can_be_major  # still a possible 重大风险隐患
    (claim,) = hr.mitigation_claims
    assert claim.waiver == "W-1" and claim.compensating == "host firewalls on every server"
    assert claim.text.en.startswith("mitigation claimed by waiver W-1: host firewalls") and "W-1" in claim.text.zh
    assert a.counts["major_risk_candidates"] == 1
    # the major risk keeps the conclusion's high bound below 符合 (compliant)
    assert a.conclusion.high.code != "compliant"


def test_an_assessor_decision_rules_on_a_case():
    d = decision(0, "6.3.2.1", "mitigated", note="every server behind fw1 runs a host firewall (seen)")
    cases, a = judge(fw(), waiver("W-1", compensating="host firewalls"), d)
    hr = cases["6.3.2.1"]
    assert hr.state == "mitigated" and not hr.major and hr.decisions == [d.id]
    assert [(f.resource_id, f.decision, f.decision_id) for f in hr.findings] == [("fw1", "mitigated", d.id)]
    (st,) = a.high_risk_decisions
    assert st.state == "counted" and [f.resource_id for f in st.findings] == ["fw1"]
    assert a.counts["major_risk_candidates"] == 0
    # not a high risk at all / confirmed
    cases, _ = judge(fw(), decision(0, "6.3.2.1", "not_high_risk", note="a lab network, no important zone"))
    assert cases["6.3.2.1"].state == "not_high_risk" and not cases["6.3.2.1"].major
    cases, _ = judge(fw(), decision(0, "6.3.2.1", "confirmed"))
    assert cases["6.3.2.1"].state == "confirmed" and cases["6.3.2.1"].major


def test_a_decision_covers_only_the_resources_it_names_and_the_latest_one_wins():
    cases, a = judge(fw("edge-1"), fw("core-1"), decision(0, "6.3.2.1", "not_high_risk", resources=["edge-*"]))
    hr = cases["6.3.2.1"]
    assert hr.state == "candidate" and hr.major  # core-1 has no ruling
    assert {f.resource_id: f.decision for f in hr.findings} == {"core-1": None, "edge-1": "not_high_risk"}
    # a later ruling on the same finding overrides an earlier one, whatever the file order
    later = decision(1, "6.3.2.1", "confirmed", when="2026-11-25")
    cases, a = judge(fw("edge-1"), later, decision(0, "6.3.2.1", "not_high_risk", when="2026-11-20"))
    assert cases["6.3.2.1"].state == "confirmed"
    assert {s.id: s.state for s in a.high_risk_decisions} == {later.id: "counted",
                                                             "decisions.yaml#high_risk_decisions[0]": "overridden"}
    # two rulings of the same day that disagree: the stricter holds and the conflict is reported
    cases, a = judge(fw("edge-1"), decision(0, "6.3.2.1", "not_high_risk"), decision(1, "6.3.2.1", "confirmed"))
    assert cases["6.3.2.1"].state == "confirmed" and any("6.3.2.1" in n.en and "disagree" in n.en for n in a.notes)


def test_stale_future_and_unused_decisions_do_not_count_and_are_reported():
    cases, a = judge(fw(), decision(0, "6.3.2.1", "not_high_risk", when="2025-06-01"),
                     decision(1, "6.3.2.1", "not_high_risk", when="2026-12-24"),
                     decision(2, "6.4.1.1", "not_high_risk"))
    assert cases["6.3.2.1"].state == "candidate" and cases["6.3.2.1"].major
    assert [s.state for s in a.high_risk_decisions] == ["stale", "future", "unused"]
    notes = " | ".join(n.en for n in a.notes)
    assert "older than 365 days" in notes and "after the assessment date" in notes and "6.4.1.1" in notes
    assert all(n.zh for n in a.notes)


def test_a_decision_the_guideline_does_not_allow_or_on_an_unknown_case_is_an_input_error():
    from mlps_scan.errors import InputError
    not_mitigable = next(c for c in A.cases() if not c.mitigable)
    with pytest.raises(InputError, match=f"{not_mitigable.id}.*cannot be mitigated"):
        judge(fw(), decision(0, not_mitigable.id, "mitigated"))
    with pytest.raises(InputError, match="9.9.9.9"):
        judge(fw(), decision(0, "9.9.9.9", "confirmed"))
    # not_high_risk is always allowed: the case does not hold
    judge(fw(), decision(0, not_mitigable.id, "not_high_risk"))


def _static(tmp_path: Path, name: str, doc: dict) -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


D = {"case_id": "6.3.2.1", "decision": "mitigated", "by": "Li Ming", "date": "2026-11-20", "note": "host firewalls seen"}


@pytest.mark.parametrize("bad,msg", [
    ({"case_id": "6.2.1.2"}, "6.2.1.2: the guideline allows no mitigation"),
    ({"case_id": "6.1.1.1"}, "6.1.1.1 is not a case"),
    ({"by": "   "}, "high_risk_decisions[0].by: Value error, must not be blank"),
    ({"note": ""}, "high_risk_decisions[0].note: Value error, must not be blank"),
    ({"date": "2099-01-01"}, "high_risk_decisions[0].date: 2099-01-01 is in the future"),
    ({"date": "2026-02-30"}, "high_risk_decisions[0].date: Input should be a valid date"),
    ({"decision": "waived"}, "high_risk_decisions[0].decision"),
])
def test_a_bad_decision_is_one_line_exit_2_before_scanning(tmp_path, bad, msg):
    _static(tmp_path, "fw.yaml", {"assets": [{"type": "network.firewall", "id": "fw1", "attributes": FW_BAD}]})
    _static(tmp_path, "d.yaml", {"high_risk_decisions": [{**D, **bad}]})
    cfg = _static(tmp_path, "scan.yaml", {"system": {"name": "T", "level": 3},
                                          "static": [{"name": "fw", "path": "fw.yaml"}, {"name": "d", "path": "d.yaml"}]})
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--no-history")
    assert r.returncode == 2, r.stdout + r.stderr
    assert msg in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not out.exists()


def test_a_decision_in_a_static_file_reaches_the_bundle_and_fail_on_high_risk(tmp_path):
    _static(tmp_path, "fw.yaml", {"assets": [{"type": "network.firewall", "id": "fw1", "attributes": FW_BAD}]})
    _static(tmp_path, "d.yaml", {"high_risk_decisions": [D]})
    cfg = _static(tmp_path, "scan.yaml", {"system": {"name": "T", "level": 3},
                                          "static": [{"name": "fw", "path": "fw.yaml"}, {"name": "d", "path": "d.yaml"}]})
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--no-history", "--as-of", "2026-11-29",
                "--fail-on", "high-risk")
    assert r.returncode == 0, r.stdout + r.stderr  # the only case is ruled mitigated by the assessor
    import json
    a = json.loads((out / "assessment.json").read_text())
    (hr,) = a["high_risks"]
    assert hr["state"] == "mitigated" and hr["major"] is False and hr["state_zh"]
    assert a["high_risk_decisions"][0]["state"] == "counted"
    assert "mitigated" in r.stdout


# --------------------------------------------------------------------------- what a finding must show


def elb(listeners):
    return Asset(type="aws.elb.load_balancer", id="arn:aws-cn:elasticloadbalancing:cn-north-1:1:loadbalancer/app/x/1",
                 scope="aws/p/1/cn-north-1", evidence=["ev.elb"],
                 attributes={"type": "application", "scheme": "internal", "listeners": listeners})


def rds(**attrs):
    base = {"engine": "mysql", "storage_encrypted": True, "backup_retention_days": 7, "multi_az": True,
            "publicly_accessible": False}
    return Asset(type="aws.rds.instance", id="arn:aws-cn:rds:cn-north-1:1:db:x", scope="aws/p/1/cn-north-1",
                 evidence=["ev.rds"], attributes={**base, **attrs})


def test_an_old_tls_policy_is_not_data_in_clear_but_a_plaintext_listener_is():
    old_tls = [{"protocol": "HTTPS", "port": 443, "ssl_policy": "ELBSecurityPolicy-2016-08", "redirects_to_https": False}]
    cases, _ = judge(elb(old_tls))
    assert "6.4.5.1" not in cases  # the check fails (TLS 1.0/1.1 allowed), but nothing is sent in clear
    plain = old_tls + [{"protocol": "HTTP", "port": 80, "ssl_policy": None, "redirects_to_https": False}]
    cases, _ = judge(elb(plain))
    assert [f.check_id for f in cases["6.4.5.1"].findings] == ["aws.elb.tls_policy"]
    redirect = [{"protocol": "HTTP", "port": 80, "ssl_policy": None, "redirects_to_https": True}]
    assert "6.4.5.1" not in judge(elb(redirect))[0]


def test_short_backups_are_backups_but_none_is_a_case():
    cases, _ = judge(rds(backup_retention_days=3))
    assert "6.4.6.1" not in cases  # below the profile's 7 days: a failure, not "no backup"
    cases, _ = judge(rds(backup_retention_days=0))
    assert [f.check_id for f in cases["6.4.6.1"].findings] == ["aws.rds.backup"]


def test_thresholds_of_the_profile_are_not_the_guideline_s():
    # a consultant's profile may ask more than the law; the case is the law's six months
    strict = build_profile(3, {"log_retention_days": 365})
    lg = Asset(type="aws.logs.log_group", id="arn:aws-cn:logs:cn-north-1:1:log-group:/app", scope="aws/p/1/cn-north-1",
               attributes={"retention_days": 200}, evidence=["ev.lg"])
    cases, _ = judge(lg, profile=strict)
    assert "6.5.1.2" not in cases
    lg.attributes["retention_days"] = 90
    assert "6.5.1.2" in judge(lg, profile=strict)[0]


def etcd(**kw):
    e = {"cert_file": "/pki/etcd/server.crt", "key_file": "/pki/etcd/server.key", "trusted_ca_file": "/pki/etcd/ca.crt",
         "listen_client_urls": ["https://10.0.0.1:2379"], "client_cert_auth": True, "auto_tls": False,
         "peer_cert_file": "/pki/etcd/peer.crt", "peer_key_file": "/pki/etcd/peer.key", "peer_client_cert_auth": True,
         "peer_trusted_ca_file": "/pki/etcd/ca.crt", "listen_peer_urls": ["https://10.0.0.1:2380"], **kw}
    return Asset(type="k8s.controlplane.etcd", id="k8s/prod/kube-system/etcd-cp1", scope="kubernetes/prod",
                 attributes={"node": "cp1", "etcd": e}, evidence=["ev.etcd"])


def test_etcd_in_clear_is_data_in_clear_but_trusting_any_client_is_no_authentication():
    cases, _ = judge(etcd(client_cert_auth=False))  # TLS, but any client is trusted
    assert "6.4.5.1" not in cases and [f.check_id for f in cases["6.4.1.1"].findings] == ["k8s.etcd.client_tls"]
    cases, _ = judge(etcd(listen_client_urls=["http://10.0.0.1:2379"]))  # clients in clear, certificates required
    assert [f.check_id for f in cases["6.4.5.1"].findings] == ["k8s.etcd.client_tls"] and "6.4.1.1" not in cases
    cases, _ = judge(etcd(peer_trusted_ca_file=None))  # peers over TLS without a CA to check them: not in clear
    assert "6.4.5.1" not in cases
    cases, _ = judge(etcd(peer_cert_file=None))
    assert [f.check_id for f in cases["6.4.5.1"].findings] == ["k8s.etcd.peer_tls"]


def test_trigger_conditions_read_the_finding_details():
    t = HighRiskTrigger(case="6.4.5.1", when={"plaintext": {"nonempty": True}, "n": {"lt": 3}, "k": ["a", "b"]})

    def f(details):
        return Finding(check_id="x", control_ids=[], status=FindingStatus.fail, resource_id="r", resource_type="t",
                       message="m", details=details)

    assert A.trigger_met(t, f({"plaintext": ["HTTP:80"], "n": 2, "k": "a"}))
    assert not A.trigger_met(t, f({"plaintext": [], "n": 2, "k": "a"}))
    assert not A.trigger_met(t, f({"plaintext": ["x"], "n": 3, "k": "a"}))
    assert not A.trigger_met(t, f({"plaintext": ["x"], "n": 1, "k": "c"}))
    # what a finding does not record (or records as null) is unknown: the case stays a candidate
    assert A.trigger_met(t, f({})) and A.trigger_met(t, f({"plaintext": None, "n": None, "k": None}))
    assert A.trigger_met(HighRiskTrigger(case="6.4.5.1"), f({}))
    with pytest.raises(ValueError):
        A.trigger_met(HighRiskTrigger(case="6.4.5.1", when={"n": {"about": 3}}), f({"n": 3}))


# --------------------------------------------------------------------------- where the mapping lives


def test_the_engine_case_file_names_no_check_and_every_case_is_declared_by_a_check():
    """The guideline's cases are engine data; the checks say which case their failures trigger."""
    import re
    text = (Path(A.__file__).parent / "data" / "high_risk.yaml").read_text(encoding="utf-8")
    specs = checks()
    named = [cid for cid in specs if re.search(rf"\b{re.escape(cid)}\b", text)]
    assert not named, f"the engine's case file names checks: {named}"
    declared = {t.case for s in specs.values() for t in s.high_risk}
    for case in A.cases():
        assert case.id in declared, f"case {case.id}: no check declares it (move it to not_mapped, or map a check)"
    for s in specs.values():
        for t in s.high_risk:
            case = next(c for c in A.cases() if c.id == t.case)
            assert s.severity in ("high", "critical"), f"{s.id} triggers {case.id} but is {s.severity}"
            assert t.basis, f"{s.id} -> {case.id}: say why the finding shows the case"
            for lvl, ids in case.controls.items():
                if s.controls_for(lvl):
                    assert set(s.controls_for(lvl)) & set(ids), (case.id, s.id, lvl)


# --------------------------------------------------------------------------- a plugin's checks map themselves

ACME_HR = '''\
from mlps_scan.plugins import check, failed, passed


@check(id="acme.fw.any_allow", title_en="No allow-any rule", title_zh="无全放行规则", controls={3: ["L3-ABS1-05"]},
       asset_type="network.firewall", severity="high",
       high_risk=[{"case": "6.3.2.1", "when": {"allow_any": True}, "basis": "an allow-any rule at the boundary"}])
def any_allow(asset, ctx):
    bad = [r["name"] for r in asset.attributes.get("rules") or [] if r.get("source") == "any" and r.get("destination") == "any"]
    return failed("allow-any rules: " + ", ".join(bad), "存在全放行规则：" + "、".join(bad),
                  details={"allow_any": True}) if bad else passed("no allow-any rule", "无全放行规则")


@check(id="acme.fw.case_typo", title_en="x", title_zh="x", controls={3: ["L3-ABS1-06"]},
       asset_type="network.firewall", severity="high", high_risk=["6.3.2.9"])
def case_typo(asset, ctx):
    return failed("x", "x")


@check(id="acme.fw.soft", title_en="x", title_zh="x", controls={3: ["L3-ABS1-06"]},
       asset_type="network.firewall", severity="medium", high_risk=["6.3.2.1"])
def soft(asset, ctx):
    return failed("x", "x")
'''


def test_a_plugin_check_declares_its_high_risk_cases(tmp_path):
    site = tmp_path / "site"
    (site / "acme_hr-0.1.dist-info").mkdir(parents=True)
    (site / "acme_hr-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-hr\nVersion: 0.1\n")
    (site / "acme_hr-0.1.dist-info" / "entry_points.txt").write_text("[mlps_scan.checks]\nacme-hr = acme_hr\n")
    (site / "acme_hr.py").write_text(ACME_HR, encoding="utf-8")
    rules = [{"name": "legacy", "action": "allow", "source": "any", "destination": "any", "ports": "any",
              "protocol": "any"}]
    (tmp_path / "fw.yaml").write_text(yaml.safe_dump({"assets": [{"type": "network.firewall", "id": "fw1", "attributes": {
        "default_action": "deny", "logging": True, "log_destination": "syslog://x", "rules": rules}}]}))
    (tmp_path / "scan.yaml").write_text(yaml.safe_dump({"system": {"name": "T", "level": 3},
                                                       "static": [{"name": "fw", "path": "fw.yaml"}]}))
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(tmp_path / "scan.yaml"), "--out", str(out), "--no-history",
                env={"PYTHONPATH": str(site)})
    assert r.returncode == 3, r.stderr  # the two bad declarations are plugin failures: their controls say error
    (case,) = [h for h in json.loads((out / "assessment.json").read_text())["high_risks"] if h["case_id"] == "6.3.2.1"]
    assert {"check_id": "acme.fw.any_allow", "resource_id": "fw1"} in case["findings"]
    failures = json.loads((out / "manifest.json").read_text())["plugin_failures"]
    errors = " ".join(p["error"] for p in failures)
    assert "acme.fw.case_typo" in errors and "6.3.2.9" in errors
    assert "acme.fw.soft" in errors and "at least high" in errors
    assert "acme.fw.any_allow" not in errors
    assert "Traceback" not in r.stderr


def test_patches_missing_are_a_case_a_stale_scan_is_not():
    def inst(**state):
        return Asset(type="aws.ssm.managed_instance", id="arn:aws-cn:ssm:cn-north-1:1:managed-instance/i-1",
                     scope="aws/p/1/cn-north-1", evidence=["ev.ssm"],
                     attributes={"patch_state": {"MissingCount": 0, "FailedCount": 0, "InstalledPendingRebootCount": 0,
                                                 "operation_end_days": 2, **state}})
    assert "6.4.3.2" not in judge(inst(operation_end_days=400))[0]  # fails (scan too old), shows no missing patch
    assert "6.4.3.2" not in judge(inst(InstalledPendingRebootCount=2))[0]
    cases, _ = judge(inst(MissingCount=3, SecurityNonCompliantCount=2))
    assert [f.check_id for f in cases["6.4.3.2"].findings] == ["aws.ssm.patch_compliance"]


def test_policy_files_others_can_change_are_a_case_a_readable_shadow_is_not():
    def host(*files):
        return Asset(type="host", id="10.0.0.5", scope="hosts/web", evidence=["ev.h"], attributes={"permissions": [
            {"path": p, "owner": o, "mode": m} for p, o, m in files]})
    ok = ("/etc/passwd", "root", "0644")
    assert "6.4.2.2" not in judge(host(ok, ("/etc/shadow", "root", "0644")))[0]
    cases, _ = judge(host(ok, ("/etc/sudoers", "root", "0666")))
    assert [f.check_id for f in cases["6.4.2.2"].findings] == ["host.policy_files_protected"]
    assert "6.4.2.2" in judge(host(("/etc/ssh/sshd_config", "deploy", "0600")))[0]
