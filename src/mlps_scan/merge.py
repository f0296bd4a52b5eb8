"""Merge bundles into one: the shards of one config (`scan --shard K/N`, `--only`, scanned where the network
reaches), or whole scans of parts of one system.

Shards must make the whole: one config (the manifests' config hash), one level, the same unit list for each
target, every unit scanned by exactly one shard. Overlap, a different config or level, and units no shard
scanned (named) are refused; with `allow_partial` the missing units become `error` coverage (never a pass).

Evidence records are copied as they are (their ids are content-derived, so the same observation made by two
shards is one record; two different records under one id are refused). The merged inventory is then rebuilt
from the merged evidence by each collector (`Collector.merge_derive`), exactly as a replay would, so facts
that span shards (one account's regions scanned by two shards) are derived together; the result is evaluated
like any scan."""
from __future__ import annotations

import logging
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .bundle import BundleReader, require_intact
from .completeness import is_partial, recorder_failures
from .errors import BundleError, InputError
from .evidence import Recorder
from .models import Asset, Coverage, EvidenceRecord, EvidenceStatus, Inventory, Manifest, ShardInfo

log = logging.getLogger("mlps_scan")


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
    shard: ShardInfo | None = None
    config: dict[str, Any] = field(default_factory=dict)


def _copy_document(src: Path, b: BundleReader, name: str, root: Path) -> None:
    data = b.read(name)
    dest = root / name
    if dest.exists():
        if dest.read_bytes() != data:
            raise BundleError(f"{src}: {name} differs from the document of the same path in another shard")
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def check_shards(paths: list[Path], manifests: list[Manifest], allow_partial: bool) -> ShardInfo:
    """The merged shard record, or InputError when the shards do not make one whole config."""
    infos = [m.shard for m in manifests]
    by_hash: dict[str, Path] = {}
    for p, i in zip(paths, infos):
        by_hash.setdefault(i.config_sha256, p)
    if len(by_hash) > 1:
        (h1, p1), (h2, p2) = list(by_hash.items())[:2]
        raise InputError(f"shards of different configs: {p1} (config {h1[:12]}) and {p2} (config {h2[:12]}); "
                         "merge the shards of one scan config")
    levels: dict[int | None, Path] = {}
    for p, m in zip(paths, manifests):
        levels.setdefault(m.level, p)
    if len(levels) > 1:
        (l1, p1), (l2, p2) = list(levels.items())[:2]
        raise InputError(f"shards of different levels: {p1} (level {l1}) and {p2} (level {l2})")
    keys: list[str] = list(dict.fromkeys(k for i in infos for k in i.targets))
    targets: dict[str, list[str] | None] = {}
    for k in keys:
        lists = {tuple(i.targets[k]): p for p, i in zip(paths, infos) if i.targets.get(k) is not None}
        if len(lists) > 1:
            (u1, p1), (u2, p2) = list(lists.items())[:2]
            diff = sorted(set(u1) ^ set(u2))
            raise InputError(f"shards list different units for {k}: {p1} and {p2} differ in {', '.join(diff[:5])}"
                             f"{' ...' if len(diff) > 5 else ''} (did the target change between shards?); rescan them")
        targets[k] = list(next(iter(lists))) if lists else None
    owner: dict[str, Path] = {}
    for p, i in zip(paths, infos):
        for u in i.covered:
            if u in owner:
                raise InputError(f"shards overlap: {u} was scanned by {owner[u]} and by {p}; "
                                 "merge each unit's shard once")
            owner[u] = p
    known = {u for k, units in targets.items() for u in (units or [k])}
    stray = [u for u in owner if u not in known]
    if stray:
        raise InputError(f"{owner[stray[0]]} covers {stray[0]}, a unit no shard lists for the config")
    gaps = [u for k, units in targets.items() for u in (units or [k]) if u not in owner]
    if gaps and not allow_partial:
        more = f" and {len(gaps) - 10} more" if len(gaps) > 10 else ""
        raise InputError(f"{len(gaps)} unit(s) no shard scanned: {', '.join(gaps[:10])}{more}; scan them "
                         "(scan --only TARGET, or the missing --shard K/N) or pass --allow-partial (their checks are then error)")
    order = [u for k, units in targets.items() for u in (units or [k])]
    return ShardInfo(config_sha256=infos[0].config_sha256, targets=targets,
                     covered=[u for u in order if u in owner], gaps=gaps)


