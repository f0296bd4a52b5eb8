"""KMS keys of one region: who manages them, their state and spec, and key rotation."""
from __future__ import annotations

from typing import Any

from ..partition import arn
from .context import AccountEvidence, ok, why


def derive_keys(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.kms.key"], scope, "kms:ListKeys", region)
    for key in (listing.answer or {}).get("Keys", []) if listing else []:
        key_id = key["KeyId"]
        key_arn = arn(account.partition, "kms", region, account.account_id, f"key/{key_id}")
        described = account.get("kms:DescribeKey", region, {"KeyId": key_id})
        rotation = account.get("kms:GetKeyRotationStatus", region, {"KeyId": key_id})
        attributes: dict[str, Any] = {"arn": key_arn, "key_id": key_id}
        errors: dict[str, str] = {}
        if ok(described):
            key_attributes(described.answer or {}, rotation, attributes, errors)
        else:
            errors["key_manager"] = errors["rotation_enabled"] = why(described, "kms:DescribeKey")
        account.asset("aws.kms.key", key_arn, scope, name=key_id, attributes=attributes, errors=errors,
                      evidence=[listing.id] + [x.id for x in (described, rotation) if x])


def key_attributes(answer: dict, rotation, attributes: dict, errors: dict) -> None:
    """Manager, state, spec and usage from DescribeKey; rotation where it applies (customer managed
    symmetric keys not pending deletion; AWS managed keys rotate yearly on their own)."""
    metadata = answer.get("KeyMetadata", {})
    attributes.update(key_manager=metadata.get("KeyManager"), key_state=metadata.get("KeyState"),
                      key_spec=metadata.get("KeySpec", "SYMMETRIC_DEFAULT"), key_usage=metadata.get("KeyUsage"),
                      origin=metadata.get("Origin"))
    rotatable = metadata.get("KeyManager") == "CUSTOMER" and attributes["key_spec"] == "SYMMETRIC_DEFAULT" \
        and metadata.get("KeyState") not in ("PendingDeletion", "PendingReplicaDeletion")
    if metadata.get("KeyManager") == "AWS":
        attributes["rotation_enabled"] = True  # AWS managed keys rotate automatically (yearly)
    elif not rotatable:
        attributes["rotation_enabled"] = None
    elif ok(rotation):
        attributes["rotation_enabled"] = bool((rotation.answer or {}).get("KeyRotationEnabled"))
    else:
        errors["rotation_enabled"] = why(rotation, "kms:GetKeyRotationStatus")
