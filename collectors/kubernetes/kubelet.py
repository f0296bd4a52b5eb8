"""Each node's kubelet configuration, read through the API server's node proxy
(`GET /api/v1/nodes/{node}/proxy/configz`) only when the target opts in (`kubelet_config: true`): it needs
`get` on `nodes/proxy`, a sensitive right (the same proxy reaches the kubelet's exec and log endpoints), so it
ships as a separate ClusterRole (deploy/kubernetes/mlps-scan-kubelet-clusterrole.yaml) and is never asked
for otherwise. Every answer is recorded as `kubelet-configz` with the node it came from."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from .listing import call_with_retry
from .target import KubeTarget

SOURCE = "kubelet-configz"


class NodeNames:
    """Collects node names from the pages of the nodes list (`record_list(on_items=...)`)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __call__(self, page: int, items: list[dict]) -> None:
        if page == 1:
            self.names = []  # a list restarted after an expired continue token starts over
        self.names += [str((i.get("metadata") or {}).get("name")) for i in items if (i.get("metadata") or {}).get("name")]


def configz_path(node: str) -> str:
    return f"/api/v1/nodes/{node}/proxy/configz"


def _record_one(api, target: KubeTarget, s: CollectSession, node: str) -> None:
    from kubernetes import client as kclient
    core = kclient.CoreV1Api(api)
    request = {"method": "GET", "path": configz_path(node), "node": node}
    fn = lambda **kw: core.connect_get_node_proxy_with_path(node, "configz", **kw)  # noqa: E731
    _status, body, req, fail = call_with_retry(s, SOURCE, request, fn, target)
    if fail:
        s.record(SOURCE, body, request=req, status=fail[0], error=fail[1])
    elif not isinstance(body, dict) or not isinstance(body.get("kubeletconfig"), dict):
        s.record(SOURCE, body, request=req, status=EvidenceStatus.error,
                 error="answer is not a kubelet configz document (no kubeletconfig)")
    else:
        s.record(SOURCE, body, request=req)


def record_kubelet_configz(api, target: KubeTarget, s: CollectSession, nodes: list[str], workers: int) -> None:
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(lambda n: _record_one(api, target, s, n), nodes))


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def kubelet_facts(configz: dict) -> dict[str, Any]:
    """The settings the checks judge, from a configz answer (the kubelet's effective KubeletConfiguration;
    a setting the answer lacks is None, never a default)."""
    k = configz.get("kubeletconfig") or {}
    return {
        "anonymous_auth": _get(k, "authentication", "anonymous", "enabled"),
        "webhook_authentication": _get(k, "authentication", "webhook", "enabled"),
        "client_ca_file": _get(k, "authentication", "x509", "clientCAFile"),
        "authorization_mode": _get(k, "authorization", "mode"),
        "read_only_port": k.get("readOnlyPort"),
        "rotate_certificates": k.get("rotateCertificates"),
        "server_tls_bootstrap": k.get("serverTLSBootstrap"),
        "tls_cert_file": k.get("tlsCertFile"),
        "tls_min_version": k.get("tlsMinVersion"),
        "protect_kernel_defaults": k.get("protectKernelDefaults"),
    }
