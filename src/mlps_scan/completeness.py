"""Is a scan complete? One definition, used when a scan is written (the manifest's `partial`, the exit code 3,
the terminal and the report) and when a bundle is verified (`partial` re-derived from the hashed evidence).

What failed is named on the terminal and in the report by `terminal.partial_reasons` (one line per target and
cause). A scan is partial when any evidence failed, i.e. an evidence record says `error` or `denied` (a call that
failed, was refused, timed out or answered something that is not an answer; a collector that crashed), or a
coverage entry of the inventory does. `not_available` ("not offered here") is not a failure: its checks say
`not_applicable`. A failed attempt a collector retried (its request says `"retried": true`) does not count
by itself: the retry is recorded too, and counts if it failed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

FAILED = ("error", "denied")


@dataclass(frozen=True)
class Failure:
    id: str
    collector: str
    target: str
    source: str
    status: str
    error: str | None

    def line(self) -> str:
        return f"{self.collector}/{self.target} {self.source}: {self.status}: {self.error or '-'}"


def counts_as_failed(status: Any, request: Any) -> bool:
    status = getattr(status, "value", status)
    return status in FAILED and not (isinstance(request, dict) and request.get("retried") is True)


def _failure(rec: dict) -> Failure:
    return Failure(str(rec.get("id")), str(rec.get("collector")), str(rec.get("target")), str(rec.get("source")),
                   str(rec.get("status")), rec.get("error"))


def from_records(records: Iterable[dict]) -> list[Failure]:
    out = [_failure(r) for r in records if isinstance(r, dict) and counts_as_failed(r.get("status"), r.get("request"))]
    return sorted(out, key=lambda f: (f.collector, f.target, f.source, f.id))


def recorder_failures(recorder) -> list[Failure]:
    """The failed evidence of a scan being written: only the records the index says failed are read back."""
    recs = []
    for ev_id, (_coll, _src, status) in list(recorder.index.items()):
        if status in FAILED:
            recs.append(json.loads((recorder.dir / f"{ev_id}.json").read_text(encoding="utf-8")))
    return from_records(recs)


def coverage_failures(coverage: Iterable[Any]) -> list[Any]:
    return [c for c in coverage if getattr(getattr(c, "status", None), "value", getattr(c, "status", None)) in FAILED
            or (isinstance(c, dict) and c.get("status") in FAILED)]


def is_partial(failures: list[Failure], coverage: Iterable[Any], failed_targets: Iterable[str] = ()) -> bool:
    return bool(failures) or bool(coverage_failures(coverage)) or bool(list(failed_targets))


def bundle_failures(reader) -> list[Failure]:
    """The failed evidence of a bundle (a BundleReader)."""
    recs = []
    for n in reader.names():
        if n.startswith("evidence/") and n.endswith(".json"):
            try:
                rec = json.loads(reader.read(n))
            except ValueError:
                continue  # verify reports records that are not JSON
            recs.append(rec)
    return from_records(recs)
