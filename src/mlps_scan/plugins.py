"""Plugin contracts and registries.

Collectors
    A subclass of `Collector` with `name`, `config_key` (its key in scan.yaml) and `target_model` (the
    pydantic model of one entry under that key). `collect(target, session)` talks to its peer, records every
    answer through `session.record()`, builds assets from the *recorded* (redacted) answer with
    `session.asset()`, and says with `session.coverage()` which kinds of asset it could or could not collect
    in which scope. It never decides compliance.

    Shards: `units(target, session)` names the parts of a target that can be scanned apart (an account x region,
    a host address or CIDR chunk; by default the whole target is one unit), as ids that start with
    `<collector>/<target name>`. A shard calls `collect()` with `session.units` set to the units it holds
    (None: all of them). `merge_derive()` rebuilds a target's inventory from the evidence of several shards.

Checks
    A plain function decorated with `@check(...)` that receives one asset and a `CheckContext` and returns a
    `Verdict` (or a list of them). It never touches the network. Reading an attribute the collector could not
    get (`ctx.need(asset, "key")`) raises `EvidenceMissing`, which the runner turns into an `error` finding.

Built-ins live in the `mlps_scan.collectors` and `mlps_scan.checks` packages (the repository's top-level
collectors/ and checks/ folders); third parties register through the entry-point groups
`mlps_scan.collectors` and `mlps_scan.checks` (an entry point may name a module or a Collector class).
"""
from __future__ import annotations

import ast
import importlib
import logging
import pkgutil
import sys
import threading
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, ClassVar, Iterable

from pydantic import BaseModel

from .architecture import ArchitectureEntries
from .evidence import Recorded, Recorder
from .models import (Asset, Bilingual, Coverage, EvidenceRecord, EvidenceStatus, HighRiskDecision, HighRiskTrigger,
                     PluginFailure, Profile, Waiver)

log = logging.getLogger("mlps_scan")

# --------------------------------------------------------------------------- collectors


_COLLECTORS: dict[str, type["Collector"]] = {}


