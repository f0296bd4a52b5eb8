"""Nodes and Secrets (metadata only)."""
from __future__ import annotations

from mlps_scan.models import EvidenceStatus

from ..kubelet import kubelet_facts
from .context import ClusterLists, ClusterSources, age_days, md

NOT_OPTED_IN = ("kubelet configuration not read: the target does not opt in. Set `kubelet_config: true` on the "
                "kubernetes target and grant deploy/kubernetes/mlps-scan-kubelet-clusterrole.yaml (get nodes/proxy), "
                "or supply the node's kubelet configuration to the assessor")
NOT_IN_DUMP = ("kubelet configuration is not in a kubectl dump: scan the live cluster with `kubelet_config: true` "
               "(reads /api/v1/nodes/<node>/proxy/configz), or supply the node's kubelet configuration")


def _kubelet(c: ClusterLists, src: ClusterSources, node: str) -> tuple[dict | None, str | None, list[str]]:
    """(kubelet facts, why they are missing, evidence) for one node."""
    if c.source == "kubectl":
        return None, NOT_IN_DUMP, []
    if not src.kubelet_config:
        return None, NOT_OPTED_IN, []
    rec = src.kubelet_configz.get(node)
    if rec is None:
        return None, f"no configz answer recorded for node {node}", []
    if rec.status != EvidenceStatus.ok:
        return None, f"{(rec.request or {}).get('path')}: {rec.error or rec.status.value}", [rec.id]
    return kubelet_facts(rec.answer or {}), None, [rec.id]


def derive_nodes(c: ClusterLists, src: ClusterSources) -> None:
    nodes = c.kind("nodes")
    for n in nodes.items:
        m = md(n)
        kubelet, missing, kev = _kubelet(c, src, str(m.get("name")))
        st = n.get("status") or {}
        info = st.get("nodeInfo") or {}
        labels = m.get("labels") or {}
        ready = next((cond.get("status") == "True" for cond in st.get("conditions") or [] if cond.get("type") == "Ready"), False)
        attrs = {"kubelet_version": info.get("kubeletVersion"), "os_image": info.get("osImage"),
                 "kernel_version": info.get("kernelVersion"), "container_runtime": info.get("containerRuntimeVersion"),
                 "ready": ready, "zone": labels.get("topology.kubernetes.io/zone"),
                 "roles": sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")),
                 "tags": labels, "resource_name": m.get("name")}
        if kubelet is not None:
            attrs["kubelet"] = kubelet
        c.session.asset("k8s.node", m.get("uid") or m.get("name"), scope=c.scope, name=m.get("name"),
                        evidence=nodes.evidence + kev, attributes=attrs, errors={"kubelet": missing} if missing else {})


def derive_secrets(c: ClusterLists) -> None:
    secs = c.kind("secrets")
    for sec in secs.items:
        m = md(sec)
        c.session.asset("k8s.secret", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}",
                        scope=c.ns_scope(m.get("namespace")), name=m.get("name"), evidence=secs.evidence,
                        attributes={"namespace": m.get("namespace"), "secret_type": sec.get("type"),
                                    "age_days": age_days(m.get("creationTimestamp"), c.now),
                                    "resource_name": f"{m.get('namespace')}/{m.get('name')}"})
