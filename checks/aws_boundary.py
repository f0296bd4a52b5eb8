"""AWS network zoning and the boundary (安全通信网络 / 安全区域边界): VPC address planning, outbound connections of
instances, the management zone for administration ports, security groups bound to every VM, what the WAF
inspects, the content of flow-log records and DNS query logging."""
from __future__ import annotations

import ipaddress

from mlps_scan.plugins import CheckContext, EvidenceMissing, check, failed, not_applicable, passed

from ._aws import ANY, in_account

_GONE = ("terminated", "shutting-down")


def _networks(cidrs) -> list:
    out = []
    for c in cidrs or []:
        try:
            out.append(ipaddress.ip_network(str(c), strict=False))
        except ValueError:
            continue
    return out


@check(
    id="aws.vpc.address_plan",
    title_en="VPCs are planned zones: own address ranges that do not overlap, divided into subnets",
    title_zh="划分网络区域并按规划分配地址（VPC地址段不重叠，按子网划分区域）",
    controls={2: ["L2-CNS1-01"], 3: ["L3-CNS1-03"]},
    asset_type="aws.ec2.vpc", reads=["aws.ec2.subnet", "aws.ec2.instance"],
    remediation="Give each zone (VPC) its own CIDR from the address plan, split it into public/private subnets per "
                "tier, and move workloads out of the default VPC.",
    remediation_zh="按地址规划为每个网络区域（VPC）分配独立且不重叠的地址段，按层级划分公有/私有子网，并将业务从默认VPC迁出。",
    shows={"L2-CNS1-01 L3-CNS1-03": ("each VPC in use is a zone with its own address range, not overlapping the "
                                     "account's other VPCs, and divided into subnets; workloads do not run in the "
                                     "default VPC whose addresses AWS chose (the assessor compares this with the "
                                     "documented zone and address plan)",
                                     "每个使用中的VPC是一个网络区域，有独立且与账号内其他VPC不重叠的地址段，并划分子网；"
                                     "业务不运行在AWS分配地址的默认VPC中（测评人员对照文档化的区域与地址规划确认）")},
)
def address_plan(asset, ctx: CheckContext):
    a = asset.attributes
    vpc_id = a.get("vpc_id")
    subnets = [s for s in ctx.related(asset, "aws.ec2.subnet") if s.attributes.get("vpc_id") == vpc_id]
    running = [i for i in ctx.related(asset, "aws.ec2.instance")
               if i.attributes.get("vpc_id") == vpc_id and i.attributes.get("state") not in _GONE]
    if a.get("is_default"):
        if running:
            return failed(f"{len(running)} instance(s) run in the default VPC, whose addresses AWS allocated, not a "
                          "zone of the address plan",
                          f"有{len(running)}个实例运行在默认VPC中，其地址由AWS分配，不属于规划的网络区域")
        return not_applicable("default VPC with nothing running in it", "默认VPC，未运行任何实例，不适用")
    mine = _networks(a.get("cidrs") or [a.get("cidr")])
    overlaps = []
    for other in in_account(ctx, asset, "aws.ec2.vpc"):
        if other.id == asset.id:
            continue
        theirs = _networks(other.attributes.get("cidrs") or [other.attributes.get("cidr")])
        if any(m.version == t.version and m.overlaps(t) for m in mine for t in theirs):
            overlaps.append(other.name or other.id)
    cidr = ", ".join(str(m) for m in mine)
    if overlaps:
        return failed(f"address range {cidr} overlaps VPC(s) {', '.join(sorted(overlaps))}: zones are not separately "
                      "addressed", f"地址段{cidr}与VPC {'、'.join(sorted(overlaps))}重叠，网络区域未独立分配地址",
                      details={"overlaps": sorted(overlaps)})
    if not subnets:
        return failed(f"{cidr} has no subnet: the zone is not divided", f"{cidr}未划分任何子网")
    public = sum(1 for s in subnets if s.attributes.get("public"))
    return passed(f"{cidr}, {len(subnets)} subnet(s) ({public} public, {len(subnets) - public} private), no overlap "
                  "with the account's other VPCs",
                  f"地址段{cidr}，划分{len(subnets)}个子网（公有{public}个、私有{len(subnets) - public}个），"
                  "与账号内其他VPC无重叠")