class CollectSession:
    """What a collector gets for one target: evidence recording, assets, coverage, call counting."""

    def __init__(self, collector: str, target: str, recorder: Recorder, *, base_dir: Path,
                 profile: Profile | None = None, trust_on_first_use: bool = False,
                 options: dict[str, Any] | None = None, progress: Callable[[str], None] | None = None,
                 units: list[str] | None = None):
        self.collector = collector
        self.target = target
        self.recorder = recorder
        self.base_dir = base_dir
        # the scan's thresholds (e.g. which ports are high-risk: host discovery probes them); None = defaults
        self.profile = profile
        # --tofu: accept unknown SSH host keys (recorded); a changed key is always refused
        self.trust_on_first_use = trust_on_first_use
        self.options = options or {}  # plugin-specific tuning (e.g. k8s_page_size), for tests and benchmarks
        self._progress = progress
        self._lock = threading.Lock()
        self.assets: list[Asset] = []
        self.coverage_records: list[Coverage] = []
        self.api_calls = 0
        self.errors = 0
        self._record_ids: set[str] = set()
        # keep_records: the collector derives from its records (`records()`) and they are kept as written
        # instead of read back from their files (the AWS collector: its derivation needs them all at once anyway)
        self.keep_records = False
        self._kept: dict[str, EvidenceRecord] = {}
        # defer_writes: records are written when the collector reads them (`records()`) or the runner ends the
        # session (`flush()`), not by each worker thread as it goes (the AWS collector: see Recorder.record)
        self.defer_writes = False
        self._deferred: list[dict[str, Any]] = []
        self.parts: dict[str, dict[str, int]] = {}  # per region (or other part of the target): calls, errors
        # the units of the target this session collects (a shard's part); None: the whole target
        self.units: list[str] | None = units
        # a collector's own notes between units() and collect() (e.g. an account listing made once)
        self.state: dict[str, Any] = {}
        self._root: CollectSession = self

    def wants(self, unit: str) -> bool:
        """Whether this session collects `unit` (always, when it collects the whole target)."""
        return self.units is None or unit in self.units

    def sub(self, target: str) -> "CollectSession":
        """A view of this session that records evidence under another target name (an account of an
        organisation, `org/111122223333`) and adds its assets, coverage, calls and errors to this session's;
        its `records()` are its own."""
        child = CollectSession(self.collector, target, self.recorder, base_dir=self.base_dir, profile=self.profile,
                               trust_on_first_use=self.trust_on_first_use, options=self.options,
                               progress=self._progress, units=self.units)
        child._lock, child.assets, child.coverage_records = self._lock, self.assets, self.coverage_records
        child.state, child.parts, child._root = self.state, self.parts, self._root
        return child

    # evidence
    def record(self, source: str, answer: Any = None, *, request: dict | None = None,
               status: EvidenceStatus | str = EvidenceStatus.ok, error: str | None = None) -> Recorded:
        rec = self.recorder.record(collector=self.collector, target=self.target, source=source, answer=answer,
                                   request=request, status=status, error=error, keep=self.keep_records,
                                   defer=self.defer_writes)
        bad = rec.status in (EvidenceStatus.error, EvidenceStatus.denied)
        part = (request or {}).get("region")
        with self._lock:
            if rec.pending is not None:
                self._deferred.append(rec.pending)
            self._record_ids.add(rec.id)
            if rec.record is not None:
                self._kept[rec.id] = rec.record
            if bad:
                self._root.errors += 1
            if isinstance(part, str) and part:
                p = self.parts.setdefault(part, {"calls": 0, "errors": 0})
                p["calls"] += 1
                p["errors"] += bad
        return rec

    def flush(self) -> None:
        """Write the records this session deferred (`defer_writes`), in the order they were made."""
        with self._lock:
            docs, self._deferred = self._deferred, []
        if docs:
            self.recorder.write_deferred(docs)

    def records(self) -> list[EvidenceRecord]:
        """The records this session wrote, read back as stored (redacted), in the order the recorder took
        them. Only this session's own files are read: another target's collector may still be writing its
        records into the same folder."""
        self.flush()
        with self._lock:
            mine = set(self._record_ids)
            kept = dict(self._kept)
        return [kept.get(ev_id) or EvidenceRecord.model_validate_json(
                    (self.recorder.dir / f"{ev_id}.json").read_text(encoding="utf-8"))
                for ev_id in list(self.recorder.index) if ev_id in mine]

    def count_call(self, n: int = 1) -> None:
        with self._lock:
            self._root.api_calls += n

    # inventory
    def asset(self, type: str, id: str, *, scope: str, name: str | None = None,
              attributes: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
              evidence: Iterable[str] = (), origin: str | None = None) -> Asset:
        """An inventory item; `origin` says where a declared (not observed) asset comes from."""
        a = Asset(type=type, id=id, name=name, scope=scope, attributes=attributes or {}, errors=errors or {},
                  evidence=list(dict.fromkeys(evidence)), origin=origin)
        with self._lock:
            self.assets.append(a)
        return a

    def coverage(self, asset_type: str, scope: str, status: EvidenceStatus | str = EvidenceStatus.ok,
                 reason: str | None = None, evidence: Iterable[str] = ()) -> None:
        c = Coverage(scope=scope, asset_type=asset_type, status=EvidenceStatus(status), reason=reason,
                     evidence=list(evidence))
        with self._lock:
            self.coverage_records.append(c)

    # helpers
    def resolve_path(self, p: str | Path) -> Path:
        """Paths in scan.yaml are relative to the scan.yaml's folder; `~` is the user's home."""
        path = Path(p).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    def progress(self, msg: str) -> None:
        if self._progress:
            self._progress(f"{self.collector}/{self.target}: {msg}")


