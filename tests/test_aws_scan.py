"""AWS collector + checks end to end: boto3 -> moto server over HTTP -> evidence -> inventory -> findings.

A mixed estate (a compliant `good-*` and a non-compliant `bad-*` resource of every kind) is seeded in
cn-north-1 (account settings compliant) and in us-east-1 (account settings not compliant), scanned with the
real CLI, and every main check's verdict is asserted per resource."""
from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest

from conftest import ROOT, check_bundle, run_cli
from fixtures.aws import seed_account, seed_region

pytestmark = pytest.mark.aws


def scan(tmp: Path, region: str | None, *, extra: str = "", env: dict | None = None, level: int = 3,
         args: tuple = ()) -> tuple:
    cfg = tmp / "scan.yaml"
    regions = f"\n    regions: [{region}]" if region else ""
    cfg.write_text(f"system: {{name: T, level: {level}}}\naws:\n  - name: acct{regions}{extra}\n")
    out = tmp / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--no-zip", "--quiet", *args, env=env)
    return r, out


def load(out: Path, name: str):
    return json.loads((out / name).read_text())


def verdicts(out: Path) -> dict[tuple[str, str], str]:
    inv = load(out, "inventory.json")
    names = {a["id"]: a.get("name") or a["id"] for a in inv["assets"]}
    res = {}
    for f in load(out, "findings.json"):
        key = (f["check_id"], names.get(f["resource_id"], f["resource_id"]))
        res[key] = f["status"] if key not in res or res[key] == f["status"] else "mixed"
    return res


@pytest.fixture(scope="module", params=["cn-north-1", "us-east-1"])
def estate(request, moto_server, gap_peer, tmp_path_factory):
    region = request.param
    moto_server.reset()
    gap_peer.reset()
    compliant = region.startswith("cn-")
    seed_account(moto_server, region, compliant=compliant)
    ids = seed_region(moto_server, region, compliant_defaults=compliant, peer=gap_peer)
    tmp = tmp_path_factory.mktemp(f"aws-{region}")
    r, out = scan(tmp, region, env=gap_peer.env)
    assert r.returncode == 1, r.stderr  # findings, not partial
    yield {"region": region, "ids": ids, "out": out, "tmp": tmp, "compliant": compliant,
           "partition": "aws-cn" if compliant else "aws"}
    moto_server.reset()


