"""Kubernetes security audit: the API server's audit log (enabled with a policy, retained for the profile's
days, shipped out of the cluster). Read from the kube-apiserver static pod's flags (`k8s.cluster.api_server`);
where the control plane is not visible (managed clusters) the flags are missing and these checks say `error`
with the reason: an assessor must supply the provider's control-plane logging evidence.
"""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, error, failed, passed

from ._k8s import control_plane
from ._k8s_instances import per_apiserver

# images of well-known log shippers (a DaemonSet running one is evidence that node logs leave the cluster)
SHIPPERS = ("fluent-bit", "fluentbit", "fluentd", "filebeat", "vector", "promtail", "logstash", "splunk",
            "datadog-agent", "otel/opentelemetry-collector", "opentelemetry-collector", "ilogtail", "loongcollector",
            "cloudwatch-agent", "aws-for-fluent-bit")


@check(
    id="k8s.apiserver.audit_log",
    title_en="API server audit logging is enabled with a policy", title_zh="API 服务器开启审计日志并配置审计策略",
    controls={2: ["L2-CES1-08", "L2-CES1-09"], 3: ["L3-CES1-12", "L3-CES1-13"]},
    asset_type="k8s.cluster",
    remediation="Start kube-apiserver with --audit-policy-file (level Metadata or above for all requests) and "
                "--audit-log-path or --audit-webhook-config-file.",
    remediation_zh="以--audit-policy-file（对所有请求记录Metadata及以上级别）和--audit-log-path或"
                   "--audit-webhook-config-file启动kube-apiserver。",
    severity="high",
)
@per_apiserver
def audit_log(asset, ctx: CheckContext):
    src, api = control_plane(asset, ctx)
    if src == "eks":
        if "audit" in api.get("logging_types", []):
            return passed(f"EKS control-plane logging includes audit ({', '.join(api['logging_types'])}) "
                          f"to CloudWatch Logs {api['audit_log_group']}",
                          f"EKS控制平面日志包含审计（{'、'.join(api['logging_types'])}），写入CloudWatch Logs {api['audit_log_group']}")
        enabled = ', '.join(api.get('logging_types') or [])
        return failed(f"EKS control-plane audit logging is off (enabled: {enabled or 'none'})",
                      f"EKS控制平面未开启审计日志（已开启：{enabled or '无'}）")
    sink = api.get("audit_log_path") or api.get("audit_webhook_config_file")
    if not sink:
        return failed("no audit backend: neither --audit-log-path nor --audit-webhook-config-file is set",
                      "未配置审计后端：--audit-log-path和--audit-webhook-config-file均未设置")
    if api.get("audit_log_path") == "-" and not api.get("audit_webhook_config_file"):
        return failed("audit log goes to stdout only (--audit-log-path=-)", "审计日志仅输出到标准输出（--audit-log-path=-）")
    if not api.get("audit_policy_file"):
        return failed("audit backend set but no --audit-policy-file: the API server records no events",
                      "已设置审计后端但未设置--audit-policy-file：API服务器不记录任何事件")
    return passed(f"audit policy {api['audit_policy_file']}; backend {sink}", f"审计策略{api['audit_policy_file']}；审计后端{sink}")


