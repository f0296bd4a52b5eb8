"""AWS derive + checks on hand-made evidence records (pure logic, no network): what moto cannot produce
(old credentials, a service not offered in a region, a failed per-resource call, the root row)."""
from __future__ import annotations

from datetime import datetime, timezone

from mlps_scan.catalogue import load as load_catalogue
from mlps_scan.evidence import Recorder
from mlps_scan.models import EvidenceRecord, Inventory
from mlps_scan.plugins import CollectSession, collectors
from mlps_scan.profile import build_profile
from mlps_scan.runner import evaluate

NOW = datetime(2026, 11, 28, tzinfo=timezone.utc)
G = "cn-north-1"


def rec(source, answer=None, *, params=None, region=G, status="ok", error=None, n=[0]):
    n[0] += 1
    return EvidenceRecord(id=f"aws.t.{n[0]}", collector="aws", target="acct", source=source,
                          request={} if source.startswith("mlps-scan:") else {"region": region, "params": params or {}},
                          collected_at=NOW, status=status, error=error, answer=answer, sha256="0" * 64)


def base(**over):
    r = {
        "scope": rec("mlps-scan:ScanScope", {"account_id": "123456789012", "partition": "aws-cn", "regions": [G],
                                             "regions_source": "config", "global_region": G}),
        "ident": rec("sts:GetCallerIdentity", {"Account": "123456789012", "Arn": "arn:aws-cn:iam::123456789012:user/x"}),
    }
    r.update(over)
    return [x for x in r.values() if x is not None]


def run(records, level=3):
    import tempfile
    from pathlib import Path
    s = CollectSession("aws", "acct", Recorder(Path(tempfile.mkdtemp())), base_dir=Path("."))
    collectors()["aws"]().derive(records, s)
    inv = Inventory(assets=s.assets, coverage=s.coverage_records)
    fs = evaluate(inv, level, build_profile(level), load_catalogue())
    names = {a.id: a.name for a in inv.assets}
    return inv, {(f.check_id, names.get(f.resource_id, f.resource_id)): (f.status.value, f.message) for f in fs}


REPORT = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
          "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
          "access_key_1_last_used_date,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date\n"
          "<root_account>,arn:aws-cn:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-01T00:00:00+00:00,"
          "not_supported,not_supported,true,false,N/A,N/A,false,N/A,N/A\n"
          "old,arn:aws-cn:iam::123456789012:user/old,2024-01-01T00:00:00+00:00,true,2025-01-01T00:00:00+00:00,"
          "2024-01-01T00:00:00+00:00,N/A,true,true,2024-01-01T00:00:00+00:00,N/A,false,N/A,N/A\n"
          "fresh,arn:aws-cn:iam::123456789012:user/fresh,2024-01-01T00:00:00+00:00,true,2026-11-20T00:00:00+00:00,"
          "2026-10-01T00:00:00+00:00,N/A,true,true,2026-10-01T00:00:00+00:00,2026-11-27T00:00:00+00:00,false,N/A,N/A\n")

AUTH = {"UserDetailList": [
    {"UserName": u, "Arn": f"arn:aws-cn:iam::123456789012:user/{u}", "CreateDate": "2024-01-01T00:00:00+00:00",
     "AttachedManagedPolicies": [], "UserPolicyList": [], "GroupList": []} for u in ("old", "fresh")],
    "GroupDetailList": [], "RoleDetailList": [], "Policies": []}


