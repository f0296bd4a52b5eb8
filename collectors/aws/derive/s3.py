"""S3: the account-level Block Public Access setting and every bucket with its encryption, logging,
versioning, TLS-only policy and whether it is public (judged in `..policy`)."""
from __future__ import annotations

from typing import Any, Callable

from mlps_scan.models import EvidenceRecord

from ..fetch import bucket_region
from ..partition import arn
from ..policy import UNKNOWN, acl_grants_public, allows_public, denies_insecure_transport, public_via
from .context import AccountEvidence, absent, ok, why

# the per-bucket answers, in the order their evidence is cited
BUCKET_CALLS = ("GetBucketEncryption", "GetPublicAccessBlock", "GetBucketLogging", "GetBucketVersioning",
                "GetBucketPolicy", "GetBucketAcl", "GetBucketReplication")
PUBLIC_INPUTS = ("public_access_block", "policy_public", "acl_public")


def account_public_access_block(account: AccountEvidence) -> tuple[EvidenceRecord | None, Any]:
    """(record, the account's PublicAccessBlockConfiguration, None when none is set, or UNKNOWN)."""
    record = account.get("s3control:GetPublicAccessBlock", account.global_region, {"AccountId": account.account_id})
    if not ok(record):
        return record, UNKNOWN
    return record, None if absent(record) else (record.answer or {}).get("PublicAccessBlockConfiguration")


def default_encryption(answer: Any) -> dict | None:
    if not answer:
        return None
    rules = ((answer.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or [])
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm"):
            return {"algorithm": default["SSEAlgorithm"], "kms_key_id": default.get("KMSMasterKeyID"),
                    "bucket_key": bool(rule.get("BucketKeyEnabled"))}
    return None


# attribute -> (the call answering it, how the answer reads; None = "not configured")
BUCKET_SETTINGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "encryption": ("GetBucketEncryption", default_encryption),
    "public_access_block": ("GetPublicAccessBlock",
                            lambda a: (a or {}).get("PublicAccessBlockConfiguration") if a else None),
    "logging": ("GetBucketLogging", lambda a: ((a or {}).get("LoggingEnabled") or {}).get("TargetBucket")),
    "versioning": ("GetBucketVersioning", lambda a: (a or {}).get("Status") or "Disabled"),
    "mfa_delete": ("GetBucketVersioning", lambda a: (a or {}).get("MFADelete") == "Enabled"),
    "tls_only": ("GetBucketPolicy", lambda a: denies_insecure_transport((a or {}).get("Policy")) if a else False),
    "policy_public": ("GetBucketPolicy", lambda a: allows_public((a or {}).get("Policy")) if a else False),
    "acl_public": ("GetBucketAcl", acl_grants_public),
    "replication": ("GetBucketReplication", lambda a: replication_rules(a)),
}


def replication_rules(answer: Any) -> list[dict]:
    """The bucket's enabled replication rules as {id, destination bucket (name), account, storage class}; []
    when replication is not configured."""
    rules = ((answer or {}).get("ReplicationConfiguration") or {}).get("Rules") or []
    out = []
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        destination = rule.get("Destination") or {}
        bucket_arn = str(destination.get("Bucket") or "")
        out.append({"id": rule.get("ID"), "destination": bucket_arn.rsplit(":", 1)[-1] or None,
                    "destination_account": destination.get("Account"),
                    "replication_time_control": (destination.get("ReplicationTime") or {}).get("Status") == "Enabled"})
    return out


def _log_buckets(account: AccountEvidence) -> tuple[set, set]:
    """(buckets CloudTrail writes to, buckets that receive S3 server access logs)."""
    trail_buckets = set()
    for record in account.index.by_source.get("cloudtrail:DescribeTrails", []):
        if ok(record):
            trail_buckets |= {t.get("S3BucketName") for t in (record.answer or {}).get("trailList", [])}
    logging_targets = set()
    for record in account.index.by_source.get("s3:GetBucketLogging", []):
        if ok(record):
            target = ((record.answer or {}).get("LoggingEnabled") or {}).get("TargetBucket")
            if target:
                logging_targets.add(target)
    return trail_buckets, logging_targets


def derive_buckets(account: AccountEvidence) -> None:
    listing = account.listed(["aws.s3.bucket"], account.account_scope, "s3:ListBuckets", account.global_region)
    if listing is None:
        return
    trail_buckets, logging_targets = _log_buckets(account)
    account_block = account_public_access_block(account)
    for bucket in (listing.answer or {}).get("Buckets", []):
        name = bucket["Name"]
        evidence = [listing.id]
        errors: dict[str, str] = {}
        region = bucket.get("BucketRegion") or _located_region(account, name, evidence, errors)
        answers = {call: account.get(f"s3:{call}", region, {"Bucket": name}) if region else None for call in BUCKET_CALLS}
        evidence += [r.id for r in answers.values() if r is not None]
        attributes: dict[str, Any] = {"name": name, "region": region,
                                      "log_bucket": name in trail_buckets or name in logging_targets,
                                      "cloudtrail_bucket": name in trail_buckets}
        for attribute, (call, read) in BUCKET_SETTINGS.items():
            record = answers[call]
            if ok(record):
                attributes[attribute] = read(None if absent(record) else record.answer)
            else:
                errors[attribute] = why(record, f"s3:{call}")
        if account_block[0] is not None:
            evidence.append(account_block[0].id)
        judge_public(attributes, errors, account_block)
        account.asset("aws.s3.bucket", arn(account.partition, "s3", "", "", name), account.account_scope, name=name,
                      attributes=attributes, errors=errors, evidence=evidence)


def _located_region(account: AccountEvidence, name: str, evidence: list[str], errors: dict[str, str]) -> str | None:
    """The bucket's region from GetBucketLocation (when ListBuckets did not say)."""
    location = account.get("s3:GetBucketLocation", account.global_region, {"Bucket": name})
    if ok(location):
        evidence.append(location.id)
        return bucket_region(location.answer, account.partition)
    errors["region"] = why(location, "s3:GetBucketLocation")
    return None


def judge_public(attributes: dict, errors: dict, account_block: tuple[EvidenceRecord | None, Any]) -> None:
    """`public` (and `public_via`) from the bucket's ACL, policy and both Block Public Access settings, or
    an error naming what could not be read."""
    block_record, block = account_block
    if any(k in errors for k in PUBLIC_INPUTS):
        errors["public"] = "; ".join(errors[k] for k in PUBLIC_INPUTS if k in errors)
        return
    via = public_via(attributes["acl_public"], attributes["policy_public"], attributes["public_access_block"], block)
    if via and block is UNKNOWN:
        # only the account-level block could still neutralise what the bucket exposes
        errors["public"] = ("public " + " and ".join(via) + " unless the account-level public access "
                            "block neutralises it: " + why(block_record, "s3control:GetPublicAccessBlock"))
    else:
        attributes["public"] = bool(via)
        attributes["public_via"] = via
