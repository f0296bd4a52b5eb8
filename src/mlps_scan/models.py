"""The data model of mlps-scan (pydantic v2).

Every file of an output bundle is one of these models serialised to JSON; `mlps-scan schemas`
regenerates the JSON Schemas under schemas/ from here.
"""
from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Strict(BaseModel):
    """Base for models read from files a user writes: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")


class Bilingual(Strict):
    en: str
    zh: str = ""


# --------------------------------------------------------------------------- catalogue


class Automation(str, Enum):
    automated = "automated"
    partial = "partial"
    manual = "manual"


class Control(Strict):
    """One GB/T 28448-2019 test item (测评单元) of the catalogue."""

    id: str = Field(pattern=r"^L[1-5]-[A-Z]{3}[1-5]-\d\d$")
    level: int = Field(ge=1, le=5)
    area: str
    extension: Literal["general", "cloud"]
    clause: str
    clause_basis: Literal["published", "derived"] = "derived"
    id_basis: Literal["published", "derived"]
    control_point: Bilingual
    title: Bilingual
    automation: Automation
    guidance: Bilingual | None = None


class Area(Strict):
    code: str
    kind: Literal["technical", "management"]
    en: str
    zh: str


# --------------------------------------------------------------------------- evidence and assets


class EvidenceStatus(str, Enum):
    ok = "ok"
    error = "error"  # the call failed: network, timeout, 5xx, parse error
    denied = "denied"  # no permission (AccessDenied, 403, auth failure)
    not_available = "not_available"  # the service/feature does not exist there (e.g. not in aws-cn)


class EvidenceRecord(BaseModel):
    """One raw observation, as written to evidence/<id>.json (answer already redacted)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    collector: str
    target: str
    source: str = Field(description="what was asked: API operation, command, file path")
    request: dict[str, Any] = Field(default_factory=dict)
    collected_at: datetime
    status: EvidenceStatus = EvidenceStatus.ok
    error: str | None = None
    answer: Any = None
    sha256: str = Field(description="sha256 of the canonical JSON of `answer` as stored")
    redactions: int = Field(0, description="how many values the recorder redacted from the answer")


class Asset(BaseModel):
    """A typed inventory item derived from evidence."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="e.g. aws.s3.bucket, host, k8s.namespace")
    id: str = Field(description="stable id: ARN, Kubernetes uid, host address")
    name: str | None = None
    scope: str = Field(description="collector/target path it belongs to, e.g. aws/prod/123456789012/cn-north-1")
    attributes: dict[str, Any] = Field(default_factory=dict)
    errors: dict[str, str] = Field(
        default_factory=dict,
        description="attribute -> why it could not be collected (denied, timeout...); checks reading it say error",
    )
    evidence: list[str] = Field(default_factory=list)


class Coverage(BaseModel):
    """Whether a kind of asset could be collected in a scope. This is what keeps missing evidence from
    looking like an empty (and so compliant) estate."""

    model_config = ConfigDict(extra="forbid")

    scope: str
    asset_type: str
    status: EvidenceStatus
    reason: str | None = None
    evidence: list[str] = Field(default_factory=list)


class Inventory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assets: list[Asset] = Field(default_factory=list)
    coverage: list[Coverage] = Field(default_factory=list)


# --------------------------------------------------------------------------- results


class FindingStatus(str, Enum):
    passed = "pass"
    fail = "fail"
    error = "error"
    not_applicable = "not_applicable"


class Finding(BaseModel):
    """One check's verdict on one resource. The keys up to `evidence` are the stable output contract."""

    model_config = ConfigDict(extra="forbid")

    check_id: str
    control_ids: list[str]
    status: FindingStatus
    resource_id: str
    resource_type: str
    message: str
    evidence: list[str] = Field(default_factory=list)
    scope: str = ""
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    title: Bilingual | None = None
    remediation: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ControlStatus(str, Enum):
    compliant = "compliant"
    non_compliant = "non_compliant"
    partial = "partial"
    error = "error"
    manual = "manual"


class ControlResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    control_id: str
    status: ControlStatus
    level: int
    area: str
    extension: str
    clause: str
    id_basis: str
    automation: Automation
    title: Bilingual
    control_point: Bilingual
    summary: str
    counts: dict[str, int] = Field(default_factory=dict)
    checks: list[str] = Field(default_factory=list)
    manual: Bilingual | None = Field(None, description="what a human must supply or confirm")


# --------------------------------------------------------------------------- profile


class Profile(Strict):
    """Thresholds a level demands. GB/T 22239 says 'complexity', 'periodically', 'timeout'; the numbers are
    assessors' conventions (see shared reference §3), except log retention (Cybersecurity Law Art. 21)."""

    name: str = "default"
    level: int = Field(3, ge=1, le=3)
    password_min_length: int = Field(8, ge=1, le=128)
    password_min_classes: int = Field(3, ge=1, le=4)
    password_max_age_days: int = Field(90, ge=1, le=3650)
    password_reuse_prevention: int = Field(3, ge=0, le=24)
    lockout_attempts: int = Field(5, ge=1, le=100)
    lockout_duration_seconds: int = Field(900, ge=0)
    idle_timeout_seconds: int = Field(600, ge=1)
    log_retention_days: int = Field(180, ge=1)
    unused_credential_days: int = Field(90, ge=1)
    min_tls_version: Literal["TLSv1.2", "TLSv1.3"] = "TLSv1.2"
    high_risk_ports: list[int] = Field(
        default_factory=lambda: [21, 23, 69, 111, 135, 137, 138, 139, 445, 512, 513, 514, 515, 873, 2049,
                                 3306, 1433, 5432, 3389, 5900, 5901, 6379, 11211, 27017]
    )
    admin_ports: list[int] = Field(default_factory=lambda: [22, 3389, 5985, 5986, 6443, 2379, 10250])
    management_cidrs: list[str] = Field(default_factory=list)
    trusted_registries: list[str] = Field(default_factory=list)
    require_disk_encryption: bool = False
    require_mfa: bool = True


# --------------------------------------------------------------------------- questionnaire (skeleton; issue 6)


class Questionnaire(BaseModel):
    model_config = ConfigDict(extra="allow")

    system: dict[str, Any] = Field(default_factory=dict)
    organisation: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    users: dict[str, Any] = Field(default_factory=dict)
    architecture: dict[str, Any] = Field(default_factory=dict)
    impact: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------- manifest


class ManifestFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    size: int
    sha256: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["mlps-scan-bundle/1"] = "mlps-scan-bundle/1"
    tool: str = "mlps-scan"
    tool_version: str
    system: str
    level: int | None
    started_at: datetime
    finished_at: datetime
    scope: list[str] = Field(default_factory=list, description="targets the scan covered")
    partial: bool = Field(False, description="true when some evidence could not be collected")
    api_calls: dict[str, int] = Field(default_factory=dict, description="calls made per collector")
    counts: dict[str, Any] = Field(default_factory=dict)
    signature: dict[str, str] | None = None
    files: list[ManifestFile]