@dataclass(frozen=True)
class FileFormat:
    """A file format a collector reads from static evidence (`static: [{path, format}]`): `detect(doc)`
    claims a parsed file for format `auto`; `handler(doc, session, evidence_id, scope, path)` builds its
    assets from the recorded document. With `keep`, the format also reads JSON files with an `items` array
    as a stream: `keep(item)` returns what the handler needs of each (redacted) item, or None to drop it, and
    the handler then gets a document whose `items` are those, with `evidence_id` a list giving the record
    (page) id of each item."""

    name: str
    detect: Callable[[Any], bool]
    handler: Callable[..., None]
    keep: Callable[[dict], Any] | None = None


class Collector:
    """Base class of collector plugins."""

    name: ClassVar[str]
    config_key: ClassVar[str]
    target_model: ClassVar[type[BaseModel]]
    description: ClassVar[str] = ""
    # patterns of the asset types it produces ("aws.*"); a crash of the collector marks these as missing
    asset_patterns: ClassVar[tuple[str, ...]] = ()
    # GB/T 22239 extensions its targets imply (a cloud account: "cloud"); the default scope of a system whose
    # scan.yaml does not declare system.extensions
    extensions: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def patterns(cls) -> tuple[str, ...]:
        return cls.asset_patterns or (f"{cls.name}.*",)

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if "name" in cls.__dict__:  # concrete collectors register themselves when their module is imported
            _COLLECTORS[cls.name] = cls

    def target_name(self, target: BaseModel) -> str:
        return str(getattr(target, "name", None) or self.name)

    def target_key(self, target: BaseModel) -> str:
        """`<collector>/<target name>`: how `--only` names a target, and the prefix of its units."""
        return f"{self.name}/{self.target_name(target)}"

    def validate_target(self, target: BaseModel, base_dir: Path) -> None:
        """Raise InputError for a target that must not be scanned (checked before any scan starts)."""

    def validate_targets(self, targets: list[BaseModel], base_dir: Path) -> None:
        """Raise InputError for what the targets of one scan must not do together (e.g. a total size cap);
        called once per scan with all of this collector's targets, after each passed validate_target."""

    def units(self, target: BaseModel, session: CollectSession) -> list[str]:
        """The parts of the target that shards may scan apart, in a stable order, each id starting with
        `target_key()`. Every shard asks, so the answer must not depend on where it runs; it may ask the peer
        (an organisation's account list) and record what it asked. Default: the target is one unit."""
        return [self.target_key(target)]

    def collect(self, target: BaseModel, session: CollectSession) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def derive(self, records: list["EvidenceRecord"], session: CollectSession) -> None:
        """Rebuild assets and coverage from recorded evidence alone, with no network. This is what lets a
        bundle's evidence be replayed offline (static `format: evidence`, the built-in sample). A collector
        that implements it should build its live inventory through it too, so both paths agree."""
        raise NotImplementedError(f"collector {self.name} cannot replay recorded evidence")

    def merge_derive(self, shards: list[list["EvidenceRecord"]], session: CollectSession) -> None:
        """Rebuild one target's assets and coverage from the evidence several shards recorded for it (`merge`).
        Default: each shard's records on their own, as that shard derived them (its units are independent).
        A collector whose units share derived facts (the regions of one account) derives them together."""
        for records in shards:
            self.derive(records, session)

    # where this collector's entries sit in each section of the questionnaire's architecture, relative to
    # other collectors' entries (lower first, then by collector name; "*" for every section not named)
    architecture_order: ClassVar[dict[str, int]] = {"*": 100}

    def architecture(self, assets: list[Asset]) -> ArchitectureEntries:
        """The questionnaire's architecture entries (accounts, networks, internet-facing endpoints, hosts,
        clusters, data stores, security services) for the asset types this collector defines, read from any
        of the inventory's `assets` (a bundle's assets may come from replayed or static evidence). Tolerates
        any attribute being absent. None by default."""
        return ArchitectureEntries()

    @classmethod
    def architecture_rank(cls, section: str) -> int:
        return cls.architecture_order.get(section, cls.architecture_order.get("*", 100))

    def declared_waivers(self, target: BaseModel, base_dir: Path) -> list[tuple[Path, Waiver]]:
        """(file, waiver) for the waivers the target's files declare, read before scanning so a waiver the
        profile does not allow stops the run before any collector starts. None by default."""
        return []

    def declared_high_risk_decisions(self, target: BaseModel, base_dir: Path) -> list[tuple[Path, HighRiskDecision]]:
        """(file, decision) for the assessor's rulings on high-risk candidates the target's files declare, read
        before scanning so a ruling the guideline does not allow (or on a case nobody knows) stops the run
        before any collector starts. None by default."""
        return []

    # whether this collector reads the waiver files `check --waivers FILE` is given (`parse_waivers_file`,
    # then `derive` of the file recorded as its evidence)
    reads_waiver_files: ClassVar[bool] = False

    @classmethod
    def parse_waivers_file(cls, path: Path) -> tuple[Any, list[Waiver]]:
        """(the parsed document to record as evidence, its waivers); InputError for a bad file."""
        raise NotImplementedError(f"collector {cls.name} does not read waiver files")

    @classmethod
    def file_formats(cls) -> list[FileFormat]:
        """File formats of static evidence this collector reads (e.g. `kubectl` dumps). None by default."""
        return []


