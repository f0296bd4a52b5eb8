"""Nodes and Secrets (metadata only)."""
from __future__ import annotations

from .context import ClusterLists, age_days, md


def derive_nodes(c: ClusterLists) -> None:
    nodes = c.kind("nodes")
    for n in nodes.items:
        m = md(n)
        st = n.get("status") or {}
        info = st.get("nodeInfo") or {}
        labels = m.get("labels") or {}
        ready = next((cond.get("status") == "True" for cond in st.get("conditions") or [] if cond.get("type") == "Ready"), False)
        c.session.asset("k8s.node", m.get("uid") or m.get("name"), scope=c.scope, name=m.get("name"), evidence=nodes.evidence,
                        attributes={"kubelet_version": info.get("kubeletVersion"), "os_image": info.get("osImage"),
                                    "kernel_version": info.get("kernelVersion"),
                                    "container_runtime": info.get("containerRuntimeVersion"),
                                    "ready": ready, "zone": labels.get("topology.kubernetes.io/zone"),
                                    "roles": sorted(k.split("/", 1)[1] for k in labels
                                                    if k.startswith("node-role.kubernetes.io/")),
                                    "tags": labels})


def derive_secrets(c: ClusterLists) -> None:
    secs = c.kind("secrets")
    for sec in secs.items:
        m = md(sec)
        c.session.asset("k8s.secret", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}",
                        scope=c.ns_scope(m.get("namespace")), name=m.get("name"), evidence=secs.evidence,
                        attributes={"namespace": m.get("namespace"), "secret_type": sec.get("type"),
                                    "age_days": age_days(m.get("creationTimestamp"), c.now)})
