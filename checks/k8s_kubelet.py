"""Each node's kubelet, from its configuration as the kubelet reports it (`/api/v1/nodes/{node}/proxy/configz`,
read only when the target opts in with `kubelet_config: true`): anonymous requests, authorisation mode,
the unauthenticated read-only port, certificate rotation and the minimum TLS version.

Without the opt-in (or from a kubectl dump) the node's `kubelet` facts are missing and every check here says
`error` naming what to supply; a setting the configz answer lacks is `error` too, never a pass."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, EvidenceMissing, check, failed, passed


_TLS = {"VersionTLS10": 1.0, "VersionTLS11": 1.1, "VersionTLS12": 1.2, "VersionTLS13": 1.3}


def _setting(kubelet: dict, key: str, shown: str):
    if kubelet.get(key) is None:
        raise EvidenceMissing(f"kubelet configuration: the configz answer has no {shown}", f"kubelet配置：configz应答中没有{shown}")
    return kubelet[key]


@check(
    id="k8s.kubelet.anonymous_auth",
    title_en="Kubelets reject anonymous requests", title_zh="kubelet禁用匿名访问",
    high_risk=[{"case": "6.4.1.1", "basis": "the kubelet serves requests that carry no identity: no authentication "
                                            "of who calls it (what system:anonymous may do is the question)"}],
    controls={1: ["L1-CES1-01", "L1-CES1-04"], 2: ["L2-CES1-01", "L2-CES1-05"], 3: ["L3-CES1-01", "L3-CES1-06"]},
    asset_type="k8s.node",
    remediation="Set authentication.anonymous.enabled: false in the kubelet configuration (--anonymous-auth=false) "
                "and restart the kubelet.",
    remediation_zh="在kubelet配置中设置authentication.anonymous.enabled: false（--anonymous-auth=false）并重启kubelet。",
    severity="high",
)
def kubelet_anonymous_auth(asset, ctx: CheckContext):
    k = ctx.need(asset, "kubelet")
    if _setting(k, "anonymous_auth", "authentication.anonymous.enabled"):
        return failed("kubelet accepts anonymous requests (authentication.anonymous.enabled: true)",
                      "kubelet接受匿名请求（authentication.anonymous.enabled: true）")
    return passed("kubelet rejects anonymous requests (authentication.anonymous.enabled: false)",
                  "kubelet拒绝匿名请求（authentication.anonymous.enabled: false）")


@check(
    id="k8s.kubelet.authorization",
    title_en="Kubelets authorise requests through the API server (Webhook, not AlwaysAllow)",
    high_risk=[{"case": "6.4.2.2", "basis": "the kubelet lets every request through, or does not check bearer tokens: "
                                            "exec, logs and pod specs on the node without authorisation"}],
    title_zh="kubelet通过API服务器授权请求（Webhook，而非AlwaysAllow）",
    controls={1: ["L1-CES1-03"], 2: ["L2-CES1-04"], 3: ["L3-CES1-05"]},
    asset_type="k8s.node",
    remediation="Set authorization.mode: Webhook and authentication.webhook.enabled: true in the kubelet configuration.",
    remediation_zh="在kubelet配置中设置authorization.mode: Webhook和authentication.webhook.enabled: true。",
    severity="high",
)
def kubelet_authorization(asset, ctx: CheckContext):
    k = ctx.need(asset, "kubelet")
    mode = _setting(k, "authorization_mode", "authorization.mode")
    if mode != "Webhook":
        return failed(f"authorization.mode: {mode}: every request that reaches the kubelet is allowed",
                      f"authorization.mode: {mode}：到达kubelet的所有请求都被放行")
    if k.get("webhook_authentication") is not True:
        return failed("authorization.mode: Webhook, but authentication.webhook.enabled is not true (bearer tokens "
                      "are not checked with the API server)",
                      "authorization.mode为Webhook，但authentication.webhook.enabled不为true（不向API服务器校验令牌）")
    return passed("authorization.mode: Webhook with webhook authentication", "authorization.mode为Webhook，并启用Webhook认证")


@check(
    id="k8s.kubelet.read_only_port",
    title_en="Kubelets do not serve the unauthenticated read-only port", title_zh="kubelet关闭未认证的只读端口",
    high_risk=[{"case": "6.4.3.1", "basis": "the kubelet's unauthenticated read-only port serves pods, specs and "
                                            "metrics (whether it is reachable is the question)"}],
    controls={1: ["L1-CES1-07"], 2: ["L2-CES1-12"], 3: ["L3-CES1-18"]},
    asset_type="k8s.node",
    remediation="Set readOnlyPort: 0 in the kubelet configuration (--read-only-port=0).",
    remediation_zh="在kubelet配置中设置readOnlyPort: 0（--read-only-port=0）。",
    severity="high",
)
def kubelet_read_only_port(asset, ctx: CheckContext):
    port = _setting(ctx.need(asset, "kubelet"), "read_only_port", "readOnlyPort")
    if port:
        return failed(f"read-only port {port} open: pods, specs and metrics served without authentication",
                      f"只读端口{port}已开放：无需认证即可获取Pod、配置和指标")
    return passed("readOnlyPort: 0 (closed)", "readOnlyPort为0（已关闭）")


@check(
    id="k8s.kubelet.certificate_rotation",
    title_en="Kubelets rotate their client and serving certificates", title_zh="kubelet轮换其客户端和服务端证书",
    controls={2: ["L2-CES1-03"], 3: ["L3-CES1-03", "L3-CES1-27"]},
    asset_type="k8s.node",
    remediation="Set rotateCertificates: true and serverTLSBootstrap: true in the kubelet configuration, and approve "
                "the kubelet serving CSRs.",
    remediation_zh="在kubelet配置中设置rotateCertificates: true和serverTLSBootstrap: true，并批准kubelet服务端证书签名请求。",
)
def kubelet_certificate_rotation(asset, ctx: CheckContext):
    k = ctx.need(asset, "kubelet")
    client = k.get("rotate_certificates") is True
    serving = k.get("server_tls_bootstrap") is True
    if client and serving:
        return passed("client certificate rotation and serving certificates from the cluster CA (serverTLSBootstrap)",
                      "已启用客户端证书轮换，服务端证书由集群CA签发（serverTLSBootstrap）")
    en = [x for x, ok in (("rotateCertificates is not true", client), ("serverTLSBootstrap is not true (self-signed "
                                                                        "serving certificate, never rotated)", serving))
          if not ok]
    zh = [x for x, ok in (("rotateCertificates不为true", client), ("serverTLSBootstrap不为true（自签名服务端证书，不会轮换）", serving))
          if not ok]
    return failed("; ".join(en), "；".join(zh))


@check(
    id="k8s.kubelet.tls_min_version",
    title_en="Kubelets refuse TLS versions below the profile minimum", title_zh="kubelet最低TLS版本满足要求",
    controls={2: ["L2-CES1-03"], 3: ["L3-CES1-03", "L3-CNS1-07"]},
    asset_type="k8s.node",
    params=["min_tls_version"],
    remediation="Set tlsMinVersion: VersionTLS12 (or VersionTLS13) in the kubelet configuration.",
    remediation_zh="在kubelet配置中设置tlsMinVersion: VersionTLS12（或VersionTLS13）。",
)
def kubelet_tls_min_version(asset, ctx: CheckContext):
    flag = ctx.need(asset, "kubelet").get("tls_min_version")
    want = float(ctx.profile.min_tls_version.replace("TLSv", ""))
    if flag is None:  # the kubelet's default is Go's server default: TLS 1.2
        have, how, how_zh = 1.2, "tlsMinVersion not set (default TLS 1.2)", "未设置tlsMinVersion（默认TLS 1.2）"
    else:
        have, how, how_zh = _TLS.get(flag), f"tlsMinVersion: {flag}", f"tlsMinVersion: {flag}"
    if have is None:
        return failed(f"unrecognised {how}", f"无法识别的{how_zh}")
    if have >= want:
        return passed(how, f"已满足：{how_zh}")
    return failed(f"{how} is below {ctx.profile.min_tls_version}", f"{how_zh}低于{ctx.profile.min_tls_version}")
