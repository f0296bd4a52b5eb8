"""The data model of mlps-scan (pydantic v2).

Every file of an output bundle is one of these models serialised to JSON; `mlps-scan schemas`
regenerates the JSON Schemas under schemas/ from here.
"""
from __future__ import annotations

import datetime as _dt
from datetime import date, datetime, timezone
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Strict(BaseModel):
    """Base for models read from files a user writes: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")


class Bilingual(Strict):
    en: str
    zh: str = ""


def _non_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be blank (a person's text is required here)")
    return v


NonBlank = Annotated[str, AfterValidator(_non_blank)]
"""Text a person must write (who decided, why, what compensates): empty or whitespace-only is an input error."""


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
    manual_reason: Bilingual | None = Field(
        None, description="why the item is manual although the test item reads as technical: set when it was "
                          "reclassified (one line an assessor can accept)")


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
    origin: str | None = Field(None, description="where a declared (not observed) asset comes from, e.g. `static file "
                                                 "network.yaml`: a user's statement, hashed as evidence but not read "
                                                 "from the peer")

    @model_serializer(mode="wrap")
    def _serialise(self, handler):
        return _drop_none(handler, self, ("origin",))


# asset types the engine reserves for decisions people record (static `attestations:`, `waivers:`,
# `high_risk_decisions:`): only the static collector's decision sections make them, never `assets:`
DECISION_TYPES = ("attestation", "waiver", "high_risk_decision")


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


class FindingWaiver(BaseModel):
    """An active waiver that covers a failed finding: the verdict stays `fail`, its handling is recorded."""

    model_config = ConfigDict(extra="forbid")

    id: str
    approved_by: str
    expires: date
    compensating: str | None = Field(None, description="the compensating measure, when the waiver names one")
    controls: list[str] = Field(default_factory=list, description=(
        "the finding's control ids this waiver covers: all of them when it names the finding's check, only those it "
        "names when it is scoped by `controls:`; under the others the finding is an ordinary failure"))


def _drop_none(handler, obj, keys: tuple[str, ...]) -> dict[str, Any]:
    """Serialise without the optional keys that are unset, so files stay as they were before the keys existed."""
    out = handler(obj)
    for k in keys:
        if out.get(k) is None:
            out.pop(k, None)
    return out


class Finding(BaseModel):
    """One check's verdict on one resource. The keys up to `evidence` are the stable output contract."""

    model_config = ConfigDict(extra="forbid")

    check_id: str
    control_ids: list[str]
    status: FindingStatus
    resource_id: str
    resource_type: str
    resource_name: str | None = Field(None, description="the name a person uses for the resource (the asset's "
                                                         "`resource_name` attribute, else its name)")
    message: str
    evidence: list[str] = Field(default_factory=list)
    message_zh: str = Field("", description="the result record (结果记录) in Chinese")
    scope: str = ""
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    title: Bilingual | None = None
    remediation: Bilingual | None = Field(None, description="整改建议, English and Chinese")
    details: dict[str, Any] = Field(default_factory=dict)
    waiver: FindingWaiver | None = Field(None, description="present when an active waiver covers this failed finding: "
                                                          "the strongest of `waivers` (a compensating measure first, "
                                                          "then the most controls covered, then the id)")
    waivers: list[FindingWaiver] = Field(default_factory=list, description=(
        "every active waiver covering this failed finding, strongest first (`waiver` is the first); the control "
        "judgement reads them all"))

    @model_serializer(mode="wrap")
    def _serialise(self, handler):
        out = _drop_none(handler, self, ("waiver",))
        if not out.get("waivers"):
            out.pop("waivers", None)
        return out

    def waivers_under(self, control_id: str) -> list[FindingWaiver]:
        """The covering waivers that cover this finding under `control_id`."""
        return [w for w in (self.waivers or ([self.waiver] if self.waiver else [])) if control_id in w.controls]

    @property
    def fully_waived(self) -> bool:
        """Every control this failed finding evidences is covered by an active waiver."""
        if self.waiver is None:
            return False
        return all(self.waivers_under(c) for c in self.control_ids)


class ControlStatus(str, Enum):
    compliant = "compliant"
    non_compliant = "non_compliant"
    partial = "partial"
    error = "error"
    manual = "manual"
    not_applicable = "not_applicable"  # 不适用: decided by a person (attestation) or by the declared scope