def _wide_open(rule: dict) -> bool:
    """An egress rule to the whole internet on every protocol or every port."""
    if not any(c in ANY for c in rule.get("cidrs", [])):
        return False
    return rule.get("protocol") in ("all", "-1") or (rule.get("from_port") in (0, None) and rule.get("to_port") in (65535, None))


def _groups_of(asset, ctx: CheckContext) -> list:
    wanted = asset.attributes.get("security_groups") or []
    if not wanted and asset.attributes.get("vpc_id"):
        raise EvidenceMissing("the instance lists no security group (every VPC interface has one)",
                              "实例没有列出安全组（VPC中的每个网卡都有安全组）")
    groups = [g for g in ctx.related(asset, "aws.ec2.security_group") if g.attributes.get("group_id") in wanted]
    if len(groups) != len(set(wanted)):
        known = {g.attributes.get("group_id") for g in groups}
        raise EvidenceMissing(f"security group(s) {', '.join(sorted(set(wanted) - known))} not in the inventory",
                              f"安全组{'、'.join(sorted(set(wanted) - known))}不在资产清单中")
    return groups


_CENTRAL = {"tgw-": "transit gateway", "vgw-": "VPN gateway", "vpce-": "firewall endpoint", "eni-": "network appliance",
            "pcx-": "peered VPC", "i-": "NAT instance"}
_CENTRAL_ZH = {"tgw-": "中转网关", "vgw-": "VPN网关", "vpce-": "防火墙终端节点", "eni-": "网络设备", "pcx-": "对等VPC",
               "i-": "NAT实例"}


@check(
    id="aws.ec2.outbound_restricted",
    title_en="Instances cannot open connections to any internet address on any port (level 3)",
    title_zh="限制内部主机非授权外联（实例不能不受限制地访问互联网）",
    controls={3: ["L3-ABS1-03"]},
    asset_type="aws.ec2.instance", reads=["aws.ec2.subnet", "aws.ec2.security_group"],
    remediation="Replace the all-traffic egress rule (0.0.0.0/0, ::/0) of the instance's security groups with the "
                "destinations and ports it needs, or send outbound traffic through a filtering egress point (AWS "
                "Network Firewall, a proxy) instead of an internet or NAT gateway.",
    remediation_zh="将实例安全组中放通全部出站流量（0.0.0.0/0、::/0）的规则替换为所需的目的地址和端口，或让出站流量经过可过滤的"
                   "出口（AWS Network Firewall、代理）而非直接经互联网网关或NAT网关。",
    shows={"L3-ABS1-03": ("whether an instance can reach the internet (public address in a subnet routed to an "
                          "internet gateway, or a NAT gateway) and, if so, whether its security groups restrict "
                          "outbound connections; egress through a transit gateway, firewall endpoint or appliance "
                          "is a central point that can filter (its rules are for the assessor)",
                          "实例能否访问互联网（公网地址且子网路由至互联网网关，或经NAT网关），若能，其安全组是否限制出站"
                          "连接；经中转网关、防火墙终端节点或网络设备出站视为可过滤的集中出口（其规则由测评人员核查）")},
)
def outbound_restricted(asset, ctx: CheckContext):
    a = asset.attributes
    if a.get("state") in _GONE:
        return None
    subnet = next((s for s in ctx.related(asset, "aws.ec2.subnet") if s.attributes.get("subnet_id") == a.get("subnet_id")),
                  None)
    if subnet is None:
        raise EvidenceMissing(f"subnet {a.get('subnet_id')} not in the inventory", f"子网{a.get('subnet_id')}不在资产清单中")
    route = ctx.need(subnet, "default_route")
    if not route or (route.startswith("igw-") and not a.get("public_ip")):
        why = "no route to the internet" if not route else "no public address (its subnet routes to an internet gateway)"
        why_zh = "没有到互联网的路由" if not route else "没有公网地址（虽然子网路由至互联网网关）"
        return passed(f"cannot reach the internet: {why}", f"无法访问互联网：{why_zh}")
    central = next((k for k in _CENTRAL if route.startswith(k)), None)
    if central:
        return passed(f"outbound traffic leaves through {_CENTRAL[central]} {route}, a central egress point that can "
                      "filter (confirm its rules)",
                      f"出站流量经{_CENTRAL_ZH[central]}{route}这一可过滤的集中出口（请确认其规则）")
    path = f"public address {a.get('public_ip')} via {route}" if route.startswith("igw-") else f"NAT gateway {route}"
    path_zh = f"公网地址{a.get('public_ip')}经{route}" if route.startswith("igw-") else f"NAT网关{route}"
    groups = _groups_of(asset, ctx)
    open_ = [g.name or g.id for g in groups if any(_wide_open(r) for r in g.attributes.get("egress") or [])]
    if open_:
        return failed(f"reaches the internet ({path}) and security group(s) {', '.join(open_)} allow every outbound "
                      "connection", f"可访问互联网（{path_zh}），且安全组{'、'.join(open_)}放通全部出站连接",
                      details={"route": route, "groups": open_})
    return passed(f"reaches the internet ({path}) only on the egress its security groups allow",
                  f"可访问互联网（{path_zh}），但仅限安全组允许的出站连接")