def test_per_resource_verdicts(estate):
    v = verdicts(estate["out"])
    ids, ok = estate["ids"], estate["compliant"]
    b = ids["buckets"]
    expect = {
        ("aws.s3.encryption", b["good"]): "pass", ("aws.s3.encryption", b["bad"]): "fail",
        ("aws.s3.not_public", b["good"]): "pass", ("aws.s3.not_public", b["bad"]): "fail",
        ("aws.s3.tls_only", b["good"]): "pass", ("aws.s3.tls_only", b["bad"]): "fail",
        ("aws.s3.versioning", b["good"]): "pass", ("aws.s3.versioning", b["bad"]): "fail",
        ("aws.s3.log_bucket_access_logging", b["log"]): "fail",
        ("aws.cloudtrail.protected", "good-trail"): "pass", ("aws.cloudtrail.protected", "bad-trail"): "fail",
        ("aws.logs.retention", "/good/app"): "pass", ("aws.logs.retention", "/bad/app"): "fail",
        ("aws.logs.kms", "/good/app"): "pass", ("aws.logs.kms", "/bad/app"): "fail",
        ("aws.vpc.flow_logs", "good-vpc"): "pass", ("aws.vpc.flow_logs", "bad-vpc"): "fail",
        ("aws.ec2.sg_admin_ports", "good-sg"): "pass", ("aws.ec2.sg_admin_ports", "bad-sg"): "fail",
        ("aws.ec2.sg_admin_ports", "bad-open-sg"): "fail",
        ("aws.ec2.sg_high_risk_ports", "good-sg"): "pass", ("aws.ec2.sg_high_risk_ports", "bad-sg"): "fail",
        ("aws.ec2.sg_default_deny", "good-sg"): "pass", ("aws.ec2.sg_default_deny", "bad-sg"): "pass",
        ("aws.ec2.sg_default_deny", "bad-open-sg"): "fail",
        ("aws.ec2.nacl_admin_ports", ids["nacls"]["good"]): "pass",
        ("aws.ec2.nacl_admin_ports", ids["nacls"]["bad"]): "fail",
        ("aws.iam.console_mfa", "good-user"): "pass", ("aws.iam.console_mfa", "bad-user"): "fail",
        ("aws.iam.user_admin", "good-user"): "pass", ("aws.iam.user_admin", "bad-admin"): "fail",
        ("aws.iam.group_admin", "good-readers"): "pass", ("aws.iam.group_admin", "bad-admins"): "fail",
        ("aws.iam.role_admin", "good-role"): "pass", ("aws.iam.role_admin", "bad-role"): "fail",
        ("aws.iam.unused_credentials", "api-user"): "pass",
        ("aws.iam.shared_or_redundant_users", "good-user"): "pass", ("aws.iam.shared_or_redundant_users", "api-user"): "pass",
        ("aws.iam.shared_or_redundant_users", "bad-admin"): "pass", ("aws.iam.shared_or_redundant_users", "bad-user"): "fail",
        ("aws.iam.shared_or_redundant_users", "idle-user"): "fail", ("aws.iam.shared_or_redundant_users", "ops-team"): "fail",
        ("aws.ebs.volume_encrypted", "good-vol"): "pass", ("aws.ebs.volume_encrypted", "bad-vol"): "fail",
        ("aws.ebs.snapshot_encrypted", ids["snapshots"]["good"]): "pass",
        ("aws.ebs.snapshot_encrypted", ids["snapshots"]["bad"]): "fail",
        ("aws.ebs.snapshot_not_public", ids["snapshots"]["good"]): "pass",
        ("aws.ebs.snapshot_not_public", ids["snapshots"]["bad"]): "fail",
        ("aws.rds.storage_encrypted", "good-db"): "pass", ("aws.rds.storage_encrypted", "bad-db"): "fail",
        ("aws.rds.backup", "good-db"): "pass", ("aws.rds.backup", "bad-db"): "fail",
        ("aws.rds.multi_az", "good-db"): "pass", ("aws.rds.multi_az", "bad-db"): "fail",
        ("aws.rds.not_public", "good-db"): "pass", ("aws.rds.not_public", "bad-db"): "fail",
        ("aws.kms.rotation", ids["keys"]["good"]): "pass", ("aws.kms.rotation", ids["keys"]["bad"]): "fail",
        ("aws.elb.tls_policy", "good-alb"): "pass", ("aws.elb.tls_policy", "bad-alb"): "fail",
        ("aws.elb.waf", "good-alb"): "pass", ("aws.elb.waf", "bad-alb"): "fail",
        ("aws.wafv2.logging", "good-waf"): "pass", ("aws.wafv2.logging", "bad-waf"): "fail",
        # account level: compliant in cn-north-1, not in us-east-1
        ("aws.cloudtrail.multi_region", "123456789012"): "pass",
        ("aws.iam.password_policy", "123456789012"): "pass" if ok else "fail",
        ("aws.iam.root_mfa", "123456789012"): "fail",  # moto reports AccountMFAEnabled=0
        ("aws.iam.root_access_keys", "123456789012"): "pass",
        ("aws.account.china_partition", "123456789012"): "pass" if ok else "fail",
        ("aws.config.recording", estate["region"]): "pass" if ok else "fail",
        ("aws.guardduty.enabled", estate["region"]): "pass" if ok else "fail",
        ("aws.ebs.default_encryption", estate["region"]): "pass" if ok else "fail",
        # issue 15: zoning, boundary, management centre, off-site copies, data locations
        ("aws.vpc.address_plan", "good-vpc"): "pass", ("aws.vpc.address_plan", "bad-vpc"): "fail",
        ("aws.vpc.address_plan", "bad-overlap-vpc"): "fail",
        ("aws.ec2.outbound_restricted", "good-instance"): "pass", ("aws.ec2.outbound_restricted", "bad-instance"): "fail",
        ("aws.ec2.management_zone", "good-sg"): "pass", ("aws.ec2.management_zone", "good-bastion-sg"): "pass",
        ("aws.ec2.management_zone", "bad-sg"): "fail", ("aws.ec2.management_zone", "bad-open-sg"): "fail",
        ("aws.ec2.instance_security_groups", "good-instance"): "pass",
        ("aws.ec2.instance_security_groups", "bad-instance"): "fail",
        ("aws.wafv2.content_rules", "good-waf"): "pass", ("aws.wafv2.content_rules", "bad-waf"): "fail",
        ("aws.vpc.flow_log_fields", "good-vpc"): "pass", ("aws.vpc.flow_log_fields", "bad-vpc"): "fail",
        ("aws.vpc.dns_query_logging", "good-vpc"): "pass", ("aws.vpc.dns_query_logging", "bad-vpc"): "fail",
        ("aws.iam.role_policy_admin", "good-role"): "pass", ("aws.iam.role_policy_admin", "bad-iam-manager"): "fail",
        ("aws.iam.role_policy_admin", "bad-role"): "fail",
        ("aws.iam.user_policy_admin", "good-user"): "pass", ("aws.iam.user_policy_admin", "bad-admin"): "fail",
        ("aws.ssm.managed_instances", "good-instance"): "pass", ("aws.ssm.managed_instances", "bad-instance"): "fail",
        ("aws.ssm.patch_compliance", "good-instance"): "pass", ("aws.ssm.patch_compliance", "db-onprem"): "fail",
        ("aws.cloudwatch.instance_alarms", "good-instance"): "pass",
        ("aws.cloudwatch.instance_alarms", "bad-instance"): "fail",
        ("aws.ec2.image_provenance", "good-instance"): "pass", ("aws.ec2.image_provenance", "bad-instance"): "fail",
        ("aws.s3.replication", b["good"]): "pass", ("aws.s3.replication", b["dr"]): "pass",
        ("aws.s3.replication", b["bad"]): "fail",
        ("aws.rds.cross_region_copy", "good-db"): "pass", ("aws.rds.cross_region_copy", "bad-db"): "fail",
        ("aws.data.locations", "123456789012"): "pass",
        ("aws.iam.audit_admin", "123456789012"): "pass" if ok else "fail",
        ("aws.cloudtrail.security_alarms", "123456789012"): "pass" if ok else "fail",
        ("aws.ssm.session_logging", estate["region"]): "pass" if ok else "fail",
        ("aws.guardduty.findings_routed", estate["region"]): "pass" if ok else "fail",
        ("aws.guardduty.malware_protection", estate["region"]): "pass" if ok else "fail",
        ("aws.alerts.vm_launch", estate["region"]): "pass" if ok else "fail",
        ("aws.securityhub.enabled", estate["region"]): "pass" if ok else "fail",
    }
    wrong = {k: (v.get(k), want) for k, want in expect.items() if v.get(k) != want}
    assert not wrong, wrong
    assert ("aws.iam.console_mfa", "api-user") not in v  # no console password: nothing to judge
    assert not [k for k, s in v.items() if k[0].startswith("aws.") and s == "error"]


