"""The static format `kubectl`: a `kubectl get ... -o json` dump (a v1 List whose items carry their kind),
read into the same lists the live collector records and derived by the same code."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from .derive import KindResult, build_assets
from .resources import ITEM_KINDS
from .sanitize import strip_secret


def kubectl_detect(doc: Any) -> bool:
    return (isinstance(doc, dict) and isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List")
            and "apiVersion" in doc and all(isinstance(i, dict) and i.get("kind") for i in doc["items"][:50]))


def kubectl_handler(doc: Any, s: CollectSession, ev_id: str, scope: str, path: Path | None) -> None:
    lists: dict[str, KindResult] = {}
    for it in doc.get("items") or []:
        key = ITEM_KINDS.get(it.get("kind"))
        if key is None:
            continue  # kinds the scanner does not assess (ConfigMaps, Events...) stay in the evidence only
        if key == "secrets":
            it = strip_secret(it)
        lists.setdefault(key, KindResult([], [ev_id], EvidenceStatus.ok, None)).items.append(it)
    build_assets(s, s.target, lists, source="kubectl")
