"""The manifest's summary fields against the hashed files they derive from.

`manifest.json` cannot hash itself, so without a signature its own fields (`partial`, `level`, `system`,
times, counts, scope) could be edited and still pass the file hashes. `verify` therefore derives each of
them again from files the manifest does hash:

  system, level        scan.json (and every control of controls.json carries the level)
  partial              the evidence records and the inventory's coverage (completeness.py's definition)
  counts               controls.json, findings.json, inventory.json, the evidence files
  started_at,          run.json (written with the manifest), and started_at is not after finished_at
  finished_at, scope,
  api_calls
  signature            its key fingerprint is the SHA-256 of its public key

Each disagreement is one problem line. This makes a casual edit of the manifest fail `verify`; it cannot stop
someone who rewrites the files and their hashes together: only a signature does (verify says whether a
bundle is signed, and by which key).
"""
from __future__ import annotations

import base64
import hashlib
from collections import Counter
from datetime import datetime
from typing import Any

from .completeness import coverage_failures, from_records

RUN_FILE = "run.json"
RUN_FIELDS = ("started_at", "finished_at", "scope", "api_calls")


def run_facts(manifest_fields: dict[str, Any]) -> dict[str, Any]:
    """What run.json holds: the manifest fields no other file derives from."""
    out = {}
    for k in RUN_FIELDS:
        v = manifest_fields.get(k)
        out[k] = v.isoformat() if isinstance(v, datetime) else v
    return out


def _when(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v
    try:
        return datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return None


def manifest_problems(reader, m, records: list[dict]) -> list[str]:
    """Disagreements between the manifest `m` (models.Manifest) and the bundle's files. `records` are the
    parsed evidence records (verify has read them already)."""
    from .errors import BundleError
    problems: list[str] = []
    names = set(reader.names())

    def load(name: str) -> Any:
        if name not in names:
            return None
        try:
            return reader.json(name)
        except BundleError as e:
            problems.append(f"{name}: {e}")
            return None

    # system and level
    scan = load("scan.json")
    if not isinstance(scan, dict):
        problems.append("scan.json missing or not an object: the manifest's system and level cannot be checked")
        scan = {}
    else:
        if scan.get("system") != m.system:
            problems.append(f"manifest says system {m.system!r}, scan.json says {scan.get('system')!r}")
        if scan.get("level") != m.level:
            problems.append(f"manifest says level {m.level}, scan.json says {scan.get('level')}")
    controls = load("controls.json")
    if controls is not None:
        if not isinstance(controls, list) or not all(isinstance(c, dict) for c in controls):
            problems.append("controls.json is not a list of objects")
            controls = None
        else:
            levels = {c.get("level") for c in controls}
            if levels and levels != {m.level}:
                problems.append(f"manifest says level {m.level}, controls.json holds level(s) "
                                f"{', '.join(map(str, sorted(levels, key=str)))}")

    # partial
    inventory = load("inventory.json")
    coverage = inventory.get("coverage") if isinstance(inventory, dict) else None
    if not isinstance(coverage, list):
        problems.append("inventory.json has no coverage list: the manifest's partial flag cannot be checked")
        coverage = []
    derived = bool(from_records(records)) or bool(coverage_failures(c for c in coverage if isinstance(c, dict)))
    if derived != m.partial:
        why = ("evidence or coverage records failures" if derived else "no evidence or coverage records a failure")
        problems.append(f"manifest says partial={str(m.partial).lower()}, but {why}")

    # counts
    counts = m.counts or {}
    findings = load("findings.json")
    expect: dict[str, Any] = {"evidence": len(records)}
    if isinstance(inventory, dict) and isinstance(inventory.get("assets"), list):
        expect["assets"] = len(inventory["assets"])
    if controls is not None:
        expect["controls"] = dict(Counter(str(c.get("status")) for c in controls))
    if findings is not None:
        if isinstance(findings, list) and all(isinstance(f, dict) for f in findings):
            expect["findings"] = dict(Counter(str(f.get("status")) for f in findings))
        else:
            problems.append("findings.json is not a list of objects")
    assessment = load("assessment.json")
    if isinstance(assessment, dict) and isinstance(assessment.get("high_risks"), list):
        expect["high_risk_candidates"] = len(assessment["high_risks"])
    for key, want in expect.items():
        if key not in counts:
            problems.append(f"manifest counts lack {key!r} ({want} in the files)")
        elif counts[key] != want:
            problems.append(f"manifest counts {key}: {counts[key]}, the files hold {want}")

    # run facts
    run = load(RUN_FILE)
    if not isinstance(run, dict):
        problems.append(f"{RUN_FILE} missing or not an object: the manifest's times, scope and API-call counts "
                        "cannot be checked")
    else:
        mine = run_facts(m.model_dump())
        for k in RUN_FIELDS:
            a, b = mine.get(k), run.get(k)
            if k.endswith("_at"):
                a, b = _when(a), _when(b)
            if a != b:
                problems.append(f"manifest {k} {mine.get(k)!r} differs from {RUN_FILE}'s {run.get(k)!r}")
    if m.started_at > m.finished_at:
        problems.append("manifest started_at is later than finished_at")

    # signature block
    if m.signature:
        try:
            raw = base64.b64decode(m.signature.get("public_key") or "", validate=True)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            problems.append("manifest signature.public_key is not a base64 Ed25519 public key")
        elif m.signature.get("key_fingerprint") != hashlib.sha256(raw).hexdigest()[:16]:
            problems.append("manifest signature.key_fingerprint does not match its public key")
    return problems