class NotApplicable(BaseModel):
    """Why a control is 不适用 and who decided it."""

    model_config = ConfigDict(extra="forbid")

    reason: str
    decided_by: str = Field(description="the person (attestation `by`) or `scope` (system.extensions)")
    source: str = Field(description="where the decision is recorded: an attestation asset id, or scan.json for scope")
    evidence: list[str] = Field(default_factory=list)
    reason_zh: str = Field("", description="the reason in Chinese (an attestation's note as written)")
    decided_by_zh: str = Field("", description="who decided, in Chinese (the person as written, or 定级范围)")


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
    summary_zh: str = Field("", description="the summary in Chinese")
    counts: dict[str, int] = Field(default_factory=dict)
    checks: list[str] = Field(default_factory=list)
    skipped_checks: list[str] | None = Field(None, description="checks of this item left out by the check selection "
                                                          "(--checks/--skip-checks/--severity); absent when all ran")
    manual: Bilingual | None = Field(None, description="what a human must supply or confirm")
    na: NotApplicable | None = Field(None, description="present when the control is not_applicable (不适用)")

    @model_serializer(mode="wrap")
    def _serialise(self, handler):
        return _drop_none(handler, self, ("na", "skipped_checks"))


# --------------------------------------------------------------------------- profile


Port = Annotated[int, Field(ge=1, le=65535)]


class Profile(Strict):
    """Thresholds a level demands. GB/T 22239 says 'complexity', 'periodically', 'timeout'; the numbers are
    assessors' conventions (see shared reference §3), except log retention (Cybersecurity Law Art. 21).
    Strict: a threshold must have its type (`"8"` or `true` is not a number, `"false"` not a boolean) and
    ports are 1-65535."""

    model_config = ConfigDict(extra="forbid", strict=True)

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
    high_risk_ports: list[Port] = Field(
        default_factory=lambda: [21, 23, 69, 111, 135, 137, 138, 139, 445, 512, 513, 514, 515, 873, 2049,
                                 3306, 1433, 5432, 3389, 5900, 5901, 6379, 11211, 27017]
    )
    admin_ports: list[Port] = Field(default_factory=lambda: [22, 3389, 5985, 5986, 6443, 2379, 10250])
    management_cidrs: list[str] = Field(default_factory=list)

    @field_validator("management_cidrs")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        import ipaddress
        for c in v:
            try:
                ipaddress.ip_network(c, strict=False)
            except ValueError:
                raise ValueError(f"{c!r} is not a CIDR range") from None
        return v
    trusted_registries: list[str] = Field(default_factory=list)
    trusted_image_owners: list[str] = Field(default_factory=list, description="AMI owners (account ids or aliases) "
                                            "whose images count as the organisation's hardened images, besides the "
                                            "scanned account itself")
    patch_scan_max_age_days: int = Field(30, ge=1, le=3650, description="a managed instance's last patch scan or "
                                                                       "install at most this old")
    require_disk_encryption: bool = False
    require_mfa: bool = True
    waiver_max_days: int = Field(365, ge=1, le=3650, description="a waiver may run at most this many days from "
                                                                "approved_on to expires")
    attestation_max_age_days: int = Field(365, ge=1, le=3650, description="an attestation older than this (one level-3 "
                                                                         "cycle by default) no longer counts")


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
    internet_facing: bool = Field(False, exclude=True, description=(
        "the internet reaches it by its configuration (public address, internet-facing load balancer, rule open to "
        "0.0.0.0/0...); false: open where the scan saw it, reach from the internet unconfirmed. Set by the "
        "prefill, not written to the questionnaire file"))


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


# --------------------------------------------------------------------------- scan settings


class ScanSettings(BaseModel):
    """scan.json: the system, the level and profile a bundle was judged with, and the effective (redacted)
    configuration. Read leniently: bundles of other versions may carry more."""

    model_config = ConfigDict(extra="ignore")

    system: str | None = None
    level: int | None = None
    profile: dict[str, Any] | None = None
    config: dict[str, Any] = Field(default_factory=dict)

    @property
    def filing_date(self) -> str | None:
        """system.filing_date of the scan config, as written there."""
        system = self.config.get("system")
        value = system.get("filing_date") if isinstance(system, dict) else None
        return None if value is None else str(value)


# --------------------------------------------------------------------------- manifest


class ManifestFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    size: int
    sha256: str


