"""Kubernetes boundary and intrusion prevention: default-deny NetworkPolicies per namespace, Services
exposed outside the cluster, privileged and host-namespace workloads, images from untrusted registries or
mutable tags.

Workloads in kube-system are platform components (kube-proxy, CNI, CSI) that need host access by design:
the workload checks report them as not applicable, with the reason, rather than failing every cluster.
"""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, not_applicable, passed

SYSTEM_NAMESPACES = {"kube-system"}
DANGEROUS_CAPS = {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "NET_RAW", "BPF",
                  "SYS_RAWIO", "SYS_BOOT"}


def _system(asset) -> bool:
    return asset.attributes.get("namespace") in SYSTEM_NAMESPACES


@check(
    id="k8s.namespace.default_deny",
    title_en="Every namespace has a default-deny NetworkPolicy", title_zh="每个命名空间配置默认拒绝的网络策略",
    controls={1: ["L1-ABS1-02"], 2: ["L2-ABS1-02", "L2-CNS1-02"], 3: ["L3-ABS1-05", "L3-CNS1-04"]},
    asset_type="k8s.namespace",
    reads=["k8s.networkpolicy"],
    remediation="Add a NetworkPolicy with an empty podSelector and policyTypes [Ingress, Egress] and no rules, "
                "then allow the flows the namespace needs.",
    remediation_zh="添加podSelector为空、policyTypes为[Ingress, Egress]且不含规则的NetworkPolicy，再逐项放行该命名空间需要的流量。",
    severity="high",
)
def default_deny(asset, ctx: CheckContext):
    if ctx.need(asset, "default_deny"):
        return passed("default-deny NetworkPolicy present", "已配置默认拒绝的NetworkPolicy")
    n = asset.attributes.get("network_policies", 0)
    return failed(f"no default-deny NetworkPolicy ({n} other polic{'y' if n == 1 else 'ies'}): pods accept traffic from anywhere",
                  f"没有默认拒绝的NetworkPolicy（另有{n}条其他策略）：Pod接受来自任何地方的流量")


_PUBLIC_WEB_PORTS = {443}


@check(
    id="k8s.service.exposure",
    title_en="Services are not exposed outside the cluster without restriction",
    title_zh="服务不无限制地暴露到集群外",
    controls={1: ["L1-ABS1-01"], 2: ["L2-ABS1-01", "L2-CNS1-02"], 3: ["L3-ABS1-01", "L3-CNS1-04"]},
    asset_type="k8s.service",
    remediation="Use ClusterIP Services behind an Ingress; restrict LoadBalancers with loadBalancerSourceRanges or "
                "an internal load balancer; avoid NodePort and externalIPs.",
    remediation_zh="在Ingress之后使用ClusterIP类型的Service；用loadBalancerSourceRanges或内部负载均衡器限制LoadBalancer；"
                   "避免使用NodePort和externalIPs。",
)
def service_exposure(asset, ctx: CheckContext):
    a = asset.attributes
    typ = ctx.need(asset, "service_type")
    ports = ",".join(str(p.get("port")) for p in a.get("ports") or [])
    if a.get("external_ips"):
        return failed(f"externalIPs {', '.join(a['external_ips'])} on port(s) {ports}",
                      f"在端口{ports}上配置了externalIPs {'、'.join(a['external_ips'])}")
    if typ == "NodePort":
        nps = ",".join(str(p.get("node_port")) for p in a.get("ports") or [])
        return failed(f"NodePort: port(s) {nps} open on every node, bypassing the boundary",
                      f"NodePort：端口{nps}在每个节点上开放，绕过了边界防护")
    if typ == "LoadBalancer":
        if a.get("internal_load_balancer"):
            return passed(f"internal load balancer on port(s) {ports}", f"内部负载均衡器，端口{ports}")
        ranges = a.get("source_ranges") or []
        if ranges and not any(r in ("0.0.0.0/0", "::/0") for r in ranges):
            return passed(f"load balancer restricted to {', '.join(ranges)}", f"负载均衡器仅允许{'、'.join(ranges)}访问")
        port_set = {p.get("port") for p in a.get("ports") or []}
        if port_set and port_set <= _PUBLIC_WEB_PORTS:
            # a shop's public HTTPS front door is the controlled boundary interface, not a finding
            return passed(f"public HTTPS entry point on port(s) {ports}; confirm it is fronted by a WAF/ingress policy",
                          f"端口{ports}上的公网HTTPS入口；请确认其前端部署了WAF/Ingress策略")
        return failed(f"public load balancer on port(s) {ports} open to any source", f"公网负载均衡器端口{ports}对任意来源开放")
    return passed(f"{typ}: reachable inside the cluster only", f"{typ}：仅集群内可访问")


