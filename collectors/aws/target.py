"""What an AWS target is (one entry under `aws:` in scan.yaml) and what the collector knows of the AWS API
besides boto3's models: the error codes that mean "denied", and IAM actions named differently from their
API operation. Shared by the collector (validation) and the fetcher (calls), so neither imports the other."""
from __future__ import annotations

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
    timeout_seconds: float = Field(30, gt=0, le=600, description="connect and read timeout of each API call (s)")

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
