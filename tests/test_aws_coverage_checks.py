"""The checks of issue #15 on hand-made AWS evidence (pure logic, no network): the cases moto cannot produce
(custom flow-log formats, count-only WAF rules, replication inside one region or to a bucket outside the scan,
egress through a transit gateway, a declared management zone, older GuardDuty answers, stale patch scans,
public or trusted images, services not offered in a region)."""
from __future__ import annotations

import json

import pytest

from mlps_scan.catalogue import load as load_catalogue
from mlps_scan.collectors.aws.policy import AUDIT_READ_ACTIONS, POLICY_WRITE_ACTIONS, allows_any
from mlps_scan.profile import build_profile
from mlps_scan.runner import evaluate

from test_aws_checks import G, base, rec, run

ACCT = "123456789012"
SCOPE = f"aws/acct/{ACCT}/{G}"


def recheck(inv, level=3, **profile):
    fs = evaluate(inv, level, build_profile(level, profile or None), load_catalogue())
    names = {a.id: a.name for a in inv.assets}
    return {(f.check_id, names.get(f.resource_id, f.resource_id)): (f.status.value, f.message) for f in fs}


def vpc_records(flow_logs, query_logs=None):
    return [rec("ec2:DescribeVpcs", {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.1.0.0/16",
                                               "Tags": [{"Key": "Name", "Value": "shop"}]}]}),
            rec("ec2:DescribeFlowLogs", {"FlowLogs": flow_logs}),
            rec("route53resolver:ListResolverQueryLogConfigAssociations",
                query_logs if query_logs is not None else {"ResolverQueryLogConfigAssociations": []})]


@pytest.mark.parametrize("fmt, status", [
    (None, "pass"),  # the default format
    ("${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${action}", "pass"),
    ("${srcaddr} ${dstaddr} ${bytes}", "fail"),
])
def test_flow_log_records_need_time_parties_type_and_outcome(fmt, status):
    log = {"FlowLogId": "fl-1", "ResourceId": "vpc-1", "FlowLogStatus": "ACTIVE", "TrafficType": "ALL"}
    if fmt:
        log["LogFormat"] = fmt
    _, v = run(base() + vpc_records([log]))
    got = v[("aws.vpc.flow_log_fields", "shop")]
    assert got[0] == status, got
    if status == "fail":
        assert "start, end" in got[1] and "dstport, protocol, action" in got[1]


def test_dns_query_logging_not_offered_is_not_applicable_and_unreadable_is_error():
    records = base() + vpc_records([])[:2] + [rec("route53resolver:ListResolverQueryLogConfigAssociations",
                                                 status="not_available", error="route53resolver is not offered")]
    _, v = run(records)
    assert v[("aws.vpc.dns_query_logging", "shop")][0] == "not_applicable"
    records = base() + vpc_records([])[:2] + [rec("route53resolver:ListResolverQueryLogConfigAssociations",
                                                 status="denied", error="AccessDeniedException: no")]
    _, v = run(records)
    assert v[("aws.vpc.dns_query_logging", "shop")][0] == "error"
    _, v = run(base() + vpc_records([], {"ResolverQueryLogConfigAssociations": [{"ResourceId": "vpc-1",
                                                                                 "Status": "ACTIVE"}]}))
    assert v[("aws.vpc.dns_query_logging", "shop")][0] == "pass"


def web_acl_records(rules):
    acl = {"Name": "edge", "Id": "1", "ARN": f"arn:aws-cn:wafv2:{G}:{ACCT}:regional/webacl/edge/1"}
    p = {"Scope": "REGIONAL", "Limit": 100}
    return [rec("wafv2:ListWebACLs", {"WebACLs": [acl]}, params=p),
            rec("wafv2:ListLoggingConfigurations", {"LoggingConfigurations": []}, params=p),
            rec("wafv2:GetWebACL", {"WebACL": {**acl, "DefaultAction": {"Allow": {}}, "Rules": rules}},
                params={"Name": "edge", "Scope": "REGIONAL", "Id": "1"})]


