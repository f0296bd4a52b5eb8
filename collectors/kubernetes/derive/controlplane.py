"""One asset per control-plane instance (`k8s.controlplane.apiserver|controller_manager|scheduler|etcd`): every
static pod of kube-apiserver, kube-controller-manager, kube-scheduler and etcd visible in kube-system, naming
the node it runs on, with its parsed flags. An HA control plane gives one asset per node, so a drifted
instance is judged on its own."""
from __future__ import annotations

from ..controlplane import COMPONENTS, FACTS, FACTS_KEY, component_flags, component_of
from .context import ClusterLists, md


def _instance_asset(c: ClusterLists, pod: dict, component: str, flags: dict[str, str], evidence: list[str]) -> None:
    m = md(pod)
    spec = pod.get("spec") or {}
    image = next((x.get("image") for x in spec.get("containers") or [] if x.get("image")), None)
    node = spec.get("nodeName")
    attrs = {"component": component, "node": node, "namespace": m.get("namespace"), "pod": m.get("name"),
             "image": image, "flags": sorted(flags), FACTS_KEY[component]: FACTS[component](flags),
             "resource_name": f"{m.get('namespace')}/{m.get('name')}"}
    c.session.asset(COMPONENTS[component], m.get("uid") or f"{c.scope}/{component}/{node or m.get('name')}",
                    scope=c.ns_scope(m.get("namespace")), name=m.get("name"), attributes=attrs, evidence=evidence)


def derive_controlplane(c: ClusterLists) -> dict[str, list[str]]:
    """The instance assets; returns component -> the nodes its instances run on (for the cluster asset)."""
    pods = c.kind("pods")
    nodes: dict[str, list[str]] = {}
    for pod in pods.items:
        component = component_of(pod)
        flags = component_flags(pod, component) if component else None
        if component is None or flags is None:
            continue
        _instance_asset(c, pod, component, flags, pods.evidence)
        nodes.setdefault(component, []).append(str((pod.get("spec") or {}).get("nodeName") or md(pod).get("name")))
    return {k: sorted(v) for k, v in sorted(nodes.items())}