def test_level_2_recheck_judges_the_periodic_offsite_backup(estate, tmp_path):
    """Level 2 asks for periodic off-site backup (L2-CES1-20): AWS Backup copies to another region count beside
    S3 replication and RDS cross-region copies; re-checked offline from the level-3 bundle."""
    out = tmp_path / "l2"
    r = run_cli("check", str(estate["out"]), "--level", "2", "--out", str(out))
    assert r.returncode == 1, r.stderr
    v, ok, b = verdicts(out), estate["compliant"], estate["ids"]["buckets"]
    assert v[("aws.backup.offsite_copy", estate["region"])] == ("pass" if ok else "fail")
    assert v[("aws.s3.replication", b["good"])] == "pass" and v[("aws.s3.replication", b["bad"])] == "fail"
    assert v[("aws.rds.cross_region_copy", "good-db")] == "pass"
    findings = json.loads((out / "findings.json").read_text())
    backup = next(f for f in findings if f["check_id"] == "aws.backup.offsite_copy")
    assert backup["control_ids"] == ["L2-CES1-20"] and backup["message_zh"]
    if ok:
        assert "good-daily-offsite" in backup["message"] and "cn-northwest-1" in backup["message"]
    else:
        assert "bad-daily-local keeps its copies in the region" in backup["message"]


