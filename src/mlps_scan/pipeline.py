"""The evaluate-and-write flow behind `scan`, `collect`, `check` and `merge`.

`cli.py` parses arguments and prints; everything that reads configs and bundles, runs collectors and checks
and writes a bundle lives here, so other front ends (a CI job, a Kubernetes Job, tests) call the same code.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .bundle import (BundleReader, key_fingerprint, load_private_key, require_intact, staged_output, write_json,
                     write_manifest, write_text)
from .bundle import make_zip as zip_folder
from .completeness import bundle_failures, recorder_failures
from .errors import InputError
from .models import Assessment, ControlResult, Finding, Inventory, Manifest, Profile, ScanSettings, ShardInfo
from .plugins import plugin_failures
from .selection import Selection
from .terminal import partial_reasons, scan_log

if TYPE_CHECKING:
    from .runner import RecordedCheck


@dataclass
class Evaluation:
    """What evaluating a level produced (and wrote, when a stage folder was given)."""

    level: int
    profile: Profile
    findings: list[Finding]
    controls: list[ControlResult]
    partial: bool
    assessment: Assessment | None = None
    manifest: Manifest | None = None
    out: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Collected:
    """What `collect` produced without evaluating a level."""

    out: Path
    assets: int
    evidence: int
    partial: bool
    why: list[str] = field(default_factory=list)


def resolve_level(requested: int | None, configured: int | None, required: bool = True) -> int | None:
    level = requested or configured
    if level is None and required:
        raise InputError("no level: pass --level 1|2|3 or set system.level in the scan config")
    return level


def resolve_profile(level: int, cli_profile: Path | None, cfg_profile: Any, base_dir: Path) -> Profile:
    """The thresholds: --profile FILE beats the config's `profile:` (a path relative to the config, or inline)."""
    from .profile import build_profile
    if cli_profile:
        return build_profile(level, cli_profile)
    if isinstance(cfg_profile, str):
        p = Path(cfg_profile).expanduser()
        return build_profile(level, p if p.is_absolute() else base_dir / p)
    return build_profile(level, cfg_profile)


def saved_profile(settings: ScanSettings, level: int, cli_profile: Path | None) -> Profile:
    """The profile a bundle was judged with (scan.json), unless --profile overrides it or the level changed."""
    from .profile import build_profile
    if cli_profile:
        return build_profile(level, cli_profile)
    saved = (settings.profile or {}) if settings.level == level else {}
    saved = {k: v for k, v in saved.items() if k != "level"}
    return build_profile(level, saved or None)


def config_dump(cfg) -> dict:
    from .redact import redact
    return redact(cfg.model.model_dump(mode="json"))[0]


