"""Kubernetes collector and checks end to end: the real `kubernetes` client over HTTPS against the project's
own API server (tests/k8s_apiserver.py) serving the fixture clusters in tests/data/k8s/."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

import conftest
from conftest import ROOT, run_cli

pytestmark = pytest.mark.k8s

DATA = ROOT / "tests" / "data" / "k8s"
CLUSTERROLE = ROOT / "deploy" / "kubernetes" / "mlps-scan-clusterrole.yaml"
KUBELET_CLUSTERROLE = ROOT / "deploy" / "kubernetes" / "mlps-scan-kubelet-clusterrole.yaml"
KUBELET_CHECKS = {"k8s.kubelet.anonymous_auth", "k8s.kubelet.authorization", "k8s.kubelet.read_only_port",
                  "k8s.kubelet.certificate_rotation", "k8s.kubelet.tls_min_version"}


def check_bundle(path: Path):
    """conftest's checker; from a worktree (/work/wt/<name>) the shared tools are one level further up."""
    for tool in (conftest.CHECK_BUNDLE, ROOT.parent.parent / "shared" / "tools" / "check-bundle"):
        if tool.exists():
            import subprocess
            import sys
            return subprocess.run([sys.executable, str(tool), str(path)], capture_output=True, text=True, timeout=120)
    return conftest.check_bundle(path)  # skips with its reason


def scan(tmp_path: Path, srv, name: str | None = None, level: int = 3, extra: str = "", out: str = "out",
         target: str = "", kubelet: bool = True):
    """A scan of `srv` through the CLI; the kubelets' configuration is read (kubelet_config: true) unless
    `kubelet` is False."""
    name = name or srv.cluster
    cfg = tmp_path / f"scan-{name}-{out}.yaml"
    target += ", kubelet_config: true" if kubelet else ""
    cfg.write_text(f"system: {{name: k8s test, level: {level}}}\n"
                   f"kubernetes:\n  - {{name: {name}, kubeconfig: {srv.kubeconfig}, page_size: 3{target}}}\n{extra}")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / out), "--quiet")
    return r, tmp_path / out


def load(out: Path, name: str):
    return json.loads((out / name).read_text())


def verdicts(out: Path) -> dict[tuple[str, str], str]:
    """(check id, asset name) -> status, for the k8s checks (ServiceAccounts, all named alike in every
    namespace, by namespace/name)."""
    names = {a["id"]: a["name"] for a in load(out, "inventory.json")["assets"]}
    v: dict[tuple[str, str], str] = {}
    for f in load(out, "findings.json"):
        if f["check_id"].startswith("k8s."):
            name = f["resource_name"] if f["resource_type"] == "k8s.serviceaccount" else None
            key = (f["check_id"], name or names.get(f["resource_id"], f["resource_id"]))
            assert key not in v, f"two findings for {key}"
            v[key] = f["status"]
    return v


def inventory_key(out: Path, types=None) -> list:
    inv = load(out, "inventory.json")
    return sorted((a["type"], a["id"], a["name"], a["scope"], json.dumps(a["attributes"], sort_keys=True),
                   json.dumps(a["errors"], sort_keys=True))
                  for a in inv["assets"] if a["type"].startswith("k8s.") and (types is None or a["type"] in types))


def evidence_text(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted((out / "evidence").glob("*.json")))


@pytest.fixture(scope="module")
def weak_scan(tmp_path_factory):
    """One scan of the weak cluster shared by the tests that only read its bundle: (server, bundle path)."""
    from k8s_apiserver import FakeApiServer
    tmp = tmp_path_factory.mktemp("k8s-weak")
    srv = FakeApiServer("weak").start(tmp / "api")
    try:
        r, out = scan(tmp, srv)
        assert r.returncode == 1, r.stderr + r.stdout
        yield srv, out
    finally:
        srv.stop()


SECRET_VALUES = ("aHVudGVyMg==", "cm9vdA==", "dG9rLTEyMzQ1Njc4OTA=", "S3cr3t-in-annotation!", "UzNjcjN0IQ==",
                 "ZXlKaGJHY2lPaUpT")


# --------------------------------------------------------------------------- hardened cluster

ENC_KEY = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcyEhIQ=="


def test_hardened_cluster_passes_every_check(k8s_api, tmp_path):
    srv = k8s_api("hardened")
    # the EncryptionConfiguration and the audit policy are not readable through the API: the client supplies copies
    r, out = scan(tmp_path, srv, target=f", encryption_config: {DATA / 'hardened' / 'encryption-config.yaml'}, "
                                        f"audit_policy: {DATA / 'hardened' / 'audit-policy.yaml'}")
    assert r.returncode == 0, r.stderr + r.stdout
    v = verdicts(out)
    not_pass = {k: s for k, s in v.items() if s != "pass"}
    assert not_pass == {
        ("k8s.rbac.wildcard", "ClusterRole/cluster-admin"): "not_applicable",
        ("k8s.namespace.pod_security", "kube-system"): "not_applicable",
        ("k8s.workload.host_isolation", "DaemonSet/kube-proxy"): "not_applicable",
        ("k8s.workload.host_isolation", "Deployment/coredns"): "not_applicable",
        ("k8s.workload.run_as_non_root", "DaemonSet/kube-proxy"): "not_applicable",
        ("k8s.workload.run_as_non_root", "Deployment/coredns"): "not_applicable",
        ("k8s.rbac.binding_rights", "ClusterRoleBinding/cluster-admin"): "not_applicable",
        ("k8s.rbac.binding_rights", "ClusterRoleBinding/system:public-info-viewer"): "not_applicable",
        ("k8s.rbac.subject_rights", "Group:system:masters"): "not_applicable",
        ("k8s.rbac.subject_rights", "Group:system:authenticated"): "not_applicable",
        ("k8s.rbac.subject_rights", "Group:system:unauthenticated"): "not_applicable",
    }
    # every kind of check ran on the cluster
    assert {k[0] for k in v} >= {"k8s.apiserver.audit_log", "k8s.apiserver.audit_retention", "k8s.audit.shipped",
                                 "k8s.secrets.encryption_at_rest", "k8s.namespace.default_deny", "k8s.ingress.tls",
                                 "k8s.service.exposure", "k8s.workload.images", "k8s.rbac.admin_separation",
                                 "k8s.audit.policy_content", "k8s.namespace.egress_control", "k8s.etcd.client_tls",
                                 "k8s.etcd.peer_tls", "k8s.apiserver.etcd_tls", "k8s.scheduler.secure_serving",
                                 "k8s.controller_manager.secure_serving", "k8s.serviceaccount.token_automount",
                                 "k8s.controller_manager.service_account_credentials", "k8s.rbac.subject_rights",
                                 "k8s.rbac.binding_rights", *KUBELET_CHECKS}
    controls = {c["control_id"]: c["status"] for c in load(out, "controls.json")}
    assert controls["L3-CES1-12"] == "compliant" and controls["L3-CES1-28"] == "compliant"
    # the CronJob's Job is not a separate workload; pods owned by controllers are not either
    names = {a["name"] for a in load(out, "inventory.json")["assets"] if a["type"] == "k8s.workload"}
    assert names == {"Deployment/web", "Deployment/coredns", "StatefulSet/db", "DaemonSet/kube-proxy", "CronJob/backup"}
    # pagination: pods (9, control plane included) at page size 3 took three requests, then with the continue token
    pod_reqs = [q for m, p, q in srv.log if p == "/api/v1/pods"]
    assert len(pod_reqs) == 3 and all("continue=" in q for q in pod_reqs[1:])
    cluster = next(a for a in load(out, "inventory.json")["assets"] if a["type"] == "k8s.cluster")
    assert cluster["attributes"]["encryption_config"] == {"file": "encryption-config.yaml",
                                                          "secrets_providers": ["kms", "aescbc", "identity"]}
    assert ENC_KEY not in evidence_text(out)  # key material never recorded, key names kept
    assert "key-2025" in evidence_text(out)
    cb = check_bundle(out)
    assert cb.returncode == 0, cb.stdout + cb.stderr


