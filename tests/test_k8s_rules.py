"""Pure-logic cases of Kubernetes checks on hand-made assets (what the fixture clusters do not show)."""
from __future__ import annotations

import pytest

from mlps_scan.models import Asset
from mlps_scan.plugins import CheckContext, checks
from mlps_scan.profile import build_profile


def svc(**attrs):
    return Asset(type="k8s.service", id="uid-1", name="shop/web-lb", scope="kubernetes/prod/shop",
                 attributes={"namespace": "shop", **attrs}, evidence=["ev"])


@pytest.mark.parametrize("attrs,status", [
    ({"service_type": "LoadBalancer", "ports": [{"port": 443}]}, "pass"),          # the shop's HTTPS front door
    ({"service_type": "LoadBalancer", "ports": [{"port": 443}, {"port": 22}]}, "fail"),
    ({"service_type": "LoadBalancer", "ports": [{"port": 80}]}, "fail"),           # plaintext, open to all
    ({"service_type": "LoadBalancer", "ports": [{"port": 5432}], "source_ranges": ["10.0.0.0/8"]}, "pass"),
    ({"service_type": "NodePort", "ports": [{"port": 8080, "node_port": 30080}]}, "fail"),
    ({"service_type": "ClusterIP", "ports": [{"port": 8080}]}, "pass"),
])
def test_service_exposure(attrs, status):
    spec = checks()["k8s.service.exposure"]
    ctx = CheckContext([], [], build_profile(3), 3)
    assert spec.func(svc(**attrs), ctx).status == status


def cluster(api_server: dict | None = None, errors: dict | None = None, **attrs):
    a = {"platform": None, **attrs}
    if api_server is not None:
        a["api_server"] = api_server
    return Asset(type="k8s.cluster", id="kubernetes/c", name="c", scope="kubernetes/c", attributes=a,
                 errors=errors or {}, evidence=["ev"])


def verdict(check_id: str, asset):
    spec = checks()[check_id]
    ctx = CheckContext([asset], [], build_profile(3), 3)
    return spec.func(asset, ctx)


FLAG = {"encryption_provider_config": "/etc/kubernetes/enc.yaml"}


@pytest.mark.parametrize("providers,status,says", [
    (["aescbc", "identity"], "pass", "written with aescbc"),
    (["kms", "aescbc", "identity"], "pass", "written with kms"),
    (["aesgcm"], "pass", "aesgcm"),
    (["secretbox", "identity"], "pass", "secretbox"),
    (["identity", "aescbc"], "fail", "first provider for secrets is identity"),  # decrypts old data, writes clear
    (["identity"], "fail", "identity"),
    ([], "fail", "no entry for secrets"),
])
def test_encryption_at_rest_reads_the_first_provider_for_secrets(providers, status, says):
    v = verdict("k8s.secrets.encryption_at_rest",
                cluster(FLAG, encryption_config={"file": "enc.yaml", "secrets_providers": providers}))
    assert v.status == status and says in v.message, v.message


def test_encryption_at_rest_flag_alone_is_evidence_missing_not_a_pass():
    v = verdict("k8s.secrets.encryption_at_rest", cluster(FLAG))
    assert v.status == "error"
    assert "not readable through the API" in v.message and "encryption_config" in v.message
    v = verdict("k8s.secrets.encryption_at_rest",
                cluster(FLAG, errors={"encryption_config": "enc.yaml is not an EncryptionConfiguration"}))
    assert v.status == "error" and "not an EncryptionConfiguration" in v.message
    # no flag: nothing is encrypted, whatever file a client sends
    v = verdict("k8s.secrets.encryption_at_rest",
                cluster({"encryption_provider_config": None}, encryption_config={"file": "x", "secrets_providers": ["kms"]}))
    assert v.status == "fail"


def test_secrets_providers_follow_the_first_entry_that_covers_secrets():
    from mlps_scan.collectors.kubernetes import sanitize_encryption_config, secrets_providers
    doc = {"kind": "EncryptionConfiguration", "resources": [
        {"resources": ["configmaps"], "providers": [{"aescbc": {"keys": [{"name": "k", "secret": "S3CR3T"}]}}]},
        {"resources": ["*.*"], "providers": [{"identity": {}}, {"aesgcm": {"keys": [{"name": "g", "secret": "G0"}]}}]},
        {"resources": ["secrets"], "providers": [{"kms": {"name": "k"}}]}]}
    assert secrets_providers(doc) == ["identity", "aesgcm"]
    assert secrets_providers({"kind": "EncryptionConfiguration", "resources": [
        {"resources": ["configmaps"], "providers": [{"aescbc": {}}]}]}) == []
    assert secrets_providers({"kind": "Pod"}) is None
    clean = sanitize_encryption_config(doc)
    assert "S3CR3T" not in str(clean) and "G0" not in str(clean)
    assert clean["resources"][0]["providers"][0]["aescbc"]["keys"] == [{"name": "k"}]
    assert secrets_providers(clean) == ["identity", "aesgcm"]


