"""Hostile bundles: what `verify`, `check`, `diff`, `history`, `questionnaire`, `merge`, `export` and
`workbook export` are handed may be edited, truncated, corrupted or built to hurt. Never an internal error (exit 4): a bundle problem is a FAIL
line from verify (exit 1) or one error line (exit 1 or 2); the manifest's own fields are held against the
files they derive from; verify says plainly whether a bundle is signed."""
from __future__ import annotations

import base64
import json
import shutil
import struct
import zipfile
from pathlib import Path

import pytest



def main(argv: list[str], capsys) -> tuple[int, str, str]:
    """The command line in this process (fast enough to run hundreds of hostile cases)."""
    from mlps_scan.cli import main as cli_main
    rc = cli_main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def folder_copy(sample_bundle: Path, dst: Path) -> Path:
    shutil.copytree(sample_bundle, dst)
    (dst / "bundle.zip").unlink(missing_ok=True)
    return dst


def rehash(bundle: Path, **fields) -> None:
    """Rewrite the manifest over the files as they now are (what someone editing an unsigned bundle does)."""
    from mlps_scan.bundle import write_manifest
    from mlps_scan.models import Manifest
    m = Manifest.model_validate_json((bundle / "manifest.json").read_text())
    keep = m.model_dump(exclude={"files", "signature", "format", "tool", "tool_version"})
    keep.update(fields)
    run = (bundle / "run.json").read_bytes()
    write_manifest(bundle, keep)
    (bundle / "run.json").write_bytes(run)  # keep the file as edited
    m2 = json.loads((bundle / "manifest.json").read_text())
    from mlps_scan.bundle import sha256_file
    for f in m2["files"]:
        if f["path"] == "run.json":
            f["sha256"], f["size"] = sha256_file(bundle / "run.json"), (bundle / "run.json").stat().st_size
    (bundle / "manifest.json").write_text(json.dumps(m2, indent=1))


DEEP = "[" * 3000 + "]" * 3000
SHAPES = {
    "null": "null", "object": "{}", "list": "[]", "numbers": "[1, 2]", "empty-objects": "[{}]", "string": '"x"',
    "wrong-types": '[{"check_id": 1, "control_id": 2, "resource_id": [], "status": {}, "type": 3, "id": null,'
                   ' "control_ids": "L3", "title": "t", "level": "3"}]',
    "assets-string": '{"assets": "x", "coverage": "y"}', "assets-junk": '{"assets": [1, {"type": 1}], "coverage": [1]}',
    "profile-junk": '{"system": "S", "level": 3, "profile": "x", "config": {"system": {"filing_date": 5}}}',
    "deep": DEEP, "not-json": "{oops",
}
FILES = ["findings.json", "controls.json", "inventory.json", "scan.json", "run.json", "assessment.json"]


@pytest.fixture(scope="module")
def base(sample_bundle, tmp_path_factory) -> Path:
    return folder_copy(sample_bundle, tmp_path_factory.mktemp("hb") / "base")


@pytest.mark.parametrize("name", FILES)
def test_odd_shapes_never_crash_a_command(base, tmp_path, capsys, monkeypatch, name):
    monkeypatch.setenv("MLPS_SCAN_HISTORY", str(tmp_path / "h.sqlite3"))
    cases = 0
    for shape, text in SHAPES.items():
        b = folder_copy(base, tmp_path / f"b-{shape}")
        (b / name).write_text(text)
        rehash(b)
        for argv in (["verify", b], ["check", b, "--level", "3"], ["diff", base, b], ["diff", b, base],
                     ["history", "record", b], ["questionnaire", b, "-o", "-"],
                     ["merge", b, base, "--out", tmp_path / f"m-{shape}", "--force"],
                     ["export", b, "--format", "sarif", "-o", tmp_path / f"e-{shape}.sarif"],
                     ["workbook", "export", b, "-o", tmp_path / f"w-{shape}.xlsx", "--force"]):
            rc, out, err = main(argv, capsys)
            cases += 1
            assert rc != 4 and "internal error" not in err, (name, shape, argv[0], err)
            if rc in (1, 2) and argv[0] != "verify":
                assert len(err.strip().splitlines()) <= 1 or argv[0] in ("check", "merge"), (name, shape, argv[0], err)
    assert cases == len(SHAPES) * 9