# --------------------------------------------------------------------------- weak cluster

WEAK_EXPECTED = {
    ("k8s.apiserver.anonymous_auth", "weak"): "fail",
    ("k8s.apiserver.audit_log", "weak"): "fail",
    ("k8s.apiserver.audit_retention", "weak"): "fail",
    ("k8s.apiserver.authorization", "weak"): "pass",
    ("k8s.apiserver.tls_min_version", "weak"): "pass",
    ("k8s.audit.shipped", "weak"): "fail",
    ("k8s.rbac.admin_separation", "weak"): "fail",
    ("k8s.secrets.encryption_at_rest", "weak"): "fail",
    ("k8s.ingress.tls", "web"): "fail",
    ("k8s.ingress.tls", "admin"): "fail",
    ("k8s.namespace.default_deny", "default"): "fail",
    ("k8s.namespace.default_deny", "kube-system"): "fail",
    ("k8s.namespace.default_deny", "kube-public"): "fail",
    ("k8s.namespace.default_deny", "kube-node-lease"): "fail",
    ("k8s.namespace.default_deny", "dev"): "fail",
    ("k8s.namespace.default_deny", "shop"): "pass",
    ("k8s.namespace.pod_security", "default"): "fail",
    ("k8s.namespace.pod_security", "kube-system"): "not_applicable",
    ("k8s.namespace.pod_security", "kube-public"): "fail",
    ("k8s.namespace.pod_security", "kube-node-lease"): "fail",
    ("k8s.namespace.pod_security", "dev"): "fail",
    ("k8s.namespace.pod_security", "shop"): "fail",
    ("k8s.rbac.anonymous", "ClusterRoleBinding/anon-view"): "fail",
    ("k8s.rbac.anonymous", "ClusterRoleBinding/system:public-info-viewer"): "pass",
    ("k8s.rbac.anonymous", "ClusterRoleBinding/cluster-admin"): "pass",
    ("k8s.rbac.anonymous", "ClusterRoleBinding/bob-admin"): "pass",
    ("k8s.rbac.anonymous", "ClusterRoleBinding/ci-admin"): "pass",
    ("k8s.rbac.anonymous", "ClusterRoleBinding/ops"): "pass",
    ("k8s.rbac.anonymous", "RoleBinding/devs-everything"): "pass",
    ("k8s.rbac.anonymous", "RoleBinding/reader"): "pass",
    ("k8s.rbac.cluster_admin", "ClusterRoleBinding/bob-admin"): "fail",
    ("k8s.rbac.cluster_admin", "ClusterRoleBinding/ci-admin"): "fail",
    ("k8s.rbac.cluster_admin", "ClusterRoleBinding/cluster-admin"): "pass",
    ("k8s.rbac.cluster_admin", "ClusterRoleBinding/anon-view"): "pass",
    ("k8s.rbac.cluster_admin", "ClusterRoleBinding/system:public-info-viewer"): "pass",
    ("k8s.rbac.cluster_admin", "ClusterRoleBinding/ops"): "pass",
    ("k8s.rbac.cluster_admin", "RoleBinding/devs-everything"): "pass",
    ("k8s.rbac.cluster_admin", "RoleBinding/reader"): "pass",
    ("k8s.rbac.wildcard", "ClusterRole/cluster-admin"): "not_applicable",
    ("k8s.rbac.wildcard", "ClusterRole/ops-all"): "fail",
    ("k8s.rbac.wildcard", "Role/everything"): "fail",
    ("k8s.rbac.wildcard", "ClusterRole/view"): "pass",
    ("k8s.rbac.wildcard", "ClusterRole/system:public-info-viewer"): "pass",
    ("k8s.rbac.wildcard", "Role/reader"): "pass",
    ("k8s.secret.legacy_sa_token", "default-token-x7k2p"): "fail",
    ("k8s.secret.legacy_sa_token", "db-credentials"): "pass",
    ("k8s.secret.legacy_sa_token", "api-key"): "pass",
    ("k8s.service.exposure", "web"): "fail",
    ("k8s.service.exposure", "debug"): "fail",
    ("k8s.service.exposure", "db"): "pass",
    ("k8s.service.exposure", "kubernetes"): "pass",
    ("k8s.workload.host_isolation", "Pod/debug"): "fail",
    ("k8s.workload.host_isolation", "DaemonSet/node-exporter"): "fail",
    ("k8s.workload.host_isolation", "DaemonSet/kube-proxy"): "not_applicable",
    ("k8s.workload.host_isolation", "Deployment/web"): "pass",
    ("k8s.workload.host_isolation", "Deployment/api"): "pass",
    ("k8s.workload.host_isolation", "StatefulSet/db"): "pass",
    ("k8s.workload.host_isolation", "Job/migrate-v2"): "pass",
    ("k8s.workload.images", "Deployment/web"): "fail",
    ("k8s.workload.images", "Pod/debug"): "fail",
    ("k8s.workload.images", "Deployment/api"): "pass",
    ("k8s.workload.images", "StatefulSet/db"): "pass",
    ("k8s.workload.images", "DaemonSet/node-exporter"): "pass",
    ("k8s.workload.images", "DaemonSet/kube-proxy"): "pass",
    ("k8s.workload.images", "Job/migrate-v2"): "pass",
    ("k8s.workload.run_as_non_root", "Deployment/web"): "fail",
    ("k8s.workload.run_as_non_root", "Pod/debug"): "fail",
    ("k8s.workload.run_as_non_root", "StatefulSet/db"): "fail",
    ("k8s.workload.run_as_non_root", "DaemonSet/node-exporter"): "fail",
    ("k8s.workload.run_as_non_root", "DaemonSet/kube-proxy"): "not_applicable",
    ("k8s.workload.run_as_non_root", "Deployment/api"): "pass",
    ("k8s.workload.run_as_non_root", "Job/migrate-v2"): "pass",
    ("k8s.workload.sa_token_automount", "Deployment/web"): "fail",
    ("k8s.workload.sa_token_automount", "Pod/debug"): "fail",
    ("k8s.workload.sa_token_automount", "StatefulSet/db"): "fail",
    ("k8s.workload.sa_token_automount", "DaemonSet/node-exporter"): "fail",
    ("k8s.workload.sa_token_automount", "DaemonSet/kube-proxy"): "pass",
    ("k8s.workload.sa_token_automount", "Deployment/api"): "pass",
    ("k8s.workload.sa_token_automount", "Job/migrate-v2"): "pass",
    ("k8s.workload.secret_env", "Deployment/web"): "fail",
    ("k8s.workload.secret_env", "StatefulSet/db"): "fail",
    ("k8s.workload.secret_env", "Job/migrate-v2"): "fail",
    ("k8s.workload.secret_env", "Deployment/api"): "pass",
    ("k8s.workload.secret_env", "Pod/debug"): "pass",
    ("k8s.workload.secret_env", "DaemonSet/node-exporter"): "pass",
    ("k8s.workload.secret_env", "DaemonSet/kube-proxy"): "pass",
    # per control-plane instance (issue 16): every static pod judged, naming its node
    ("k8s.apiserver.anonymous_auth", "kube-apiserver-cp-1"): "fail",
    ("k8s.apiserver.audit_log", "kube-apiserver-cp-1"): "fail",
    ("k8s.apiserver.audit_retention", "kube-apiserver-cp-1"): "fail",
    ("k8s.apiserver.authorization", "kube-apiserver-cp-1"): "pass",
    ("k8s.apiserver.etcd_tls", "kube-apiserver-cp-1"): "fail",
    ("k8s.apiserver.etcd_tls", "weak"): "fail",
    ("k8s.apiserver.tls_min_version", "kube-apiserver-cp-1"): "pass",
    ("k8s.audit.policy_content", "kube-apiserver-cp-1"): "fail",
    ("k8s.audit.policy_content", "weak"): "fail",
    ("k8s.audit.shipped", "kube-apiserver-cp-1"): "fail",
    ("k8s.controller_manager.secure_serving", "kube-controller-manager-cp-1"): "fail",
    ("k8s.controller_manager.service_account_credentials", "kube-controller-manager-cp-1"): "fail",
    ("k8s.etcd.client_tls", "etcd-cp-1"): "fail",
    ("k8s.etcd.peer_tls", "etcd-cp-1"): "fail",
    ("k8s.scheduler.secure_serving", "kube-scheduler-cp-1"): "fail",
    ("k8s.secrets.encryption_at_rest", "kube-apiserver-cp-1"): "fail",
    # kubelets, read through nodes/<node>/proxy/configz (kubelet_config: true)
    ("k8s.kubelet.anonymous_auth", "node-1"): "fail",
    ("k8s.kubelet.anonymous_auth", "cp-1"): "pass",
    ("k8s.kubelet.authorization", "node-1"): "fail",
    ("k8s.kubelet.authorization", "cp-1"): "pass",
    ("k8s.kubelet.certificate_rotation", "cp-1"): "fail",
    ("k8s.kubelet.certificate_rotation", "node-1"): "fail",
    ("k8s.kubelet.read_only_port", "node-1"): "fail",
    ("k8s.kubelet.read_only_port", "cp-1"): "pass",
    ("k8s.kubelet.tls_min_version", "node-1"): "fail",
    ("k8s.kubelet.tls_min_version", "cp-1"): "pass",
    # rights judged where they are held: bindings and subjects (jane: wildcard Role in kube-system; dave: escalate/bind)
    ("k8s.rbac.anonymous", "ClusterRoleBinding/dave-rbac"): "pass",
    ("k8s.rbac.anonymous", "ClusterRoleBinding/kubeadm:node-proxier"): "pass",
    ("k8s.rbac.anonymous", "RoleBinding/jane-ops"): "pass",
    ("k8s.rbac.binding_rights", "ClusterRoleBinding/bob-admin"): "fail",
    ("k8s.rbac.binding_rights", "ClusterRoleBinding/ci-admin"): "fail",
    ("k8s.rbac.binding_rights", "ClusterRoleBinding/dave-rbac"): "fail",
    ("k8s.rbac.binding_rights", "ClusterRoleBinding/ops"): "fail",
    ("k8s.rbac.binding_rights", "RoleBinding/devs-everything"): "fail",
    ("k8s.rbac.binding_rights", "RoleBinding/jane-ops"): "fail",
    ("k8s.rbac.binding_rights", "ClusterRoleBinding/anon-view"): "pass",
    ("k8s.rbac.binding_rights", "ClusterRoleBinding/kubeadm:node-proxier"): "pass",
    ("k8s.rbac.binding_rights", "RoleBinding/reader"): "pass",
    ("k8s.rbac.binding_rights", "ClusterRoleBinding/cluster-admin"): "not_applicable",
    ("k8s.rbac.binding_rights", "ClusterRoleBinding/system:public-info-viewer"): "not_applicable",
    ("k8s.rbac.cluster_admin", "ClusterRoleBinding/dave-rbac"): "pass",
    ("k8s.rbac.cluster_admin", "ClusterRoleBinding/kubeadm:node-proxier"): "pass",
    ("k8s.rbac.cluster_admin", "RoleBinding/jane-ops"): "pass",
    ("k8s.rbac.subject_rights", "Group:developers"): "fail",
    ("k8s.rbac.subject_rights", "Group:ops"): "fail",
    ("k8s.rbac.subject_rights", "ServiceAccount:dev/default"): "fail",
    ("k8s.rbac.subject_rights", "User:bob@example.cn"): "fail",
    ("k8s.rbac.subject_rights", "User:dave@example.cn"): "fail",
    ("k8s.rbac.subject_rights", "User:jane@example.cn"): "fail",
    ("k8s.rbac.subject_rights", "Group:system:unauthenticated"): "pass",
    ("k8s.rbac.subject_rights", "ServiceAccount:kube-system/kube-proxy"): "pass",
    ("k8s.rbac.subject_rights", "User:carol@example.cn"): "pass",
    ("k8s.rbac.subject_rights", "User:system:anonymous"): "pass",
    ("k8s.rbac.subject_rights", "Group:system:authenticated"): "not_applicable",
    ("k8s.rbac.subject_rights", "Group:system:masters"): "not_applicable",
    ("k8s.rbac.wildcard", "Role/ops-everything"): "fail",
    ("k8s.rbac.wildcard", "ClusterRole/rbac-manager"): "pass",
    ("k8s.rbac.wildcard", "ClusterRole/system:node-proxier"): "pass",
    # ServiceAccounts mounting their token
    ("k8s.serviceaccount.token_automount", "default/default"): "fail",
    ("k8s.serviceaccount.token_automount", "dev/default"): "fail",
    ("k8s.serviceaccount.token_automount", "kube-node-lease/default"): "fail",
    ("k8s.serviceaccount.token_automount", "kube-public/default"): "fail",
    ("k8s.serviceaccount.token_automount", "kube-system/default"): "fail",
    ("k8s.serviceaccount.token_automount", "shop/default"): "fail",
    ("k8s.serviceaccount.token_automount", "kube-system/kube-proxy"): "pass",
    ("k8s.serviceaccount.token_automount", "shop/api"): "pass",
    # egress NetworkPolicies (issue 15)
    ("k8s.namespace.egress_control", "default"): "fail",
    ("k8s.namespace.egress_control", "dev"): "fail",
    ("k8s.namespace.egress_control", "kube-node-lease"): "fail",
    ("k8s.namespace.egress_control", "kube-public"): "fail",
    ("k8s.namespace.egress_control", "kube-system"): "fail",
    ("k8s.namespace.egress_control", "shop"): "fail",
}


