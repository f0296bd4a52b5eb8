"""Recorded evidence -> the lists and cluster answers the derivation reads, per target: pages put back in
order (the last attempt of a page wins, an expired first pass is dropped), incomplete lists marked as
errors, and the time of collection (ages are counted at collection time, so a replay next year derives the
same inventory)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from mlps_scan.models import EvidenceRecord, EvidenceStatus

from .auditpolicy import SOURCE as AUDIT_POLICY
from .derive.context import ClusterSources, KindResult
from .kubelet import SOURCE as KUBELET_CONFIGZ
from .resources import RESOURCES


@dataclass
class ClusterEvidence:
    lists: dict[str, KindResult] = field(default_factory=dict)
    sources: ClusterSources = field(default_factory=ClusterSources)
    collected_at: datetime | None = None


def records_by_target(records: list[EvidenceRecord]) -> dict[str, list[EvidenceRecord]]:
    by_target: dict[str, list[EvidenceRecord]] = {}
    for r in records:
        by_target.setdefault(r.target, []).append(r)
    return by_target


def _latest_generations(recs: list[EvidenceRecord]) -> dict[str, int]:
    gen: dict[str, int] = {}
    for r in recs:
        if r.source.startswith("list:"):
            gen[r.source] = max(gen.get(r.source, 1), int(r.request.get("generation", 1)))
    return gen


def _read_cluster_record(r: EvidenceRecord, src: ClusterSources) -> None:
    if r.source == "version":
        src.version = KindResult([r.answer] if r.status == EvidenceStatus.ok else [], [r.id], r.status, r.error)
    elif r.source == "encryption-config":
        src.encryption_config = r
    elif r.source == AUDIT_POLICY:
        src.audit_policy = r
    elif r.source == KUBELET_CONFIGZ:
        node = str((r.request or {}).get("node"))
        src.kubelet_configz[node] = r  # records sort by attempt: the last attempt wins
    elif r.source == "target" and isinstance(r.answer, dict):
        src.server = r.answer.get("server")
        src.eks = r.answer.get("eks")
        src.kubelet_config = bool(r.answer.get("kubelet_config"))
    elif r.source.startswith("eks:") or r.source == "logs:DescribeLogGroups":
        if r.status != EvidenceStatus.ok:
            src.eks_error = (r.id, r.error or r.status.value)
        elif r.source == "eks:DescribeCluster":
            src.eks_info["cluster"] = (r.id, r.answer)
        else:
            src.eks_info["log_groups"] = (r.id, r.answer)


def assemble_pages(pages: dict[int, EvidenceRecord]) -> KindResult:
    """One kind's list from its pages; a missing page (a continue token with no next page recorded, or a gap
    in the page numbers) makes the list incomplete: an error, never a shorter list."""
    kr = KindResult([], [], EvidenceStatus.ok, None)
    for n in sorted(pages):
        r = pages[n]
        kr.evidence.append(r.id)
        if r.status != EvidenceStatus.ok:
            kr.status, kr.reason = r.status, r.error or r.status.value
            continue
        kr.items.extend((r.answer or {}).get("items") or [])
    last = pages[max(pages)]
    if kr.status == EvidenceStatus.ok and ((last.answer or {}).get("metadata") or {}).get("continue"):
        kr.status, kr.reason = EvidenceStatus.error, "list incomplete: the last recorded page has a continue token"
    if sorted(pages) != list(range(1, len(pages) + 1)) and kr.status == EvidenceStatus.ok:
        kr.status, kr.reason = EvidenceStatus.error, "list incomplete: pages missing from the evidence"
    return kr


def cluster_evidence(recs: list[EvidenceRecord]) -> ClusterEvidence:
    """One target's records read back into lists and cluster answers."""
    out = ClusterEvidence()
    pages: dict[str, dict[int, EvidenceRecord]] = {}
    gen = _latest_generations(recs)
    for r in sorted(recs, key=lambda r: (r.source, r.request.get("page", 0), r.request.get("attempt", 0))):
        if r.source.startswith("list:"):
            if int(r.request.get("generation", 1)) != gen[r.source]:
                continue  # an earlier, expired pass over this list
            pages.setdefault(r.source[5:], {})[int(r.request.get("page", 1))] = r  # last attempt wins
        else:
            _read_cluster_record(r, out.sources)
    out.lists = {kind: assemble_pages(pg) for kind, pg in pages.items()}
    version = out.sources.version
    if not pages and version is not None and version.status != EvidenceStatus.ok:
        for kind in RESOURCES:  # the server did not answer /version: no list was asked
            out.lists[kind] = KindResult([], list(version.evidence), EvidenceStatus.error,
                                         f"not asked: /version failed ({version.reason or version.status.value})")
    when = max((r.collected_at for r in recs), default=None)
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    out.collected_at = when
    return out