@check(
    id="k8s.apiserver.audit_retention",
    high_risk=[{"case": "6.5.1.2", "when": {"retention_days": {"lt": 180}},
                "basis": "audit logs kept under six months (the law's limit, whatever the profile's), or not kept at "
                         "all"}],
    title_en="API server audit logs are kept at least the profile's retention", title_zh="API 服务器审计日志保存期限满足要求",
    controls={2: ["L2-CES1-10"], 3: ["L3-CES1-14"]},
    asset_type="k8s.cluster",
    params=["log_retention_days"],
    remediation="Set --audit-log-maxage to at least the retention days (180 by law) or ship the audit log to a "
                "store that keeps it that long.",
    remediation_zh="将--audit-log-maxage设置为不少于保留天数（法律要求180天），或将审计日志发送到能保留同样时长的存储。",
    severity="high",
)
@per_apiserver
def audit_retention(asset, ctx: CheckContext):
    src, api = control_plane(asset, ctx)
    days = ctx.profile.log_retention_days
    if src == "eks":
        if "audit" not in api.get("logging_types", []):
            return failed("EKS audit logging is off: nothing to retain", "EKS未开启审计日志：没有可保留的日志",
                          details={"retention_days": 0})
        group = api["audit_log_group"]
        if not api.get("audit_log_group_exists"):
            return failed(f"log group {group} does not exist", f"日志组{group}不存在", details={"retention_days": 0})
        keep = api.get("audit_log_retention_days")
        if keep is None:
            return passed(f"{group} never expires", f"{group}永不过期")
        if keep >= days:
            return passed(f"{group} kept {keep} days >= {days}", f"{group}保留{keep}天，不少于{days}天")
        return failed(f"{group} kept {keep} days, below {days}", f"{group}保留{keep}天，少于{days}天",
                      details={"retention_days": keep})
    log_file = api.get("audit_log_path") if api.get("audit_log_path") not in (None, "", "-") else None
    webhook = api.get("audit_webhook_config_file")
    if not log_file and not webhook:
        stdout = api.get("audit_log_path") == "-"
        return failed("no audit log to retain" + (" (--audit-log-path=- writes to stdout only)" if stdout else ""),
                      "没有可保留的审计日志" + ("（--audit-log-path=-仅输出到标准输出）" if stdout else ""),
                      details={"retention_days": 0})
    age = api.get("audit_log_maxage")
    if log_file and age is not None and age >= days:
        return passed(f"--audit-log-maxage={age} >= {days} days", f"--audit-log-maxage={age}，不少于{days}天")
    local = (f"--audit-log-maxage={age}" if age is not None else "--audit-log-maxage not set") if log_file \
        else "no local audit log file"
    local_zh = (f"--audit-log-maxage={age}" if age is not None else "未设置--audit-log-maxage") if log_file \
        else "没有本地审计日志文件"
    if webhook:
        # the webhook ships events out; how long they are kept is the backend's setting, which the cluster
        # does not show: evidence missing, not a pass
        return error(f"{local}; audit events go to the webhook in {webhook}, so retention is held by its "
                     f"backend: supply that store's retention setting (at least {days} days)",
                     f"{local_zh}；审计事件发送到{webhook}中配置的webhook，保留期限由其后端决定："
                     f"请提供该存储的保留设置（至少{days}天）")
    return failed((f"{local} (files kept by count only)" if age is None else f"{local} is below {days} days")
                  + ", and no webhook ships the log out",
                  (f"{local_zh}（仅按文件个数保留）" if age is None else f"{local_zh}，少于{days}天")
                  + "，且没有webhook将日志送出", details={"retention_days": age})


@check(
    id="k8s.audit.shipped",
    title_en="Audit and node logs are shipped out of the cluster", title_zh="审计日志集中收集（送出集群）",
    controls={2: ["L2-CES1-10"], 3: ["L3-SMC1-10", "L3-CES1-14"]},
    asset_type="k8s.cluster",
    reads=["k8s.workload"],
    remediation="Send API-server audit events to a central store (audit webhook, or a log-shipper DaemonSet "
                "reading the audit log) outside the cluster.",
    remediation_zh="将API服务器审计事件发送到集群外的集中存储（审计webhook，或读取审计日志的日志采集DaemonSet）。",
)
@per_apiserver
def audit_shipped(asset, ctx: CheckContext):
    src, api = control_plane(asset, ctx)
    if src == "eks":
        if "audit" in api.get("logging_types", []):
            return passed(f"EKS sends audit logs to CloudWatch Logs {api['audit_log_group']} (outside the cluster)",
                          f"EKS将审计日志发送到CloudWatch Logs {api['audit_log_group']}（集群外）")
        return failed("EKS audit logging is off: no audit log leaves the control plane",
                      "EKS未开启审计日志：没有审计日志离开控制平面")
    if api.get("audit_webhook_config_file"):
        return passed(f"audit webhook {api['audit_webhook_config_file']}", f"审计webhook：{api['audit_webhook_config_file']}")
    shippers = [w.name for w in ctx.related(asset, "k8s.workload") if w.attributes.get("kind") == "DaemonSet"
                and any(s in img for img in w.attributes.get("images") or [] for s in SHIPPERS)]
    if shippers and api.get("audit_log_path"):
        return passed(f"log shipper DaemonSet(s) {', '.join(shippers)} with audit log at {api['audit_log_path']} "
                      "(assessor to confirm the audit path is collected)",
                      f"日志采集DaemonSet {'、'.join(shippers)}，审计日志位于{api['audit_log_path']}"
                      "（需测评人员确认该路径已被采集）", details={"shippers": shippers})
    return failed("no audit webhook and no log-shipper DaemonSet: audit logs stay on the control-plane node",
                  "没有审计webhook，也没有日志采集DaemonSet：审计日志仅保存在控制平面节点上")
