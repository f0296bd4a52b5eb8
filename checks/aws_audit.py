"""AWS audit and logging: CloudTrail, CloudWatch Logs retention, VPC flow logs, S3 access logging on log
buckets, AWS Config recording, GuardDuty. Level 1 has no audit items; level 2 and 3 ids differ."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, error, failed, not_applicable, passed


@check(
    id="aws.cloudtrail.multi_region",
    title_en="A multi-region CloudTrail trail is logging, with log file validation",
    title_zh="开启覆盖所有区域的CloudTrail审计跟踪并启用日志文件完整性验证",
    controls={2: ["L2-CES1-08", "L2-ABS2-06"], 3: ["L3-CES1-12", "L3-ABS2-07", "L3-SMC1-10", "L3-SMC2-03"]},
    asset_type="aws.account", reads=["aws.cloudtrail.trail"],
    shows={"L3-SMC2-03": ("the customer collects the audit data of the part it controls (API activity in every "
                          "region of the account) into one trail for central audit",
                          "云服务客户将其控制部分的审计数据（账号内所有区域的API操作）收集到一个跟踪中集中审计")},
    remediation="Create a multi-region trail (IsMultiRegionTrail, IncludeGlobalServiceEvents), enable log file "
                "validation and management events (All), and start logging.",
    remediation_zh="创建覆盖所有区域的跟踪（IsMultiRegionTrail、IncludeGlobalServiceEvents），启用日志文件完整性验证，"
                   "记录全部管理事件（All），并开始记录。",
    severity="high",
)
def cloudtrail_multi_region(asset, ctx: CheckContext):
    trails = ctx.related(asset, "aws.cloudtrail.trail")
    good, why, why_zh = [], [], []
    for t in trails:
        a = t.attributes
        problems = [(p, z) for p, z, bad in (("not multi-region", "未覆盖所有区域", not a.get("multi_region")),
                                             ("not logging", "未在记录", a.get("logging") is not True),
                                             ("no log file validation", "未启用日志文件完整性验证", not a.get("log_file_validation")),
                                             ("management events not all", "未记录全部管理事件", a.get("management_events") != "All"))
                    if bad]
        if "logging" in t.errors or "management_events" in t.errors:
            why.append(f"{t.name}: state unknown ({'; '.join(t.errors.values())})")
            why_zh.append(f"{t.name}：状态未知（{'；'.join(t.errors.values())}）")
        elif problems:
            why.append(f"{t.name}: {', '.join(p for p, _ in problems)}")
            why_zh.append(f"{t.name}：{'、'.join(z for _, z in problems)}")
        else:
            good.append(t.name)
    if good:
        return passed(f"multi-region trail(s) logging with validation: {', '.join(good)}",
                      f"覆盖所有区域并启用完整性验证的跟踪正在记录：{'、'.join(good)}",
                      evidence=asset.evidence + [e for t in trails for e in t.evidence])
    unknown = [t for t in trails if "logging" in t.errors or "management_events" in t.errors]
    if unknown:
        return error("trail status could not be read: " + "; ".join(why), "无法读取跟踪状态：" + "；".join(why_zh))
    return failed("no multi-region trail that logs management events with validation"
                  + (f" ({'; '.join(why)})" if why else " (no trail at all)"),
                  "没有覆盖所有区域、记录管理事件并启用完整性验证的跟踪"
                  + (f"（{'；'.join(why_zh)}）" if why_zh else "（未配置任何跟踪）"),
                  evidence=asset.evidence + [e for t in trails for e in t.evidence])


@check(
    id="aws.cloudtrail.protected",
    title_en="CloudTrail logs are encrypted with KMS and integrity-validated",
    title_zh="审计日志使用KMS加密并启用完整性验证，防止篡改",
    controls={2: ["L2-CES1-10", "L2-ABS1-10"], 3: ["L3-CES1-14", "L3-ABS1-18"]},
    asset_type="aws.cloudtrail.trail",
    remediation="Set KmsKeyId on the trail (SSE-KMS) and enable log file validation; keep the bucket versioned.",
    remediation_zh="为跟踪设置KmsKeyId（SSE-KMS加密）并启用日志文件完整性验证；日志存储桶开启版本控制。",
)
def cloudtrail_protected(asset, ctx: CheckContext):
    problems = []
    if not ctx.need(asset, "kms_key_id"):
        problems.append(("logs not encrypted with a KMS key", "日志未使用KMS密钥加密"))
    if not ctx.need(asset, "log_file_validation"):
        problems.append(("log file validation off", "未启用日志文件完整性验证"))
    if problems:
        return failed("; ".join(p for p, _ in problems), "；".join(z for _, z in problems))
    return passed("KMS-encrypted, log file validation on", "日志已使用KMS加密，已启用日志文件完整性验证")


@check(
    id="aws.logs.retention",
    high_risk=[{"case": "6.5.1.2", "when": {"retention_days": {"lt": 180}},
                "basis": "logs kept under six months (the law's limit, whatever the profile's)"}],
    title_en="Log groups keep logs at least the required days (6 months by law)",
    title_zh="日志组保留期不少于规定天数（网络安全法要求至少六个月）",
    controls={2: ["L2-CES1-10"], 3: ["L3-CES1-14", "L3-SMC1-10"]},
    asset_type="aws.logs.log_group", params=["log_retention_days"],
    remediation="Set the log group retention (PutRetentionPolicy) to at least the profile's log_retention_days, "
                "or export to S3 with a matching lifecycle.",
    remediation_zh="将日志组保留期（PutRetentionPolicy）设置为不少于配置中的log_retention_days（默认180天），"
                   "或导出到S3并设置相应的生命周期。",
    severity="high",
)
def log_retention(asset, ctx: CheckContext):
    days = ctx.need(asset, "retention_days")
    need = ctx.profile.log_retention_days
    if days is None:
        return passed("retention: never expire", "保留期：永不过期")
    if int(days) < need:
        return failed(f"retention {days} days < {need}", f"日志保留{days}天，少于要求的{need}天",
                      details={"retention_days": days, "required": need})
    return passed(f"retention {days} days >= {need}", f"日志保留{days}天，不少于要求的{need}天")


@check(
    id="aws.vpc.flow_logs",
    title_en="VPC flow logs are enabled", title_zh="VPC开启流日志，记录边界网络访问",
    controls={2: ["L2-ABS1-08", "L2-ABS2-05"], 3: ["L3-ABS1-16", "L3-ABS2-05"]},
    asset_type="aws.ec2.vpc",
    remediation="Create a flow log (TrafficType ALL) for the VPC to CloudWatch Logs or S3.",
    remediation_zh="为VPC创建流日志（TrafficType ALL），发送到CloudWatch Logs或S3。",
)
def flow_logs(asset, ctx: CheckContext):
    if ctx.need(asset, "flow_logs"):
        return passed("flow logs active", "流日志已启用")
    return failed("no active flow log", "未启用流日志")


@check(
    id="aws.s3.log_bucket_access_logging",
    title_en="Buckets holding audit logs have server access logging",
    title_zh="存放审计日志的存储桶开启访问日志",
    controls={2: ["L2-CES1-10"], 3: ["L3-CES1-14"]},
    asset_type="aws.s3.bucket", reads=["aws.cloudtrail.trail"],
    remediation="Enable server access logging on the CloudTrail/log bucket, to another bucket.",
    remediation_zh="为CloudTrail日志存储桶开启服务器访问日志，写入另一个存储桶。",
)
def log_bucket_access_logging(asset, ctx: CheckContext):
    if not asset.attributes.get("cloudtrail_bucket"):
        return None  # only buckets that receive audit logs (CloudTrail targets)
    target = ctx.need(asset, "logging")
    if target:
        return passed(f"access logging to {target}", f"访问日志写入{target}")
    return failed("log bucket without server access logging", "日志存储桶未开启服务器访问日志")


@check(
    id="aws.config.recording",
    title_en="AWS Config records all resource types in the region",
    title_zh="开启AWS Config记录所有资源配置变更",
    controls={2: ["L2-CES1-08"], 3: ["L3-CES1-12", "L3-SMC1-09"]},
    asset_type="aws.region", reads=["aws.config.recorder"],
    remediation="Create a configuration recorder with allSupported=true and a delivery channel, then start it.",
    remediation_zh="创建allSupported=true的配置记录器和传输通道，并启动记录。",
)
def config_recording(asset, ctx: CheckContext):
    if ctx.unavailable(asset, "aws.config.recorder"):
        why = ctx.unavailable(asset, "aws.config.recorder")[0].reason
        return not_applicable(why or "AWS Config not offered here", f"本区域不提供AWS Config（{why or '服务不可用'}）")
    recs = ctx.related(asset, "aws.config.recorder")
    if not recs:
        return failed("no configuration recorder", "未配置配置记录器")
    for r in recs:
        if ctx.need(r, "recording") and r.attributes.get("all_supported"):
            return passed(f"recorder {r.name} recording all supported types", f"配置记录器{r.name}正在记录所有支持的资源类型",
                          evidence=asset.evidence + r.evidence)
    return failed("configuration recorder not recording all supported resource types", "配置记录器未记录所有支持的资源类型",
                  evidence=asset.evidence + [e for r in recs for e in r.evidence])


@check(
    id="aws.guardduty.enabled",
    high_risk=[{"case": "6.3.3.1",
                "basis": "no threat detection in a region in use: no detection of outside attacks there (another "
                         "IDS/IPS is the question)"},
               {"case": "6.3.3.2",
                "basis": "no threat detection in a region in use: no detection of inside attacks there (another "
                         "IDS/IPS is the question)"}],
    title_en="GuardDuty threat detection is enabled in the region",
    title_zh="在区域内启用GuardDuty威胁检测",
    controls={2: ["L2-ABS1-06", "L2-ABS2-03", "L2-ABS2-04"],
              3: ["L3-ABS1-10", "L3-ABS1-11", "L3-ABS1-12", "L3-ABS1-13", "L3-CES1-22", "L3-ABS2-03", "L3-ABS2-04",
                  "L3-ABS2-06"]},
    asset_type="aws.region", reads=["aws.guardduty.detector"],
    shows={"L3-ABS1-12": ("GuardDuty analyses the region's network behaviour (VPC flow logs, DNS queries, CloudTrail "
                          "events) with threat intelligence and anomaly detection, which identifies new kinds of attack",
                          "GuardDuty结合威胁情报和异常检测分析本区域的网络行为（VPC流日志、DNS查询、CloudTrail事件），"
                          "可识别新型网络攻击")},
    remediation="Enable a GuardDuty detector in every region in use and route its findings to an alert channel.",
    remediation_zh="在所有使用中的区域启用GuardDuty检测器，并将其发现推送到告警渠道。",
    severity="high",
)
def guardduty_enabled(asset, ctx: CheckContext):
    na = ctx.unavailable(asset, "aws.guardduty.detector")
    if na:
        return not_applicable(na[0].reason or "GuardDuty not offered here",
                              f"本区域不提供GuardDuty（{na[0].reason or '服务不可用'}）")
    dets = ctx.related(asset, "aws.guardduty.detector")
    if not dets:
        return failed("no GuardDuty detector", "未创建GuardDuty检测器")
    if any(ctx.need(d, "status") == "ENABLED" for d in dets):
        return passed("GuardDuty detector enabled", "GuardDuty检测器已启用",
                      evidence=asset.evidence + [e for d in dets for e in d.evidence])
    return failed("GuardDuty detector present but not enabled", "GuardDuty检测器存在但未启用")
