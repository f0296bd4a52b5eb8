"""Secrets never reach an output file: planted in the input, searched for in every file of the bundle."""
from __future__ import annotations

import zipfile
from pathlib import Path

import yaml

from mlps_scan.redact import redact, redact_text

from conftest import check_bundle, run_cli

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----"
HASH = "$6$rounds=5000$saltsalt$ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNoZmFrZWhhc2hmYWtlaGFzaA"
K8S_VALUE_B64 = "c3VwZXItc2VjcmV0LWRiLXBhc3N3b3Jk"  # "super-secret-db-password"
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJlc2lnbmF0dXJl"
PLANTED = [AWS_SECRET, AWS_KEY_ID, "BEGIN OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", HASH,
           "saltsalt$ZmFrZWhh", K8S_VALUE_B64, "super-secret-db-password", JWT]


def test_redact_unit_cases():
    obj = {"AccessKey": {"AccessKeyId": AWS_KEY_ID, "SecretAccessKey": AWS_SECRET},
           "config": f"aws_secret_access_key = {AWS_SECRET}\n{PEM}",
           "shadow": f"root:{HASH}:19000:0:99999:7:::\nguest::19000:0:99999:7:::",
           "PasswordLastUsed": "2026-01-01", "PasswordEnabled": True,
           "kind": "SecretList", "items": [{"metadata": {"name": "db"}, "type": "Opaque", "data": {"pw": K8S_VALUE_B64}}],
           "token": JWT, "auth": f"Authorization: Bearer {'x' * 30}"}
    out, n = redact(obj)
    text = str(out)
    for s in PLANTED + ["x" * 30]:
        assert s not in text, s
    assert out["PasswordLastUsed"] == "2026-01-01" and out["PasswordEnabled"] is True
    assert out["items"][0]["redactedDataKeys"] == ["pw"] and "data" not in out["items"][0]
    assert "guest::19000" in out["shadow"]  # flags (empty password) survive, hashes do not
    assert out["AccessKey"]["AccessKeyId"].endswith("MPLE") and n >= 7
    secret_obj, _ = redact({"kind": "Secret", "metadata": {"name": "s", "annotations": {
        "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"pw":"' + K8S_VALUE_B64 + '"}}'}},
        "stringData": {"pw": "super-secret-db-password"}})
    assert K8S_VALUE_B64 not in str(secret_obj) and "super-secret-db-password" not in str(secret_obj)
    assert redact_text("nothing secret here: 10.0.0.1 PermitRootLogin no")[1] == 0


def _all_output_bytes(out: Path) -> dict[str, bytes]:
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with zipfile.ZipFile(out / "bundle.zip") as z:
        for n in z.namelist():
            files[f"bundle.zip:{n}"] = z.read(n)
    return files


def test_planted_secrets_never_reach_any_output_file(tmp_path):
    ev = tmp_path / "leaky.yaml"
    ev.write_text(yaml.safe_dump({"assets": [
        {"type": "network.firewall", "id": "fw-leaky", "attributes": {
            "default_action": "deny", "logging": True, "log_destination": "syslog://x", "rules": [],
            "admin_password": "hunter2-hunter2", "aws_secret_access_key": AWS_SECRET, "key_id": AWS_KEY_ID,
            "notes": f"exported with key\n{PEM}\n", "shadow_dump": f"root:{HASH}:19000:0:99999:7:::",
            "session": JWT,
            "k8s": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque",
                    "data": {"password": K8S_VALUE_B64}}}}]}))
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(yaml.safe_dump({"system": {"name": "Leaky", "level": 3}, "static": [{"path": "leaky.yaml"}]}))
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), "--quiet")
    assert r.returncode in (0, 1), r.stderr
    files = _all_output_bytes(out)
    assert any(n.startswith("evidence/") for n in files)
    for name, data in files.items():
        for s in PLANTED + ["hunter2-hunter2"]:
            assert s.encode() not in data, f"{s[:20]}... leaked into {name}"
    for s in PLANTED:
        assert s not in r.stdout + r.stderr
    res = check_bundle(out)
    assert res.returncode == 0, res.stdout
