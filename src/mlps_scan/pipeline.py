"""The evaluate-and-write flow behind `scan`, `collect`, `check` and `merge`.

`cli.py` parses arguments and prints; everything that reads configs and bundles, runs collectors and checks
and writes a bundle lives here, so other front ends (a CI job, a Kubernetes Job, tests) call the same code.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from .bundle import (BundleReader, key_fingerprint, load_private_key, require_intact, staged_output, write_json,
                     write_manifest, write_text)
from .bundle import make_zip as zip_folder
from .errors import InputError
from .models import ControlResult, Finding, Inventory, Manifest, Profile


@dataclass
class Evaluation:
    """What evaluating a level produced (and wrote, when a stage folder was given)."""

    level: int
    profile: Profile
    findings: list[Finding]
    controls: list[ControlResult]
    partial: bool
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


def saved_profile(scan_meta: dict, level: int, cli_profile: Path | None) -> Profile:
    """The profile a bundle was judged with (scan.json), unless --profile overrides it or the level changed."""
    from .profile import build_profile
    if cli_profile:
        return build_profile(level, cli_profile)
    saved = (scan_meta.get("profile") or {}) if scan_meta.get("level") == level else {}
    saved = {k: v for k, v in saved.items() if k != "level"}
    return build_profile(level, saved or None)


def config_dump(cfg) -> dict:
    from .redact import redact
    return redact(cfg.model.model_dump(mode="json"))[0]


def evaluate(inventory: Inventory, level: int, profile: Profile) -> tuple[list[Finding], list[ControlResult]]:
    from .catalogue import load as load_catalogue
    from .runner import aggregate, evaluate as run_checks
    cat = load_catalogue()
    findings = run_checks(inventory, level, profile, cat)
    return findings, aggregate(findings, level, cat)


def evaluate_and_write(stage: Path, *, system: str, level: int, profile: Profile, inventory: Inventory,
                       scope: list[str], started_at: datetime, finished_at: datetime, partial: bool,
                       api_calls: dict, config_dump: dict, sign_key: Path | None, make_zip: bool) -> Evaluation:
    """Evaluate the level on the inventory and write the derived files, the report and the manifest into
    `stage` (which already holds the evidence)."""
    from .report import render

    findings, controls = evaluate(inventory, level, profile)
    evidence_count = len(list((stage / "evidence").glob("*.json"))) if (stage / "evidence").is_dir() else 0
    write_json(stage / "inventory.json", inventory)
    write_json(stage / "findings.json", findings)
    write_json(stage / "controls.json", controls)
    write_json(stage / "scan.json", {"system": system, "level": level, "profile": profile.model_dump(mode="json"),
                                     "config": config_dump})
    signed = key_fingerprint(load_private_key(sign_key)) if sign_key else None
    write_text(stage / "report.html", render(system=system, level=level, controls=controls, findings=findings,
                                             scope=scope, finished_at=finished_at.isoformat(), partial=partial,
                                             asset_count=len(inventory.assets), evidence_count=evidence_count,
                                             signed=signed))
    counts = {"controls": dict(Counter(c.status.value for c in controls)),
              "findings": dict(Counter(f.status.value for f in findings)),
              "assets": len(inventory.assets), "evidence": evidence_count}
    manifest = write_manifest(stage, dict(system=system, level=level, started_at=started_at, finished_at=finished_at,
                                          scope=scope, partial=partial, api_calls=api_calls, counts=counts), sign_key)
    if make_zip:
        zip_folder(stage)
    return Evaluation(level=level, profile=profile, findings=findings, controls=controls, partial=partial,
                      manifest=manifest)


# --------------------------------------------------------------------------- the commands' flows


def scan(config: Path, *, out: Path, level: int | None, profile_path: Path | None, evaluate_level: bool = True,
         force: bool = False, zip_bundle: bool = True, sign_key: Path | None = None, tofu: bool = False,
         progress: Callable[[str], None] | None = None) -> Evaluation | Collected:
    """Collect the config's targets into a new bundle at `out`; evaluate the level unless `evaluate_level` is
    false (`collect`). Nothing is written at `out` unless the whole run succeeds."""
    from .config import load_config
    from .evidence import Recorder
    from .runner import collect

    cfg = load_config(config)
    lvl = prof = None
    if evaluate_level:
        lvl = resolve_level(level, cfg.system.level)
        prof = resolve_profile(lvl, profile_path, cfg.model.profile, cfg.base_dir)
    if sign_key:
        load_private_key(sign_key)  # fail before scanning, not after
    # the ports the profile calls high-risk or admin are the ones discovery must probe (the checks judge them)
    ports_from = prof or resolve_profile(cfg.system.level or 3, profile_path, cfg.model.profile, cfg.base_dir)
    options = {"tofu": tofu, "profile_ports": sorted(set(ports_from.high_risk_ports) | set(ports_from.admin_ports))}
    dump = config_dump(cfg)
    with staged_output(out, force=force) as stage:
        rec = Recorder(stage)
        res = collect(cfg.targets(), rec, base_dir=cfg.base_dir, options=options, progress=progress)
        if evaluate_level:
            if progress:
                progress("evaluating checks")
            ev = evaluate_and_write(stage, system=cfg.system.name, level=lvl, profile=prof, inventory=res.inventory,
                                    scope=res.scope, started_at=res.started_at, finished_at=res.finished_at,
                                    partial=res.partial, api_calls=res.api_calls, config_dump=dump,
                                    sign_key=sign_key, make_zip=zip_bundle)
        else:
            write_json(stage / "inventory.json", res.inventory)
            write_json(stage / "scan.json", {"system": cfg.system.name, "level": cfg.system.level, "config": dump})
            write_manifest(stage, dict(system=cfg.system.name, level=cfg.system.level, started_at=res.started_at,
                                       finished_at=res.finished_at, scope=res.scope, partial=res.partial,
                                       api_calls=res.api_calls,
                                       counts={"assets": len(res.inventory.assets), "evidence": len(rec.index)}),
                           sign_key)
            if zip_bundle:
                zip_folder(stage)
    final = Path(out).expanduser().absolute()
    if not evaluate_level:
        return Collected(out=final, assets=len(res.inventory.assets), evidence=len(rec.index), partial=res.partial)
    ev.out = final
    return ev


def check(bundle: Path, *, level: int | None, profile_path: Path | None, out: Path | None = None,
          force: bool = False, zip_bundle: bool = True, sign_key: Path | None = None) -> Evaluation:
    """Re-evaluate a bundle offline (it must verify first); with `out`, write a new bundle of the result."""
    require_intact(bundle)
    b = BundleReader(bundle)
    m = b.manifest()
    scan_meta = b.scan_settings()
    lvl = resolve_level(level, m.level)
    inventory = b.inventory()
    profile = saved_profile(scan_meta, lvl, profile_path)
    if out is None:
        findings, controls = evaluate(inventory, lvl, profile)
        return Evaluation(level=lvl, profile=profile, findings=findings, controls=controls, partial=m.partial)
    with staged_output(out, force=force) as stage:
        for n in b.names():
            if n.startswith("evidence/"):
                (stage / n).parent.mkdir(parents=True, exist_ok=True)
                (stage / n).write_bytes(b.read(n))
        ev = evaluate_and_write(stage, system=m.system, level=lvl, profile=profile, inventory=inventory,
                                scope=m.scope, started_at=m.started_at, finished_at=m.finished_at,
                                partial=m.partial, api_calls=m.api_calls, config_dump=scan_meta.get("config", {}),
                                sign_key=sign_key, make_zip=zip_bundle)
    ev.out = Path(out).expanduser().absolute()
    return ev


def merge(bundles: list[Path], *, out: Path, level: int | None, profile_path: Path | None, force: bool = False,
          zip_bundle: bool = True, sign_key: Path | None = None) -> Evaluation:
    """Merge shard bundles of one system into a new bundle at `out` and evaluate it."""
    from .evidence import Recorder
    from .merge import merge_bundles

    with staged_output(out, force=force) as stage:
        m = merge_bundles(bundles, Recorder(stage))
        lvl = resolve_level(level, m.level)
        profile = resolve_profile(lvl, profile_path, None, Path.cwd())
        ev = evaluate_and_write(stage, system=m.system, level=lvl, profile=profile, inventory=m.inventory,
                                scope=m.scope, started_at=m.started_at, finished_at=m.finished_at,
                                partial=m.partial, api_calls=m.api_calls,
                                config_dump={"merged_from": [str(b) for b in bundles]}, sign_key=sign_key,
                                make_zip=zip_bundle)
    ev.out = Path(out).expanduser().absolute()
    return ev
