"""Three things the command line got wrong: an impossible date in scan.yaml was an internal error, `verify` did not
say whether (and with which key) it checked a signature, and the built-in sample went into the user's history."""
from __future__ import annotations

import sqlite3

import pytest

from conftest import SAMPLE, run_cli


@pytest.mark.parametrize("value", ["2026-13-01", "2026-02-30", "2025-00-10"])
def test_unquoted_impossible_date_is_a_one_line_input_error(tmp_path, value):
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(f"system:\n  name: X\n  level: 3\n  filing_date: {value}\n")
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out))
    assert r.returncode == 2, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "line 4" in lines[0] and value in lines[0] and "not a real date" in lines[0]
    assert not out.exists()


def test_real_unquoted_date_still_loads(tmp_path):
    from datetime import date

    from mlps_scan.profile import load_yaml_file
    cfg = tmp_path / "scan.yaml"
    cfg.write_text("system:\n  name: X\n  level: 3\n  filing_date: 2024-02-29\n")
    assert load_yaml_file(cfg, "scan config")["system"]["filing_date"] == date(2024, 2, 29)


def test_verify_says_what_it_did_about_the_signature(sample_bundle, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from mlps_scan.bundle import key_fingerprint
    key = Ed25519PrivateKey.generate()
    kp, pub = tmp_path / "k.pem", tmp_path / "k.pub"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    r = run_cli("verify", str(sample_bundle))
    assert r.returncode == 0 and "not signed: no signature was checked" in r.stdout
    signed = tmp_path / "signed"
    assert run_cli("check", str(sample_bundle), "--out", str(signed), "--sign-key", str(kp), "-q").returncode in (0, 1, 3)
    fp = key_fingerprint(key)
    r = run_cli("verify", str(signed))
    assert r.returncode == 0
    assert f"signature checked against the key the manifest names (key fingerprint {fp})" in r.stdout
    assert "--public-key to require a known signer" in r.stdout
    r = run_cli("verify", str(signed), "--public-key", str(pub))
    assert r.returncode == 0 and f"checked against --public-key {pub} (key fingerprint {fp})" in r.stdout


def test_the_sample_stays_out_of_the_real_history(tmp_path):
    hist = tmp_path / "history.sqlite3"
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(SAMPLE), "--out", str(out), env={"MLPS_SCAN_HISTORY": str(hist)})
    assert r.returncode == 1, r.stderr
    assert not hist.exists()
    assert "sample estate: not recorded" in r.stdout
    # asked for explicitly, it is recorded
    r = run_cli("scan", "--config", str(SAMPLE), "--out", str(out), "--quiet", "--history", str(hist))
    assert r.returncode == 1, r.stderr
    with sqlite3.connect(hist) as c:
        assert c.execute("SELECT system FROM scans").fetchall() == [("Acme Shop",)]
    # and so is `history record` of a sample bundle
    hist2 = tmp_path / "h2.sqlite3"
    assert run_cli("history", "record", str(out), "--history", str(hist2)).returncode == 0 and hist2.exists()
