"""The client questionnaire (stage 1): the architecture section prefilled from a bundle's inventory, the
sections only the client can answer left empty with guidance, and validation of an answered file.

Prefill reads nothing but docs/asset-types.md attributes, and tolerates any of them being absent: a kind of
asset the inventory does not hold is listed under `architecture.not_seen`, and kinds that could not be
collected under `architecture.coverage_gaps`, so an empty list never reads as "there is none".
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from .errors import InputError, pydantic_message
from .models import (ArchitectureSection, Asset, AssetCount, CloudAccount, ClusterEntry, CoverageGap, DataStore,
                     Endpoint, EvidenceStatus, HostEntry, Inventory, Meta, NetworkZone, PrefillSource, Questionnaire,
                     SecurityService, utcnow)

# --------------------------------------------------------------------------- reading a bundle


def open_bundle(path: Path):
    """A bundle folder or zip, or an output folder holding one (e.g. out/ with bundle.zip only)."""
    from .bundle import BundleReader
    p = Path(path).expanduser()
    if p.is_dir() and not (p / "manifest.json").exists() and (p / "bundle.zip").is_file():
        p = p / "bundle.zip"
    return BundleReader(p)


def load_inventory(reader) -> Inventory:
    return reader.inventory()


def manifest_sha256(reader) -> str:
    return hashlib.sha256(reader.read("manifest.json")).hexdigest()


# --------------------------------------------------------------------------- helpers over assets


def _src(a: Asset) -> list[str]:
    return list(a.evidence) or [a.id]


def _attr(a: Asset, key: str, default: Any = None) -> Any:
    v = a.attributes.get(key, default)
    return default if v is None else v


def _known(a: Asset, key: str) -> bool:
    return key in a.attributes and key not in a.errors


def _tags(a: Asset) -> dict[str, str]:
    t = a.attributes.get("tags")
    if isinstance(t, dict):
        return {str(k): str(v) for k, v in t.items()}
    if isinstance(t, list):  # AWS style [{Key, Value}]
        out = {}
        for e in t:
            if isinstance(e, dict) and ("Key" in e or "key" in e):
                out[str(e.get("Key", e.get("key")))] = str(e.get("Value", e.get("value", "")))
        return out
    return {}


def _bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "yes", "enabled", "active", "running", "on"):
        return True
    if isinstance(v, str) and v.lower() in ("false", "no", "disabled", "inactive", "stopped", "off"):
        return False
    return None


def _fact_enabled(v: Any) -> bool | None:
    """A host fact group (audit, firewall...) whose shape the hosts collector owns: find its on/off answer."""
    b = _bool(v)
    if b is not None or not isinstance(v, dict):
        return b
    for k in ("enabled", "active", "running", "auditd_active", "auditd_running", "installed", "status", "state"):
        if k in v:
            b = _bool(v[k])
            if b is not None:
                return b
    return None


def _short(v: Any, n: int = 160) -> str | None:
    if v is None:
        return None
    if isinstance(v, dict):
        s = ", ".join(f"{k}={v[k]}" for k in list(v)[:8] if not isinstance(v[k], (dict, list)))
    elif isinstance(v, list):
        s = ", ".join(str(x) for x in v[:8])
    else:
        s = str(v)
    return (s[: n - 1] + "…") if len(s) > n else (s or None)


def _ports(listeners: Any) -> list[str]:
    out = []
    for p in listeners or []:
        if isinstance(p, dict):
            port = p.get("port", p.get("Port", p.get("node_port")))
            proto = p.get("protocol", p.get("Protocol"))
            if port is not None:
                out.append(f"{port}/{str(proto).lower()}" if proto else str(port))
        elif p is not None:
            out.append(str(p))
    return out


def _port_range(frm: Any, to: Any, proto: Any) -> str:
    proto = str(proto if proto not in (None, "-1") else "all").lower()
    if frm in (None, -1) or (frm == 0 and to in (65535, None)):
        return f"all/{proto}"
    return f"{frm}/{proto}" if to in (None, frm) else f"{frm}-{to}/{proto}"


_OPEN_CIDRS = {"0.0.0.0/0", "::/0", "any", "*"}

# --------------------------------------------------------------------------- personal-data hints

PII_TAG_KEYS = ("data-classification", "data_classification", "dataclassification", "classification",
                "data-class", "sensitivity", "pii")
PII_TAG_VALUES = ("pii", "personal", "sensitive", "spi", "confidential-pii", "个人信息", "敏感个人信息")
PII_NAME_WORDS = ("user", "customer", "member", "order", "payment", "pii", "kyc", "account", "profile",
                  "patient", "passport", "idcard", "identity")
SENSITIVE_NAME_WORDS = ("payment", "kyc", "idcard", "identity", "passport", "patient", "health", "biometric", "card")
DATA_STORE_TYPES = ("aws.rds.instance", "aws.rds.cluster", "aws.s3.bucket", "aws.dynamodb.table",
                    "aws.ec2.volume", "aws.ec2.snapshot")


def personal_data_hint(a: Asset) -> tuple[str | None, bool]:
    """(why this store looks like it holds personal information, whether it looks sensitive) or (None, False)."""
    for k, v in _tags(a).items():
        kl, vl = k.lower(), v.lower()
        if kl in PII_TAG_KEYS and any(w in vl for w in PII_TAG_VALUES):
            return f"tag {k}={v}", any(w in vl for w in ("sensitive", "spi", "敏感"))
        if kl == "pii" and _bool(v):
            return f"tag {k}={v}", False
    names = " ".join(str(x) for x in (a.name, a.attributes.get("name"), a.id.rsplit(":", 1)[-1].rsplit("/", 1)[-1]) if x)
    low = names.lower()
    for w in PII_NAME_WORDS:
        if re.search(rf"(^|[^a-z]){w}", low):  # a word starting a token: customer-db, orders, userdata
            return f"name {a.name or a.id!r} contains {w!r}", any(
                re.search(rf"(^|[^a-z]){s}", low) for s in SENSITIVE_NAME_WORDS)
    return None, False


def is_data_store(a: Asset) -> bool:
    return a.type in DATA_STORE_TYPES or a.type.startswith(("aws.rds.", "aws.dynamodb.", "database", "static.database"))


# --------------------------------------------------------------------------- prefill


def prefill(inv: Inventory) -> ArchitectureSection:
    by_type: dict[str, list[Asset]] = defaultdict(list)
    for a in inv.assets:
        by_type[a.type].append(a)
    arch = ArchitectureSection()

    # cloud accounts and regions
    for a in by_type["aws.account"]:
        arch.cloud_accounts.append(CloudAccount(
            id=str(_attr(a, "account_id", a.id)), partition=_attr(a, "partition"),
            regions=[str(r) for r in _attr(a, "regions", [])], scope=a.scope, source=_src(a)))

    # networks and zones
    for a in by_type["aws.ec2.vpc"]:
        fl = _attr(a, "flow_logs")
        arch.networks.append(NetworkZone(
            kind="vpc", id=str(_attr(a, "vpc_id", a.id)), name=a.name, cidr=_attr(a, "cidr"), scope=a.scope,
            detail="; ".join(x for x in ("default VPC" if _attr(a, "is_default") else "",
                                         f"flow logs {'on' if fl else 'off'}" if fl is not None else "") if x) or None,
            source=_src(a)))
    for a in by_type["aws.ec2.subnet"]:
        arch.networks.append(NetworkZone(
            kind="subnet", id=str(_attr(a, "subnet_id", a.id)), name=a.name, cidr=_attr(a, "cidr"),
            public=_bool(_attr(a, "public")), scope=a.scope,
            detail=_short({k: a.attributes[k] for k in ("vpc_id", "availability_zone") if k in a.attributes}),
            source=_src(a)))
    for a in by_type["k8s.namespace"]:
        arch.networks.append(NetworkZone(
            kind="k8s_namespace", id=a.id, name=a.name, scope=a.scope,
            detail=_short({k: a.attributes[k] for k in ("pod_security", "default_deny") if k in a.attributes}),
            source=_src(a)))
    zones: dict[str, list[Asset]] = defaultdict(list)
    for t in sorted(t for t in by_type if t.startswith("network.")):
        for a in by_type[t]:
            if _attr(a, "zone"):
                zones[str(a.attributes["zone"])].append(a)
    for z, assets in sorted(zones.items()):
        arch.networks.append(NetworkZone(
            kind="firewall_zone", id=z, name=z, detail="devices: " + ", ".join(a.name or a.id for a in assets),
            source=sorted({e for a in assets for e in _src(a)})))

    _endpoints(by_type, arch)
    _hosts(by_type, arch)
    _clusters(by_type, arch)
    _stores(inv.assets, arch)
    _security(by_type, arch)

    for t in sorted({a.type for a in inv.assets}):
        assets = by_type[t]
        arch.counts.append(AssetCount(asset_type=t, count=len(assets),
                                      source=sorted({e for a in assets for e in _src(a)})))
    for c in inv.coverage:
        if c.status != EvidenceStatus.ok:
            arch.coverage_gaps.append(CoverageGap(asset_type=c.asset_type, scope=c.scope, status=c.status.value,
                                                  reason=c.reason, source=list(c.evidence)))
    for key, label in (("cloud_accounts", "cloud accounts"), ("networks", "networks/zones"),
                       ("internet_endpoints", "internet-facing endpoints"), ("hosts", "hosts"),
                       ("kubernetes_clusters", "Kubernetes clusters"), ("data_stores", "data stores"),
                       ("security_services", "security services")):
        if not getattr(arch, key):
            arch.not_seen.append(f"{key}: no {label} in the inventory (not scanned, or none exist)")
    return arch


def _endpoints(by_type, arch: ArchitectureSection) -> None:
    for a in by_type["aws.ec2.instance"]:
        if _attr(a, "public_ip"):
            arch.internet_endpoints.append(Endpoint(
                kind="public_ip", id=str(_attr(a, "instance_id", a.id)), name=a.name, address=str(a.attributes["public_ip"]),
                scope=a.scope, detail=f"EC2 instance, state {_attr(a, 'state', '?')}", source=_src(a)))
    for a in by_type["aws.elb.load_balancer"]:
        if str(_attr(a, "scheme", "")).lower() == "internet-facing":
            arch.internet_endpoints.append(Endpoint(
                kind="load_balancer", id=a.id, name=a.name, address=_attr(a, "dns_name"),
                ports=_ports(_attr(a, "listeners", [])), scope=a.scope, detail="internet-facing load balancer",
                source=_src(a)))
    for a in by_type["aws.ec2.security_group"]:
        open_ports = []
        for r in _attr(a, "ingress", []) or []:
            if isinstance(r, dict) and _OPEN_CIDRS & {str(c) for c in (r.get("cidrs") or [])}:
                open_ports.append(_port_range(r.get("from_port"), r.get("to_port"), r.get("protocol")))
        if open_ports:
            arch.internet_endpoints.append(Endpoint(
                kind="open_security_group", id=str(_attr(a, "group_id", a.id)), name=a.name, ports=open_ports,
                scope=a.scope, detail=f"ingress from 0.0.0.0/0 or ::/0; in use: {_attr(a, 'in_use', 'unknown')}",
                source=_src(a)))
    for a in by_type["aws.rds.instance"]:
        if _attr(a, "publicly_accessible") is True:
            arch.internet_endpoints.append(Endpoint(
                kind="public_database", id=a.id, name=a.name, address=_short(_attr(a, "endpoint")), scope=a.scope,
                detail=f"RDS {_attr(a, 'engine', '')} publicly accessible", source=_src(a)))
    for a in by_type["aws.s3.bucket"]:
        if _attr(a, "public") is True:
            arch.internet_endpoints.append(Endpoint(
                kind="public_bucket", id=a.id, name=a.name or _attr(a, "name"), scope=a.scope,
                detail="S3 bucket readable by the public", source=_src(a)))
    for a in by_type["host.service"]:
        port = _attr(a, "port")
        arch.internet_endpoints.append(Endpoint(
            kind="host_service", id=a.id, name=a.name, address=_attr(a, "address"),
            ports=[f"{port}/{_attr(a, 'protocol', 'tcp')}"] if port is not None else [], scope=a.scope,
            detail=_short(" ".join(str(x) for x in (_attr(a, "service"), _attr(a, "product"), _attr(a, "version")) if x)
                          + " (open to the scanner; confirm whether the internet reaches it)"),
            source=_src(a)))
    for a in by_type["k8s.service"]:
        st = str(_attr(a, "service_type", ""))
        if st in ("LoadBalancer", "NodePort") or _attr(a, "external") is True:
            arch.internet_endpoints.append(Endpoint(
                kind="k8s_service", id=a.id, name=f"{_attr(a, 'namespace', '')}/{a.name or a.id}".lstrip("/"),
                ports=_ports(_attr(a, "ports", [])), scope=a.scope, detail=f"type {st or '?'}", source=_src(a)))
    for a in by_type["k8s.ingress"]:
        arch.internet_endpoints.append(Endpoint(
            kind="k8s_ingress", id=a.id, name=f"{_attr(a, 'namespace', '')}/{a.name or a.id}".lstrip("/"),
            address=", ".join(str(h) for h in _attr(a, "hosts", [])) or None,
            ports=["443/tcp"] if _attr(a, "tls") else ["80/tcp"], scope=a.scope,
            detail=f"TLS {'yes' if _attr(a, 'tls') else 'no'}", source=_src(a)))
    for t in sorted(t for t in by_type if t.startswith("network.")):
        for a in by_type[t]:
            exposed = []
            for r in _attr(a, "rules", []) or []:
                if isinstance(r, dict) and str(r.get("action", "")).lower() in ("allow", "permit", "accept") \
                        and str(r.get("source", "")).lower() in _OPEN_CIDRS:
                    exposed.append(f"{r.get('ports', 'any')}/{r.get('protocol', 'any')} -> {r.get('destination', 'any')}")
            if exposed:
                arch.internet_endpoints.append(Endpoint(
                    kind="firewall_allow_any_source", id=a.id, name=a.name, ports=exposed, scope=a.scope,
                    detail=f"zone {_attr(a, 'zone', '?')}: rules allowing any source", source=_src(a)))


def _os_name(os_: Any) -> str | None:
    if isinstance(os_, dict):
        return os_.get("pretty_name") or " ".join(str(os_[k]) for k in ("id", "version") if os_.get(k)) or None
    return str(os_) if os_ else None


def _hosts(by_type, arch: ArchitectureSection) -> None:
    for a in by_type["host"]:
        ports = _attr(a, "open_ports", [])
        detail = "; ".join(x for x in (
            f"kernel {a.attributes['kernel']}" if _attr(a, "kernel") else "",
            f"open ports {', '.join(str(p) for p in ports)}" if ports else "",
            "unreachable" if _attr(a, "reachable") is False else "") if x)
        arch.hosts.append(HostEntry(kind="host", id=a.id, name=_attr(a, "hostname") or a.name,
                                    os=_os_name(_attr(a, "os")), detail=detail or None, scope=a.scope, source=_src(a)))
    for a in by_type["aws.ec2.instance"]:
        arch.hosts.append(HostEntry(
            kind="ec2_instance", id=str(_attr(a, "instance_id", a.id)), name=a.name,
            os=_attr(a, "platform") or None, scope=a.scope,
            detail=_short({k: a.attributes[k] for k in ("state", "private_ip", "public_ip", "vpc_id") if a.attributes.get(k)}),
            source=_src(a)))


def _clusters(by_type, arch: ArchitectureSection) -> None:
    for a in by_type["k8s.cluster"]:
        # the cluster's objects share its scope prefix kubernetes/<target>
        root = a.scope.rstrip("/")
        inside = lambda x: x.scope == root or x.scope.startswith(root + "/")  # noqa: E731
        exposed = [e.name or e.id for e in arch.internet_endpoints
                   if e.kind in ("k8s_service", "k8s_ingress") and e.scope and inside(e)]
        nodes = [n for n in by_type["k8s.node"] if inside(n)]
        node_count = _attr(a, "node_count")
        if node_count is None and nodes:
            node_count = len(nodes)
        src = _src(a) + ([e for n in nodes for e in _src(n)][:20])
        arch.kubernetes_clusters.append(ClusterEntry(
            id=a.id, name=a.name, version=_short(_attr(a, "server_version")), platform=_attr(a, "platform"),
            node_count=node_count if isinstance(node_count, int) else None,
            namespaces=sum(1 for n in by_type["k8s.namespace"] if inside(n)),
            exposed_services=exposed, scope=a.scope, source=list(dict.fromkeys(src))))


def _stores(assets: Iterable[Asset], arch: ArchitectureSection) -> None:
    for a in assets:
        if not is_data_store(a):
            continue
        kind = {"aws.rds.instance": "rds", "aws.rds.cluster": "rds_cluster", "aws.s3.bucket": "s3",
                "aws.ec2.volume": "ebs_volume", "aws.ec2.snapshot": "ebs_snapshot",
                "aws.dynamodb.table": "dynamodb"}.get(a.type, a.type)
        enc_key = {"aws.rds.instance": "storage_encrypted", "aws.rds.cluster": "storage_encrypted",
                   "aws.s3.bucket": "encryption"}.get(a.type, "encrypted")
        detail = None
        if enc_key in a.errors:
            encrypted, detail = None, f"encryption not known: {a.errors[enc_key]}"
        elif enc_key == "encryption":
            encrypted = (bool(a.attributes.get("encryption")) if "encryption" in a.attributes else None)
            if encrypted:
                detail = _short(a.attributes["encryption"])
        else:
            encrypted = _bool(a.attributes.get(enc_key))
        if encrypted is None and detail is None:
            detail = f"encryption not known ({enc_key} not collected)"
        hint, _ = personal_data_hint(a)
        public = _attr(a, "publicly_accessible") if a.type.startswith("aws.rds.") else _attr(a, "public")
        arch.data_stores.append(DataStore(
            kind=kind, id=a.id, name=a.name or _attr(a, "name"), engine=_attr(a, "engine"), encrypted=encrypted,
            public=_bool(public), personal_data_hint=hint, detail=detail, scope=a.scope, source=_src(a)))


def _security(by_type, arch: ArchitectureSection) -> None:
    S = arch.security_services
    for a in by_type["aws.cloudtrail.trail"]:
        S.append(SecurityService(kind="cloudtrail", id=a.id, name=a.name, enabled=_bool(_attr(a, "logging")), scope=a.scope,
                                 detail=_short({k: a.attributes[k] for k in ("multi_region", "log_file_validation", "home_region")
                                                if k in a.attributes}), source=_src(a)))
    for a in by_type["aws.ec2.vpc"]:
        if "flow_logs" in a.attributes or "flow_logs" in a.errors:
            S.append(SecurityService(kind="vpc_flow_logs", id=str(_attr(a, "vpc_id", a.id)), name=a.name,
                                     enabled=None if "flow_logs" in a.errors else _bool(a.attributes["flow_logs"]),
                                     detail=(f"not collected: {a.errors['flow_logs']}" if "flow_logs" in a.errors else None),
                                     scope=a.scope, source=_src(a)))
    for a in by_type["aws.guardduty.detector"]:
        st = _attr(a, "status")
        S.append(SecurityService(kind="guardduty", id=a.id, name=a.name, enabled=_bool(st), detail=_short(st),
                                 scope=a.scope, source=_src(a)))
    for a in by_type["aws.wafv2.web_acl"]:
        assoc = _attr(a, "associated")
        S.append(SecurityService(kind="waf", id=a.id, name=a.name,
                                 enabled=bool(assoc) if assoc is not None else None,
                                 detail=f"associated: {_short(assoc)}" if assoc is not None else None,
                                 scope=a.scope, source=_src(a)))
    for a in by_type["aws.config.recorder"]:
        S.append(SecurityService(kind="aws_config", id=a.id, name=a.name, enabled=_bool(_attr(a, "recording")),
                                 scope=a.scope, source=_src(a)))
    for t in sorted(t for t in by_type if t.startswith("network.")):
        for a in by_type[t]:
            S.append(SecurityService(kind=t.split(".", 1)[1], id=a.id, name=a.name, scope=a.scope,
                                     enabled=_bool(_attr(a, "logging")) if "logging" in a.attributes else None,
                                     detail=_short({k: a.attributes[k] for k in ("vendor", "model", "zone", "default_action", "logging")
                                                    if k in a.attributes}), source=_src(a)))
    for a in by_type["host"]:
        for fact, kind in (("audit", "host_audit"), ("firewall", "host_firewall"), ("malware", "host_malware_protection"),
                           ("mac", "host_mandatory_access_control")):
            if fact in a.attributes or fact in a.errors:
                S.append(SecurityService(kind=kind, id=a.id, name=_attr(a, "hostname") or a.name, scope=a.scope,
                                         enabled=None if fact in a.errors else _fact_enabled(a.attributes[fact]),
                                         detail=(f"not collected: {a.errors[fact]}" if fact in a.errors
                                                 else _short(a.attributes.get(fact))), source=_src(a)))
    for a in by_type["k8s.cluster"]:
        api = _attr(a, "api_server", {})
        if isinstance(api, dict) and ("audit_log_path" in api or "api_server" in a.errors):
            S.append(SecurityService(kind="k8s_audit_log", id=a.id, name=a.name, scope=a.scope,
                                     enabled=None if "api_server" in a.errors else bool(api.get("audit_log_path")),
                                     detail=_short({k: api[k] for k in ("audit_log_path", "audit_log_maxage") if k in api}),
                                     source=_src(a)))


def build(reader=None, bundle_path: Path | None = None) -> Questionnaire:
    q = Questionnaire(meta=Meta(generated_at=utcnow()))
    if reader is None:
        return q
    m = reader.manifest()
    q.meta.prefilled_from = PrefillSource(bundle=str(Path(bundle_path or reader.path).expanduser().absolute()),
                                          manifest_sha256=manifest_sha256(reader), system=m.system,
                                          scanned_at=m.finished_at)
    q.architecture = prefill(load_inventory(reader))
    _system_from_scan(q, reader)
    return q


def _system_from_scan(q: Questionnaire, reader) -> None:
    """The system section's facts scan.yaml already states: name, level (current_level), filing date and
    description (business_description)."""
    try:
        meta = reader.json("scan.json") if "scan.json" in reader.names() else {}
    except Exception:  # noqa: BLE001 - an unreadable scan.json leaves the section to the client
        return
    sysc = ((meta.get("config") or {}).get("system") or {}) if isinstance(meta, dict) else {}
    if not isinstance(sysc, dict):
        return
    try:
        if sysc.get("name"):
            q.system.name = str(sysc["name"])
        if sysc.get("level") is not None:
            q.system.current_level = int(sysc["level"])
        if sysc.get("filing_date"):
            q.system.filing_date = date.fromisoformat(str(sysc["filing_date"]))
        if sysc.get("description"):
            q.system.business_description = str(sysc["description"])
    except (TypeError, ValueError):
        return


def keep_answers(fresh: Questionnaire, answered: Questionnaire) -> Questionnaire:
    """The client's answers (and architecture notes) from `answered`, the architecture from `fresh`."""
    q = fresh.model_copy(deep=True)
    for section in ("organisation", "system", "data", "users", "impact"):
        setattr(q, section, getattr(answered, section).model_copy(deep=True))
    q.architecture.notes = answered.architecture.notes
    return q


