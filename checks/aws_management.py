"""AWS security management centre (安全管理中心) and the alerting around it: administration through Session
Manager with its sessions logged, the audit administrator, who may change access-control policies, CloudTrail
events analysed and alarmed on, GuardDuty malware protection and findings routed to people, alerts on VM
launches, central patching (Systems Manager), Security Hub, and alarms watching each instance."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, not_applicable, passed

from ._aws import in_account, notified, routed, rule_sources

APPROVED_ADMIN_TAG = "mlps:approved-admin"
_STOPPED = ("stopped", "stopping")
_GONE = ("terminated", "shutting-down")


def _unavailable(ctx: CheckContext, asset, type_: str, service: str, service_zh: str):
    na = ctx.unavailable(asset, type_)
    if na:
        return not_applicable(na[0].reason or f"{service} is not offered here",
                              f"本区域不提供{service_zh}（{na[0].reason or '服务不可用'}）")
    return None


# --------------------------------------------------------------------------- administration and its audit


@check(
    id="aws.ssm.session_logging",
    title_en="Session Manager sessions (administrators' remote access) are logged",
    title_zh="会话管理器的远程管理会话被记录（管理员通过特定界面操作并被审计）",
    controls={2: ["L2-SMC1-01"], 3: ["L3-SMC1-01", "L3-ABS1-19"]},
    asset_type="aws.region", reads=["aws.ssm.session_preferences", "aws.ec2.instance"],
    remediation="In Systems Manager > Session Manager > Preferences, send session logs to an S3 bucket or a "
                "CloudWatch Logs group (encrypted), and administer instances through Session Manager.",
    remediation_zh="在Systems Manager会话管理器首选项中，将会话日志发送到S3存储桶或CloudWatch日志组（加密），"
                   "并通过会话管理器管理实例。",
    shows={"L2-SMC1-01 L3-SMC1-01": ("administrators reach instances through Session Manager, a defined interface "
                                     "that authenticates them with IAM, and every session's commands and output are "
                                     "logged to S3 or CloudWatch Logs",
                                     "管理员通过会话管理器这一特定界面访问实例（以IAM身份鉴别），每个会话的命令和输出被记录到"
                                     "S3或CloudWatch Logs"),
           "L3-ABS1-19": ("remote-access sessions to instances are recorded apart from other logs (Session Manager "
                          "session logs), so remote-access behaviour can be audited on its own",
                          "实例的远程访问会话被单独记录（会话管理器会话日志），可对远程访问行为单独审计")},
)
def session_logging(asset, ctx: CheckContext):
    na = _unavailable(ctx, asset, "aws.ssm.session_preferences", "Systems Manager", "Systems Manager服务")
    if na:
        return na
    if not [i for i in ctx.related(asset, "aws.ec2.instance") if i.attributes.get("state") not in _GONE] \
            and not ctx.related(asset, "aws.ssm.managed_instance"):
        return not_applicable("no instance in the region to open sessions on", "本区域没有可建立会话的实例，不适用")
    prefs = ctx.related(asset, "aws.ssm.session_preferences")
    if not prefs:
        return failed("no Session Manager preferences saved: sessions are not logged anywhere",
                      "未保存会话管理器首选项，会话不被记录")
    p = prefs[0].attributes
    where = [x for x in (f"s3://{p['s3_bucket']}" if p.get("s3_bucket") else None,
                         f"log group {p['cloudwatch_log_group']}" if p.get("cloudwatch_log_group") else None) if x]
    where_zh = [x for x in (f"S3存储桶{p['s3_bucket']}" if p.get("s3_bucket") else None,
                            f"日志组{p['cloudwatch_log_group']}" if p.get("cloudwatch_log_group") else None) if x]
    if not where:
        return failed("Session Manager preferences name no S3 bucket or log group: sessions are not logged",
                      "会话管理器首选项未指定S3存储桶或日志组，会话不被记录", evidence=prefs[0].evidence)
    return passed(f"sessions logged to {' and '.join(where)}", f"会话记录到{'和'.join(where_zh)}", evidence=prefs[0].evidence)


def _principals(ctx: CheckContext, asset) -> list:
    return [p for t in ("aws.iam.user", "aws.iam.role", "aws.iam.group") for p in in_account(ctx, asset, t)
            if not p.attributes.get("service_linked")]


@check(
    id="aws.iam.audit_admin",
    title_en="A designated audit administrator exists, separate from the system administrators",
    title_zh="设置审计管理员（独立于系统管理员），通过特定界面进行审计操作",
    controls={2: ["L2-SMC1-03"], 3: ["L3-SMC1-03"]},
    asset_type="aws.account", reads=["aws.iam.user", "aws.iam.role", "aws.iam.group"],
    remediation="Create an audit role (or group) with SecurityAudit / AWSCloudTrail_ReadOnlyAccess and no "
                "administrative rights, for the audit administrator to assume with MFA; CloudTrail records what it does.",
    remediation_zh="创建仅具有SecurityAudit / AWSCloudTrail_ReadOnlyAccess权限、无管理权限的审计角色（或用户组），供审计管理员"
                   "通过MFA使用；其操作由CloudTrail记录。",
    shows={"L2-SMC1-03 L3-SMC1-03": ("an IAM identity holds audit-only rights (SecurityAudit, CloudTrail read) "
                                     "without administrative rights: the audit administrator authenticates through "
                                     "IAM, works through the audit APIs, and CloudTrail records what it does",
                                     "存在仅具有审计权限（SecurityAudit、CloudTrail只读）且无管理权限的IAM身份：审计管理员"
                                     "通过IAM鉴别身份、通过审计接口操作，其操作由CloudTrail记录")},
)
def audit_admin(asset, ctx: CheckContext):
    auditors = [p for p in _principals(ctx, asset) if p.attributes.get("audit_via") and not p.attributes.get("admin")]
    if not auditors:
        admins = [p.name for p in _principals(ctx, asset) if p.attributes.get("audit_via")]
        extra = f" (only administrators can read the trail: {', '.join(admins)})" if admins else ""
        extra_zh = f"（只有管理员能读取审计记录：{'、'.join(admins)}）" if admins else ""
        return failed("no identity holds audit-only rights (SecurityAudit, CloudTrail read)" + extra,
                      "没有仅具有审计权限（SecurityAudit、CloudTrail只读）的身份" + extra_zh)
    names = [f"{p.type.rsplit('.', 1)[-1]} {p.name} ({', '.join(p.attributes['audit_via'])})" for p in auditors]
    return passed("audit administrator identities without admin rights: " + "; ".join(names),
                  "无管理权限的审计管理员身份：" + "；".join(names))


def _policy_admin_verdict(asset, what: str, what_zh: str):
    via = asset.attributes.get("policy_write_via")
    if via is None:
        from mlps_scan.plugins import EvidenceMissing
        raise EvidenceMissing("policy_write_via: not collected", "policy_write_via：未采集")
    if not via:
        return passed(f"{what} cannot change IAM policies", f"该{what_zh}无权修改IAM策略")
    if APPROVED_ADMIN_TAG in (asset.attributes.get("tags") or {}):
        return passed(f"{what} may change IAM policies (via {', '.join(via)}) and is a designated administrator "
                      f"(tagged {APPROVED_ADMIN_TAG})",
                      f"该{what_zh}可修改IAM策略（通过{'、'.join(via)}），且为指定的管理员（标签{APPROVED_ADMIN_TAG}）")
    return failed(f"{what} may change access-control policies via {', '.join(via)} but is not a designated "
                  f"administrator (tag {APPROVED_ADMIN_TAG})",
                  f"该{what_zh}可通过{'、'.join(via)}修改访问控制策略，但不是指定的管理员（缺少标签{APPROVED_ADMIN_TAG}）",
                  details={"via": via})


_POLICY_ADMIN_SHOWS = {
    "L3-CES1-09": ("who can change access-control policies (attach, write or version IAM policies, change group "
                   "membership or role trust): only identities designated as administrators",
                   "哪些身份可以配置访问控制策略（附加、编写或更新IAM策略，变更用户组成员或角色信任关系）：仅限指定的管理员"),
    "L3-SMC1-06": ("authorisations (IAM policies) are configured only by designated security administrators",
                   "授权（IAM策略）仅由指定的安全管理员配置")}
_POLICY_ADMIN_REMEDIATION = (
    "Take iam:Put*/Attach*/CreatePolicyVersion rights (IAMFullAccess, AdministratorAccess, custom iam:*) away from "
    f"everyone but the designated administrators' roles, and tag those roles {APPROVED_ADMIN_TAG}.",
    "收回除指定管理员角色以外所有身份的iam:Put*/Attach*/CreatePolicyVersion等权限（IAMFullAccess、AdministratorAccess、"
    f"自定义iam:*），并为指定管理员角色添加标签{APPROVED_ADMIN_TAG}。")


@check(
    id="aws.iam.user_policy_admin",
    title_en="Only designated administrators can change IAM policies (users)",
    high_risk=[{"case": "6.4.2.2", "basis": "a user who is not a designated administrator can change access-control "
                                            "policies, its own rights included: a path past its duties"}],
    severity="high",
    title_zh="由授权主体配置访问控制策略（IAM用户不可擅自修改权限策略）",
    controls={3: ["L3-CES1-09", "L3-SMC1-06"]},
    asset_type="aws.iam.user",
    remediation=_POLICY_ADMIN_REMEDIATION[0], remediation_zh=_POLICY_ADMIN_REMEDIATION[1],
    shows=_POLICY_ADMIN_SHOWS,
)
def user_policy_admin(asset, ctx: CheckContext):
    return _policy_admin_verdict(asset, "user", "用户")


@check(
    id="aws.iam.role_policy_admin",
    title_en="Only designated administrators can change IAM policies (roles)",
    high_risk=[{"case": "6.4.2.2", "basis": "a role that is not a designated administrator's can change access-control "
                                            "policies, its own rights included: a path past its duties"}],
    severity="high",
    title_zh="由授权主体配置访问控制策略（IAM角色不可擅自修改权限策略）",
    controls={3: ["L3-CES1-09", "L3-SMC1-06"]},
    asset_type="aws.iam.role",
    remediation=_POLICY_ADMIN_REMEDIATION[0], remediation_zh=_POLICY_ADMIN_REMEDIATION[1],
    shows=_POLICY_ADMIN_SHOWS,
)
def role_policy_admin(asset, ctx: CheckContext):
    if asset.attributes.get("service_linked"):
        return None  # AWS-managed service-linked roles are not the customer's to scope
    return _policy_admin_verdict(asset, "role", "角色")


# --------------------------------------------------------------------------- audit analysis and alarms

# what a CloudWatch metric filter on the CloudTrail log group must catch (CIS AWS Foundations 4.x / Security Hub
# CloudWatch.1-14): a category is caught when the filter pattern names one of these markers
SECURITY_EVENTS = {
    "unauthorised API calls": ("未授权的API调用", ("UnauthorizedOperation", "AccessDenied")),
    "root user activity": ("根用户操作", ("Root",)),
    "console sign-in without MFA": ("未使用MFA的控制台登录", ("MFAUsed",)),
    "IAM policy changes": ("IAM策略变更", ("PutUserPolicy", "PutRolePolicy", "PutGroupPolicy", "AttachRolePolicy",
                                        "AttachUserPolicy", "AttachGroupPolicy", "CreatePolicyVersion",
                                        "DeleteRolePolicy")),
    "security group changes": ("安全组变更", ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                                           "CreateSecurityGroup", "DeleteSecurityGroup")),
    "network ACL changes": ("网络ACL变更", ("CreateNetworkAcl", "CreateNetworkAclEntry", "ReplaceNetworkAclEntry",
                                         "DeleteNetworkAcl")),
    "CloudTrail configuration changes": ("CloudTrail配置变更", ("StopLogging", "DeleteTrail", "UpdateTrail")),
}


def _trail_log_groups(ctx: CheckContext, asset) -> list[tuple[str, str]]:
    """(region, log group name) of the logging multi-region trails that deliver to CloudWatch Logs."""
    out = []
    for t in in_account(ctx, asset, "aws.cloudtrail.trail"):
        group_arn = t.attributes.get("cloudwatch_log_group")
        if group_arn and t.attributes.get("multi_region") and t.attributes.get("logging"):
            parts = str(group_arn).split(":")
            if len(parts) > 6:
                out.append((parts[3], parts[6]))
    return out


def _alarmed(ctx: CheckContext, asset, markers: tuple[str, ...], groups: list[tuple[str, str]]):
    """The metric filters on the trail log groups whose pattern names one of `markers`, and of those the ones
    an enabled alarm with an action that reaches someone watches: ([(filter, alarm, en, zh)], [filters])."""
    filters = [f for f in in_account(ctx, asset, "aws.logs.metric_filter")
               if (f.attributes.get("region"), f.attributes.get("log_group")) in groups
               and any(m in f.attributes.get("pattern", "") for m in markers)]
    alarmed = []
    for f in filters:
        metrics = {(m.get("name"), m.get("namespace")) for m in f.attributes.get("metrics", [])}
        for alarm in in_account(ctx, asset, "aws.cloudwatch.alarm"):
            at = alarm.attributes
            if at.get("region") != f.attributes.get("region") or (at.get("metric"), at.get("namespace")) not in metrics:
                continue
            if not at.get("actions_enabled"):
                continue
            for action in at.get("alarm_actions", []):
                hit, en, zh = notified(ctx, alarm, action)
                if hit:
                    alarmed.append((f, alarm, en, zh))
    return alarmed, filters


@check(
    id="aws.cloudtrail.security_alarms",
    title_en="CloudTrail events are analysed: metric filters and alarms on security-relevant API activity",
    title_zh="对审计记录进行分析并处理：针对安全相关API操作设置指标筛选和告警",
    controls={2: ["L2-SMC1-04"], 3: ["L3-SMC1-04", "L3-SMC1-12"]},
    asset_type="aws.account",
    reads=["aws.cloudtrail.trail", "aws.logs.metric_filter", "aws.cloudwatch.alarm", "aws.sns.topic"],
    remediation="Send the multi-region trail to CloudWatch Logs and add metric filters with alarms (to an SNS topic "
                "someone subscribes to) for unauthorised API calls, root activity, console sign-in without MFA, and "
                "IAM policy, security group, network ACL and CloudTrail changes (CIS AWS Foundations 4.x).",
    remediation_zh="将多区域跟踪发送到CloudWatch Logs，并为未授权API调用、根用户操作、未使用MFA的控制台登录以及IAM策略、"
                   "安全组、网络ACL和CloudTrail配置变更设置指标筛选和告警（发送到有人订阅的SNS主题）（CIS AWS基线4.x）。",
    shows={"L2-SMC1-04 L3-SMC1-04": ("the audit records (CloudTrail in CloudWatch Logs) are analysed continuously: "
                                     "metric filters pick out security-relevant events and alarms act on them by "
                                     "notifying people",
                                     "对审计记录（CloudWatch Logs中的CloudTrail）进行持续分析：指标筛选识别安全相关事件，"
                                     "告警通知相关人员进行处理"),
           "L3-SMC1-12": ("security events in the account (unauthorised calls, root use, sign-in without MFA, "
                          "changes to IAM, security groups, network ACLs and the trail) are identified and alarmed",
                          "识别并告警账号内的安全事件（未授权调用、根用户使用、未用MFA登录，以及IAM、安全组、网络ACL和"
                          "审计跟踪的变更）")},
)
def security_alarms(asset, ctx: CheckContext):
    groups = _trail_log_groups(ctx, asset)
    if not groups:
        return failed("no logging multi-region trail delivers to CloudWatch Logs: its events are not analysed or "
                      "alarmed on", "没有将多区域审计跟踪发送到CloudWatch Logs，审计事件未被分析和告警")
    missing, missing_zh, covered = [], [], []
    evidence = list(asset.evidence)
    for name, (name_zh, markers) in SECURITY_EVENTS.items():
        alarmed, filters = _alarmed(ctx, asset, markers, groups)
        evidence += [e for f in filters for e in f.evidence] + [e for _, a, _, _ in alarmed for e in a.evidence]
        if alarmed:
            covered.append(f"{name} ({alarmed[0][1].name} -> {alarmed[0][2]})")
        else:
            missing.append(name + (" (filtered, no alarm reaching anyone)" if filters else ""))
            missing_zh.append(name_zh + ("（有指标筛选，但没有能通知到人的告警）" if filters else ""))
    if missing:
        return failed("no alarm for: " + "; ".join(missing), "以下事件没有告警：" + "；".join(missing_zh),
                      evidence=evidence, details={"covered": covered})
    return passed("alarms on every security event class: " + "; ".join(covered),
                  f"全部{len(SECURITY_EVENTS)}类安全事件均设置了告警", evidence=evidence)


def _guardduty_findings(rule) -> bool:
    sources = rule_sources(rule)
    if "aws.guardduty" in sources:
        return True
    return "aws.securityhub" in sources  # Security Hub carries GuardDuty's findings too


@check(
    id="aws.guardduty.findings_routed",
    title_en="GuardDuty findings are routed to people (EventBridge rule to a subscribed topic or a handler)",
    title_zh="安全事件（GuardDuty发现）能够及时告警：EventBridge规则将其发送给相关人员",
    controls={3: ["L3-SMC1-12", "L3-CES1-22", "L3-CES2-06"]},
    asset_type="aws.region", reads=["aws.guardduty.detector", "aws.events.rule", "aws.sns.topic"],
    remediation="Create an EventBridge rule matching source aws.guardduty (or Security Hub findings) that targets an "
                "SNS topic with confirmed subscriptions (the security team's mail, SMS or chat) or the SIEM.",
    remediation_zh="创建匹配aws.guardduty（或Security Hub发现）事件源的EventBridge规则，目标为有已确认订阅的SNS主题（安全团队"
                   "的邮件、短信或即时通讯）或安全事件管理平台。",
    shows={"L3-SMC1-12": ("GuardDuty's findings (attacks, compromised instances, malware) are sent by an EventBridge "
                          "rule to people or a handling system: security events are identified and alarmed",
                          "GuardDuty发现（攻击、失陷实例、恶意代码）由EventBridge规则发送给相关人员或处置系统，"
                          "安全事件得到识别和告警"),
           "L3-CES1-22": ("serious intrusion events GuardDuty detects raise an alarm to people",
                          "GuardDuty检测到的严重入侵事件会向相关人员告警"),
           "L3-CES2-06": ("malware found on VMs (GuardDuty findings) raises an alarm to people",
                          "在虚拟机上发现的恶意代码（GuardDuty发现）会向相关人员告警")},
)
def findings_routed(asset, ctx: CheckContext):
    na = _unavailable(ctx, asset, "aws.guardduty.detector", "GuardDuty", "GuardDuty服务")
    if na:
        return na
    if not any(d.attributes.get("status") == "ENABLED" for d in ctx.related(asset, "aws.guardduty.detector")):
        return failed("GuardDuty is not enabled: there are no findings to route", "未启用GuardDuty，没有可告警的发现")
    good, why, evidence = routed(ctx, asset, _guardduty_findings)
    if good:
        return passed("GuardDuty findings routed: " + "; ".join(en for en, _ in good),
                      "GuardDuty发现已告警：" + "；".join(zh for _, zh in good), evidence=asset.evidence + evidence)
    return failed("GuardDuty findings reach nobody" + (": " + "; ".join(en for en, _ in why) if why
                                                       else ": no EventBridge rule matches them"),
                  "GuardDuty发现无人接收" + ("：" + "；".join(zh for _, zh in why) if why else "：没有匹配的EventBridge规则"),
                  evidence=asset.evidence + evidence)


_LAUNCH = ("RunInstances", "StartInstances")


def _launch_rule(rule) -> bool:
    if "aws.ec2" not in rule_sources(rule):
        return False
    pattern = rule.attributes.get("pattern") or {}
    kinds = pattern.get("detail-type") or []
    detail = pattern.get("detail") or {}
    if "EC2 Instance State-change Notification" in kinds:
        states = detail.get("state") or []
        return not states or bool({"pending", "running"} & set(states))
    if "AWS API Call via CloudTrail" in kinds:
        names = detail.get("eventName") or []
        return not names or bool(set(_LAUNCH) & set(names))
    return False


@check(
    id="aws.alerts.vm_launch",
    title_en="Creating or starting VMs raises an alert (level 3)",
    title_zh="能够检测非授权新建或重新启用虚拟机，并进行告警",
    controls={3: ["L3-CES2-05"]},
    asset_type="aws.region",
    reads=["aws.events.rule", "aws.sns.topic", "aws.logs.metric_filter", "aws.cloudwatch.alarm", "aws.cloudtrail.trail"],
    remediation="Add an EventBridge rule for EC2 state changes to pending/running (or RunInstances/StartInstances "
                "API calls) targeting a subscribed SNS topic, or a CloudTrail metric filter on those calls with an "
                "alarm; review who launched what.",
    remediation_zh="添加匹配EC2状态变为pending/running（或RunInstances/StartInstances API调用）的EventBridge规则并发送到有订阅"
                   "的SNS主题，或对这些调用设置CloudTrail指标筛选及告警；核查由谁新建或启动了哪些实例。",
    shows={"L3-CES2-05": ("launching or starting an instance (RunInstances/StartInstances, or a state change to "
                          "pending/running) raises an alert to people, so unauthorised creation or re-enabling of "
                          "VMs is noticed", "新建或启动实例（RunInstances/StartInstances，或状态变为pending/running）会"
                                            "向相关人员告警，从而发现非授权新建或重新启用虚拟机")},
)
def vm_launch(asset, ctx: CheckContext):
    good, why, evidence = routed(ctx, asset, _launch_rule)
    if good:
        return passed("instance launches alerted: " + "; ".join(en for en, _ in good),
                      "实例新建/启动告警：" + "；".join(zh for _, zh in good), evidence=asset.evidence + evidence)
    alarmed, _ = _alarmed(ctx, asset, _LAUNCH, _trail_log_groups(ctx, asset))
    if alarmed:
        f, alarm, en, zh = alarmed[0]
        return passed(f"CloudTrail metric filter {f.name} with alarm {alarm.name} -> {en}",
                      f"CloudTrail指标筛选{f.name}及告警{alarm.name} -> {zh}", evidence=asset.evidence + alarm.evidence)
    return failed("no alert on instance launches or starts" + (": " + "; ".join(en for en, _ in why) if why else ""),
                  "实例新建或启动时没有告警" + ("：" + "；".join(zh for _, zh in why) if why else ""),
                  evidence=asset.evidence + evidence)


# --------------------------------------------------------------------------- malware, central management


@check(
    id="aws.guardduty.malware_protection",
    title_en="GuardDuty Malware Protection scans instances' volumes",
    title_zh="在关键网络节点处对恶意代码进行检测和清除（GuardDuty恶意软件防护）",
    controls={2: ["L2-ABS1-07"], 3: ["L3-ABS1-14", "L3-CES2-06"]},
    asset_type="aws.region", reads=["aws.guardduty.detector"],
    remediation="Enable the EBS_MALWARE_PROTECTION feature (Malware Protection for EC2) on the region's GuardDuty "
                "detector; its signatures are kept up to date by AWS.",
    remediation_zh="在本区域GuardDuty检测器上启用EBS_MALWARE_PROTECTION（EC2恶意软件防护）功能，其特征库由AWS持续更新。",
    shows={"L2-ABS1-07 L3-ABS1-14": ("malware is detected on the region's instances: GuardDuty scans the EBS "
                                     "volumes of instances involved in suspicious traffic, with detection kept up to "
                                     "date by AWS (gateway anti-virus on premises is for the assessor)",
                                     "对本区域实例进行恶意代码检测：GuardDuty扫描涉及可疑流量的实例的EBS卷，检测能力由AWS"
                                     "持续更新（本地网关防病毒由测评人员核查）"),
           "L3-CES2-06": ("malware infection of VMs is detected (GuardDuty scans their volumes when they behave "
                          "suspiciously, such as spreading to other VMs)",
                          "检测虚拟机的恶意代码感染（虚拟机出现向其他虚拟机扩散等可疑行为时GuardDuty扫描其磁盘）")},
)
def malware_protection(asset, ctx: CheckContext):
    na = _unavailable(ctx, asset, "aws.guardduty.detector", "GuardDuty", "GuardDuty服务")
    if na:
        return na
    dets = [d for d in ctx.related(asset, "aws.guardduty.detector") if ctx.need(d, "status") == "ENABLED"]
    if not dets:
        return failed("GuardDuty is not enabled: no malware scanning", "未启用GuardDuty，没有恶意代码扫描")
    for d in dets:
        features = ctx.need(d, "features")
        if features.get("EBS_MALWARE_PROTECTION") == "ENABLED":
            return passed("GuardDuty Malware Protection for EC2 is enabled", "已启用GuardDuty EC2恶意软件防护",
                          evidence=asset.evidence + d.evidence)
    return failed("GuardDuty is enabled without Malware Protection for EC2 (EBS_MALWARE_PROTECTION)",
                  "已启用GuardDuty，但未启用EC2恶意软件防护（EBS_MALWARE_PROTECTION）",
                  evidence=asset.evidence + [e for d in dets for e in d.evidence])


@check(
    id="aws.ssm.managed_instances",
    title_en="Instances are managed centrally by Systems Manager (agent online)",
    title_zh="对补丁升级等安全相关事项进行集中管理（实例纳入Systems Manager管理）",
    controls={3: ["L3-SMC1-11"]},
    asset_type="aws.ec2.instance", reads=["aws.ssm.managed_instance"],
    remediation="Install and run the SSM Agent and give the instance a profile with AmazonSSMManagedInstanceCore, so "
                "patching, inventory and commands are managed centrally.",
    remediation_zh="安装并运行SSM Agent，为实例关联包含AmazonSSMManagedInstanceCore的实例配置文件，实现补丁、清单和命令的集中管理。",
    shows={"L3-SMC1-11": ("the instance is under central management (Systems Manager agent online): the channel for "
                          "central patching, configuration and anti-malware deployment",
                          "实例纳入集中管理（Systems Manager代理在线），可集中进行补丁、配置及防恶意代码部署")},
)
def managed_instances(asset, ctx: CheckContext):
    state = asset.attributes.get("state")
    if state in _GONE:
        return None
    na = _unavailable(ctx, asset, "aws.ssm.managed_instance", "Systems Manager", "Systems Manager服务")
    if na:
        return na
    mine = next((m for m in ctx.related(asset, "aws.ssm.managed_instance")
                 if m.attributes.get("instance_id") == asset.attributes.get("instance_id")), None)
    if mine is None:
        if state in _STOPPED:
            return not_applicable("stopped and not managed by Systems Manager", "实例已停止，且未纳入Systems Manager管理，不适用")
        return failed("not managed by Systems Manager: no central patching or command channel",
                      "未纳入Systems Manager管理，无法集中打补丁或下发命令")
    ping = mine.attributes.get("ping_status")
    if ping != "Online" and state not in _STOPPED:
        return failed(f"managed, but the agent is {ping} (last seen {mine.attributes.get('last_ping_days')} days ago)",
                      f"已纳管，但代理状态为{ping}（{mine.attributes.get('last_ping_days')}天前最后在线）",
                      evidence=asset.evidence + mine.evidence)
    return passed(f"managed by Systems Manager, agent {ping} ({mine.attributes.get('platform')})",
                  f"已纳入Systems Manager管理，代理状态{ping}（{mine.attributes.get('platform')}）",
                  evidence=asset.evidence + mine.evidence)


@check(
    id="aws.ssm.patch_compliance",
    title_en="Managed instances are patched: no missing or failed patches in a recent baseline scan",
    high_risk=[{"case": "6.4.3.2", "when": {"missing": {"gt": 0}},
                "basis": "the patch baseline scan reports missing patches (whether they fix published, exploitable "
                         "high-risk flaws is the question); a stale scan or a reboot pending alone is not a case"}],
    severity="high",
    title_zh="发现已知漏洞并及时修补（Systems Manager补丁基线扫描无缺失或失败补丁）",
    controls={2: ["L2-CES1-15"], 3: ["L3-CES1-21", "L3-SMC1-11"]},
    asset_type="aws.ssm.managed_instance", params=["patch_scan_max_age_days"],
    remediation="Run AWS-RunPatchBaseline (Scan and Install) on a schedule through a maintenance window or Patch "
                "Manager policy, and reboot instances with installed-pending-reboot patches.",
    remediation_zh="通过维护时段或补丁管理器策略定期运行AWS-RunPatchBaseline（扫描并安装），并重启有待重启补丁的实例。",
    shows={"L2-CES1-15 L3-CES1-21": ("the patch baseline scan of the managed instance reports no missing, failed or "
                                     "pending-reboot patches, and the scan is recent",
                                     "受管实例的补丁基线扫描结果无缺失、失败或待重启的补丁，且扫描时间较近"),
           "L3-SMC1-11": ("patches are managed centrally: Patch Manager scans (and installs on) the instance against "
                          "a baseline", "补丁集中管理：补丁管理器按基线对实例扫描（并安装）")},
)
def patch_compliance(asset, ctx: CheckContext):
    state = ctx.need(asset, "patch_state")
    if state is None:
        return failed("no patch scan has ever reported: patch state unknown to central management",
                      "从未报告补丁扫描结果，集中管理无法掌握补丁状态")
    limit = ctx.profile.patch_scan_max_age_days
    problems, problems_zh = [], []
    for key, en, zh in (("MissingCount", "missing", "缺失"), ("FailedCount", "failed", "安装失败"),
                        ("InstalledPendingRebootCount", "installed pending reboot", "已安装待重启")):
        if state.get(key):
            problems.append(f"{state[key]} {en}")
            problems_zh.append(f"{zh}{state[key]}个")
    age = state.get("operation_end_days")
    if age is None or age > limit:
        problems.append(f"last scan {age if age is not None else 'never'} days ago (> {limit})")
        problems_zh.append(f"最近一次扫描在{age if age is not None else '未知'}天前（超过{limit}天）")
    if problems:
        sec = state.get("SecurityNonCompliantCount")
        return failed("patches: " + ", ".join(problems) + (f" ({sec} security)" if sec else ""),
                      "补丁：" + "，".join(problems_zh) + (f"（其中安全补丁{sec}个）" if sec else ""),
                      details={"patch_state": state, "missing": int(state.get("MissingCount") or 0)})
    operation = str(state.get("operation") or "Scan")
    return passed(f"patch {operation.lower()} {age} days ago: no missing or failed patches",
                  f"{age}天前完成补丁{'安装' if operation == 'Install' else '扫描'}，无缺失或失败的补丁")


@check(
    id="aws.securityhub.enabled",
    title_en="Security Hub is enabled in the region (central security posture and findings)",
    title_zh="启用Security Hub，集中管理安全策略检查和安全事件",
    controls={3: ["L3-SMC1-11", "L3-SMC1-12", "L3-SMC2-04"]},
    asset_type="aws.region", reads=["aws.securityhub.hub"],
    remediation="Enable Security Hub in every region in use (with the AWS Foundational Security Best Practices "
                "standard) and aggregate findings to one region.",
    remediation_zh="在所有使用中的区域启用Security Hub（启用AWS基础安全最佳实践标准），并将发现汇总到一个区域。",
    shows={"L3-SMC1-11": ("security policies are checked centrally: Security Hub runs standard controls over the "
                          "region's resources", "集中检查安全策略：Security Hub对本区域资源执行标准控制项检查"),
           "L3-SMC1-12": ("security events from GuardDuty, Inspector, Config and others are collected in one place "
                          "for analysis", "GuardDuty、Inspector、Config等的安全事件集中汇总以便分析"),
           "L3-SMC2-04": ("the customer centrally monitors the security state of its virtual networks and VMs "
                          "(Security Hub's controls and findings)",
                          "云服务客户对其虚拟网络和虚拟机的安全状况进行集中监测（Security Hub控制项与发现）")},
)
def securityhub_enabled(asset, ctx: CheckContext):
    na = _unavailable(ctx, asset, "aws.securityhub.hub", "Security Hub", "Security Hub服务")
    if na:
        return na
    hubs = ctx.related(asset, "aws.securityhub.hub")
    if hubs:
        since = hubs[0].attributes.get("subscribed_at")
        return passed(f"Security Hub enabled (since {since})", f"已启用Security Hub（自{since}起）",
                      evidence=asset.evidence + hubs[0].evidence)
    return failed("Security Hub is not enabled in the region", "本区域未启用Security Hub")


@check(
    id="aws.cloudwatch.instance_alarms",
    title_en="A CloudWatch alarm with an action watches each running instance",
    title_zh="对虚拟机运行状况进行集中监测（每个运行中的实例都有CloudWatch告警）",
    controls={3: ["L3-SMC2-04", "L3-SMC1-09"]},
    asset_type="aws.ec2.instance", reads=["aws.cloudwatch.alarm"],
    remediation="Create CloudWatch alarms on the instance's status checks and load (StatusCheckFailed, "
                "CPUUtilization) with an action to the operations topic, or on its Auto Scaling group.",
    remediation_zh="为实例的状态检查和负载（StatusCheckFailed、CPUUtilization）创建带有通知动作的CloudWatch告警，"
                   "或在其Auto Scaling组上设置告警。",
    shows={"L3-SMC2-04": ("the customer monitors each of its VMs centrally: a CloudWatch alarm with an action "
                          "watches the instance's metrics", "云服务客户对其每台虚拟机进行集中监测：带通知动作的CloudWatch"
                                                            "告警监视实例指标"),
           "L3-SMC1-09": ("the running state of servers is monitored centrally (CloudWatch alarms per instance)",
                          "对服务器的运行状况进行集中监测（每个实例有CloudWatch告警）")},
)
def instance_alarms(asset, ctx: CheckContext):
    a = asset.attributes
    if a.get("state") in _GONE:
        return None
    if a.get("state") in _STOPPED:
        return not_applicable("stopped", "实例已停止，不适用")
    group = (a.get("tags") or {}).get("aws:autoscaling:groupName")
    watching = [al for al in ctx.related(asset, "aws.cloudwatch.alarm")
                if al.attributes.get("actions_enabled") and al.attributes.get("alarm_actions")
                and (al.attributes.get("dimensions", {}).get("InstanceId") == a.get("instance_id")
                     or (group and al.attributes.get("dimensions", {}).get("AutoScalingGroupName") == group))]
    if watching:
        names = ", ".join(f"{al.name} ({al.attributes.get('metric')})" for al in watching)
        return passed(f"watched by {names}", f"由告警{names}监测", evidence=asset.evidence + watching[0].evidence)
    return failed("no CloudWatch alarm with an action watches this instance", "没有带通知动作的CloudWatch告警监测该实例")


# --------------------------------------------------------------------------- hardened images


@check(
    id="aws.ec2.image_provenance",
    title_en="Instances run images the organisation built (or a trusted owner published), not public ones",
    title_zh="重要业务系统使用加固的操作系统镜像（镜像来源为本组织构建或可信发布方）",
    controls={2: ["L2-CES2-03"], 3: ["L3-CES2-07"]},
    asset_type="aws.ec2.instance", reads=["aws.ec2.image"], params=["trusted_image_owners"],
    remediation="Build hardened images in the account (a golden-image pipeline such as EC2 Image Builder applying "
                "the hardening baseline), keep them private, launch from them; list other trusted publishers in the "
                "profile's trusted_image_owners.",
    remediation_zh="在本账号内构建加固镜像（如用EC2 Image Builder按加固基线构建的黄金镜像流水线），保持镜像私有并从其启动实例；"
                   "其他可信的镜像发布方列入配置的trusted_image_owners。",
    shows={"L2-CES2-03 L3-CES2-07": ("where each instance's image comes from: built in the account (or by an owner "
                                     "the profile trusts) and not public; the assessor confirms the hardening "
                                     "baseline those images follow",
                                     "每个实例所用镜像的来源：由本账号构建（或由配置信任的发布方发布）且未公开；测评人员确认这些"
                                     "镜像遵循的加固基线")},
)
def image_provenance(asset, ctx: CheckContext):
    a = asset.attributes
    if a.get("state") in _GONE:
        return None
    image = next((i for i in ctx.related(asset, "aws.ec2.image") if i.attributes.get("image_id") == a.get("image_id")),
                 None)
    if image is None:
        return failed(f"image {a.get('image_id')} is not described (deregistered or not shared): where it came from "
                      "and how it was hardened cannot be shown",
                      f"镜像{a.get('image_id')}无法查询（已注销或未共享），无法证明其来源和加固情况")
    i = image.attributes
    account = asset.scope.split("/")[2]
    owner, alias = str(i.get("owner_id") or ""), i.get("owner_alias")
    trusted = set(ctx.profile.trusted_image_owners)
    label = f"{image.name} ({i.get('image_id')})"
    if owner == account:
        if i.get("public"):
            return failed(f"{label} was built in this account but is public", f"{label}由本账号构建，但已公开",
                          evidence=asset.evidence + image.evidence)
        return passed(f"{label} built in this account (confirm it follows the hardening baseline)",
                      f"{label}由本账号构建（请确认其遵循加固基线）", evidence=asset.evidence + image.evidence)
    if owner in trusted or (alias and alias in trusted):
        return passed(f"{label} published by trusted owner {alias or owner}", f"{label}由可信发布方{alias or owner}发布",
                      evidence=asset.evidence + image.evidence)
    return failed(f"{label} comes from {alias or 'account ' + owner}, not from the organisation's hardened images",
                  f"{label}来自{alias or '账号' + owner}，不是本组织的加固镜像", evidence=asset.evidence + image.evidence)