def test_weak_cluster_exact_verdicts_and_no_secret_values(weak_scan):
    srv, out = weak_scan
    assert verdicts(out) == WEAK_EXPECTED
    controls = {c["control_id"]: c["status"] for c in load(out, "controls.json")}
    assert controls["L3-CES1-12"] == "non_compliant"       # no audit policy
    assert controls["L3-CES1-28"] == "partial"             # no encryption at rest, secrets in env (some workloads pass)
    # Secret values never reach the evidence: not the data, not the last-applied annotation
    text = evidence_text(out)
    for v in SECRET_VALUES:
        assert v not in text
    secrets_rec = [json.loads(p.read_text()) for p in (out / "evidence").glob("kubernetes.list-secrets.*.json")]
    assert secrets_rec and all("data" not in i for rec in secrets_rec for i in rec["answer"]["items"])
    assert {i["metadata"]["name"] for rec in secrets_rec for i in rec["answer"]["items"]} == \
        {"db-credentials", "api-key", "default-token-x7k2p"}
    cb = check_bundle(out)
    assert cb.returncode == 0, cb.stdout + cb.stderr


def _clusterrole(path: Path) -> dict:
    return next(d for d in yaml.safe_load_all(path.read_text()) if d["kind"] == "ClusterRole")


def _allowed(role: dict, method: str, path: str) -> bool:
    """Does the ClusterRole allow this request (as the API server's RBAC authoriser maps it to a verb)?"""
    parts = [p for p in path.split("/") if p]
    if parts[0] == "version":
        return any(path in rl.get("nonResourceURLs", []) and "get" in rl["verbs"] for rl in role["rules"])
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    if rest[0] == "namespaces" and len(rest) > 2:
        rest = rest[2:]
    resource, verb = rest[0], ("get" if len(rest) > 1 else "list")
    if len(rest) > 2:  # a subresource: nodes/<name>/proxy/... is `get` on nodes/proxy
        resource = f"{rest[0]}/{rest[2]}"
    return any(group in rl.get("apiGroups", []) and resource in rl.get("resources", []) and verb in rl["verbs"]
               for rl in role["rules"])


