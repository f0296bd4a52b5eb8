"""The kube-apiserver's EncryptionConfiguration, from a copy the user supplies (the file
--encryption-provider-config names is not readable through the API): read, key material removed, recorded."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

ENCRYPTING_PROVIDERS = ("aescbc", "aesgcm", "secretbox", "kms")


def _provider_without_keys(provider: dict) -> dict:
    clean = {}
    for ptype, conf in provider.items():
        if isinstance(conf, dict):
            conf = {k: ([{"name": key.get("name")} for key in v if isinstance(key, dict)] if k == "keys" else v)
                    for k, v in conf.items() if k != "secret"}
        clean[ptype] = conf
    return clean


def sanitize_encryption_config(doc: Any) -> Any:
    """An EncryptionConfiguration with its key material removed: resources, provider order, key names and
    KMS plugin names stay (what the check reads); `secret` values never reach the recorder."""
    if not isinstance(doc, dict):
        return doc
    out = {k: v for k, v in doc.items() if k != "resources"}
    res = []
    for entry in doc.get("resources") or []:
        if not isinstance(entry, dict):
            continue
        provs = [_provider_without_keys(p) for p in entry.get("providers") or [] if isinstance(p, dict)]
        res.append({**{k: v for k, v in entry.items() if k != "providers"}, "providers": provs})
    out["resources"] = res
    return out


def secrets_providers(doc: Any) -> list[str] | None:
    """Provider types, in order, of the first `resources` entry that covers Secrets (`secrets`, `*.` for the
    core group, `*.*`); [] when none covers them (they stay unencrypted); None when `doc` is not an
    EncryptionConfiguration."""
    if not isinstance(doc, dict) or doc.get("kind") != "EncryptionConfiguration":
        return None
    for entry in doc.get("resources") or []:
        if not isinstance(entry, dict):
            continue
        if any(str(r) in ("secrets", "secrets.", "*.", "*.*") for r in entry.get("resources") or []):
            return [next(iter(p)) for p in entry.get("providers") or [] if isinstance(p, dict) and p]
    return []


def record_encryption_config(path: Path, s: CollectSession) -> None:
    """The EncryptionConfiguration the user copied from a control-plane node, keys removed."""
    from mlps_scan.errors import InputError
    from mlps_scan.loaders import load_yaml_file  # a regular file under the size limit, bounded nesting
    req = {"path": path.name}
    try:
        doc = load_yaml_file(path, "encryption_config")
    except InputError as e:
        s.record("encryption-config", None, request=req, status=EvidenceStatus.error, error=str(e)[:300])
        return
    if secrets_providers(doc) is None:
        s.record("encryption-config", None, request=req, status=EvidenceStatus.error,
                 error=f"{path.name} is not an EncryptionConfiguration (kind: EncryptionConfiguration)")
        return
    s.record("encryption-config", sanitize_encryption_config(doc), request=req)