MANAGED = {"Name": "common", "Priority": 0, "OverrideAction": {"None": {}},
           "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesSQLiRuleSet"}}}


@pytest.mark.parametrize("rules, status, needle", [
    ([MANAGED], "pass", "AWS/AWSManagedRulesSQLiRuleSet"),
    ([{**MANAGED, "OverrideAction": {"Count": {}}}], "fail", "none blocking"),
    ([{"Name": "geo", "Priority": 1, "Action": {"Count": {}}, "Statement": {"GeoMatchStatement": {}}}], "fail",
     "none blocking"),
    ([{"Name": "bad-ua", "Priority": 1, "Action": {"Block": {}}, "Statement": {"ByteMatchStatement": {}}}], "pass",
     "bad-ua"),
    ([], "fail", "no rule"),
])
def test_waf_content_rules(rules, status, needle):
    _, v = run(base() + web_acl_records(rules))
    got = v[("aws.wafv2.content_rules", "edge")]
    assert got[0] == status and needle in got[1], got


def test_waf_rules_unreadable_is_error():
    records = base() + web_acl_records([])[:2] + [rec("wafv2:GetWebACL", status="denied", error="AccessDenied: no",
                                                      params={"Name": "edge", "Scope": "REGIONAL", "Id": "1"})]
    _, v = run(records)
    assert v[("aws.wafv2.content_rules", "edge")][0] == "error"


def bucket(name, region, replication=None):
    p = {"Bucket": name}
    return [rec("s3:GetBucketReplication", {"ReplicationConfiguration": {"Rules": replication}} if replication
                else {"Absent": "ReplicationConfigurationNotFoundError"}, params=p, region=region)]


def rule_to(dest):
    return [{"ID": "r", "Status": "Enabled", "Destination": {"Bucket": f"arn:aws-cn:s3:::{dest}"}}]


def test_s3_replication_must_leave_the_region_and_name_a_known_bucket():
    listing = rec("s3:ListBuckets", {"Buckets": [{"Name": n, "BucketRegion": r} for n, r in (
        ("src", G), ("same", G), ("dr", "cn-northwest-1"), ("to-outside", G), ("plain", G))]})
    records = base() + [listing] + bucket("src", G, rule_to("dr")) + bucket("same", G, rule_to("src")) \
        + bucket("dr", "cn-northwest-1") + bucket("to-outside", G, rule_to("partner-bucket")) + bucket("plain", G)
    _, v = run(records)
    assert v[("aws.s3.replication", "src")] == ("pass", "replicated to dr (cn-northwest-1)")
    assert v[("aws.s3.replication", "dr")][0] == "pass" and "replica of src" in v[("aws.s3.replication", "dr")][1]
    assert v[("aws.s3.replication", "same")][0] == "fail" and "not off-site" in v[("aws.s3.replication", "same")][1]
    assert v[("aws.s3.replication", "to-outside")][0] == "error"
    assert v[("aws.s3.replication", "plain")][0] == "fail"


def test_rds_copies_in_another_region_count_either_way():
    db = lambda ident, **kw: {"DBInstanceIdentifier": ident, "Engine": "mysql", "BackupRetentionPeriod": 7, **kw}  # noqa: E731
    other = f"arn:aws-cn:rds:cn-northwest-1:{ACCT}"
    records = base() + [rec("rds:DescribeDBInstances", {"DBInstances": [
        db("replicated", ReadReplicaDBInstanceIdentifiers=[f"{other}:db:replicated-dr"]),
        db("local-replica", ReadReplicaDBInstanceIdentifiers=["local-replica-2"]),
        db("backups", DBInstanceAutomatedBackupsReplications=[{"DBInstanceAutomatedBackupsArn": f"{other}:auto-backup:ab-1"}]),
        db("replica", ReadReplicaSourceDBInstanceIdentifier=f"{other}:db:primary"),
        db("alone")]})]
    _, v = run(records)
    got = {n: v[("aws.rds.cross_region_copy", n)][0] for n in ("replicated", "local-replica", "backups", "replica", "alone")}
    assert got == {"replicated": "pass", "local-replica": "fail", "backups": "pass", "replica": "pass", "alone": "fail"}


