"""Systems Manager of one region: the managed instances (agent online, platform) with their patch state
(missing, failed, pending-reboot patches and when the baseline was last scanned or installed), and the
Session Manager preferences (where sessions are logged)."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from mlps_scan.models import EvidenceRecord

from ..fetch import PATCH_STATE_BATCH, SESSION_PREFERENCES
from ..partition import arn
from .context import AccountEvidence, absent, days_since, ok, why

PATCH_COUNTS = ("MissingCount", "FailedCount", "InstalledPendingRebootCount", "InstalledRejectedCount",
                "CriticalNonCompliantCount", "SecurityNonCompliantCount", "InstalledCount")


def _when(value: Any) -> str | None:
    """A timestamp of a JSON-protocol answer (epoch seconds, or ISO text once recorded) as ISO-8601 UTC."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc).isoformat()
    return str(value)


def _patch_states(account: AccountEvidence, region: str, ids: list[str]) -> tuple[dict[str, dict], dict[str, str],
                                                                                    list[EvidenceRecord]]:
    """instance id -> patch state, instance id -> why its state could not be read, and the records."""
    states: dict[str, dict] = {}
    failed: dict[str, str] = {}
    records = []
    for start in range(0, len(ids), PATCH_STATE_BATCH):
        batch = ids[start:start + PATCH_STATE_BATCH]
        record = account.get("ssm:DescribeInstancePatchStates", region, {"InstanceIds": batch})
        if record is not None:
            records.append(record)
        if ok(record):
            for state in (record.answer or {}).get("InstancePatchStates", []):
                states[state.get("InstanceId")] = state
        else:
            failed.update({i: why(record, "ssm:DescribeInstancePatchStates") for i in batch})
    return states, failed, records


def derive_managed_instances(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.ssm.managed_instance"], scope, "ssm:DescribeInstanceInformation", region)
    if listing is None:
        return
    found = [x for x in (listing.answer or {}).get("InstanceInformationList", []) if x.get("InstanceId")]
    ids = sorted(x["InstanceId"] for x in found)
    states, failed, records = _patch_states(account, region, ids)
    for info in sorted(found, key=lambda x: x["InstanceId"]):
        instance_id = info["InstanceId"]
        attributes: dict[str, Any] = {
            "instance_id": instance_id, "ping_status": info.get("PingStatus"),
            "last_ping": _when(info.get("LastPingDateTime")),
            "last_ping_days": days_since(_when(info.get("LastPingDateTime")), account.now),
            "platform": info.get("PlatformName") or info.get("PlatformType"),
            "platform_version": info.get("PlatformVersion"), "agent_version": info.get("AgentVersion"),
            "resource_type": info.get("ResourceType"), "computer_name": info.get("ComputerName"),
            "ip_address": info.get("IPAddress")}
        errors: dict[str, str] = {}
        state = states.get(instance_id)
        if instance_id in failed:
            errors["patch_state"] = failed[instance_id]
        elif state is None:
            attributes["patch_state"] = None  # managed, but no patch scan has ever reported
        else:
            attributes["patch_state"] = {
                **{key: int(state.get(key) or 0) for key in PATCH_COUNTS},
                "operation": state.get("Operation"), "baseline_id": state.get("BaselineId"),
                "operation_end": _when(state.get("OperationEndTime")),
                "operation_end_days": days_since(_when(state.get("OperationEndTime")), account.now)}
        batch_record = next((r for r in records if instance_id in ((r.request or {}).get("params") or {}).get(
            "InstanceIds", [])), None)
        account.asset("aws.ssm.managed_instance",
                      arn(account.partition, "ssm", region, account.account_id, f"managed-instance/{instance_id}"),
                      scope, name=info.get("ComputerName") or instance_id, attributes=attributes, errors=errors,
                      evidence=[listing.id] + ([batch_record.id] if batch_record else []))


def session_logging(content: Any) -> dict[str, Any]:
    """Where the Session Manager preferences document sends session logs."""
    try:
        document = json.loads(content) if isinstance(content, str) else (content or {})
    except ValueError:
        document = {}
    inputs = (document or {}).get("inputs") or {}
    return {"s3_bucket": inputs.get("s3BucketName") or None,
            "cloudwatch_log_group": inputs.get("cloudWatchLogGroupName") or None,
            "s3_encryption": bool(inputs.get("s3EncryptionEnabled")),
            "cloudwatch_encryption": bool(inputs.get("cloudWatchEncryptionEnabled")),
            "kms_key_id": inputs.get("kmsKeyId") or None, "run_as_enabled": bool(inputs.get("runAsEnabled")),
            "idle_session_timeout": inputs.get("idleSessionTimeout"),
            "readable": isinstance(document, dict) and bool(document)}


def derive_session_preferences(account: AccountEvidence, region: str, scope: str) -> None:
    """The region's Session Manager preferences, one asset when they were saved (none: sessions are not
    logged anywhere)."""
    record = account.listed(["aws.ssm.session_preferences"], scope, "ssm:GetDocument", region,
                            {"Name": SESSION_PREFERENCES})
    if record is None or absent(record):
        return
    answer = record.answer or {}
    account.asset("aws.ssm.session_preferences",
                  arn(account.partition, "ssm", region, account.account_id, f"document/{SESSION_PREFERENCES}"), scope,
                  name=f"Session Manager preferences ({region})", evidence=[record.id],
                  attributes={"document": answer.get("Name"), "version": answer.get("DocumentVersion"),
                              **session_logging(answer.get("Content"))})