def evaluate(inventory: Inventory, level: int, profile: Profile, *, system: str = "", as_of: date | None = None,
             extensions: list[str] | None = None, selection: Selection | None = None,
             known_checks: Mapping[str, RecordedCheck] | None = None
             ) -> tuple[list[Finding], list[ControlResult], Assessment]:
    """Checks, decisions (waivers, attestations, 不适用, rulings on high-risk candidates), one result per control
    and the assessment. `as_of` is the date decisions are judged at (default today); `extensions` the declared
    scope (None: derived from the evidence); `selection` the checks to run (a control whose checks were left out
    says so and is never compliant for it); `known_checks` the checks a bundle's findings name (a re-check):
    known ids for its waivers even without their plugin, and a check among them that is not installed here gives
    an `error` on the controls it evidenced instead of vanishing. A decision the profile or the guideline does not
    allow is an InputError."""
    from . import assessment as A
    from .catalogue import load as load_catalogue
    from .plugins import checks, collectors, declared_check_ids
    from .runner import absent_check_findings, aggregate, evaluate as run_checks
    from .selection import mark_skipped
    cat = load_catalogue()
    as_of = as_of or date.today()
    waivers, superseded = A.waivers_in(inventory)
    A.validate_waivers(waivers, profile, known_checks=declared_check_ids() | set(known_checks or {}) | {"attestation"},
                       known_controls=cat.by_id)
    decisions = A.decisions_in(inventory)
    A.validate_decisions(decisions)
    sel = selection or Selection()
    specs = list(checks().values())
    run, skipped = sel.resolve(specs, level)
    findings = run_checks(inventory, level, profile, cat, only=run if sel.active else None, as_of=as_of)
    installed = declared_check_ids()
    absent = {c: r for c, r in (known_checks or {}).items() if c not in installed and sel.covers(c, r.severity)}
    if absent:
        findings = sorted(findings + absent_check_findings(absent, level, cat),
                          key=lambda f: (f.check_id, f.scope, f.resource_id))
    findings, waiver_states = A.apply_waivers(findings, waivers, as_of, superseded)
    scope = A.decide_scope(inventory, extensions, {n: c.extensions for n, c in collectors().items()})
    attestations = A.attestation_states_of(inventory, as_of, profile.attestation_max_age_days)
    na, contradicted, notes = A.decide_not_applicable(findings, level, cat, scope, attestations)
    controls = mark_skipped(aggregate(findings, level, cat, not_applicable=na), skipped, specs, level)
    verdict = A.assess(system=system, level=level, as_of=as_of, profile=profile, catalogue=cat, findings=findings,
                       controls=controls, scope=scope, waiver_states=waiver_states, attestations=attestations,
                       contradicted=contradicted, notes=notes,
                       triggers={s.id: s.high_risk for s in checks().values() if s.high_risk}, decisions=decisions)
    return findings, controls, verdict


def declared_extensions(config_dump: dict) -> list[str] | None:
    """system.extensions of the scan config a bundle was made with (None: not declared)."""
    ext = ((config_dump or {}).get("system") or {}).get("extensions") if isinstance(config_dump, dict) else None
    return list(ext) if isinstance(ext, list) else None


def config_sha256(dump: dict) -> str:
    """The hash shards of one config share: the config as loaded (redacted), canonical JSON."""
    import hashlib

    from .evidence import canonical_json
    return hashlib.sha256(canonical_json(dump)).hexdigest()


def evaluate_and_write(stage: Path, *, system: str, level: int, profile: Profile, inventory: Inventory,
                       scope: list[str], started_at: datetime, finished_at: datetime, partial: bool,
                       api_calls: dict, config_dump: dict, sign_key: Path | None, make_zip: bool,
                       as_of: date | None = None, selection: Selection | None = None,
                       from_evidence: bool = False, why_partial: list[str] = (),
                       known_checks: Mapping[str, RecordedCheck] | None = None,
                       shard: ShardInfo | None = None) -> Evaluation:
    """Evaluate the level on the inventory and write the derived files, the assessment, the report and the
    manifest into `stage` (which already holds the evidence). `from_evidence`: the inventory was built in this
    run from the evidence it recorded (redacted then), so the derived files need no second redaction pass; an
    inventory read from other bundles (`check`, `merge`) gets one. `why_partial`: what failed, one line each
    (terminal.partial_reasons), named in the report."""
    from .report import render

    findings, controls, verdict = evaluate(inventory, level, profile, system=system, as_of=as_of,
                                           extensions=declared_extensions(config_dump), selection=selection,
                                           known_checks=known_checks)
    selected = (selection or Selection()).record_for(level)
    evidence_count = len(list((stage / "evidence").glob("*.json"))) if (stage / "evidence").is_dir() else 0
    again = not from_evidence
    write_json(stage / "inventory.json", inventory, redact=again)
    write_json(stage / "findings.json", findings, redact=again)
    write_json(stage / "controls.json", controls, redact=again)
    write_json(stage / "assessment.json", verdict, redact=again)
    write_json(stage / "scan.json", {"system": system, "level": level, "profile": profile.model_dump(mode="json"),
                                     "scope": verdict.scope.model_dump(mode="json"), "config": config_dump})
    # (scan.json always passes the redactor: the config is the user's input, not recorded evidence)
    signed = key_fingerprint(load_private_key(sign_key)) if sign_key else None
    failures = plugin_failures()
    write_text(stage / "report.html", render(system=system, level=level, controls=controls, findings=findings,
                                             scope=scope, finished_at=finished_at.isoformat(), partial=partial,
                                             asset_count=len(inventory.assets), evidence_count=evidence_count,
                                             signed=signed, assessment=verdict, plugin_failures=failures,
                                             selection=selected, missing=list(why_partial)), redact=again)
    counts = {"controls": dict(Counter(c.status.value for c in controls)),
              "findings": dict(Counter(f.status.value for f in findings)),
              "assets": len(inventory.assets), "evidence": evidence_count,
              "high_risk_candidates": len(verdict.high_risks)}
    manifest = write_manifest(stage, dict(system=system, level=level, started_at=started_at, finished_at=finished_at,
                                          scope=scope, partial=partial, api_calls=api_calls, counts=counts,
                                          plugin_failures=failures, selection=selected, shard=shard), sign_key)
    if make_zip:
        zip_folder(stage)
    return Evaluation(level=level, profile=profile, findings=findings, controls=controls, partial=partial,
                      assessment=verdict, manifest=manifest)