def test_requests_are_read_only_and_allowed_by_the_shipped_clusterroles(weak_scan):
    """Every request is a GET the read-only ClusterRole allows, except the kubelet configuration reads
    (kubelet_config: true), which only the separate kubelet ClusterRole allows: nodes/proxy get, and the
    collector asks the proxy for /configz and nothing else."""
    srv, _ = weak_scan
    role, kubelet_role = _clusterrole(CLUSTERROLE), _clusterrole(KUBELET_CLUSTERROLE)
    for rule in role["rules"]:
        assert set(rule["verbs"]) <= {"get", "list"}, rule
        assert not any("proxy" in r for r in rule.get("resources", [])), "the read-only role must not hold a proxy right"
    assert kubelet_role["rules"] == [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}]
    assert srv.log, "no request reached the server"
    proxied = []
    for method, path, query in srv.log:
        assert method == "GET", (method, path)
        if "/proxy" in path:
            proxied.append(path)
            assert re.fullmatch(r"/api/v1/nodes/[^/]+/proxy/configz", path) and not query, path
            assert _allowed(kubelet_role, method, path) and not _allowed(role, method, path), path
        else:
            assert _allowed(role, method, path), f"GET {path} is not allowed by {CLUSTERROLE.name}"
    assert sorted(proxied) == ["/api/v1/nodes/cp-1/proxy/configz", "/api/v1/nodes/node-1/proxy/configz"]


# --------------------------------------------------------------------------- failures

def test_forbidden_resource_makes_its_checks_error_and_exit_3(k8s_api, tmp_path):
    srv = k8s_api("weak", forbidden={"secrets"})
    r, out = scan(tmp_path, srv)
    assert r.returncode == 3, r.stderr + r.stdout
    v = verdicts(out)
    secret_findings = {k: s for k, s in v.items() if k[0] == "k8s.secret.legacy_sa_token"}
    assert secret_findings == {("k8s.secret.legacy_sa_token", "weak"): "error"}
    # the rest of the cluster is still judged
    assert {k: s for k, s in v.items() if k[0] != "k8s.secret.legacy_sa_token"} == \
        {k: s for k, s in WEAK_EXPECTED.items() if k[0] != "k8s.secret.legacy_sa_token"}
    cov = [c for c in load(out, "inventory.json")["coverage"] if c["status"] != "ok"]
    assert [(c["asset_type"], c["status"]) for c in cov] == [("k8s.secret", "denied")]
    assert "403" in cov[0]["reason"] and cov[0]["evidence"]
    rec = json.loads((out / "evidence" / f"{cov[0]['evidence'][0]}.json").read_text())
    assert rec["status"] == "denied" and rec["answer"]["reason"] == "Forbidden"


def test_server_error_once_is_retried_and_recovered(k8s_api, tmp_path, weak_scan):
    _, out_plain = weak_scan
    flaky = k8s_api("weak", fail_once={"pods", "clusterroles"})
    r, out = scan(tmp_path, flaky, out="flaky")
    # recovered by the retry: same verdicts, same inventory, the failed attempt kept as evidence
    assert r.returncode == 1, r.stderr + r.stdout
    assert verdicts(out) == WEAK_EXPECTED
    assert inventory_key(out, {"k8s.workload", "k8s.rbac.role", "k8s.rbac.binding"}) == \
        inventory_key(out_plain, {"k8s.workload", "k8s.rbac.role", "k8s.rbac.binding"})
    failed = [json.loads(p.read_text()) for p in (out / "evidence").glob("kubernetes.list-*.json")]
    failed = [f for f in failed if f["status"] == "error"]
    assert sorted(f["source"] for f in failed) == ["list:clusterroles", "list:pods"]
    assert all(f["request"]["attempt"] == 1 and f["request"]["http_status"] == 500 for f in failed)
    assert [q for m, p, q in flaky.log if p == "/api/v1/pods"][:2] == ["limit=3", "limit=3"]


def test_expired_continue_token_restarts_the_list(k8s_api, tmp_path, weak_scan):
    _, out_plain = weak_scan
    srv = k8s_api("weak", expire_once={"pods"})
    r, out = scan(tmp_path, srv)
    assert r.returncode == 1, r.stderr + r.stdout
    assert verdicts(out) == WEAK_EXPECTED
    assert inventory_key(out, {"k8s.workload"}) == inventory_key(out_plain, {"k8s.workload"})
    pods = [q for m, p, q in srv.log if p == "/api/v1/pods"]
    assert pods[0] == "limit=3" and "continue=" in pods[1] and pods[2] == "limit=3"  # 410, then from the start
    expired = [json.loads(p.read_text()) for p in (out / "evidence").glob("kubernetes.list-pods.*.json")]
    assert sorted((e["request"].get("generation", 1), e["status"]) for e in expired) == \
        [(1, "error"), (1, "ok"), (2, "ok"), (2, "ok"), (2, "ok"), (2, "ok")]