@pytest.mark.parametrize("api,status,says", [
    ({"audit_webhook_config_file": "/etc/k/wh.yaml"}, "error", "retention is held by its backend"),
    ({"audit_log_path": "/var/log/a.log", "audit_log_maxage": 30, "audit_webhook_config_file": "/etc/k/wh.yaml"},
     "error", "--audit-log-maxage=30"),
    ({"audit_log_path": "/var/log/a.log", "audit_log_maxage": 180, "audit_webhook_config_file": "/etc/k/wh.yaml"},
     "pass", "--audit-log-maxage=180"),
    ({"audit_log_path": "/var/log/a.log", "audit_log_maxage": 200}, "pass", ">= 180 days"),
    ({"audit_log_path": "/var/log/a.log", "audit_log_maxage": 30}, "fail", "below 180 days"),
    ({"audit_log_path": "/var/log/a.log"}, "fail", "not set"),
    ({"audit_log_path": "-", "audit_log_maxage": 365}, "fail", "stdout"),
    ({}, "fail", "no audit log to retain"),
])
def test_audit_retention_webhook_is_not_retention(api, status, says):
    v = verdict("k8s.apiserver.audit_retention", cluster(api))
    assert v.status == status and says in v.message, v.message


def test_audit_shipped_by_webhook_still_passes():
    v = verdict("k8s.audit.shipped", cluster({"audit_webhook_config_file": "/etc/k/wh.yaml"}))
    assert v.status == "pass"


# --------------------------------------------------------------------------- issue 16: rights, instances, kubelets

def _rights(rules, namespace=None):
    from mlps_scan.checks._k8s_rights import dangerous_rights
    return [r.key for r in dangerous_rights(rules, namespace)]


@pytest.mark.parametrize("rules,namespace,keys", [
    ([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}], None, ["full_access"]),
    ([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}], "dev", ["full_access"]),
    ([{"apiGroups": [""], "resources": ["pods", "pods/exec"], "verbs": ["*"]}], None, ["wildcard", "pods_kube_system"]),
    ([{"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}], "dev", ["wildcard"]),  # pods in dev only
    ([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate"]}], None, ["escalate"]),
    ([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["bind"]}], "dev", ["bind"]),
    ([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["escalate", "bind"]}], None, []),
    ([{"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]}], None, ["impersonate"]),
    ([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}], None, ["secrets_read"]),
    ([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}], "dev", []),  # one namespace only
    ([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "delete"]}], None, []),  # writes, no reads
    ([{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}], None, ["nodes_proxy"]),
    ([{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}], None, []),
    ([{"apiGroups": ["apps"], "resources": ["daemonsets"], "verbs": ["create"]}], "kube-system", ["pods_kube_system"]),
    ([{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}], "shop", []),
    ([{"nonResourceURLs": ["*"], "verbs": ["*"]}], None, ["wildcard"]),
    ([{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}], None, []),
    ([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}], None, []),
    (None, None, []),  # a dangling binding grants nothing
])
def test_dangerous_rights(rules, namespace, keys):
    assert _rights(rules, namespace) == keys


def judged(check_id: str, a):
    """The check's verdict on one asset as the runner gives it (missing evidence: error)."""
    from mlps_scan.plugins import EvidenceMissing
    try:
        return verdict(check_id, a)
    except EvidenceMissing as e:
        from mlps_scan.plugins import Verdict
        return Verdict("error", f"evidence missing: {e}")


def asset(type_, asset_name, scope="kubernetes/c", errors=None, **attrs):
    return Asset(type=type_, id=f"{type_}/{asset_name}", name=asset_name, scope=scope, attributes=attrs,
                 errors=errors or {}, evidence=["ev"])