def network(route_target: str, public_ip: str | None, egress: list):
    routes = [{"DestinationCidrBlock": "10.1.0.0/16", "GatewayId": "local", "State": "active"}]
    key = "GatewayId" if route_target.startswith("igw-") else "NatGatewayId" if route_target.startswith("nat-") \
        else "TransitGatewayId"
    routes.append({"DestinationCidrBlock": "0.0.0.0/0", key: route_target, "State": "active"})
    instance = {"InstanceId": "i-1", "State": {"Name": "running"}, "VpcId": "vpc-1", "SubnetId": "subnet-1",
                "ImageId": "ami-1", "SecurityGroups": [{"GroupId": "sg-1"}],
                "Tags": [{"Key": "Name", "Value": "app"}], **({"PublicIpAddress": public_ip} if public_ip else {})}
    return [rec("ec2:DescribeSubnets", {"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.1.1.0/24"}]}),
            rec("ec2:DescribeRouteTables", {"RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Routes": routes,
                                                             "Associations": [{"SubnetId": "subnet-1"}]}]}),
            rec("ec2:DescribeSecurityGroups", {"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "app", "VpcId": "vpc-1",
                                                                   "IpPermissions": [], "IpPermissionsEgress": egress}]}),
            rec("ec2:DescribeInstances", {"Reservations": [{"Instances": [instance]}]})]


ALL_OUT = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
HTTPS_OUT = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]


@pytest.mark.parametrize("target, ip, egress, status, needle", [
    ("nat-1", None, ALL_OUT, "fail", "NAT gateway nat-1"),
    ("nat-1", None, HTTPS_OUT, "pass", "only on the egress"),
    ("igw-1", "198.51.100.7", ALL_OUT, "fail", "public address 198.51.100.7"),
    ("igw-1", None, ALL_OUT, "pass", "no public address"),
    ("tgw-1", None, ALL_OUT, "pass", "transit gateway tgw-1"),
])
def test_outbound_connections_of_an_instance(target, ip, egress, status, needle):
    _, v = run(base() + network(target, ip, egress))
    got = v[("aws.ec2.outbound_restricted", "app")]
    assert got[0] == status and needle in got[1], got