# --------------------------------------------------------------------------- the commands' flows


def scan(config: Path, *, out: Path, level: int | None, profile_path: Path | None, evaluate_level: bool = True,
         force: bool = False, zip_bundle: bool = True, sign_key: Path | None = None, tofu: bool = False,
         progress: Callable[[str], None] | None = None, as_of: date | None = None,
         selection: Selection | None = None, shard: tuple[int, int] | None = None,
         only: list[str] | None = None) -> Evaluation | Collected:
    """Collect the config's targets into a new bundle at `out`; evaluate the level unless `evaluate_level` is
    false (`collect`). With `shard` (K, N) and/or `only` (target keys), collect that part of the config's
    units and record in the manifest which part it is. Nothing is written at `out` unless the whole run
    succeeds."""
    from .config import load_config
    from .evidence import Recorder
    from .runner import ShardSelection, collect

    cfg = load_config(config)
    lvl = prof = None
    if evaluate_level:
        lvl = resolve_level(level, cfg.system.level)
        prof = resolve_profile(lvl, profile_path, cfg.model.profile, cfg.base_dir)
    if sign_key:
        load_private_key(sign_key)  # fail before scanning, not after
    if prof is not None:
        check_static_waivers(cfg, prof)  # a waiver the profile does not allow fails before scanning, not after
    if selection is not None and lvl is not None:
        from .plugins import checks
        selection.resolve(list(checks().values()), lvl)  # a selection that names nothing fails before scanning
    # collectors read the scan's profile (host discovery probes the ports it calls high-risk or admin)
    collect_profile = prof or resolve_profile(cfg.system.level or 3, profile_path, cfg.model.profile, cfg.base_dir)
    dump = config_dump(cfg)
    part = None
    if shard or only:
        k, n = shard or (1, 1)
        part = ShardSelection(k, n, tuple(dict.fromkeys(only or ())))
    with staged_output(out, force=force) as stage:
        rec = Recorder(stage, id_salt=part.salt if part else None)
        with scan_log(stage):  # library warnings (urllib3 retries...) go to scan.log in the bundle
            res = collect(cfg.targets(), rec, base_dir=cfg.base_dir, profile=collect_profile, trust_on_first_use=tofu,
                          progress=progress, selection=part)
        why = partial_reasons(res.inventory, res.failed_targets, res.failures) if res.partial else []
        info = None
        if part is not None:
            info = ShardInfo(config_sha256=config_sha256(dump), index=part.index, count=part.count,
                             only=list(part.only), targets=res.shard.targets, covered=res.shard.covered)
        if evaluate_level:
            if progress:
                progress("evaluating checks")
            ev = evaluate_and_write(stage, system=cfg.system.name, level=lvl, profile=prof, inventory=res.inventory,
                                    scope=res.scope, started_at=res.started_at, finished_at=res.finished_at,
                                    partial=res.partial, api_calls=res.api_calls, config_dump=dump,
                                    sign_key=sign_key, make_zip=zip_bundle, as_of=as_of, selection=selection,
                                    from_evidence=True, why_partial=why, shard=info)
        else:
            write_json(stage / "inventory.json", res.inventory, redact=False)
            write_json(stage / "scan.json", {"system": cfg.system.name, "level": cfg.system.level, "config": dump})
            write_manifest(stage, dict(system=cfg.system.name, level=cfg.system.level, started_at=res.started_at,
                                       finished_at=res.finished_at, scope=res.scope, partial=res.partial,
                                       api_calls=res.api_calls,
                                       counts={"assets": len(res.inventory.assets), "evidence": len(rec.index)},
                                       plugin_failures=plugin_failures(), shard=info),
                           sign_key)
            if zip_bundle:
                zip_folder(stage)
    final = Path(out).expanduser().absolute()
    if not evaluate_level:
        return Collected(out=final, assets=len(res.inventory.assets), evidence=len(rec.index), partial=res.partial,
                         why=why)
    ev.out = final
    ev.extra["sample"] = cfg.system.sample
    ev.extra["why_partial"] = why
    return ev