def test_partition_arns_and_scopes(estate):
    inv = load(estate["out"], "inventory.json")
    part, region = estate["partition"], estate["region"]
    arns = [a["id"] for a in inv["assets"] if a["id"].startswith("arn:")]
    assert arns and all(x.split(":")[1] == part for x in arns), [x for x in arns if x.split(":")[1] != part][:5]
    sgs = [a for a in inv["assets"] if a["type"] == "aws.ec2.security_group"]
    assert sgs and all(a["id"].startswith(f"arn:{part}:ec2:{region}:123456789012:security-group/sg-") for a in sgs)
    acct = next(a for a in inv["assets"] if a["type"] == "aws.account")
    assert acct["attributes"]["partition"] == part and acct["attributes"]["regions"] == [region]
    assert {a["scope"] for a in inv["assets"]} <= {"aws/acct/123456789012", f"aws/acct/123456789012/{region}"}
    assert all(c["status"] == "ok" for c in inv["coverage"]), [c for c in inv["coverage"] if c["status"] != "ok"]
    # every asset cites evidence that exists in the bundle
    ev = {p.stem for p in (estate["out"] / "evidence").glob("*.json")}
    assert all(a["evidence"] and set(a["evidence"]) <= ev for a in inv["assets"])


def test_api_calls_counted_and_readonly_policy_allows_every_call(estate):
    out = estate["out"]
    manifest = load(out, "manifest.json")
    recs = [json.loads(p.read_text()) for p in (out / "evidence").glob("*.json")]
    calls = next(r for r in recs if r["source"] == "mlps-scan:ApiCalls")["answer"]
    assert manifest["api_calls"]["aws"] == calls["total"] > 0
    policy = json.loads((ROOT / "deploy" / "aws" / "mlps-scan-readonly-policy.json").read_text())
    allowed = [a for st in policy["Statement"] if st["Effect"] == "Allow" for a in st["Action"]]
    assert all(a.split(":")[1].startswith(("List", "Describe", "Get", "Generate")) for a in allowed)
    bad = [op for op in calls["calls"]
           if not any(fnmatch.fnmatchcase(op, pat) for pat in allowed)
           or not op.split(":")[1].startswith(("List", "Describe", "Get", "Generate"))]
    assert not bad, f"operations outside the read-only policy: {bad}"
    # the member-role template an organisation deploys carries the same policy, so it allows them too
    import yaml
    template = yaml.safe_load((ROOT / "deploy" / "aws" / "mlps-scan-member-role.yaml").read_text())
    (inline,) = template["Resources"]["MlpsScanRole"]["Properties"]["Policies"]
    in_template = [a for st in inline["PolicyDocument"]["Statement"] if st["Effect"] == "Allow" for a in st["Action"]]
    assert not [op for op in calls["calls"] if not any(fnmatch.fnmatchcase(op, pat) for pat in in_template)]
    sources = {r["source"] for r in recs if not r["source"].startswith("mlps-scan:")}
    assert len(sources) >= 30


def test_bundle_passes_the_independent_checker(estate):
    r = check_bundle(estate["out"])
    assert r.returncode == 0, r.stdout + r.stderr


def test_replay_from_evidence_gives_the_same_inventory(estate):
    tmp = estate["tmp"]
    cfg = tmp / "replay.yaml"
    cfg.write_text(f"system: {{name: T, level: 3}}\nstatic:\n  - {{name: replay, path: {estate['out']}, format: evidence}}\n")
    out = tmp / "replay-out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--no-zip", "--quiet")
    assert r.returncode == 1, r.stderr
    a, b = load(estate["out"], "inventory.json"), load(out, "inventory.json")
    key = lambda x: json.dumps(x, sort_keys=True)  # noqa: E731
    assert sorted(map(key, a["assets"])) == sorted(map(key, b["assets"]))
    assert sorted(map(key, a["coverage"])) == sorted(map(key, b["coverage"]))
    fa = sorted((f["check_id"], f["resource_id"], f["status"]) for f in load(estate["out"], "findings.json"))
    fb = sorted((f["check_id"], f["resource_id"], f["status"]) for f in load(out, "findings.json"))
    assert fa == fb
