"""Audit logging of one region: CloudTrail trails (status, management events), CloudWatch Logs log groups
(retention, encryption) and AWS Config recorders."""
from __future__ import annotations

from ..partition import arn
from .context import AccountEvidence, ok, why


def management_events(answer: dict) -> str | None:
    """'All', 'ReadOnly', 'WriteOnly' or None, from classic or advanced event selectors."""
    for selector in answer.get("EventSelectors") or []:
        if selector.get("IncludeManagementEvents", True):
            return selector.get("ReadWriteType", "All")
    for selector in answer.get("AdvancedEventSelectors") or []:
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
        category = fields.get("eventCategory") or {}
        if "Management" in (category.get("Equals") or []):
            read_only = fields.get("readOnly")
            if not read_only:
                return "All"
            return "ReadOnly" if "true" in (read_only.get("Equals") or []) else "WriteOnly"
    return None


def derive_trails(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.cloudtrail.trail"], scope, "cloudtrail:DescribeTrails", region,
                             {"includeShadowTrails": False})
    if listing is None:
        return
    for trail in (listing.answer or {}).get("trailList", []):
        trail_arn = trail.get("TrailARN") or arn(account.partition, "cloudtrail", region, account.account_id,
                                                 f"trail/{trail.get('Name')}")
        status = account.get("cloudtrail:GetTrailStatus", region, {"Name": trail_arn})
        selectors = account.get("cloudtrail:GetEventSelectors", region, {"TrailName": trail_arn})
        attributes = {"arn": trail_arn, "home_region": trail.get("HomeRegion", region),
                      "multi_region": bool(trail.get("IsMultiRegionTrail")),
                      "log_file_validation": bool(trail.get("LogFileValidationEnabled")),
                      "kms_key_id": trail.get("KmsKeyId"), "s3_bucket": trail.get("S3BucketName"),
                      "cloudwatch_log_group": trail.get("CloudWatchLogsLogGroupArn"),
                      "global_service_events": bool(trail.get("IncludeGlobalServiceEvents")),
                      "organization_trail": bool(trail.get("IsOrganizationTrail"))}
        errors = {}
        if ok(status):
            attributes["logging"] = bool((status.answer or {}).get("IsLogging"))
        else:
            errors["logging"] = why(status, "cloudtrail:GetTrailStatus")
        if ok(selectors):
            attributes["management_events"] = management_events(selectors.answer or {})
        else:
            errors["management_events"] = why(selectors, "cloudtrail:GetEventSelectors")
        account.asset("aws.cloudtrail.trail", trail_arn, scope, name=trail.get("Name"), attributes=attributes,
                      errors=errors, evidence=[listing.id] + [x.id for x in (status, selectors) if x])


def derive_log_groups(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.logs.log_group"], scope, "logs:DescribeLogGroups", region)
    for group in (listing.answer or {}).get("logGroups", []) if listing else []:
        name = group["logGroupName"]
        group_arn = arn(account.partition, "logs", region, account.account_id, f"log-group:{name}")
        account.asset("aws.logs.log_group", group_arn, scope, name=name, evidence=[listing.id],
                      attributes={"arn": group_arn, "retention_days": group.get("retentionInDays"),
                                  "kms_key_id": group.get("kmsKeyId")})


def derive_config_recorders(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.config.recorder"], scope, "config:DescribeConfigurationRecorders", region)
    status_record = account.get("config:DescribeConfigurationRecorderStatus", region)
    statuses = ({x.get("name"): x for x in (status_record.answer or {}).get("ConfigurationRecordersStatus", [])}
                if ok(status_record) else {})
    for recorder in (listing.answer or {}).get("ConfigurationRecorders", []) if listing else []:
        name = recorder.get("name", "default")
        group = recorder.get("recordingGroup") or {}
        attributes = {"all_supported": bool(group.get("allSupported")),
                      "include_global_resource_types": bool(group.get("includeGlobalResourceTypes"))}
        errors = {}
        if ok(status_record):
            attributes["recording"] = bool((statuses.get(name) or {}).get("recording"))
            attributes["last_status"] = (statuses.get(name) or {}).get("lastStatus")
        else:
            errors["recording"] = why(status_record, "config:DescribeConfigurationRecorderStatus")
        account.asset("aws.config.recorder",
                      arn(account.partition, "config", region, account.account_id, f"config-recorder/{name}"), scope,
                      name=name, attributes=attributes, errors=errors,
                      evidence=[listing.id] + ([status_record.id] if status_record else []))
