"""Where the cluster is and how to reach it: the kubeconfig a target names (or $KUBECONFIG, or
~/.kube/config), its context, and the API client built from them."""
from __future__ import annotations

import os
from pathlib import Path

from mlps_scan.errors import InputError

from .target import TARGET_NAME, KubeTarget


def kubeconfig_path(target: KubeTarget, base_dir: Path) -> Path:
    """The kubeconfig file: the target's (relative to scan.yaml), else the first of $KUBECONFIG, else
    ~/.kube/config."""
    if target.kubeconfig:
        p = Path(target.kubeconfig).expanduser()
        return p if p.is_absolute() else base_dir / p
    env = os.environ.get("KUBECONFIG", "")
    first = next((x for x in env.split(os.pathsep) if x), None)
    return Path(first).expanduser() if first else Path("~/.kube/config").expanduser()


def _load_kubeconfig(target: KubeTarget, path: Path) -> dict:
    if not path.is_file():
        raise InputError(f"kubernetes target {target.name}: kubeconfig not found: {path}")
    try:
        import yaml
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except Exception:  # noqa: BLE001
        raise InputError(f"kubernetes target {target.name}: kubeconfig {path} is not valid YAML") from None
    if not isinstance(doc, dict):
        raise InputError(f"kubernetes target {target.name}: kubeconfig {path} is not a mapping")
    return doc


def validate_target(target: KubeTarget, base_dir: Path) -> None:
    """InputError (one line) for a target that cannot be scanned: bad name, no kubeconfig, unknown context,
    a missing EncryptionConfiguration copy."""
    if not TARGET_NAME.match(target.name):
        raise InputError(f"kubernetes target name {target.name[:40]!r}: use letters, digits, '.', '_' or '-'")
    path = kubeconfig_path(target, base_dir)
    doc = _load_kubeconfig(target, path)
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


def api_client(target: KubeTarget, path: Path):
    """An ApiClient of the official client for the target's context (the caller closes it)."""
    from kubernetes import config as kconfig
    return kconfig.new_client_from_config(config_file=str(path), context=target.context, persist_config=False)
