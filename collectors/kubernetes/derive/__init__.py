"""Assets from list answers: the one place `k8s.*` assets are made, whether the lists come from a live
scan, replayed evidence or a kubectl dump. One module per family of kinds; `build_assets` runs them (the
runner sorts the inventory afterwards)."""
from __future__ import annotations

from datetime import datetime, timezone

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from ..controlplane import apiserver_flags_of_pods
from ..resources import RESOURCES
from .cluster import derive_cluster
from .context import ClusterLists, ClusterSources, KindResult
from .controlplane import derive_controlplane
from .network import derive_ingresses, derive_namespaces, derive_networkpolicies, derive_services
from .nodes import derive_nodes, derive_secrets
from .rbac import derive_bindings, derive_roles, derive_subjects, grants_by_subject
from .workloads import derive_serviceaccounts, derive_workloads

MANAGED_COMPONENTS = ("k8s.controlplane.controller_manager", "k8s.controlplane.scheduler", "k8s.controlplane.etcd")

__all__ = ["KindResult", "ClusterLists", "ClusterSources", "build_assets", "record_coverage"]


def record_coverage(c: ClusterLists) -> None:
    """One coverage record per asset type per kind (denied/error -> the checks on that type say error)."""
    for kind, (_c, _m, _p, types) in RESOURCES.items():
        k = c.kind(kind)
        if k.absent and c.source == "kubectl":
            continue  # a dump covers what it covers; kinds it lacks only matter where other assets need them
        for t in types:
            c.session.coverage(t, c.scope, k.status, k.reason if k.status != EvidenceStatus.ok else None, k.evidence)


def build_assets(s: CollectSession, tname: str, lists: dict[str, KindResult], *,
                 sources: ClusterSources | None = None, source: str = "api", now: datetime | None = None) -> None:
    """The one place assets are made, from list answers (live, replayed evidence or a kubectl dump)."""
    c = ClusterLists(s, tname, lists, source, now or datetime.now(timezone.utc))
    src = sources or ClusterSources()
    record_coverage(c)
    if src.eks:  # AWS runs etcd, the controller manager and the scheduler: nothing of theirs to judge here
        for t in MANAGED_COMPONENTS:
            s.coverage(t, c.scope, EvidenceStatus.not_available, "managed control plane (EKS): run by AWS, not visible")
    roles_by = derive_roles(c)
    grants = grants_by_subject(c, roles_by)
    sa_automount = derive_serviceaccounts(c, grants)
    derive_workloads(c, sa_automount)
    cp_nodes = derive_controlplane(c)
    derive_namespaces(c)
    derive_networkpolicies(c)
    derive_nodes(c, src)
    derive_services(c)
    derive_ingresses(c)
    derive_bindings(c, roles_by)
    derive_subjects(c, grants)
    derive_secrets(c)
    derive_cluster(c, src, apiserver_flags_of_pods(c.kind("pods").items), cp_nodes)