@check(
    id="k8s.workload.host_isolation",
    high_risk=[{"case": "6.4.2.2", "when": {"privileged": True},
                "basis": "a privileged container runs with the node's superuser rights"},
               {"case": "6.4.2.2", "when": {"host_pid": True},
                "basis": "a container in the node's process namespace can act on the node's processes"},
               {"case": "6.4.2.2", "when": {"host_path_volumes": {"nonempty": True}},
                "basis": "a container mounting the node's filesystem reaches beyond its rights"},
               {"case": "6.4.2.2", "when": {"capabilities": {"nonempty": True}},
                "basis": "a container with dangerous capabilities (SYS_ADMIN...) holds superuser rights"}],
    title_en="Workloads are not privileged and do not share the host's namespaces or filesystem",
    title_zh="工作负载非特权且不共享宿主机命名空间和文件系统",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08", "L3-CES1-11"]},
    asset_type="k8s.workload",
    remediation="Remove privileged, hostNetwork/hostPID/hostIPC, hostPath volumes and added capabilities; "
                "enforce the Pod Security Admission 'restricted' (or 'baseline') level on the namespace.",
    remediation_zh="去掉privileged、hostNetwork/hostPID/hostIPC、hostPath卷和额外添加的capabilities；"
                   "在命名空间上强制执行Pod安全准入的restricted（或baseline）级别。",
    severity="high",
)
def host_isolation(asset, ctx: CheckContext):
    a = asset.attributes
    if _system(asset):
        return not_applicable("platform component in kube-system (host access by design; review with the platform)",
                              "kube-system中的平台组件（按设计需要访问宿主机；请与平台方一并复核）")
    issues, issues_zh = [], []
    privileged = bool(ctx.need(asset, "privileged"))
    if privileged:
        issues.append("privileged container")
        issues_zh.append("特权容器")
    for key, label in (("host_network", "hostNetwork"), ("host_pid", "hostPID"), ("host_ipc", "hostIPC")):
        if ctx.need(asset, key):
            issues.append(label)
            issues_zh.append(f"共享宿主机命名空间（{label}）")
    if a.get("host_path_volumes"):
        issues.append("hostPath " + ", ".join(a["host_path_volumes"]))
        issues_zh.append("挂载宿主机路径hostPath " + "、".join(a["host_path_volumes"]))
    caps = sorted(set(a.get("capabilities_added") or []) & DANGEROUS_CAPS)
    if caps:
        issues.append("capabilities " + ", ".join(caps))
        issues_zh.append("危险的capabilities " + "、".join(caps))
    if issues:
        return failed("; ".join(issues), "；".join(issues_zh), details={
            "issues": issues, "privileged": privileged, "host_pid": bool(a.get("host_pid")),
            "host_path_volumes": list(a.get("host_path_volumes") or []), "capabilities": caps})
    return passed("no privileged container, host namespace, hostPath or dangerous capability",
                  "无特权容器、宿主机命名空间、hostPath或危险capabilities")


@check(
    id="k8s.workload.run_as_non_root",
    title_en="Containers run as non-root", title_zh="容器以非 root 用户运行",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08"]},
    asset_type="k8s.workload",
    remediation="Set securityContext.runAsNonRoot: true (and a non-zero runAsUser) on the pod or every container.",
    remediation_zh="在Pod或每个容器上设置securityContext.runAsNonRoot: true（以及非0的runAsUser）。",
)
def run_as_non_root(asset, ctx: CheckContext):
    if _system(asset):
        return not_applicable("platform component in kube-system", "kube-system中的平台组件")
    if ctx.need(asset, "run_as_non_root"):
        return passed("every container runs as non-root", "所有容器均以非root用户运行")
    return failed("runAsNonRoot not enforced: containers may run as root", "未强制runAsNonRoot：容器可能以root运行")


@check(
    id="k8s.workload.images",
    title_en="Images come from trusted registries with immutable tags", title_zh="镜像来自可信仓库且使用固定版本",
    controls={1: ["L1-CES1-06"], 2: ["L2-CES1-11"], 3: ["L3-CES1-17"]},
    asset_type="k8s.workload",
    params=["trusted_registries"],
    remediation="Pull images from the organisation's registry (profile trusted_registries) by version tag or digest; "
                "never ':latest' or untagged.",
    remediation_zh="从单位自己的镜像仓库（配置trusted_registries）按版本标签或摘要拉取镜像；不得使用':latest'或不带标签。",
)
def images(asset, ctx: CheckContext):
    imgs = ctx.need(asset, "images")
    tags = asset.attributes.get("image_tags") or {}
    mutable = [i for i in imgs if tags.get(i) in (None, "latest")]
    trusted = ctx.profile.trusted_registries
    untrusted = []
    if trusted:
        untrusted = [i for i in imgs if not any(i == t or i.startswith(t.rstrip("/") + "/") for t in trusted)]
    issues = [f"mutable tag: {i}" for i in mutable] + [f"untrusted registry: {i}" for i in untrusted]
    issues_zh = [f"可变标签：{i}" for i in mutable] + [f"不可信的镜像仓库：{i}" for i in untrusted]
    if issues:
        return failed("; ".join(issues), "；".join(issues_zh), details={"mutable": mutable, "untrusted": untrusted})
    where = f"trusted registries ({', '.join(trusted)})" if trusted else "no trusted_registries in the profile: registry not judged"
    where_zh = f"来自可信仓库（{'、'.join(trusted)}）" if trusted else "配置中未设置trusted_registries：未判断镜像仓库"
    return passed(f"{len(imgs)} image(s) pinned; {where}", f"{len(imgs)}个镜像均使用固定版本；{where_zh}")


@check(
    id="k8s.namespace.pod_security",
    title_en="Namespaces enforce a Pod Security Admission level (baseline or restricted)",
    title_zh="命名空间强制执行 Pod 安全准入级别",
    controls={3: ["L3-CES1-11"]},
    asset_type="k8s.namespace",
    remediation="Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline where a workload "
                "needs it).",
    remediation_zh="为命名空间添加标签pod-security.kubernetes.io/enforce=restricted（工作负载确有需要时用baseline）。",
)
def pod_security(asset, ctx: CheckContext):
    if asset.name in SYSTEM_NAMESPACES:
        return not_applicable("kube-system runs platform components that need privileges", "kube-system运行需要特权的平台组件")
    level = ctx.need(asset, "pod_security")
    if level in ("restricted", "baseline"):
        return passed(f"Pod Security Admission enforces {level}", f"Pod安全准入强制执行{level}级别")
    return failed(f"Pod Security Admission enforce level is {level or 'not set (privileged)'}",
                  f"Pod安全准入强制级别为{level or '未设置（privileged）'}")
