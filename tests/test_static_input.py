"""What a static file may declare: decisions only through their own sections (never as `assets:` of a reserved
type), assets of any other type marked as declared (origin), and documents that are regular files inside the
static file's folder (copied verbatim, so no symlink and nothing outside it)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from conftest import run_cli


def _static(tmp_path: Path, name: str, doc: dict) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


def _scan(tmp_path: Path, *files: str, out: str = "out"):
    cfg = _static(tmp_path, "scan.yaml", {"system": {"name": "T", "level": 3},
                                          "static": [{"name": Path(f).stem, "path": f} for f in files]})
    return run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / out), "--no-history", "--as-of", "2026-11-29")


@pytest.mark.parametrize("type_,attrs", [
    ("attestation", {"control_ids": ["L3-ABS1-04"], "status": "not_applicable", "by": "", "date": "2026-11-18",
                     "note": "x"}),
    ("attestation", {"control_ids": ["L3-PES1-01"], "status": "pass", "date": "2026-11-18", "note": "x"}),
    ("waiver", {"id": "W-1", "checks": ["host.mfa"], "justification": "j", "approved_by": "x",
                "approved_on": "2026-10-01", "expires": "2027-01-01"}),
    ("high_risk_decision", {"case_id": "6.3.2.1", "decision": "not_high_risk"}),
])
def test_reserved_decision_types_cannot_be_declared_as_assets(tmp_path, type_, attrs):
    _static(tmp_path, "a.yaml", {"assets": [{"type": type_, "id": "x", "attributes": attrs}]})
    r = _scan(tmp_path, "a.yaml")
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"assets[0].type: Value error, {type_!r} is reserved" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "out").exists()


def test_declared_assets_say_they_come_from_a_static_file(tmp_path):
    _static(tmp_path, "hosts.yaml", {"assets": [
        {"type": "host", "id": "10.0.0.9", "attributes": {"os": "Linux"}},
        {"type": "network.firewall", "id": "fw1", "attributes": {"default_action": "deny", "rules": []}}]})
    r = _scan(tmp_path, "hosts.yaml")
    assert r.returncode in (1, 3), r.stderr
    inv = json.loads((tmp_path / "out" / "inventory.json").read_text())
    origins = {a["id"]: a.get("origin") for a in inv["assets"]}
    assert origins == {"10.0.0.9": "static file hosts.yaml (target hosts)", "fw1": "static file hosts.yaml (target hosts)"}


ATT = {"control_ids": ["L3-PES1-01"], "status": "pass", "by": "Li", "date": "2026-11-18", "note": "seen"}


def test_a_symlinked_document_is_refused(tmp_path):
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    d = tmp_path / "case"
    d.mkdir()
    os.symlink(secret, d / "survey.pdf")
    _static(d, "a.yaml", {"attestations": [{**ATT, "documents": ["survey.pdf"]}]})
    r = _scan(d, "a.yaml")
    assert r.returncode == 2 and "survey.pdf" in r.stderr and "symbolic link" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (d / "out").exists()


def test_a_document_reached_through_a_symlinked_folder_outside_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "plan.txt").write_text("not meant for the bundle\n")
    d = tmp_path / "case"
    d.mkdir()
    os.symlink(outside, d / "docs")
    _static(d, "a.yaml", {"attestations": [{**ATT, "documents": ["docs/plan.txt"]}]})
    r = _scan(d, "a.yaml")
    assert r.returncode == 2 and "docs/plan.txt" in r.stderr and "outside" in r.stderr, r.stderr
    assert not (d / "out").exists()


def test_a_regular_document_inside_the_folder_is_copied_verbatim(tmp_path):
    (tmp_path / "docs").mkdir()
    body = "机房巡检记录 room survey\n".encode() + bytes(range(256))  # bytes as they are, not re-encoded
    (tmp_path / "docs" / "survey.txt").write_bytes(body)
    _static(tmp_path, "a.yaml", {"attestations": [{**ATT, "documents": ["docs/survey.txt"]}]})
    r = _scan(tmp_path, "a.yaml")
    assert r.returncode in (0, 1), r.stderr
    assert (tmp_path / "out" / "documents" / "a" / "docs" / "survey.txt").read_bytes() == body
