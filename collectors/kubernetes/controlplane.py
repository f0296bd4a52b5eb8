"""Control-plane flags: the command line of the kube-apiserver static pod in kube-system (self-managed
clusters show it through the API; managed ones hide it), parsed into the facts the checks read."""
from __future__ import annotations

from typing import Any


def parse_flags(command: list[str]) -> dict[str, str]:
    flags: dict[str, str] = {}
    args = list(command or [])
    i = 0
    while i < len(args):
        a = str(args[i])
        if a.startswith("--"):
            if "=" in a:
                k, v = a[2:].split("=", 1)
            elif i + 1 < len(args) and not str(args[i + 1]).startswith("--"):
                k, v = a[2:], str(args[i + 1])
                i += 1
            else:
                k, v = a[2:], "true"
            flags[k] = v
        i += 1
    return flags


def _int_or_none(v) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def api_server_flags(flags: dict[str, str]) -> dict[str, Any]:
    return {
        "audit_log_path": flags.get("audit-log-path"),
        "audit_log_maxage": _int_or_none(flags.get("audit-log-maxage")),
        "audit_policy_file": flags.get("audit-policy-file"),
        "audit_webhook_config_file": flags.get("audit-webhook-config-file"),
        "encryption_provider_config": flags.get("encryption-provider-config"),
        "anonymous_auth": None if "anonymous-auth" not in flags else flags["anonymous-auth"].lower() == "true",
        "authorization_mode": [m for m in flags.get("authorization-mode", "").split(",") if m] or None,
        "tls_min_version": flags.get("tls-min-version"),
        "token_auth_file": flags.get("token-auth-file"),
        "insecure_port": _int_or_none(flags.get("insecure-port")),
    }


def is_apiserver_pod(pod: dict) -> bool:
    m = pod.get("metadata") or {}
    return m.get("namespace") == "kube-system" and ((m.get("labels") or {}).get("component") == "kube-apiserver"
                                                    or str(m.get("name", "")).startswith("kube-apiserver"))


def apiserver_flags_of_pods(pods: list[dict]) -> dict[str, str] | None:
    """The parsed flags of the kube-apiserver container of the (last) kube-apiserver static pod; None when no
    such pod is visible."""
    found: dict[str, str] | None = None
    for pod in pods:
        if not is_apiserver_pod(pod):
            continue
        for c in (pod.get("spec") or {}).get("containers") or []:
            if "kube-apiserver" in " ".join(c.get("command") or [])[:200] or c.get("name") == "kube-apiserver":
                found = parse_flags(list(c.get("command") or []) + list(c.get("args") or []))
    return found
