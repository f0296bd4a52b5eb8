"""AWS collector (boto3): one account per target, global partition (`aws`) or China (`aws-cn`).

`collect()` only fetches and records: every API answer (all pages merged) becomes one evidence record with
source `<service>:<Operation>` and request `{"region": ..., "params": ...}`. The assets and coverage are then
built by `derive()` from those recorded (redacted) answers alone, so a bundle's evidence replays offline into
the same inventory (static `format: evidence`).

Speed: every list call is paginated, the calls of all regions x services run in one bounded thread pool
(follow-up calls such as per-trail status are queued as they become known), botocore's adaptive retry mode
handles throttling, and no per-resource call is made where a list call already answers. A `before-call` hook
on the collector's own boto3 session counts every API call (`session.count_call`) and records which
operations were called (evidence source `mlps-scan:ApiCalls`): the read-only policy test reads it.
"""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from mlps_scan.errors import InputError
from mlps_scan.models import Strict
from mlps_scan.plugins import CollectSession, Collector

from .partition import partition_of_arn, partition_of_region

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")

# error codes meaning "you may not" (denied) rather than "it failed" (error)
DENIED_CODES = {
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError",
    "UnauthorizedAccess", "NotAuthorized", "AuthFailure", "InvalidClientTokenId", "UnrecognizedClientException",
    "OptInRequired", "SubscriptionRequiredException", "SignatureDoesNotMatch", "ExpiredToken",
    "AccessDeniedForDependencyException",
}

# IAM actions whose name differs from the API operation (everything else is <signing name>:<Operation>)
ACTION_OVERRIDES = {
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3control:GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
}


class AwsTarget(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                      description="target name (used in scopes: aws/<name>/<account>/<region>)")
    profile: str | None = Field(None, description="AWS CLI profile (default: the standard credential chain)")
    role_arn: str | None = Field(None, pattern=r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]+$",
                                 description="role to assume for the scan")
    external_id: str | None = Field(None, min_length=2, max_length=1224, pattern=r"^[\w+=,.@:/-]+$")
    regions: list[str] | None = Field(None, description="regions to scan; omitted = every enabled region")
    endpoint_url: str | None = Field(None, pattern=r"^https?://[^\s]+$",
                                     description="custom endpoint (else AWS_ENDPOINT_URL as boto3 reads it)")
    max_workers: int = Field(8, ge=1, le=64, description="parallel API calls")

    @field_validator("regions")
    @classmethod
    def _regions(cls, v):
        if v is None:
            return v
        if not v:
            raise ValueError("list at least one region, or omit regions to scan every enabled region")
        for r in v:
            if not _REGION.match(r):
                raise ValueError(f"{r!r} is not an AWS region name")
        return list(dict.fromkeys(v))


class AwsCollector(Collector):
    name = "aws"
    config_key = "aws"
    target_model = AwsTarget
    description = "AWS accounts (global and China partition) through boto3, read-only"
    asset_patterns = ("aws.*",)
    extensions = ("cloud",)  # an AWS account makes the system a cloud service customer (云计算扩展要求)

    def target_name(self, target: AwsTarget) -> str:
        return target.name

    def validate_target(self, target: AwsTarget, base_dir: Path) -> None:
        if target.external_id and not target.role_arn:
            raise InputError(f"aws target {target.name}: external_id needs role_arn")
        if target.regions:
            parts = {partition_of_region(r) for r in target.regions}
            if len(parts) > 1:
                raise InputError(f"aws target {target.name}: regions mix partitions ({', '.join(sorted(parts))}); "
                                 "one target scans one partition")
            if target.role_arn and partition_of_arn(target.role_arn) not in parts:
                raise InputError(f"aws target {target.name}: role_arn is in partition "
                                 f"{partition_of_arn(target.role_arn)} but regions are in {parts.pop()}")
        if target.profile:
            import boto3
            if target.profile not in boto3.session.Session().available_profiles:
                raise InputError(f"aws target {target.name}: profile {target.profile!r} not found in the AWS config files")

    def collect(self, target: AwsTarget, session: CollectSession) -> None:
        from .fetch import Fetcher
        Fetcher(target, session).run()
        self.derive(_records_of(session), session)  # one code path: assets come from the recorded evidence

    def derive(self, records, session: CollectSession) -> None:
        from .derive import derive
        derive(records, session)


def _records_of(session: CollectSession):
    """The records this target wrote in this scan (read back as stored: redacted)."""
    from mlps_scan.evidence import EvidenceStore
    store = EvidenceStore(session.recorder.root)
    out = []
    for ev_id, (coll, _src, _st) in list(session.recorder.index.items()):
        if coll != "aws":
            continue
        rec = store.get(ev_id)
        if rec.target == session.target:
            out.append(rec)
    return out
