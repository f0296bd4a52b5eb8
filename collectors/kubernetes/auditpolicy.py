"""The kube-apiserver's audit policy, from a copy the user supplies (the file --audit-policy-file names is
not readable through the API): read, checked to be an audit Policy, recorded as `audit-policy`. Its rules
are what the audit-content check evaluates."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

SOURCE = "audit-policy"


def is_audit_policy(doc: Any) -> bool:
    return (isinstance(doc, dict) and doc.get("kind") == "Policy"
            and str(doc.get("apiVersion", "")).startswith("audit.k8s.io/") and isinstance(doc.get("rules"), list))


def record_audit_policy(path: Path, s: CollectSession) -> None:
    from mlps_scan.errors import InputError
    from mlps_scan.loaders import load_yaml_file  # a regular file under the size limit, bounded nesting
    req = {"path": path.name}
    try:
        doc = load_yaml_file(path, "audit_policy")
    except InputError as e:
        s.record(SOURCE, None, request=req, status=EvidenceStatus.error, error=str(e)[:300])
        return
    if not is_audit_policy(doc):
        s.record(SOURCE, None, request=req, status=EvidenceStatus.error,
                 error=f"{path.name} is not an audit policy (apiVersion: audit.k8s.io/v1, kind: Policy, rules)")
        return
    s.record(SOURCE, doc, request=req)


def audit_policy_facts(doc: dict) -> dict[str, Any]:
    """What the check reads: the rules in order and the stages omitted for every rule."""
    return {"rules": [r for r in doc.get("rules") or [] if isinstance(r, dict)],
            "omit_stages": list(doc.get("omitStages") or [])}
