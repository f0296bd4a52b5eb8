"""Assets and coverage from recorded AWS evidence alone (live scans and offline replay share this code).

Every list call expected for a region is looked up; a missing or failed one becomes an `error`/`denied`
coverage record for the asset types it would have produced, a `not_available` record when the service is
not offered there. A failed per-resource call becomes `asset.errors[<attribute>]`.

One module per service: `iam` (the account and IAM), `s3`, `vpc` (EC2 networking), `ec2` (instances, their
images, EBS, the region), `audit` (CloudTrail, CloudWatch Logs, Config), `guardduty`, `rds`, `kms`, `elb` (with
`waf`), `acm`, `ssm` (managed instances, patch state, Session Manager preferences), `backup` (AWS Backup
plans), `alerting` (metric filters, alarms, SNS topics, EventBridge rules), `securityhub`; `context` holds
what they share. Policy documents are judged in `..policy`. The steps run in a fixed
order, so the coverage records of a bundle read the same on every replay.
"""
from __future__ import annotations

from mlps_scan.models import EvidenceRecord, EvidenceStatus
from mlps_scan.plugins import CollectSession

from . import acm, alerting, audit, backup, ec2, elb, guardduty, iam, kms, rds, s3, securityhub, ssm, vpc
from .context import AccountEvidence, why


def derive(records: list[EvidenceRecord], session: CollectSession) -> None:
    aws_records = [r for r in records if r.collector == "aws"]
    if not aws_records:
        return
    account = AccountEvidence(aws_records, session)
    if not account.established:
        identity = account.index.first("sts:GetCallerIdentity")
        account.coverage("aws.*", account.account_scope, EvidenceStatus.error,
                         f"account scope not established: {why(identity, 'sts:GetCallerIdentity')}",
                         [identity.id] if identity else [])
        return
    for source, failed in account.index.by_source.items():
        if source.startswith("mlps-scan:task-failed"):
            for record in failed:
                account.coverage("aws.*", account.account_scope, EvidenceStatus.error,
                                 f"collector task failed: {record.error}", [record.id])
    iam.derive_account_and_iam(account)
    s3.derive_buckets(account)
    for region in account.regions:
        derive_region(account, region)


def derive_region(account: AccountEvidence, region: str) -> None:
    scope = account.region_scope(region)
    vpc.derive_network(account, region, scope)
    ec2.derive_compute_and_storage(account, region, scope)
    audit.derive_trails(account, region, scope)
    audit.derive_log_groups(account, region, scope)
    audit.derive_config_recorders(account, region, scope)
    guardduty.derive_detectors(account, region, scope)
    rds.derive_instances(account, region, scope)
    kms.derive_keys(account, region, scope)
    elb.derive_load_balancers(account, region, scope)
    acm.derive_certificates(account, region, scope)
    ssm.derive_managed_instances(account, region, scope)
    ssm.derive_session_preferences(account, region, scope)
    backup.derive_plans(account, region, scope)
    alerting.derive_metric_filters(account, region, scope)
    alerting.derive_alarms(account, region, scope)
    alerting.derive_topics(account, region, scope)
    alerting.derive_event_rules(account, region, scope)
    securityhub.derive_hub(account, region, scope)