# --------------------------------------------------------------------------- writing YAML with guidance

_HEADER = """\
# MLPS 2.0 (等级保护 2.0) client questionnaire — mlps-scan
#
# Fill in every section marked CLIENT. Leave a value as null (~) if you do not know it yet: the grading
# treats unanswered harm questions conservatively (it assumes harm rather than none).
# 请填写所有标注 CLIENT 的部分。不确定的值保留为 null (~)：定级时未回答的危害问题按保守原则处理。
#
# The architecture section was prefilled from the scan; every entry's `source` lists the evidence ids
# (files evidence/<id>.json of the bundle) it was read from. Correct it in `architecture.notes`.
# 系统架构部分根据扫描结果预填；每条记录的 source 为其依据的证据编号。如有出入请在 architecture.notes 中说明。
# Unknown keys and wrong types are errors: keep the key names as written.
"""

_CLIENT = """\
# ---------------------------------------------------------------- CLIENT: organisation 单位信息
organisation:
  name: {org_name}# legal name of the operator 运营使用单位名称
  industry: ~                 # e.g. retail, finance, healthcare 所属行业
  competent_authority: ~      # industry regulator, if any 行业主管部门（如有）
  security_officer: ~         # who is responsible for cybersecurity 网络安全责任人（职务/姓名）
  operations_location: ~      # city where security management / operations sit (decides the filing PSB) 安全管理/运维所在地

# ---------------------------------------------------------------- CLIENT: system 定级对象
system:
  name: {system_name}# the grading object 定级对象名称 (prefilled: the scan config's system name)
  purpose: ~                  # what the system is for, in one sentence 系统用途
  business_description: ~     # main services and who uses them 主要业务及服务对象
  deployment: ~               # cloud | on_premises | hybrid 部署方式
  go_live_date: ~             # YYYY-MM-DD 上线日期
  service_hours: ~            # 24x7 | business_hours | other 服务时间
  max_tolerable_downtime_hours: ~   # 0-8760 最长可容忍中断时间（小时）
  filing_date: ~              # YYYY-MM-DD of the 备案, if already filed 备案日期（如已备案）
  current_level: ~            # 1-5, if already graded 现定级别（如有）
  last_assessment_date: ~     # YYYY-MM-DD of the last 等级测评 上次测评日期

# ---------------------------------------------------------------- CLIENT: data 数据
# collected: true/false; records: approximate number of records or individuals; kinds: list of data items.
# Personal information 个人信息: any information identifying a natural person (name, phone, address...).
# Sensitive personal information 敏感个人信息: biometrics, religion, medical health, financial accounts,
#   whereabouts, ID numbers, and any personal information of minors under 14 (PIPL Art. 28).
# Important data 重要数据: data that, if tampered with, destroyed, leaked or illegally obtained or used, may
#   endanger national security, economic operation, social stability or public health and safety
#   (Data Security Law; see your industry's important-data catalogue).
data:
  personal_information:
    collected: ~
    records: ~
    kinds: []
  sensitive_personal_information:
    collected: ~
    records: ~
    kinds: []
  important_data:
    collected: ~
    records: ~
    kinds: []
  total_volume_gb: ~          # total stored data in GB 数据总量（GB）
  cross_border_transfer: ~    # true if data leaves mainland China 是否出境

# ---------------------------------------------------------------- CLIENT: users 用户
users:
  internal: ~                 # number of internal users (staff, contractors) 内部用户数
  external: ~                 # number of external users (customers, the public) 外部用户数
  peak_concurrent: ~          # peak concurrent users 峰值并发用户数
  public_access: ~            # true if the public reaches it over the internet 是否面向互联网公众
"""