# --------------------------------------------------------------------------- checks


class EvidenceMissing(Exception):
    """Raised inside a check when the evidence it needs was not collected (`zh`: the reason in Chinese)."""

    def __init__(self, message: str, zh: str = ""):
        super().__init__(message)
        self.zh = zh


@dataclass
class Verdict:
    status: str  # pass | fail | error | not_applicable
    message: str
    message_zh: str = ""  # the same result record in Chinese (assessment records are written in Chinese)
    evidence: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    resource_id: str | None = None
    resource_type: str | None = None


def passed(message: str, zh: str = "", **kw: Any) -> Verdict:
    return Verdict("pass", message, zh, **kw)


def failed(message: str, zh: str = "", **kw: Any) -> Verdict:
    return Verdict("fail", message, zh, **kw)


def not_applicable(message: str, zh: str = "", **kw: Any) -> Verdict:
    return Verdict("not_applicable", message, zh, **kw)


def error(message: str, zh: str = "", **kw: Any) -> Verdict:
    return Verdict("error", message, zh, **kw)


@dataclass
class CheckSpec:
    id: str
    title: Bilingual
    controls: dict[int, list[str]]
    asset_type: str
    reads: list[str]
    params: list[str]
    remediation: Bilingual | None
    severity: str
    func: Callable[..., Any]
    module: str = ""
    # control id -> what this check shows for that item (the mapping's reason, for a consultant's review)
    shows: dict[str, Bilingual] = field(default_factory=dict)
    high_risk: list[HighRiskTrigger] = field(default_factory=list)

    def controls_for(self, level: int) -> list[str]:
        return list(self.controls.get(level, []))


def _shows(shows: dict | None) -> dict[str, Bilingual]:
    """`{"L2-ABS1-07 L3-ABS1-14": ("en", "zh")}`: one text for several ids (the same item at two levels)."""
    out: dict[str, Bilingual] = {}
    for ids, text in (shows or {}).items():
        value = Bilingual(en=text[0], zh=text[1]) if isinstance(text, (tuple, list)) else Bilingual.model_validate(text)
        for cid in ids.replace(",", " ").split():
            out[cid] = value
    return out


_CHECKS: dict[str, CheckSpec] = {}


