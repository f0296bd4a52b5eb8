"""Control-plane flags: the command lines of the static pods in kube-system (kube-apiserver,
kube-controller-manager, kube-scheduler, etcd). Self-managed clusters show them through the API, one pod per
control-plane node; managed ones (EKS, ACK, TKE...) hide them. Parsed here into the facts the checks read."""
from __future__ import annotations

from typing import Any

# component (the `component` label kubeadm sets, and the binary) -> asset type of one instance
COMPONENTS = {
    "kube-apiserver": "k8s.controlplane.apiserver",
    "kube-controller-manager": "k8s.controlplane.controller_manager",
    "kube-scheduler": "k8s.controlplane.scheduler",
    "etcd": "k8s.controlplane.etcd",
}
# component -> the attribute its facts go under
FACTS_KEY = {"kube-apiserver": "api_server", "kube-controller-manager": "controller_manager",
             "kube-scheduler": "scheduler", "etcd": "etcd"}


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


def _bool_or_none(flags: dict[str, str], key: str) -> bool | None:
    return None if key not in flags else flags[key].strip().lower() == "true"


def _list(flags: dict[str, str], key: str) -> list[str] | None:
    return [x.strip() for x in flags.get(key, "").split(",") if x.strip()] or None


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
        "etcd_servers": _list(flags, "etcd-servers"),
        "etcd_certfile": flags.get("etcd-certfile"),
        "etcd_keyfile": flags.get("etcd-keyfile"),
        "etcd_cafile": flags.get("etcd-cafile"),
        "profiling": _bool_or_none(flags, "profiling"),
    }


def etcd_flags(flags: dict[str, str]) -> dict[str, Any]:
    return {
        "cert_file": flags.get("cert-file"), "key_file": flags.get("key-file"),
        "trusted_ca_file": flags.get("trusted-ca-file"),
        "client_cert_auth": _bool_or_none(flags, "client-cert-auth"), "auto_tls": _bool_or_none(flags, "auto-tls"),
        "listen_client_urls": _list(flags, "listen-client-urls"),
        "peer_cert_file": flags.get("peer-cert-file"), "peer_key_file": flags.get("peer-key-file"),
        "peer_trusted_ca_file": flags.get("peer-trusted-ca-file"),
        "peer_client_cert_auth": _bool_or_none(flags, "peer-client-cert-auth"),
        "peer_auto_tls": _bool_or_none(flags, "peer-auto-tls"),
        "listen_peer_urls": _list(flags, "listen-peer-urls"),
    }


def controller_manager_flags(flags: dict[str, str]) -> dict[str, Any]:
    return {
        "use_service_account_credentials": _bool_or_none(flags, "use-service-account-credentials"),
        "service_account_private_key_file": flags.get("service-account-private-key-file"),
        "root_ca_file": flags.get("root-ca-file"),
        "profiling": _bool_or_none(flags, "profiling"),
        "bind_address": flags.get("bind-address"),
    }


def scheduler_flags(flags: dict[str, str]) -> dict[str, Any]:
    return {"profiling": _bool_or_none(flags, "profiling"), "bind_address": flags.get("bind-address")}


FACTS = {"kube-apiserver": api_server_flags, "kube-controller-manager": controller_manager_flags,
         "kube-scheduler": scheduler_flags, "etcd": etcd_flags}


def component_of(pod: dict) -> str | None:
    """The control-plane component a kube-system pod runs (by kubeadm's `component` label or the pod name)."""
    m = pod.get("metadata") or {}
    if m.get("namespace") != "kube-system":
        return None
    label = (m.get("labels") or {}).get("component")
    if label in COMPONENTS:
        return label
    name = str(m.get("name", ""))
    return next((c for c in COMPONENTS if name == c or name.startswith(c + "-")), None)


def component_flags(pod: dict, component: str) -> dict[str, str] | None:
    """The parsed flags of the pod's container running `component` (None when no container does)."""
    found = None
    for c in (pod.get("spec") or {}).get("containers") or []:
        if component in " ".join(c.get("command") or [])[:200] or c.get("name") == component:
            found = parse_flags(list(c.get("command") or []) + list(c.get("args") or []))
    return found


def is_apiserver_pod(pod: dict) -> bool:
    return component_of(pod) == "kube-apiserver"


def apiserver_flags_of_pods(pods: list[dict]) -> dict[str, str] | None:
    """The parsed flags of the kube-apiserver container of the (last) kube-apiserver static pod; None when no
    such pod is visible."""
    found: dict[str, str] | None = None
    for pod in pods:
        if is_apiserver_pod(pod):
            found = component_flags(pod, "kube-apiserver") or found
    return found
