"""Where the cluster is and how to reach it, by the conventions kubectl users expect:

- a target's `kubeconfig` (relative to scan.yaml), else every file of `$KUBECONFIG` merged as kubectl merges
  them (missing files skipped; for each named cluster, user and context the first file that defines it wins;
  the current-context is the first file's that sets one), else `~/.kube/config`;
- in-cluster, when the scanner runs as a pod: the ServiceAccount token and CA under
  /var/run/secrets/kubernetes.io/serviceaccount (`$MLPS_K8S_SA_DIR` points elsewhere) and
  KUBERNETES_SERVICE_HOST/PORT, with no kubeconfig at all (`in_cluster: true`, or automatically when no
  kubeconfig is given or found and those are present).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from mlps_scan.errors import InputError

from .target import TARGET_NAME, KubeTarget

SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
_IMPORT_LOCK = threading.Lock()


def import_client() -> None:
    """Import the official client once, under a lock, before any thread uses it: targets are collected in
    parallel, and two threads importing kubernetes.client's circular modules at the same time make Python
    raise _DeadlockError in one of them (a lost cluster)."""
    with _IMPORT_LOCK:
        import kubernetes.client  # noqa: F401
        import kubernetes.client.exceptions  # noqa: F401
        import kubernetes.config  # noqa: F401
        import kubernetes.config.incluster_config  # noqa: F401


def serviceaccount_dir() -> Path:
    return Path(os.environ.get("MLPS_K8S_SA_DIR") or SA_DIR)


def kubeconfig_paths(target: KubeTarget, base_dir: Path) -> list[Path]:
    """The kubeconfig files, in merge order: the target's (relative to scan.yaml), else the entries of
    $KUBECONFIG, else ~/.kube/config."""
    if target.kubeconfig:
        p = Path(target.kubeconfig).expanduser()
        return [p if p.is_absolute() else base_dir / p]
    env = [x for x in os.environ.get("KUBECONFIG", "").split(os.pathsep) if x]
    if env:
        return [Path(x).expanduser() for x in env]
    return [Path("~/.kube/config").expanduser()]


def kubeconfig_path(target: KubeTarget, base_dir: Path) -> Path:
    """The first kubeconfig file (kept for callers that name one file)."""
    return kubeconfig_paths(target, base_dir)[0]


def in_cluster_environment() -> str | None:
    """None when the in-cluster ServiceAccount is usable, else what is missing."""
    if not os.environ.get("KUBERNETES_SERVICE_HOST") or not os.environ.get("KUBERNETES_SERVICE_PORT"):
        return "KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set (not running in a pod)"
    d = serviceaccount_dir()
    for f in ("token", "ca.crt"):
        if not (d / f).is_file():
            return f"no ServiceAccount {f} in {d}"
    return None


def uses_in_cluster(target: KubeTarget, base_dir: Path) -> bool:
    if target.in_cluster is not None:
        return target.in_cluster
    if target.kubeconfig or os.environ.get("KUBECONFIG"):
        return False
    return not kubeconfig_paths(target, base_dir)[0].exists() and in_cluster_environment() is None


def _read_kubeconfig(target: KubeTarget, path: Path) -> dict:
    from mlps_scan.loaders import load_yaml_file  # a regular file under the size limit, bounded nesting
    doc = load_yaml_file(path, f"kubernetes target {target.name}: kubeconfig") or {}
    if not isinstance(doc, dict):
        raise InputError(f"kubernetes target {target.name}: kubeconfig {path} is not a mapping")
    return doc


@dataclass
class MergedKubeconfig:
    files: list[Path]
    contexts: list[str]
    current_context: str | None


def merge_kubeconfigs(target: KubeTarget, paths: list[Path]) -> MergedKubeconfig:
    """kubectl's merge of several kubeconfig files (names and current-context: the first file wins)."""
    files = [p for p in paths if p.exists()]  # a FIFO or device is refused by the loader, not skipped
    if not files:
        where = paths[0] if len(paths) == 1 else f"any of {', '.join(map(str, paths))} ($KUBECONFIG)"
        raise InputError(f"kubernetes target {target.name}: kubeconfig not found: {where}")
    contexts: list[str] = []
    current = None
    for p in files:
        doc = _read_kubeconfig(target, p)
        for c in doc.get("contexts") or []:
            if isinstance(c, dict) and c.get("name") and c["name"] not in contexts:
                contexts.append(c["name"])
        current = current or doc.get("current-context") or None
    return MergedKubeconfig(files, contexts, current)


def _validate_in_cluster(target: KubeTarget) -> None:
    if target.kubeconfig or target.context:
        raise InputError(f"kubernetes target {target.name}: in_cluster uses the pod's ServiceAccount; "
                         "leave out kubeconfig and context")
    missing = in_cluster_environment()
    if missing:
        raise InputError(f"kubernetes target {target.name}: in_cluster: {missing}")


def validate_target(target: KubeTarget, base_dir: Path) -> None:
    """InputError (one line) for a target that cannot be scanned: bad name, no kubeconfig, unknown context,
    no in-cluster ServiceAccount, a missing copy of a control-plane file."""
    if not TARGET_NAME.match(target.name):
        raise InputError(f"kubernetes target name {target.name[:40]!r}: use letters, digits, '.', '_' or '-'")
    if uses_in_cluster(target, base_dir):
        _validate_in_cluster(target)
    else:
        merged = merge_kubeconfigs(target, kubeconfig_paths(target, base_dir))
        where = merged.files[0] if len(merged.files) == 1 else "$KUBECONFIG (" + ", ".join(map(str, merged.files)) + ")"
        ctx = target.context or merged.current_context
        if not ctx:
            raise InputError(f"kubernetes target {target.name}: no context given and {where} has no current-context")
        if ctx not in merged.contexts:
            raise InputError(f"kubernetes target {target.name}: context {ctx!r} not in {where}")
    for key in ("encryption_config", "audit_policy"):
        value = getattr(target, key)
        if value:
            p = Path(value).expanduser()
            p = p if p.is_absolute() else base_dir / p
            if not p.exists():
                raise InputError(f"kubernetes target {target.name}: {key} not found: {p}")
            from mlps_scan.loaders import require_regular_file
            require_regular_file(p, f"kubernetes target {target.name}: {key}")


def connect(target: KubeTarget, base_dir: Path):
    """(ApiClient of the official client, what to record about the connection (file names, never paths or
    credentials), the context used (None in-cluster)). The caller closes the client."""
    import_client()
    from kubernetes.client import ApiClient, Configuration
    if uses_in_cluster(target, base_dir):
        from kubernetes.config.incluster_config import InClusterConfigLoader
        d = serviceaccount_dir()
        cfg = Configuration()
        InClusterConfigLoader(token_filename=str(d / "token"), cert_filename=str(d / "ca.crt")).load_and_set(cfg)
        cfg.retries = False  # no urllib3 retries behind our back: each attempt is ours, bounded and recorded
        return ApiClient(configuration=cfg), {"in_cluster": True}, None
    from kubernetes import config as kconfig
    merged = merge_kubeconfigs(target, kubeconfig_paths(target, base_dir))
    context = target.context or merged.current_context
    cfg = Configuration()
    kconfig.load_kube_config(config_file=os.pathsep.join(map(str, merged.files)), context=context,
                             client_configuration=cfg, persist_config=False)
    cfg.retries = False  # no urllib3 retries behind our back: each attempt is ours, bounded and recorded
    api = ApiClient(configuration=cfg)
    names = [p.name for p in merged.files]
    return api, {"kubeconfig": names[0] if len(names) == 1 else names}, context