_IMPACT = """\
# ---------------------------------------------------------------- CLIENT: impact 危害评估 (drives the level)
# For each aspect, the degree of harm to each object if the worst happens:
#   business_information 业务信息安全: the system's information is leaked, altered or lost
#   system_service       系统服务安全: the system's service is unavailable or degraded
# Objects 受侵害的客体:
#   citizens_legal_persons        公民、法人和其他组织的合法权益
#   social_order_public_interest  社会秩序、公共利益
#   national_security             国家安全
# Degree 损害程度: none | general 一般损害 | serious 严重损害 | particularly_serious 特别严重损害
#   general: limited impact, partial loss of function, recoverable loss;
#   serious: significant impact, loss of important functions, serious loss that is hard to recover;
#   particularly_serious: very serious impact, function lost, irreparable or extremely serious loss.
# If you cannot decide, give a list, e.g. [general, serious]: the grade takes the higher one.
# 无法确定时可填写列表，如 [general, serious]，定级取较高者。null = not answered 未回答。
impact:
  business_information:
    citizens_legal_persons: ~
    social_order_public_interest: ~
    national_security: ~
    rationale: ~              # why, in a few words 理由
  system_service:
    citizens_legal_persons: ~
    social_order_public_interest: ~
    national_security: ~
    rationale: ~
"""

