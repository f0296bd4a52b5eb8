#!/usr/bin/env python3
"""Generate a realistic `kubectl get -o json` dump (kind: List) of N objects, for the Kubernetes benchmarks.

The mix follows a busy cluster: about half the objects are Pods owned by ReplicaSets (with status blocks,
container ids and image digests, managedFields), Deployments carry kubectl's last-applied annotation (a
copy of the applied manifest, literal env values included), plus ReplicaSets, Services, ConfigMaps, Secrets
(with data), ServiceAccounts, Roles/RoleBindings, ClusterRoles/ClusterRoleBindings, NetworkPolicies,
Ingresses, Namespaces and Nodes. Deterministic for a given N and seed. Written as kubectl writes it
(4-space indent), streamed to the file so a 50k-object dump needs little memory to make.

    .venv/bin/python bench/k8s_dump.py 10000 /tmp/k8s-10k.json
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path

MIX = [("Pod", 0.52), ("ReplicaSet", 0.10), ("Deployment", 0.08), ("Service", 0.06), ("ConfigMap", 0.06),
       ("Secret", 0.05), ("ServiceAccount", 0.04), ("Role", 0.02), ("RoleBinding", 0.02), ("NetworkPolicy", 0.01),
       ("Ingress", 0.01), ("StatefulSet", 0.01), ("DaemonSet", 0.005), ("Job", 0.005)]
TS = "2026-05-01T08:00:00Z"


def _hex(rng: random.Random, n: int = 64) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def _uid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _managed(manager: str, fields: dict) -> list:
    return [{"apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": fields, "manager": manager,
             "operation": "Update", "time": TS}]


def _md(rng, kind, name, ns=None, labels=None, **extra):
    m = {"creationTimestamp": TS, "name": name, "resourceVersion": str(rng.randrange(10**6, 10**8)),
         "uid": _uid(rng)}
    if ns:
        m["namespace"] = ns
    if labels:
        m["labels"] = labels
    m.update(extra)
    return m


def _container(rng, app: str, i: int) -> dict:
    img = f"registry.example.cn/shop/{app}:1.{rng.randrange(40)}.{rng.randrange(9)}"
    return {
        "name": f"{app}-{i}" if i else app, "image": img, "imagePullPolicy": "IfNotPresent",
        "args": ["--port=8080", f"--log-level={rng.choice(['info', 'debug'])}", "--metrics-addr=:9090"],
        "env": [{"name": "APP_ENV", "value": "production"}, {"name": "LOG_FORMAT", "value": "json"},
                {"name": "DB_HOST", "value": f"{app}-db.shop.svc.cluster.local"},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "password", "name": f"{app}-db"}}},
                {"name": "POD_IP", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}}}],
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"},
                  {"containerPort": 9090, "name": "metrics", "protocol": "TCP"}],
        "resources": {"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 10,
                          "failureThreshold": 3, "successThreshold": 1, "timeoutSeconds": 1},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 5,
                           "failureThreshold": 3, "successThreshold": 1, "timeoutSeconds": 1},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 10001,
                            "capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "volumeMounts": [{"mountPath": "/etc/app", "name": "config", "readOnly": True},
                         {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": f"kube-api-access-{_hex(rng, 5)}",
                          "readOnly": True}],
    }


def _pod_spec(rng, app: str, containers: int = 2) -> dict:
    return {
        "containers": [_container(rng, app, i) for i in range(containers)],
        "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "nodeName": f"node-{rng.randrange(200):03d}",
        "preemptionPolicy": "PreemptLowerPriority", "priority": 0, "restartPolicy": "Always",
        "schedulerName": "default-scheduler", "securityContext": {"fsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "serviceAccount": app, "serviceAccountName": app, "terminationGracePeriodSeconds": 30,
        "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                         "tolerationSeconds": 300},
                        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
                         "tolerationSeconds": 300}],
        "volumes": [{"configMap": {"defaultMode": 420, "name": f"{app}-config"}, "name": "config"},
                    {"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                        {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                                    "path": "namespace"}]}}]}}],
    }


def pod(rng, i, ns, app) -> dict:
    spec = _pod_spec(rng, app)
    rs = f"{app}-{_hex(rng, 10)}"
    name = f"{rs}-{_hex(rng, 5)}"
    statuses = [{"containerID": f"containerd://{_hex(rng)}", "image": c["image"],
                 "imageID": f"{c['image'].rsplit(':', 1)[0]}@sha256:{_hex(rng)}", "lastState": {}, "name": c["name"],
                 "ready": True, "restartCount": rng.randrange(3), "started": True,
                 "state": {"running": {"startedAt": TS}}} for c in spec["containers"]]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": _md(rng, "Pod", name, ns, {"app": app, "pod-template-hash": rs[-10:], "team": "shop"},
                            generateName=rs + "-",
                            annotations={"prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
                            ownerReferences=[{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True,
                                              "kind": "ReplicaSet", "name": rs, "uid": _uid(rng)}],
                            managedFields=_managed("kube-controller-manager", {"f:metadata": {"f:generateName": {},
                                                   "f:labels": {".": {}, "f:app": {}}}, "f:spec": {"f:containers": {}}})),
            "spec": spec,
            "status": {"conditions": [{"lastProbeTime": None, "lastTransitionTime": TS, "status": "True", "type": t}
                                      for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                       "containerStatuses": statuses, "hostIP": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
                       "phase": "Running", "podIP": f"172.16.{rng.randrange(256)}.{rng.randrange(256)}",
                       "podIPs": [{"ip": f"172.16.{rng.randrange(256)}.{rng.randrange(256)}"}], "qosClass": "Burstable",
                       "startTime": TS}}


def workload(rng, kind, i, ns, app) -> dict:
    tmpl = {"metadata": {"labels": {"app": app}}, "spec": _pod_spec(rng, app)}
    if kind == "Job":
        spec = {"backoffLimit": 6, "completions": 1, "parallelism": 1, "template": tmpl}
        api = "batch/v1"
    else:
        spec = {"replicas": 3, "selector": {"matchLabels": {"app": app}}, "template": tmpl}
        api = "apps/v1"
    applied = {"apiVersion": api, "kind": kind, "metadata": {"name": app, "namespace": ns},
               "spec": {**spec, "template": {**tmpl, "spec": {**tmpl["spec"], "containers": [
                   {**c, "env": c["env"] + [{"name": "FEATURE_FLAGS", "value": "checkout,search"}]}
                   for c in tmpl["spec"]["containers"]]}}}}
    ann = {"deployment.kubernetes.io/revision": str(rng.randrange(1, 30)),
           "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied, separators=(",", ":")) + "\n"}
    return {"apiVersion": api, "kind": kind,
            "metadata": _md(rng, kind, f"{app}" if kind != "ReplicaSet" else f"{app}-{_hex(rng, 10)}", ns,
                            {"app": app, "team": "shop"}, annotations=ann, generation=rng.randrange(1, 30),
                            managedFields=_managed("kubectl-client-side-apply", {"f:spec": {"f:replicas": {},
                                                   "f:template": {"f:spec": {"f:containers": {}}}}})),
            "spec": spec,
            "status": {"availableReplicas": 3, "observedGeneration": 4, "readyReplicas": 3, "replicas": 3,
                       "updatedReplicas": 3,
                       "conditions": [{"lastTransitionTime": TS, "lastUpdateTime": TS, "message": "has minimum availability",
                                       "reason": "MinimumReplicasAvailable", "status": "True", "type": "Available"}]}}


def other(rng, kind, i, ns, app) -> dict:
    md = _md(rng, kind, f"{app}-{i}", ns, {"app": app})
    if kind == "Service":
        return {"apiVersion": "v1", "kind": kind, "metadata": md, "spec": {
            "clusterIP": f"10.96.{rng.randrange(256)}.{rng.randrange(256)}", "ports": [{"name": "http", "port": 80,
            "protocol": "TCP", "targetPort": 8080}], "selector": {"app": app}, "sessionAffinity": "None",
            "type": rng.choice(["ClusterIP"] * 8 + ["LoadBalancer", "NodePort"])}, "status": {"loadBalancer": {}}}
    if kind == "ConfigMap":
        return {"apiVersion": "v1", "kind": kind, "metadata": md, "data": {
            "application.yaml": f"server:\n  port: 8080\nspring:\n  datasource:\n    url: jdbc:mysql://{app}-db:3306/shop\n",
            "LOG_LEVEL": "info", "FEATURES": "checkout,search,recommendations"}}
    if kind == "Secret":
        return {"apiVersion": "v1", "kind": kind, "metadata": md, "type": "Opaque",
                "data": {"password": "c3VwZXItc2VjcmV0LWRiLXBhc3N3b3Jk", "username": "YXBw"}}
    if kind == "ServiceAccount":
        return {"apiVersion": "v1", "kind": kind, "metadata": md, "automountServiceAccountToken": rng.random() < 0.5}
    if kind == "Role":
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": md, "rules": [
            {"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": ["get", "list", "watch"]}]}
    if kind == "RoleBinding":
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": md,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{app}-{i}"},
                "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": ns}]}
    if kind == "NetworkPolicy":
        return {"apiVersion": "networking.k8s.io/v1", "kind": kind, "metadata": md,
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}
    if kind == "Ingress":
        return {"apiVersion": "networking.k8s.io/v1", "kind": kind, "metadata": md, "spec": {
            "ingressClassName": "nginx", "rules": [{"host": f"{app}.shop.example.cn", "http": {"paths": [
                {"backend": {"service": {"name": app, "port": {"number": 80}}}, "path": "/", "pathType": "Prefix"}]}}],
            "tls": [{"hosts": [f"{app}.shop.example.cn"], "secretName": f"{app}-tls"}]}}
    raise ValueError(kind)


def items(n: int, seed: int = 1):
    rng = random.Random(seed)
    namespaces = max(2, n // 500)
    nodes = max(1, n // 250)
    for i in range(namespaces):
        yield {"apiVersion": "v1", "kind": "Namespace", "metadata": _md(rng, "Namespace", f"shop-{i}", None,
               {"kubernetes.io/metadata.name": f"shop-{i}", "pod-security.kubernetes.io/enforce": "restricted"}),
               "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    for i in range(nodes):
        yield {"apiVersion": "v1", "kind": "Node", "metadata": _md(rng, "Node", f"node-{i:03d}", None, {
            "kubernetes.io/hostname": f"node-{i:03d}", "topology.kubernetes.io/zone": f"cn-north-1{'abc'[i % 3]}",
            "node-role.kubernetes.io/worker": ""}),
            "spec": {"podCIDR": f"172.16.{i % 256}.0/24", "providerID": f"aws:///cn-north-1a/i-{_hex(rng, 17)}"},
            "status": {"nodeInfo": {"kubeletVersion": "v1.29.4", "osImage": "Ubuntu 22.04.4 LTS", "kernelVersion": "5.15.0-1057",
                                    "containerRuntimeVersion": "containerd://1.7.13", "machineID": _hex(rng, 32),
                                    "systemUUID": _uid(rng), "bootID": _uid(rng), "architecture": "amd64",
                                    "operatingSystem": "linux", "kubeProxyVersion": "v1.29.4"},
                       "conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": TS, "lastTransitionTime": TS,
                                       "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                       "images": [{"names": [f"registry.example.cn/shop/app-{k}@sha256:{_hex(rng)}",
                                             f"registry.example.cn/shop/app-{k}:1.{k}.0"], "sizeBytes": 40_000_000 + k}
                                  for k in range(8)]}}
    yield {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": _md(rng, "ClusterRole", "shop-reader"), "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]}]}
    yield {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
           "metadata": _md(rng, "ClusterRoleBinding", "shop-reader"),
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "shop-reader"},
           "subjects": [{"kind": "Group", "name": "shop-devs", "apiGroup": "rbac.authorization.k8s.io"}]}
    rest = n - namespaces - nodes - 2
    kinds, weights = zip(*MIX)
    for i in range(rest):
        kind = rng.choices(kinds, weights)[0]
        ns = f"shop-{rng.randrange(namespaces)}"
        app = f"svc{rng.randrange(max(1, rest // 20))}"
        if kind == "Pod":
            yield pod(rng, i, ns, app)
        elif kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
            yield workload(rng, kind, i, ns, app)
        else:
            yield other(rng, kind, i, ns, app)


def write(n: int, path: Path, seed: int = 1) -> int:
    """Write the dump; returns its size in bytes."""
    with open(path, "w", encoding="utf-8") as f:
        f.write('{\n    "apiVersion": "v1",\n    "items": [\n')
        for i, it in enumerate(items(n, seed)):
            if i:
                f.write(",\n")
            f.write("        " + json.dumps(it, indent=4).replace("\n", "\n        "))
        f.write('\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n')
    return path.stat().st_size


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"k8s-{n}.json")
    size = write(n, out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()[:12]
    print(f"{out}: {n} objects, {size / 1e6:.1f} MB, sha256 {digest}")
