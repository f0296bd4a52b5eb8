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