def check(bundle: Path, *, level: int | None, profile_path: Path | None, out: Path | None = None,
          force: bool = False, zip_bundle: bool = True, sign_key: Path | None = None,
          waivers: Path | None = None, as_of: date | None = None, selection: Selection | None = None) -> Evaluation:
    """Re-evaluate a bundle offline (it must verify first); with `out`, write a new bundle of the result.
    `waivers` (a static file holding only `waivers:`) replaces the bundle's waivers; in a written bundle the
    file is recorded as evidence like any other."""
    require_intact(bundle)
    b = BundleReader(bundle)
    m = b.manifest()
    scan_meta = b.scan_settings()
    lvl = resolve_level(level, m.level)
    inventory = b.inventory()
    profile = saved_profile(scan_meta, lvl, profile_path)
    config = scan_meta.config
    why = partial_reasons(inventory, failures=bundle_failures(b)) if m.partial else []
    # the checks the bundle was judged with: known ids for its waivers, and said when one is not installed here
    from .runner import recorded_checks
    known = recorded_checks(b.findings()) if b.has("findings.json") else {}
    wdoc = wlist = reader = None
    if waivers is not None:
        reader = waiver_file_reader()
        wdoc, wlist = reader.parse_waivers_file(waivers)
    if out is None:
        if wlist is not None:
            inventory = _with_waivers(inventory, Path(waivers), wlist, None, reader)
        findings, controls, verdict = evaluate(inventory, lvl, profile, system=m.system, as_of=as_of,
                                               extensions=declared_extensions(config), selection=selection,
                                               known_checks=known)
        selected = (selection or Selection()).record_for(lvl)
        return Evaluation(level=lvl, profile=profile, findings=findings, controls=controls, partial=m.partial,
                          assessment=verdict, extra={"why_partial": why, **({"selection": selected} if selected else {})})
    with staged_output(out, force=force) as stage:
        for n in b.names():
            if n.startswith(("evidence/", "documents/")) or n == "scan.log":
                (stage / n).parent.mkdir(parents=True, exist_ok=True)
                (stage / n).write_bytes(b.read(n))
        if wdoc is not None:
            from .evidence import Recorder
            inventory = _with_waivers(inventory, Path(waivers), wdoc, Recorder(stage), reader)
        ev = evaluate_and_write(stage, system=m.system, level=lvl, profile=profile, inventory=inventory,
                                scope=m.scope, started_at=m.started_at, finished_at=m.finished_at,
                                partial=m.partial, api_calls=m.api_calls, config_dump=config,
                                sign_key=sign_key, make_zip=zip_bundle, as_of=as_of, selection=selection,
                                why_partial=why, known_checks=known)
    ev.out = Path(out).expanduser().absolute()
    ev.extra["why_partial"] = why
    return ev