def check(*, id: str, title_en: str, title_zh: str, controls: dict[int, list[str]], asset_type: str,
          reads: Iterable[str] = (), params: Iterable[str] = (), remediation: str | dict | Bilingual = "",
          remediation_zh: str = "", severity: str = "medium", shows: dict | None = None,
          high_risk: Iterable[str | dict | HighRiskTrigger] = ()) -> Callable:
    """Declare a check. `controls` maps level -> catalogue ids it evidences at that level. The remediation
    (整改建议) is given in English and Chinese: `remediation="..." , remediation_zh="..."` or
    `remediation={"en": ..., "zh": ...}`; verdicts likewise carry their result record in both
    (`failed("...", "...")`). `shows` says, per control id (several ids may share one key, space-separated),
    what the check shows for that item, in English and Chinese: `shows={"L3-ABS1-09": ("...", "...")}`.
    `high_risk` names the cases of the high-risk guideline (data/high_risk.yaml) its failed findings trigger: a
    case id, or `{case, when, basis}` when only some failures show the case (`when` reads the finding's
    `details`, e.g. `{"plaintext": {"nonempty": True}}`); see `HighRiskTrigger`."""
    if isinstance(remediation, str):
        rem = Bilingual(en=remediation, zh=remediation_zh) if remediation else None
    else:
        rem = Bilingual.model_validate(remediation)
    triggers = [t if isinstance(t, HighRiskTrigger) else HighRiskTrigger(case=t) if isinstance(t, str)
                else HighRiskTrigger.model_validate(t) for t in high_risk]

    def deco(fn: Callable) -> Callable:
        spec = CheckSpec(id=id, title=Bilingual(en=title_en, zh=title_zh), controls={int(k): list(v) for k, v in controls.items()},
                         asset_type=asset_type, reads=list(reads), params=list(params), remediation=rem,
                         severity=severity, func=fn, module=fn.__module__, shows=_shows(shows), high_risk=triggers)
        if id in _CHECKS and _CHECKS[id].func is not fn and _CHECKS[id].module != fn.__module__:
            raise ValueError(f"check id {id} declared twice ({_CHECKS[id].module} and {fn.__module__})")
        _CHECKS[id] = spec
        fn.check_spec = spec  # type: ignore[attr-defined]
        return fn

    return deco


def checks_by_control(level: int) -> dict[str, list[CheckSpec]]:
    """The checks that evidence each control id of a level (what `mlps-scan controls` lists per item)."""
    out: dict[str, list[CheckSpec]] = {}
    for spec in sorted(checks().values(), key=lambda s: s.id):
        for cid in spec.controls_for(level):
            out.setdefault(cid, []).append(spec)
    return out


def _scope_related(a: str, b: str) -> bool:
    """Scopes are paths (aws/prod/123/cn-north-1): related when one contains the other."""
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


class CheckContext:
    """What a check may read: the inventory, coverage, the profile and the level. No network."""

    def __init__(self, assets: list[Asset], coverage: list[Coverage], profile: Profile, level: int):
        self.profile = profile
        self.level = level
        self._by_type: dict[str, list[Asset]] = {}
        self._by_id: dict[str, Asset] = {}
        for a in assets:
            self._by_type.setdefault(a.type, []).append(a)
            self._by_id.setdefault(a.id, a)
        self._coverage: dict[str, list[Coverage]] = {}
        for c in coverage:
            self._coverage.setdefault(c.asset_type, []).append(c)

    def assets(self, type: str) -> list[Asset]:
        return self._by_type.get(type, [])

    def asset_by_id(self, id: str) -> Asset | None:
        return self._by_id.get(id)

    def related(self, asset: Asset, type: str) -> list[Asset]:
        """Assets of `type` in the same scope tree as `asset` (e.g. the trails of an account)."""
        return [a for a in self.assets(type) if _scope_related(a.scope, asset.scope)]

    def coverage(self, type: str, scope: str | None = None) -> list[Coverage]:
        """Coverage records for `type` (records for a pattern such as `aws.*` match too)."""
        cov = list(self._coverage.get(type, []))
        for pat, recs in self._coverage.items():
            if pat.endswith("*") and pat != type and type.startswith(pat[:-1]):
                cov.extend(recs)
        return [c for c in cov if scope is None or _scope_related(c.scope, scope)]

    def missing(self, asset: Asset, type: str) -> list[Coverage]:
        """Coverage records saying `type` could not be collected (error/denied) in the asset's scope tree."""
        return [c for c in self.coverage(type, asset.scope)
                if c.status in (EvidenceStatus.error, EvidenceStatus.denied)]

    def unavailable(self, asset: Asset, type: str) -> list[Coverage]:
        return [c for c in self.coverage(type, asset.scope) if c.status == EvidenceStatus.not_available]

    @staticmethod
    def need(asset: Asset, key: str) -> Any:
        """The attribute, or EvidenceMissing when the collector could not get it."""
        if key in asset.errors:
            raise EvidenceMissing(f"{key}: {asset.errors[key]}", f"{key}：{asset.errors[key]}")
        if key not in asset.attributes:
            raise EvidenceMissing(f"{key}: not collected", f"{key}：未采集")
        return asset.attributes[key]


