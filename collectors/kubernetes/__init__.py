"""Kubernetes collector: inventories a cluster through the official `kubernetes` client, read-only.

For every target (a kubeconfig and a context) it lists, with `limit` + `continue` paging and a small thread
pool over resource kinds, the objects docs/asset-types.md names, records each raw list page as evidence
(the API's own JSON shape: `kind: PodList`, `metadata.continue`, `items`), and builds the `k8s.*` assets
from the recorded answers through `derive()`, the same code path the offline replay and the `kubectl`
static format use.

Secrets: only metadata is kept. `data` and `stringData` are dropped from every Secret, and the
`last-applied-configuration` annotation (a copy of the applied object: Secret values, literal env values,
ConfigMap data) from every object of every kind, *before* the answer reaches the recorder; the recorder's
redaction is the second line of defence.

Errors: 403 -> the kind is `denied` in the cluster's scope (its checks say `error`); 5xx -> one retry, then
`error`; a timeout (the wall time of one call) is not retried; anything else (401, TLS, connection) -> `error`;
a server that does not answer /version is not asked for lists. Nothing is ever read as a pass.

The permissions it needs are in deploy/kubernetes/mlps-scan-clusterrole.yaml (get/list only); reading the
kubelets' configuration (opt-in) needs deploy/kubernetes/mlps-scan-kubelet-clusterrole.yaml as well.

Layout (one module per seam):
  target.py        the scan.yaml target (KubeTarget, EksTarget)
  connection.py    kubeconfig(s) and context, or in-cluster: validation, the API client
  resources.py     the kinds listed, their client calls and REST paths
  listing.py       calls, the retry, paged lists, all recorded
  sanitize.py      what never reaches the recorder (Secret values, last-applied, literal secret env)
  encryption.py    the supplied EncryptionConfiguration copy
  auditpolicy.py   the supplied audit policy copy
  kubelet.py       each node's kubelet configuration (opt-in: kubelet_config: true)
  eks.py           the EKS control plane through AWS
  controlplane.py  kube-apiserver flags from its static pod
  replay.py        recorded evidence -> lists and cluster answers
  derive/          lists -> k8s.* assets, one module per family of kinds
  kubectl.py       the `kubectl` static format (dumps)
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlps_scan.models import EvidenceRecord
from mlps_scan.plugins import CollectSession, Collector, FileFormat

from . import connection
from .auditpolicy import record_audit_policy
from .controlplane import api_server_flags, parse_flags
from .derive import KindResult, build_assets
from .derive.workloads import pod_spec_facts
from .eks import record_eks
from .encryption import (ENCRYPTING_PROVIDERS, record_encryption_config, sanitize_encryption_config,
                         secrets_providers)
from .kubectl import kubectl_detect, kubectl_handler, kubectl_keep
from .kubelet import NodeNames, record_kubelet_configz
from .listing import record_get, record_list
from .replay import cluster_evidence, records_by_target
from .resources import ITEM_KINDS, RESOURCES, WORKLOAD_KINDS
from .sanitize import sanitize_list, strip_secret
from .target import DEFAULT_PAGE, WORKERS, EksTarget, KubeTarget

__all__ = ["KubernetesCollector", "KubeTarget", "EksTarget", "RESOURCES", "ITEM_KINDS", "WORKLOAD_KINDS",
           "DEFAULT_PAGE", "WORKERS", "ENCRYPTING_PROVIDERS", "KindResult", "build_assets", "parse_flags",
           "api_server_flags", "pod_spec_facts", "sanitize_list", "strip_secret", "sanitize_encryption_config",
           "secrets_providers"]


class KubernetesCollector(Collector):
    name = "kubernetes"
    config_key = "kubernetes"
    target_model = KubeTarget
    description = "Kubernetes clusters through a kubeconfig context (read-only: get/list)"
    asset_patterns = ("k8s.*",)
    architecture_order = {"*": 30, "security_services": 40}

    def target_name(self, target: KubeTarget) -> str:
        return target.name

    def architecture(self, assets):
        from mlps_scan.collectors.kubernetes_architecture import describe
        return describe(assets)

    @classmethod
    def file_formats(cls) -> list[FileFormat]:
        """`kubectl get ... -o json` dumps (a v1 List) in static files."""
        return [FileFormat("kubectl", kubectl_detect, kubectl_handler, keep=kubectl_keep)]

    def validate_target(self, target: KubeTarget, base_dir: Path) -> None:
        connection.validate_target(target, base_dir)

    # ---- live collection

    def collect(self, target: KubeTarget, s: CollectSession) -> None:
        api, connection_request, context = connection.connect(target, s.base_dir)
        try:
            s.record("target", {"server": api.configuration.host, "context": context,
                                "eks": target.eks.model_dump() if target.eks else None,
                                "kubelet_config": target.kubelet_config},
                     request=connection_request)
            nodes = self._list_everything(api, target, s)
            if target.kubelet_config:
                record_kubelet_configz(api, target, s, nodes.names, self._workers(s))
            if target.eks:
                record_eks(target.eks, s)
            if target.encryption_config:
                record_encryption_config(s.resolve_path(target.encryption_config), s)
            if target.audit_policy:
                record_audit_policy(s.resolve_path(target.audit_policy), s)
        finally:
            api.close()
        self.derive(s.records(), s)  # this target's records only: other targets may still be writing theirs

    @staticmethod
    def _workers(s: CollectSession) -> int:
        return max(1, min(8, int(s.options.get("k8s_workers") or WORKERS)))

    def _list_everything(self, api, target: KubeTarget, s: CollectSession) -> NodeNames:
        """/version, then every kind of RESOURCES through a bounded pool (kinds in parallel, pages in order).
        Returns the node names seen (for the kubelet configuration)."""
        from kubernetes import client as kclient

        page = int(s.options.get("k8s_page_size") or target.page_size)
        answered = record_get(s, "version", "/version", lambda **kw: kclient.VersionApi(api).get_code(**kw), target)
        nodes = NodeNames()
        if not answered:  # no HTTP answer at all (down, hung, TLS): the lists are not asked (derive says why)
            return nodes

        def run(kind: str) -> None:
            cls, method, rest, _ = RESOURCES[kind]
            fn = getattr(getattr(kclient, cls)(api), method)
            record_list(s, kind, rest, fn, page, target, on_items=nodes if kind == "nodes" else None)

        with ThreadPoolExecutor(max_workers=self._workers(s)) as pool:
            list(pool.map(run, RESOURCES))
        return nodes

    # ---- offline: evidence -> assets

    def derive(self, records: list[EvidenceRecord], s: CollectSession) -> None:
        for tname, recs in sorted(records_by_target(records).items()):
            ev = cluster_evidence(recs)
            build_assets(s, tname, ev.lists, sources=ev.sources, source="api", now=ev.collected_at)

