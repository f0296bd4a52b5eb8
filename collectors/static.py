"""Static collector: evidence a user supplies in files, for what cannot be scanned (firewall exports,
machine rooms, documents, assessor attestations, a `kubectl get -o json` dump a client sent).

Each file becomes one evidence record (its parsed, redacted content and hash); the assets built from it
cite that record. Formats:

  assets   (default) a mapping with `assets:` (type, id, name, attributes...; each marked `origin: static
           file ...`, since it is declared, not observed; the decision types are reserved), optional `coverage:`,
           `attestations:` (an assessor's recorded judgement on control ids, with who/when/why and the
           `documents:` seen, which are copied into the bundle verbatim: regular files inside the static file's
           folder only), `waivers:` (accepted risks or compensating measures on failed findings, with approver and
           expiry) and `high_risk_decisions:` (an assessor's rulings on high-risk candidates)
  evidence the evidence of an earlier bundle (a bundle folder or zip, or its evidence/ folder): each
           record is copied into this bundle unchanged and handed to the collector that made it, which
           rebuilds its assets offline (`Collector.derive`). The built-in sample is made this way.
  other    read by the collector that declares it (`Collector.file_formats()`: e.g. the Kubernetes
           collector reads `kubectl` for `kind: List` dumps)

A JSON file whose top level is an object with an `items` array (a `kubectl get -o json` dump) is read once, as
a stream: each item is redacted and serialised as it is read, and the file is recorded in pages of
`PAGE_ITEMS` items (one record when it has no more), each page a whole List (the file's other top-level
entries and its share of the items), so no step ever holds the whole dump or its records; the format's
handler gets only what it reads of each item (`FileFormat.keep`). Any other file is parsed
once, when the target is validated, and that parse is what `collect` records.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import threading
import types
import uuid
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mlps_scan.errors import InputError, pydantic_message, yaml_path
from mlps_scan.evidence import canonical_json
from mlps_scan.jsonstream import JsonObjectStream, JsonStreamError, starts_with_item_array
from mlps_scan.models import (DECISION_TYPES, Attestation, EvidenceRecord, EvidenceStatus, HighRiskDecision, Strict,
                              Waiver)
from mlps_scan.plugins import CollectSession, Collector, FileFormat
from mlps_scan.redact import redact


def _formats() -> dict[str, FileFormat]:
    """The file formats collectors declare (`Collector.file_formats()`), by name."""
    from mlps_scan.plugins import collectors
    return {f.name: f for cls in collectors().values() for f in cls.file_formats()}

PAGE_ITEMS = 500


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

    @field_validator("type")
    @classmethod
    def _not_a_decision(cls, v: str) -> str:
        if v in DECISION_TYPES:
            raise ValueError(f"{v!r} is reserved: record it under `{v}s:`, where it is validated as a decision, "
                             "not as an asset")
        return v


class StaticCoverage(Strict):
    asset_type: str
    status: EvidenceStatus = EvidenceStatus.ok
    reason: str | None = None
    scope: str | None = None


class AssetsFile(Strict):
    kind: Literal["mlps-scan/static"] | None = None
    description: str | None = None
    collected_at: str | None = None
    assets: list[StaticAsset] = Field(default_factory=list)
    coverage: list[StaticCoverage] = Field(default_factory=list)
    attestations: list[Attestation] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
    high_risk_decisions: list[HighRiskDecision] = Field(default_factory=list)


def check_decision_dates(data: AssetsFile, where: str, today: date | None = None) -> None:
    """Decisions are made in the past: an attestation, a ruling or a waiver approval dated after today is an
    input error (a typo, or a decision not taken yet)."""
    today = today or date.today()
    for i, at in enumerate(data.attestations):
        if at.date > today:
            raise InputError(f"{where}attestations[{i}].date: {at.date} is in the future")
    for i, w in enumerate(data.waivers):
        if w.approved_on > today:
            raise InputError(f"{where}waivers[{i}].approved_on: {w.approved_on} is in the future")
    for i, d in enumerate(data.high_risk_decisions):
        if d.date > today:
            raise InputError(f"{where}high_risk_decisions[{i}].date: {d.date} is in the future")


def document_path(static_file: Path, name: str) -> Path | None:
    """A document named by an attestation, beside the static file (a relative path that stays in its folder)."""
    p = PurePosixPath(name.replace("\\", "/"))
    if not name or p.is_absolute() or ".." in p.parts or re.match(r"^[A-Za-z]:", name):
        return None
    return static_file.parent / Path(*p.parts)


def document_problem(static_file: Path, name: str) -> str | None:
    """Why a named document may not be copied into the bundle, or None. Documents are copied verbatim (not
    redacted: they may be PDFs or scans), so only regular files that really sit inside the static file's
    folder qualify: no symbolic link, nothing that resolves outside the folder."""
    src = document_path(static_file, name)
    if src is None:
        return "must be a path relative to the static file's folder (no .., not absolute)"
    if src.is_symlink():
        return "is a symbolic link (documents are copied verbatim: name the regular file itself)"
    folder = static_file.parent.resolve()
    try:
        src.resolve().relative_to(folder)
    except ValueError:
        return f"resolves outside the static file's folder {folder} (through a symbolic link)"
    except OSError as e:
        return f"cannot be resolved ({e})"
    if src.exists() and not src.is_file():
        return "is not a regular file"
    return None


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml", ".json") and p.is_file())
    return [path]


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: pydantic parses them and names the path of a bad one (PyYAML
    raises a bare ValueError for 2026-02-30), and the recorded answer keeps the text as written."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# files parsed when their target was validated, handed to collect (one parse per file)
_PARSED: dict[tuple[str, int, int], Any] = {}
_PARSED_LOCK = threading.Lock()


def _file_key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _parsed(path: Path, keep: bool = False) -> Any:
    """The parse `validate_target` made of this file (taken, so it is not held longer, unless `keep`), or a
    new one."""
    with _PARSED_LOCK:
        doc = _PARSED.get(_file_key(path), _PARSED) if keep else _PARSED.pop(_file_key(path), _PARSED)
    return _parse(path) if doc is _PARSED else doc


def _streamed(path: Path, fmt: str) -> bool:
    """JSON with an `items` array, for a format that reads items one by one."""
    if path.suffix.lower() != ".json":
        return False
    formats = _formats()
    if fmt != "auto" and (fmt not in formats or formats[fmt].keep is None):
        return False
    if fmt == "auto" and not any(f.keep for f in formats.values()):
        return False
    return starts_with_item_array(path)


def _parse(path: Path) -> Any:
    """A static file (mlps_scan/loaders.py: a regular file under the size limit, bounded nesting, duplicate keys
    refused, one-line errors); YAML dates stay text (_Loader)."""
    from mlps_scan.loaders import load_file
    return load_file(path, "static evidence", loader=_Loader)


def _evidence_records(path: Path) -> list[EvidenceRecord]:
    """Evidence records of a bundle folder, a bundle zip, or a bare evidence/ folder."""
    from mlps_scan.bundle import BundleReader
    try:
        if path.is_dir() and not (path / "manifest.json").exists():
            from mlps_scan.loaders import read_bytes
            raw = [(p.name, read_bytes(p, "static evidence record")) for p in sorted(path.glob("*.json"))]
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
    description = "files the user supplies: inventories, firewall exports, attestations, waivers, kubectl dumps"
    asset_patterns = ("static.*", "network.*", *DECISION_TYPES)
    # on-premises devices come after cloud, hosts and clusters; in security services, after the cloud's
    architecture_order = {"*": 40, "security_services": 20}

    reads_waiver_files = True  # `check --waivers FILE`: a static file holding only `waivers:`

    def architecture(self, assets):
        from mlps_scan.collectors.static_architecture import describe
        return describe(assets)

    def declared_waivers(self, target: StaticTarget, base_dir: Path) -> list[tuple[Path, Waiver]]:
        return [(f, w) for f, data in target_decisions(target, base_dir, "waivers") for w in data.waivers]

    def declared_high_risk_decisions(self, target: StaticTarget, base_dir: Path) -> list[tuple[Path, HighRiskDecision]]:
        return [(f, d) for f, data in target_decisions(target, base_dir, "high_risk_decisions")
                for d in data.high_risk_decisions]

    @classmethod
    def parse_waivers_file(cls, path: Path) -> tuple[Any, list[Waiver]]:
        doc, data = parse_waiver_file(path)
        return doc, list(data.waivers)

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
        if target.format not in ("auto", "assets") and target.format not in _formats():
            raise InputError(f"static evidence {p}: unknown format {target.format!r} "
                             f"(known: auto, assets{''.join(', ' + f for f in sorted(_formats()))})")
        from mlps_scan.loaders import require_regular_file
        for f in _files(p):
            require_regular_file(f, "static evidence")  # a FIFO or device is refused before anything opens it
            if _streamed(f, target.format):
                continue  # read once, as a stream, when collected (a syntax error there is an input error too)
            doc = _parse(f)
            fmt = self._format(doc, target.format)
            if fmt == "assets":
                try:
                    data = AssetsFile.model_validate(doc if doc is not None else {})
                except ValidationError as e:
                    raise InputError(pydantic_message(e, prefix=f"static evidence {f}: ")) from None
                check_decision_dates(data, f"static evidence {f}: ")
                for i, at in enumerate(data.attestations):
                    for d in at.documents:
                        problem = document_problem(f, d)
                        if problem is not None:
                            raise InputError(f"static evidence {f}: attestations[{i}].documents: {d!r} {problem}")
                for i, a in enumerate(data.assets):
                    bad = attribute_problems(a.type, a.attributes)
                    if bad:
                        raise InputError(f"static evidence {f}: assets[{i}].attributes.{next(iter(bad.values()))}")
            with _PARSED_LOCK:
                _PARSED[_file_key(f)] = doc

    @staticmethod
    def _format(doc: Any, fmt: str) -> str:
        if fmt != "auto":
            return fmt
        for name, file_format in sorted(_formats().items()):
            try:
                if file_format.detect(doc):
                    return name
            except Exception:  # noqa: BLE001 - a detector that cannot read the doc does not claim it
                continue
        return "assets"

    def collect(self, target: StaticTarget, s: CollectSession) -> None:
        root = s.resolve_path(target.path)
        if target.format == "evidence":
            return self._replay(root, s)
        for f in _files(root):
            rel = f.name if f == root else f.relative_to(root).as_posix()
            if _streamed(f, target.format):
                self._collect_stream(f, rel, target.format, s)
                continue
            doc = _parsed(f)
            fmt = self._format(doc, target.format)
            rec = s.record(f"file:{rel}", doc, request={"path": rel, "format": fmt})
            s.progress(f"read {rel}")
            docs = self._copy_documents(rel, f, root, doc, s) if fmt == "assets" else {}
            del doc
            self._derive_file(rel, fmt, rec.id, rec.answer, s, f, documents=docs, target=s.target)

    def _copy_documents(self, rel: str, f: Path, root: Path, doc: Any, s: CollectSession) -> dict[str, Any]:
        """Copy the documents attestations name (beside the static file) into the bundle's documents/ folder
        and record each as evidence (path in the bundle, sha256, size). A missing document is recorded as an
        error record and reported; it does not stop the scan."""
        out: dict[str, Any] = {}
        data = AssetsFile.model_validate(doc if doc is not None else {})
        names = list(dict.fromkeys(d for at in data.attestations for d in at.documents))
        base = root if root.is_dir() else root.parent
        for name in names:
            src = document_path(f, name)
            key = (PurePosixPath(rel).parent / name).as_posix() if src else name
            problem = document_problem(f, name)
            if problem is not None:  # validated before the scan; the folder may have changed since
                raise InputError(f"static evidence {f}: document {name!r} {problem}")
            if not src.is_file():
                r = s.record(f"document:{key}", None, request={"file": rel, "document": name},
                             status=EvidenceStatus.error, error="document not found beside the static file")
                out[name] = (r.id, None)
                continue
            dest_rel = PurePosixPath("documents", _safe_part(s.target), *PurePosixPath(src.relative_to(base).as_posix()).parts)
            dest = s.recorder.root / Path(*dest_rel.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            h = hashlib.sha256()
            with dest.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            info = {"path": dest_rel.as_posix(), "sha256": h.hexdigest(), "size": dest.stat().st_size}
            r = s.record(f"document:{key}", info, request={"file": rel, "document": name})
            out[name] = (r.id, r.answer)
        return out

    def _collect_stream(self, f: Path, rel: str, requested: str, s: CollectSession) -> None:
        """One pass over a JSON file with an `items` array: each item is redacted and serialised as it is read
        (into a spool file beside the evidence), the file is recorded in pages of whole Lists, and the
        format's handler gets what its `keep` takes of each item."""
        keepers = {name: f.keep for name, f in _formats().items() if f.keep and requested in ("auto", name)}
        kept: dict[str, tuple[list, list[int]]] = {name: ([], []) for name in keepers}
        top: dict[str, Any] = {}
        first: list = []  # the first items, for telling the format
        page_red: list[int] = []
        offsets = [0]
        seen_items = False
        spool = s.recorder.root / f".spool-{uuid.uuid4().hex}"
        try:
            with JsonObjectStream(f) as st, open(spool, "wb") as sp:
                for key, val in st:
                    if key != "items" or not isinstance(val, types.GeneratorType):
                        top[key] = val
                        continue
                    if seen_items:
                        raise InputError(f"static evidence {f}: line {st.line()}: a second `items` array")
                    seen_items = True
                    for i, item in enumerate(val):
                        clean, n = redact(item, sort_keys=True)
                        if i % PAGE_ITEMS == 0:
                            page_red.append(0)
                        else:
                            sp.write(b",")
                        page_red[-1] += n
                        sp.write(canonical_json(clean))
                        offsets.append(sp.tell())
                        if len(first) < 50:
                            first.append(clean)
                        for name, keep in keepers.items():
                            x = keep(clean) if isinstance(clean, dict) else None
                            if x is not None:
                                kept[name][0].append(x)
                                kept[name][1].append(i // PAGE_ITEMS)
            top_clean, n_top = redact(top, sort_keys=True)
            fmt = self._format({**top_clean, "items": first}, requested)
            if fmt not in keepers:
                if fmt == "assets":
                    try:
                        AssetsFile.model_validate({**top_clean, "items": []})
                    except ValidationError as e:
                        raise InputError(pydantic_message(e, prefix=f"static evidence {f}: ")) from None
                raise InputError(f"static evidence {f}: format {fmt!r} does not read a file with an `items` array")
            ids = self._record_pages(spool, offsets, page_red or [0], top_clean, n_top, rel, fmt, s)
        except JsonStreamError as e:
            raise InputError(f"static evidence {f}: line {e.line}: malformed JSON ({e.msg})") from None
        except UnicodeDecodeError:
            raise InputError(f"static evidence {f} is not UTF-8 text") from None
        finally:
            spool.unlink(missing_ok=True)
        s.progress(f"read {rel} ({len(offsets) - 1} items, {len(ids)} record(s))")
        del first, top
        items, pages = kept.pop(fmt)
        kept.clear()
        page_ids = [ids[p] for p in pages]
        del pages
        _formats()[fmt].handler({**top_clean, "items": items}, s, page_ids if len(ids) > 1 else ids[0],
                                f"static/{s.target}", f)

    @staticmethod
    def _record_pages(spool: Path, offsets: list[int], page_red: list[int], top: dict, n_top: int, rel: str,
                      fmt: str, s: CollectSession) -> list[str]:
        """The records of a streamed file: page k is the file's top-level entries with items
        [k*PAGE_ITEMS, (k+1)*PAGE_ITEMS), written from the spool in canonical form."""
        before = [canonical_json(k) + b":" + canonical_json(v) for k, v in sorted(top.items()) if k < "items"]
        after = [canonical_json(k) + b":" + canonical_json(v) for k, v in sorted(top.items()) if k > "items"]
        pre = b"{" + b"".join(e + b"," for e in before) + b'"items":['
        post = b"]" + b"".join(b"," + e for e in after) + b"}"
        n = len(offsets) - 1
        pages = len(page_red)
        ids = []
        with open(spool, "rb") as sp:
            for p in range(pages):
                a, b = p * PAGE_ITEMS, min(n, (p + 1) * PAGE_ITEMS)
                sp.seek(offsets[a])  # (no comma before the first item of a page)
                body = sp.read(offsets[b] - offsets[a])
                request: dict[str, Any] = {"path": rel, "format": fmt}
                if pages > 1:
                    request.update(page=p + 1, pages=pages)
                ids.append(s.recorder.record_canonical(
                    collector=s.collector, target=s.target, source=f"file:{rel}", request=request,
                    answer_json=pre + body + post, redactions=page_red[p] + (n_top if p == 0 else 0)))
        return ids

    def derive(self, records: list[EvidenceRecord], s: CollectSession) -> None:
        docs: dict[str, dict[str, Any]] = {}
        for rec in records:
            if rec.source.startswith("document:"):
                docs.setdefault(rec.request.get("file", ""), {})[rec.request.get("document", "")] = (
                    rec.id, rec.answer if rec.status == EvidenceStatus.ok else None)
        paged: dict[tuple[str, str], list[EvidenceRecord]] = {}
        for rec in records:
            if rec.source.startswith("file:") and rec.status == EvidenceStatus.ok:
                if isinstance(rec.request.get("pages"), int):
                    paged.setdefault((rec.target, str(rec.request.get("path"))), []).append(rec)
                    continue
                rel = rec.request.get("path", rec.source[5:])
                self._derive_file(rel, rec.request.get("format", "assets"), rec.id, rec.answer, s, None,
                                  scope=f"static/{rec.target}", documents=docs.get(rel, {}),
                                  replaces=rec.request.get("replaces"), target=rec.target)
        for (tname, rel), recs in sorted(paged.items()):
            self._derive_pages(tname, rel, recs, s)

    def _derive_pages(self, tname: str, rel: str, recs: list[EvidenceRecord], s: CollectSession) -> None:
        """A file recorded in pages, put back together (what each item's format keeps of it)."""
        recs = sorted(recs, key=lambda r: (r.request.get("page") or 0))
        scope = f"static/{tname}"
        fmt = str(recs[0].request.get("format", "assets"))
        want = recs[0].request.get("pages")
        if [r.request.get("page") for r in recs] != list(range(1, (want or 0) + 1)) \
                or any(r.request.get("pages") != want or r.request.get("format") != fmt for r in recs):
            s.coverage("static.*", scope, EvidenceStatus.error, f"{rel}: pages of the file missing from the evidence",
                       [r.id for r in recs])
            return
        keep = _formats()[fmt].keep if fmt in _formats() else None
        items: list = []
        item_ids: list[str] = []
        for r in recs:
            for it in (r.answer or {}).get("items") or []:
                x = keep(it) if keep and isinstance(it, dict) else it
                if x is not None:
                    items.append(x)
                    item_ids.append(r.id)
        head = {k: v for k, v in (recs[-1].answer or {}).items() if k != "items"} if isinstance(recs[-1].answer, dict) else {}
        self._derive_file(rel, fmt, item_ids, {**head, "items": items}, s, None, scope=scope, target=tname)

    def _derive_file(self, rel: str, fmt: str, ev_id: str | list[str], answer, s: CollectSession, path: Path | None,
                     scope: str | None = None, documents: dict[str, Any] | None = None,
                     replaces: list[str] | None = None, target: str | None = None) -> None:
        scope = scope or f"static/{s.target}"
        if fmt != "assets":
            if fmt not in _formats():
                ids = list(dict.fromkeys(ev_id)) if isinstance(ev_id, list) else [ev_id]
                s.coverage("static.*", scope, EvidenceStatus.error, f"{rel}: format {fmt!r} needs a plugin that is not installed", ids)
                return
            _formats()[fmt].handler(answer, s, ev_id, scope, path)
            return
        data = AssetsFile.model_validate(answer if answer is not None else {})
        origin = f"static file {rel} (target {target or s.target})"
        for a in data.assets:
            bad = attribute_problems(a.type, a.attributes)  # replayed evidence: a wrong type is an error, not a value
            attrs = {k: v for k, v in a.attributes.items() if k not in bad}
            s.asset(a.type, a.id, scope=a.scope or scope, name=a.name, attributes=attrs,
                    errors={**a.errors, **bad}, evidence=[ev_id], origin=origin)  # declared by a person, not read from the peer
        for c in data.coverage:
            s.coverage(c.asset_type, c.scope or scope, c.status, c.reason, [ev_id])
        documents = documents or {}
        for i, at in enumerate(data.attestations):
            attrs = at.model_dump(mode="json")
            files, ev = [], [ev_id]
            for name in at.documents:
                if name not in documents:
                    continue
                rid, info = documents[name]
                ev.append(rid)
                files.append({"name": name, **info} if info else
                             {"name": name, "path": None, "problem": "not found beside the static file"})
            if files:
                attrs["document_files"] = files
            s.asset("attestation", f"{rel}#attestations[{i}]", scope=scope, name=", ".join(at.control_ids),
                    attributes=attrs, evidence=ev)
        for w in data.waivers:
            attrs = {**w.model_dump(mode="json"), "file": rel}
            if replaces is not None:  # a `check --waivers` file: the waiver files it replaced
                attrs["replaces"] = list(replaces)
            s.asset("waiver", w.id, scope=scope, name=w.id, attributes=attrs, evidence=[ev_id])
        for i, d in enumerate(data.high_risk_decisions):
            s.asset("high_risk_decision", f"{rel}#high_risk_decisions[{i}]", scope=scope, name=d.case_id,
                    attributes={**d.model_dump(mode="json"), "file": rel}, evidence=[ev_id])

    def _replay(self, root: Path, s: CollectSession) -> None:
        from mlps_scan.plugins import collectors
        groups: dict[tuple[str, str], list[EvidenceRecord]] = {}
        for rec in _evidence_records(root):
            groups.setdefault((rec.collector, rec.target), []).append(rec)
        _copy_bundle_documents(root, s)
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



def _copy_bundle_documents(root: Path, s: CollectSession) -> None:
    """Replaying a bundle's evidence: the documents its attestations name come along (same paths), so the
    document records' hashes still match files in the new bundle."""
    if root.is_dir() and not (root / "manifest.json").exists():
        return  # a bare evidence/ folder: no documents beside it
    from mlps_scan.bundle import BundleReader
    try:
        b = BundleReader(root)
        names = [n for n in b.names() if n.startswith("documents/")]
        for n in names:
            dest = s.recorder.root / n
            if not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(b.read(n))
    except (OSError, ValueError) as e:
        raise InputError(f"static evidence {root}: unreadable ({e})") from None


def _safe_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "static"


def parse_waiver_file(path: Path) -> tuple[Any, AssetsFile]:
    """A waivers file given to `check --waivers`: a static file holding only `waivers:`. Returns the parsed
    document (to record as evidence) and its model; every problem is one InputError line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"waivers file not found: {path}")
    doc = _parse(path)
    try:
        data = AssetsFile.model_validate(doc if doc is not None else {})
    except ValidationError as e:
        raise InputError(pydantic_message(e, prefix=f"waivers file {path}: ")) from None
    if data.assets or data.coverage or data.attestations or data.high_risk_decisions:
        raise InputError(f"waivers file {path}: holds more than `waivers:` (assets, coverage, attestations or "
                         "high_risk_decisions belong in a static target of the scan)")
    if not data.waivers:
        raise InputError(f"waivers file {path}: no `waivers:` in it")
    check_decision_dates(data, f"waivers file {path}: ")
    return doc, data


def target_decisions(t: StaticTarget, base_dir: Path, key: str) -> list[tuple[Path, AssetsFile]]:
    """(file, its model) for one static target's files that hold `key` (waivers, high_risk_decisions), read
    before scanning so a decision the profile or the guideline does not allow stops the run before any
    collector starts, from the parse the target's validation made (no file is read again)."""
    if t.format not in ("auto", "assets"):
        return []
    out = []
    root = Path(t.path).expanduser()
    root = root if root.is_absolute() else base_dir / root
    from mlps_scan.loaders import require_regular_file
    for f in _files(root):
        require_regular_file(f, "static evidence")  # a FIFO or device: one error line, never a wait
        if _streamed(f, t.format):
            continue  # a dump read as a stream (kubectl) is no assets file: it holds no decisions
        doc = _parsed(f, keep=True)  # the parse the target's validation made: the file is not read again
        if not isinstance(doc, dict) or key not in doc:
            continue
        if StaticCollector._format(doc, t.format) != "assets":
            continue
        try:
            data = AssetsFile.model_validate(doc if doc is not None else {})
        except ValidationError as e:
            raise InputError(pydantic_message(e, prefix=f"static evidence {f}: ")) from None
        out.append((f, data))
    return out

# --------------------------------------------------------------------------- strict types of what checks read
# A static file is typed by a person: `logging: "false"` (a string) is truthy, and a check reading it would pass
# a device that logs nothing. For the asset types in ATTRIBUTE_TYPES, each attribute a check reads must have
# its declared type: a live static file with a wrong type is an input error naming its path (exit 2); in
# replayed evidence the attribute is moved to the asset's `errors`, so the checks reading it say `error`.
# Other attributes, and asset types not listed, are taken as written.


class _Typed(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class FirewallRule(_Typed):
    name: str | None = None
    action: str
    source: str | list[str] | None = None
    destination: str | list[str] | None = None
    ports: str | int | list[str | int] | None = None
    protocol: str | None = None
    enabled: bool | None = None


class Firewall(_Typed):
    default_action: str | None = None
    logging: bool | None = None
    log_destination: str | None = None
    rules: list[FirewallRule] | None = None


ATTRIBUTE_TYPES: dict[str, type[_Typed]] = {"network.firewall": Firewall}


def _what(v: Any) -> str:
    return f"the string {v!r}" if isinstance(v, str) else type(v).__name__


def attribute_problems(asset_type: str, attributes: dict[str, Any]) -> dict[str, str]:
    """attribute -> why its value has the wrong type ({} when all fit, or the type is not listed)."""
    model = ATTRIBUTE_TYPES.get(asset_type)
    if model is None or not isinstance(attributes, dict):
        return {}
    try:
        model.model_validate(attributes)
        return {}
    except ValidationError as e:
        out: dict[str, str] = {}
        for err in e.errors():
            loc = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and ("[" in p or "-" in p)))
            if not loc:
                continue
            attr = str(loc[0])
            if attr not in out:
                kind = {"bool_type": "a boolean (true/false)", "string_type": "a string", "list_type": "a list",
                        "int_type": "an integer"}.get(err.get("type", ""), err.get("msg", "another type"))
                out[attr] = f"{yaml_path(loc)}: expected {kind}, got {_what(err.get('input'))}"
        return out
