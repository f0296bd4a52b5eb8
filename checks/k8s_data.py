"""Kubernetes data protection: Secrets encrypted at rest in etcd, TLS on Ingresses (and the API server's
minimum TLS version), Secrets mounted as files rather than exposed through environment variables."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, error, failed, passed

from ._k8s import control_plane
from ._k8s_instances import per_apiserver

# EncryptionConfiguration providers that encrypt what they write (identity writes plain text)
ENCRYPTING_PROVIDERS = ("aescbc", "aesgcm", "secretbox", "kms")
_TLS = {"VersionTLS10": 1.0, "VersionTLS11": 1.1, "VersionTLS12": 1.2, "VersionTLS13": 1.3}


@check(
    id="k8s.secrets.encryption_at_rest",
    high_risk=[{"case": "6.4.5.2",
                "basis": "Secrets written to etcd unencrypted (or an encryption provider nobody can vouch for)"}],
    title_en="Secrets are encrypted at rest (encryption provider configured)", title_zh="Secret 在 etcd 中加密存储",
    controls={3: ["L3-CES1-28"]},
    asset_type="k8s.cluster",
    remediation="Start kube-apiserver with --encryption-provider-config whose first provider for secrets is kms "
                "(or aescbc/aesgcm/secretbox), not identity, then rewrite existing Secrets "
                "(kubectl get secrets -A -o json | kubectl replace -f -).",
    remediation_zh="以--encryption-provider-config启动kube-apiserver，其中secrets的第一个provider为kms"
                   "（或aescbc/aesgcm/secretbox）而非identity，然后重写现有Secret"
                   "（kubectl get secrets -A -o json | kubectl replace -f -）。",
    severity="high",
)
@per_apiserver
def encryption_at_rest(asset, ctx: CheckContext):
    src, api = control_plane(asset, ctx)
    if src == "eks":
        if api.get("secrets_encryption"):
            return passed(f"EKS envelope encryption of secrets with KMS key {api.get('kms_key')}",
                          f"EKS已使用KMS密钥{api.get('kms_key')}对Secret进行信封加密")
        return failed("EKS cluster without envelope encryption of secrets (encryptionConfig)",
                      "EKS集群未对Secret启用信封加密（encryptionConfig）")
    flag = api.get("encryption_provider_config")
    if not flag:
        return failed("no --encryption-provider-config: Secrets are stored in etcd as plain base64",
                      "未设置--encryption-provider-config：Secret以明文base64形式存储在etcd中")
    if "encryption_config" in asset.errors:
        return error(f"--encryption-provider-config={flag}; the supplied copy could not be read: "
                     f"{asset.errors['encryption_config']}",
                     f"--encryption-provider-config={flag}；提供的配置副本无法读取：{asset.errors['encryption_config']}")
    cfg = asset.attributes.get("encryption_config")
    if cfg is None:
        # the flag says a file is used, not what it says: `identity` first would still write Secrets in clear
        return error(f"--encryption-provider-config={flag} is set, but the file's providers are not readable "
                     "through the API: supply a copy (kubernetes target `encryption_config`) or an assessor "
                     "confirms the first provider for secrets is kms/aescbc/aesgcm/secretbox, not identity",
                     f"已设置--encryption-provider-config={flag}，但无法通过API读取该文件中的provider："
                     "请提供副本（kubernetes目标的`encryption_config`），或由测评人员确认secrets的第一个provider"
                     "是kms/aescbc/aesgcm/secretbox而非identity")
    provs = cfg.get("secrets_providers") or []
    where = f"--encryption-provider-config={flag} (copy {cfg.get('file')})"
    where_zh = f"--encryption-provider-config={flag}（副本{cfg.get('file')}）"
    if not provs:
        return failed(f"{where} has no entry for secrets: they are stored unencrypted",
                      f"{where_zh}中没有secrets条目：Secret未加密存储")
    first = provs[0]
    if first == "identity":
        return failed(f"{where}: the first provider for secrets is identity, so new Secrets are written "
                      f"unencrypted (later providers {', '.join(provs[1:]) or 'none'} only read old data)",
                      f"{where_zh}：secrets的第一个provider是identity，新写入的Secret未加密"
                      f"（后续provider {'、'.join(provs[1:]) or '无'}仅用于读取旧数据）",
                      details={"secrets_providers": provs})
    if first in ENCRYPTING_PROVIDERS:
        return passed(f"{where}: secrets written with {first}", f"{where_zh}：Secret以{first}加密写入",
                      details={"secrets_providers": provs})
    return failed(f"{where}: unrecognised first provider {first!r} for secrets",
                  f"{where_zh}：secrets的第一个provider“{first}”无法识别", details={"secrets_providers": provs})


@check(
    id="k8s.ingress.tls",
    high_risk=[{"case": "6.4.5.1",
                "basis": "hosts served over plain HTTP"}],
    title_en="Ingresses terminate TLS for every host", title_zh="Ingress 对所有域名启用 TLS",
    controls={1: ["L1-CNS1-01"], 2: ["L2-CNS1-03"], 3: ["L3-CNS1-06", "L3-CNS1-07"]},
    asset_type="k8s.ingress",
    remediation="Add spec.tls entries (with a certificate Secret) covering every host of the Ingress.",
    remediation_zh="添加覆盖该Ingress所有域名的spec.tls条目（及证书Secret）。",
    severity="high",
)
def ingress_tls(asset, ctx: CheckContext):
    if ctx.need(asset, "tls"):
        hosts = asset.attributes.get('hosts') or []
        return passed(f"TLS for {', '.join(hosts)}", f"已对{'、'.join(hosts) or '所有域名'}启用TLS")
    missing = asset.attributes.get("hosts_without_tls") or asset.attributes.get("hosts") or []
    return failed(f"plain HTTP for {', '.join(missing)}", f"以明文HTTP提供服务：{'、'.join(missing)}", details={"hosts": missing})


@check(
    id="k8s.apiserver.tls_min_version",
    title_en="API server refuses TLS versions below the profile minimum", title_zh="API 服务器最低 TLS 版本满足要求",
    controls={2: ["L2-CES1-03"], 3: ["L3-CES1-03", "L3-CNS1-07"]},
    asset_type="k8s.cluster",
    params=["min_tls_version"],
    remediation="Set --tls-min-version=VersionTLS12 (or VersionTLS13) on kube-apiserver.",
    remediation_zh="为kube-apiserver设置--tls-min-version=VersionTLS12（或VersionTLS13）。",
)
@per_apiserver
def tls_min_version(asset, ctx: CheckContext):
    api = ctx.need(asset, "api_server")
    want = float(ctx.profile.min_tls_version.replace("TLSv", ""))
    flag = api.get("tls_min_version")
    have = _TLS.get(flag or "", None)
    if flag is None:
        # kube-apiserver's default (Go crypto/tls server default) is TLS 1.2 since Go 1.18 / Kubernetes 1.24
        have, how, how_zh = 1.2, "not set (server default TLS 1.2)", "--tls-min-version未设置（服务器默认TLS 1.2）"
    else:
        how = how_zh = f"--tls-min-version={flag}"
    if have is None:
        return failed(f"unrecognised {how}", f"无法识别的{how_zh}")
    if have >= want:
        return passed(how, f"最低TLS版本满足要求：{how_zh}")
    return failed(f"{how} is below {ctx.profile.min_tls_version}", f"{how_zh}，低于{ctx.profile.min_tls_version}")


@check(
    id="k8s.workload.secret_env",
    title_en="Secrets are mounted as files, not exposed in environment variables",
    title_zh="Secret 以文件挂载而非环境变量方式使用",
    controls={3: ["L3-CES1-28"]},
    asset_type="k8s.workload",
    remediation="Mount the Secret as a read-only volume and read it from the file; environment variables leak "
                "into logs, crash dumps and child processes.",
    remediation_zh="将Secret挂载为只读卷并从文件读取；环境变量会泄露到日志、崩溃转储和子进程中。",
)
def secret_env(asset, ctx: CheckContext):
    env = ctx.need(asset, "secret_env")
    if env:
        return failed(f"{len(env)} Secret reference(s) in environment variables: {'; '.join(env)}",
                      f"环境变量中引用了{len(env)}处Secret：{'；'.join(env)}", details={"secret_env": env})
    vols = asset.attributes.get("secret_volumes") or []
    return passed("no Secret in environment variables" + (f"; mounted as files: {', '.join(vols)}" if vols else ""),
                  "环境变量中未引用Secret" + (f"；以文件挂载：{'、'.join(vols)}" if vols else ""))
