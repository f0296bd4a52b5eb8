"""AWS Organizations end to end on the moto server: accounts listed from the management account, a role
assumed in each member, scopes and findings naming the right account; members that fail (role missing,
timing out, services denied) cost only their own checks; credentials renewed before they expire; the shards
of an organisation merge into the unsharded scan."""
from __future__ import annotations

import fnmatch
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import ROOT, check_bundle, run_cli
from fixtures.aws import seed_region
from fixtures.aws_org import MemberBed, create_org
from test_aws_scan import load

pytestmark = pytest.mark.aws

REGION = "us-east-1"


def org_scan(tmp: Path, url: str, org: str, regions: list[str], *, extra: str = "", args: tuple = (), out: str = "out"):
    cfg = tmp / "scan.yaml"
    cfg.write_text(f"system: {{name: Group, level: 3}}\naws:\n  - name: group\n    regions: [{', '.join(regions)}]\n"
                   f"    organization: {org}\n{extra}")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp / out), "--no-zip", "--quiet", *args,
                env={"AWS_ENDPOINT_URL": url})
    return r, tmp / out


def by_scope(out: Path) -> dict[str, dict[tuple[str, str], str]]:
    """account -> {(check, resource): status}"""
    res: dict[str, dict] = {}
    for f in load(out, "findings.json"):
        parts = f["scope"].split("/")
        if parts[0] == "aws":
            res.setdefault(parts[2], {})[(f["check_id"], f["resource_id"])] = f["status"]
    return res


