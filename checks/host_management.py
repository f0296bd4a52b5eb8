"""Linux hosts, security management (安全管理中心) and access-policy ownership: administrators' operations
audited (privileged commands, account, time and sudo changes), the audit administrator's operations on the
audit system audited, and the files holding access-control policy changeable only by root (level 3)."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, error, failed, passed

_ADMIN_EVENTS = {"privileged_commands": ("privileged command execution", "特权命令执行"),
                 "identity": ("account and group changes", "账户和组变更"),
                 "time": ("system time changes", "系统时间变更"),
                 "sudoers": ("sudo configuration changes", "sudo配置变更")}


def _audit_rules(asset, ctx: CheckContext):
    """The audit facts, or a verdict when auditd cannot show what it records."""
    a = ctx.need(asset, "audit")
    if not a.get("active"):
        return None, failed(f"auditd is not running (state: {a.get('service') or 'not installed'})",
                            f"auditd未运行（状态：{a.get('service') or '未安装'}）")
    if a.get("rules_readable") is False:
        return None, error(f"audit rules unreadable: {a.get('rules_error') or 'auditctl -l failed'}",
                           f"无法读取审计规则：{a.get('rules_error') or 'auditctl -l 执行失败'}")
    if "covers_events" not in a:
        return None, error("the audit rules' event classes were not read (older fact parser)",
                           "未解析审计规则覆盖的事件类别")
    return a, None


@check(
    id="host.admin_actions_audited",
    title_en="Administrators' operations are audited: privileged commands, account, time and sudo changes",
    title_zh="对系统管理员的操作进行审计（特权命令、账户、时间及sudo配置变更）",
    controls={2: ["L2-SMC1-01"], 3: ["L3-SMC1-01"]},
    asset_type="host", severity="medium",
    remediation="Add audit rules for privileged command execution (-a always,exit -F arch=b64 -S execve -F euid=0 "
                "-k privileged), identity files (-w /etc/passwd -p wa -k identity, shadow, group, gshadow), time "
                "changes (-S adjtimex,settimeofday,clock_settime -k time-change) and sudoers (-w /etc/sudoers -p wa).",
    remediation_zh="添加审计规则：特权命令执行（-a always,exit -F arch=b64 -S execve -F euid=0 -k privileged）、"
                   "身份文件（-w /etc/passwd -p wa -k identity，以及shadow、group、gshadow）、时间变更（-S "
                   "adjtimex,settimeofday,clock_settime -k time-change）和sudoers（-w /etc/sudoers -p wa）。",
    shows={"L2-SMC1-01 L3-SMC1-01": ("on the host, what system administrators do is audited: auditd records "
                                     "privileged command execution and changes to accounts, time and sudo rights "
                                     "(administration through sudo/SSH, the defined interface, is checked by the "
                                     "SSH and sudo checks)",
                                     "主机上系统管理员的操作被审计：auditd记录特权命令执行以及账户、时间和sudo权限的"
                                     "变更（通过sudo/SSH这一特定管理方式进行管理由SSH和sudo相关检查判定）")},
)
def admin_actions_audited(asset, ctx: CheckContext):
    a, verdict = _audit_rules(asset, ctx)
    if verdict:
        return verdict
    covers = a["covers_events"]
    missing = [k for k in _ADMIN_EVENTS if not covers.get(k)]
    if missing:
        return failed("audit rules do not record " + ", ".join(_ADMIN_EVENTS[k][0] for k in missing),
                      "审计规则未记录" + "、".join(_ADMIN_EVENTS[k][1] for k in missing),
                      details={"rules": a.get("rules"), "missing": missing})
    return passed("audit rules record " + ", ".join(v[0] for v in _ADMIN_EVENTS.values()),
                  "审计规则记录了" + "、".join(v[1] for v in _ADMIN_EVENTS.values()))


@check(
    id="host.audit_config_audited",
    title_en="Changes to the audit system itself are audited (audit administrator's operations)",
    title_zh="对审计管理员的操作进行审计（审计配置和审计日志的变更被记录）",
    controls={2: ["L2-SMC1-03"], 3: ["L3-SMC1-03"]},
    asset_type="host",
    remediation="Watch the audit configuration and tools: -w /etc/audit/ -p wa -k auditconfig, "
                "-w /sbin/auditctl -p x -k audittools (and lock the rules with -e 2).",
    remediation_zh="监视审计配置和审计工具：-w /etc/audit/ -p wa -k auditconfig，-w /sbin/auditctl -p x -k audittools"
                   "（并以 -e 2 锁定审计规则）。",
    shows={"L2-SMC1-03 L3-SMC1-03": ("on the host, what the audit administrator does to the audit system is itself "
                                     "audited: rules watch the audit configuration, logs or tools",
                                     "主机上审计管理员对审计系统的操作本身被审计：审计规则监视审计配置、审计日志或"
                                     "审计工具")},
)
def audit_config_audited(asset, ctx: CheckContext):
    a, verdict = _audit_rules(asset, ctx)
    if verdict:
        return verdict
    if a["covers_events"].get("audit_config"):
        return passed("audit rules watch the audit configuration/tools" + (" and the rules are locked (-e 2)"
                                                                          if a.get("immutable") else ""),
                      "审计规则监视审计配置或审计工具" + ("，且规则已锁定（-e 2）" if a.get("immutable") else ""))
    return failed("no audit rule watches the audit configuration, logs or tools: changes to auditing leave no record",
                  "没有审计规则监视审计配置、审计日志或审计工具，对审计系统的修改不留记录",
                  details={"rules": a.get("rules")})


# files that hold who may do what on the host
_SECRET = ("/etc/shadow", "/etc/gshadow")


@check(
    id="host.policy_files_protected",
    title_en="Only root can change the files holding access-control policy (level 3)",
    high_risk=[{"case": "6.4.2.2", "when": {"changeable_by_others": {"nonempty": True}},
                "basis": "an account other than root can change the host's access-control policy (accounts, sudo, "
                         "sshd, PAM): a path past its duties; a shadow file readable by all is not this case"}],
    severity="high",
    title_zh="访问控制策略文件仅可由授权主体（root）修改",
    controls={3: ["L3-CES1-09"]},
    asset_type="host",
    remediation="chown root and chmod go-w the policy files (/etc/passwd 644, /etc/shadow 000 or 640 root:shadow, "
                "/etc/sudoers 440, /etc/ssh/sshd_config 600, /etc/pam.d/* 644, /etc/audit/* 640).",
    remediation_zh="将策略文件属主设为root并去除组和其他用户的写权限（/etc/passwd 644、/etc/shadow 000或640 root:shadow、"
                   "/etc/sudoers 440、/etc/ssh/sshd_config 600、/etc/pam.d/* 644、/etc/audit/* 640）。",
    shows={"L3-CES1-09": ("the files that define access rules on the host (accounts, sudo, sshd, PAM, audit) are "
                          "owned by root and not writable by anyone else, so only the authorised administrator "
                          "configures the access-control policy",
                          "主机上定义访问规则的文件（账户、sudo、sshd、PAM、审计）属主为root且其他用户不可写，"
                          "访问控制策略只能由授权的管理员配置")},
)
def policy_files_protected(asset, ctx: CheckContext):
    files = ctx.need(asset, "permissions")
    if not files:
        return error("no access-policy file could be examined", "未能获取任何访问控制策略文件的权限信息")
    bad, bad_zh = [], []
    for f in files:
        mode = int(f["mode"], 8)
        if f["owner"] != "root":
            bad.append(f"{f['path']} owned by {f['owner']}")
            bad_zh.append(f"{f['path']}的属主为{f['owner']}")
        if mode & 0o022:
            bad.append(f"{f['path']} writable by group/others ({f['mode']})")
            bad_zh.append(f"{f['path']}可被组或其他用户写入（{f['mode']}）")
        if f["path"] in _SECRET and mode & 0o004:
            bad.append(f"{f['path']} readable by everyone ({f['mode']})")
            bad_zh.append(f"{f['path']}所有用户可读（{f['mode']}）")
    if bad:
        others = sorted({f["path"] for f in files if f["owner"] != "root" or int(f["mode"], 8) & 0o022})
        return failed("; ".join(bad), "；".join(bad_zh), details={"files": files, "changeable_by_others": others})
    return passed(f"{len(files)} policy files owned by root, not writable by others",
                  f"{len(files)}个策略文件属主为root，其他用户不可写")
