"""The output contract: every file, verify on a pristine bundle, verify fails on any changed byte,
signatures, zip bundles, offline re-check."""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from mlps_scan.catalogue import load

from conftest import SAMPLE, check_bundle

FILES = ["manifest.json", "inventory.json", "findings.json", "controls.json", "report.html", "bundle.zip", "scan.json"]


def test_sample_scan_writes_every_file(sample_bundle):
    for f in FILES:
        assert (sample_bundle / f).is_file(), f
    assert list((sample_bundle / "evidence").glob("*.json"))
    html = (sample_bundle / "report.html").read_text()
    assert "Acme Shop" in html and "L3-ABS1-05" in html and "安全区域边界" in html


def test_findings_and_controls_follow_the_contract(sample_bundle):
    findings = json.loads((sample_bundle / "findings.json").read_text())
    assert isinstance(findings, list) and findings
    evidence_ids = {p.stem for p in (sample_bundle / "evidence").glob("*.json")}
    need = {"check_id", "control_ids", "status", "resource_id", "resource_type", "message", "evidence"}
    for f in findings:
        assert need <= set(f)
        assert f["status"] in ("pass", "fail", "error", "not_applicable")
        assert f["evidence"] and set(f["evidence"]) <= evidence_ids
        assert all(c in load() for c in f["control_ids"])
    controls = json.loads((sample_bundle / "controls.json").read_text())
    assert [c["control_id"] for c in controls] == [c.id for c in load().for_level(3)]
    st = {c["control_id"]: c["status"] for c in controls}
    assert st["L3-ABS1-05"] == "partial"  # one firewall denies by default, the other allows all
    assert st["L3-ABS1-16"] == "partial"
    assert st["L3-PES1-01"] == "compliant"  # assessor attestation
    assert st["L3-PES1-03"] == "non_compliant"
    manifest = json.loads((sample_bundle / "manifest.json").read_text())
    assert manifest["level"] == 3 and manifest["system"] == "Acme Shop"
    assert {f["path"] for f in manifest["files"]} >= set(FILES) - {"manifest.json", "bundle.zip"}


def test_independent_contract_check_passes(sample_bundle):
    r = check_bundle(sample_bundle)
    assert r.returncode == 0, r.stdout
    r = check_bundle(sample_bundle / "bundle.zip")
    assert r.returncode == 0, r.stdout


def test_verify_passes_on_folder_and_zip(sample_bundle, cli):
    r = cli("verify", str(sample_bundle))
    assert r.returncode == 0, r.stderr
    r = cli("verify", str(sample_bundle / "bundle.zip"))
    assert r.returncode == 0, r.stderr


def _flip_byte(p, offset=None):
    data = bytearray(p.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] = (data[i] + 1) % 256
    p.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["inventory.json", "findings.json", "controls.json", "report.html", "scan.json",
                                  "manifest.json", "evidence"])
def test_verify_fails_after_one_byte_changes(bundle_copy, cli, name):
    target = next((bundle_copy / "evidence").glob("*.json")) if name == "evidence" else bundle_copy / name
    _flip_byte(target)
    r = cli("verify", str(bundle_copy))
    assert r.returncode != 0, f"verify passed after {name} changed"


def test_verify_fails_on_added_or_removed_file(bundle_copy, cli):
    (bundle_copy / "evidence" / "extra.json").write_text("{}")
    assert cli("verify", str(bundle_copy)).returncode == 1
    (bundle_copy / "evidence" / "extra.json").unlink()
    next((bundle_copy / "evidence").glob("*.json")).unlink()
    assert cli("verify", str(bundle_copy)).returncode == 1


def test_evidence_answer_hash_is_checked_even_if_manifest_is_rewritten(bundle_copy):
    from mlps_scan.bundle import verify_bundle, write_manifest
    from mlps_scan.models import Manifest
    ev = next((bundle_copy / "evidence").glob("*.json"))
    rec = json.loads(ev.read_text())
    rec["answer"] = {"tampered": True}
    ev.write_text(json.dumps(rec))
    m = Manifest.model_validate_json((bundle_copy / "manifest.json").read_text())
    write_manifest(bundle_copy, m.model_dump(exclude={"files", "signature", "format", "tool", "tool_version"}))
    problems = verify_bundle(bundle_copy)
    assert any("answer hash mismatch" in p for p in problems)


def test_signed_bundle(tmp_path, cli):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.generate()
    kp = tmp_path / "sign.pem"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pub = tmp_path / "sign.pub"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    other = tmp_path / "other.pub"
    other.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    out = tmp_path / "out"
    r = cli("scan", "--config", str(SAMPLE), "--out", str(out), "--sign-key", str(kp), "--quiet")
    assert r.returncode in (0, 1, 3), r.stderr
    assert (out / "manifest.sig").exists()
    assert cli("verify", str(out), "--public-key", str(pub)).returncode == 0
    assert cli("verify", str(out / "bundle.zip"), "--public-key", str(pub)).returncode == 0
    r = cli("verify", str(out), "--public-key", str(other))
    assert r.returncode == 1 and "different key" in r.stderr
    # re-hash a changed file into the manifest: the signature no longer matches
    m = json.loads((out / "manifest.json").read_text())
    m["system"] = "Someone Else"
    (out / "manifest.json").write_text(json.dumps(m, indent=1) + "\n")
    r = cli("verify", str(out))
    assert r.returncode == 1 and "signature" in r.stderr
    (out / "manifest.sig").unlink()
    assert cli("verify", str(out)).returncode == 1