def test_odd_manifests_are_one_problem(base, tmp_path, capsys):
    doc = json.loads((base / "manifest.json").read_text())
    for i, bad in enumerate([None, [], "x", {**doc, "files": "x"}, {**doc, "system": 5}, {**doc, "level": "three"},
                             {**doc, "signature": "x"}, {**doc, "counts": []}, {**doc, "finished_at": "yesterday"}]):
        b = folder_copy(base, tmp_path / f"m{i}")
        (b / "manifest.json").write_text(json.dumps(bad))
        for argv in (["verify", b], ["check", b, "--level", "3"], ["diff", base, b], ["questionnaire", b, "-o", "-"]):
            rc, out, err = main(argv, capsys)
            assert rc in (1, 2) and "internal error" not in err, (bad if not isinstance(bad, dict) else i, argv[0], err)
    b = folder_copy(base, tmp_path / "deep")
    (b / "manifest.json").write_text(DEEP)
    rc, _, err = main(["verify", b], capsys)
    assert rc in (1, 2) and "nested" in err


# ------------------------------------------------------------------ zips


def _member_data_offset(z: Path, name: str) -> tuple[int, int]:
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo(name)
    raw = z.read_bytes()
    n, m = struct.unpack("<HH", raw[info.header_offset + 26: info.header_offset + 30])
    return info.header_offset + 30 + n + m, info.compress_size


