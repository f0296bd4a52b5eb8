"""AWS network exposure: security groups and network ACLs open to the internet, public databases, China
partition (cloud infrastructure inside China)."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, not_applicable, passed

from ._aws import nacl_open_ports, world_open_ports


@check(
    id="aws.ec2.sg_admin_ports",
    title_en="Security groups do not open administration ports to the internet",
    title_zh="安全组不向互联网（0.0.0.0/0、::/0）开放远程管理端口",
    controls={2: ["L2-CES1-13", "L2-CES1-03"], 3: ["L3-CES1-19", "L3-CES1-03"]},
    asset_type="aws.ec2.security_group", params=["admin_ports"],
    remediation="Restrict SSH/RDP/admin ports to management CIDRs or use SSM Session Manager / a bastion.",
    remediation_zh="将SSH/RDP等管理端口限制为仅管理网段可访问，或改用SSM Session Manager/堡垒机。",
    severity="high",
)
def sg_admin_ports(asset, ctx: CheckContext):
    hits = world_open_ports(ctx.need(asset, "ingress"), ctx.profile.admin_ports)
    if hits:
        return failed("admin port(s) open to the internet: " + "; ".join(hits),
                      "向互联网开放的管理端口：" + "；".join(hits), details={"open": hits})
    return passed("no admin port open to 0.0.0.0/0 or ::/0", "没有向0.0.0.0/0或::/0开放的管理端口")


@check(
    id="aws.ec2.sg_high_risk_ports",
    high_risk=[{"case": "6.4.3.1",
                "basis": "a high-risk port open to the internet"}],
    title_en="Security groups do not open high-risk ports to the internet",
    title_zh="安全组不向互联网开放高危端口",
    controls={1: ["L1-CES1-07"], 2: ["L2-CES1-12"], 3: ["L3-CES1-18"]},
    asset_type="aws.ec2.security_group", params=["high_risk_ports"],
    remediation="Close database, file-sharing and legacy-protocol ports to 0.0.0.0/0 and ::/0.",
    remediation_zh="关闭对0.0.0.0/0和::/0开放的数据库、文件共享和老旧协议端口。",
    severity="high",
)
def sg_high_risk_ports(asset, ctx: CheckContext):
    hits = world_open_ports(ctx.need(asset, "ingress"), ctx.profile.high_risk_ports)
    if hits:
        return failed("high-risk port(s) open to the internet: " + "; ".join(hits),
                      "向互联网开放的高危端口：" + "；".join(hits), details={"open": hits})
    return passed("no high-risk port open to 0.0.0.0/0 or ::/0", "没有向0.0.0.0/0或::/0开放的高危端口")


@check(
    id="aws.ec2.sg_default_deny",
    high_risk=[{"case": "7.3.1.1",
                "basis": "a security group open to the internet on every port"}],
    title_en="Security groups allow no all-protocol/all-port traffic from the internet",
    title_zh="安全组默认拒绝，不存在对互联网全放通的规则",
    controls={1: ["L1-ABS1-02", "L1-ABS1-04"], 2: ["L2-ABS1-02", "L2-ABS1-04", "L2-ABS1-05", "L2-ABS2-01"],
              3: ["L3-ABS1-05", "L3-ABS1-07", "L3-ABS1-08", "L3-ABS2-01"]},
    asset_type="aws.ec2.security_group",
    shows={"L2-ABS1-05 L3-ABS1-08": ("security groups are stateful (return traffic of an allowed session is "
                                     "admitted, everything else denied): a group without allow-all rules gives "
                                     "explicit session-based allow/deny; one open to all traffic gives none",
                                     "安全组是有状态的（放行已允许会话的返回流量，其余拒绝）：没有全放通规则的安全组可基于会话"
                                     "状态明确允许或拒绝数据流，全放通的安全组则不能")},
    remediation="Replace allow-all ingress rules with rules naming protocol, port and source.",
    remediation_zh="将全放通的入站规则替换为明确协议、端口和源地址的规则。",
    severity="high",
)
def sg_default_deny(asset, ctx: CheckContext):
    wide = [r for r in ctx.need(asset, "ingress")
            if any(c in ("0.0.0.0/0", "::/0") for c in r.get("cidrs", []))
            and (r.get("protocol") == "all" or (r.get("from_port") in (0, None) and r.get("to_port") in (65535, None)))]
    if wide:
        return failed(f"{len(wide)} ingress rule(s) allow every port from the internet",
                      f"{len(wide)}条入站规则允许互联网访问所有端口")
    return passed("no allow-all ingress from the internet", "不存在对互联网全放通的入站规则")


@check(
    id="aws.ec2.nacl_admin_ports",
    title_en="Network ACLs do not admit administration ports from the internet",
    title_zh="网络ACL不允许互联网访问远程管理端口",
    controls={2: ["L2-CES1-13"], 3: ["L3-CES1-19"]},
    asset_type="aws.ec2.network_acl", params=["admin_ports"],
    remediation="Add low-numbered deny entries for SSH/RDP/admin ports from 0.0.0.0/0 and ::/0 (or allow only "
                "management CIDRs).",
    remediation_zh="添加编号靠前的拒绝条目，拒绝0.0.0.0/0和::/0访问SSH/RDP等管理端口（或仅允许管理网段）。",
)
def nacl_admin_ports(asset, ctx: CheckContext):
    hits = nacl_open_ports(ctx.need(asset, "entries"), ctx.profile.admin_ports)
    if hits:
        return failed("admin port(s) admitted from the internet: " + "; ".join(hits),
                      "允许互联网访问的管理端口：" + "；".join(hits), details={"open": hits})
    return passed("admin ports not admitted from the internet", "不允许互联网访问管理端口")


@check(
    id="aws.rds.not_public",
    high_risk=[{"case": "6.2.1.2",
                "basis": "a publicly accessible database is an important zone deployed at the boundary"}],
    title_en="Databases are not publicly accessible", title_zh="数据库实例不可从公网访问，重要区域不部署在边界",
    controls={2: ["L2-CNS1-02"], 3: ["L3-CNS1-04"]},
    asset_type="aws.rds.instance",
    remediation="Set PubliclyAccessible=false and place the instance in private subnets.",
    remediation_zh="设置PubliclyAccessible=false，并将实例部署在私有子网中。",
    severity="high",
)
def rds_not_public(asset, ctx: CheckContext):
    if ctx.need(asset, "publicly_accessible"):
        return failed("publicly accessible", "可从公网访问")
    return passed("not publicly accessible", "不可从公网访问")


@check(
    id="aws.account.china_partition",
    high_risk=[{"case": "7.1.1.1",
                "basis": "an account outside the China partition"}],
    title_en="The account runs in the AWS China partition (infrastructure and data in China)",
    title_zh="云计算基础设施及客户数据位于中国境内（aws-cn分区）",
    controls={2: ["L2-PES2-01", "L2-CES2-05"], 3: ["L3-PES2-01", "L3-CES2-10"]},
    asset_type="aws.account",
    remediation="Host the system in the aws-cn partition (cn-north-1 / cn-northwest-1).",
    remediation_zh="将系统部署在aws-cn分区（cn-north-1北京 / cn-northwest-1宁夏）。",
    severity="high",
)
def china_partition(asset, ctx: CheckContext):
    part = ctx.need(asset, "partition")
    regions = asset.attributes.get("regions") or []
    if part == "aws-cn":
        return passed(f"aws-cn partition, regions {', '.join(regions)}", f"位于aws-cn分区，区域：{'、'.join(regions)}")
    return failed(f"partition {part} (regions {', '.join(regions)}) is outside China",
                  f"分区{part}（区域：{'、'.join(regions)}）位于中国境外")


@check(
    id="aws.elb.waf",
    high_risk=[{"case": "6.3.3.1",
                "basis": "an internet-facing application load balancer without a WAF: a key node facing the internet "
                         "without attack protection"}],
    title_en="Internet-facing application load balancers are guarded by a WAF web ACL",
    title_zh="面向互联网的应用负载均衡器部署WAF防护，检测和阻断外部攻击",
    controls={2: ["L2-ABS1-06"], 3: ["L3-ABS1-09", "L3-ABS1-10"]},
    asset_type="aws.elb.load_balancer",
    shows={"L3-ABS1-09": ("traffic to the internet-facing application passes a WAF web ACL, which controls access "
                          "by HTTP protocol and content (what its rules inspect is judged by aws.wafv2.content_rules)",
                          "面向互联网的应用流量经过WAF Web ACL，基于HTTP协议和内容进行访问控制（其规则的检查内容由"
                          "aws.wafv2.content_rules判定）")},
    remediation="Associate an AWS WAF web ACL (with managed rule groups for common web attacks) with every "
                "internet-facing application load balancer.",
    remediation_zh="为每个面向互联网的应用负载均衡器关联AWS WAF Web ACL（包含防护常见Web攻击的托管规则组）。",
    severity="high",
)
def elb_waf(asset, ctx: CheckContext):
    a = asset.attributes
    if a.get("type") != "application" or a.get("scheme") != "internet-facing":
        return not_applicable(f"{a.get('scheme') or 'unknown scheme'} {a.get('type') or ''} load balancer: "
                              "WAF guards internet-facing application load balancers",
                              f"{a.get('scheme') or '未知类型'} {a.get('type') or ''} 负载均衡器：WAF仅用于防护面向互联网的应用负载均衡器")
    if a.get("waf_offered") is False:
        return not_applicable("AWS WAF is not offered in this region", "本区域不提供AWS WAF")
    acl = ctx.need(asset, "waf_web_acl")
    if acl:
        name = acl.rsplit('/', 2)[-2] if acl.count('/') >= 2 else acl
        return passed(f"guarded by web ACL {name}", f"已由Web ACL {name} 防护")
    return failed("no WAF web ACL is associated: web attacks from the internet reach the targets unfiltered",
                  "未关联WAF Web ACL：来自互联网的Web攻击未经过滤直达后端")


@check(
    id="aws.wafv2.logging",
    title_en="WAF web ACLs log the requests they inspect (attack records with source, type, target, time)",
    title_zh="WAF记录检测到的攻击（源IP、攻击类型、目标、时间）",
    controls={2: ["L2-ABS1-06"], 3: ["L3-ABS1-13"]},
    asset_type="aws.wafv2.web_acl",
    remediation="Enable logging on the web ACL (to CloudWatch Logs, S3 or Firehose) and alert on blocked attacks.",
    remediation_zh="为Web ACL开启日志（写入CloudWatch Logs、S3或Firehose），并对拦截的攻击告警。",
)
def waf_logging(asset, ctx: CheckContext):
    if ctx.need(asset, "logging"):
        return passed("web ACL logging is enabled", "Web ACL已开启日志")
    return failed("web ACL logging is off: attacks it sees leave no record", "Web ACL未开启日志：检测到的攻击没有留下记录")