def test_subject_rights_say_who_holds_what_through_which_binding():
    grants = [{"binding": "RoleBinding/kube-system/jane-ops", "role": "Role/ops-everything", "namespace": "kube-system",
               "builtin": False, "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]},
              {"binding": "RoleBinding/shop/reader", "role": "Role/reader", "namespace": "shop", "builtin": False,
               "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}]
    v = verdict("k8s.rbac.subject_rights", asset("k8s.rbac.subject", "User:jane", kind="User", name="jane", grants=grants))
    assert v.status == "fail"
    assert v.message == ("User:jane holds every verb on every resource in namespace kube-system through "
                         "RoleBinding/kube-system/jane-ops (Role/ops-everything)")
    assert v.details["grants"] == [{"binding": "RoleBinding/kube-system/jane-ops", "role": "Role/ops-everything",
                                    "rights": ["full_access"]}]
    v = verdict("k8s.rbac.subject_rights", asset("k8s.rbac.subject", "User:carol", kind="User", name="carol", grants=grants[1:]))
    assert v.status == "pass"
    v = judged("k8s.rbac.subject_rights", asset("k8s.rbac.subject", "User:x", kind="User", name="x",
                                                 errors={"grants": "roles: HTTP 403 Forbidden"}))
    assert v.status == "error" and "403" in v.message


@pytest.mark.parametrize("name,attrs,status,says", [
    ("default", {"automount": None, "bound_roles": []}, "fail", "mounts its token into every pod"),
    ("default", {"automount": True, "bound_roles": ["ClusterRoleBinding/x: ClusterRole/y"]}, "fail", "bound to"),
    ("default", {"automount": False, "bound_roles": []}, "pass", "false"),
    ("builder", {"automount": None, "bound_roles": []}, "fail", "no role is bound"),
    ("builder", {"automount": None, "bound_roles": ["RoleBinding/ci/b: Role/deployer"]}, "pass", "Role/deployer"),
    ("builder", {"automount": False}, "pass", "false"),
])
def test_serviceaccount_token_automount(name, attrs, status, says):
    v = verdict("k8s.serviceaccount.token_automount",
                asset("k8s.serviceaccount", name, scope="kubernetes/c/ci", namespace="ci", **attrs))
    assert v.status == status and says in v.message, v.message


def test_per_apiserver_verdicts_name_the_failing_instances():
    """The cluster check runs once per kube-apiserver instance: one verdict each (on the instance asset,
    naming its node) and a cluster verdict listing the instances that fail."""
    c = cluster({"anonymous_auth": False})
    inst = [asset("k8s.controlplane.apiserver", f"kube-apiserver-cp-{i}", scope="kubernetes/c/kube-system",
                  node=f"cp-{i}", api_server={"anonymous_auth": i != 2}) for i in (1, 2, 3)]
    spec = checks()["k8s.apiserver.anonymous_auth"]
    out = spec.func(c, CheckContext([c, *inst], [], build_profile(3), 3))
    assert [(v.status, v.resource_id) for v in out] == [
        ("fail", None), ("fail", inst[0].id), ("pass", inst[1].id), ("fail", inst[2].id)]
    assert out[0].message.startswith("2 of 3 kube-apiserver instances fail: kube-apiserver-cp-1 on node cp-1: ")
    assert "kube-apiserver-cp-3 on node cp-3" in out[0].message and "cp-2" not in out[0].message
    assert out[2].message == "kube-apiserver-cp-2 on node cp-2: --anonymous-auth=false"
    # no instance visible (managed control plane): judged once on the cluster's own facts, as before
    assert spec.func(c, CheckContext([c], [], build_profile(3), 3)).status == "pass"


@pytest.mark.parametrize("kubelet,check_id,status", [
    ({"anonymous_auth": True}, "k8s.kubelet.anonymous_auth", "fail"),
    ({"anonymous_auth": False}, "k8s.kubelet.anonymous_auth", "pass"),
    ({}, "k8s.kubelet.anonymous_auth", "error"),  # the answer lacks the setting: never a pass
    ({"authorization_mode": "AlwaysAllow", "webhook_authentication": True}, "k8s.kubelet.authorization", "fail"),
    ({"authorization_mode": "Webhook", "webhook_authentication": False}, "k8s.kubelet.authorization", "fail"),
    ({"authorization_mode": "Webhook", "webhook_authentication": True}, "k8s.kubelet.authorization", "pass"),
    ({"read_only_port": 10255}, "k8s.kubelet.read_only_port", "fail"),
    ({"read_only_port": 0}, "k8s.kubelet.read_only_port", "pass"),
    ({"rotate_certificates": True, "server_tls_bootstrap": True}, "k8s.kubelet.certificate_rotation", "pass"),
    ({"rotate_certificates": True}, "k8s.kubelet.certificate_rotation", "fail"),
    ({"tls_min_version": "VersionTLS11"}, "k8s.kubelet.tls_min_version", "fail"),
    ({"tls_min_version": None}, "k8s.kubelet.tls_min_version", "pass"),
])
def test_kubelet_settings(kubelet, check_id, status):
    assert judged(check_id, asset("k8s.node", "node-1", kubelet=kubelet)).status == status


def test_kubelet_checks_without_configuration_are_errors_naming_what_to_supply():
    from mlps_scan.collectors.kubernetes.derive.nodes import NOT_OPTED_IN
    v = judged("k8s.kubelet.read_only_port", asset("k8s.node", "node-1", errors={"kubelet": NOT_OPTED_IN}))
    assert v.status == "error" and "kubelet_config: true" in v.message


def _policy(*rules, omit=()):
    from mlps_scan.checks._k8s_audit_policy import evaluate
    return {o.probe.key: (o.level, o.problem is None) for o in evaluate(list(rules), list(omit))}


def test_audit_policy_evaluation_follows_the_api_servers_matching():
    catch_all = {"level": "Metadata"}
    assert all(ok for _, ok in _policy(catch_all).values())
    # no rule matches: nothing recorded
    got = _policy({"level": "Metadata", "resources": [{"group": "", "resources": ["secrets"]}]})
    assert got["secret_read"] == ("Metadata", True) and got["other"] == ("None", False) and got["pod_exec"] == ("None", False)
    # first match wins; a Secret body at RequestResponse leaks its value, a create at Request too
    got = _policy({"level": "RequestResponse", "resources": [{"group": ""}]}, catch_all)
    assert got["secret_read"] == ("RequestResponse", False) and got["secret_write"] == ("RequestResponse", False)
    assert got["token_request"] == ("RequestResponse", False) and got["pod_exec"] == ("RequestResponse", True)
    # subresource forms: pods/exec, */exec, pods/*
    for res in ("pods/exec", "*/exec", "pods/*"):
        assert _policy({"level": "None", "resources": [{"group": "", "resources": [res]}]}, catch_all)["pod_exec"] == ("None", False)
    # users and groups narrow a rule; named objects do not cover every object
    assert _policy({"level": "None", "userGroups": ["system:unauthenticated"]}, catch_all)["anonymous"] == ("None", False)
    assert _policy({"level": "None", "users": ["someone-else"]}, catch_all)["anonymous"] == ("Metadata", True)
    assert _policy({"level": "None", "resources": [{"group": "", "resources": ["secrets"], "resourceNames": ["x"]}]},
                   catch_all)["secret_read"] == ("Metadata", True)
    # namespaces: a rule for kube-system only; non-resource rules do not match resource requests
    got = _policy({"level": "None", "namespaces": ["kube-system"]}, catch_all)
    assert got["kube_system_change"] == ("None", False) and got["workload_change"] == ("Metadata", True)
    assert _policy({"level": "None", "nonResourceURLs": ["*"]}, catch_all)["other"] == ("Metadata", True)
    # the outcome stage omitted: who and what, but not whether it succeeded
    assert _policy(catch_all, omit=["ResponseComplete"])["rbac_change"] == ("Metadata", False)
    assert _policy({**catch_all, "omitStages": ["RequestReceived"]})["rbac_change"] == ("Metadata", True)


@pytest.mark.parametrize("policies,isolated,opened", [
    ([], False, []),
    ([{"metadata": {"name": "deny", "namespace": "ns"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}], True, []),
    ([{"metadata": {"name": "in-only", "namespace": "ns"}, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}],
     False, []),
    ([{"metadata": {"name": "web", "namespace": "ns"},
       "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]}}], False, []),
    ([{"metadata": {"name": "dns", "namespace": "ns"},  # policyTypes unset, egress rules present: an egress policy
       "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}}], True, []),
    ([{"metadata": {"name": "all", "namespace": "ns"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                                                               "egress": [{}]}}], True, ["all"]),
    ([{"metadata": {"name": "world", "namespace": "ns"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                                                                 "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}}],
     True, ["world"]),
    ([{"metadata": {"name": "other-ns", "namespace": "x"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}],
     False, []),
])
def test_egress_facts(policies, isolated, opened):
    from mlps_scan.collectors.kubernetes.derive.network import _egress_facts
    f = _egress_facts("ns", policies)
    assert (f["egress_isolated"], f["egress_open_policies"]) == (isolated, opened)
