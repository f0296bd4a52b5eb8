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
`error`; anything else (401, TLS, connection) -> `error`. Nothing is ever read as a pass.

The permissions it needs are in deploy/kubernetes/mlps-scan-clusterrole.yaml (get/list only).
"""
from __future__ import annotations

import json
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import Field

from mlps_scan.errors import InputError
from mlps_scan.models import EvidenceRecord, EvidenceStatus, Strict
from mlps_scan.plugins import CollectSession, Collector, FileFormat
from mlps_scan.redact import REDACTED, is_secret_key

# kind key -> (client API class, method, REST path, asset types it feeds)
RESOURCES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "nodes": ("CoreV1Api", "list_node", "/api/v1/nodes", ("k8s.node",)),
    "namespaces": ("CoreV1Api", "list_namespace", "/api/v1/namespaces", ("k8s.namespace",)),
    "pods": ("CoreV1Api", "list_pod_for_all_namespaces", "/api/v1/pods", ("k8s.workload",)),
    "services": ("CoreV1Api", "list_service_for_all_namespaces", "/api/v1/services", ("k8s.service",)),
    "serviceaccounts": ("CoreV1Api", "list_service_account_for_all_namespaces", "/api/v1/serviceaccounts",
                        ("k8s.serviceaccount",)),
    "secrets": ("CoreV1Api", "list_secret_for_all_namespaces", "/api/v1/secrets", ("k8s.secret",)),
    "deployments": ("AppsV1Api", "list_deployment_for_all_namespaces", "/apis/apps/v1/deployments", ("k8s.workload",)),
    "statefulsets": ("AppsV1Api", "list_stateful_set_for_all_namespaces", "/apis/apps/v1/statefulsets", ("k8s.workload",)),
    "daemonsets": ("AppsV1Api", "list_daemon_set_for_all_namespaces", "/apis/apps/v1/daemonsets", ("k8s.workload",)),
    "jobs": ("BatchV1Api", "list_job_for_all_namespaces", "/apis/batch/v1/jobs", ("k8s.workload",)),
    "cronjobs": ("BatchV1Api", "list_cron_job_for_all_namespaces", "/apis/batch/v1/cronjobs", ("k8s.workload",)),
    "ingresses": ("NetworkingV1Api", "list_ingress_for_all_namespaces", "/apis/networking.k8s.io/v1/ingresses",
                  ("k8s.ingress",)),
    "networkpolicies": ("NetworkingV1Api", "list_network_policy_for_all_namespaces",
                        "/apis/networking.k8s.io/v1/networkpolicies", ("k8s.networkpolicy",)),
    "roles": ("RbacAuthorizationV1Api", "list_role_for_all_namespaces",
              "/apis/rbac.authorization.k8s.io/v1/roles", ("k8s.rbac.role",)),
    "clusterroles": ("RbacAuthorizationV1Api", "list_cluster_role", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                     ("k8s.rbac.role",)),
    "rolebindings": ("RbacAuthorizationV1Api", "list_role_binding_for_all_namespaces",
                     "/apis/rbac.authorization.k8s.io/v1/rolebindings", ("k8s.rbac.binding",)),
    "clusterrolebindings": ("RbacAuthorizationV1Api", "list_cluster_role_binding",
                            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", ("k8s.rbac.binding",)),
}
# `kind` of a List item -> kind key (for kubectl dumps)
ITEM_KINDS = {"Node": "nodes", "Namespace": "namespaces", "Pod": "pods", "Service": "services",
              "ServiceAccount": "serviceaccounts", "Secret": "secrets", "Deployment": "deployments",
              "StatefulSet": "statefulsets", "DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs",
              "Ingress": "ingresses", "NetworkPolicy": "networkpolicies", "Role": "roles", "ClusterRole": "clusterroles",
              "RoleBinding": "rolebindings", "ClusterRoleBinding": "clusterrolebindings"}
WORKLOAD_KINDS = {"deployments": "Deployment", "statefulsets": "StatefulSet", "daemonsets": "DaemonSet",
                  "jobs": "Job", "cronjobs": "CronJob"}
DEFAULT_PAGE = 500
WORKERS = 4  # parallel list calls per cluster (kinds), bounded so one scan never floods an API server
_SECRET_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class EksTarget(Strict):
    cluster_name: str = Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]*$")
    aws_target: str | None = Field(None, description="name of the aws: target this cluster belongs to (a label in the report)")
    region: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", description="default: the AWS SDK's region")
    profile: str | None = Field(None, description="AWS profile for eks:DescribeCluster / logs:DescribeLogGroups; "
                                                  "default: the SDK's credential chain")


class KubeTarget(Strict):
    name: str = Field(min_length=1, max_length=63, description="a short name for the cluster (used in scopes)")
    kubeconfig: str | None = Field(None, description="path to a kubeconfig; default $KUBECONFIG or ~/.kube/config")
    context: str | None = Field(None, description="kubeconfig context; default the current context")
    eks: EksTarget | None = Field(None, description="EKS control-plane logging and secrets encryption (via AWS)")
    encryption_config: str | None = Field(
        None, description="a copy of the kube-apiserver's EncryptionConfiguration file (the one "
                          "--encryption-provider-config names; not readable through the API). Its provider order "
                          "decides whether Secrets are encrypted; key material is dropped before it is recorded")
    page_size: int = Field(DEFAULT_PAGE, ge=1, le=5000, description="items per list page (limit)")
    timeout_seconds: float = Field(20, gt=0, le=600)


# --------------------------------------------------------------------------- sanitising answers

def strip_secret(item: dict) -> dict:
    """A Secret with its values removed: metadata (minus last-applied) and type only."""
    out = {k: v for k, v in item.items() if k not in ("data", "stringData")}
    md = dict(out.get("metadata") or {})
    ann = {k: v for k, v in (md.get("annotations") or {}).items() if k not in _SECRET_ANNOTATIONS}
    if "annotations" in md:
        md["annotations"] = ann
    md.pop("managedFields", None)
    out["metadata"] = md
    return out


def _secret_env_name(name: str) -> bool:
    n = name.upper()
    return is_secret_key(name) and not n.endswith(("_FILE", "_PATH", "_DIR", "_POLICY", "_LENGTH"))


def _mask_env(x: Any) -> Any:
    """Literal values of environment variables with secret-looking names (DB_PASSWORD=...) are secrets in
    plain sight: replace the value, keep the name (the secret_env check reports them)."""
    if isinstance(x, dict):
        out = {}
        for k, v in x.items():
            if k == "env" and isinstance(v, list):
                v = [{**e, "value": REDACTED} if isinstance(e, dict) and e.get("value") and _secret_env_name(str(e.get("name", "")))
                     else e for e in v]
            out[k] = _mask_env(v) if k != "env" else v
        return out
    if isinstance(x, list):
        return [_mask_env(i) for i in x]
    return x


def _strip_metadata(item: dict) -> dict:
    """managedFields (noise) and the last-applied annotation dropped from an object's metadata. `kubectl apply`
    copies the whole object it applied into that annotation: a Deployment's literal env values, a ConfigMap's
    data, a Secret's stringData. Whatever the kind, it is never recorded."""
    md = item.get("metadata")
    if not isinstance(md, dict):
        return item
    ann = md.get("annotations")
    if "managedFields" not in md and not (isinstance(ann, dict) and any(k in ann for k in _SECRET_ANNOTATIONS)):
        return item
    md = {k: v for k, v in md.items() if k != "managedFields"}
    if isinstance(ann, dict):
        md["annotations"] = {k: v for k, v in ann.items() if k not in _SECRET_ANNOTATIONS}
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
            it = _mask_env(_strip_metadata(it))
        items.append(it)
    return {**doc, "items": items}