def test_unreachable_api_server_is_error_not_pass(k8s_api, tmp_path):
    srv = k8s_api("weak")
    srv.stop()
    srv.stop = lambda: None  # already stopped
    r, out = scan(tmp_path, srv)
    assert r.returncode == 3, r.stderr + r.stdout
    st = {f["status"] for f in load(out, "findings.json") if f["check_id"].startswith("k8s.")}
    assert st == {"error"}


APISERVER_CHECKS = {"k8s.apiserver.anonymous_auth", "k8s.apiserver.audit_log", "k8s.apiserver.audit_retention",
                    "k8s.apiserver.authorization", "k8s.apiserver.tls_min_version", "k8s.audit.shipped",
                    "k8s.secrets.encryption_at_rest", "k8s.apiserver.etcd_tls", "k8s.audit.policy_content"}


def test_managed_control_plane_flags_are_error_not_pass(k8s_api, tmp_path):
    """EKS-like: no kube-apiserver pod is visible and the AWS side of `eks:` is not implemented."""
    srv = k8s_api("hardened", managed_control_plane=True)
    r, out = scan(tmp_path, srv)
    assert r.returncode == 3, r.stderr + r.stdout
    v = verdicts(out)
    assert {k[0] for k, s in v.items() if s == "error"} == APISERVER_CHECKS
    assert all(s in ("pass", "not_applicable") for k, s in v.items() if k[0] not in APISERVER_CHECKS)
    msgs = {f["message"] for f in load(out, "findings.json") if f["check_id"] in APISERVER_CHECKS}
    assert all("no kube-apiserver static pod visible" in m for m in msgs), msgs