class PluginFailure(BaseModel):
    """A plugin (entry point) that failed to load: its checks did not run, so the controls they evidence
    are marked `error` rather than left out."""

    group: str = Field(description="entry-point group: mlps_scan.checks or mlps_scan.collectors")
    name: str
    value: str = Field(description="what the entry point names (module or module:attribute)")
    error: str
    checks: dict[str, dict[int, list[str]]] = Field(
        default_factory=dict, description="check id -> level -> control ids, read from the plugin's source without running it")
    checks_unknown: str | None = Field(None, description="why its checks could not be read from its source")


class ShardInfo(BaseModel):
    """Which part of a config a bundle holds (`scan --shard K/N`, `--only`), so `merge` can prove the shards
    make the whole: the same config, every unit once."""

    model_config = ConfigDict(extra="forbid")

    config_sha256: str = Field(description="sha256 of the scan config as loaded (canonical JSON)")
    index: int | None = Field(None, ge=1, description="K of --shard K/N (none for a merged bundle)")
    count: int | None = Field(None, ge=1, description="N of --shard K/N")
    only: list[str] = Field(default_factory=list, description="targets chosen with --only (collector/name)")
    targets: dict[str, list[str] | None] = Field(
        default_factory=dict, description="every target of the config -> its units (null: not listed by this shard)")
    covered: list[str] = Field(default_factory=list, description="the units this bundle scanned")
    gaps: list[str] = Field(default_factory=list, description="units no shard scanned (merged with --allow-partial)")


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
    plugin_failures: list[PluginFailure] = Field(default_factory=list, description="plugins that failed to load")
    selection: dict[str, Any] | None = Field(None, description="the check selection when not every check ran: "
                                                               "patterns, severities and the checks left out")
    shard: ShardInfo | None = Field(None, description="set when the bundle is a shard of a config, or merged from shards")
    signature: dict[str, str] | None = None
    files: list[ManifestFile]


# --------------------------------------------------------------------------- decisions (human input)
# Recorded as evidence like everything else: static files hold them (`attestations:`, `waivers:`), the static
# collector turns each into an asset (type `attestation` / `waiver`) citing the file's evidence record.


class Attestation(Strict):
    control_ids: list[str] = Field(min_length=1)
    status: Literal["pass", "fail", "not_applicable"]
    by: NonBlank = Field(description="who judged: assessor or client contact")
    date: _dt.date = Field(description="when it was judged (YYYY-MM-DD); not in the future")
    note: NonBlank = Field(description="what was seen: document, room, interview; for not_applicable, why")
    documents: list[str] = Field(default_factory=list, description="files beside the static file, copied into the bundle")


WAIVER_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class Waiver(Strict):
    """An accepted risk or a compensating measure on failed findings. It never rewrites a verdict: a covered
    finding stays `fail` and says which waiver covers it."""

    id: str = Field(pattern=WAIVER_ID)
    checks: list[str] = Field(default_factory=list, description="check ids whose failed findings it covers")
    controls: list[str] = Field(default_factory=list, description="control ids whose failed findings it covers")
    resources: list[str] = Field(default_factory=list, description="optional glob patterns over resource_id")
    justification: NonBlank
    compensating: NonBlank | None = Field(None, description="the measure that mitigates the risk")
    approved_by: NonBlank
    approved_on: date
    expires: date

    @model_validator(mode="after")
    def _covers_something(self):
        if not self.checks and not self.controls:
            raise ValueError("a waiver must name `checks:` or `controls:` it covers")
        if self.expires < self.approved_on:
            raise ValueError(f"expires {self.expires} is before approved_on {self.approved_on}")
        return self


CASE_ID = r"^\d+(\.\d+){3}$"


class HighRiskDecision(Strict):
    """An assessor's ruling on a high-risk candidate (公网安〔2025〕1846号 Q19: whether a case holds, and whether it
    is a 重大风险隐患, is the assessor's call). Until one is recorded a candidate stays a candidate: a waiver's
    compensating measure is input to the case's mitigation question, never the answer."""

    case_id: str = Field(pattern=CASE_ID, description="the guideline's case, e.g. 6.4.3.2")
    resources: list[str] = Field(default_factory=list, description="optional glob patterns over the triggering "
                                                                   "findings' resource_id (default: every one)")
    decision: Literal["mitigated", "not_high_risk", "confirmed"] = Field(description=(
        "mitigated: the guideline's mitigation is in place and verified (only for cases it allows to be mitigated); "
        "not_high_risk: the case does not hold (e.g. the data is not important, the port is not reachable); "
        "confirmed: the case holds"))
    by: NonBlank = Field(description="the assessor who ruled")
    date: _dt.date = Field(description="when (YYYY-MM-DD); not in the future; stale after attestation_max_age_days")
    note: NonBlank = Field(description="what was verified: the mitigation seen, or why the case does not hold")