def merge_bundles(paths: list[Path], recorder: Recorder, *, allow_partial: bool = False) -> Merged:
    from .plugins import CollectSession, collectors

    readers: list[BundleReader] = []
    manifests: list[Manifest] = []
    for p in paths:
        require_intact(p)
        b = BundleReader(p)
        readers.append(b)
        manifests.append(b.manifest())
    sharded = [m.shard is not None for m in manifests]
    if any(sharded) and not all(sharded):
        p1 = paths[sharded.index(True)]
        p2 = paths[sharded.index(False)]
        raise InputError(f"{p1} is a shard of a scan config and {p2} is not: merge the shards of one config, "
                         "or whole scans")
    if len(paths) < (1 if all(sharded) else 2):
        raise InputError("merge needs at least two bundles")
    systems = {m.system for m in manifests}
    if len(systems) > 1:
        raise InputError(f"bundles belong to different systems: {', '.join(sorted(systems))}")
    shard = check_shards(paths, manifests, allow_partial) if all(sharded) else None

    # evidence: copied as it is; grouped per (collector, target) and per bundle for the rebuild
    groups: dict[tuple[str, str], list[list[EvidenceRecord]]] = {}
    seen_sha: dict[str, str] = {}
    for i, (p, b) in enumerate(zip(paths, readers)):
        for name in b.names():
            if name.startswith("documents/"):  # documents attestations name: the same path must hold the same bytes
                _copy_document(p, b, name, recorder.root)
        for rec in b.evidence_records():
            if rec.id in seen_sha and seen_sha[rec.id] != rec.sha256:
                raise BundleError(f"{p}: evidence id {rec.id} differs from the record of the same id in another shard")
            seen_sha[rec.id] = rec.sha256
            try:
                rec = recorder.import_record(rec)
            except ValueError as e:
                raise BundleError(f"{p}: {e}") from None
            per_bundle = groups.setdefault((rec.collector, rec.target), [])
            while len(per_bundle) <= i:
                per_bundle.append([])
            per_bundle[i].append(rec)

    # the inventory, rebuilt from the merged evidence by the collectors that recorded it
    from .runner import crash_coverage
    known = collectors()
    sessions: list[CollectSession] = []
    for (cname, tname), per_bundle in sorted(groups.items()):
        shards = [sorted(recs, key=lambda r: r.id) for recs in per_bundle if recs]
        s = CollectSession(cname, tname, recorder, base_dir=Path.cwd())
        sessions.append(s)
        cls = known.get(cname)
        if cls is None:
            s.coverage(f"{cname}.*", f"{cname}/{tname}", EvidenceStatus.error,
                       f"merged evidence needs collector plugin {cname!r}, which is not installed",
                       [r.id for recs in shards for r in recs][:50])
            continue
        coll = cls()
        for r in (r for recs in shards for r in recs):
            if r.source == "collector" and r.status == EvidenceStatus.error:
                crash_coverage(coll, s, r.id, r.error or "collector failed")
        try:
            coll.merge_derive(shards, s)
        except Exception as e:  # noqa: BLE001 - a collector that cannot rebuild costs only its own assets
            log.debug("merge derive failed: %s", traceback.format_exc())
            err = f"{type(e).__name__}: {e}"
            rec = s.record("merge:derive", status=EvidenceStatus.error, error=f"cannot rebuild the inventory: {err}")
            for pat in coll.patterns():
                s.coverage(pat, f"{cname}/{tname}", EvidenceStatus.error,
                           f"inventory not rebuilt from the merged evidence: {err}", [rec.id])

    # units no shard scanned (--allow-partial): error coverage, so their checks can never pass
    if shard and shard.gaps:
        unit_key = {u: k for k, units in shard.targets.items() for u in (units or [k])}
        for u in shard.gaps:
            key = unit_key[u]
            cname, _, tname = key.partition("/")
            s = CollectSession(cname, tname, recorder, base_dir=Path.cwd())
            sessions.append(s)
            rec = s.record("merge:unit-not-scanned", request={"unit": u}, status=EvidenceStatus.error,
                           error=f"no merged shard scanned {u}")
            cls = known.get(cname)
            for pat in (cls.patterns() if cls else (f"{cname}.*",)):
                s.coverage(pat, u, EvidenceStatus.error, f"not scanned: no merged shard covered {u}", [rec.id])

    assets: dict[tuple[str, str], Asset] = {}
    coverage: dict[tuple, Coverage] = {}
    for s in sessions:
        for a in s.assets:
            key = (a.type, a.id)
            if key in assets:  # the same resource seen by two shards: keep both evidence trails
                old = assets[key]
                old.evidence = list(dict.fromkeys(old.evidence + a.evidence))
                old.errors = {**a.errors, **old.errors} if old.errors or a.errors else {}
            else:
                assets[key] = a
        for c in s.coverage_records:
            k = (c.scope, c.asset_type, c.status, c.reason)
            if k in coverage:
                coverage[k].evidence = list(dict.fromkeys(coverage[k].evidence + c.evidence))
            else:
                coverage[k] = c

    levels = {m.level for m in manifests if m.level}
    calls: Counter[str] = Counter()
    for m in manifests:
        calls.update(m.api_calls)
    settings = [b.scan_settings() for b in readers]
    return Merged(
        inventory=Inventory(assets=sorted(assets.values(), key=lambda a: (a.type, a.scope, a.id)),
                            coverage=list(coverage.values())),
        system=systems.pop(), level=levels.pop() if len(levels) == 1 else None,
        scope=sorted({s for m in manifests for s in m.scope}),
        started_at=min(m.started_at for m in manifests), finished_at=max(m.finished_at for m in manifests),
        # completeness.py's definition (as verify re-derives it): failed evidence or coverage; the gaps of
        # --allow-partial are error coverage
        partial=any(m.partial for m in manifests) or is_partial(recorder_failures(recorder), coverage.values()),
        api_calls=dict(calls),
        shard=shard,
        config=settings[0].config if shard else {"merged_from": [str(p) for p in paths]})