WAIVERS_TARGET = "waivers"


def waiver_file_reader():
    """The collector that reads `check --waivers` files (the one declaring `reads_waiver_files`)."""
    from .plugins import collectors
    for cls in collectors().values():
        if cls.reads_waiver_files:
            return cls
    raise InputError("check --waivers: no installed collector reads waiver files")


def _with_waivers(inventory: Inventory, path: Path, doc: Any, recorder, reader) -> Inventory:
    """The inventory with its waivers superseded by those of a `check --waivers` file. With a recorder, `doc`
    (the parsed file) becomes an evidence record of the collector that reads such files (`reader`), which
    derives the waivers from it, so a replay of the new bundle rebuilds the same waivers; without one
    (nothing written), `doc` is the list of waivers. The record names the evidence of every waiver it replaces
    (`replaces`), so a replay of the new bundle, which derives the old waivers again, knows them superseded."""
    from .models import Asset
    from .plugins import CollectSession
    inv = inventory.model_copy(deep=True)
    # the bundle's waivers stay in the inventory, superseded (listed as such in the assessment)
    replaces = sorted({ev for a in inv.assets if a.type == "waiver" for ev in a.evidence})
    if recorder is None:
        inv.assets.extend(Asset(type="waiver", id=w.id, name=w.id, scope=f"{reader.name}/{WAIVERS_TARGET}",
                                attributes={**w.model_dump(mode="json"), "file": path.name, "replaces": replaces})
                          for w in doc)
        return inv
    s = CollectSession(reader.name, WAIVERS_TARGET, recorder, base_dir=path.parent)
    s.record(f"file:{path.name}", doc, request={"path": path.name, "format": "assets", "given_as": "--waivers",
                                               "replaces": replaces})
    reader().derive(s.records(), s)
    inv.assets.extend(s.assets)
    inv.assets.sort(key=lambda a: (a.type, a.scope, a.id))
    return inv


def check_static_waivers(cfg, profile: Profile) -> None:
    """Before scanning: the decisions the config's targets declare (static files) within the limits of the
    profile (waivers) and of the guideline (rulings on high-risk candidates)."""
    from . import assessment as A
    from .catalogue import load as load_catalogue
    from .models import Asset
    from .plugins import declared_check_ids
    collectors_ = [(cls, t, cls()) for cls, t in cfg.targets()]
    found = [A.RecordedWaiver(w, Asset(type="waiver", id=w.id, scope=f"{cls.name}/{c.target_name(t)}",
                                       attributes={"file": str(f)}))
             for cls, t, c in collectors_ for f, w in c.declared_waivers(t, cfg.base_dir)]
    A.validate_waivers(found, profile, known_checks=declared_check_ids() | {"attestation"},
                       known_controls=load_catalogue().by_id)
    decisions = [A.RecordedDecision(d, Asset(type="high_risk_decision", id=f"{f}#{d.case_id}",
                                             scope=f"{cls.name}/{c.target_name(t)}", attributes={"file": str(f)}))
                 for cls, t, c in collectors_ for f, d in c.declared_high_risk_decisions(t, cfg.base_dir)]
    A.validate_decisions(decisions)


@dataclass
class Shards:
    """What the shards of a merge were judged with: their settings (scan.json), the checks their findings name,
    and their assessment dates."""

    settings: list[ScanSettings]
    known: dict[str, "RecordedCheck"]
    as_of: list[date]