def iam_records():
    return [rec("iam:GetCredentialReport", {"Content": REPORT}),
            rec("iam:GetAccountAuthorizationDetails", AUTH, params={"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]}),
            rec("iam:GetAccountSummary", {"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1}}),
            rec("iam:GetAccountPasswordPolicy", {"Absent": "NoSuchEntity"}),
            rec("iam:ListAccessKeys", {"AccessKeyMetadata": [{"AccessKeyId": "AKIA************ABCD", "Status": "Active"}]},
                params={"UserName": "old"})]


def test_stale_credentials_root_keys_and_missing_password_policy():
    inv, v = run(base() + iam_records())
    assert v[("aws.iam.unused_credentials", "old")][0] == "fail"
    assert "never used" in v[("aws.iam.unused_credentials", "old")][1]
    assert "last used 696 days ago" in v[("aws.iam.unused_credentials", "old")][1]
    assert v[("aws.iam.unused_credentials", "fresh")][0] == "pass"
    assert v[("aws.iam.root_access_keys", "123456789012")][0] == "fail"
    assert v[("aws.iam.root_mfa", "123456789012")][0] == "pass"
    assert v[("aws.iam.password_policy", "123456789012")][0] == "fail"
    acct = next(a for a in inv.assets if a.type == "aws.account")
    assert acct.attributes["password_policy"] is None
    assert acct.attributes["root_password_last_used_days"] == 27
    old = next(a for a in inv.assets if a.name == "old")
    assert old.attributes["access_keys"][0]["id"] == "AKIA************ABCD"


def test_service_not_offered_is_not_applicable_with_reason():
    records = base() + [rec("guardduty:ListDetectors", status="not_available",
                            error="guardduty is not offered in cn-north-1 (aws-cn partition)")]
    inv, v = run(records)
    cov = [c for c in inv.coverage if c.asset_type == "aws.guardduty.detector"]
    assert [c.status.value for c in cov] == ["not_available"]
    status, msg = v[("aws.guardduty.enabled", G)]
    assert status == "not_applicable" and "not offered in cn-north-1" in msg


def test_missing_and_failed_calls_are_errors_never_passes():
    bucket_p = {"Bucket": "b1"}
    records = base() + [
        rec("s3:ListBuckets", {"Buckets": [{"Name": "b1", "BucketRegion": G}]}),
        rec("s3:GetBucketEncryption", status="error", error="InternalError: boom", params=bucket_p),
        rec("s3:GetBucketVersioning", {"Status": "Enabled"}, params=bucket_p),
        # GetPublicAccessBlock, GetBucketPolicy, GetBucketAcl, GetBucketLogging: never recorded
        rec("iam:GetAccountAuthorizationDetails", status="denied", error="AccessDenied: no",
            params={"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]}),
    ]
    inv, v = run(records)
    assert v[("aws.s3.encryption", "b1")][0] == "error" and "boom" in v[("aws.s3.encryption", "b1")][1]
    assert v[("aws.s3.versioning", "b1")][0] == "pass"
    for c in ("aws.s3.not_public", "aws.s3.tls_only"):
        assert v[(c, "b1")][0] == "error", c
    # IAM users could not be listed: the user checks report the scope as error; nothing passes
    assert v[("aws.iam.user_admin", "aws/acct/123456789012")][0] == "error"
    # regional list calls that never ran (task lost) are errors too, not an empty, compliant region
    assert v[("aws.guardduty.enabled", G)][0] == "error"
    assert v[("aws.vpc.flow_logs", f"aws/acct/123456789012/{G}")][0] == "error"
    assert not [k for k, (s, _) in v.items() if s == "pass" and k[0] not in ("aws.s3.versioning", "aws.account.china_partition")]


def test_nacl_rule_order_and_tls_policy_names():
    from mlps_scan.checks._aws import nacl_open_ports, tls_policy_ok, world_open_ports
    entries = [{"rule_number": 100, "egress": False, "action": "allow", "protocol": "all", "cidr": "0.0.0.0/0"},
               {"rule_number": 10, "egress": False, "action": "deny", "protocol": "tcp", "cidr": "0.0.0.0/0",
                "from_port": 22, "to_port": 22}]
    assert nacl_open_ports(entries, [22, 3389]) == ["3389 (rule 100 from 0.0.0.0/0)"]
    assert world_open_ports([{"protocol": "tcp", "from_port": 20, "to_port": 25, "cidrs": ["::/0"]}], [22, 23]) == \
        ["22/tcp from ::/0", "23/tcp from ::/0"]
    assert tls_policy_ok("ELBSecurityPolicy-TLS13-1-2-2021-06") and tls_policy_ok("ELBSecurityPolicy-FS-1-2-Res-2020-10")
    assert not tls_policy_ok("ELBSecurityPolicy-2016-08") and not tls_policy_ok("ELBSecurityPolicy-TLS-1-1-2017-01")
    assert not tls_policy_ok("ELBSecurityPolicy-TLS13-1-0-2021-06")


def _db(ident, days):
    return {"DBInstanceIdentifier": ident, "Engine": "mysql", "BackupRetentionPeriod": days, "StorageEncrypted": True}


def test_rds_backup_needs_the_profile_retention_not_just_one_day():
    records = base() + [rec("rds:DescribeDBInstances", {"DBInstances": [
        _db("off", 0), _db("one-day", 1), _db("six", 6), _db("week", 7), _db("month", 30)]})]
    inv, v = run(records)
    assert {n: v[("aws.rds.backup", n)][0] for n in ("off", "one-day", "six", "week", "month")} == \
        {"off": "fail", "one-day": "fail", "six": "fail", "week": "pass", "month": "pass"}
    assert "kept 1 day, below the required 7" in v[("aws.rds.backup", "one-day")][1]
    assert "at least 7 required" in v[("aws.rds.backup", "week")][1]
    # a consultant's profile raises the bar
    fs = evaluate(inv, 3, build_profile(3, {"rds_backup_retention_days": 14}), load_catalogue())
    names = {a.id: a.name for a in inv.assets}
    got = {names[f.resource_id]: (f.status.value, f.message) for f in fs if f.check_id == "aws.rds.backup"}
    assert got["week"][0] == "fail" and "below the required 14" in got["week"][1]
    assert got["month"] == ("pass", "automated backups kept 30 days (at least 14 required)")
    assert build_profile(1).rds_backup_retention_days == 7


PUBLIC_READ = {"Owner": {"ID": "o"}, "Grants": [
    {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]}
PRIVATE = {"Owner": {"ID": "o"}, "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "o"}, "Permission": "FULL_CONTROL"}]}
ALLOW_ALL = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws-cn:s3:::b/*"}]}


def bucket_records(name, *, acl=PRIVATE, policy=None, pab=None):
    p = {"Bucket": name}
    return [rec("s3:GetBucketAcl", acl, params=p),
            rec("s3:GetBucketPolicy", {"Policy": __import__("json").dumps(policy)} if policy else {"Absent": "NoSuchBucketPolicy"},
                params=p),
            rec("s3:GetPublicAccessBlock", {"PublicAccessBlockConfiguration": pab} if pab else
                {"Absent": "NoSuchPublicAccessBlockConfiguration"}, params=p)]


def pab(**on):
    return {k: k in on for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}


def s3_estate(account_pab, buckets: dict):
    acct = ([rec("s3control:GetPublicAccessBlock", {"PublicAccessBlockConfiguration": account_pab} if account_pab
                 else {"Absent": "NoSuchPublicAccessBlockConfiguration"}, params={"AccountId": "123456789012"})]
            if account_pab is not False else [])
    records = base() + acct + [rec("s3:ListBuckets", {"Buckets": [{"Name": n, "BucketRegion": G} for n in buckets]})]
    for n, kw in buckets.items():
        records += bucket_records(n, **kw)
    return run(records)


def test_s3_public_acl_needs_ignore_public_acls_and_policy_needs_restrict_public_buckets():
    inv, v = s3_estate(None, {
        "acl-block-only": {"acl": PUBLIC_READ, "pab": pab(BlockPublicAcls=1)},          # old grant still works
        "acl-ignored": {"acl": PUBLIC_READ, "pab": pab(IgnorePublicAcls=1)},
        "policy-block-only": {"policy": ALLOW_ALL, "pab": pab(BlockPublicPolicy=1, BlockPublicAcls=1)},
        "policy-restricted": {"policy": ALLOW_ALL, "pab": pab(RestrictPublicBuckets=1)},
        "both-all-four": {"acl": PUBLIC_READ, "policy": ALLOW_ALL,
                          "pab": pab(BlockPublicAcls=1, IgnorePublicAcls=1, BlockPublicPolicy=1, RestrictPublicBuckets=1)},
        "private": {},
    })
    got = {n: v[("aws.s3.not_public", n)][0] for n in
           ("acl-block-only", "acl-ignored", "policy-block-only", "policy-restricted", "both-all-four", "private")}
    assert got == {"acl-block-only": "fail", "acl-ignored": "pass", "policy-block-only": "fail",
                   "policy-restricted": "pass", "both-all-four": "pass", "private": "pass"}
    assert "IgnorePublicAcls off" in v[("aws.s3.not_public", "acl-block-only")][1]
    assert "RestrictPublicBuckets off" in v[("aws.s3.not_public", "policy-block-only")][1]
    assert "ignored: IgnorePublicAcls" in v[("aws.s3.not_public", "acl-ignored")][1]
    acct = next(a for a in inv.assets if a.type == "aws.account")
    assert acct.attributes["public_access_block"] is None


def test_s3_account_level_block_counts_and_unreadable_account_block_is_error_only_where_it_matters():
    # the account's IgnorePublicAcls covers every bucket; its BlockPublicPolicy alone covers nothing existing
    inv, v = s3_estate(pab(IgnorePublicAcls=1, BlockPublicPolicy=1), {
        "acl": {"acl": PUBLIC_READ}, "policy": {"policy": ALLOW_ALL}, "private": {}})
    assert v[("aws.s3.not_public", "acl")][0] == "pass"
    assert v[("aws.s3.not_public", "policy")][0] == "fail"
    acct = next(a for a in inv.assets if a.type == "aws.account")
    assert acct.attributes["public_access_block"]["IgnorePublicAcls"] is True
    # account setting denied: a bucket that is private anyway still passes; an exposed one cannot be judged
    denied = rec("s3control:GetPublicAccessBlock", status="denied", error="AccessDenied: no",
                 params={"AccountId": "123456789012"})
    records = base() + [denied, rec("s3:ListBuckets", {"Buckets": [{"Name": n, "BucketRegion": G} for n in ("acl", "private")]})]
    records += bucket_records("acl", acl=PUBLIC_READ) + bucket_records("private")
    inv, v = run(records)
    assert v[("aws.s3.not_public", "private")][0] == "pass"
    status, msg = v[("aws.s3.not_public", "acl")]
    assert status == "error" and "account-level public access block" in msg and "AccessDenied" in msg
    # evidence recorded before the account setting was collected: the same, never a pass for an exposed bucket
    inv, v = s3_estate(False, {"acl": {"acl": PUBLIC_READ}, "private": {}})
    assert v[("aws.s3.not_public", "private")][0] == "pass" and v[("aws.s3.not_public", "acl")][0] == "error"


def test_shared_and_redundant_user_signals():
    report = REPORT + (
        "ops-team,arn:aws-cn:iam::123456789012:user/ops-team,2024-01-01T00:00:00+00:00,true,2026-11-20T00:00:00+00:00,"
        "2026-10-01T00:00:00+00:00,N/A,true,false,N/A,N/A,false,N/A,N/A\n"
        "ghost,arn:aws-cn:iam::123456789012:user/ghost,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,"
        "false,2025-01-01T00:00:00+00:00,N/A,false,N/A,N/A\n"
        "twokeys,arn:aws-cn:iam::123456789012:user/twokeys,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,"
        "true,2026-10-01T00:00:00+00:00,2026-11-27T00:00:00+00:00,true,2026-11-01T00:00:00+00:00,2026-11-26T00:00:00+00:00\n")
    auth = {**AUTH, "UserDetailList": AUTH["UserDetailList"] + [
        {"UserName": u, "Arn": f"arn:aws-cn:iam::123456789012:user/{u}", "CreateDate": "2024-01-01T00:00:00+00:00",
         "AttachedManagedPolicies": [], "UserPolicyList": [], "GroupList": []} for u in ("ops-team", "ghost", "twokeys")]}
    recs = iam_records()
    recs[0] = rec("iam:GetCredentialReport", {"Content": report})
    recs[1] = rec("iam:GetAccountAuthorizationDetails", auth, params={"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]})
    _, v = run(base() + recs)
    got = {u: v[("aws.iam.shared_or_redundant_users", u)] for u in ("fresh", "ops-team", "ghost", "twokeys")}
    assert got["fresh"][0] == "pass"
    from mlps_scan.checks.aws_iam import _shared_name
    assert [n for n in ("admin", "ops-team", "shared_dev2", "alice-admin", "zhang.wei", "tom.test") if _shared_name(n)] == \
        ["admin", "ops-team", "shared_dev2"]
    assert got["ops-team"][0] == "fail" and "role or team" in got["ops-team"][1]
    assert got["ghost"][0] == "fail" and "redundant" in got["ghost"][1]  # its only key is inactive
    assert got["twokeys"][0] == "fail" and "2 active access keys" in got["twokeys"][1]
    # no credential report: the verdict is an error, never a pass
    _, v = run(base() + [r for r in iam_records() if r.source != "iam:GetCredentialReport"])
    assert v[("aws.iam.shared_or_redundant_users", "fresh")][0] == "error"


def _alb_records():
    lb = "arn:aws-cn:elasticloadbalancing:cn-north-1:123456789012:loadbalancer/app/web/1"
    return lb, [rec("elbv2:DescribeLoadBalancers", {"LoadBalancers": [
        {"LoadBalancerArn": lb, "LoadBalancerName": "web", "Type": "application", "Scheme": "internet-facing"}]}),
        rec("elbv2:DescribeListeners", {"Listeners": []}, params={"LoadBalancerArn": lb})]


def test_waf_not_offered_is_not_applicable_and_broken_pagination_is_an_error():
    W = {"Scope": "REGIONAL", "Limit": 100}
    lb, lbs = _alb_records()
    # not offered: the fetcher records the list call without params
    _, v = run(base() + lbs + [rec("wafv2:ListWebACLs", None, params={}, status="not_available",
                                   error="wafv2 is not offered in cn-north-1 (aws-cn partition)")])
    assert v[("aws.elb.waf", "web")][0] == "not_applicable"
    acl = {"Name": "edge", "Id": "1", "ARN": "arn:aws-cn:wafv2:cn-north-1:123456789012:regional/webacl/edge/1"}
    # a marker that comes round again: the list is incomplete, never "no WAF"
    loop = [rec("wafv2:ListWebACLs", {"WebACLs": [acl], "NextMarker": "m1"}, params=W),
            rec("wafv2:ListWebACLs", {"WebACLs": [acl], "NextMarker": "m1"}, params={**W, "NextMarker": "m1"})]
    inv, v = run(base() + lbs + loop)
    assert v[("aws.elb.waf", "web")][0] == "error" and "repeated" in v[("aws.elb.waf", "web")][1]
    assert any(c.asset_type == "aws.wafv2.web_acl" and c.status == "error" for c in inv.coverage)
    # the second page was never recorded
    _, v = run(base() + lbs + [rec("wafv2:ListWebACLs", {"WebACLs": [acl], "NextMarker": "m2"}, params=W)])
    assert v[("aws.elb.waf", "web")][0] == "error"
    # complete: one page, the ALB guarded by it, logging listed
    ok = [rec("wafv2:ListWebACLs", {"WebACLs": [acl]}, params=W),
          rec("wafv2:ListLoggingConfigurations", {"LoggingConfigurations": [{"ResourceArn": acl["ARN"]}]}, params=W),
          rec("wafv2:GetWebACLForResource", {"WebACL": acl}, params={"ResourceArn": lb})]
    _, v = run(base() + lbs + ok)
    assert v[("aws.elb.waf", "web")] == ("pass", "guarded by web ACL edge")
    assert v[("aws.wafv2.logging", "edge")][0] == "pass"