def test_management_zone_is_the_profile_s_management_cidrs_or_a_group():
    admin = [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.9.1.0/24"}]}]
    records = base() + [rec("ec2:DescribeSecurityGroups", {"SecurityGroups": [
        {"GroupId": "sg-1", "GroupName": "ops", "VpcId": "vpc-1", "IpPermissions": admin, "IpPermissionsEgress": []}]})]
    inv, v = run(records)
    got = v[("aws.ec2.management_zone", "ops")]
    assert got[0] == "fail" and "no management zone declared" in got[1]
    assert recheck(inv, management_cidrs=["10.9.0.0/16"])[("aws.ec2.management_zone", "ops")][0] == "pass"
    assert recheck(inv, management_cidrs=["10.8.0.0/16"])[("aws.ec2.management_zone", "ops")][0] == "fail"


def detector(answer):
    return [rec("guardduty:ListDetectors", {"DetectorIds": ["d1"]}),
            rec("guardduty:GetDetector", {"Status": "ENABLED", **answer}, params={"DetectorId": "d1"})]


@pytest.mark.parametrize("answer, status", [
    ({"Features": [{"Name": "EBS_MALWARE_PROTECTION", "Status": "ENABLED"}]}, "pass"),
    ({"Features": [{"Name": "EBS_MALWARE_PROTECTION", "Status": "DISABLED"}]}, "fail"),
    # an older answer without Features: the DataSources say it
    ({"DataSources": {"MalwareProtection": {"ScanEc2InstanceWithFindings": {"EbsVolumes": {"Status": "ENABLED"}}}}}, "pass"),
    ({}, "fail"),
])
def test_malware_protection_from_features_or_data_sources(answer, status):
    _, v = run(base() + detector(answer))
    assert v[("aws.guardduty.malware_protection", G)][0] == status


def test_services_not_offered_are_not_applicable_with_their_reason():
    na = lambda source, **kw: rec(source, status="not_available", error=f"{source.split(':')[0]} is not offered in {G}", **kw)  # noqa: E731
    records = base() + [na("securityhub:DescribeHub"), na("ssm:GetDocument"), na("backup:ListBackupPlans"),
                        na("guardduty:ListDetectors"), rec("events:ListRules", {"Rules": []}),
                        rec("sns:ListSubscriptions", {"Subscriptions": []}),
                        rec("ec2:DescribeInstances", {"Reservations": [{"Instances": [
                            {"InstanceId": "i-1", "State": {"Name": "running"}}]}]})]
    _, v = run(records)
    for check_id in ("aws.securityhub.enabled", "aws.ssm.session_logging", "aws.guardduty.malware_protection",
                     "aws.guardduty.findings_routed"):
        assert v[(check_id, G)][0] == "not_applicable", check_id
    _, v2 = run(records, level=2)
    assert v2[("aws.backup.offsite_copy", G)][0] == "not_applicable"


def test_session_preferences_absent_or_without_a_destination_fail():
    instances = rec("ec2:DescribeInstances", {"Reservations": [{"Instances": [{"InstanceId": "i-1", "State": {"Name": "running"}}]}]})
    doc = {"Name": "SSM-SessionManagerRunShell"}
    _, v = run(base() + [instances, rec("ssm:GetDocument", {"Absent": "InvalidDocument"}, params=doc)])
    assert v[("aws.ssm.session_logging", G)][0] == "fail"
    content = json.dumps({"inputs": {"s3BucketName": "", "cloudWatchLogGroupName": ""}})
    _, v = run(base() + [instances, rec("ssm:GetDocument", {"Name": doc["Name"], "Content": content}, params=doc)])
    assert v[("aws.ssm.session_logging", G)][0] == "fail" and "no S3 bucket" in v[("aws.ssm.session_logging", G)][1]
    content = json.dumps({"inputs": {"cloudWatchLogGroupName": "/ssm/sessions"}})
    _, v = run(base() + [instances, rec("ssm:GetDocument", {"Name": doc["Name"], "Content": content}, params=doc)])
    assert v[("aws.ssm.session_logging", G)] == ("pass", "sessions logged to log group /ssm/sessions")


def managed(patch_state):
    ids = {"InstanceIds": ["i-1"]}
    return [rec("ssm:DescribeInstanceInformation", {"InstanceInformationList": [
        {"InstanceId": "i-1", "PingStatus": "Online", "ComputerName": "app"}]}),
        rec("ssm:DescribeInstancePatchStates", {"InstancePatchStates": [patch_state] if patch_state else []}, params=ids)]


def test_patch_compliance_wants_a_recent_clean_scan():
    end = "2026-11-20T00:00:00+00:00"  # 8 days before the evidence (test_aws_checks.NOW)
    clean = {"InstanceId": "i-1", "Operation": "Scan", "MissingCount": 0, "FailedCount": 0, "OperationEndTime": end}
    inv, v = run(base() + managed(clean))
    assert v[("aws.ssm.patch_compliance", "app")][0] == "pass"
    assert recheck(inv, patch_scan_max_age_days=7)[("aws.ssm.patch_compliance", "app")][0] == "fail"
    _, v = run(base() + managed({**clean, "InstalledPendingRebootCount": 2}))
    assert "2 installed pending reboot" in v[("aws.ssm.patch_compliance", "app")][1]
    _, v = run(base() + managed(None))
    assert v[("aws.ssm.patch_compliance", "app")][0] == "fail"  # never scanned
    failed_batch = managed(clean)[:1] + [rec("ssm:DescribeInstancePatchStates", status="error", error="ThrottlingException",
                                             params={"InstanceIds": ["i-1"]})]
    _, v = run(base() + failed_batch)
    assert v[("aws.ssm.patch_compliance", "app")][0] == "error"


def images(image):
    inst = {"InstanceId": "i-1", "State": {"Name": "running"}, "ImageId": "ami-1", "Tags": [{"Key": "Name", "Value": "app"}]}
    return [rec("ec2:DescribeInstances", {"Reservations": [{"Instances": [inst]}]}),
            rec("ec2:DescribeImages", {"Images": [image] if image else []},
                params={"Filters": [{"Name": "image-id", "Values": ["ami-1"]}]})]


def test_image_provenance():
    own = {"ImageId": "ami-1", "OwnerId": ACCT, "Name": "golden", "Public": False}
    inv, v = run(base() + images(own))
    assert v[("aws.ec2.image_provenance", "app")][0] == "pass"
    _, v = run(base() + images({**own, "Public": True}))
    assert v[("aws.ec2.image_provenance", "app")][0] == "fail" and "public" in v[("aws.ec2.image_provenance", "app")][1]
    vendor = {"ImageId": "ami-1", "OwnerId": "141808717104", "ImageOwnerAlias": "amazon", "Name": "al2023", "Public": True}
    inv, v = run(base() + images(vendor))
    assert v[("aws.ec2.image_provenance", "app")][0] == "fail"
    assert recheck(inv, trusted_image_owners=["amazon"])[("aws.ec2.image_provenance", "app")][0] == "pass"
    _, v = run(base() + images(None))
    assert v[("aws.ec2.image_provenance", "app")][0] == "fail"  # deregistered: provenance cannot be shown
    denied = images(own)[:1] + [rec("ec2:DescribeImages", status="denied", error="UnauthorizedOperation: no",
                                    params={"Filters": [{"Name": "image-id", "Values": ["ami-1"]}]})]
    _, v = run(base() + denied)
    assert v[("aws.ec2.image_provenance", "app")][0] == "error"


def test_rule_targets_unreadable_is_error_not_silence():
    rules = {"Rules": [{"Name": "gd", "State": "ENABLED", "EventPattern": json.dumps({"source": ["aws.guardduty"]})}]}
    records = base() + detector({"Features": []}) + [
        rec("events:ListRules", rules), rec("events:ListTargetsByRule", status="denied", error="AccessDenied: no",
                                            params={"Rule": "gd"})]
    _, v = run(records)
    assert v[("aws.guardduty.findings_routed", G)][0] == "error"
    topic = f"arn:aws-cn:sns:{G}:{ACCT}:soc"
    ok = base() + detector({"Features": []}) + [
        rec("events:ListRules", rules), rec("events:ListTargetsByRule", {"Targets": [{"Id": "1", "Arn": topic}]},
                                            params={"Rule": "gd"}),
        rec("sns:ListSubscriptions", {"Subscriptions": [{"TopicArn": topic, "SubscriptionArn": "PendingConfirmation",
                                                         "Protocol": "email"}]})]
    _, v = run(ok)
    got = v[("aws.guardduty.findings_routed", G)]
    assert got[0] == "fail" and "no confirmed subscription (1 pending)" in got[1]


@pytest.mark.parametrize("document, granted", [
    ({"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}, len(POLICY_WRITE_ACTIONS)),
    ({"Statement": [{"Effect": "Allow", "Action": ["iam:Put*Policy"], "Resource": "*"}]}, 3),
    ({"Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}, 0),
    ({"Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}, 0),
    ({"Statement": [{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}]}, 0),
])
def test_policy_write_actions_granted(document, granted):
    assert len(allows_any(document, POLICY_WRITE_ACTIONS)) == granted
    assert allows_any({"Statement": [{"Effect": "Allow", "Action": "cloudtrail:Lookup*"}]}, AUDIT_READ_ACTIONS) == \
        ["cloudtrail:LookupEvents"]
