"""Waivers: what they cover (per control), several on one finding, a person's text, offline re-checks that
replace them (and survive a replay), plugins that are broken or absent, and what the exit code says."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from mlps_scan.models import Asset, ControlStatus, FindingStatus, Inventory
from mlps_scan.pipeline import evaluate
from mlps_scan.profile import build_profile
from mlps_scan.runner import exit_code

from conftest import ROOT, SAMPLE_AS_OF, run_cli

AS_OF = date(2026, 11, 29)
SG_CHECK = "aws.ec2.sg_default_deny"  # evidences L3-ABS1-05, L3-ABS1-07, L3-ABS2-01 (and more)
OPEN_SG = {"group_id": "sg-1", "vpc_id": "vpc-1", "in_use": True,
           "ingress": [{"protocol": "all", "from_port": None, "to_port": None, "cidrs": ["0.0.0.0/0"]}]}


def sg():
    return Asset(type="aws.ec2.security_group", id="arn:aws-cn:ec2:cn-north-1:1:security-group/sg-1",
                 scope="aws/p/1/cn-north-1", attributes=OPEN_SG, evidence=["ev.sg"])


def waiver(id_, *, checks=(), controls=(), compensating=None):
    return Asset(type="waiver", id=id_, scope="static/decisions", evidence=["ev.w"], attributes={
        "id": id_, "checks": list(checks), "controls": list(controls), "resources": [], "justification": "j",
        "approved_by": "CISO", "approved_on": "2026-10-01", "expires": "2027-03-31", "compensating": compensating,
        "file": "w.yaml"})


def judge(*assets):
    f, c, a = evaluate(Inventory(assets=list(assets)), 3, build_profile(3), system="t", as_of=AS_OF,
                       extensions=["cloud"])
    (finding,) = [x for x in f if x.check_id == SG_CHECK]
    return finding, {x.control_id: x for x in c}, a, f


def test_a_controls_waiver_covers_the_finding_only_under_the_controls_it_names():
    f, c, a, all_findings = judge(sg(), waiver("W-ctl", controls=["L3-ABS1-07"], compensating="NACL denies all"))
    assert f.status == FindingStatus.fail and {"L3-ABS1-05", "L3-ABS1-07", "L3-ABS2-01"} <= set(f.control_ids)
    assert f.waiver.id == "W-ctl" and f.waiver.controls == ["L3-ABS1-07"]
    assert c["L3-ABS1-07"].counts == {"waived": 1} and c["L3-ABS1-07"].status == ControlStatus.partial
    for other in set(f.control_ids) - {"L3-ABS1-07"}:  # an ordinary failure there
        assert c[other].counts == {"fail": 1} and c[other].status == ControlStatus.non_compliant, other
    assert not f.fully_waived and exit_code([f], partial=False) == 1
    # a waiver naming the check covers it under every control it evidences
    f, c, _, all_findings = judge(sg(), waiver("W-chk", checks=[SG_CHECK], compensating="NACL denies all"))
    assert f.waiver.controls == f.control_ids and f.fully_waived
    assert all(c[x].counts == {"waived": 1} for x in f.control_ids)
    assert exit_code([f], partial=False) == 0


def test_every_covering_waiver_is_recorded_and_the_set_decides_deterministically():
    plain, comp = waiver("W-a", checks=[SG_CHECK]), waiver("W-b", checks=[SG_CHECK], compensating="NACL denies all")
    for order in ((plain, comp), (comp, plain)):
        f, c, a, _ = judge(sg(), *order)
        assert [w.id for w in f.waivers] == ["W-b", "W-a"] and f.waiver.id == "W-b"  # compensating first
        assert c["L3-ABS1-05"].status == ControlStatus.partial  # compensated: one covering waiver names a measure
        assert {w.id: w.status for w in a.waivers} == {"W-a": "active", "W-b": "active"}
        assert all(len(w.findings) == 1 for w in a.waivers)
    # two plain waivers: the finding records both, the control stays non-compliant
    f, c, _, _ = judge(sg(), waiver("W-z", checks=[SG_CHECK]), waiver("W-a", checks=[SG_CHECK]))
    assert [w.id for w in f.waivers] == ["W-a", "W-z"] and c["L3-ABS1-05"].status == ControlStatus.non_compliant
    assert "W-a, W-z" in c["L3-ABS1-05"].summary
    # under a control only one of them covers, only that one counts
    f, c, _, _ = judge(sg(), waiver("W-a", controls=["L3-ABS1-07"], compensating="x"), waiver("W-b", checks=[SG_CHECK]))
    assert c["L3-ABS1-07"].status == ControlStatus.partial and c["L3-ABS1-05"].status == ControlStatus.non_compliant


# --------------------------------------------------------------------------- a person's text


def _static(tmp_path: Path, name: str, doc: dict) -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


FW_FILE = {"assets": [{"type": "network.firewall", "id": "fw1", "attributes": {
    "default_action": "allow", "logging": True, "log_destination": "syslog://x", "rules": []}}]}
W = {"id": "W-1", "checks": ["network.firewall.default_deny"], "justification": "j", "approved_by": "CISO",
     "approved_on": "2026-10-01", "expires": "2027-03-31", "compensating": "host firewalls"}


@pytest.mark.parametrize("where,bad,msg", [
    ("waivers", {"compensating": "  "}, "waivers[0].compensating: Value error, must not be blank"),
    ("waivers", {"justification": "\t"}, "waivers[0].justification: Value error, must not be blank"),
    ("waivers", {"approved_by": " "}, "waivers[0].approved_by: Value error, must not be blank"),
    ("attestations", {"by": " "}, "attestations[0].by: Value error, must not be blank"),
    ("attestations", {"note": "   "}, "attestations[0].note: Value error, must not be blank"),
])
def test_blank_text_where_a_person_must_write_is_an_input_error(tmp_path, where, bad, msg):
    item = {**W, **bad} if where == "waivers" else {"control_ids": ["L3-PES1-01"], "status": "pass", "by": "Li",
                                                    "date": "2026-11-18", "note": "seen", **bad}
    _static(tmp_path, "fw.yaml", FW_FILE)
    _static(tmp_path, "d.yaml", {where: [item]})
    cfg = _static(tmp_path, "scan.yaml", {"system": {"name": "T", "level": 3},
                                          "static": [{"name": "fw", "path": "fw.yaml"}, {"name": "d", "path": "d.yaml"}]})
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--no-history")
    assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- check --waivers and replays


def test_waivers_given_to_check_survive_a_replay_of_the_new_bundle(tmp_path, sample_bundle):
    wf = _static(tmp_path, "new-waivers.yaml", {"waivers": [
        {**W, "id": "W-3", "checks": ["k8s.namespace.pod_security"], "approved_on": "2026-11-25", "expires": "2027-05-31"}]})
    re1 = tmp_path / "re"
    r = run_cli("check", str(sample_bundle), "--waivers", str(wf), "--as-of", SAMPLE_AS_OF, "--out", str(re1), "--quiet")
    assert r.returncode == 1, r.stderr
    # the new bundle replayed as evidence: its waivers are W-3's file, not the sample's old file again
    cfg = _static(tmp_path, "replay.yaml", {"system": {"name": "Acme Shop", "level": 3},
                                            "static": [{"name": "old", "path": str(re1), "format": "evidence"}]})
    out = tmp_path / "replayed"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--quiet", "--no-history", "--as-of", SAMPLE_AS_OF)
    assert r.returncode == 1, r.stderr
    a = json.loads((out / "assessment.json").read_text())
    states = {w["id"]: w["status"] for w in a["waivers"]}
    assert states == {"W-3": "active", "W-2025-12": "superseded", "W-2026-07": "superseded"}, states
    findings = json.loads((out / "findings.json").read_text())
    assert not any((f.get("waiver") or {}).get("id") == "W-2026-07" for f in findings)
    before = json.loads((re1 / "assessment.json").read_text())
    assert {w["id"]: w["status"] for w in before["waivers"]} == states  # the same as in the bundle it was replayed from
    assert a["compliance_rate"] == before["compliance_rate"] and a["counts"] == before["counts"]
    # and a second `check --waivers` on the replayed bundle replaces W-3's file in turn
    wf2 = _static(tmp_path, "w2.yaml", {"waivers": [{**W, "id": "W-4", "checks": ["host.security_updates"],
                                                      "approved_on": "2026-11-25", "expires": "2027-05-31"}]})
    re2 = tmp_path / "re2"
    assert run_cli("check", str(out), "--waivers", str(wf2), "--as-of", SAMPLE_AS_OF, "--out", str(re2),
                   "--quiet").returncode == 1
    cfg2 = _static(tmp_path, "replay2.yaml", {"system": {"name": "Acme Shop", "level": 3},
                                              "static": [{"name": "old", "path": str(re2), "format": "evidence"}]})
    r = run_cli("scan", "--config", str(cfg2), "--out", str(tmp_path / "r2"), "--quiet", "--no-history",
                "--as-of", SAMPLE_AS_OF)
    a2 = json.loads((tmp_path / "r2" / "assessment.json").read_text())
    assert [w["id"] for w in a2["waivers"] if w["status"] == "active"] == ["W-4"], r.stderr


# --------------------------------------------------------------------------- plugins broken or absent

PLUGIN = '''\
from mlps_scan.plugins import check, failed, passed


@check(id="acme.firewall.vendor", title_en="Firewall vendor supported", title_zh="防火墙厂商受支持",
       controls={3: ["L3-ABS1-06"]}, asset_type="network.firewall")
def vendor(asset, ctx):
    return passed("ok") if asset.attributes.get("vendor") == "acme" else failed("unsupported vendor")
'''


def _site(root: Path, body: str) -> Path:
    root.mkdir()
    dist = root / "acme_fw-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-fw\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[mlps_scan.checks]\nacme-fw = acme_fw\n")
    (root / "acme_fw.py").write_text(body, encoding="utf-8")
    return root


def test_a_waiver_naming_a_broken_or_absent_plugin_s_check_does_not_stop_the_run(tmp_path):
    _static(tmp_path, "fw.yaml", FW_FILE)
    _static(tmp_path, "w.yaml", {"waivers": [{**W, "checks": ["acme.firewall.vendor"]}]})
    cfg = _static(tmp_path, "scan.yaml", {"system": {"name": "T", "level": 3},
                                          "static": [{"name": "fw", "path": "fw.yaml"}, {"name": "w", "path": "w.yaml"}]})
    # the plugin installed: the waiver covers its failure
    good = _site(tmp_path / "good", PLUGIN)
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--no-history", "--quiet", "--as-of", "2026-11-29",
                env={"PYTHONPATH": str(good)})
    assert r.returncode == 1, r.stderr
    assert any(f["check_id"] == "acme.firewall.vendor" and f.get("waiver") for f in
               json.loads((out / "findings.json").read_text()))
    # the plugin broken: its declared checks are known, the run goes on (its controls say error: exit 3)
    broken = _site(tmp_path / "broken", "import acme_sdk_not_installed\n" + PLUGIN)
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "o2"), "--no-history", "--quiet",
                env={"PYTHONPATH": str(broken)})
    assert r.returncode == 3, r.stderr
    # the plugin absent: the bundle made with it re-checks offline (its findings name the check), and says the
    # check could not run here: an error on the controls it evidenced, never a silent drop (exit 3)
    re_out = tmp_path / "re"
    r = run_cli("check", str(out), "--as-of", "2026-11-29", "--quiet", "--out", str(re_out), "--no-zip")
    assert r.returncode == 3, r.stderr
    (gone,) = [f for f in json.loads((re_out / "findings.json").read_text()) if f["check_id"] == "acme.firewall.vendor"]
    assert gone["status"] == "error" and gone["control_ids"] == ["L3-ABS1-06"], gone
    assert "not installed" in gone["message"] and "未安装" in gone["message_zh"]
    ctl = {c["control_id"]: c for c in json.loads((re_out / "controls.json").read_text())}["L3-ABS1-06"]
    assert ctl["status"] != "compliant" and "acme.firewall.vendor" in ctl["checks"]
    wf = _static(tmp_path, "again.yaml", {"waivers": [{**W, "id": "W-9", "checks": ["acme.firewall.vendor"]}]})
    r = run_cli("check", str(out), "--waivers", str(wf), "--as-of", "2026-11-29", "--quiet")
    assert r.returncode == 3, r.stderr
    # installed again: the re-check judges it as the scan did
    r = run_cli("check", str(out), "--as-of", "2026-11-29", "--quiet", env={"PYTHONPATH": str(good)})
    assert r.returncode == 1, r.stderr
    # a check id nobody knows is still an input error
    typo = _static(tmp_path, "typo.yaml", {"waivers": [{**W, "id": "W-8", "checks": ["acme.firewall.vendr"]}]})
    r = run_cli("check", str(out), "--waivers", str(typo))
    assert r.returncode == 2 and "unknown check id" in r.stderr


# --------------------------------------------------------------------------- what the exit code says


def test_the_readme_says_what_exit_0_means_with_waivers():
    """Exit 0 can come with a non-compliant control whose failures are waived without a compensating measure:
    the README's exit-code text says so instead of 'every evaluated control compliant'."""
    f, c, _, all_findings = judge(sg(), waiver("W-a", checks=[SG_CHECK]))
    assert c["L3-ABS1-05"].status == ControlStatus.non_compliant and exit_code([f], partial=False) == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    text = re.search(r"Exit codes: (.*?)\n\n", readme, re.S).group(1)
    assert "every evaluated control compliant" not in text
    assert "waived" in text and "`0`" in text and "`1`" in text
