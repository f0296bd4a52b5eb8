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
    severity="high",
)
def default_deny(asset, ctx: CheckContext):
    if ctx.need(asset, "default_deny"):
        return passed("default-deny NetworkPolicy present")
    n = asset.attributes.get("network_policies", 0)
    return failed(f"no default-deny NetworkPolicy ({n} other polic{'y' if n == 1 else 'ies'}): pods accept traffic from anywhere")


_PUBLIC_WEB_PORTS = {443}


@check(
    id="k8s.service.exposure",
    title_en="Services are not exposed outside the cluster without restriction",
    title_zh="服务不无限制地暴露到集群外",
    controls={1: ["L1-ABS1-01"], 2: ["L2-ABS1-01", "L2-CNS1-02"], 3: ["L3-ABS1-01", "L3-CNS1-04"]},
    asset_type="k8s.service",
    remediation="Use ClusterIP Services behind an Ingress; restrict LoadBalancers with loadBalancerSourceRanges or "
                "an internal load balancer; avoid NodePort and externalIPs.",
)
def service_exposure(asset, ctx: CheckContext):
    a = asset.attributes
    typ = ctx.need(asset, "service_type")
    ports = ",".join(str(p.get("port")) for p in a.get("ports") or [])
    if a.get("external_ips"):
        return failed(f"externalIPs {', '.join(a['external_ips'])} on port(s) {ports}")
    if typ == "NodePort":
        nps = ",".join(str(p.get("node_port")) for p in a.get("ports") or [])
        return failed(f"NodePort: port(s) {nps} open on every node, bypassing the boundary")
    if typ == "LoadBalancer":
        if a.get("internal_load_balancer"):
            return passed(f"internal load balancer on port(s) {ports}")
        ranges = a.get("source_ranges") or []
        if ranges and not any(r in ("0.0.0.0/0", "::/0") for r in ranges):
            return passed(f"load balancer restricted to {', '.join(ranges)}")
        port_set = {p.get("port") for p in a.get("ports") or []}
        if port_set and port_set <= _PUBLIC_WEB_PORTS:
            # a shop's public HTTPS front door is the controlled boundary interface, not a finding
            return passed(f"public HTTPS entry point on port(s) {ports}; confirm it is fronted by a WAF/ingress policy")
        return failed(f"public load balancer on port(s) {ports} open to any source")
    return passed(f"{typ}: reachable inside the cluster only")


@check(
    id="k8s.workload.host_isolation",
    title_en="Workloads are not privileged and do not share the host's namespaces or filesystem",
    title_zh="工作负载非特权且不共享宿主机命名空间和文件系统",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08", "L3-CES1-11"]},
    asset_type="k8s.workload",
    remediation="Remove privileged, hostNetwork/hostPID/hostIPC, hostPath volumes and added capabilities; "
                "enforce the Pod Security Admission 'restricted' (or 'baseline') level on the namespace.",
    severity="high",
)
def host_isolation(asset, ctx: CheckContext):
    a = asset.attributes
    if _system(asset):
        return not_applicable("platform component in kube-system (host access by design; review with the platform)")
    issues = []
    if ctx.need(asset, "privileged"):
        issues.append("privileged container")
    for key, label in (("host_network", "hostNetwork"), ("host_pid", "hostPID"), ("host_ipc", "hostIPC")):
        if ctx.need(asset, key):
            issues.append(label)
    if a.get("host_path_volumes"):
        issues.append("hostPath " + ", ".join(a["host_path_volumes"]))
    caps = sorted(set(a.get("capabilities_added") or []) & DANGEROUS_CAPS)
    if caps:
        issues.append("capabilities " + ", ".join(caps))
    if issues:
        return failed("; ".join(issues), details={"issues": issues})
    return passed("no privileged container, host namespace, hostPath or dangerous capability")


@check(
    id="k8s.workload.run_as_non_root",
    title_en="Containers run as non-root", title_zh="容器以非 root 用户运行",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08"]},
    asset_type="k8s.workload",
    remediation="Set securityContext.runAsNonRoot: true (and a non-zero runAsUser) on the pod or every container.",
)
def run_as_non_root(asset, ctx: CheckContext):
    if _system(asset):
        return not_applicable("platform component in kube-system")
    if ctx.need(asset, "run_as_non_root"):
        return passed("every container runs as non-root")
    return failed("runAsNonRoot not enforced: containers may run as root")


@check(
    id="k8s.workload.images",
    title_en="Images come from trusted registries with immutable tags", title_zh="镜像来自可信仓库且使用固定版本",
    controls={1: ["L1-CES1-06"], 2: ["L2-CES1-11"], 3: ["L3-CES1-17"]},
    asset_type="k8s.workload",
    params=["trusted_registries"],
    remediation="Pull images from the organisation's registry (profile trusted_registries) by version tag or digest; "
                "never ':latest' or untagged.",
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
    if issues:
        return failed("; ".join(issues), details={"mutable": mutable, "untrusted": untrusted})
    where = f"trusted registries ({', '.join(trusted)})" if trusted else "no trusted_registries in the profile: registry not judged"
    return passed(f"{len(imgs)} image(s) pinned; {where}")


@check(
    id="k8s.namespace.pod_security",
    title_en="Namespaces enforce a Pod Security Admission level (baseline or restricted)",
    title_zh="命名空间强制执行 Pod 安全准入级别",
    controls={3: ["L3-CES1-11"]},
    asset_type="k8s.namespace",
    remediation="Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline where a workload "
                "needs it).",
)
def pod_security(asset, ctx: CheckContext):
    if asset.name in SYSTEM_NAMESPACES:
        return not_applicable("kube-system runs platform components that need privileges")
    level = ctx.need(asset, "pod_security")
    if level in ("restricted", "baseline"):
        return passed(f"Pod Security Admission enforces {level}")
    return failed(f"Pod Security Admission enforce level is {level or 'not set (privileged)'}")