@pytest.fixture
def moto_eks():
    """A moto server (real HTTP on loopback) with two EKS clusters in cn-north-1: shop-prod (audit logging,
    KMS secrets encryption, log group kept 365 days) and shop-dev (no logging, no encryption)."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "cn-north-1", "AWS_MAX_ATTEMPTS": "1",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    try:
        kw = dict(region_name="cn-north-1", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id="testing",
                  aws_secret_access_key="testing")
        eks = boto3.client("eks", **kw)
        vpc = {"subnetIds": ["subnet-1", "subnet-2"], "endpointPublicAccess": False, "endpointPrivateAccess": True}
        role = "arn:aws-cn:iam::123456789012:role/eks"
        eks.create_cluster(name="shop-prod", roleArn=role, resourcesVpcConfig=vpc, version="1.30",
                           logging={"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]},
                           encryptionConfig=[{"resources": ["secrets"], "provider": {
                               "keyArn": "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}])
        eks.create_cluster(name="shop-dev", roleArn=role, resourcesVpcConfig=vpc, version="1.27",
                           logging={"clusterLogging": [{"types": ["api", "audit", "authenticator", "controllerManager",
                                                                  "scheduler"], "enabled": False}]})
        logs = boto3.client("logs", **kw)
        logs.create_log_group(logGroupName="/aws/eks/shop-prod/cluster")
        logs.put_retention_policy(logGroupName="/aws/eks/shop-prod/cluster", retentionInDays=365)
        yield env
    finally:
        server.stop()


EKS_CHECKS = {"k8s.apiserver.audit_log", "k8s.apiserver.audit_retention", "k8s.audit.shipped",
              "k8s.secrets.encryption_at_rest"}


def test_eks_control_plane_read_through_aws(k8s_api, moto_eks, tmp_path):
    srv = k8s_api("hardened", managed_control_plane=True)
    cfg = tmp_path / "eks.yaml"
    cfg.write_text("system: {name: k8s test, level: 3}\nkubernetes:\n" + "".join(
        f"  - {{name: {n}, kubeconfig: {srv.kubeconfig}, eks: {{cluster_name: {c}, aws_target: prod}}}}\n"
        for n, c in (("eks-prod", "shop-prod"), ("eks-dev", "shop-dev"), ("eks-gone", "shop-gone"))))
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "eks"), "--quiet", env=moto_eks)
    assert r.returncode == 3, r.stderr
    out = tmp_path / "eks"
    got = {(f["check_id"], f["resource_id"]): f["status"] for f in load(out, "findings.json")
           if f["resource_type"] == "k8s.cluster"}
    for check_id in EKS_CHECKS:
        assert got[(check_id, "kubernetes/eks-prod")] == "pass", check_id
        assert got[(check_id, "kubernetes/eks-dev")] == "fail", check_id
        assert got[(check_id, "kubernetes/eks-gone")] == "error", check_id
    for check_id in APISERVER_CHECKS - EKS_CHECKS:  # flags AWS does not expose: the assessor must confirm
        assert {got[(check_id, f"kubernetes/{n}")] for n in ("eks-prod", "eks-dev", "eks-gone")} == {"error"}
    clusters = {a["name"]: a for a in load(out, "inventory.json")["assets"] if a["type"] == "k8s.cluster"}
    prod = clusters["eks-prod"]["attributes"]["eks"]
    assert prod["logging_types"] == ["api", "audit", "authenticator"] and prod["audit_log_retention_days"] == 365
    assert prod["secrets_encryption"] and prod["kms_key"].startswith("arn:aws-cn:kms:")
    assert "ResourceNotFoundException" in clusters["eks-gone"]["errors"]["eks"]
    # the AWS answers are evidence like any other, and replay gives the same EKS facts
    cfg2 = tmp_path / "replay.yaml"
    cfg2.write_text(f"system: {{name: k8s test, level: 3}}\nstatic:\n  - {{name: rec, path: {out}, format: evidence}}\n")
    r2 = run_cli("scan", "--config", str(cfg2), "--out", str(tmp_path / "replay"), "--quiet")
    assert r2.returncode == 3, r2.stderr
    assert inventory_key(tmp_path / "replay", {"k8s.cluster"}) == inventory_key(out, {"k8s.cluster"})


def test_bad_kubernetes_targets_are_input_errors(tmp_path, k8s_api):
    cfg = tmp_path / "scan.yaml"
    cfg.write_text("system: {name: x}\nkubernetes:\n  - {name: c1, kubeconfig: missing.yaml}\n")
    r = run_cli("scan", "--config", str(cfg), "--level", "3", "--out", str(tmp_path / "o1"))
    assert r.returncode == 2 and "kubeconfig not found" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    srv = k8s_api("weak")
    cfg.write_text(f"system: {{name: x}}\nkubernetes:\n  - {{name: c1, kubeconfig: {srv.kubeconfig}, context: nope}}\n")
    r = run_cli("scan", "--config", str(cfg), "--level", "3", "--out", str(tmp_path / "o2"))
    assert r.returncode == 2 and "context 'nope'" in r.stderr
    cfg.write_text(f"system: {{name: x}}\nkubernetes:\n  - {{name: '../x', kubeconfig: {srv.kubeconfig}}}\n")
    r = run_cli("scan", "--config", str(cfg), "--level", "3", "--out", str(tmp_path / "o3"))
    assert r.returncode == 2 and "target name" in r.stderr


# --------------------------------------------------------------------------- offline paths

def test_replayed_evidence_gives_the_same_inventory(weak_scan, tmp_path):
    _, out = weak_scan
    cfg = tmp_path / "replay.yaml"
    cfg.write_text(f"system: {{name: k8s test, level: 3}}\nstatic:\n  - {{name: rec, path: {out}, format: evidence}}\n")
    r2 = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "replay"), "--quiet")
    assert r2.returncode == 1, r2.stderr
    assert inventory_key(tmp_path / "replay") == inventory_key(out)
    assert verdicts(tmp_path / "replay") == verdicts(out)


def kubectl_dump(cluster: str) -> dict:
    """What `kubectl get nodes,namespaces,pods,...,secrets -A -o json` prints: a v1 List whose items carry
    their kind and apiVersion (Secrets with their data, as a client would send them)."""
    items = []
    for res in ("nodes", "namespaces", "pods", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs",
                "services", "ingresses", "serviceaccounts", "networkpolicies", "roles", "rolebindings",
                "clusterroles", "clusterrolebindings", "secrets"):
        doc = json.loads((DATA / cluster / f"{res}.json").read_text())
        kind = doc["kind"][:-4]
        items += [{"apiVersion": doc["apiVersion"], "kind": kind, **i} for i in doc["items"]]
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}


def test_kubectl_dump_gives_the_same_assets_offline(weak_scan, tmp_path):
    _, out = weak_scan
    dump = tmp_path / "dump" / "weak.json"
    dump.parent.mkdir()
    dump.write_text(json.dumps(kubectl_dump("weak")))
    cfg = tmp_path / "dump.yaml"
    cfg.write_text(f"system: {{name: k8s test, level: 3}}\nstatic:\n  - {{name: weak, path: {dump}}}\n")
    r2 = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "dumpout"), "--quiet")
    assert r2.returncode in (1, 3), r2.stderr
    types = {"k8s.workload", "k8s.namespace", "k8s.rbac.role", "k8s.rbac.binding", "k8s.service", "k8s.ingress",
             "k8s.secret", "k8s.networkpolicy", "k8s.serviceaccount", "k8s.rbac.subject", "k8s.controlplane.apiserver",
             "k8s.controlplane.etcd", "k8s.controlplane.scheduler", "k8s.controlplane.controller_manager"}
    assert inventory_key(tmp_path / "dumpout", types) == inventory_key(out, types)
    # nodes too, but for their kubelet configuration (read live only)
    nodes = [[json.loads(x) for x in k[4:]] for k in inventory_key(tmp_path / "dumpout", {"k8s.node"})]
    assert [[{**a, "kubelet": None}, {}] for a, _ in nodes] == \
        [[{**json.loads(k[4]), "kubelet": None}, {}] for k in inventory_key(out, {"k8s.node"})]
    # the control-plane flags come from the dumped kube-system pod; only the server version is missing
    cluster = next(a for a in load(tmp_path / "dumpout", "inventory.json")["assets"] if a["type"] == "k8s.cluster")
    assert cluster["attributes"]["api_server"]["audit_log_maxage"] == 7
    assert set(cluster["errors"]) == {"server_version"}
    v_live = {k: s for k, s in verdicts(out).items()}
    v_dump = verdicts(tmp_path / "dumpout")
    # the same verdicts wherever the kinds are present: workloads, RBAC subjects, ServiceAccounts, every
    # control-plane instance; the kubelets' configuration is never in a dump (error, saying what to supply)
    assert {k: s for k, s in v_dump.items() if k[1] != "weak" and k[0] not in KUBELET_CHECKS} == \
        {k: s for k, s in v_live.items() if k[1] != "weak" and k[0] not in KUBELET_CHECKS}
    kubelet = [f for f in load(tmp_path / "dumpout", "findings.json") if f["check_id"] in KUBELET_CHECKS]
    assert len(kubelet) == 2 * len(KUBELET_CHECKS)
    assert all(f["status"] == "error" and "not in a kubectl dump" in f["message"] for f in kubelet)
    text = evidence_text(tmp_path / "dumpout")
    for v in SECRET_VALUES:
        assert v not in text
    assert not re.search(r'"data":\s*\{\s*"', text)


def test_literal_secret_env_values_never_reach_evidence_and_fail_the_check(tmp_path):
    """A client's dump with `env: [{name: DB_PASSWORD, value: ...}]`: the value is redacted at the recorder,
    and the workload fails k8s.workload.secret_env."""
    dump = kubectl_dump("hardened")
    dep = next(i for i in dump["items"] if i["kind"] == "Deployment" and i["metadata"]["name"] == "web")
    dep["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "ADMIN_PASSWORD", "value": "plain-Text-pw-4711"}, {"name": "LOG_LEVEL", "value": "debug"}]
    f = tmp_path / "hardened.json"
    f.write_text(json.dumps(dump))
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(f"system: {{name: k8s test, level: 3}}\nstatic:\n  - {{name: hardened, path: {f}, format: kubectl}}\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode in (1, 3), r.stderr
    assert "plain-Text-pw-4711" not in evidence_text(tmp_path / "out")
    assert "plain-Text-pw-4711" not in (tmp_path / "out" / "inventory.json").read_text()
    v = verdicts(tmp_path / "out")
    assert v[("k8s.workload.secret_env", "Deployment/web")] == "fail"
    assert v[("k8s.workload.secret_env", "StatefulSet/db")] == "pass"


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def _last_applied(obj: dict, marker: str) -> dict:
    """What `kubectl apply` leaves on an object: the whole applied manifest, values included."""
    applied = {"apiVersion": "v1", "kind": "Whatever", "metadata": {"name": obj["metadata"]["name"]},
               "spec": {"template": {"spec": {"containers": [{"name": "app", "env": [
                   {"name": "FEATURE_FLAGS", "value": marker}]}]}}},
               "data": {"app.properties": f"db.url=jdbc:mysql://db/{marker}"}}
    obj["metadata"].setdefault("annotations", {})[LAST_APPLIED] = json.dumps(applied)
    return obj


def test_last_applied_annotation_never_reaches_evidence_for_any_kind(tmp_path):
    """Deployment, StatefulSet, Pod, Service, ServiceAccount and Secret items carrying kubectl's last-applied copy
    (with values in it) through the real client: the collector drops the annotation from every kind."""
    from k8s_apiserver import FakeApiServer
    srv = FakeApiServer("weak")
    markers = {}
    for res in ("deployments", "statefulsets", "pods", "services", "serviceaccounts", "secrets", "namespaces"):
        markers[res] = f"applied-{res}-value-7a1c"
        for item in srv.lists[res]["items"]:
            _last_applied(item, markers[res])
    srv.start(tmp_path / "api")
    try:
        r, out = scan(tmp_path, srv)
    finally:
        srv.stop()
    assert r.returncode == 1, r.stderr + r.stdout
    text = evidence_text(out)
    for res, m in markers.items():
        assert m not in text, f"{res}: last-applied value in the evidence"
        assert m not in (out / "inventory.json").read_text()
    assert LAST_APPLIED not in text  # dropped by the collector, not merely masked by the recorder
    assert verdicts(out) == WEAK_EXPECTED


def test_last_applied_annotation_of_a_kubectl_dump_is_redacted(tmp_path):
    """A client's `kubectl get -o json` dump: the recorder masks last-applied on every object (a ConfigMap
    with its data, a Deployment with literal env values), not only on Secrets."""
    dump = kubectl_dump("hardened")
    dep = next(i for i in dump["items"] if i["kind"] == "Deployment" and i["metadata"]["name"] == "web")
    _last_applied(dep, "dep-applied-value-91bf")
    dump["items"].append(_last_applied({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"},
                                        "metadata": {"name": "app-config", "namespace": "shop"}}, "cm-applied-value-3d2e"))
    f = tmp_path / "hardened.json"
    f.write_text(json.dumps(dump))
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(f"system: {{name: k8s test, level: 3}}\nstatic:\n  - {{name: hardened, path: {f}, format: kubectl}}\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode in (0, 1, 3), r.stderr
    text = evidence_text(tmp_path / "out")
    for m in ("dep-applied-value-91bf", "cm-applied-value-3d2e"):
        assert m not in text and m not in (tmp_path / "out" / "inventory.json").read_text()
    recorded = json.loads(next((tmp_path / "out" / "evidence").glob("static.*.json")).read_text())["answer"]
    cm = next(i for i in recorded["items"] if i["kind"] == "ConfigMap")
    assert cm["metadata"]["annotations"][LAST_APPLIED] == "[REDACTED]"


def test_encryption_config_copy_decides_encryption_at_rest(k8s_api, tmp_path):
    """Through the real client against the hardened cluster (its kube-apiserver sets the flag): without a
    copy of the file the check cannot know the providers (error, partial scan); with `identity` first it
    fails; a file that is not an EncryptionConfiguration is an error, and the replay agrees."""
    srv = k8s_api("hardened")
    identity_first = tmp_path / "enc-identity.yaml"
    identity_first.write_text("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
                              "  - resources: [secrets]\n    providers:\n      - identity: {}\n"
                              f"      - aescbc:\n          keys:\n            - {{name: old, secret: {ENC_KEY}}}\n")
    not_enc = tmp_path / "not-enc.yaml"
    not_enc.write_text("kind: ConfigMap\ndata: {a: b}\n")
    want = {"": ("error", 3, "not readable through the API"),
            f", encryption_config: {identity_first}": ("fail", 1, "first provider for secrets is identity"),
            f", encryption_config: {not_enc}": ("error", 3, "not an EncryptionConfiguration")}
    audit = f", audit_policy: {DATA / 'hardened' / 'audit-policy.yaml'}"
    for i, (target, (status, rc, says)) in enumerate(want.items()):
        r, out = scan(tmp_path, srv, target=target + audit, out=f"out{i}")
        assert r.returncode == rc, (target, r.stderr + r.stdout)
        f = next(f for f in load(out, "findings.json") if f["check_id"] == "k8s.secrets.encryption_at_rest")
        assert f["status"] == status and says in f["message"], (target, f["message"])
        assert ENC_KEY not in evidence_text(out)
        others = {k: s for k, s in verdicts(out).items() if k[0] != "k8s.secrets.encryption_at_rest"}
        assert "fail" not in others.values() and "error" not in others.values()
    # replayed evidence derives the same cluster facts (the copy is evidence like any answer)
    cfg = tmp_path / "replay.yaml"
    cfg.write_text(f"system: {{name: k8s test, level: 3}}\nstatic:\n  - {{name: rec, path: {tmp_path / 'out1'}, format: evidence}}\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "replay"), "--quiet")
    assert r.returncode == 1, r.stderr
    assert inventory_key(tmp_path / "replay", {"k8s.cluster"}) == inventory_key(tmp_path / "out1", {"k8s.cluster"})
    # a missing copy is an input error before anything is collected
    r, _ = scan(tmp_path, srv, target=f", encryption_config: {tmp_path / 'nope.yaml'}", out="out-missing")
    assert r.returncode == 2 and "encryption_config not found" in r.stderr


# --------------------------------------------------------------------------- issue 16: depth

def test_ha_control_plane_judges_every_apiserver_instance(k8s_api, tmp_path):
    """Three control-plane nodes, kube-apiserver on cp-3 drifted (anonymous auth not disabled, TLS 1.0): each
    instance gets its own verdict naming its node, the cluster's verdict names the failing instance, and
    everything else of the hardened cluster still passes."""
    srv = k8s_api("ha")
    r, out = scan(tmp_path, srv, target=f", encryption_config: {DATA / 'hardened' / 'encryption-config.yaml'}, "
                                        f"audit_policy: {DATA / 'hardened' / 'audit-policy.yaml'}")
    assert r.returncode == 1, r.stderr + r.stdout
    v = verdicts(out)
    for check_id in ("k8s.apiserver.anonymous_auth", "k8s.apiserver.tls_min_version"):
        assert {k[1]: s for k, s in v.items() if k[0] == check_id} == {
            "ha": "fail", "kube-apiserver-cp-1": "pass", "kube-apiserver-cp-2": "pass", "kube-apiserver-cp-3": "fail"}
    fails = {k: s for k, s in v.items() if s == "fail"}
    assert set(fails) == {(c, n) for c in ("k8s.apiserver.anonymous_auth", "k8s.apiserver.tls_min_version")
                          for n in ("ha", "kube-apiserver-cp-3")}
    findings = {(f["check_id"], f["resource_name"]): f for f in load(out, "findings.json")}
    cluster = findings[("k8s.apiserver.anonymous_auth", "ha")]
    assert cluster["message"].startswith("1 of 3 kube-apiserver instances fail: kube-apiserver-cp-3 on node cp-3")
    assert cluster["details"]["failing"] == ["kube-apiserver-cp-3"]
    inst = findings[("k8s.apiserver.anonymous_auth", "kube-system/kube-apiserver-cp-3")]
    assert inst["resource_type"] == "k8s.controlplane.apiserver" and "on node cp-3" in inst["message"]
    assert "all 3 kube-apiserver instances" in findings[("k8s.apiserver.authorization", "ha")]["message"]
    # etcd, controller manager and scheduler: one verdict per node
    for check_id, component in (("k8s.etcd.client_tls", "etcd"), ("k8s.etcd.peer_tls", "etcd"),
                                ("k8s.scheduler.secure_serving", "kube-scheduler"),
                                ("k8s.controller_manager.secure_serving", "kube-controller-manager"),
                                ("k8s.controller_manager.service_account_credentials", "kube-controller-manager")):
        assert {k[1]: s for k, s in v.items() if k[0] == check_id} == \
            {f"{component}-cp-{i}": "pass" for i in (1, 2, 3)}, check_id
    cl = next(a for a in load(out, "inventory.json")["assets"] if a["type"] == "k8s.cluster")
    assert cl["attributes"]["control_plane_nodes"] == {c: ["cp-1", "cp-2", "cp-3"] for c in (
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")}
    controls = {c["control_id"]: c["status"] for c in load(out, "controls.json")}
    assert controls["L3-CES1-06"] == "partial"  # one instance of three accepts anonymous requests


def test_kubelet_config_without_opt_in_is_error_naming_what_to_supply(k8s_api, tmp_path, weak_scan):
    srv = k8s_api("weak")
    r, out = scan(tmp_path, srv, kubelet=False)
    assert r.returncode == 3, r.stderr + r.stdout
    assert not [p for _m, p, _q in srv.log if "/proxy" in p], "nodes/proxy asked without the opt-in"
    kubelet = [f for f in load(out, "findings.json") if f["check_id"] in KUBELET_CHECKS]
    assert {(f["check_id"], f["resource_name"]) for f in kubelet} == {(c, n) for c in KUBELET_CHECKS for n in ("cp-1", "node-1")}
    for f in kubelet:
        assert f["status"] == "error" and "kubelet_config: true" in f["message"] \
            and "mlps-scan-kubelet-clusterrole.yaml" in f["message"], f["message"]
    # nothing else changes
    _, out_opted = weak_scan
    assert {k: s for k, s in verdicts(out).items() if k[0] not in KUBELET_CHECKS} == \
        {k: s for k, s in WEAK_EXPECTED.items() if k[0] not in KUBELET_CHECKS}


def test_kubelet_proxy_denied_is_error_per_node(k8s_api, tmp_path):
    srv = k8s_api("weak", forbidden={"nodes/proxy"})
    r, out = scan(tmp_path, srv)
    assert r.returncode == 3, r.stderr + r.stdout
    kubelet = [f for f in load(out, "findings.json") if f["check_id"] in KUBELET_CHECKS]
    assert len(kubelet) == 2 * len(KUBELET_CHECKS)
    assert all(f["status"] == "error" and "403" in f["message"] and "/proxy/configz" in f["message"] for f in kubelet)
    recs = [json.loads(p.read_text()) for p in (out / "evidence").glob("kubernetes.kubelet-configz.*.json")]
    assert sorted(r["request"]["node"] for r in recs) == ["cp-1", "node-1"]
    assert all(r["status"] == "denied" for r in recs)


def _kubeconfig(srv) -> dict:
    return yaml.safe_load(srv.kubeconfig.read_text())


def test_kubeconfig_files_merged_as_kubectl_does(k8s_api, tmp_path):
    """KUBECONFIG=a:missing:b: a names the current context (defined in b) and a context of its own; b's own
    current-context points elsewhere. kubectl takes the first file's current-context and the first
    definition of every name; missing files are skipped."""
    srv = k8s_api("weak")
    real = _kubeconfig(srv)
    a = {"apiVersion": "v1", "kind": "Config", "current-context": "weak-ctx",
         "clusters": [{"name": "elsewhere", "cluster": {"server": "https://127.0.0.1:1"}}],
         "users": [{"name": "nobody", "user": {"token": "not-this-one"}}],
         "contexts": [{"name": "elsewhere", "context": {"cluster": "elsewhere", "user": "nobody"}}]}
    b = {**real, "current-context": "elsewhere"}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(a))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(b))
    env = {"KUBECONFIG": ":".join(str(tmp_path / n) for n in ("a.yaml", "missing.yaml", "b.yaml"))}
    cfg = tmp_path / "scan.yaml"
    cfg.write_text("system: {name: k8s test, level: 3}\nkubernetes:\n  - {name: weak, page_size: 3, kubelet_config: true}\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", env=env)
    assert r.returncode == 1, r.stderr + r.stdout
    assert verdicts(tmp_path / "out") == WEAK_EXPECTED
    target = json.loads(next((tmp_path / "out" / "evidence").glob("kubernetes.target.*.json")).read_text())
    assert target["answer"]["context"] == "weak-ctx" and target["request"]["kubeconfig"] == ["a.yaml", "b.yaml"]
    # a context none of the files defines is an input error naming them all
    cfg.write_text("system: {name: k8s test, level: 3}\nkubernetes:\n  - {name: weak, context: nope}\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out2"), "--quiet", env=env)
    assert r.returncode == 2 and "context 'nope' not in $KUBECONFIG" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_in_cluster_service_account(k8s_api, tmp_path):
    """Running as a pod: no kubeconfig at all, the ServiceAccount token and CA and KUBERNETES_SERVICE_HOST/PORT
    (the token directory comes from $MLPS_K8S_SA_DIR here instead of /var/run/secrets/...)."""
    import base64

    from k8s_apiserver import TOKEN
    srv = k8s_api("weak")
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(TOKEN)
    ca = _kubeconfig(srv)["clusters"][0]["cluster"]["certificate-authority-data"]
    (sa / "ca.crt").write_bytes(base64.b64decode(ca))
    home = tmp_path / "home"
    home.mkdir()
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": srv.url.rsplit(":", 1)[1],
           "MLPS_K8S_SA_DIR": str(sa), "HOME": str(home), "KUBECONFIG": ""}
    cfg = tmp_path / "scan.yaml"
    cfg.write_text("system: {name: k8s test, level: 3}\nkubernetes:\n  - {name: weak, page_size: 3, kubelet_config: true}\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out"), "--quiet", env=env)
    assert r.returncode == 1, r.stderr + r.stdout
    assert verdicts(tmp_path / "out") == WEAK_EXPECTED
    target = json.loads(next((tmp_path / "out" / "evidence").glob("kubernetes.target.*.json")).read_text())
    assert target["request"] == {"in_cluster": True} and TOKEN not in evidence_text(tmp_path / "out")
    # asked for explicitly outside a pod: one line saying what is missing
    cfg.write_text("system: {name: k8s test, level: 3}\nkubernetes:\n  - {name: weak, in_cluster: true}\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "out2"), "--quiet",
                env={**env, "KUBERNETES_SERVICE_HOST": ""})
    assert r.returncode == 2 and "in_cluster: KUBERNETES_SERVICE_HOST" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_audit_policy_copy_decides_policy_content(k8s_api, tmp_path):
    """The hardened cluster's kube-apiserver names an audit policy file: without a copy the content check is
    error; a policy that drops requests and logs Secret bodies fails naming them; a file that is not a policy
    is error; the good copy passes (test_hardened_cluster_passes_every_check)."""
    srv = k8s_api("hardened")
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                     "  - level: RequestResponse\n    resources: [{group: '', resources: [secrets]}]\n"
                     "  - level: Metadata\n    resources: [{group: rbac.authorization.k8s.io}]\n")
    not_policy = tmp_path / "not-policy.yaml"
    not_policy.write_text("kind: ConfigMap\ndata: {a: b}\n")
    enc = f", encryption_config: {DATA / 'hardened' / 'encryption-config.yaml'}"
    want = {"": ("error", 3, "supply a copy"),
            f", audit_policy: {leaky}": ("fail", 1, "reading a Secret is recorded at RequestResponse"),
            f", audit_policy: {not_policy}": ("error", 3, "not an audit policy")}
    for i, (target, (status, rc, says)) in enumerate(want.items()):
        r, out = scan(tmp_path, srv, target=enc + target, out=f"out{i}")
        assert r.returncode == rc, (target, r.stderr + r.stdout)
        f = next(f for f in load(out, "findings.json") if f["check_id"] == "k8s.audit.policy_content"
                 and f["resource_type"] == "k8s.cluster")
        assert f["status"] == status and says in f["message"], (target, f["message"])
        others = {k: s for k, s in verdicts(out).items() if k[0] != "k8s.audit.policy_content"}
        assert "fail" not in others.values() and "error" not in others.values()
    f = next(f for f in load(tmp_path / "out1", "findings.json") if f["check_id"] == "k8s.audit.policy_content"
             and f["resource_type"] == "k8s.cluster")
    assert "any other request (no rule names it) is not recorded" in f["message"]
    assert "exec into a pod is not recorded" in f["message"]
