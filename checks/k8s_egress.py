"""Outbound traffic from Kubernetes pods: a namespace restricts egress when a NetworkPolicy with policy type
Egress selects every pod in it and no policy opens egress to anywhere (GB/T 22239 8.1.3.1 c: unauthorised
outbound connections are checked or restricted). Without one, any pod can reach any address, inside the
cluster or on the internet."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, passed


@check(
    id="k8s.namespace.egress_control",
    title_en="Every namespace restricts its pods' outbound traffic (egress NetworkPolicy)",
    title_zh="每个命名空间限制Pod的出站流量（出站网络策略）",
    controls={3: ["L3-ABS1-03"]},
    asset_type="k8s.namespace",
    reads=["k8s.networkpolicy"],
    shows={"L3-ABS1-03": ("in the cluster, outbound connections of pods are restricted: an Egress NetworkPolicy "
                          "selects every pod of the namespace and none opens egress to any address",
                          "集群中Pod的出站连接受到限制：出站网络策略选中命名空间内全部Pod，且没有策略对任意地址开放出站")},
    remediation="Add a NetworkPolicy with an empty podSelector and policyTypes [Egress] (default deny), then allow "
                "the destinations the namespace needs (DNS, its services, named external addresses).",
    remediation_zh="添加podSelector为空、policyTypes为[Egress]的网络策略（默认拒绝），再放行该命名空间所需的目的地（DNS、其服务、指定外部地址）。",
)
def egress_control(asset, ctx: CheckContext):
    isolated = ctx.need(asset, "egress_isolated")
    a = asset.attributes
    n = a.get("egress_policies", 0)
    opened = a.get("egress_open_policies") or []
    if not isolated:
        return failed(f"no egress NetworkPolicy selects every pod ({n} egress polic{'y' if n == 1 else 'ies'}): pods may "
                      "connect to any address, inside the cluster or outside",
                      f"没有选中全部Pod的出站网络策略（出站策略{n}条）：Pod可连接集群内外任意地址")
    if opened:
        return failed(f"egress open to anywhere through {', '.join(opened)}", f"出站流量经{'、'.join(opened)}对任意地址开放",
                      details={"open_policies": opened})
    return passed(f"egress restricted for every pod ({n} egress polic{'y' if n == 1 else 'ies'})",
                  f"所有Pod的出站流量均受限制（出站策略{n}条）")