def test_offline_recheck_reproduces_the_results(sample_bundle, tmp_path, cli):
    r = cli("check", str(sample_bundle / "bundle.zip"), "--level", "3", "--format", "json")
    assert r.returncode in (0, 1, 3), r.stderr
    data = json.loads(r.stdout)
    orig = json.loads((sample_bundle / "controls.json").read_text())
    assert {c["control_id"]: c["status"] for c in data["controls"]} == {c["control_id"]: c["status"] for c in orig}
    # at another level, every control of that level
    r2 = cli("check", str(sample_bundle), "--level", "2", "--format", "json")
    ids = [c["control_id"] for c in json.loads(r2.stdout)["controls"]]
    assert ids == [c.id for c in load().for_level(2)]
    # re-check into a new bundle that verifies
    out = tmp_path / "rechecked"
    r3 = cli("check", str(sample_bundle), "--level", "2", "--out", str(out), "--quiet")
    assert r3.returncode in (0, 1, 3), r3.stderr
    assert cli("verify", str(out)).returncode == 0
    assert check_bundle(out).returncode == 0


def test_installed_console_script_runs(tmp_path):
    import sys
    from pathlib import Path
    exe = shutil.which("mlps-scan", path=str(Path(sys.executable).parent)) or shutil.which("mlps-scan")
    if not exe:
        pytest.skip("mlps-scan console script not installed beside this interpreter")
    r = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and "mlps-scan" in r.stdout


def test_zip_holds_the_same_files_as_the_folder(sample_bundle):
    with zipfile.ZipFile(sample_bundle / "bundle.zip") as z:
        names = set(z.namelist())
    folder = {p.relative_to(sample_bundle).as_posix() for p in sample_bundle.rglob("*") if p.is_file()} - {"bundle.zip"}
    assert names == folder


def _zip_of(folder: Path, dest: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(dest, "w") as z:
        for p in sorted(folder.rglob("*")):
            rel = p.relative_to(folder).as_posix()
            if p.is_file() and rel != "bundle.zip":
                z.write(p, rel)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return dest


@pytest.mark.parametrize("evil", ["../escaped.json", "evidence/../../escaped.json", "/tmp/mlps-abs-escape.json",
                                  "evidence\\..\\..\\escaped.json"])
def test_zip_members_cannot_escape_the_output_folder(sample_bundle, tmp_path, cli, evil):
    z = _zip_of(sample_bundle, tmp_path / "evil.zip", {evil: b"{}"})
    out = tmp_path / "work" / "out"
    out.parent.mkdir()
    for args in (["check", str(z), "--level", "3", "--out", str(out)], ["verify", str(z)],
                 ["merge", str(z), str(sample_bundle), "--out", str(out)]):
        r = cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "unsafe member name" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "escaped.json").exists() and not (tmp_path / "work" / "escaped.json").exists()
    assert not Path("/tmp/mlps-abs-escape.json").exists()
    assert not out.exists()


def test_a_bundle_zip_inside_the_zip_is_an_unlisted_file(sample_bundle, tmp_path, cli):
    z = _zip_of(sample_bundle, tmp_path / "b.zip", {"bundle.zip": b"anything at all"})
    r = cli("verify", str(z))
    assert r.returncode == 1 and "file not in manifest: bundle.zip" in r.stderr


def test_verify_of_a_folder_also_checks_the_zip_beside_it(bundle_copy, tmp_path, cli):
    assert cli("verify", str(bundle_copy)).returncode == 0
    # a zip made from a changed copy: its own manifest is stale, and it is not the folder's manifest
    changed = tmp_path / "changed"
    shutil.copytree(bundle_copy, changed)
    (changed / "findings.json").write_text("[]\n")
    _zip_of(changed, bundle_copy / "bundle.zip")
    r = cli("verify", str(bundle_copy))
    assert r.returncode == 1 and "bundle.zip: sha256 mismatch: findings.json" in r.stderr
    (bundle_copy / "bundle.zip").write_bytes(b"not a zip")
    r = cli("verify", str(bundle_copy))
    assert r.returncode == 1 and "bundle.zip:" in r.stderr


def test_symlinks_in_a_folder_bundle_are_refused(bundle_copy, cli):
    (bundle_copy / "evidence" / "passwd.json").symlink_to("/etc/passwd")
    r = cli("verify", str(bundle_copy))
    assert r.returncode == 2 and "symbolic link" in r.stderr


def test_recheck_refuses_a_tampered_bundle_instead_of_re_signing_it(bundle_copy, tmp_path, cli):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    kp = tmp_path / "sign.pem"
    kp.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    inv = json.loads((bundle_copy / "inventory.json").read_text())
    inv["assets"] = inv["assets"][1:]
    (bundle_copy / "inventory.json").write_text(json.dumps(inv))
    out = tmp_path / "resigned"
    r = cli("check", str(bundle_copy), "--level", "3", "--out", str(out), "--sign-key", str(kp))
    assert r.returncode == 2 and "fails verification" in r.stderr and "inventory.json" in r.stderr
    assert not out.exists()
    r = cli("merge", str(bundle_copy), str(bundle_copy), "--out", str(out))
    assert r.returncode == 2 and "fails verification" in r.stderr
    assert not out.exists()


def test_a_corrupt_zip_member_is_a_clear_error(sample_bundle, tmp_path, cli):
    z = _zip_of(sample_bundle, tmp_path / "b.zip")
    data = bytearray(z.read_bytes())
    i = data.find(b"PK\x03\x04", data.find(b"findings.json") - 40)  # the local header before findings.json
    name_at = data.find(b"findings.json", i)
    data[name_at:name_at + 13] = b"findingz.json"  # local header name no longer matches the central directory
    z.write_bytes(bytes(data))
    r = cli("verify", str(z))
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert "findings.json" in r.stderr
