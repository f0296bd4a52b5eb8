#!/usr/bin/env python3
"""An offline kubectl dump at 1k and 10k pods (and 10k/100k with --sizes): how the Kubernetes derivation and
checks grow with the cluster. Each size is a generated `kubectl get ... -o json` List (pods owned by
ReplicaSets of Deployments, a ServiceAccount and a default-deny policy per namespace, Services, Roles and
RoleBindings naming users, a 3-node HA control plane with kube-apiserver, etcd, controller manager and
scheduler static pods) scanned with `mlps-scan scan` through the static `kubectl` format: parse, redact,
record, derive, every check, the bundle.

Prints per size: objects, assets, findings, wall time and peak RSS of the scan process, and, measured in
this process, the derivation alone (dump -> k8s.* assets) and every check over those assets; then the ratios
between the largest and smallest size (10x the pods: about 10x means linear growth). No assertion: a
measurement.   .venv/bin/python bench/k8s_dump_scale.py [--sizes 1000,10000]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _meta(kind: str, name: str, ns: str | None = None, **extra) -> dict:
    m = {"name": name, "uid": f"{kind}-{ns}-{name}", "creationTimestamp": "2026-01-10T08:00:00Z", **extra}
    if ns:
        m["namespace"] = ns
    return m


def _spec(image: str, sa: str = "default") -> dict:
    return {"serviceAccountName": sa, "containers": [{"name": "app", "image": image, "securityContext": {
        "runAsNonRoot": True, "allowPrivilegeEscalation": False}, "env": [{"name": "LOG_LEVEL", "value": "info"}]}]}


def _static(component: str, node: str, flags: list[str]) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _meta("Pod", f"{component}-{node}", "kube-system",
            labels={"component": component, "tier": "control-plane"},
            ownerReferences=[{"kind": "Node", "name": node, "uid": node}]),
            "spec": {"nodeName": node, "containers": [{"name": component, "image": f"registry.k8s.io/{component}:v1.30.4",
                                                       "command": [component, *flags]}]}}


def dump(pods: int) -> dict:
    namespaces = max(1, pods // 100)
    per_deploy = 10
    items: list[dict] = []
    for n in ("cp-1", "cp-2", "cp-3", *(f"node-{i}" for i in range(max(1, pods // 50)))):
        items.append({"apiVersion": "v1", "kind": "Node", "metadata": _meta("Node", n, labels={
            "topology.kubernetes.io/zone": "cn-north-1a"}), "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        if n.startswith("cp-"):
            items += [_static("kube-apiserver", n, ["--anonymous-auth=false", "--authorization-mode=Node,RBAC"]),
                      _static("etcd", n, ["--cert-file=/p/s.crt", "--key-file=/p/s.key", "--client-cert-auth=true"]),
                      _static("kube-controller-manager", n, ["--bind-address=127.0.0.1"]),
                      _static("kube-scheduler", n, ["--bind-address=127.0.0.1"])]
    for i in range(namespaces):
        ns = f"team-{i}"
        items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("Namespace", ns, labels={
            "pod-security.kubernetes.io/enforce": "restricted"})})
        items.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("ServiceAccount", "default", ns),
                      "automountServiceAccountToken": False})
        items.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta("NetworkPolicy", "deny", ns),
                      "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
        items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta("Role", "dev", ns),
                      "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "patch"]}]})
        items.append({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta("RoleBinding", "dev", ns),
                      "roleRef": {"kind": "Role", "name": "dev"}, "subjects": [
                          {"kind": "User", "name": f"dev-{i}-{j}@example.cn"} for j in range(5)]})
    for d in range(pods // per_deploy):
        ns = f"team-{d % namespaces}"
        name = f"app-{d}"
        spec = _spec(f"registry.example.cn/{name}:1.{d}")
        items.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("Deployment", name, ns),
                      "spec": {"replicas": per_deploy, "template": {"spec": spec}}})
        items.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta("Service", name, ns),
                      "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}})
        for r in range(per_deploy):
            items.append({"apiVersion": "v1", "kind": "Pod", "metadata": _meta("Pod", f"{name}-{r}", ns, ownerReferences=[
                {"kind": "ReplicaSet", "name": f"{name}-rs", "uid": f"rs-{d}"}]), "spec": {**spec, "nodeName": "node-0"}})
    return {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items}


def derive_and_check(doc: dict, tmp: Path) -> tuple[float, float]:
    """(seconds to derive the assets from the dump, seconds for every check over them), in this process."""
    from mlps_scan.catalogue import load
    from mlps_scan.collectors.kubernetes.kubectl import kubectl_handler
    from mlps_scan.evidence import Recorder
    from mlps_scan.models import Inventory
    from mlps_scan.plugins import CollectSession
    from mlps_scan.profile import build_profile
    from mlps_scan.runner import evaluate
    catalogue, profile = load(), build_profile(3)
    s = CollectSession("static", "big", Recorder(tmp / "in-process"), base_dir=tmp)
    t0 = time.perf_counter()
    kubectl_handler(doc, s, "static.bench", "static/big", None)
    t1 = time.perf_counter()
    evaluate(Inventory(assets=s.assets, coverage=s.coverage_records), 3, profile, catalogue)
    return t1 - t0, time.perf_counter() - t1


def run(pods: int, tmp: Path) -> dict:
    d = tmp / f"dump-{pods}.json"
    doc = dump(pods)
    runs = [derive_and_check(doc, tmp) for _ in range(3)]  # the best of three: the machine is shared
    derive_s, checks_s = min(r[0] for r in runs), min(r[1] for r in runs)
    d.write_text(json.dumps(doc))
    cfg = tmp / f"scan-{pods}.yaml"
    cfg.write_text(f"system: {{name: bench, level: 3}}\nstatic:\n  - {{name: big, path: {d}, format: kubectl}}\n")
    out = tmp / f"out-{pods}"
    t0 = time.perf_counter()
    # a fresh interpreter per size, so ru_maxrss of the children is this scan's peak
    r = subprocess.run([sys.executable, "-c", "import resource, sys, runpy; sys.argv = sys.argv[1:]; "
                        "rc = 0\ntry:\n    runpy.run_module('mlps_scan', run_name='__main__')\n"
                        "except SystemExit as e:\n    rc = e.code or 0\n"
                        "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(rc)",
                        "mlps-scan", "scan", "--config", str(cfg), "--out", str(out), "--quiet", "--no-history"],
                       capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if r.returncode not in (0, 1, 3):
        sys.exit(r.stderr)
    rss = next(int(x.split()[1]) for x in r.stderr.splitlines() if x.startswith("MAXRSS"))
    inv = json.loads((out / "inventory.json").read_text())
    findings = json.loads((out / "findings.json").read_text())
    return {"pods": pods, "objects": len(doc["items"]), "assets": len(inv["assets"]), "findings": len(findings),
            "wall": wall, "rss_mb": rss / 1024, "dump_mb": d.stat().st_size / 1e6, "derive": derive_s, "checks": checks_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000")
    sizes = [int(x) for x in ap.parse_args().sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(n, Path(tmp)) for n in sizes]
    for r in rows:
        print(f"{r['pods']:>6} pods: {r['objects']:>6} objects ({r['dump_mb']:.1f} MB dump), {r['assets']:>5} assets, "
              f"{r['findings']:>6} findings, scan {r['wall']:6.1f} s (derive {r['derive']:.2f} s, checks {r['checks']:.2f} s), "
              f"peak RSS {r['rss_mb']:.0f} MB")
    lo, hi = rows[0], rows[-1]
    print(f"{hi['pods'] // lo['pods']}x the pods: {hi['wall'] / lo['wall']:.1f}x the scan time "
          f"(derive {hi['derive'] / lo['derive']:.1f}x, checks {hi['checks'] / lo['checks']:.1f}x), "
          f"{hi['rss_mb'] / lo['rss_mb']:.1f}x the peak memory, {hi['findings'] / lo['findings']:.1f}x the findings")


if __name__ == "__main__":
    main()
