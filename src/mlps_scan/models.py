"""The data model of mlps-scan (pydantic v2).

Every file of an output bundle is one of these models serialised to JSON; `mlps-scan schemas`
regenerates the JSON Schemas under schemas/ from here.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
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
    rds_backup_retention_days: int = Field(7, ge=1, le=35, description="RDS automated backups kept at least this long "
                                                                      "(AWS allows 1-35 days)")
    malware_signature_max_age_days: int = Field(30, ge=1, le=3650, description="anti-malware signatures at most this old")
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


# --------------------------------------------------------------------------- questionnaire (issue 6)
# The client questionnaire (stage 1). Strict: unknown keys, wrong types and out-of-range values are errors
# that name their YAML path. Prefilled entries (architecture) carry `source`: the evidence ids they came from.

Degree = Literal["none", "general", "serious", "particularly_serious"]
"""Harm to one object: none (not harmed), 一般损害, 严重损害, 特别严重损害."""


class Meta(Strict):
    kind: Literal["mlps-scan/questionnaire"] = "mlps-scan/questionnaire"
    version: Literal[1] = 1
    generated_at: datetime | None = None
    prefilled_from: "PrefillSource | None" = None


class PrefillSource(Strict):
    bundle: str = Field(description="path of the bundle the architecture was read from")
    manifest_sha256: str
    system: str
    scanned_at: datetime


class Organisation(Strict):
    name: str | None = None
    industry: str | None = None
    competent_authority: str | None = Field(None, description="行业主管部门, if any")
    security_officer: str | None = Field(None, description="role/name responsible for cybersecurity")
    operations_location: str | None = Field(None, description="where security management/operations sit (filing PSB)")


class SystemSection(Strict):
    name: str | None = None
    purpose: str | None = None
    business_description: str | None = None
    deployment: Literal["cloud", "on_premises", "hybrid"] | None = None
    go_live_date: date | None = None
    service_hours: Literal["24x7", "business_hours", "other"] | None = None
    max_tolerable_downtime_hours: float | None = Field(None, ge=0, le=8760)
    filing_date: date | None = Field(None, description="备案 date, if already filed")
    current_level: int | None = Field(None, ge=1, le=5)
    last_assessment_date: date | None = None


class DataCategory(Strict):
    collected: bool | None = None
    records: int | None = Field(None, ge=0, description="approximate number of records / individuals")
    kinds: list[str] = Field(default_factory=list, description="e.g. name, phone, ID number, bank account")


class DataSection(Strict):
    personal_information: DataCategory = Field(default_factory=DataCategory)
    sensitive_personal_information: DataCategory = Field(default_factory=DataCategory)
    important_data: DataCategory = Field(default_factory=DataCategory)
    total_volume_gb: float | None = Field(None, ge=0)
    cross_border_transfer: bool | None = None


class UsersSection(Strict):
    internal: int | None = Field(None, ge=0, description="staff and contractors with accounts")
    external: int | None = Field(None, ge=0, description="customers / public users")
    peak_concurrent: int | None = Field(None, ge=0)
    public_access: bool | None = Field(None, description="reachable from the internet by the public")


class Harm(Strict):
    """For one aspect: the degree of harm to each object. A list = the client could not decide between
    these degrees (the grade takes the highest); null = not answered yet."""

    citizens_legal_persons: Degree | list[Degree] | None = None
    social_order_public_interest: Degree | list[Degree] | None = None
    national_security: Degree | list[Degree] | None = None
    rationale: str | None = None


class ImpactSection(Strict):
    business_information: Harm = Field(default_factory=Harm, description="业务信息安全: information leaked, altered, lost")
    system_service: Harm = Field(default_factory=Harm, description="系统服务安全: service unavailable or degraded")


class Prefilled(Strict):
    source: list[str] = Field(min_length=1, description="evidence ids this entry was read from")
    scope: str | None = None


class CloudAccount(Prefilled):
    id: str
    partition: str | None = None
    regions: list[str] = Field(default_factory=list)


class NetworkZone(Prefilled):
    kind: str = Field(description="vpc, subnet, k8s_namespace, firewall_zone, ...")
    id: str
    name: str | None = None
    cidr: str | None = None
    public: bool | None = None
    detail: str | None = None


class Endpoint(Prefilled):
    kind: str = Field(description="public_ip, load_balancer, open_security_group, host_service, k8s_service, ...")
    id: str
    name: str | None = None
    address: str | None = None
    ports: list[str] = Field(default_factory=list)
    detail: str | None = None


class HostEntry(Prefilled):
    kind: str = Field(description="host, ec2_instance")
    id: str
    name: str | None = None
    os: str | None = None
    detail: str | None = None


class ClusterEntry(Prefilled):
    id: str
    name: str | None = None
    version: str | None = None
    platform: str | None = None
    node_count: int | None = Field(None, ge=0)
    namespaces: int | None = Field(None, ge=0)
    exposed_services: list[str] = Field(default_factory=list)


class DataStore(Prefilled):
    kind: str = Field(description="rds, s3, ebs_volume, ebs_snapshot, ...")
    id: str
    name: str | None = None
    engine: str | None = None
    encrypted: bool | None = Field(None, description="null: not known (see detail)")
    public: bool | None = None
    personal_data_hint: str | None = Field(None, description="why the store looks like it holds personal information")
    detail: str | None = None


class SecurityService(Prefilled):
    kind: str = Field(description="cloudtrail, vpc_flow_logs, guardduty, waf, aws_config, firewall, host_audit, ...")
    id: str
    name: str | None = None
    enabled: bool | None = None
    detail: str | None = None


class AssetCount(Strict):
    asset_type: str
    count: int = Field(ge=0)
    source: list[str] = Field(default_factory=list)


class CoverageGap(Strict):
    asset_type: str
    scope: str
    status: str
    reason: str | None = None
    source: list[str] = Field(default_factory=list)


class ArchitectureSection(Strict):
    cloud_accounts: list[CloudAccount] = Field(default_factory=list)
    networks: list[NetworkZone] = Field(default_factory=list)
    internet_endpoints: list[Endpoint] = Field(default_factory=list)
    hosts: list[HostEntry] = Field(default_factory=list)
    kubernetes_clusters: list[ClusterEntry] = Field(default_factory=list)
    data_stores: list[DataStore] = Field(default_factory=list)
    security_services: list[SecurityService] = Field(default_factory=list)
    counts: list[AssetCount] = Field(default_factory=list)
    coverage_gaps: list[CoverageGap] = Field(default_factory=list)
    not_seen: list[str] = Field(default_factory=list, description="kinds the inventory holds nothing of")
    notes: str | None = Field(None, description="the client's corrections or additions")


class Questionnaire(Strict):
    meta: Meta = Field(default_factory=Meta)
    organisation: Organisation = Field(default_factory=Organisation)
    system: SystemSection = Field(default_factory=SystemSection)
    data: DataSection = Field(default_factory=DataSection)
    users: UsersSection = Field(default_factory=UsersSection)
    architecture: ArchitectureSection = Field(default_factory=ArchitectureSection)
    impact: ImpactSection = Field(default_factory=ImpactSection)


Meta.model_rebuild()


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
