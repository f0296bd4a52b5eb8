"""What must never be recorded, dropped from an answer before it reaches the recorder: Secret values, the
`last-applied-configuration` annotation of every object (a copy of the applied object: Secret values,
literal env values, ConfigMap data), literal values of secret-looking environment variables; and noise
(managedFields). The recorder's redaction is the second line of defence."""
from __future__ import annotations

from typing import Any

from mlps_scan.redact import REDACTED, is_secret_key

SECRET_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


def strip_secret(item: dict) -> dict:
    """A Secret with its values removed: metadata (minus last-applied) and type only."""
    out = {k: v for k, v in item.items() if k not in ("data", "stringData")}
    md = dict(out.get("metadata") or {})
    ann = {k: v for k, v in (md.get("annotations") or {}).items() if k not in SECRET_ANNOTATIONS}
    if "annotations" in md:
        md["annotations"] = ann
    md.pop("managedFields", None)
    out["metadata"] = md
    return out


def secret_env_name(name: str) -> bool:
    n = name.upper()
    return is_secret_key(name) and not n.endswith(("_FILE", "_PATH", "_DIR", "_POLICY", "_LENGTH"))


def mask_env(x: Any) -> Any:
    """Literal values of environment variables with secret-looking names (DB_PASSWORD=...) are secrets in
    plain sight: replace the value, keep the name (the secret_env check reports them)."""
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            if k == "env" and isinstance(v, list):
                v = [{**e, "value": REDACTED} if isinstance(e, dict) and e.get("value") and secret_env_name(str(e.get("name", "")))
                     else e for e in v]
            out[k] = mask_env(v) if k != "env" else v
        return out
    if isinstance(x, list):
        return [mask_env(i) for i in x]
    return x


def strip_metadata(item: dict) -> dict:
    """managedFields (noise) and the last-applied annotation dropped from an object's metadata. `kubectl apply`
    copies the whole object it applied into that annotation: a Deployment's literal env values, a ConfigMap's
    data, a Secret's stringData. Whatever the kind, it is never recorded."""
    md = item.get("metadata")
    if not isinstance(md, dict):
        return item
    ann = md.get("annotations")
    if "managedFields" not in md and not (isinstance(ann, dict) and any(k in ann for k in SECRET_ANNOTATIONS)):
        return item
    md = {k: v for k, v in md.items() if k != "managedFields"}
    if isinstance(ann, dict):
        md["annotations"] = {k: v for k, v in ann.items() if k not in SECRET_ANNOTATIONS}
    return {**item, "metadata": md}


def sanitize_list(kind_key: str, doc: dict) -> dict:
    """Drop what must never be recorded (secret values, the last-applied annotation of every object) and
    noise (managedFields) from a list answer."""
    items = []
    for it in doc.get("items") or []:
        if not isinstance(it, dict):
            continue
        if kind_key == "secrets" or it.get("kind") == "Secret":
            it = strip_secret(it)
        else:
            it = mask_env(strip_metadata(it))
        items.append(it)
    return {**doc, "items": items}