class HighRiskTrigger(Strict):
    """What a check declares (`@check(high_risk=[...])`): its failed findings trigger a case of the high-risk
    guideline, when their `details` meet `when` (every key; a value, or {lt|le|gt|ge|in|nonempty: x}). A key the
    finding does not record, or records as null, counts as met: the assessor rules on an unknown."""

    case: str = Field(pattern=CASE_ID)
    when: dict[str, Any] = Field(default_factory=dict)
    basis: str = Field("", description="why this finding shows the case")

    @model_validator(mode="after")
    def _known_operators(self):
        for key, cond in self.when.items():
            if isinstance(cond, dict) and (not cond or set(cond) - set(TRIGGER_OPERATORS)):
                raise ValueError(f"when.{key}: operators are {', '.join(TRIGGER_OPERATORS)}, not {sorted(cond)}")
        return self


TRIGGER_OPERATORS = ("lt", "le", "gt", "ge", "in", "nonempty")


# --------------------------------------------------------------------------- assessment (assessment.json)
# The judgement over the control results: applicability (不适用), waivers, attestations, high-risk candidates
# (疑似高风险) and the 符合率 / conclusion of the 2025 report template, as a range while items are open.


class ScopeDecision(BaseModel):
    """Which extensions (扩展要求) apply to the system: declared in scan.yaml or derived from the evidence."""

    model_config = ConfigDict(extra="forbid")

    extensions: list[str] = Field(description="extensions in scope besides the general requirements, e.g. [cloud]")
    source: Literal["declared", "derived"]
    reason: str


class FindingRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check_id: str
    resource_id: str


class CaseFinding(FindingRef):
    """A finding that triggers a case, with the assessor's ruling on it when one is recorded."""

    decision: Literal["mitigated", "not_high_risk", "confirmed"] | None = None
    decision_id: str | None = Field(None, description="the high_risk_decision (asset id) that ruled on it")

    @model_serializer(mode="wrap")
    def _serialise(self, handler):
        return _drop_none(handler, self, ("decision", "decision_id"))


class MitigationClaim(BaseModel):
    """A compensating measure a waiver names on triggering findings: input to the case's mitigation question, for
    the assessor to verify. It does not decide the case."""

    model_config = ConfigDict(extra="forbid")

    waiver: str
    compensating: str
    findings: list[FindingRef]
    text: Bilingual = Field(description="mitigation claimed by waiver W-x: ..., in both languages")


