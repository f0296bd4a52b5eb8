"""Questionnaire: prefill from bundles (sample estate and a synthetic AWS/hosts/Kubernetes inventory), every
prefilled entry traceable to evidence, the blank template, and validation of answered files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlps_scan import questionnaire as Q
from mlps_scan.bundle import verify_bundle
from mlps_scan.errors import InputError
from mlps_scan.models import Inventory, Questionnaire

from conftest import CHECK_BUNDLE, ROOT, check_bundle, run_cli

PREFILLED_LISTS = ("cloud_accounts", "networks", "internet_endpoints", "hosts", "kubernetes_clusters", "data_stores",
                   "security_services")


def _bundle_ids(bundle: Path) -> tuple[set[str], set[str]]:
    evidence = {p.stem for p in (bundle / "evidence").glob("*.json")}
    assets = {a["id"] for a in json.loads((bundle / "inventory.json").read_text())["assets"]}
    return evidence, assets


def _assert_traceable(doc: dict, bundle: Path) -> int:
    """Every prefilled entry carries a non-empty source whose ids are evidence (or assets) of the bundle."""
    evidence, assets = _bundle_ids(bundle)
    n = 0
    arch = doc["architecture"]
    for key in PREFILLED_LISTS:
        for entry in arch[key]:
            assert entry["source"], f"{key}: {entry} has no source"
            for s in entry["source"]:
                assert s in evidence or s in assets, f"{key}: source {s!r} not in the bundle"
                if s in evidence:
                    rec = json.loads((bundle / "evidence" / f"{s}.json").read_text())
                    assert rec["id"] == s
            n += 1
    for c in arch["counts"]:
        assert c["source"] and all(s in evidence for s in c["source"]), c
    for g in arch["coverage_gaps"]:
        assert all(s in evidence for s in g["source"]), g
    return n


def test_prefill_from_sample_scan(tmp_path):
    out = tmp_path / "out"
    r = run_cli("scan", "--config", "sample_inventories/acme-shop/scan.yaml", "--level", "3", "--out", str(out),
                "--quiet", "--no-history")
    assert r.returncode == 1, r.stderr
    qf = tmp_path / "q.yaml"
    r = run_cli("questionnaire", str(out), "-o", str(qf))
    assert r.returncode == 0, r.stderr
    text = qf.read_text()
    assert "# MLPS 2.0 (等级保护 2.0) client questionnaire" in text and "危害评估" in text  # guidance survives
    doc = yaml.safe_load(text)
    q = Questionnaire.model_validate(doc)
    assert q.meta.prefilled_from.system == "Acme Shop"
    assert q.system.name == "Acme Shop"
    assert _assert_traceable(doc, out) >= 4
    arch = q.architecture
    assert {("firewall_zone", "internet-edge"), ("firewall_zone", "office")} <= {(n.kind, n.id) for n in arch.networks}
    fw = {s.id: s for s in arch.security_services}
    assert fw["fw-internet-edge-01"].enabled is True and fw["fw-office-core-02"].enabled is False
    exposed = {e.id: e.ports for e in arch.internet_endpoints}
    assert exposed["fw-internet-edge-01"] == ["443/tcp -> 10.20.1.0/24", "1194/udp -> 10.20.0.10"]
    counts = {c.asset_type: c.count for c in arch.counts}
    assert counts["attestation"] == 3 and counts["network.firewall"] == 2 and counts["waiver"] == 2
    # the system section carries what scan.yaml already states (issue 10)
    assert (q.system.current_level, str(q.system.filing_date)) == (3, "2026-03-15")
    assert q.system.business_description.startswith("Online shop")
    # every area the sample holds is prefilled; kinds it does not hold are named, not silently empty
    inv = json.loads((out / "inventory.json").read_text())
    types = {a["type"] for a in inv["assets"]}
    for prefix, section, items in (("aws.", "cloud_accounts", arch.cloud_accounts),
                                   ("k8s.", "kubernetes_clusters", arch.kubernetes_clusters)):
        if any(t.startswith(prefix) for t in types):
            assert items, section
            assert counts.get(next(t for t in sorted(types) if t.startswith(prefix)))
        else:
            assert any(s.startswith(section + ":") for s in arch.not_seen), section
    # client sections: present, empty
    assert q.impact.business_information.citizens_legal_persons is None and q.data.personal_information.collected is None
    # the zip alone works too, and an existing file is not overwritten without --force
    r = run_cli("questionnaire", str(out / "bundle.zip"), "-o", str(qf))
    assert r.returncode == 2 and "exists" in r.stderr
    r = run_cli("questionnaire", str(out / "bundle.zip"), "-o", str(qf), "--force")
    assert r.returncode == 0, r.stderr


def test_prefill_from_synthetic_aws_hosts_k8s_inventory(synthetic_bundle):
    assert verify_bundle(synthetic_bundle) == []
    if CHECK_BUNDLE.exists():
        cb = check_bundle(synthetic_bundle)
        assert cb.returncode == 0, cb.stdout + cb.stderr
    q = Q.build(Q.open_bundle(synthetic_bundle), synthetic_bundle)
    doc = yaml.safe_load(Q.render_yaml(q))
    assert _assert_traceable(doc, synthetic_bundle) >= 25
    a = Questionnaire.model_validate(doc).architecture
    acct = a.cloud_accounts[0]
    assert (acct.id, acct.partition, acct.regions) == ("123456789012", "aws-cn", ["cn-north-1", "cn-northwest-1"])
    assert {(n.kind, n.id, n.public) for n in a.networks} == {
        ("vpc", "vpc-1", None), ("subnet", "subnet-pub", True), ("subnet", "subnet-app", False),
        ("k8s_namespace", "uid-ns-shop", None)}
    ep = {(e.kind, e.id): e for e in a.internet_endpoints}
    assert set(ep) == {("public_ip", "i-web1"), ("load_balancer", ep_lb := next(k[1] for k in ep if k[0] == "load_balancer")),
                       ("open_security_group", "sg-web"), ("public_bucket", "arn:aws-cn:s3:::acme-static-assets"),
                       ("host_service", "10.20.1.5:443/tcp"), ("k8s_service", "uid-svc-frontend"),
                       ("k8s_ingress", "uid-ing-shop")}
    assert ep[("open_security_group", "sg-web")].ports == ["443/tcp"]  # the 10.9/16 SSH rule is not internet-facing
    assert ep[("public_ip", "i-web1")].address == "52.80.1.10"
    assert ep[("load_balancer", ep_lb)].ports == ["443/https"]
    hosts = {h.id: h for h in a.hosts}
    assert hosts["10.20.1.5"].os == "Ubuntu 22.04.4 LTS" and hosts["i-web1"].kind == "ec2_instance"
    (cl,) = a.kubernetes_clusters
    assert (cl.version, cl.platform, cl.node_count, cl.namespaces) == ("v1.29.3", "eks", 2, 1)
    assert cl.exposed_services == ["shop/frontend", "shop/shop"]  # the ClusterIP db service is not exposed
    ds = {d.name: d for d in a.data_stores}
    assert ds["customer-db"].encrypted is False and ds["customer-db"].personal_data_hint == "tag data-classification=pii"
    assert ds["acme-static-assets"].encrypted is True and ds["acme-static-assets"].public is True
    assert ds["acme-payment-exports"].encrypted is None and "AccessDenied" in ds["acme-payment-exports"].detail
    assert ds["vol-1"].encrypted is True and ds["vol-1"].kind == "ebs_volume"
    sec = {(s.kind, s.id): s.enabled for s in a.security_services}
    assert sec[("vpc_flow_logs", "vpc-1")] is False
    assert sec[("host_audit", "10.20.1.5")] is True
    assert sec[("host_firewall", "10.20.1.5")] is None  # could not be collected: unknown, not "off"
    assert sec[("k8s_audit_log", "prod")] is True
    assert next(v for (k, _), v in sec.items() if k == "cloudtrail") is True
    assert next(v for (k, _), v in sec.items() if k == "waf") is True
    assert {(g.asset_type, g.status) for g in a.coverage_gaps} == {("aws.guardduty.detector", "not_available"),
                                                                   ("aws.iam.user", "denied")}
    counts = {c.asset_type: c.count for c in a.counts}
    assert counts["aws.s3.bucket"] == 2 and counts["k8s.node"] == 2 and counts["k8s.service"] == 2
    assert a.not_seen == []


def test_prefill_on_an_empty_or_partial_inventory_degrades():
    a = Q.prefill(Inventory())
    assert all(getattr(a, k) == [] for k in PREFILLED_LISTS) and len(a.not_seen) == len(PREFILLED_LISTS)
    # assets with nothing but the contract's required keys, and unknown types, do not break prefill
    inv = Inventory.model_validate({"assets": [
        {"type": "aws.ec2.instance", "id": "i-1", "scope": "aws/x/1/r", "evidence": ["e1"]},
        {"type": "k8s.cluster", "id": "c", "scope": "kubernetes/c", "evidence": ["e2"]},
        {"type": "aws.rds.instance", "id": "db", "scope": "aws/x/1/r", "evidence": ["e3"]},
        {"type": "host", "id": "10.0.0.1", "scope": "hosts/h/10.0.0.1", "attributes": {"os": "Debian"}, "evidence": ["e4"]},
        {"type": "something.new", "id": "n", "scope": "x", "evidence": ["e5"]}]})
    a = Q.prefill(inv)
    assert [h.os for h in a.hosts] == ["Debian", None]
    assert a.data_stores[0].encrypted is None and "not collected" in a.data_stores[0].detail
    assert a.kubernetes_clusters[0].node_count is None
    assert a.internet_endpoints == []


def test_template_is_blank_and_loads(tmp_path):
    f = tmp_path / "blank.yaml"
    r = run_cli("questionnaire", "--template", "-o", str(f))
    assert r.returncode == 0, r.stderr
    q = Q.load(f)
    assert q.meta.prefilled_from is None and q.system.name is None
    assert all(getattr(q.architecture, k) == [] for k in PREFILLED_LISTS)
    assert "organisation:" in f.read_text() and "公民、法人和其他组织的合法权益" in f.read_text()
    assert run_cli("questionnaire", "-o", str(tmp_path / "x.yaml")).returncode == 2
    assert run_cli("questionnaire", "--template", str(tmp_path), "-o", str(tmp_path / "x.yaml")).returncode == 2


@pytest.fixture
def template_text() -> str:
    return Q.render_yaml(Q.build(None), template=True)


@pytest.mark.parametrize("old,new,expected", [
    ("  industry: ~", "  industri: retail", "organisation.industri: unknown key"),
    ("  internal: ~", "  internal: lots", "users.internal: Input should be a valid integer"),
    ("  current_level: ~", "  current_level: 7", "system.current_level: Input should be less than or equal to 5"),
    ("  go_live_date: ~", "  go_live_date: 2026-13-01", "system.go_live_date: Input should be a valid date"),
    ("  deployment: ~", "  deployment: mainframe", "system.deployment: Input should be 'cloud', 'on_premises' or 'hybrid'"),
    ("    national_security: ~", "    national_security: severe",
     "impact.business_information.national_security: 'severe' is not a degree"),
    ("    citizens_legal_persons: ~", "    citizens_legal_persons: [general, huge]",
     "impact.business_information.citizens_legal_persons[1]: 'huge' is not a degree"),
    ("  total_volume_gb: ~", "  total_volume_gb: -1", "data.total_volume_gb: Input should be greater than or equal to 0"),
])
def test_bad_answers_name_their_yaml_path(tmp_path, template_text, old, new, expected):
    assert old in template_text
    f = tmp_path / "q.yaml"
    f.write_text(template_text.replace(old, new, 1))
    with pytest.raises(InputError) as e:
        Q.load(f)
    assert f"questionnaire {f}: {expected}" in str(e.value)
    assert "\n" not in str(e.value)


def test_bad_questionnaire_through_the_cli(tmp_path, template_text):
    f = tmp_path / "q.yaml"
    f.write_text(template_text.replace("  internal: ~", "  internal: -3", 1))
    r = run_cli("grade", str(f))
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == f"mlps-scan: questionnaire {f}: users.internal: Input should be greater than or equal to 0"
    f.write_text("system: [\n")
    r = run_cli("grade", str(f))
    assert r.returncode == 2 and "malformed YAML" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    f.write_text("- a\n- b\n")
    assert run_cli("grade", str(f)).returncode == 2
    assert run_cli("grade", str(tmp_path / "missing.yaml")).returncode == 2


def test_refresh_keeps_the_answers(tmp_path, synthetic_bundle):
    sample_q = ROOT / "sample_inventories" / "acme-shop" / "questionnaire.yaml"
    answered = Q.load(sample_q)
    # rendering keeps every answer (comments and all), and loads back to the same questionnaire
    assert Q.parse(yaml.safe_load(Q.render_yaml(answered))) == answered
    f = tmp_path / "q.yaml"
    r = run_cli("questionnaire", str(synthetic_bundle), "--answers", str(sample_q), "-o", str(f))
    assert r.returncode == 0, r.stderr
    q = Q.load(f)
    assert q.impact == answered.impact and q.data == answered.data and q.system == answered.system
    assert q.organisation.name == "Acme Retail (Shanghai) Co., Ltd." and "# legal name" in f.read_text()
    assert q.meta.prefilled_from.system == "Synthetic Shop" and len(q.architecture.data_stores) == 4
    assert run_cli("questionnaire", "--template", "--answers", str(sample_q), "-o", str(tmp_path / "x.yaml")).returncode == 2


def test_every_client_field_survives_rendering():
    """Each client field has a line in the commented template, so a refresh never drops an answer."""
    full = {
        "organisation": {"name": "Org: \"quoted\" #hash", "industry": "finance", "competent_authority": "PBoC",
                         "security_officer": "CISO", "operations_location": "北京"},
        "system": {"name": "S", "purpose": "p", "business_description": "line one\nline two", "deployment": "cloud",
                   "go_live_date": "2020-02-29", "service_hours": "24x7", "max_tolerable_downtime_hours": 0.5,
                   "filing_date": "2024-02-29", "current_level": 3, "last_assessment_date": "2025-12-31"},
        "data": {"personal_information": {"collected": True, "records": 10, "kinds": ["name"]},
                 "sensitive_personal_information": {"collected": False, "records": 0, "kinds": []},
                 "important_data": {"collected": True, "records": 5, "kinds": ["maps", "genomes"]},
                 "total_volume_gb": 1.5, "cross_border_transfer": False},
        "users": {"internal": 1, "external": 0, "peak_concurrent": 2, "public_access": False},
        "impact": {"business_information": {"citizens_legal_persons": "serious",
                                            "social_order_public_interest": ["general", "particularly_serious"],
                                            "national_security": "none", "rationale": "r: 1"},
                   "system_service": {"citizens_legal_persons": "general", "social_order_public_interest": "none",
                                      "national_security": ["none", "general"], "rationale": "- dash"}},
    }
    q = Questionnaire.model_validate(full)
    back = Q.parse(yaml.safe_load(Q.render_yaml(q)))
    for section in full:
        assert getattr(back, section) == getattr(q, section), section
