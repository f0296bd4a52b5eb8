"""Boundary protection on network devices a client supplies (firewall/ACL exports via the static collector).

Asset `network.firewall` attributes (see sample_inventories/acme-shop/evidence/network.yaml):
  default_action: deny|allow     what the device does with traffic no rule matches
  rules: [{name, action: allow|deny, source, destination, ports: "443" | "any", protocol: tcp|udp|any}]
  logging: true|false            whether rule hits/sessions are logged (boundary audit)
  log_destination: str|null      where the log goes (central collector)
"""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, passed

_ANY = {"any", "*", "0.0.0.0/0", "::/0", "all", ""}


def _is_any(v) -> bool:
    return v is None or str(v).strip().lower() in _ANY


@check(
    id="network.firewall.default_deny",
    high_risk=[{"case": "6.3.2.1",
                "basis": "a boundary device that allows by default (or undoes deny with an allow-all rule) has an "
                         "ineffective policy"}],
    title_en="Boundary device denies by default", title_zh="边界设备默认拒绝",
    controls={1: ["L1-ABS1-02"], 2: ["L2-ABS1-02"], 3: ["L3-ABS1-05"]},
    asset_type="network.firewall",
    remediation="Set the default policy of the boundary device to deny and allow only the traffic the business needs.",
    remediation_zh="将边界设备的默认策略设为拒绝，仅放行业务需要的流量。",
    severity="high",
)
def default_deny(asset, ctx: CheckContext):
    action = str(ctx.need(asset, "default_action")).lower()
    allow_all = [r.get("name", "?") for r in ctx.need(asset, "rules")
                 if str(r.get("action", "")).lower() == "allow" and _is_any(r.get("source"))
                 and _is_any(r.get("destination")) and _is_any(r.get("ports"))]
    if action != "deny":
        return failed(f"default action is {action!r}, not deny", f"默认动作为“{action}”，不是拒绝")
    if allow_all:
        return failed(f"default deny is undone by allow-all rule(s): {', '.join(allow_all)}",
                      f"默认拒绝被全放通规则抵消：{'、'.join(allow_all)}", details={"rules": allow_all})
    return passed("default action deny; no allow-all rule", "默认动作为拒绝；无全放通规则")


@check(
    id="network.firewall.rule_granularity",
    title_en="Boundary rules name source, destination, port and protocol",
    title_zh="访问控制规则明确源地址、目的地址、端口和协议",
    controls={1: ["L1-ABS1-04"], 2: ["L2-ABS1-04"], 3: ["L3-ABS1-07"]},
    asset_type="network.firewall",
    remediation="Replace allow rules with 'any' port or protocol by rules naming the ports and protocols used.",
    remediation_zh="将端口或协议为'any'的放行规则替换为列明实际使用端口和协议的规则。",
)
def rule_granularity(asset, ctx: CheckContext):
    loose = [r.get("name", "?") for r in ctx.need(asset, "rules")
             if str(r.get("action", "")).lower() == "allow" and (_is_any(r.get("ports")) or _is_any(r.get("protocol")))]
    if loose:
        return failed(f"{len(loose)} allow rule(s) without explicit port/protocol: {', '.join(loose)}",
                      f"{len(loose)}条放行规则未明确端口/协议：{'、'.join(loose)}", details={"rules": loose})
    return passed("every allow rule names its ports and protocol", "所有放行规则均明确了端口和协议")


@check(
    id="network.firewall.redundant_rules",
    title_en="No redundant or shadowed boundary rules", title_zh="删除多余或无效的访问控制规则",
    controls={1: ["L1-ABS1-03"], 2: ["L2-ABS1-03"], 3: ["L3-ABS1-06"]},
    asset_type="network.firewall",
    remediation="Remove duplicate rules and rules that can never match because an earlier rule covers them.",
    remediation_zh="删除重复的规则，以及因被前面的规则覆盖而永远不会命中的规则。",
    severity="low",
)
def redundant_rules(asset, ctx: CheckContext):
    seen: dict[tuple, str] = {}
    dups, dups_zh = [], []
    for r in ctx.need(asset, "rules"):
        key = tuple(str(r.get(k, "")).lower() for k in ("action", "source", "destination", "ports", "protocol"))
        if key in seen:
            dups.append(f"{r.get('name', '?')} duplicates {seen[key]}")
            dups_zh.append(f"{r.get('name', '?')}与{seen[key]}重复")
        else:
            seen[key] = r.get("name", "?")
    disabled = [r.get("name", "?") for r in ctx.need(asset, "rules") if r.get("enabled") is False]
    if dups or disabled:
        return failed("; ".join(dups + [f"{d} is disabled but kept" for d in disabled]),
                      "；".join(dups_zh + [f"{d}已禁用但仍保留" for d in disabled]))
    return passed(f"{len(seen)} rules, none duplicated or disabled", f"{len(seen)}条规则，无重复或已禁用的规则")


@check(
    id="network.firewall.logging",
    title_en="Boundary device logs traffic to a central collector", title_zh="边界设备开启审计日志并集中收集",
    controls={2: ["L2-ABS1-08"], 3: ["L3-ABS1-16"]},
    asset_type="network.firewall",
    remediation="Enable session/rule logging on the boundary device and forward it to the central log platform.",
    remediation_zh="在边界设备上开启会话/规则日志，并转发到集中日志平台。",
)
def logging_on(asset, ctx: CheckContext):
    if not ctx.need(asset, "logging"):
        return failed("traffic logging is off", "未开启流量日志")
    if not asset.attributes.get("log_destination"):
        return failed("logging is on but logs stay on the device (no central destination)", "已开启日志但日志仅保存在设备上（无集中存储目标）")
    return passed(f"logging to {asset.attributes['log_destination']}", f"日志发送到{asset.attributes['log_destination']}")