_ARCH_HEAD = """\
# ---------------------------------------------------------------- PREFILLED: architecture 系统架构
# Read from the scan's inventory.json. Each entry's `source` = evidence ids in the bundle.
# cloud_accounts 云账号与区域 | networks 网络与区域 (VPC/subnet/namespace/firewall zone) |
# internet_endpoints 互联网暴露面 | hosts 主机及操作系统 | kubernetes_clusters 容器集群 |
# data_stores 数据存储 (encrypted: 是否加密) | security_services 安全服务 | counts 资产数量 |
# coverage_gaps 未能采集的部分 (not a clean bill: these were not seen) | not_seen 清单中没有的类别
"""


def _dump(obj: Any) -> str:
    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False, default_flow_style=None, width=200)


def _source_last(obj: Any) -> Any:
    """Entries read better with what they say first and where it came from last."""
    if isinstance(obj, list):
        return [_source_last(x) for x in obj]
    if isinstance(obj, dict):
        out = {k: _source_last(v) for k, v in obj.items() if k not in ("scope", "source")}
        for k in ("scope", "source"):
            if k in obj:
                out[k] = obj[k]
        return out
    return obj


def _q(v: Any) -> str:
    return "~" if v is None else _dump(v).strip().removesuffix("\n...").strip()


def render_yaml(q: Questionnaire, template: bool = False) -> str:
    """The questionnaire as commented YAML: the client sections are the commented template with the values
    already in `q` filled in (so answers survive a refresh), architecture and meta are dumped from the model."""
    if not template and q.system.name is None and q.meta.prefilled_from:
        q = q.model_copy(deep=True)
        q.system.name = q.meta.prefilled_from.system
    meta = q.meta.model_dump(mode="json", exclude_none=True)
    parts = [_HEADER, "meta:\n" + _indent(_dump(meta))]
    answers = q.model_dump(mode="json")
    parts.append("\n" + _fill(_CLIENT.format(org_name="~".ljust(22), system_name="~".ljust(22)), answers))
    arch = q.architecture.model_dump(mode="json", exclude_none=True)
    for d in arch.get("data_stores", []):
        d.setdefault("encrypted", None)  # unknown must show, not vanish
    arch = _source_last(arch)
    parts.append("\n" + _ARCH_HEAD + "architecture:\n" + _indent(_dump(arch)))
    parts.append("\n" + _fill(_IMPACT, answers))
    return "".join(parts)


