"""Merge shard bundles (account x region, cluster, host batch scanned where the network reaches) into one.

Evidence records are copied as they are (their ids are content-derived, so the same observation made by two
shards is one record; two different records under one id are refused); assets and coverage are unioned; the
merged inventory is then evaluated like any scan."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .bundle import BundleReader, require_intact
from .errors import BundleError, InputError
from .evidence import Recorder
from .models import Asset, Coverage, Inventory, Manifest


@dataclass
class Merged:
    inventory: Inventory
    system: str
    level: int | None
    scope: list[str]
    started_at: datetime
    finished_at: datetime
    partial: bool
    api_calls: dict[str, int]


def _copy_document(src: Path, b: BundleReader, name: str, root: Path) -> None:
    data = b.read(name)
    dest = root / name
    if dest.exists():
        if dest.read_bytes() != data:
            raise BundleError(f"{src}: {name} differs from the document of the same path in another shard")
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def merge_bundles(paths: list[Path], recorder: Recorder) -> Merged:
    if len(paths) < 2:
        raise InputError("merge needs at least two bundles")
    assets: dict[tuple[str, str], Asset] = {}
    coverage: dict[tuple, Coverage] = {}
    manifests: list[Manifest] = []
    seen_sha: dict[str, str] = {}
    for p in paths:
        require_intact(p)
        b = BundleReader(p)
        m = b.manifest()
        manifests.append(m)
        for name in b.names():
            if name.startswith("documents/"):  # documents attestations name: the same path must hold the same bytes
                _copy_document(p, b, name, recorder.root)
        for rec in b.evidence_records():
            if rec.id in seen_sha and seen_sha[rec.id] != rec.sha256:
                raise BundleError(f"{p}: evidence id {rec.id} differs from the record of the same id in another shard")
            seen_sha[rec.id] = rec.sha256
            try:
                recorder.import_record(rec)
            except ValueError as e:
                raise BundleError(f"{p}: {e}") from None
        inv = b.inventory()
        for a in inv.assets:
            key = (a.type, a.id)
            if key in assets:  # the same resource seen by two shards: keep both evidence trails
                old = assets[key]
                old.evidence = list(dict.fromkeys(old.evidence + a.evidence))
                old.errors = {**a.errors, **old.errors} if old.errors or a.errors else {}
            else:
                assets[key] = a
        for c in inv.coverage:
            coverage[(c.scope, c.asset_type, c.status, c.reason)] = c
    systems = {m.system for m in manifests}
    if len(systems) > 1:
        raise InputError(f"bundles belong to different systems: {', '.join(sorted(systems))}")
    levels = {m.level for m in manifests if m.level}
    calls: dict[str, int] = {}
    for m in manifests:
        for k, v in m.api_calls.items():
            calls[k] = calls.get(k, 0) + v
    return Merged(
        inventory=Inventory(assets=sorted(assets.values(), key=lambda a: (a.type, a.scope, a.id)),
                            coverage=list(coverage.values())),
        system=systems.pop(), level=levels.pop() if len(levels) == 1 else None,
        scope=sorted({s for m in manifests for s in m.scope}),
        started_at=min(m.started_at for m in manifests), finished_at=max(m.finished_at for m in manifests),
        partial=any(m.partial for m in manifests), api_calls=calls)
