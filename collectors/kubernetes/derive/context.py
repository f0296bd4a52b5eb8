"""What every derivation step reads: one cluster's lists (live answers, replayed evidence or a kubectl dump),
with why a kind is missing, and the scopes assets go into."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mlps_scan.models import EvidenceRecord, EvidenceStatus
from mlps_scan.plugins import CollectSession


@dataclass
class KindResult:
    items: list[dict]
    evidence: list[str]
    status: EvidenceStatus
    reason: str | None
    absent: bool = False  # not asked at all (a kubectl dump without this kind)


@dataclass
class ClusterLists:
    """One cluster's lists for the derivation: `kind("pods")` gives its items (or an error KindResult saying
    why they are missing), `why("pods")` the reason an attribute built from them is unknown."""
    session: CollectSession
    name: str
    lists: dict[str, KindResult]
    source: str  # "api" (live or replayed) or "kubectl" (a dump)
    now: datetime

    @property
    def scope(self) -> str:
        return f"kubernetes/{self.name}"

    def ns_scope(self, ns: str | None) -> str:
        return f"{self.scope}/{ns}" if ns else self.scope

    def kind(self, kind: str) -> KindResult:
        if kind in self.lists:
            return self.lists[kind]
        why = "not in the dump" if self.source == "kubectl" else "not collected"
        return KindResult([], [], EvidenceStatus.error, why, absent=True)

    def why(self, kind: str) -> str | None:
        k = self.kind(kind)
        return None if k.status == EvidenceStatus.ok else f"{kind}: {k.reason or k.status.value}"


def md(o: dict) -> dict:
    return o.get("metadata") or {}


def age_days(ts: str | None, now: datetime) -> int | None:
    if not ts:
        return None
    try:
        t = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0, (now - t).days)


@dataclass
class ClusterSources:
    """Cluster-level answers besides the lists: `/version`, the target's record (server URL, EKS settings),
    the AWS answers of an EKS cluster and the supplied EncryptionConfiguration copy."""
    version: KindResult | None = None
    server: str | None = None
    eks: dict | None = None
    eks_error: tuple[str, str] | None = None  # (evidence id, error) of a failed AWS call
    eks_info: dict[str, tuple[str, Any]] = field(default_factory=dict)  # "cluster" / "log_groups" -> (evidence id, answer)
    encryption_config: EvidenceRecord | None = None
    audit_policy: EvidenceRecord | None = None
    kubelet_config: bool = False  # the target opted in to reading each node's kubelet configuration
    kubelet_configz: dict[str, EvidenceRecord] = field(default_factory=dict)  # node -> its configz answer
