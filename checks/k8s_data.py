"""Kubernetes data protection: Secrets encrypted at rest in etcd, TLS on Ingresses (and the API server's
minimum TLS version), Secrets mounted as files rather than exposed through environment variables."""
from __future__ import annotations

from mlps_scan.checks.k8s_audit import control_plane
from mlps_scan.plugins import CheckContext, check, failed, passed

_TLS = {"VersionTLS10": 1.0, "VersionTLS11": 1.1, "VersionTLS12": 1.2, "VersionTLS13": 1.3}


@check(
    id="k8s.secrets.encryption_at_rest",
    title_en="Secrets are encrypted at rest (encryption provider configured)", title_zh="Secret 在 etcd 中加密存储",
    controls={3: ["L3-CES1-28"]},
    asset_type="k8s.cluster",
    remediation="Start kube-apiserver with --encryption-provider-config using a KMS (or aescbc/secretbox) provider "
                "for secrets, then rewrite existing Secrets.",
    severity="high",
)
def encryption_at_rest(asset, ctx: CheckContext):
    src, api = control_plane(asset, ctx)
    if src == "eks":
        if api.get("secrets_encryption"):
            return passed(f"EKS envelope encryption of secrets with KMS key {api.get('kms_key')}")
        return failed("EKS cluster without envelope encryption of secrets (encryptionConfig)")
    cfg = api.get("encryption_provider_config")
    if cfg:
        return passed(f"--encryption-provider-config={cfg} (its providers are not readable through the API: "
                      "assessor to confirm secrets use kms/aescbc/secretbox, not identity)")
    return failed("no --encryption-provider-config: Secrets are stored in etcd as plain base64")


@check(
    id="k8s.ingress.tls",
    title_en="Ingresses terminate TLS for every host", title_zh="Ingress 对所有域名启用 TLS",
    controls={1: ["L1-CNS1-01"], 2: ["L2-CNS1-03"], 3: ["L3-CNS1-06", "L3-CNS1-07"]},
    asset_type="k8s.ingress",
    remediation="Add spec.tls entries (with a certificate Secret) covering every host of the Ingress.",
)
def ingress_tls(asset, ctx: CheckContext):
    if ctx.need(asset, "tls"):
        return passed(f"TLS for {', '.join(asset.attributes.get('hosts') or [])}")
    missing = asset.attributes.get("hosts_without_tls") or asset.attributes.get("hosts") or []
    return failed(f"plain HTTP for {', '.join(missing)}", details={"hosts": missing})


@check(
    id="k8s.apiserver.tls_min_version",
    title_en="API server refuses TLS versions below the profile minimum", title_zh="API 服务器最低 TLS 版本满足要求",
    controls={2: ["L2-CES1-03"], 3: ["L3-CES1-03", "L3-CNS1-07"]},
    asset_type="k8s.cluster",
    params=["min_tls_version"],
    remediation="Set --tls-min-version=VersionTLS12 (or VersionTLS13) on kube-apiserver.",
)
def tls_min_version(asset, ctx: CheckContext):
    api = ctx.need(asset, "api_server")
    want = float(ctx.profile.min_tls_version.replace("TLSv", ""))
    flag = api.get("tls_min_version")
    have = _TLS.get(flag or "", None)
    if flag is None:
        # kube-apiserver's default (Go crypto/tls server default) is TLS 1.2 since Go 1.18 / Kubernetes 1.24
        have, how = 1.2, "not set (server default TLS 1.2)"
    else:
        how = f"--tls-min-version={flag}"
    if have is None:
        return failed(f"unrecognised {how}")
    if have >= want:
        return passed(how)
    return failed(f"{how} is below {ctx.profile.min_tls_version}")


@check(
    id="k8s.workload.secret_env",
    title_en="Secrets are mounted as files, not exposed in environment variables",
    title_zh="Secret 以文件挂载而非环境变量方式使用",
    controls={3: ["L3-CES1-28"]},
    asset_type="k8s.workload",
    remediation="Mount the Secret as a read-only volume and read it from the file; environment variables leak "
                "into logs, crash dumps and child processes.",
)
def secret_env(asset, ctx: CheckContext):
    env = ctx.need(asset, "secret_env")
    if env:
        return failed(f"{len(env)} Secret reference(s) in environment variables: {'; '.join(env)}",
                      details={"secret_env": env})
    vols = asset.attributes.get("secret_volumes") or []
    return passed("no Secret in environment variables" + (f"; mounted as files: {', '.join(vols)}" if vols else ""))