# --------------------------------------------------------------------------- discovery

_loaded = False
_load_lock = threading.Lock()


def register_collector(cls: type[Collector]) -> type[Collector]:
    _COLLECTORS[cls.name] = cls
    return cls


def _import_package_modules(pkg_name: str) -> None:
    pkg = importlib.import_module(pkg_name)
    for m in pkgutil.walk_packages(pkg.__path__, prefix=pkg_name + "."):
        if m.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        importlib.import_module(m.name)


_FAILURES: list[PluginFailure] = []


def _module_source(module: str) -> Path | None:
    """The source file of `module` on sys.path, found without importing anything."""
    parts = module.split(".")
    for entry in sys.path:
        base = Path(entry or ".").joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def _is_check_decorator(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "check") or (isinstance(func, ast.Attribute) and func.attr == "check")


def declared_checks(module: str) -> tuple[dict[str, dict[int, list[str]]], str | None]:
    """The `@check(id=..., controls={level: [ids]})` declarations of a module, read from its source without
    running it (for a plugin that fails to load); or why they could not be read."""
    path = _module_source(module)
    if path is None:
        return {}, f"source of {module} not found on the path"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, OSError) as e:
        return {}, f"source of {module} unreadable ({type(e).__name__}: {e})"
    found: dict[str, dict[int, list[str]]] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _is_check_decorator(node.func)):
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        try:
            check_id, controls = ast.literal_eval(keywords["id"]), ast.literal_eval(keywords["controls"])
        except (KeyError, ValueError, SyntaxError, TypeError):
            continue  # not a literal declaration: nothing can be said of it without running it
        if isinstance(check_id, str) and isinstance(controls, dict):
            found[check_id] = {int(level): [str(c) for c in ids] for level, ids in controls.items()}
    return found, None if found else f"no literal @check declarations in the source of {module}"


def _record_failure(group: str, name: str, value: str, error: BaseException | str,
                    checks: dict[str, dict[int, list[str]]] | None = None) -> None:
    unknown = None
    if checks is None:
        checks, unknown = declared_checks(value.partition(":")[0].strip()) if group == "mlps_scan.checks" else ({}, None)
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    _FAILURES.append(PluginFailure(group=group, name=name, value=value, error=text, checks=checks,
                                   checks_unknown=unknown))


def _spec_problem(spec: CheckSpec, catalogue, case_ids: set[str]) -> str | None:
    """Why a declared check cannot run (ids its controls or high-risk cases name that nobody knows, or a
    high-risk case declared below `high` severity), or None."""
    bad = [f"L{lvl}: {c}" for lvl, ids in sorted(spec.controls.items()) for c in ids
           if c not in catalogue or catalogue.get(c).level != lvl]
    if bad:
        return f"check {spec.id} maps to control ids not in the catalogue at that level ({', '.join(bad)})"
    cases = [t.case for t in spec.high_risk if t.case not in case_ids]
    if cases:
        return f"check {spec.id} names high-risk cases not in data/high_risk.yaml ({', '.join(cases)})"
    if spec.high_risk and spec.severity not in ("high", "critical"):
        return (f"check {spec.id} declares high-risk cases ({', '.join(sorted({t.case for t in spec.high_risk}))}) "
                f"with severity {spec.severity}: a finding that triggers a case is at least high")
    return None