ENCRYPTING_PROVIDERS = ("aescbc", "aesgcm", "secretbox", "kms")


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
        provs = []
        for p in entry.get("providers") or []:
            if not isinstance(p, dict):
                continue
            clean = {}
            for ptype, conf in p.items():
                if isinstance(conf, dict):
                    conf = {k: ([{"name": key.get("name")} for key in v if isinstance(key, dict)] if k == "keys" else v)
                            for k, v in conf.items() if k != "secret"}
                clean[ptype] = conf
            provs.append(clean)
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


# --------------------------------------------------------------------------- collector

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
        return [FileFormat("kubectl", _kubectl_detect, _kubectl_handler)]

    @staticmethod
    def _kubeconfig(target: KubeTarget, base_dir: Path) -> Path:
        if target.kubeconfig:
            p = Path(target.kubeconfig).expanduser()
            return p if p.is_absolute() else base_dir / p
        env = os.environ.get("KUBECONFIG", "")
        first = next((x for x in env.split(os.pathsep) if x), None)
        return Path(first).expanduser() if first else Path("~/.kube/config").expanduser()

    def validate_target(self, target: KubeTarget, base_dir: Path) -> None:
        if not _NAME.match(target.name):
            raise InputError(f"kubernetes target name {target.name[:40]!r}: use letters, digits, '.', '_' or '-'")
        path = self._kubeconfig(target, base_dir)
        if not path.is_file():
            raise InputError(f"kubernetes target {target.name}: kubeconfig not found: {path}")
        try:
            import yaml
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except Exception:  # noqa: BLE001
            raise InputError(f"kubernetes target {target.name}: kubeconfig {path} is not valid YAML") from None
        if not isinstance(doc, dict):
            raise InputError(f"kubernetes target {target.name}: kubeconfig {path} is not a mapping")
        contexts = {c.get("name") for c in doc.get("contexts") or [] if isinstance(c, dict)}
        ctx = target.context or doc.get("current-context")
        if not ctx:
            raise InputError(f"kubernetes target {target.name}: no context given and {path} has no current-context")
        if ctx not in contexts:
            raise InputError(f"kubernetes target {target.name}: context {ctx!r} not in {path}")
        if target.encryption_config:
            enc = Path(target.encryption_config).expanduser()
            enc = enc if enc.is_absolute() else base_dir / enc
            if not enc.is_file():
                raise InputError(f"kubernetes target {target.name}: encryption_config not found: {enc}")

    # ---- live collection

    def collect(self, target: KubeTarget, s: CollectSession) -> None:
        from kubernetes import client as kclient
        from kubernetes import config as kconfig

        path = s.resolve_path(target.kubeconfig) if target.kubeconfig else self._kubeconfig(target, s.base_dir)
        api = kconfig.new_client_from_config(config_file=str(path), context=target.context, persist_config=False)
        try:
            host = api.configuration.host
            page = int(s.options.get("k8s_page_size") or target.page_size)
            s.record("target", {"server": host, "context": target.context, "eks": target.eks.model_dump() if target.eks else None},
                     request={"kubeconfig": path.name})
            self._get(s, "version", "/version", lambda **kw: kclient.VersionApi(api).get_code(**kw), target)

            def run(kind: str) -> None:
                cls, method, rest, _ = RESOURCES[kind]
                fn = getattr(getattr(kclient, cls)(api), method)
                self._list(s, kind, rest, fn, page, target)

            workers = max(1, min(8, int(s.options.get("k8s_workers") or WORKERS)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(run, RESOURCES))
            if target.eks:
                self._eks(target.eks, s)
            if target.encryption_config:
                self._encryption_config(s.resolve_path(target.encryption_config), s)
        finally:
            api.close()
        self.derive(s.records(), s)  # this target's records only: other targets may still be writing theirs

    @staticmethod
    def _eks(eks: EksTarget, s: CollectSession) -> None:
        """EKS control-plane logging, secrets encryption and endpoint access from the AWS API (read-only:
        eks:DescribeCluster, logs:DescribeLogGroups). Failures are recorded; the checks then say `error`."""
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        req = {"cluster_name": eks.cluster_name, "region": eks.region, "aws_target": eks.aws_target}
        try:
            sess = boto3.Session(profile_name=eks.profile, region_name=eks.region)
            s.count_call()
            cl = sess.client("eks").describe_cluster(name=eks.cluster_name)["cluster"]
            cl = {k: v for k, v in cl.items() if k not in ("certificateAuthority", "ResponseMetadata")}
            s.record("eks:DescribeCluster", cl, request={**req, "region": sess.region_name})
            group = f"/aws/eks/{eks.cluster_name}/cluster"
            s.count_call()
            lg = sess.client("logs").describe_log_groups(logGroupNamePrefix=group)
            s.record("logs:DescribeLogGroups", {"logGroups": [g for g in lg.get("logGroups", []) if g.get("logGroupName") == group]},
                     request={**req, "region": sess.region_name, "logGroupNamePrefix": group})
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            denied = code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
            s.record(f"eks:{e.operation_name}", e.response.get("Error"), request=req,
                     status=EvidenceStatus.denied if denied else EvidenceStatus.error, error=f"{code}: {e}")
        except (BotoCoreError, ValueError) as e:
            s.record("eks:DescribeCluster", None, request=req, status=EvidenceStatus.error, error=f"{type(e).__name__}: {e}")

    @staticmethod
    def _encryption_config(path: Path, s: CollectSession) -> None:
        """The EncryptionConfiguration the user copied from a control-plane node, keys removed."""
        import yaml
        req = {"path": path.name}
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
            s.record("encryption-config", None, request=req, status=EvidenceStatus.error,
                     error=f"{path.name}: {type(e).__name__}: {str(e)[:200]}")
            return
        if secrets_providers(doc) is None:
            s.record("encryption-config", None, request=req, status=EvidenceStatus.error,
                     error=f"{path.name} is not an EncryptionConfiguration (kind: EncryptionConfiguration)")
            return
        s.record("encryption-config", sanitize_encryption_config(doc), request=req)

    @staticmethod
    def _call(fn, target: KubeTarget, **kw) -> tuple[int, Any, str | None]:
        """(http status, parsed JSON, error text). Status 0 = no HTTP answer (TLS, connection...)."""
        from kubernetes.client.exceptions import ApiException
        try:
            resp = fn(_preload_content=False, _request_timeout=target.timeout_seconds, **kw)
            return resp.status, json.loads(resp.data or b"null"), None
        except ApiException as e:
            body = None
            try:
                body = json.loads(e.body) if e.body else None
            except (ValueError, TypeError):
                body = None
            msg = (body or {}).get("message") if isinstance(body, dict) else None
            return e.status or 0, body, f"HTTP {e.status} {e.reason}" + (f": {msg}" if msg else "")
        except ValueError as e:
            return 200, None, f"unparseable answer: {e}"
        except Exception as e:  # noqa: BLE001 - urllib3/TLS/connection errors
            return 0, None, f"{type(e).__name__}: {str(e)[:300]}"

    def _attempts(self, s: CollectSession, source: str, request: dict, fn, target: KubeTarget, **kw):
        """One call, retried once on 5xx (or no answer). Every attempt is recorded."""
        for attempt in (1, 2):
            s.count_call()
            status, body, err = self._call(fn, target, **kw)
            req = {**request, "attempt": attempt, "http_status": status}
            if err is None:
                return status, body, req, None
            retry = attempt == 1 and (status >= 500 or status == 0) and status != 501
            st = EvidenceStatus.denied if status == 403 else EvidenceStatus.error
            if retry:
                s.record(source, body, request=req, status=st, error=err + " (retried)")
                time.sleep(0.2)
                continue
            return status, body, req, (st, err)
        raise AssertionError("unreachable")

    def _get(self, s: CollectSession, source: str, path: str, fn, target: KubeTarget) -> None:
        status, body, req, fail = self._attempts(s, source, {"method": "GET", "path": path}, fn, target)
        if fail:
            s.record(source, body, request=req, status=fail[0], error=fail[1])
        else:
            s.record(source, body, request=req)

    def _list(self, s: CollectSession, kind: str, path: str, fn, page_size: int, target: KubeTarget) -> None:
        cont: str | None = None
        page = 0
        generation = 1  # a list restarted after its continue token expired (410) is generation 2
        while True:
            page += 1
            kw: dict[str, Any] = {"limit": page_size}
            if cont:
                kw["_continue"] = cont
            request = {"method": "GET", "path": path, "limit": page_size, "continue": cont, "page": page}
            if generation > 1:
                request["generation"] = generation
            status, body, req, fail = self._attempts(s, f"list:{kind}", request, fn, target, **kw)
            if fail and status == 410 and cont and generation == 1:
                # the snapshot behind the continue token is gone (compaction, 5+ minutes): list again, once
                s.record(f"list:{kind}", body, request=req, status=EvidenceStatus.error, error=fail[1] + " (list restarted)")
                generation, page, cont = 2, 0, None
                continue
            if fail:
                s.record(f"list:{kind}", body, request=req, status=fail[0], error=fail[1])
                return
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                s.record(f"list:{kind}", body, request=req, status=EvidenceStatus.error,
                         error="answer is not a Kubernetes List (no items)")
                return
            rec = s.record(f"list:{kind}", sanitize_list(kind, body), request=req)
            s.progress(f"{kind}: page {page}, {len(body['items'])} items")
            cont = ((rec.answer or {}).get("metadata") or {}).get("continue") or None
            if not cont or page >= 10000:
                return

    # ---- offline: evidence -> assets

    def derive(self, records: list[EvidenceRecord], s: CollectSession) -> None:
        by_target: dict[str, list[EvidenceRecord]] = {}
        for r in records:
            by_target.setdefault(r.target, []).append(r)
        for tname, recs in sorted(by_target.items()):
            lists: dict[str, KindResult] = {}
            pages: dict[str, dict[int, EvidenceRecord]] = {}
            version: KindResult | None = None
            server = None
            eks = None
            eks_error = None
            eks_info: dict[str, tuple[str, Any]] = {}
            enc_cfg: EvidenceRecord | None = None
            gen: dict[str, int] = {}
            for r in recs:
                if r.source.startswith("list:"):
                    gen[r.source] = max(gen.get(r.source, 1), int(r.request.get("generation", 1)))
            for r in sorted(recs, key=lambda r: (r.source, r.request.get("page", 0), r.request.get("attempt", 0))):
                if r.source.startswith("list:"):
                    if int(r.request.get("generation", 1)) != gen[r.source]:
                        continue  # an earlier, expired pass over this list
                    pages.setdefault(r.source[5:], {})[int(r.request.get("page", 1))] = r  # last attempt wins
                elif r.source == "version":
                    version = KindResult([r.answer] if r.status == EvidenceStatus.ok else [], [r.id], r.status, r.error)
                elif r.source == "encryption-config":
                    enc_cfg = r
                elif r.source == "target" and isinstance(r.answer, dict):
                    server = r.answer.get("server")
                    eks = r.answer.get("eks")
                elif r.source.startswith("eks:") or r.source == "logs:DescribeLogGroups":
                    if r.status != EvidenceStatus.ok:
                        eks_error = (r.id, r.error or r.status.value)
                    elif r.source == "eks:DescribeCluster":
                        eks_info["cluster"] = (r.id, r.answer)
                    else:
                        eks_info["log_groups"] = (r.id, r.answer)
            for kind, pg in pages.items():
                kr = KindResult([], [], EvidenceStatus.ok, None)
                for n in sorted(pg):
                    r = pg[n]
                    kr.evidence.append(r.id)
                    if r.status != EvidenceStatus.ok:
                        kr.status, kr.reason = r.status, r.error or r.status.value
                        continue
                    kr.items.extend((r.answer or {}).get("items") or [])
                # a missing page (continue token with no next page recorded) is an incomplete list
                last = pg[max(pg)]
                if kr.status == EvidenceStatus.ok and ((last.answer or {}).get("metadata") or {}).get("continue"):
                    kr.status, kr.reason = EvidenceStatus.error, "list incomplete: the last recorded page has a continue token"
                if sorted(pg) != list(range(1, len(pg) + 1)) and kr.status == EvidenceStatus.ok:
                    kr.status, kr.reason = EvidenceStatus.error, "list incomplete: pages missing from the evidence"
                lists[kind] = kr
            # ages are counted at collection time, so a replay next year derives the same inventory
            when = max((r.collected_at for r in recs), default=None)
            if when is not None and when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            build_assets(s, tname, lists, version=version, server=server, eks=eks, eks_error=eks_error,
                         eks_info=eks_info, source="api", now=when, encryption_config=enc_cfg)


@dataclass
class KindResult:
    items: list[dict]
    evidence: list[str]
    status: EvidenceStatus
    reason: str | None
    absent: bool = False  # not asked at all (a kubectl dump without this kind)


# --------------------------------------------------------------------------- assets from lists

def _md(o: dict) -> dict:
    return o.get("metadata") or {}


def _age_days(ts: str | None, now: datetime) -> int | None:
    if not ts:
        return None
    try:
        t = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0, (now - t).days)


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


