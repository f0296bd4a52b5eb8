"""The evaluated results of a bundle, as the outputs built from it (exports, workbook) read them.

A bundle is read only when it verifies: an export or a workbook is something people act on and pass on, so it
must not lend its form to evidence or results that changed after the scan. Files are read as plain JSON (not
the models) so a bundle written by a newer version with extra fields still exports.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .bundle import BundleReader, require_intact
from .errors import BundleError, InputError
from .models import Manifest


@dataclass
class Results:
    path: Path
    manifest: Manifest
    findings: list[dict]
    controls: list[dict]
    scan: dict = field(default_factory=dict)
    assessment: dict | None = None
    names: list[str] = field(default_factory=list)
    manifest_sha256: str = ""

    @property
    def system(self) -> str:
        return self.manifest.system

    @property
    def level(self) -> int:
        return int(self.manifest.level or 0)

    def findings_by_control(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = defaultdict(list)
        for f in self.findings:
            for cid in f.get("control_ids") or []:
                out[cid].append(f)
        return out

    def has_evidence(self, evidence_id: str) -> bool:
        return f"evidence/{evidence_id}.json" in self._names_set

    def __post_init__(self) -> None:
        self._names_set = set(self.names)


def load_results(path: Path) -> Results:
    """Read an evaluated bundle that verifies (InputError otherwise, one line)."""
    path = Path(path).expanduser()
    require_intact(path)
    b = BundleReader(path)
    names = b.names()
    for n in ("findings.json", "controls.json"):
        if n not in names:
            raise InputError(f"{path}: {n} missing (a `collect` bundle? run `mlps-scan check BUNDLE --out DIR` first)")
    findings, controls = b.json("findings.json"), b.json("controls.json")
    if not isinstance(findings, list) or not isinstance(controls, list):
        raise BundleError(f"{path}: findings.json or controls.json is not a JSON array")
    assessment = b.json("assessment.json") if "assessment.json" in names else None
    import hashlib
    return Results(path=path, manifest=b.manifest(), findings=findings, controls=controls,
                   scan=b.scan_settings(), assessment=assessment if isinstance(assessment, dict) else None,
                   names=names, manifest_sha256=hashlib.sha256(b.read("manifest.json")).hexdigest())


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Write `path` through a temporary file beside it, moved into place only when `write` succeeded (a failed
    export leaves nothing half-written), with the permissions a plain file would get (umask)."""
    import os
    import tempfile
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def area_names() -> dict[str, Any]:
    from .catalogue import load
    return load().areas