_TEMPLATE_LINE = re.compile(r"^(?P<indent> *)(?P<key>[a-z_]+):(?P<value> *(~|\[\])?)(?P<pad> *)(?P<comment>#.*)?$")


def _inline(v: Any) -> str:
    if isinstance(v, str) and "\n" not in v:
        text = yaml.safe_dump(v, allow_unicode=True, default_flow_style=True, width=1 << 20).strip()
        return text.removesuffix("...").strip()
    return json_flow(v)


def json_flow(v: Any) -> str:
    return yaml.safe_dump(v, allow_unicode=True, default_flow_style=True, width=1 << 20).strip().removesuffix("...").strip()


def _fill(template: str, answers: dict) -> str:
    """Put the answers into the commented template: `key: ~  # comment` -> `key: value  # comment`."""
    out, stack = [], []  # stack of (indent, key)
    for line in template.splitlines(True):
        m = _TEMPLATE_LINE.match(line.rstrip("\n"))
        if not m:
            out.append(line)
            continue
        ind = len(m["indent"])
        while stack and stack[-1][0] >= ind:
            stack.pop()
        path = [k for _, k in stack] + [m["key"]]
        if not m["value"].strip():  # a mapping key: descend
            stack.append((ind, m["key"]))
            out.append(line)
            continue
        v: Any = answers
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
        if v is None or v == []:
            out.append(line)
            continue
        head = f"{m['indent']}{m['key']}: {_inline(v)}"
        if m["comment"]:
            head = head.ljust(max(len(head) + 1, 30)) + m["comment"]
        out.append(head + "\n")
    return "".join(out)


