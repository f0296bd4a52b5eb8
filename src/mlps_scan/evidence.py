"""Evidence recorder and store.

Every raw observation a collector makes goes through `Recorder.record()`: the answer is redacted (once,
here, in the same pass that turns it into plain JSON values), hashed and written to `evidence/<id>.json`
at once, so memory stays flat however large the estate. Only a small index (id -> source, status) is kept
in memory. Records are written straight from the cleaned values (no model round trip: the JSON writer is
pydantic-core's, so the file reads back as an `EvidenceRecord` byte for byte as the model would write it).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from pydantic_core import to_json

from .models import EvidenceRecord, EvidenceStatus, utcnow
from .redact import redact, redact_text


def canonical_json(obj: Any) -> bytes:
    """The byte form that evidence hashes are computed over (sorted keys, UTF-8, no spaces)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default).encode()


def _default(o: Any) -> Any:
    if isinstance(o, datetime):
        return o.isoformat()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)


def jsonable(obj: Any) -> Any:
    """Turn API answers (datetimes, bytes, sets...) into plain JSON values."""
    return json.loads(canonical_json(obj))


def answer_sha256(answer: Any) -> str:
    return hashlib.sha256(canonical_json(answer)).hexdigest()


_SLUG = re.compile(r"[^A-Za-z0-9_.-]+")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}$")


def _slug(s: str, n: int = 48) -> str:
    return _SLUG.sub("-", s).strip("-.")[:n] or "x"


@dataclass(frozen=True)
class Recorded:
    """What `record()` hands back: the id to cite and the answer *as stored* (redacted)."""

    id: str
    answer: Any
    status: EvidenceStatus
    error: str | None = None
    # the whole record as written, when the caller asked to keep it (`record(keep=True)`)
    record: EvidenceRecord | None = None
    # the record not yet written (`record(defer=True)`): the caller hands it to `write_deferred` later
    pending: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status == EvidenceStatus.ok


class Recorder:
    """Thread-safe evidence writer for one scan."""

    def __init__(self, root: Path, id_salt: str | None = None):
        self.root = Path(root)
        # a shard's records get ids of their own (the salt names the shard), so the same question asked by
        # two shards of one scan (a plan, a call count) never gives one id to two different answers
        self.id_salt = id_salt
        self.dir = self.root / "evidence"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._ids: set[str] = set()
        self.index: dict[str, tuple[str, str, str]] = {}  # id -> (collector, source, status)

    def _claim_id(self, collector: str, target: str, source: str, req: dict[str, Any]) -> str:
        """A new record's id, from what it answers (redacted): collector, source and a hash of the question; a
        shard's records get ids of their own (the salt names the shard: see __init__); a repeat gets -2, -3..."""
        key = [collector, target, source, req] + ([self.id_salt] if self.id_salt else [])
        base = f"{_slug(collector, 16)}.{_slug(source)}." + hashlib.sha256(canonical_json(key)).hexdigest()[:12]
        with self._lock:
            ev_id, i = base, 1
            while ev_id in self._ids:
                i += 1
                ev_id = f"{base}-{i}"
            self._ids.add(ev_id)
        return ev_id

    def record(self, *, collector: str, target: str, source: str, answer: Any = None,
               request: dict[str, Any] | None = None, status: EvidenceStatus | str = EvidenceStatus.ok,
               error: str | None = None, collected_at: datetime | None = None, keep: bool = False,
               defer: bool = False) -> Recorded:
        """Redact, hash and write one record. keep: also hand back the record as written (`Recorded.record`,
        the values the file holds), so a collector that derives from its records need not read them back.
        defer: redact and hash now, write later (`Recorded.pending`, to `write_deferred`): the AWS collector's
        worker threads would otherwise hand the GIL round at each open/write/close of 15k small files."""
        status = EvidenceStatus(status)
        # the request, target and source name the record's id (and file), so they are cleaned first
        req, n = redact(request or {}, plain=True, sort_keys=True)
        target, nt = redact_text(target)
        source, ns = redact_text(source)
        ev_id = self._claim_id(collector, target, source, req)
        # one pass: redacted and turned into plain JSON values (keys sorted, as the hash reads them)
        ans, na = redact(answer, plain=True, sort_keys=True)
        err, ne = redact_text(error) if error is not None else (None, 0)
        doc = {"id": ev_id, "collector": collector, "target": target, "source": source, "request": req,
               "collected_at": collected_at or utcnow(), "status": status, "error": err, "answer": ans,
               "sha256": answer_sha256(ans), "redactions": n + nt + ns + na + ne}
        kept = EvidenceRecord.model_construct(**doc) if keep else None
        if defer:
            return Recorded(ev_id, ans, status, err, kept, doc)
        _write_doc(self.dir / f"{ev_id}.json", doc)
        with self._lock:  # listed only once written: other threads read the index's files
            self.index[ev_id] = (collector, source, status.value)
        return Recorded(ev_id, ans, status, err, kept)

    def write_deferred(self, docs: list[dict[str, Any]]) -> None:
        """Write records made with `record(defer=True)`, in the order given, and list them in the index."""
        for doc in docs:
            _write_doc(self.dir / f"{doc['id']}.json", doc)
        with self._lock:  # listed once written, as record() lists its own
            self.index.update((d["id"], (d["collector"], d["source"], EvidenceStatus(d["status"]).value)) for d in docs)

    def record_canonical(self, *, collector: str, target: str, source: str, request: dict[str, Any],
                         answer_json: bytes, redactions: int, collected_at: datetime | None = None) -> str:
        """Write a record whose answer the caller has already redacted and serialised in canonical form
        (`canonical_json`), e.g. one page of a large file assembled from parts: the bytes go into the record
        as they are and are hashed as they are. Returns the record's id."""
        req, n = redact(request, plain=True, sort_keys=True)
        target, nt = redact_text(target)
        source, ns = redact_text(source)
        ev_id = self._claim_id(collector, target, source, req)
        marker = f"answer-{uuid.uuid4().hex}"
        head = to_json({"id": ev_id, "collector": collector, "target": target, "source": source, "request": req,
                        "collected_at": collected_at or utcnow(), "status": EvidenceStatus.ok, "error": None,
                        "answer": marker, "sha256": hashlib.sha256(answer_json).hexdigest(),
                        "redactions": redactions + n + nt + ns}, indent=1)
        before, after = head.split(to_json(marker), 1)
        with open(self.dir / f"{ev_id}.json", "wb") as f:
            f.write(before)
            f.write(answer_json)
            f.write(after)
        with self._lock:  # listed only once written
            self.index[ev_id] = (collector, source, EvidenceStatus.ok.value)
        return ev_id

    def import_record(self, rec: EvidenceRecord) -> EvidenceRecord:
        """Copy a record from another bundle (replay): same id and time; redacted again in every field and
        re-hashed."""
        if not _SAFE_ID.match(rec.id):
            raise ValueError(f"evidence id {rec.id[:60]!r} is not a safe file name")
        rec = _redacted(rec)
        with self._lock:
            if rec.id in self._ids:
                return rec
            self._ids.add(rec.id)
        _write(self.dir / f"{rec.id}.json", rec)
        with self._lock:
            self.index[rec.id] = (rec.collector, rec.source, rec.status.value)
        return rec


