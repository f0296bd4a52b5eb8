"""Linux hosts, security audit (安全审计): auditd with rules for logins, privilege use and changes; logs forwarded
to a central collector; local retention; time synchronisation; the audit process protected (level 3)."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, error, failed, passed


@check(id="host.auditd", title_en="auditd runs with rules for logins, privilege use and changes",
       title_zh="开启安全审计（auditd及审计规则）", controls={2: ["L2-CES1-08"], 3: ["L3-CES1-12"]},
       asset_type="host", severity="high",
       remediation="Enable auditd and load rules watching logins (lastlog/faillog), privilege use (sudoers, execve "
                   "as root) and identity changes (/etc/passwd, /etc/shadow, /etc/group).",
       remediation_zh="启用auditd并加载审计规则，覆盖登录（lastlog/faillog）、特权使用（sudoers、以root执行execve）"
                      "和身份变更（/etc/passwd、/etc/shadow、/etc/group）。")
def auditd(asset, ctx: CheckContext):
    a = ctx.need(asset, "audit")
    if not a.get("active"):
        return failed(f"auditd is not running (state: {a.get('service') or 'not installed'})",
                      f"auditd未运行（状态：{a.get('service') or '未安装'}）")
    if a.get("enabled") == 0:
        return failed("auditd runs but auditing is disabled (enabled 0)", "auditd在运行但审计已关闭（enabled 0）")
    if a.get("rules_readable") is False:
        return error(f"audit rules unreadable: {a.get('rules_error') or 'auditctl -l failed'} "
                     "(collect as root or allow `sudo -n`)",
                     f"无法读取审计规则：{a.get('rules_error') or 'auditctl -l 执行失败'}（请以root采集或允许`sudo -n`）")
    missing = [k for k, v in (a.get("covers") or {}).items() if not v]
    if not a.get("rule_count"):
        return failed("auditd runs with no rules loaded", "auditd在运行但未加载任何审计规则")
    if missing:
        return failed(f"audit rules do not cover: {', '.join(missing)}",
                      f"审计规则未覆盖：{'、'.join(_COVERS_ZH.get(m, m) for m in missing)}", details={"rules": a.get("rules")})
    return passed(f"auditd active, {a['rule_count']} rules covering logins, privilege use and changes",
                  f"auditd已启用，{a['rule_count']}条规则覆盖登录、特权使用和变更")


_COVERS_ZH = {"logins": "登录", "privileged": "特权使用", "changes": "身份与配置变更"}


@check(id="host.audit_protected", title_en="Audit configuration is immutable (level 3)", title_zh="保护审计进程",
       controls={3: ["L3-CES1-15"]}, asset_type="host",
       remediation="End the audit rules with `-e 2` so rules cannot be changed or auditing stopped without a reboot.",
       remediation_zh="在审计规则末尾加上`-e 2`，使规则在重启前无法被修改、审计无法被停止。")
def audit_protected(asset, ctx: CheckContext):
    a = ctx.need(asset, "audit")
    if a.get("active") and a.get("immutable"):
        return passed("audit rules locked (-e 2)", "审计规则已锁定（-e 2）")
    if a.get("active") and a.get("status_readable") is False:  # the lock (enabled 2) shows in `auditctl -s`
        return error(f"audit lock state unknown: auditctl -s unreadable ({a.get('status_error')}); "
                     "collect as root or allow `sudo -n`",
                     f"审计锁定状态未知：无法读取auditctl -s（{a.get('status_error')}）；请以root采集或允许`sudo -n`")
    if a.get("active"):
        return failed("audit rules are not locked (-e 2 missing)", "审计规则未锁定（缺少-e 2）")
    return failed("auditd is not running", "auditd未运行")


@check(id="host.log_forwarding", title_en="Logs are forwarded to a central collector", title_zh="日志集中收集",
       controls={2: ["L2-CES1-10"], 3: ["L3-CES1-14", "L3-SMC1-10", "L3-SMC2-03"]}, asset_type="host",
       shows={"L3-SMC2-03": ("the host's logs (the customer-controlled part) are collected centrally",
                             "主机日志（云服务客户控制的部分）被集中收集")},
       remediation="Forward syslog (rsyslog `*.* @@collector:514` / omfwd) or audit (audisp-remote) to the central "
                   "log platform.",
       remediation_zh="将syslog（rsyslog `*.* @@collector:514` / omfwd）或审计日志（audisp-remote）转发到集中日志平台。")
def log_forwarding(asset, ctx: CheckContext):
    lg = ctx.need(asset, "logging")
    targets = list(lg.get("remote_targets") or [])
    if lg.get("audisp_remote"):
        targets.append("audisp-remote")
    if not targets:
        return failed("logs stay on the host: no rsyslog/syslog-ng remote target, journal upload or audisp-remote",
                      "日志仅保存在本机：未配置rsyslog/syslog-ng远程目标、journal上传或audisp-remote")
    if lg.get("remote_targets") and not (lg.get("rsyslog_active") or lg.get("syslog_ng_active")
                                         or lg.get("services", {}).get("systemd-journal-upload") == "active"):
        return failed(f"a remote target is configured ({', '.join(targets)}) but no syslog daemon is running",
                      f"已配置远程目标（{'、'.join(targets)}），但没有运行中的syslog服务")
    return passed(f"forwarded to {', '.join(targets)}", f"日志已转发到{'、'.join(targets)}")


@check(id="host.log_retention", title_en="Local logs are kept at least the profile's days",
       high_risk=[{"case": "6.5.1.2", "when": {"retention_days": {"lt": 180}},
                   "basis": "logs kept under six months (the law's limit, whatever the profile's), or no retention "
                            "found"}],
       title_zh="审计记录留存不少于六个月", controls={2: ["L2-CES1-10"], 3: ["L3-CES1-14", "L3-SMC1-10"]},
       asset_type="host", params=["log_retention_days"],
       remediation="Keep rotated logs for at least the profile's days (logrotate `weekly` + `rotate 26`, or "
                   "`maxage 180`), or show the central collector's retention to the assessor.",
       remediation_zh="轮转后的日志至少保留配置要求的天数（logrotate `weekly` + `rotate 26`，或`maxage 180`），"
                      "或向测评人员出示集中日志平台的保留设置。", severity="high")
def log_retention(asset, ctx: CheckContext):
    lg = ctx.need(asset, "logging")
    days = lg.get("retention_days")
    need = ctx.profile.log_retention_days
    if days is None:
        return failed(f"no logrotate retention found for the system logs (need {need} days)",
                      f"未找到系统日志的logrotate保留设置（要求{need}天）", details={"retention_days": None})
    if days < need:
        return failed(f"logs kept about {days} days locally (< {need})" +
                      ("; forwarded: confirm the collector's retention" if lg.get("forwarding") else ""),
                      f"本地日志约保留{days}天（少于{need}天）" +
                      ("；日志已转发：请确认集中日志平台的保留期限" if lg.get("forwarding") else ""),
                      details={"logrotate": lg.get("logrotate"), "retention_days": days})
    return passed(f"logs kept about {days} days ({lg['logrotate']})", f"日志约保留{days}天（{lg['logrotate']}）")


@check(id="host.time_sync", title_en="Time is synchronised from a reliable source", title_zh="时钟同步",
       controls={2: ["L2-CES1-09"], 3: ["L3-CES1-13"]}, asset_type="host",
       remediation="Run chronyd/ntpd/systemd-timesyncd against the organisation's time servers.",
       remediation_zh="运行chronyd/ntpd/systemd-timesyncd，与单位的时间服务器同步。")
def time_sync(asset, ctx: CheckContext):
    t = ctx.need(asset, "time_sync")
    if not t.get("active"):
        return failed("no time synchronisation service is running (chronyd/ntpd/timesyncd)",
                      "没有运行中的时钟同步服务（chronyd/ntpd/timesyncd）")
    if t.get("synchronized") is False:
        return failed(f"{', '.join(t['active_services'])} running but the clock is not synchronised",
                      f"{'、'.join(t['active_services'])}在运行，但时钟未同步")
    return passed(f"{', '.join(t['active_services'])} running" + (f", servers {', '.join(t['servers'])}" if t.get("servers") else ""),
                  f"{'、'.join(t['active_services'])}在运行" + (f"，时间服务器：{'、'.join(t['servers'])}" if t.get("servers") else ""))