def _covers(rule: dict, port: int) -> bool:
    if rule.get("protocol") in ("all", "-1"):
        return True
    if str(rule.get("protocol")) not in ("tcp", "6", "udp", "17"):
        return False
    lo = 0 if rule.get("from_port") is None else int(rule["from_port"])
    hi = 65535 if rule.get("to_port") is None else int(rule["to_port"])
    return lo <= port <= hi


@check(
    id="aws.ec2.management_zone",
    title_en="Administration ports are reachable only from the management zone (level 3)",
    title_zh="划分特定的管理区域，管理端口仅允许从管理区访问",
    controls={3: ["L3-SMC1-07"]},
    asset_type="aws.ec2.security_group", params=["admin_ports", "management_cidrs"],
    remediation="Allow SSH/RDP/admin ports only from the management subnet (declare it as the profile's "
                "management_cidrs), a bastion's security group or a managed prefix list, or administer through "
                "Systems Manager Session Manager with no admin port open.",
    remediation_zh="仅允许从管理子网（在配置的management_cidrs中声明）、堡垒机安全组或托管前缀列表访问SSH/RDP等管理端口，"
                   "或通过Systems Manager会话管理器进行管理而不开放管理端口。",
    shows={"L3-SMC1-07": ("security groups open administration ports only to the management zone: the profile's "
                          "management_cidrs, a bastion's security group or a managed prefix list",
                          "安全组仅向管理区域开放管理端口：配置中的management_cidrs、堡垒机安全组或托管前缀列表")},
)
def management_zone(asset, ctx: CheckContext):
    zone = _networks(ctx.profile.management_cidrs)
    admin_rules = [r for r in ctx.need(asset, "ingress") if any(_covers(r, p) for p in ctx.profile.admin_ports)]
    if not admin_rules:
        return passed("no administration port is open", "未开放管理端口")
    allowed, outside = set(), set()
    for r in admin_rules:
        allowed |= {f"security group {g}" for g in r.get("groups", [])}
        allowed |= {f"prefix list {p}" for p in r.get("prefix_lists", [])}
        for c in r.get("cidrs", []):
            net = _networks([c])
            if net and any(net[0].version == z.version and net[0].subnet_of(z) for z in zone):
                allowed.add(c)
            else:
                outside.add(c)
    if outside:
        hint = "" if zone else "; no management zone declared (profile management_cidrs)"
        hint_zh = "" if zone else "；配置中未声明管理区域（management_cidrs）"
        return failed(f"administration ports open from {', '.join(sorted(outside))}, outside the management zone{hint}",
                      f"管理端口向管理区域以外的{'、'.join(sorted(outside))}开放{hint_zh}",
                      details={"outside": sorted(outside)})
    return passed(f"administration ports open only from the management zone: {', '.join(sorted(allowed))}",
                  f"管理端口仅向管理区域开放：{'、'.join(sorted(allowed))}")