def _redacted(rec: EvidenceRecord) -> EvidenceRecord:
    """The record with every field (answer, request, error, target, source...) through the redactor, and
    the sha256 of the answer as it will be stored."""
    if redact_text(rec.id)[1]:
        raise ValueError(f"evidence id {rec.id[:60]!r} holds a secret")
    n = 0
    fields: dict[str, Any] = {}
    for name in ("collector", "target", "source"):
        fields[name], k = redact_text(getattr(rec, name))
        n += k
    fields["request"], k = redact(rec.request, plain=True)
    n += k
    fields["error"], k = redact_text(rec.error) if rec.error is not None else (None, 0)
    n += k
    fields["answer"], k = redact(rec.answer, plain=True)
    n += k
    return EvidenceRecord.model_construct(id=rec.id, collected_at=rec.collected_at, status=rec.status,
                                          sha256=answer_sha256(fields["answer"]), redactions=rec.redactions + n,
                                          **fields)


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _write_doc(path: Path, doc: dict[str, Any]) -> None:
    """One record, one file: open, write, close and nothing else (a buffered `open()` adds fstat, ioctl and
    lseek calls, and each system call hands the GIL to the other collector threads and back)."""
    data = to_json(doc, indent=1)
    fd = os.open(path, _CREATE, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _write(path: Path, rec: EvidenceRecord) -> None:
    _write_doc(path, {name: getattr(rec, name) for name in EvidenceRecord.model_fields})


def _write_record(path: Path, rec: EvidenceRecord) -> EvidenceRecord:
    """Redact, hash and write one record that was built elsewhere."""
    rec = _redacted(rec)
    _write(path, rec)
    return rec


class EvidenceStore:
    """Read-only access to the evidence of a bundle (for `check` and `verify`)."""

    def __init__(self, root: Path):
        self.dir = Path(root) / "evidence"

    def ids(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return sorted(p.stem for p in self.dir.glob("*.json"))

    def get(self, ev_id: str) -> EvidenceRecord:
        return EvidenceRecord.model_validate_json((self.dir / f"{ev_id}.json").read_text(encoding="utf-8"))

    def __iter__(self) -> Iterator[EvidenceRecord]:
        for i in self.ids():
            yield self.get(i)

    def verify_hashes(self) -> list[str]:
        """Recompute each record's answer hash; return the ids whose hash does not match."""
        bad = []
        for rec in self:
            if answer_sha256(rec.answer) != rec.sha256:
                bad.append(rec.id)
        return bad