def test_corrupted_deflate_data(sample_bundle, tmp_path, capsys):
    z = tmp_path / "bundle.zip"
    shutil.copy(sample_bundle / "bundle.zip", z)
    start, size = _member_data_offset(z, "findings.json")
    raw = bytearray(z.read_bytes())
    for i in range(start + size // 3, start + size // 3 + 64):
        raw[i] ^= 0x5A
    z.write_bytes(bytes(raw))
    rc, out, err = main(["verify", z], capsys)
    assert rc == 1 and "findings.json" in err and "internal error" not in err
    for argv in (["check", z, "--level", "3"], ["diff", sample_bundle, z], ["history", "record", z]):
        rc, out, err = main(argv, capsys)
        assert rc in (1, 2) and "internal error" not in err and len(err.strip().splitlines()) == 1, (argv[0], err)
    rc, out, err = main(["questionnaire", z, "-o", "-"], capsys)  # reads inventory and manifest only
    assert rc in (0, 1, 2) and "internal error" not in err


def test_a_zip_member_over_the_size_limit_is_not_read(sample_bundle, tmp_path, capsys, monkeypatch):
    z = tmp_path / "bundle.zip"
    with zipfile.ZipFile(sample_bundle / "bundle.zip") as src, zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():  # the same bundle, findings.json swapped for 3 MiB that deflate to a few KiB
            zf.writestr(info.filename, b"0" * (3 << 20) if info.filename == "findings.json" else src.read(info))
    monkeypatch.setenv("MLPS_SCAN_MAX_INPUT_MB", "1")
    rc, out, err = main(["verify", z], capsys)
    assert rc == 1 and "larger than 1 MiB" in err
    rc, out, err = main(["check", z, "--level", "3"], capsys)
    assert rc == 2 and "larger than 1 MiB" in err and len(err.strip().splitlines()) == 1


def test_zip_symlink_members_are_refused(sample_bundle, tmp_path, capsys):
    z = tmp_path / "bundle.zip"
    shutil.copy(sample_bundle / "bundle.zip", z)
    with zipfile.ZipFile(z, "a") as zf:
        info = zipfile.ZipInfo("evidence/link.json")
        info.create_system = 3
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    for argv in (["verify", z], ["check", z, "--level", "3"], ["merge", z, sample_bundle, "--out", tmp_path / "m"]):
        rc, out, err = main(argv, capsys)
        assert rc == 2 and "symbolic link" in err, (argv[0], err)
    assert not (tmp_path / "m").exists()


def test_a_flip_in_the_zip_headers_that_leaves_the_contents_verifies_and_changes_the_zip_hash(sample_bundle, tmp_path, capsys):
    """What README says: verify checks what is in the zip; a flip in a header field that changes no name or
    content (here a member's modification time) still verifies, and the zip's own SHA-256, which verify
    prints, differs from the one sent with the bundle. A flip in a member's bytes fails."""
    z = tmp_path / "bundle.zip"
    shutil.copy(sample_bundle / "bundle.zip", z)
    rc, out, _ = main(["verify", z], capsys)
    sent = next(line.split()[2] for line in out.splitlines() if line.startswith("bundle.zip sha256"))
    raw = bytearray(z.read_bytes())
    with zipfile.ZipFile(z) as zf:
        off = zf.getinfo("findings.json").header_offset
    raw[off + 10] ^= 0x01  # local header: last-modified time
    z.write_bytes(bytes(raw))
    rc, out, _ = main(["verify", z], capsys)
    assert rc == 0
    assert next(line.split()[2] for line in out.splitlines() if line.startswith("bundle.zip sha256")) != sent
    start, size = _member_data_offset(z, "controls.json")
    raw[start + size // 2] ^= 0xFF
    z.write_bytes(bytes(raw))
    rc, out, err = main(["verify", z], capsys)
    assert rc == 1


# ------------------------------------------------------------------ the manifest's own fields


EDITS = {
    "partial": lambda m: {**m, "partial": not m["partial"]},
    "level": lambda m: {**m, "level": 2},
    "system": lambda m: {**m, "system": "Someone Else"},
    "finished_at": lambda m: {**m, "finished_at": "2020-01-01T00:00:00Z"},
    "started_at": lambda m: {**m, "started_at": "2001-01-01T00:00:00Z"},
    "counts": lambda m: {**m, "counts": {**m["counts"], "findings": {**m["counts"]["findings"], "fail": 0}}},
    "counts-missing": lambda m: {**m, "counts": {}},
    "scope": lambda m: {**m, "scope": m["scope"][:1]},
    "api_calls": lambda m: {**m, "api_calls": {"aws": 1}},
}


@pytest.mark.parametrize("field", EDITS)
def test_editing_a_summary_field_of_an_unsigned_manifest_fails_verify(base, tmp_path, capsys, field):
    b = folder_copy(base, tmp_path / "b")
    m = json.loads((b / "manifest.json").read_text())
    (b / "manifest.json").write_text(json.dumps(EDITS[field](m), indent=1))
    rc, out, err = main(["verify", b], capsys)
    assert rc == 1, out
    assert field.split("-")[0] in err, err
    rc, out, err = main(["check", b, "--level", "3"], capsys)
    assert rc == 2 and "fails verification" in err  # never re-judged with the edited level


def test_partial_is_derived_from_the_evidence(base, tmp_path, capsys):
    """Marking a failed record ok (and re-hashing everything) is caught: the coverage still says error ..."""
    b = folder_copy(base, tmp_path / "b")
    ev = next((b / "evidence").glob("aws.*.json"))
    rec = json.loads(ev.read_text())
    rec["status"], rec["error"] = "error", "injected"
    ev.write_text(json.dumps(rec, indent=1))
    rehash(b)  # the files are consistent with their hashes, the manifest still says partial: false
    rc, out, err = main(["verify", b], capsys)
    assert rc == 1 and "partial=false" in err


def test_verify_says_signed_or_unsigned(base, tmp_path, capsys):
    rc, out, err = main(["verify", base], capsys)
    assert rc == 0 and "UNSIGNED" in out
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.generate()
    kp = tmp_path / "k.pem"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    out_dir = tmp_path / "signed"
    rc, _, err = main(["check", base, "--level", "3", "--out", out_dir, "--sign-key", kp, "--quiet"], capsys)
    assert rc in (0, 1, 3), err
    from mlps_scan.bundle import key_fingerprint
    rc, out, err = main(["verify", out_dir], capsys)
    assert rc == 0 and f"key fingerprint {key_fingerprint(key)}" in out and "UNSIGNED" not in out


@pytest.mark.parametrize("bad", ["!!!", "AAAA", "", None, "fingerprint"])
def test_malformed_signature_fields_are_a_failed_verify(base, tmp_path, capsys, bad):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.generate()
    kp = tmp_path / "k.pem"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    b = tmp_path / "signed"
    rc, _, err = main(["check", base, "--level", "3", "--out", b, "--sign-key", kp, "--quiet", "--no-zip"], capsys)
    m = json.loads((b / "manifest.json").read_text())
    if bad == "fingerprint":
        m["signature"]["key_fingerprint"] = "0" * 16
    elif bad is None:
        del m["signature"]["public_key"]
    else:
        m["signature"]["public_key"] = bad
    (b / "manifest.json").write_text(json.dumps(m, indent=1))
    rc, out, err = main(["verify", b], capsys)
    assert rc == 1 and "internal error" not in err, err
    (b / "manifest.sig").write_text("not base64 at all\n")
    rc, out, err = main(["verify", b], capsys)
    assert rc == 1 and "internal error" not in err, err
    (b / "manifest.sig").write_bytes(base64.b64encode(b"short"))
    rc, out, err = main(["verify", b], capsys)
    assert rc == 1 and "internal error" not in err, err


def test_verify_prints_a_bundle_zip_hash(base, sample_bundle, capsys):
    rc, out, _ = main(["verify", sample_bundle], capsys)
    assert rc == 0 and "bundle.zip sha256" in out
