"""The k8s.cluster asset: server version and platform, the EKS facts read through AWS, the supplied
EncryptionConfiguration, node count and zones, and the kube-apiserver flags (or why they are unknown)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlps_scan.models import EvidenceStatus

from ..auditpolicy import audit_policy_facts
from ..controlplane import api_server_flags
from ..encryption import secrets_providers
from .context import ClusterLists, ClusterSources, md


@dataclass
class _Facts:
    attributes: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)


def _version(f: _Facts, c: ClusterLists, version) -> None:
    if version is not None and version.status == EvidenceStatus.ok and version.items and isinstance(version.items[0], dict):
        v = version.items[0]
        f.attributes["server_version"] = v.get("gitVersion")
        gv = str(v.get("gitVersion") or "")
        f.attributes["platform"] = "eks" if "-eks-" in gv else "gke" if "-gke." in gv else "aks" if "aks" in gv else None
        f.evidence += version.evidence
        return
    f.errors["server_version"] = (version.reason if version else None) or (
        "not in the dump" if c.source == "kubectl" else "not collected")
    f.attributes["platform"] = None
    if version:
        f.evidence += version.evidence


def _eks_summary(eks: dict, eks_info: dict[str, tuple[str, Any]], f: _Facts) -> dict:
    ev, cl = eks_info["cluster"]
    f.evidence.append(ev)
    types = sorted({t for lg in (cl.get("logging") or {}).get("clusterLogging") or [] if lg.get("enabled")
                    for t in lg.get("types") or []})
    enc = [e for e in cl.get("encryptionConfig") or [] if "secrets" in (e.get("resources") or [])]
    vpc = cl.get("resourcesVpcConfig") or {}
    info = {"version": cl.get("version"), "logging_types": types, "secrets_encryption": bool(enc),
            "kms_key": ((enc[0].get("provider") or {}).get("keyArn") if enc else None),
            "endpoint_public_access": vpc.get("endpointPublicAccess"),
            "endpoint_private_access": vpc.get("endpointPrivateAccess"),
            "public_access_cidrs": vpc.get("publicAccessCidrs") or [],
            "audit_log_group": f"/aws/eks/{eks.get('cluster_name')}/cluster"}
    if "log_groups" in eks_info:
        lev, lg = eks_info["log_groups"]
        f.evidence.append(lev)
        groups = (lg or {}).get("logGroups") or []
        info["audit_log_group_exists"] = bool(groups)
        info["audit_log_retention_days"] = groups[0].get("retentionInDays") if groups else None
    return info


def _eks(f: _Facts, src: ClusterSources) -> None:
    if not src.eks:
        return
    f.attributes["platform"] = "eks"
    f.attributes["eks_cluster"] = src.eks.get("cluster_name")
    if src.eks_error:
        f.errors["eks"] = src.eks_error[1]
        f.evidence.append(src.eks_error[0])
    elif src.eks_info and "cluster" in src.eks_info:
        f.attributes["eks"] = _eks_summary(src.eks, src.eks_info, f)


def _encryption_config(f: _Facts, src: ClusterSources) -> None:
    rec = src.encryption_config
    if rec is None:  # only when the user supplied the file
        return
    f.evidence.append(rec.id)
    if rec.status == EvidenceStatus.ok:
        f.attributes["encryption_config"] = {"file": (rec.request or {}).get("path"),
                                             "secrets_providers": secrets_providers(rec.answer) or []}
    else:
        f.errors["encryption_config"] = rec.error or rec.status.value


def _audit_policy(f: _Facts, src: ClusterSources) -> None:
    rec = src.audit_policy
    if rec is None:  # only when the user supplied the file
        return
    f.evidence.append(rec.id)
    if rec.status == EvidenceStatus.ok:
        f.attributes["audit_policy"] = {"file": (rec.request or {}).get("path"), **audit_policy_facts(rec.answer or {})}
    else:
        f.errors["audit_policy"] = rec.error or rec.status.value


def _nodes(f: _Facts, c: ClusterLists) -> None:
    if c.why("nodes"):
        f.errors["node_count"] = c.why("nodes")  # type: ignore[assignment]
        return
    nodes = c.kind("nodes").items
    f.attributes["node_count"] = len(nodes)
    f.attributes["zones"] = sorted({(md(n).get("labels") or {}).get("topology.kubernetes.io/zone") for n in nodes} - {None})


def _api_server(f: _Facts, c: ClusterLists, src: ClusterSources, controlplane: dict[str, str] | None) -> None:
    pods = c.kind("pods")
    if controlplane is not None:
        f.attributes["api_server"] = api_server_flags(controlplane)
        f.attributes["api_server_flags"] = sorted(controlplane)
        f.evidence += pods.evidence
    elif src.eks:
        f.errors["api_server"] = ("managed control plane (EKS): kube-apiserver flags are not visible"
                                  + (f"; the AWS lookup failed: {src.eks_error[1]}" if src.eks_error else
                                     "; control-plane logging and encryption come from eks:DescribeCluster"))
    elif c.why("pods"):
        f.errors["api_server"] = f"kube-apiserver flags unknown: {c.why('pods')}"
        f.evidence += pods.evidence
    else:
        f.errors["api_server"] = ("no kube-apiserver static pod visible in kube-system (managed or hidden control plane): "
                                  "its flags cannot be read through the API")
        f.evidence += pods.evidence


def derive_cluster(c: ClusterLists, src: ClusterSources, controlplane: dict[str, str] | None,
                   controlplane_nodes: dict[str, list[str]]) -> None:
    f = _Facts({"server": src.server, "source": c.source})
    _version(f, c, src.version)
    _eks(f, src)
    _encryption_config(f, src)
    _audit_policy(f, src)
    _nodes(f, c)
    _api_server(f, c, src, controlplane)
    if controlplane_nodes:
        f.attributes["control_plane_nodes"] = controlplane_nodes
    f.attributes["resource_name"] = c.name
    for kind in ("clusterrolebindings", "rolebindings"):
        if c.why(kind):
            f.errors.setdefault("rbac", c.why(kind))  # type: ignore[arg-type]
    c.session.asset("k8s.cluster", c.scope, scope=c.scope, name=c.name, attributes=f.attributes, errors=f.errors,
                    evidence=f.evidence)