def shard_settings(bundles: list[Path]) -> Shards:
    """The settings each shard was judged with, the checks their findings name and their assessment dates.
    Shards whose declared scope (system.extensions) differs are refused: the merged bundle would be judged on
    one of them."""
    from .runner import recorded_checks
    settings, findings, dates = [], [], []
    for p in bundles:  # verified by merge_bundles before anything is written
        b = BundleReader(p)
        settings.append(b.scan_settings())
        if b.has("findings.json"):
            findings.extend(b.findings())
        a = b.assessment()
        if a is not None:
            dates.append(a.as_of)
    known = recorded_checks(findings)
    declared = {repr(declared_extensions(s.config)) for s in settings}
    if len(declared) > 1:
        raise InputError(f"the bundles declare different scopes (system.extensions: {', '.join(sorted(declared))}): "
                         "merge bundles of one system's scan config")
    return Shards(settings, known, dates)


def merged_profile(settings: list[ScanSettings], level: int, cli_profile: Path | None) -> Profile:
    """--profile FILE, else the profile every shard was judged with (saved in its scan.json, as `check` reads
    it); shards judged with different profiles need --profile."""
    if cli_profile:
        return saved_profile(settings[0], level, cli_profile)
    profiles = [saved_profile(s, level, None).model_dump(mode="json") for s in settings]
    if any(p != profiles[0] for p in profiles[1:]):
        changed = sorted(k for k in profiles[0] if any(p.get(k) != profiles[0].get(k) for p in profiles[1:]))
        raise InputError(f"the bundles were judged with different profiles ({', '.join(changed)}): pass --profile FILE "
                         "for the merged result")
    return saved_profile(settings[0], level, None)


def merge(bundles: list[Path], *, out: Path, level: int | None, profile_path: Path | None, force: bool = False,
          zip_bundle: bool = True, sign_key: Path | None = None, as_of: date | None = None,
          selection: Selection | None = None, allow_partial: bool = False) -> Evaluation:
    """Merge shard bundles of one config (or whole scans of one system) into a new bundle at `out` and
    evaluate it. Shards must make the whole config (see merge.check_shards) unless `allow_partial`, which
    turns the units no shard scanned into `error`."""
    from .evidence import Recorder
    from .merge import merge_bundles

    shards = shard_settings(bundles)
    settings, known = shards.settings, shards.known
    # judged as of the shards' assessment date (the latest), as they were, unless --as-of says otherwise: a
    # merge made later neither expires a waiver the shards counted nor counts one that was pending then
    as_of = as_of or (max(shards.as_of) if shards.as_of else None)
    with staged_output(out, force=force) as stage:
        rec = Recorder(stage)
        m = merge_bundles(bundles, rec, allow_partial=allow_partial)
        why = partial_reasons(m.inventory, failures=recorder_failures(rec)) if m.partial else []
        lvl = resolve_level(level, m.level)
        profile = merged_profile(settings, lvl, profile_path)
        if m.shard is not None:  # shards of one config: the merged bundle records that config (and the shard record)
            config = m.config
        else:
            ext = declared_extensions(settings[0].config)
            config = {"merged_from": [str(b) for b in bundles],
                      **({"system": {"extensions": ext}} if ext is not None else {})}
        ev = evaluate_and_write(stage, system=m.system, level=lvl, profile=profile, inventory=m.inventory,
                                scope=m.scope, started_at=m.started_at, finished_at=m.finished_at,
                                partial=m.partial, api_calls=m.api_calls, config_dump=config, sign_key=sign_key,
                                make_zip=zip_bundle, as_of=as_of, selection=selection, why_partial=why,
                                known_checks=known, shard=m.shard)
    ev.out = Path(out).expanduser().absolute()
    ev.extra["why_partial"] = why
    ev.extra["sample"] = bool(((m.config or {}).get("system") or {}).get("sample"))  # shards of the sample estate
    return ev