class HighRisk(BaseModel):
    """One case of the high-risk guideline that failed findings trigger (a candidate: the assessor decides)."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(description="the guideline's numbering, e.g. 6.4.1.1")
    title: Bilingual
    control_ids: list[str]
    findings: list[CaseFinding]
    mitigable: bool = Field(description="the guideline allows compensating measures to downgrade the case")
    mitigation: Bilingual | None = Field(None, description="what the guideline accepts as mitigation")
    question: Bilingual = Field(description="what the assessor must establish to confirm or downgrade the case")
    can_be_major: bool = Field(description="the case is in the 重大风险隐患 trigger table")
    major_trigger: str | None = Field(None, description="its code in that table, e.g. A-18")
    state: Literal["candidate", "confirmed", "mitigated", "not_high_risk"] = Field(description=(
        "candidate: some triggering finding has no ruling yet; confirmed: an assessor confirmed it on some finding; "
        "mitigated / not_high_risk: an assessor ruled so on every triggering finding (high_risk_decisions)"))
    state_zh: str = Field("", description="the state in Chinese")
    major: bool = Field(description="counted as a 重大风险隐患 in the conclusion: can be major and not ruled out by "
                                    "an assessor (state candidate or confirmed)")
    decisions: list[str] = Field(default_factory=list, description="the counted high_risk_decisions applied")
    waivers: list[str] = Field(default_factory=list, description="active waivers covering the triggering findings")
    mitigation_claims: list[MitigationClaim] = Field(default_factory=list, description=(
        "compensating measures those waivers name: input to `question`, not a decision"))
    condition: Bilingual | None = Field(None, description="when the case applies at all (e.g. high continuity needs)")
    basis: str


class HighRiskDecisionState(BaseModel):
    """A recorded high_risk_decision and what it did on the assessment date."""

    model_config = ConfigDict(extra="forbid")

    id: str
    case_id: str
    resources: list[str] = Field(default_factory=list)
    decision: Literal["mitigated", "not_high_risk", "confirmed"]
    by: str
    date: _dt.date
    note: str
    state: Literal["counted", "stale", "future", "unused", "overridden"] = Field(description=(
        "counted: it rules on triggering findings; stale: older than attestation_max_age_days; future: dated after "
        "the assessment date; unused: the case is not triggered (at this level) or no triggering finding matches its "
        "resources; overridden: a later decision rules on each finding it covers"))
    findings: list[FindingRef] = Field(default_factory=list, description="the triggering findings it rules on")
    evidence: list[str] = Field(default_factory=list)


WAIVER_STATUS_ZH = {"active": "生效", "expired": "已过期", "unused": "未使用", "pending": "未生效", "superseded": "已被替换"}
HIGH_RISK_STATE_ZH = {"candidate": "待判定", "confirmed": "已确认", "mitigated": "已缓解（降级）",
                      "not_high_risk": "经判定不构成高风险"}


class WaiverState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    status: Literal["active", "expired", "unused", "pending", "superseded"] = Field(
        description="active: in force and covers failed findings; expired: past `expires` (does nothing); unused: in "
                    "force but covers no failed finding; pending: approved after the assessment date; superseded: its "
                    "file was replaced by a later `check --waivers` file (does nothing)")
    status_zh: str = Field("", description="the status in Chinese")
    checks: list[str] = Field(default_factory=list)
    controls: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    justification: str
    compensating: str | None = None
    approved_by: str
    approved_on: date
    expires: date
    findings: list[FindingRef] = Field(default_factory=list, description="failed findings it covers")
    source: str = Field(description="the static file (asset id) it was read from")
    evidence: list[str] = Field(default_factory=list)


class AttestationDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    path: str | None = Field(None, description="its copy in the bundle (hashed in the manifest); null when missing")
    sha256: str | None = None
    size: int | None = None
    problem: str | None = None


class AttestationState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    control_ids: list[str]
    status: Literal["pass", "fail", "not_applicable"]
    by: str
    date: _dt.date
    state: Literal["counted", "stale", "future", "contradicted", "other_level"] = Field(
        description="counted; stale: older than attestation_max_age_days, no longer counts; future: dated after the "
                    "assessment date, not counted; contradicted: not_applicable but automated verdicts or missing "
                    "evidence (error) exist; other_level: none of its control ids is of the assessed level")
    ignored_ids: list[str] = Field(default_factory=list, description="its control ids that are not of the assessed "
                                                                     "level (or not in the catalogue): they do nothing")
    note: str
    documents: list[AttestationDocument] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)


class NotApplicableItem(NotApplicable):
    control_id: str
    title: Bilingual


class RateRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: float | None = Field(description="percent, unassessed items counted as failing (floored to 0.1)")
    high: float | None = Field(description="percent, unassessed items counted as passing (floored to 0.1)")


class Conclusion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Literal["compliant", "basically_compliant", "non_compliant"]
    zh: str
    en: str


class ConclusionRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    low: Conclusion | None
    high: Conclusion | None


class ConclusionRule(BaseModel):
    """The rule the conclusion was computed with (data/conclusion.yaml), with its basis."""

    model_config = ConfigDict(extra="forbid")

    provisional: bool
    basis: dict[str, str]
    weights: dict[str, float]
    bands: list[dict[str, Any]]
    formula: Bilingual


class Assessment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["mlps-scan/assessment"] = "mlps-scan/assessment"
    version: Literal[1] = 1
    system: str
    level: int
    as_of: date = Field(description="the date waivers and attestations were judged at")
    profile: dict[str, Any] = Field(description="the profile's name and decision limits")
    scope: ScopeDecision
    compliance_rate: RateRange
    conclusion: ConclusionRange
    counts: dict[str, Any] = Field(description="the counts behind the rate: items, applicable, per status, scores")
    rule: ConclusionRule
    high_risks: list[HighRisk] = Field(default_factory=list)
    waivers: list[WaiverState] = Field(default_factory=list)
    high_risk_decisions: list[HighRiskDecisionState] = Field(default_factory=list)
    attestations: list[AttestationState] = Field(default_factory=list)
    not_applicable: list[NotApplicableItem] = Field(default_factory=list)
    notes: list[Bilingual] = Field(default_factory=list, description="what the assessor should know: stale or "
                                   "future attestations, missing documents, expired/unused/pending waivers, conflicts")