def api_server_flags(flags: dict[str, str]) -> dict[str, Any]:
    def num(v):
        try:
            return int(v)
        except (TypeError, ValueError):
            return None
    return {
        "audit_log_path": flags.get("audit-log-path"),
        "audit_log_maxage": num(flags.get("audit-log-maxage")),
        "audit_policy_file": flags.get("audit-policy-file"),
        "audit_webhook_config_file": flags.get("audit-webhook-config-file"),
        "encryption_provider_config": flags.get("encryption-provider-config"),
        "anonymous_auth": None if "anonymous-auth" not in flags else flags["anonymous-auth"].lower() == "true",
        "authorization_mode": [m for m in flags.get("authorization-mode", "").split(",") if m] or None,
        "tls_min_version": flags.get("tls-min-version"),
        "token_auth_file": flags.get("token-auth-file"),
        "insecure_port": num(flags.get("insecure-port")),
    }


def _image_registry(image: str) -> str:
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _image_tag(image: str) -> str | None:
    if "@" in image:
        return "@" + image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def pod_spec_facts(spec: dict) -> dict[str, Any]:
    """Security facts of a pod template's spec (attribute names per docs/asset-types.md)."""
    containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or []) \
        + list(spec.get("ephemeralContainers") or [])
    psc = spec.get("securityContext") or {}
    privileged = any(bool((c.get("securityContext") or {}).get("privileged")) for c in containers)
    caps: list[str] = []
    escalation = False
    non_root = bool(containers)
    for c in containers:
        sc = c.get("securityContext") or {}
        caps.extend((sc.get("capabilities") or {}).get("add") or [])
        if sc.get("allowPrivilegeEscalation", True) is not False:
            escalation = True
        nr = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        uid = sc.get("runAsUser", psc.get("runAsUser"))
        if not (nr is True or (isinstance(uid, int) and uid > 0)) or uid == 0:
            non_root = False
    secret_env: list[str] = []
    for c in containers:
        for e in c.get("env") or []:
            ref = ((e.get("valueFrom") or {}).get("secretKeyRef") or {})
            if ref.get("name"):
                secret_env.append(f"{c.get('name')}: {e.get('name')} <- secret {ref['name']}")
            elif e.get("value") == REDACTED or (e.get("value") and _secret_env_name(str(e.get("name", "")))):
                secret_env.append(f"{c.get('name')}: {e.get('name')} = literal value in the spec (redacted)")
        for ef in c.get("envFrom") or []:
            if (ef.get("secretRef") or {}).get("name"):
                secret_env.append(f"{c.get('name')}: envFrom secret {ef['secretRef']['name']}")
    vols = [v for v in spec.get("volumes") or [] if isinstance(v, dict)]
    host_paths = [(v.get("hostPath") or {}).get("path") for v in vols if isinstance(v.get("hostPath"), dict)]
    secret_vols = [v["secret"].get("secretName") for v in vols if isinstance(v.get("secret"), dict)]
    images = [c.get("image") for c in containers if c.get("image")]
    return {
        "privileged": privileged,
        "host_network": bool(spec.get("hostNetwork")),
        "host_pid": bool(spec.get("hostPID")),
        "host_ipc": bool(spec.get("hostIPC")),
        "run_as_non_root": non_root,
        "allow_privilege_escalation": escalation,
        "capabilities_added": sorted(set(caps)),
        "host_path_volumes": host_paths,
        "host_ports": sorted({p.get("hostPort") for c in containers for p in c.get("ports") or [] if p.get("hostPort")}),
        "images": images,
        "registries": sorted({_image_registry(i) for i in images}),
        "image_tags": {i: _image_tag(i) for i in images},
        "secret_env": secret_env,
        "secret_volumes": [v for v in secret_vols if v],
        "service_account": spec.get("serviceAccountName") or spec.get("serviceAccount") or "default",
        "automount_spec": spec.get("automountServiceAccountToken"),
    }


