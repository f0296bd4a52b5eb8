"""The static format `kubectl`: a `kubectl get ... -o json` dump (a v1 List whose items carry their kind),
read into the same lists the live collector records and derived by the same code."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from .derive import KindResult, build_assets
from .resources import ITEM_KINDS, WORKLOAD_KINDS
from .sanitize import strip_secret


def kubectl_detect(doc: Any) -> bool:
    return (isinstance(doc, dict) and isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List")
            and "apiVersion" in doc and all(isinstance(i, dict) and i.get("kind") for i in doc["items"][:50]))


def kubectl_handler(doc: Any, s: CollectSession, ev_id: str | list[str], scope: str, path: Path | None) -> None:
    lists: dict[str, KindResult] = {}
    per_item = ev_id if isinstance(ev_id, list) else None  # a dump recorded in pages: the page of each item
    for i, it in enumerate(doc.get("items") or []):
        key = ITEM_KINDS.get(it.get("kind"))
        if key is None:
            continue  # kinds the scanner does not assess (ConfigMaps, Events...) stay in the evidence only
        if key == "secrets":
            it = strip_secret(it)
        kr = lists.get(key)
        if kr is None:
            kr = lists[key] = KindResult([], [], EvidenceStatus.ok, None)
        kr.items.append(it)
        ev = per_item[i] if per_item is not None else ev_id
        if (not kr.evidence or kr.evidence[-1] != ev) and ev not in kr.evidence:
            kr.evidence.append(ev)
    build_assets(s, s.target, lists, source="kubectl")


def kubectl_keep(it: dict) -> dict | None:
    """What `build_assets` reads of one item of a large dump (memory: the dump is read as a stream and only
    this is kept): kinds it assesses, without managedFields, and without the status of pods and workloads
    (nothing reads it; nodes and namespaces keep theirs)."""
    key = ITEM_KINDS.get(it.get("kind"))
    if key is None:
        return None
    if key == "secrets":
        return strip_secret(it)
    md = it.get("metadata")
    if key == "pods" and isinstance(md, dict) and md.get("ownerReferences") and md.get("namespace") != "kube-system":
        # a pod a controller owns is not a workload of its own: only the fact that it is owned is read
        return {"kind": it.get("kind"), "metadata": {k: md.get(k) for k in ("name", "namespace", "ownerReferences")}}
    if isinstance(md, dict) and "managedFields" in md:
        it = {**it, "metadata": {k: v for k, v in md.items() if k != "managedFields"}}
    if (key == "pods" or key in WORKLOAD_KINDS) and "status" in it:
        it = {k: v for k, v in it.items() if k != "status"}
    return it