def _indent(text: str, n: int = 2) -> str:
    return "".join((" " * n + line) if line.strip() else line for line in text.splitlines(True))


# --------------------------------------------------------------------------- loading an answered file


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: pydantic then parses them and names the YAML path of a bad one
    (PyYAML would raise a bare ValueError for 2026-13-01)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> Any:
    from .profile import load_yaml_file
    return load_yaml_file(path, "questionnaire", loader=_Loader)

def parse(doc: Any, where: str = "questionnaire") -> Questionnaire:
    if doc is None:
        raise InputError(f"{where} is empty")
    if not isinstance(doc, dict):
        raise InputError(f"{where}: the top level must be a mapping (organisation:, system:, ...)")
    try:
        return Questionnaire.model_validate(doc)
    except ValidationError as e:
        raise InputError(validation_message(e, prefix=f"{where}: ")) from None


def load(path: Path) -> Questionnaire:
    path = Path(path).expanduser()
    return parse(_read_yaml(path), f"questionnaire {path}")


_DEGREE_HELP = "use none, general, serious or particularly_serious (or a list of them when undecided)"


def validation_message(e: ValidationError, prefix: str = "") -> str:
    """One line: the first problem with its YAML path. Union branches (a degree or a list of degrees) are
    folded into one problem so the path reads as the user wrote it."""
    from .errors import yaml_path
    problems: dict[str, str] = {}
    for err in e.errors():
        raw = tuple(err.get("loc", ()))
        branch = any(isinstance(p, str) and ("[" in p or p.startswith("function-")) for p in raw)
        loc = tuple(p for p in raw if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        path = yaml_path(loc)
        if branch:
            field = yaml_path(tuple(p for p in loc if not isinstance(p, int)) if len(loc) and isinstance(loc[-1], int) else loc)
            key = field
            if isinstance(err.get("input"), list):
                continue  # the scalar branch's complaint about a list: the list branch says which item
            msg = f"{err.get('input')!r} is not a degree: {_DEGREE_HELP}"
        else:
            key = path
            msg = err.get("msg", "invalid value")
            if err.get("type") == "extra_forbidden":
                msg = "unknown key"
            elif err.get("type") == "missing":
                msg = "required key is missing"
        if key not in problems:
            problems[key] = f"{path}: {msg}"
    if not problems:
        return prefix + pydantic_message(e)
    first = next(iter(problems.values()))
    n = len(problems) - 1
    return f"{prefix}{first}" + (f" (and {n} more problem{'s' if n > 1 else ''})" if n else "")