@check(
    id="aws.ec2.instance_security_groups",
    title_en="Every VM has its own access-control policy (security groups bound to its interfaces)",
    title_zh="虚拟机的访问控制策略随其迁移，云服务客户可设置虚拟机之间的访问控制策略",
    controls={2: ["L2-CES2-01", "L2-CES2-02"], 3: ["L3-CES2-02", "L3-CES2-03"]},
    asset_type="aws.ec2.instance", reads=["aws.ec2.security_group"],
    remediation="Put each instance in security groups made for its tier (not only the VPC's default group, which "
                "admits all traffic between its members) and reference tiers by group in their rules.",
    remediation_zh="为每个实例绑定按业务层级设置的安全组（不要只使用VPC默认安全组，它允许组内成员之间的全部流量），"
                   "并在规则中按安全组引用其他层级。",
    shows={"L2-CES2-01 L3-CES2-02": ("the VM's access policy is bound to its network interfaces (security groups), "
                                     "so it moves with the VM when the platform migrates it",
                                     "虚拟机的访问控制策略（安全组）绑定在其网卡上，平台迁移虚拟机时策略随之迁移"),
           "L2-CES2-02 L3-CES2-03": ("the customer sets the policy between VMs: the instance is in security groups of "
                                     "its own, not only the default group that admits all traffic between members",
                                     "由云服务客户设置虚拟机之间的访问控制策略：实例使用自定义安全组，而非仅使用允许成员间"
                                     "全部流量的默认安全组")},
)
def instance_security_groups(asset, ctx: CheckContext):
    a = asset.attributes
    if a.get("state") in _GONE:
        return None
    if not a.get("vpc_id"):
        return failed("not in a VPC (EC2-Classic): no security group travels with it", "实例不在VPC中，没有随其迁移的安全组")
    groups = _groups_of(asset, ctx)
    own = [g.name or g.id for g in groups if g.attributes.get("group_name") != "default"]
    if not own:
        return failed("only the VPC's default security group: no access policy set between this VM and the others",
                      "仅使用VPC默认安全组，未设置该虚拟机与其他虚拟机之间的访问控制策略")
    return passed(f"security group(s) {', '.join(own)} bound to its network interfaces",
                  f"绑定在网卡上的安全组：{'、'.join(own)}")


@check(
    id="aws.wafv2.content_rules",
    title_en="WAF web ACLs inspect application content with blocking rules (level 3)",
    title_zh="WAF基于应用协议和应用内容进行访问控制（存在生效的拦截规则）",
    controls={3: ["L3-ABS1-09"]},
    asset_type="aws.wafv2.web_acl",
    remediation="Add AWS managed rule groups (AWSManagedRulesCommonRuleSet, SQLi, KnownBadInputs) or custom rules "
                "to the web ACL, and switch rules out of count mode once tuned.",
    remediation_zh="为Web ACL添加AWS托管规则组（AWSManagedRulesCommonRuleSet、SQL注入、KnownBadInputs）或自定义规则，"
                   "调试完成后将规则从计数模式切换为拦截。",
    shows={"L3-ABS1-09": ("the web ACL holds rules that inspect HTTP requests (managed rule groups or custom "
                          "matches) and block what they match, rather than passing everything by its default action",
                          "Web ACL包含检查HTTP请求内容（托管规则组或自定义匹配）并拦截命中请求的规则，而非按默认动作放行全部请求")},
)
def waf_content_rules(asset, ctx: CheckContext):
    rules = ctx.need(asset, "rules")
    default = asset.attributes.get("default_action") or "Allow"
    if not rules:
        return failed(f"no rule: the default action ({default}) applies to every request unread",
                      f"没有规则：所有请求均按默认动作（{default}）处理，未检查内容")
    blocking = [r for r in rules if not r.get("override_to_count") and r.get("action") not in ("Count", "Allow")]
    if not blocking:
        return failed(f"{len(rules)} rule(s), none blocking (count or allow only)",
                      f"有{len(rules)}条规则，但均为计数或放行，不拦截任何请求")
    named = [r.get("managed_group") or r.get("name") for r in blocking]
    return passed(f"{len(blocking)} blocking rule(s): {', '.join(named)}",
                  f"{len(blocking)}条拦截规则：{'、'.join(named)}")