def _template_spec(kind_key: str, obj: dict) -> dict:
    spec = obj.get("spec") or {}
    if kind_key == "pods":
        return spec
    if kind_key == "cronjobs":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def _is_default_deny(np: dict) -> bool:
    spec = np.get("spec") or {}
    sel = spec.get("podSelector") or {}
    if sel.get("matchLabels") or sel.get("matchExpressions"):
        return False
    types = spec.get("policyTypes") or ["Ingress"]
    return "Ingress" in types and not spec.get("ingress")


def build_assets(s: CollectSession, tname: str, lists: dict[str, KindResult], *, version: KindResult | None,
                 server: str | None = None, eks: dict | None = None, eks_error: tuple[str, str] | None = None,
                 eks_info: dict[str, tuple[str, Any]] | None = None,
                 source: str = "api", now: datetime | None = None,
                 encryption_config: EvidenceRecord | None = None) -> None:
    """The one place assets are made, from list answers (live, replayed evidence or a kubectl dump)."""
    now = now or datetime.now(timezone.utc)
    scope = f"kubernetes/{tname}"

    def kr(kind: str) -> KindResult:
        if kind in lists:
            return lists[kind]
        why = "not in the dump" if source == "kubectl" else "not collected"
        return KindResult([], [], EvidenceStatus.error, why, absent=True)

    # coverage: one record per asset type per kind (denied/error -> the checks on that type say error)
    for kind, (_c, _m, _p, types) in RESOURCES.items():
        k = kr(kind)
        if k.absent and source == "kubectl":
            continue  # a dump covers what it covers; kinds it lacks only matter where other assets need them
        for t in types:
            s.coverage(t, scope, k.status, k.reason if k.status != EvidenceStatus.ok else None, k.evidence)

    def why(kind: str) -> str | None:
        k = kr(kind)
        return None if k.status == EvidenceStatus.ok else f"{kind}: {k.reason or k.status.value}"

    ns_scope = lambda ns: f"{scope}/{ns}" if ns else scope  # noqa: E731

    # service accounts (automount default)
    sa_automount: dict[tuple[str, str], Any] = {}
    for sa in kr("serviceaccounts").items:
        m = _md(sa)
        sa_automount[(m.get("namespace"), m.get("name"))] = sa.get("automountServiceAccountToken")
        s.asset("k8s.serviceaccount", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}", scope=ns_scope(m.get("namespace")),
                name=m.get("name"), evidence=kr("serviceaccounts").evidence,
                attributes={"namespace": m.get("namespace"), "automount": sa.get("automountServiceAccountToken"),
                            "secrets": len(sa.get("secrets") or []), "age_days": _age_days(m.get("creationTimestamp"), now)})

    # workloads: controllers, plus pods no listed controller owns
    pods = kr("pods")
    controlplane: dict | None = None
    cp_pod_ev: list[str] = []
    for kind_key in ("pods", *WORKLOAD_KINDS):
        k = kr(kind_key)
        for obj in k.items:
            m = _md(obj)
            owners = m.get("ownerReferences") or []
            if kind_key == "pods":
                labels = m.get("labels") or {}
                if m.get("namespace") == "kube-system" and (labels.get("component") == "kube-apiserver"
                                                            or str(m.get("name", "")).startswith("kube-apiserver")):
                    for c in (obj.get("spec") or {}).get("containers") or []:
                        if "kube-apiserver" in " ".join(c.get("command") or [])[:200] or c.get("name") == "kube-apiserver":
                            controlplane = parse_flags(list(c.get("command") or []) + list(c.get("args") or []))
                            cp_pod_ev = k.evidence
                if owners:
                    continue  # owned by a controller (ReplicaSet/Deployment, DaemonSet, Job, Node for static pods)
            elif any(o.get("kind") in WORKLOAD_KINDS.values() for o in owners):
                continue  # e.g. a Job a CronJob made: the CronJob is the workload
            spec = _template_spec(kind_key, obj)
            f = pod_spec_facts(spec)
            ns = m.get("namespace")
            errors: dict[str, str] = {}
            auto = f.pop("automount_spec")
            if auto is None:
                if why("serviceaccounts"):
                    errors["automount_sa_token"] = why("serviceaccounts")  # type: ignore[assignment]
                    auto = None
                else:
                    sa_val = sa_automount.get((ns, f["service_account"]))
                    auto = True if sa_val is None else bool(sa_val)
            attrs = {"kind": obj.get("kind") or (WORKLOAD_KINDS.get(kind_key) or "Pod"), "namespace": ns,
                     **f, "labels": m.get("labels") or {}}
            if "automount_sa_token" not in errors:
                attrs["automount_sa_token"] = bool(auto)
            if kind_key == "pods" and owners:
                attrs["owner"] = owners[0].get("kind")
            s.asset("k8s.workload", m.get("uid") or f"{attrs['kind']}/{ns}/{m.get('name')}", scope=ns_scope(ns),
                    name=f"{attrs['kind']}/{m.get('name')}", attributes=attrs, errors=errors, evidence=k.evidence)

    # namespaces
    netpols = kr("networkpolicies")
    deny_ns = {(_md(p).get("namespace")) for p in netpols.items if _is_default_deny(p)}
    for ns in kr("namespaces").items:
        m = _md(ns)
        labels = m.get("labels") or {}
        errors = {}
        attrs = {"labels": labels, "pod_security": labels.get("pod-security.kubernetes.io/enforce"),
                 "pod_security_audit": labels.get("pod-security.kubernetes.io/audit"),
                 "pod_security_warn": labels.get("pod-security.kubernetes.io/warn"),
                 "phase": (ns.get("status") or {}).get("phase"),
                 "tags": labels}
        if why("networkpolicies"):
            errors["default_deny"] = why("networkpolicies")
        else:
            attrs["default_deny"] = m.get("name") in deny_ns
            attrs["network_policies"] = sum(1 for p in netpols.items if _md(p).get("namespace") == m.get("name"))
        s.asset("k8s.namespace", m.get("uid") or m.get("name"), scope=ns_scope(m.get("name")), name=m.get("name"),
                attributes=attrs, errors=errors, evidence=kr("namespaces").evidence + netpols.evidence)

    for np in netpols.items:
        m = _md(np)
        spec = np.get("spec") or {}
        s.asset("k8s.networkpolicy", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}", scope=ns_scope(m.get("namespace")),
                name=m.get("name"), evidence=netpols.evidence,
                attributes={"namespace": m.get("namespace"), "pod_selector": spec.get("podSelector") or {},
                            "policy_types": spec.get("policyTypes") or ["Ingress"], "default_deny": _is_default_deny(np),
                            "ingress_rules": len(spec.get("ingress") or []), "egress_rules": len(spec.get("egress") or [])})

    # nodes
    nodes = kr("nodes")
    for n in nodes.items:
        m = _md(n)
        st = n.get("status") or {}
        info = st.get("nodeInfo") or {}
        labels = m.get("labels") or {}
        ready = next((c.get("status") == "True" for c in st.get("conditions") or [] if c.get("type") == "Ready"), False)
        s.asset("k8s.node", m.get("uid") or m.get("name"), scope=scope, name=m.get("name"), evidence=nodes.evidence,
                attributes={"kubelet_version": info.get("kubeletVersion"), "os_image": info.get("osImage"),
                            "kernel_version": info.get("kernelVersion"), "container_runtime": info.get("containerRuntimeVersion"),
                            "ready": ready, "zone": labels.get("topology.kubernetes.io/zone"),
                            "roles": sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")),
                            "tags": labels})

    # services and ingresses
    svcs = kr("services")
    for sv in svcs.items:
        m = _md(sv)
        spec = sv.get("spec") or {}
        typ = spec.get("type") or "ClusterIP"
        ann = m.get("annotations") or {}
        internal = any(("internal" in k.lower() and str(v).lower() in ("true", "internal", "0.0.0.0/0") )
                       or (k == "service.beta.kubernetes.io/aws-load-balancer-scheme" and v == "internal")
                       for k, v in ann.items())
        s.asset("k8s.service", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}", scope=ns_scope(m.get("namespace")),
                name=m.get("name"), evidence=svcs.evidence,
                attributes={"namespace": m.get("namespace"), "service_type": typ,
                            "ports": [{"port": p.get("port"), "protocol": p.get("protocol", "TCP"),
                                       "node_port": p.get("nodePort")} for p in spec.get("ports") or []],
                            "external": typ in ("LoadBalancer", "NodePort") or bool(spec.get("externalIPs")),
                            "external_ips": spec.get("externalIPs") or [],
                            "source_ranges": spec.get("loadBalancerSourceRanges") or [],
                            "internal_load_balancer": internal})
    ings = kr("ingresses")
    for ing in ings.items:
        m = _md(ing)
        spec = ing.get("spec") or {}
        hosts = sorted({r.get("host") or "*" for r in spec.get("rules") or []}) or ["*"]
        tls_hosts = sorted({h for t in spec.get("tls") or [] for h in (t.get("hosts") or ["*"])})
        uncovered = [h for h in hosts if h not in tls_hosts and "*" not in tls_hosts]
        s.asset("k8s.ingress", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}", scope=ns_scope(m.get("namespace")),
                name=m.get("name"), evidence=ings.evidence,
                attributes={"namespace": m.get("namespace"), "hosts": hosts, "tls": bool(spec.get("tls")) and not uncovered,
                            "tls_hosts": tls_hosts, "hosts_without_tls": uncovered,
                            "ingress_class": spec.get("ingressClassName")})

    # RBAC
    roles_by: dict[tuple[str, str | None, str], dict] = {}
    for kind_key, cluster in (("clusterroles", True), ("roles", False)):
        k = kr(kind_key)
        for r in k.items:
            m = _md(r)
            rules = r.get("rules") or []
            wild = any("*" in (ru.get("verbs") or []) or "*" in (ru.get("resources") or []) for ru in rules)
            full = any("*" in (ru.get("verbs") or []) and "*" in (ru.get("resources") or [])
                       and "*" in (ru.get("apiGroups") or []) for ru in rules)
            labels = m.get("labels") or {}
            attrs = {"kind": "ClusterRole" if cluster else "Role", "namespace": m.get("namespace"), "cluster_wide": cluster,
                     "rules": rules, "wildcard": wild, "full_access": full, "aggregated": bool(r.get("aggregationRule")),
                     "builtin": labels.get("kubernetes.io/bootstrapping") == "rbac-defaults"
                     or str(m.get("name", "")).startswith("system:"), "tags": labels}
            roles_by[("ClusterRole" if cluster else "Role", None if cluster else m.get("namespace"), m.get("name"))] = attrs
            s.asset("k8s.rbac.role", m.get("uid") or f"{attrs['kind']}/{m.get('namespace')}/{m.get('name')}",
                    scope=ns_scope(None if cluster else m.get("namespace")), name=f"{attrs['kind']}/{m.get('name')}",
                    attributes=attrs, evidence=k.evidence)
    for kind_key, cluster in (("clusterrolebindings", True), ("rolebindings", False)):
        k = kr(kind_key)
        for b in k.items:
            m = _md(b)
            ref = b.get("roleRef") or {}
            role_ns = None if ref.get("kind") == "ClusterRole" else m.get("namespace")
            role = roles_by.get((ref.get("kind"), role_ns, ref.get("name")))
            errors = {}
            attrs = {"kind": "ClusterRoleBinding" if cluster else "RoleBinding", "namespace": m.get("namespace"),
                     "role": ref.get("name"), "role_kind": ref.get("kind"), "cluster_wide": cluster,
                     "subjects": [{"kind": x.get("kind"), "name": x.get("name"), "namespace": x.get("namespace")}
                                  for x in b.get("subjects") or []],
                     "builtin": (m.get("labels") or {}).get("kubernetes.io/bootstrapping") == "rbac-defaults"}
            src = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
            if role is not None:
                attrs["role_wildcard"] = role["wildcard"]
                attrs["role_full_access"] = role["full_access"]
            elif why(src):
                errors["role_wildcard"] = errors["role_full_access"] = why(src)  # type: ignore[assignment]
            else:
                attrs["role_wildcard"] = attrs["role_full_access"] = None  # the role does not exist (dangling binding)
            s.asset("k8s.rbac.binding", m.get("uid") or f"{attrs['kind']}/{m.get('namespace')}/{m.get('name')}",
                    scope=ns_scope(None if cluster else m.get("namespace")), name=f"{attrs['kind']}/{m.get('name')}",
                    attributes=attrs, errors=errors, evidence=k.evidence)

    # secrets: metadata only
    secs = kr("secrets")
    for sec in secs.items:
        m = _md(sec)
        s.asset("k8s.secret", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}", scope=ns_scope(m.get("namespace")),
                name=m.get("name"), evidence=secs.evidence,
                attributes={"namespace": m.get("namespace"), "secret_type": sec.get("type"),
                            "age_days": _age_days(m.get("creationTimestamp"), now)})

    # the cluster
    cattrs: dict[str, Any] = {"server": server, "source": source}
    cerr: dict[str, str] = {}
    cev: list[str] = []
    if version is not None and version.status == EvidenceStatus.ok and version.items and isinstance(version.items[0], dict):
        v = version.items[0]
        cattrs["server_version"] = v.get("gitVersion")
        gv = str(v.get("gitVersion") or "")
        cattrs["platform"] = "eks" if "-eks-" in gv else "gke" if "-gke." in gv else "aks" if "aks" in gv else None
        cev += version.evidence
    else:
        cerr["server_version"] = (version.reason if version else None) or ("not in the dump" if source == "kubectl" else "not collected")
        cattrs["platform"] = None
        if version:
            cev += version.evidence
    if eks:
        cattrs["platform"] = "eks"
        cattrs["eks_cluster"] = eks.get("cluster_name")
        if eks_error:
            cerr["eks"] = eks_error[1]
            cev.append(eks_error[0])
        elif eks_info and "cluster" in eks_info:
            ev, cl = eks_info["cluster"]
            cev.append(ev)
            types = sorted({t for lg in (cl.get("logging") or {}).get("clusterLogging") or [] if lg.get("enabled")
                            for t in lg.get("types") or []})
            enc = [e for e in cl.get("encryptionConfig") or [] if "secrets" in (e.get("resources") or [])]
            vpc = cl.get("resourcesVpcConfig") or {}
            info = {"version": cl.get("version"), "logging_types": types, "secrets_encryption": bool(enc),
                    "kms_key": ((enc[0].get("provider") or {}).get("keyArn") if enc else None),
                    "endpoint_public_access": vpc.get("endpointPublicAccess"),
                    "endpoint_private_access": vpc.get("endpointPrivateAccess"),
                    "public_access_cidrs": vpc.get("publicAccessCidrs") or [],
                    "audit_log_group": f"/aws/eks/{eks.get('cluster_name')}/cluster"}
            if "log_groups" in eks_info:
                lev, lg = eks_info["log_groups"]
                cev.append(lev)
                groups = (lg or {}).get("logGroups") or []
                info["audit_log_group_exists"] = bool(groups)
                info["audit_log_retention_days"] = groups[0].get("retentionInDays") if groups else None
            cattrs["eks"] = info
    if encryption_config is not None:  # only when the user supplied the file
        cev.append(encryption_config.id)
        if encryption_config.status == EvidenceStatus.ok:
            cattrs["encryption_config"] = {"file": (encryption_config.request or {}).get("path"),
                                           "secrets_providers": secrets_providers(encryption_config.answer) or []}
        else:
            cerr["encryption_config"] = encryption_config.error or encryption_config.status.value
    if why("nodes"):
        cerr["node_count"] = why("nodes")  # type: ignore[assignment]
    else:
        cattrs["node_count"] = len(nodes.items)
        cattrs["zones"] = sorted({(_md(n).get("labels") or {}).get("topology.kubernetes.io/zone") for n in nodes.items} - {None})
    if controlplane is not None:
        cattrs["api_server"] = api_server_flags(controlplane)
        cattrs["api_server_flags"] = sorted(controlplane)
        cev += cp_pod_ev
    elif eks:
        cerr["api_server"] = ("managed control plane (EKS): kube-apiserver flags are not visible"
                              + (f"; the AWS lookup failed: {eks_error[1]}" if eks_error else
                                 "; control-plane logging and encryption come from eks:DescribeCluster"))
    elif why("pods"):
        cerr["api_server"] = f"kube-apiserver flags unknown: {why('pods')}"
        cev += pods.evidence
    else:
        cerr["api_server"] = ("no kube-apiserver static pod visible in kube-system (managed or hidden control plane): "
                              "its flags cannot be read through the API")
        cev += pods.evidence
    for key, kind in (("rbac", "clusterrolebindings"), ("rbac", "rolebindings")):
        if why(kind):
            cerr.setdefault("rbac", why(kind))  # type: ignore[arg-type]
    s.asset("k8s.cluster", scope, scope=scope, name=tname, attributes=cattrs, errors=cerr, evidence=cev)


# --------------------------------------------------------------------------- static format: kubectl dumps

def _kubectl_detect(doc: Any) -> bool:
    return (isinstance(doc, dict) and isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List")
            and "apiVersion" in doc and all(isinstance(i, dict) and i.get("kind") for i in doc["items"][:50]))


def _kubectl_handler(doc: Any, s: CollectSession, ev_id: str, scope: str, path: Path | None) -> None:
    lists: dict[str, KindResult] = {}
    for it in doc.get("items") or []:
        key = ITEM_KINDS.get(it.get("kind"))
        if key is None:
            continue  # kinds the scanner does not assess (ConfigMaps, Events...) stay in the evidence only
        if key == "secrets":
            it = strip_secret(it)
        lists.setdefault(key, KindResult([], [ev_id], EvidenceStatus.ok, None)).items.append(it)
    build_assets(s, s.target, lists, version=None, source="kubectl")