def public_bucket(bed, name: str, region: str = REGION) -> str:
    s3 = bed.client("s3", region)
    s3.create_bucket(Bucket=name, **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    part = "aws-cn" if region.startswith("cn-") else "aws"
    return f"arn:{part}:s3:::{name}"


def allowed_actions(*files: str) -> list[str]:
    acts = []
    for f in files:
        doc = json.loads((ROOT / "deploy" / "aws" / f).read_text())
        for st in doc["Statement"]:
            if st["Effect"] == "Allow":
                acts += st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
    return acts


def test_members_with_faults_cost_only_their_own_checks(moto_lean, org_fault_proxy, tmp_path):
    moto = moto_lean
    org = create_org(moto, REGION, 4)
    mgmt = org["management"]
    missing, slow, denied, ok = org["members"]
    arns = {mgmt: public_bucket(moto, "mgmt-open"),
            ok: public_bucket(MemberBed(moto, ok, REGION), "ok-open"),
            denied: public_bucket(MemberBed(moto, denied, REGION), "denied-open")}
    org_fault_proxy.deny_assume = {missing}
    org_fault_proxy.slow = {slow}
    org_fault_proxy.deny = {denied: {"DescribeTrails", "DescribeSecurityGroups"}}
    # held well past the read timeout, which is long enough that a busy shared test machine never reaches it
    org_fault_proxy.delay = 30
    r, out = org_scan(tmp_path, org_fault_proxy.url, "{role_name: MlpsScanReadOnly, external_id: grp-ext-1}", [REGION],
                      extra="    timeout_seconds: 20\n    parallel_accounts: 3\n")
    assert r.returncode == 3, r.stderr  # partial: some members could not be read
    # why, one line per account and cause (a member's failed services are named per region, not the account)
    assert "partial scan: evidence not collected:" in r.stderr
    lines = [x.strip() for x in r.stderr.splitlines() if x.startswith("  aws/")]
    assert any(x.startswith(f"aws/group {missing}: the role cannot be assumed: sts:AssumeRole: AccessDenied: User:")
               for x in lines), r.stderr
    assert any(x.startswith(f"aws/group {slow}: timed out") for x in lines), r.stderr
    assert not any(x.startswith(f"aws/group {a}") for a in (mgmt, ok) for x in lines), "\n".join(lines)
    assert not any(x.startswith(f"aws/group {denied}:") for x in lines), "\n".join(lines)
    assert any(x.startswith(f"aws/group {denied}/{REGION}: AccessDeniedException on cloudtrail:DescribeTrails")
               for x in lines), r.stderr

    v = by_scope(out)
    # the failed members: every AWS check that judged them says error, none passes or fails
    for acct in (missing, slow):
        assert v.get(acct) and set(v[acct].values()) == {"error"}, (acct, v.get(acct))
        assert ("aws.s3.not_public", f"aws/group/{acct}") in v[acct]
    # the member with denied services: those checks error, the rest of the account is judged
    assert {s for (c, _), s in v[denied].items() if c.startswith(("aws.cloudtrail.", "aws.ec2.sg_"))} == {"error"}
    assert v[denied][("aws.s3.not_public", arns[denied])] == "fail"
    # the others are judged, each finding in its own account's scope
    assert v[ok][("aws.s3.not_public", arns[ok])] == "fail"
    assert v[mgmt][("aws.s3.not_public", arns[mgmt])] == "fail"
    assert ("aws.s3.not_public", arns[ok]) not in v[mgmt] and ("aws.s3.not_public", arns[mgmt]) not in v[ok]
    inv = load(out, "inventory.json")
    accounts = {a["attributes"]["account_id"]: a["scope"] for a in inv["assets"] if a["type"] == "aws.account"}
    assert accounts == {a: f"aws/group/{a}" for a in (mgmt, ok, denied)}
    assert all(a["scope"].startswith(f"aws/group/{a['attributes']['account_id']}")
               for a in inv["assets"] if a["type"].startswith("aws.") and "account_id" in a["attributes"])

    # one AssumeRole per member (none for the scanner's own, management, account); no renewal storm
    assert dict(org_fault_proxy.assume_calls) == {missing: 1, slow: 1, denied: 1, ok: 1}
    recs = [json.loads(p.read_text()) for p in (out / "evidence").glob("*.json")]
    assume = {r["target"]: r for r in recs if r["source"] == "sts:AssumeRole"}
    assert assume[f"group/{missing}"]["status"] == "denied"
    assert assume[f"group/{ok}"]["request"]["params"] == {
        "RoleArn": f"arn:aws:iam::{ok}:role/MlpsScanReadOnly", "RoleSessionName": "mlps-scan",
        "DurationSeconds": 3600, "ExternalId": True}  # the external id itself is not recorded
    plan = next(r for r in recs if r["source"] == "mlps-scan:OrgPlan")["answer"]
    assert plan["members"] == sorted([mgmt, *org["members"]]) and plan["management_account"] == mgmt

    # every call of the scan is allowed: members by the read-only policy, the scanning side by its own
    member_ok = allowed_actions("mlps-scan-readonly-policy.json")
    scanner_ok = allowed_actions("mlps-scan-org-scanner-policy.json")
    for rec in (r for r in recs if r["source"] == "mlps-scan:ApiCalls"):
        allowed = scanner_ok if rec["target"] == "group" else member_ok
        bad = [op for op in rec["answer"]["calls"] if not any(fnmatch.fnmatchcase(op, p) for p in allowed)]
        assert not bad, (rec["target"], bad)
    calls = next(r for r in recs if r["source"] == "mlps-scan:ApiCalls" and r["target"] == "group")["answer"]["calls"]
    assert {"organizations:ListAccounts", "sts:AssumeRole"} <= set(calls)

    # nothing of the assumed sessions reaches the bundle
    blob = "".join(p.read_text() for p in out.rglob("*.json"))
    assert org_fault_proxy.keys and not any(k in blob for k in org_fault_proxy.keys)
    assert check_bundle(out).returncode == 0


def test_ous_named_accounts_and_exclusions(moto_lean, tmp_path):
    moto = moto_lean
    org = create_org(moto, REGION, 4, ous=2)  # members 0 and 2 in ou-0, 1 and 3 in ou-1
    o = moto.client("organizations", REGION)
    child = o.create_organizational_unit(ParentId=org["ous"][0], Name="child")["OrganizationalUnit"]["Id"]
    m0, m1, m2, m3 = org["members"]
    o.move_account(AccountId=m2, SourceParentId=org["ous"][0], DestinationParentId=child)
    arn = public_bucket(MemberBed(moto, m2, REGION), "in-child-ou")
    r, out = org_scan(tmp_path, moto.url, f"{{ous: [{org['ous'][0]}], accounts: ['{m0}', '{m1}', '{m2}', '999999999999'], "
                      f"exclude_accounts: ['{m0}']}}", [REGION])
    assert r.returncode == 3, r.stderr  # an account named in the config could not be scanned
    assert "aws/group 999999999999: account 999999999999 is named in organization.accounts but is not " \
           "an active account of the organisation" in r.stderr
    # m1 is named but outside the OU: also reported, never silently dropped
    assert f"  aws/group {m1}: account {m1} is named" in r.stderr
    inv = load(out, "inventory.json")
    assert {a["name"] for a in inv["assets"] if a["type"] == "aws.account"} == {m2}  # m0 excluded, m3 not named
    # walking the OU tree is allowed by the scanning side's policy
    calls = next(json.loads(p.read_text())["answer"]["calls"] for p in (out / "evidence").glob("*ApiCalls*.json")
                 if json.loads(p.read_text())["target"] == "group")
    assert {"organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent"} <= set(calls)
    scanner_ok = allowed_actions("mlps-scan-org-scanner-policy.json")
    assert all(any(fnmatch.fnmatchcase(op, p) for p in scanner_ok) for op in calls), calls
    assert by_scope(out)[m2][("aws.s3.not_public", arn)] == "fail"


def test_organisation_not_listable_is_error_not_an_empty_estate(moto_lean, tmp_path):
    moto = moto_lean
    # no organisation exists: ListAccounts answers AWSOrganizationsNotInUseException
    r, out = org_scan(tmp_path, moto.url, "{role_name: MlpsScanReadOnly}", [REGION])
    assert r.returncode == 3, r.stderr
    assert "  aws/group: the organisation's accounts could not be listed: organizations:" in r.stderr
    assert {f["status"] for f in load(out, "findings.json") if f["scope"].startswith("aws/")} == {"error"}


def test_member_credentials_renew_before_they_expire(moto_lean, tmp_path):
    moto = moto_lean
    from mlps_scan.collectors.aws.target import AwsTarget, Organization
    from mlps_scan.collectors.aws.org import member_session, plan, refresh_windows
    from mlps_scan.evidence import Recorder
    from mlps_scan.plugins import CollectSession

    org = create_org(moto, REGION, 1)
    member = org["members"][0]
    for duration, windows in ((3600, (900, 600)), (900, (225, 150))):
        assert refresh_windows(duration) == windows
        target = AwsTarget(name="g", regions=[REGION], organization=Organization(duration_seconds=duration))
        s = CollectSession("aws", "g", Recorder(tmp_path / str(duration)), base_dir=tmp_path)
        p = plan(target, s)
        assert p.members == sorted([org["management"], member]) and p.caller_account == org["management"]
        session = member_session(p.fetcher, member, target, s.sub(f"g/{member}"), p.partition, p.region)
        creds = session.get_credentials()
        first = creds.get_frozen_credentials().access_key
        assert creds.get_frozen_credentials().access_key == first  # fresh: used as they are
        assert p.fetcher.calls["sts:AssumeRole"] == 1
        # a long scan later, a minute before they expire: the next use renews them first
        creds._expiry_time = datetime.now(timezone.utc) + timedelta(seconds=60)
        renewed = creds.get_frozen_credentials().access_key
        assert renewed != first and p.fetcher.calls["sts:AssumeRole"] == 2
        assert session.client("sts", region_name=REGION).get_caller_identity()["Account"] == member


def test_organisation_shards_merge_into_the_unsharded_scan(moto_lean, tmp_path):
    moto = moto_lean
    region, other = "cn-north-1", "cn-northwest-1"
    seed_region(moto, region)  # the management account holds the mixed estate (a good and a bad one of each kind)
    iam = moto.client("iam", region)
    iam.update_account_password_policy(MinimumPasswordLength=6)
    iam.create_user(UserName="bad-user")
    iam.create_login_profile(UserName="bad-user", Password="Xx1!" + "a" * 12)
    org = create_org(moto, region, 1)
    m0 = org["members"][0]
    public_bucket(MemberBed(moto, m0, region), "m0-open", region)
    ec2 = MemberBed(moto, m0, region).client("ec2", other)
    sg = ec2.create_security_group(GroupName="m0-admin-open", Description="ssh open")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    spec = "{role_name: MlpsScanReadOnly}"
    r, whole = org_scan(tmp_path, moto.url, spec, [region, other], out="whole")
    assert r.returncode == 1, r.stderr
    shards = []
    for k in range(1, 4):  # 2 accounts x 2 regions in 3 shards: the management account's regions are split
        r, s = org_scan(tmp_path, moto.url, spec, [region, other], args=("--shard", f"{k}/3"), out=f"s{k}")
        assert r.returncode in (0, 1), r.stderr
        shards.append(s)
    covered = [load(s, "manifest.json")["shard"]["covered"] for s in shards]
    mg = org["management"]
    assert covered == [[f"aws/group/{mg}/{region}"], [f"aws/group/{mg}/{other}"],
                       [f"aws/group/{m0}/{region}", f"aws/group/{m0}/{other}"]]
    # the shard holding only a region of an account leaves the account-wide part to the other
    assert {a["type"] for a in load(shards[1], "inventory.json")["assets"]} & {"aws.account", "aws.iam.user", "aws.s3.bucket"} == set()
    assert not [c for c in load(shards[1], "inventory.json")["coverage"] if c["status"] != "ok"]
    out = tmp_path / "merged"
    r = run_cli("merge", *map(str, shards), "--out", str(out), "--quiet")
    assert r.returncode == 1, r.stderr

    def results(d):
        return (sorted((f["check_id"], f["resource_id"], f["scope"], f["status"], f["message"]) for f in load(d, "findings.json")),
                {c["control_id"]: c["status"] for c in load(d, "controls.json")})

    assert results(out) == results(whole)
    assert ("aws.ec2.sg_admin_ports", f"arn:aws-cn:ec2:{other}:{m0}:security-group/{sg}") in {
        (f["check_id"], f["resource_id"]) for f in load(out, "findings.json") if f["status"] == "fail"}
    assert run_cli("verify", str(out)).returncode == 0
    assert run_cli("check", str(out), "--quiet").returncode == 1
    assert check_bundle(out).returncode == 0
