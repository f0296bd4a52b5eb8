"""What an AWS target is (one entry under `aws:` in scan.yaml) and what the collector knows of the AWS API
besides boto3's models: the error codes that mean "denied", and IAM actions named differently from their
API operation. Shared by the collector (validation) and the fetcher (calls), so neither imports the other."""
from __future__ import annotations

import os
import re

from pydantic import Field, field_validator

from mlps_scan.models import Strict

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
    "s3:GetBucketReplication": "s3:GetReplicationConfiguration",
    # CloudWatch signs as `monitoring`; its IAM actions are `cloudwatch:*`
    "cloudwatch:DescribeAlarms": "cloudwatch:DescribeAlarms",
    "s3control:GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
}


_ACCOUNT = re.compile(r"^\d{12}$")
_OU = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")


class Organization(Strict):
    """Scan the accounts of an AWS Organization: listed from the management (or a delegated administrator)
    account the target's credentials reach, each member through a role assumed in it."""

    role_name: str = Field("MlpsScanReadOnly", pattern=r"^[\w+=,.@-]{1,64}$",
                           description="the role every member has (deploy/aws/mlps-scan-member-role.yaml)")
    external_id: str | None = Field(None, min_length=2, max_length=1224, pattern=r"^[\w+=,.@:/-]+$",
                                    description="sts:ExternalId the member roles require")
    accounts: list[str] | None = Field(None, description="only these accounts (12 digits); default every active one")
    exclude_accounts: list[str] = Field(default_factory=list, description="accounts not to scan (the management "
                                                                          "account too, if listed here)")
    ous: list[str] | None = Field(None, description="only accounts under these OUs or roots (child OUs included)")
    session_name: str = Field("mlps-scan", pattern=r"^[\w+=,.@-]{2,64}$", description="RoleSessionName (CloudTrail)")
    duration_seconds: int = Field(3600, ge=900, le=43200,
                                  description="lifetime of each assumed-role session; refreshed before it ends")

    @field_validator("accounts", "exclude_accounts")
    @classmethod
    def _accounts(cls, v):
        for a in v or []:
            if not _ACCOUNT.match(str(a)):
                raise ValueError(f"{a!r} is not a 12-digit AWS account id")
        return None if v is None else list(dict.fromkeys(str(a) for a in v))

    @field_validator("ous")
    @classmethod
    def _ous(cls, v):
        for o in v or []:
            if not _OU.match(o):
                raise ValueError(f"{o!r} is not an organizational unit id (ou-...) or root id (r-...)")
        return v


def default_parallel_accounts() -> int:
    """Accounts scanned at once when the config does not say: API calls wait on the network, not the CPU,
    so four per core, at most 32 (each account runs its own bounded pool of `max_workers` calls)."""
    return max(2, min(32, 4 * (os.cpu_count() or 1)))


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
    max_workers: int = Field(8, ge=1, le=64, description="parallel API calls (per account)")
    timeout_seconds: float = Field(30, gt=0, le=600, description="connect and read timeout of each API call (s)")
    organization: Organization | None = Field(None, description="scan the accounts of an AWS Organization")
    parallel_accounts: int | None = Field(None, ge=1, le=256, description="organisation accounts scanned at once "
                                                                         "(default: 4 per CPU, at most 32)")

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
