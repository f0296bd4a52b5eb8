"""Static collector: evidence a user supplies in files, for what cannot be scanned (firewall exports,
machine rooms, documents, assessor attestations, a `kubectl get -o json` dump a client sent).

Each file becomes one evidence record (its parsed, redacted content and hash); the assets built from it
cite that record. Formats:

  assets   (default) a mapping with `assets:` (type, id, name, attributes...), optional `coverage:` and
           `attestations:` (an assessor's recorded judgement on control ids, with who/when/why)
  evidence the evidence of an earlier bundle (a bundle folder or zip, or its evidence/ folder): each
           record is copied into this bundle unchanged and handed to the collector that made it, which
           rebuilds its assets offline (`Collector.derive`). The built-in sample is made this way.
  other    registered by other plugins with `register_format()` (e.g. the Kubernetes collector registers
           `kubectl` for `kind: List` dumps)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Literal

import yaml
from pydantic import Field, ValidationError

from mlps_scan.errors import InputError, pydantic_message
from mlps_scan.models import EvidenceRecord, EvidenceStatus, Strict
from mlps_scan.plugins import CollectSession, Collector

# name -> (detect(doc) -> bool, handler(doc, session, evidence_id, scope, path))
_FORMATS: dict[str, tuple[Callable[[Any], bool], Callable[..., None]]] = {}


def register_format(name: str, detect: Callable[[Any], bool], handler: Callable[..., None]) -> None:
    _FORMATS[name] = (detect, handler)


class StaticTarget(Strict):
    path: str = Field(description="a file, or a folder of .yaml/.yml/.json files")
    name: str | None = None
    format: str = Field("auto", description="auto, assets, or a format another plugin registered (kubectl)")


class StaticAsset(Strict):
    type: str = Field(min_length=1)
    id: str = Field(min_length=1)
    name: str | None = None
    scope: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict)


class StaticCoverage(Strict):
    asset_type: str
    status: EvidenceStatus = EvidenceStatus.ok
    reason: str | None = None
    scope: str | None = None


class Attestation(Strict):
    control_ids: list[str] = Field(min_length=1)
    status: Literal["pass", "fail", "not_applicable"]
    by: str = Field(min_length=1, description="who judged: assessor or client contact")
    date: str = Field(min_length=4)
    note: str = Field(min_length=1, description="what was seen: document, room, interview")
    documents: list[str] = Field(default_factory=list)


class AssetsFile(Strict):
    kind: Literal["mlps-scan/static"] | None = None
    description: str | None = None
    collected_at: str | None = None
    assets: list[StaticAsset] = Field(default_factory=list)
    coverage: list[StaticCoverage] = Field(default_factory=list)
    attestations: list[Attestation] = Field(default_factory=list)


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml", ".json") and p.is_file())
    return [path]


def _parse(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"static evidence {path} is not UTF-8 text") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else (f" line {e.lineno}" if hasattr(e, "lineno") else "")
        raise InputError(f"static evidence {path}:{where}: malformed {'JSON' if path.suffix == '.json' else 'YAML'}") from None


def _evidence_records(path: Path) -> list[EvidenceRecord]:
    """Evidence records of a bundle folder, a bundle zip, or a bare evidence/ folder."""
    from mlps_scan.bundle import BundleReader
    try:
        if path.is_dir() and not (path / "manifest.json").exists():
            raw = [(p.name, p.read_bytes()) for p in sorted(path.glob("*.json"))]
        else:
            b = BundleReader(path)
            raw = [(n, b.read(n)) for n in b.names() if n.startswith("evidence/") and n.endswith(".json")]
        return [EvidenceRecord.model_validate_json(data) for _, data in raw]
    except ValidationError as e:
        raise InputError(f"static evidence {path}: not an mlps-scan evidence record ({e.errors()[0]['msg']})") from None
    except (OSError, ValueError) as e:
        raise InputError(f"static evidence {path}: unreadable ({e})") from None



class StaticCollector(Collector):
    name = "static"
    config_key = "static"
    target_model = StaticTarget
    description = "files the user supplies: inventories, firewall exports, attestations, kubectl dumps"
    asset_patterns = ("static.*", "network.*", "attestation")

    def target_name(self, target: StaticTarget) -> str:
        return target.name or Path(target.path).stem

    def validate_target(self, target: StaticTarget, base_dir: Path) -> None:
        # static files are read up front: a malformed file is an input error (exit 2), not a partial scan
        p = Path(target.path).expanduser()
        p = p if p.is_absolute() else base_dir / p
        if not p.exists():
            raise InputError(f"static evidence not found: {p}")
        if target.format == "evidence":
            _evidence_records(p)  # raises InputError when unreadable
            return
        if target.format not in ("auto", "assets") and target.format not in _FORMATS:
            raise InputError(f"static evidence {p}: unknown format {target.format!r} "
                             f"(known: auto, assets{''.join(', ' + f for f in sorted(_FORMATS))})")
        for f in _files(p):
            doc = _parse(f)
            fmt = self._format(doc, target.format)
            if fmt == "assets":
                try:
                    AssetsFile.model_validate(doc if doc is not None else {})
                except ValidationError as e:
                    raise InputError(pydantic_message(e, prefix=f"static evidence {f}: ")) from None

    @staticmethod
    def _format(doc: Any, fmt: str) -> str:
        if fmt != "auto":
            return fmt
        for name, (detect, _) in sorted(_FORMATS.items()):
            try:
                if detect(doc):
                    return name
            except Exception:  # noqa: BLE001 - a detector that cannot read the doc does not claim it
                continue
        return "assets"

    def collect(self, target: StaticTarget, s: CollectSession) -> None:
        root = s.resolve_path(target.path)
        if target.format == "evidence":
            return self._replay(root, s)
        for f in _files(root):
            doc = _parse(f)
            fmt = self._format(doc, target.format)
            rel = f.name if f == root else f.relative_to(root).as_posix()
            rec = s.record(f"file:{rel}", doc, request={"path": rel, "format": fmt})
            s.progress(f"read {rel}")
            self._derive_file(rel, fmt, rec.id, rec.answer, s, f)

    def derive(self, records: list[EvidenceRecord], s: CollectSession) -> None:
        for rec in records:
            if rec.source.startswith("file:") and rec.status == EvidenceStatus.ok:
                self._derive_file(rec.request.get("path", rec.source[5:]), rec.request.get("format", "assets"),
                                  rec.id, rec.answer, s, None, scope=f"static/{rec.target}")

    def _derive_file(self, rel: str, fmt: str, ev_id: str, answer, s: CollectSession, path: Path | None,
                     scope: str | None = None) -> None:
        scope = scope or f"static/{s.target}"
        if fmt != "assets":
            if fmt not in _FORMATS:
                s.coverage("static.*", scope, EvidenceStatus.error, f"{rel}: format {fmt!r} needs a plugin that is not installed", [ev_id])
                return
            _FORMATS[fmt][1](answer, s, ev_id, scope, path)
            return
        data = AssetsFile.model_validate(answer if answer is not None else {})
        for a in data.assets:
            s.asset(a.type, a.id, scope=a.scope or scope, name=a.name, attributes=a.attributes,
                    errors=a.errors, evidence=[ev_id])
        for c in data.coverage:
            s.coverage(c.asset_type, c.scope or scope, c.status, c.reason, [ev_id])
        for i, at in enumerate(data.attestations):
            s.asset("attestation", f"{rel}#attestations[{i}]", scope=scope, name=", ".join(at.control_ids),
                    attributes=at.model_dump(), evidence=[ev_id])

    def _replay(self, root: Path, s: CollectSession) -> None:
        from mlps_scan.plugins import collectors
        groups: dict[tuple[str, str], list[EvidenceRecord]] = {}
        for rec in _evidence_records(root):
            groups.setdefault((rec.collector, rec.target), []).append(rec)
        known = collectors()
        for (cname, tname), recs in sorted(groups.items()):
            recs = [s.recorder.import_record(r) for r in recs]
            cls = known.get(cname)
            if cls is None:
                s.coverage(f"{cname}.*", f"{cname}/{tname}", EvidenceStatus.error,
                           f"replayed evidence needs collector plugin {cname!r}, which is not installed", [r.id for r in recs])
                continue
            s.progress(f"replaying {len(recs)} records of {cname}/{tname}")
            cls().derive(sorted(recs, key=lambda r: r.id), s)

