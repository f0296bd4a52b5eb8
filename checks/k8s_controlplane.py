"""The control plane instance by instance: how kube-apiserver reaches etcd, etcd's client and peer TLS with
client-certificate authentication, the controller manager's per-controller credentials, and whether the
controller manager and scheduler expose their secure port and profiling endpoint beyond the node.

Reads the `k8s.controlplane.*` assets (one per static pod in kube-system, naming its node); the
kube-apiserver's etcd settings are judged on the cluster for every instance (`@per_apiserver`). Managed
control planes (EKS) hide these components: the etcd, controller-manager and scheduler checks are not
applicable there, and the kube-apiserver's etcd settings are `error` for the assessor to confirm."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, passed

from ._k8s_instances import per_apiserver

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _plain(urls) -> list[str]:
    return [u for u in urls or [] if str(u).startswith("http://")]


@check(
    id="k8s.apiserver.etcd_tls",
    title_en="API server reaches etcd over TLS with a client certificate", title_zh="API服务器通过TLS和客户端证书访问etcd",
    high_risk=[{"case": "6.4.5.1", "when": {"plaintext": {"nonempty": True}},
                "basis": "the API server sends the cluster's state, Secrets included, to etcd in clear; TLS without a "
                         "client certificate is not data in clear"}],
    controls={1: ["L1-CES1-10"], 2: ["L2-CES1-18"], 3: ["L3-CES1-25", "L3-CES1-27"]},
    asset_type="k8s.cluster",
    remediation="Point --etcd-servers at https:// URLs and set --etcd-certfile, --etcd-keyfile and --etcd-cafile on "
                "every kube-apiserver.",
    remediation_zh="在每个kube-apiserver上将--etcd-servers设为https://地址，并设置--etcd-certfile、--etcd-keyfile和--etcd-cafile。",
    severity="high",
)
@per_apiserver
def apiserver_etcd_tls(asset, ctx: CheckContext):
    api = ctx.need(asset, "api_server")
    servers = api.get("etcd_servers") or []
    if not servers:
        return failed("no --etcd-servers on the command line: how it reaches etcd is not shown",
                      "命令行中没有--etcd-servers：无法确认其如何访问etcd")
    plain = _plain(servers)
    if plain:
        return failed(f"talks to etcd in plain text: {', '.join(plain)}", f"以明文访问etcd：{', '.join(plain)}",
                      details={"plaintext": plain})
    missing = [flag for flag, key in (("--etcd-certfile", "etcd_certfile"), ("--etcd-keyfile", "etcd_keyfile"),
                                      ("--etcd-cafile", "etcd_cafile")) if not api.get(key)]
    if missing:
        return failed(f"etcd over TLS but {', '.join(missing)} not set: no client certificate or no server verification",
                      f"通过TLS访问etcd，但未设置{'、'.join(missing)}：缺少客户端证书或未校验服务端",
                      details={"plaintext": [], "missing": missing})
    return passed(f"etcd over TLS ({', '.join(servers)}) with client certificate {api['etcd_certfile']} and CA "
                  f"{api['etcd_cafile']}",
                  f"通过TLS（{', '.join(servers)}）并使用客户端证书{api['etcd_certfile']}和CA {api['etcd_cafile']}访问etcd")


def _in_clear(e: dict, prefix: str) -> bool:
    """One side of etcd talks in clear: no certificate and key, or a plain-text listener."""
    return (not e.get(f"{prefix}cert_file") or not e.get(f"{prefix}key_file")
            or bool(_plain(e.get(f"listen_{prefix or 'client_'}urls"))))


def _tls_issues(e: dict, prefix: str) -> tuple[list[str], list[str]]:
    """What is missing for one side of etcd (prefix "" for clients, "peer_" for the other members)."""
    flag = "--peer-" if prefix else "--"
    en, zh = [], []
    if not e.get(f"{prefix}cert_file") or not e.get(f"{prefix}key_file"):
        en.append(f"no {flag}cert-file/{flag}key-file (plain-text connections)")
        zh.append(f"未设置{flag}cert-file/{flag}key-file（明文连接）")
    plain = _plain(e.get(f"listen_{prefix or 'client_'}urls"))
    if plain:
        en.append(f"plain-text listener(s) {', '.join(plain)}")
        zh.append(f"明文监听地址{', '.join(plain)}")
    if e.get(f"{prefix}auto_tls"):
        en.append(f"{flag}auto-tls=true (self-signed certificates)")
        zh.append(f"{flag}auto-tls=true（自签名证书）")
    if e.get(f"{prefix}client_cert_auth") is not True:
        en.append(f"{flag}client-cert-auth not true (any {'member' if prefix else 'client'} that reaches it is trusted)")
        zh.append(f"未将{flag}client-cert-auth设为true（任何可连接的{'成员' if prefix else '客户端'}均被信任）")
    if not e.get(f"{prefix}trusted_ca_file"):
        en.append(f"no {flag}trusted-ca-file")
        zh.append(f"未设置{flag}trusted-ca-file")
    return en, zh


@check(
    id="k8s.etcd.client_tls",
    title_en="etcd serves clients over TLS and authenticates them by certificate",
    title_zh="etcd对客户端使用TLS并以证书认证客户端",
    controls={1: ["L1-CES1-01", "L1-CES1-10"], 2: ["L2-CES1-01", "L2-CES1-18"], 3: ["L3-CES1-01", "L3-CES1-25", "L3-CES1-27"]},
    asset_type="k8s.controlplane.etcd",
    high_risk=[{"case": "6.4.5.1", "when": {"plaintext": True},
                "basis": "etcd serves the cluster's state, Secrets included, to clients in clear"},
               {"case": "6.4.1.1", "when": {"unauthenticated": True},
                "basis": "etcd trusts any client that reaches it: no authentication of who reads or writes the "
                         "cluster's state"}],
    remediation="Start etcd with --cert-file, --key-file, --client-cert-auth=true and --trusted-ca-file, https:// "
                "--listen-client-urls, and without --auto-tls.",
    remediation_zh="以--cert-file、--key-file、--client-cert-auth=true和--trusted-ca-file启动etcd，--listen-client-urls使用https://，且不使用--auto-tls。",
    severity="high",
)
def etcd_client_tls(asset, ctx: CheckContext):
    e = ctx.need(asset, "etcd")
    en, zh = _tls_issues(e, "")
    node = asset.attributes.get("node")
    if en:
        return failed(f"etcd on node {node}: {'; '.join(en)}", f"节点{node}上的etcd：{'；'.join(zh)}", details={
            "issues": en, "plaintext": _in_clear(e, ""), "unauthenticated": e.get("client_cert_auth") is not True})
    return passed(f"etcd on node {node}: clients over TLS ({e.get('cert_file')}), client certificates required "
                  f"(CA {e.get('trusted_ca_file')})",
                  f"节点{node}上的etcd：客户端通过TLS连接（{e.get('cert_file')}），并要求客户端证书（CA {e.get('trusted_ca_file')}）")


@check(
    id="k8s.etcd.peer_tls",
    title_en="etcd members talk to each other over TLS with certificate authentication",
    title_zh="etcd成员之间使用TLS并以证书相互认证",
    controls={1: ["L1-CES1-10"], 2: ["L2-CES1-18"], 3: ["L3-CES1-25", "L3-CES1-27"]},
    asset_type="k8s.controlplane.etcd",
    high_risk=[{"case": "6.4.5.1", "when": {"plaintext": True},
                "basis": "etcd members replicate the cluster's state, Secrets included, in clear"}],
    remediation="Start etcd with --peer-cert-file, --peer-key-file, --peer-client-cert-auth=true and "
                "--peer-trusted-ca-file, https:// --listen-peer-urls, and without --peer-auto-tls.",
    remediation_zh="以--peer-cert-file、--peer-key-file、--peer-client-cert-auth=true和--peer-trusted-ca-file启动etcd，"
                   "--listen-peer-urls使用https://，且不使用--peer-auto-tls。",
    severity="high",
)
def etcd_peer_tls(asset, ctx: CheckContext):
    e = ctx.need(asset, "etcd")
    en, zh = _tls_issues(e, "peer_")
    node = asset.attributes.get("node")
    if en:
        return failed(f"etcd on node {node}: {'; '.join(en)}", f"节点{node}上的etcd：{'；'.join(zh)}",
                      details={"issues": en, "plaintext": _in_clear(e, "peer_")})
    return passed(f"etcd on node {node}: peers over TLS ({e.get('peer_cert_file')}) with peer certificates required",
                  f"节点{node}上的etcd：成员间通过TLS连接（{e.get('peer_cert_file')}），并要求成员证书")


@check(
    id="k8s.controller_manager.service_account_credentials",
    title_en="Controller manager runs each controller with its own service-account credentials",
    title_zh="控制器管理器为每个控制器使用独立的服务账户凭据",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08"]},
    asset_type="k8s.controlplane.controller_manager",
    remediation="Start kube-controller-manager with --use-service-account-credentials=true, "
                "--service-account-private-key-file and --root-ca-file.",
    remediation_zh="以--use-service-account-credentials=true、--service-account-private-key-file和--root-ca-file启动kube-controller-manager。",
)
def controller_credentials(asset, ctx: CheckContext):
    f = ctx.need(asset, "controller_manager")
    node = asset.attributes.get("node")
    en, zh = [], []
    if f.get("use_service_account_credentials") is not True:
        en.append("--use-service-account-credentials not true (every controller acts with the manager's own, broad rights)")
        zh.append("未将--use-service-account-credentials设为true（所有控制器共用控制器管理器自身的宽泛权限）")
    if not f.get("service_account_private_key_file"):
        en.append("no --service-account-private-key-file (ServiceAccount tokens not signed with a dedicated key)")
        zh.append("未设置--service-account-private-key-file（服务账户令牌未使用专用密钥签名）")
    if not f.get("root_ca_file"):
        en.append("no --root-ca-file (pods cannot verify the API server)")
        zh.append("未设置--root-ca-file（Pod无法校验API服务器）")
    if en:
        return failed(f"kube-controller-manager on node {node}: {'; '.join(en)}",
                      f"节点{node}上的kube-controller-manager：{'；'.join(zh)}", details={"issues": en})
    return passed(f"kube-controller-manager on node {node}: per-controller service-account credentials, signing key "
                  "and root CA set", f"节点{node}上的kube-controller-manager：各控制器使用独立服务账户凭据，已设置签名密钥和根CA")


def _secure_serving(asset, ctx: CheckContext, key: str, component: str):
    f = ctx.need(asset, key)
    node = asset.attributes.get("node")
    en, zh = [], []
    bind = f.get("bind_address")
    if bind not in LOOPBACK:
        shown = f"--bind-address={bind}" if bind else "--bind-address not set (0.0.0.0)"
        en.append(f"{shown}: its port listens on every interface")
        zh.append(f"{shown}：其端口在所有网卡上监听")
    if f.get("profiling") is not False:
        en.append("--profiling not false: the /debug/pprof profiling endpoint is served")
        zh.append("未将--profiling设为false：提供/debug/pprof性能分析接口")
    if en:
        return failed(f"{component} on node {node}: {'; '.join(en)}", f"节点{node}上的{component}：{'；'.join(zh)}",
                      details={"issues": en})
    return passed(f"{component} on node {node}: bound to {bind}, profiling off",
                  f"节点{node}上的{component}：仅绑定{bind}，已关闭性能分析")


@check(
    id="k8s.controller_manager.secure_serving",
    title_en="Controller manager listens on loopback only, without profiling", title_zh="控制器管理器仅在本地回环监听且关闭性能分析",
    controls={1: ["L1-CES1-07"], 2: ["L2-CES1-12"], 3: ["L3-CES1-18"]},
    asset_type="k8s.controlplane.controller_manager",
    remediation="Start kube-controller-manager with --bind-address=127.0.0.1 and --profiling=false.",
    remediation_zh="以--bind-address=127.0.0.1和--profiling=false启动kube-controller-manager。",
)
def controller_secure_serving(asset, ctx: CheckContext):
    return _secure_serving(asset, ctx, "controller_manager", "kube-controller-manager")


@check(
    id="k8s.scheduler.secure_serving",
    title_en="Scheduler listens on loopback only, without profiling", title_zh="调度器仅在本地回环监听且关闭性能分析",
    controls={1: ["L1-CES1-07"], 2: ["L2-CES1-12"], 3: ["L3-CES1-18"]},
    asset_type="k8s.controlplane.scheduler",
    remediation="Start kube-scheduler with --bind-address=127.0.0.1 and --profiling=false.",
    remediation_zh="以--bind-address=127.0.0.1和--profiling=false启动kube-scheduler。",
)
def scheduler_secure_serving(asset, ctx: CheckContext):
    return _secure_serving(asset, ctx, "scheduler", "kube-scheduler")
