"""Assets from list answers: the one place `k8s.*` assets are made, whether the lists come from a live
scan, replayed evidence or a kubectl dump. One module per family of kinds; `build_assets` runs them in a
fixed order (the inventory's order)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from mlps_scan.models import EvidenceRecord, EvidenceStatus
from mlps_scan.plugins import CollectSession

from ..controlplane import apiserver_flags_of_pods
from ..resources import RESOURCES
from .cluster import derive_cluster
from .context import ClusterLists, ClusterSources, KindResult
from .network import derive_ingresses, derive_namespaces, derive_networkpolicies, derive_services
from .nodes import derive_nodes, derive_secrets
from .rbac import derive_bindings, derive_roles
from .workloads import derive_serviceaccounts, derive_workloads

__all__ = ["KindResult", "ClusterLists", "ClusterSources", "build_assets", "record_coverage"]


def record_coverage(c: ClusterLists) -> None:
    """One coverage record per asset type per kind (denied/error -> the checks on that type say error)."""
    for kind, (_c, _m, _p, types) in RESOURCES.items():
        k = c.kind(kind)
        if k.absent and c.source == "kubectl":
            continue  # a dump covers what it covers; kinds it lacks only matter where other assets need them
        for t in types:
            c.session.coverage(t, c.scope, k.status, k.reason if k.status != EvidenceStatus.ok else None, k.evidence)


def build_assets(s: CollectSession, tname: str, lists: dict[str, KindResult], *, version: KindResult | None,
                 server: str | None = None, eks: dict | None = None, eks_error: tuple[str, str] | None = None,
                 eks_info: dict[str, tuple[str, Any]] | None = None,
                 source: str = "api", now: datetime | None = None,
                 encryption_config: EvidenceRecord | None = None) -> None:
    """The one place assets are made, from list answers (live, replayed evidence or a kubectl dump)."""
    c = ClusterLists(s, tname, lists, source, now or datetime.now(timezone.utc))
    src = ClusterSources(version=version, server=server, eks=eks, eks_error=eks_error, eks_info=eks_info or {},
                         encryption_config=encryption_config)
    record_coverage(c)
    sa_automount = derive_serviceaccounts(c)
    derive_workloads(c, sa_automount)
    derive_namespaces(c)
    derive_networkpolicies(c)
    derive_nodes(c)
    derive_services(c)
    derive_ingresses(c)
    derive_bindings(c, derive_roles(c))
    derive_secrets(c)
    derive_cluster(c, src, apiserver_flags_of_pods(c.kind("pods").items))