# flow-log fields a boundary audit record needs: when, who (addresses), what (port, protocol), outcome
_RECORD_FIELDS = {"start": "时间", "end": "时间", "srcaddr": "源地址", "dstaddr": "目的地址", "dstport": "目的端口",
                  "protocol": "协议", "action": "结果"}


@check(
    id="aws.vpc.flow_log_fields",
    title_en="Flow-log records carry time, addresses, port, protocol and outcome",
    title_zh="边界审计记录包括日期和时间、用户（地址）、事件类型、事件是否成功等信息",
    controls={2: ["L2-ABS1-09"], 3: ["L3-ABS1-17"]},
    asset_type="aws.ec2.vpc",
    remediation="Use the default flow-log format or a custom format that keeps ${start} ${end} ${srcaddr} "
                "${dstaddr} ${dstport} ${protocol} ${action}.",
    remediation_zh="使用默认流日志格式，或在自定义格式中保留 ${start} ${end} ${srcaddr} ${dstaddr} ${dstport} "
                   "${protocol} ${action} 字段。",
    shows={"L2-ABS1-09 L3-ABS1-17": ("the VPC's flow-log records hold the date and time (start, end), the parties "
                                     "(source and destination address), the event type (destination port, "
                                     "protocol) and the outcome (ACCEPT/REJECT)",
                                     "VPC流日志记录包含日期和时间（start、end）、访问双方（源、目的地址）、事件类型（目的端口、"
                                     "协议）及结果（ACCEPT/REJECT）")},
)
def flow_log_fields(asset, ctx: CheckContext):
    logs = ctx.need(asset, "flow_log_formats")
    if not logs:
        return failed("no active flow log: boundary traffic leaves no record", "未启用流日志，边界流量不留记录")
    gaps = {}
    for f in logs:
        missing = [k for k in _RECORD_FIELDS if "${" + k + "}" not in str(f.get("format") or "")]
        if not missing:
            return passed(f"flow log {f.get('id')} records time, addresses, port, protocol and action",
                          f"流日志{f.get('id')}记录了时间、地址、端口、协议和结果")
        gaps[f.get("id")] = missing
    text = "; ".join(f"{k} lacks {', '.join(v)}" for k, v in gaps.items())
    text_zh = "；".join(f"{k}缺少{'、'.join(sorted({_RECORD_FIELDS[x] for x in v}))}" for k, v in gaps.items())
    return failed(f"flow-log records are incomplete: {text}", f"流日志记录不完整：{text_zh}", details={"missing": gaps})


@check(
    id="aws.vpc.dns_query_logging",
    title_en="DNS queries from the VPC are logged (internet-access behaviour, level 3)",
    title_zh="记录VPC内的DNS查询，对访问互联网的行为单独审计",
    controls={3: ["L3-ABS1-19"]},
    asset_type="aws.ec2.vpc",
    remediation="Create a Route 53 Resolver query logging configuration (to CloudWatch Logs or S3) and associate it "
                "with the VPC.",
    remediation_zh="创建Route 53 Resolver查询日志配置（输出到CloudWatch Logs或S3），并关联到该VPC。",
    shows={"L3-ABS1-19": ("the names hosts in the VPC look up are logged (Route 53 Resolver query logging): a record "
                          "of internet-access behaviour that can be audited and analysed on its own, beside the flow "
                          "logs", "记录VPC内主机查询的域名（Route 53 Resolver查询日志），与流日志一起构成可单独审计和分析的"
                                  "互联网访问行为记录")},
)
def dns_query_logging(asset, ctx: CheckContext):
    logged = ctx.need(asset, "dns_query_logging")
    if logged is None:
        return not_applicable("Route 53 Resolver query logging is not offered in this region",
                              "本区域不提供Route 53 Resolver查询日志")
    if logged:
        return passed("Resolver query logging is associated with the VPC", "已为VPC关联Resolver查询日志")
    return failed("DNS queries from the VPC are not logged", "未记录VPC内的DNS查询")