def _drop_invalid_checks(origin: dict[str, tuple[str, str]]) -> None:
    """A check whose declaration names unknown control ids or high-risk cases is dropped and recorded as a plugin
    failure (its known controls say `error`), like a plugin that fails to load: the scan goes on."""
    from .assessment import cases
    from .catalogue import load as load_catalogue
    catalogue = load_catalogue()
    case_ids = {c.id for c in cases()}
    for check_id, spec in sorted(_CHECKS.items()):
        problem = _spec_problem(spec, catalogue, case_ids)
        if problem is None:
            continue
        del _CHECKS[check_id]
        name, value = origin.get(check_id, (spec.module, spec.module))
        _record_failure("mlps_scan.checks", name, value, problem, checks={check_id: dict(spec.controls)})


def _load_entry_point(group: str, ep, origin: dict[str, tuple[str, str]]) -> None:
    """Import one entry point. Anything it raises (SystemExit too: a plugin must not end the run) is recorded as
    a plugin failure and the checks it had registered are dropped; a collector entry point that yields no
    Collector is recorded too."""
    before_checks, before_collectors = set(_CHECKS), set(_COLLECTORS)
    try:
        obj = ep.load()
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - recorded, reported, and its controls say error
        log.debug("plugin %s (%s) failed to load", ep.name, ep.value, exc_info=True)
        for check_id in set(_CHECKS) - before_checks:
            del _CHECKS[check_id]
        for name in set(_COLLECTORS) - before_collectors:
            del _COLLECTORS[name]
        _record_failure(group, ep.name, ep.value, e)
        return
    origin.update({c: (ep.name, ep.value) for c in set(_CHECKS) - before_checks})
    if group != "mlps_scan.collectors":
        return
    if isinstance(obj, type) and issubclass(obj, Collector) and isinstance(getattr(obj, "name", None), str):
        register_collector(obj)
    elif isinstance(obj, ModuleType):
        if not set(_COLLECTORS) - before_collectors and not any(
                c.__module__ == obj.__name__ for c in _COLLECTORS.values()):
            _record_failure(group, ep.name, ep.value, f"module {obj.__name__} defines no Collector subclass with a name")
    else:
        what = obj.__name__ if isinstance(obj, type) else type(obj).__name__
        _record_failure(group, ep.name, ep.value, f"{ep.value} is {what}, not a Collector subclass with a name: ignored")


def load_plugins() -> None:
    """Import built-in plugins and entry points once. A third-party plugin that fails to import does not take
    the tool down, and is not dropped silently either: it is recorded (`plugin_failures()`), the manifest and
    the report name it, and the controls its checks evidence get an `error` finding. So is a check that names
    control ids or high-risk cases nobody knows, and a collector entry point that yields no Collector."""
    global _loaded
    with _load_lock:
        if _loaded:
            return
        _import_package_modules("mlps_scan.collectors")
        _import_package_modules("mlps_scan.checks")
        origin: dict[str, tuple[str, str]] = {}
        for group in ("mlps_scan.collectors", "mlps_scan.checks"):
            for ep in entry_points(group=group):
                _load_entry_point(group, ep, origin)
        _drop_invalid_checks(origin)
        _loaded = True


def declared_check_ids() -> set[str]:
    """Check ids the installation knows: the loaded checks and those plugins that failed to load declare."""
    return set(checks()) | {c for f in plugin_failures() for c in f.checks}


def plugin_failures(load: bool = True) -> list[PluginFailure]:
    """The plugins that failed to load (loading them first unless `load` is false)."""
    if load:
        load_plugins()
    return list(_FAILURES)


def collectors() -> dict[str, type[Collector]]:
    load_plugins()
    return dict(_COLLECTORS)


def checks() -> dict[str, CheckSpec]:
    load_plugins()
    return dict(_CHECKS)
