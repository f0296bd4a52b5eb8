"""Linux hosts, identification and authentication (身份鉴别): password policy, lockout, idle timeout, how remote
administration is done (SSH only), root login and key authentication, MFA hints at level 3.

Reads `host` assets of the hosts collector (docs/asset-types.md). Thresholds come from the profile.
"""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, not_applicable, passed

PLAINTEXT_ADMIN = {21: "ftp", 23: "telnet", 512: "rexec", 513: "rlogin", 514: "rsh", 69: "tftp"}
PLAINTEXT_SERVICES = ("telnet", "rsh", "rlogin", "rexec", "vsftpd", "proftpd", "pure-ftpd", "tftp", "xinetd", "inetd")
SHELL_IN_CLEAR = {"telnet", "rsh", "rlogin", "rexec"}
LOGIN_IN_CLEAR = SHELL_IN_CLEAR | {"ftp", "vsftpd", "proftpd", "pure-ftpd"}

CES1_01 = {1: ["L1-CES1-01"], 2: ["L2-CES1-01"], 3: ["L3-CES1-01"]}
CES1_02 = {1: ["L1-CES1-02"], 2: ["L2-CES1-02"], 3: ["L3-CES1-02"]}


@check(id="host.password_complexity", title_en="Password length and character classes meet the profile",
       title_zh="口令长度和复杂度符合要求", controls=CES1_01, asset_type="host",
       params=["password_min_length", "password_min_classes"], severity="high",
       remediation="Enforce pam_pwquality (or pam_cracklib) on password changes with minlen and minclass at least the "
                   "profile's values, e.g. `password requisite pam_pwquality.so minlen=8 minclass=3`.",
       remediation_zh="修改口令时启用pam_pwquality（或pam_cracklib），minlen和minclass不低于配置要求，"
                      "例如`password requisite pam_pwquality.so minlen=8 minclass=3`。")
def password_complexity(asset, ctx: CheckContext):
    pp = ctx.need(asset, "password_policy")
    p = ctx.profile
    problems = []
    if not pp.get("quality_module"):
        problems.append(("no password-quality PAM module (pam_pwquality/pam_cracklib) on password changes",
                         "修改口令时未启用口令质量PAM模块（pam_pwquality/pam_cracklib）"))
    n = pp.get("min_length")
    if n is None or n < p.password_min_length:
        problems.append((f"minimum length {n if n is not None else 'unset'} < {p.password_min_length}",
                         f"最小长度{n if n is not None else '未设置'}，小于{p.password_min_length}"))
    if (pp.get("min_classes") or 0) < p.password_min_classes:
        problems.append((f"character classes required {pp.get('min_classes') or 0} < {p.password_min_classes}",
                         f"要求的字符类别数{pp.get('min_classes') or 0}，少于{p.password_min_classes}"))
    if problems:
        return failed("; ".join(e for e, _ in problems), "；".join(z for _, z in problems), details={"password_policy": pp})
    return passed(f"{pp['quality_module']}: min length {n}, {pp['min_classes']} character classes",
                  f"{pp['quality_module']}：最小长度{n}，要求{pp['min_classes']}类字符")


@check(id="host.password_max_age", title_en="Passwords expire within the profile's maximum age",
       title_zh="口令定期更换", controls=CES1_01, asset_type="host", params=["password_max_age_days"],
       remediation="Set PASS_MAX_DAYS in /etc/login.defs to at most the profile's days and apply it to existing "
                   "accounts with `chage -M <days> <user>`.",
       remediation_zh="将/etc/login.defs中的PASS_MAX_DAYS设为不超过配置要求的天数，并用`chage -M <天数> <用户名>`"
                      "应用到现有账户。")
def password_max_age(asset, ctx: CheckContext):
    pp = ctx.need(asset, "password_policy")
    acc = ctx.need(asset, "accounts")
    limit = ctx.profile.password_max_age_days
    problems = []
    md = pp.get("max_days")
    if md is None or md > limit:
        problems.append((f"PASS_MAX_DAYS {md if md is not None else 'unset'} > {limit}",
                         f"PASS_MAX_DAYS为{md if md is not None else '未设置'}，超过{limit}天"))
    over = [u["name"] for u in acc.get("users", []) if u.get("login_shell") and u.get("password_status") == "set"
            and (u.get("max_days") is None or u["max_days"] > limit)]
    if over:
        problems.append((f"accounts whose password never expires within {limit} days: {', '.join(over)}",
                         f"口令在{limit}天内不会过期的账户：{'、'.join(over)}"))
    if problems:
        return failed("; ".join(e for e, _ in problems), "；".join(z for _, z in problems), details={"accounts": over})
    return passed(f"PASS_MAX_DAYS {md}; every password account expires within {limit} days",
                  f"PASS_MAX_DAYS为{md}；所有设有口令的账户均在{limit}天内过期")


@check(id="host.login_lockout", title_en="Failed logins lock the account", title_zh="登录失败处理（锁定）",
       controls=CES1_02, asset_type="host", params=["lockout_attempts", "lockout_duration_seconds"], severity="high",
       remediation="Enable pam_faillock (or pam_tally2) in the auth stack with deny <= the profile's attempts and "
                   "unlock_time >= the profile's duration.",
       remediation_zh="在认证栈中启用pam_faillock（或pam_tally2），deny不大于配置的失败次数，unlock_time不小于配置的锁定时长。")
def login_lockout(asset, ctx: CheckContext):
    lk = ctx.need(asset, "lockout")
    p = ctx.profile
    if not lk.get("module"):
        return failed("no login-failure lockout (pam_faillock/pam_tally2 not in the auth stack)",
                      "未配置登录失败锁定（认证栈中没有pam_faillock/pam_tally2）")
    problems = []
    if lk.get("deny") is None or lk["deny"] > p.lockout_attempts or lk["deny"] <= 0:
        problems.append((f"deny={lk.get('deny')} (max {p.lockout_attempts})", f"deny={lk.get('deny')}（最多{p.lockout_attempts}次）"))
    ut = lk.get("unlock_time")
    if ut is not None and ut != 0 and ut < p.lockout_duration_seconds:
        problems.append((f"unlock_time={ut}s < {p.lockout_duration_seconds}s",
                         f"unlock_time={ut}秒，短于{p.lockout_duration_seconds}秒"))
    if problems:
        return failed(f"{lk['module']}: " + "; ".join(e for e, _ in problems),
                      f"{lk['module']}：" + "；".join(z for _, z in problems), details={"lockout": lk})
    return passed(f"{lk['module']}: deny={lk['deny']}, unlock_time={ut if ut else 'manual'}",
                  f"{lk['module']}：失败{lk['deny']}次锁定，unlock_time={f'{ut}秒' if ut else '需手动解锁'}")


@check(id="host.idle_timeout", title_en="Idle shell sessions are logged out (TMOUT)", title_zh="登录连接超时自动退出",
       controls=CES1_02, asset_type="host", params=["idle_timeout_seconds"],
       remediation="Set `TMOUT=600; readonly TMOUT; export TMOUT` (at most the profile's seconds) in /etc/profile or "
                   "/etc/profile.d/*.sh. sshd ClientAliveInterval/ClientAliveCountMax only detect dead connections "
                   "and do not end an idle shell.",
       remediation_zh="在/etc/profile或/etc/profile.d/*.sh中设置`TMOUT=600; readonly TMOUT; export TMOUT`（不超过配置的秒数）。"
                      "sshd的ClientAliveInterval/ClientAliveCountMax只检测断开的连接，不会结束空闲的shell。")
def idle_timeout(asset, ctx: CheckContext):
    """The evidence an assessor accepts is the shell's TMOUT set in the profile files, readonly or exported.
    sshd ClientAlive* is a keepalive: it ends a session whose client stopped answering, not an idle one (the
    client answers the probes), so it never passes this check on its own; it is mentioned in the message."""
    it = ctx.need(asset, "idle_timeout")
    limit = ctx.profile.idle_timeout_seconds
    tm = it.get("tmout")
    ci, cc = it.get("ssh_client_alive_interval") or 0, it.get("ssh_client_alive_count_max")
    keepalive = (f"; sshd ClientAliveInterval {ci}, ClientAliveCountMax {cc} is a keepalive for dead connections, "
                 "not an idle-session timeout") if ci > 0 else ""
    keepalive_zh = (f"；sshd的ClientAliveInterval {ci}、ClientAliveCountMax {cc}只用于检测断开的连接，"
                    "不是空闲会话超时") if ci > 0 else ""
    where = f" in {', '.join(it['files'])}" if it.get("files") else ""
    where_zh = f"（{'、'.join(it['files'])}）" if it.get("files") else ""
    if tm and 0 < tm <= limit:
        if it.get("readonly") or it.get("exported"):
            how = " and ".join(w for w, on in (("readonly", it.get("readonly")), ("exported", it.get("exported"))) if on)
            how_zh = "、".join(w for w, on in (("只读", it.get("readonly")), ("已导出", it.get("exported"))) if on)
            return passed(f"TMOUT={tm}s{where} ({how})" +
                          ("" if it.get("readonly") else "; not readonly: users can unset it"),
                          f"TMOUT={tm}秒{where_zh}，{how_zh}" +
                          ("" if it.get("readonly") else "；非只读：用户可自行取消"),
                          details={"idle_timeout": it})
        return failed(f"TMOUT={tm}s is set{where} but neither readonly nor exported (`readonly TMOUT; export TMOUT`)"
                      + keepalive,
                      f"已设置TMOUT={tm}秒{where_zh}，但既非只读也未导出（`readonly TMOUT; export TMOUT`）" + keepalive_zh,
                      details={"idle_timeout": it})
    if tm and tm > limit:
        return failed(f"TMOUT={tm}s{where} > {limit}s" + keepalive, f"TMOUT={tm}秒{where_zh}，超过{limit}秒" + keepalive_zh,
                      details={"idle_timeout": it})
    return failed(f"no shell idle timeout within {limit}s: TMOUT {'0 (disabled)' if tm == 0 else 'unset'} in the "
                  "profile files" + keepalive,
                  f"没有{limit}秒以内的shell空闲超时：profile文件中TMOUT{'为0（已禁用）' if tm == 0 else '未设置'}" + keepalive_zh,
                  details={"idle_timeout": it})


@check(id="host.remote_admin_encrypted", title_en="Remote administration only over SSH (no telnet/rsh/ftp)",
       high_risk=[{"case": "6.4.1.2", "when": {"login_in_clear": {"nonempty": True}},
                   "basis": "a login service that sends passwords in clear (telnet, ftp, r-services); tftp or an "
                            "inetd alone carries none"},
                  {"case": "6.5.1.1", "when": {"shell_in_clear": {"nonempty": True}},
                   "basis": "a remote shell in clear (telnet, r-services): a management path without a secure channel"}],
       title_zh="远程管理采用加密方式（禁用telnet/rsh/ftp）",
       controls={2: ["L2-CES1-03"], 3: ["L3-CES1-03", "L3-SMC1-08"]}, asset_type="host", severity="high",
       remediation="Disable telnet, rlogin/rsh/rexec, ftp and tftp services and manage the host over SSH only.",
       remediation_zh="停用telnet、rlogin/rsh/rexec、ftp和tftp服务，仅通过SSH管理主机。")
def remote_admin_encrypted(asset, ctx: CheckContext):
    open_ports = set(asset.attributes.get("open_ports") or [])
    listening = {d["port"] for d in (asset.attributes.get("listening") or [])
                 if d.get("protocol") == "tcp" and not str(d.get("address", "")).startswith(("127.", "::1"))}
    services = [s for s in (asset.attributes.get("services") or []) if s.split(".")[0].split("@")[0] in PLAINTEXT_SERVICES]
    if "open_ports" not in asset.attributes and "listening" not in asset.attributes:
        ctx.need(asset, "listening")  # neither nmap nor the host told us what is open: error
    bad = sorted((open_ports | listening) & set(PLAINTEXT_ADMIN))
    if bad or services:
        what = [f"{PLAINTEXT_ADMIN[p]}/{p}" for p in bad] + services
        names = [PLAINTEXT_ADMIN[p] for p in bad] + [s.split(".")[0].split("@")[0] for s in services]
        return failed(f"plaintext remote access open: {', '.join(what)}", f"开放了明文远程访问：{'、'.join(what)}",
                      details={
                          "ports": bad, "services": services,
                          # what sends a password in clear, and what is a remote shell in clear (tftp and a bare
                          # inetd are neither)
                          "login_in_clear": sorted({n for n in names if n in LOGIN_IN_CLEAR}),
                          "shell_in_clear": sorted({n for n in names if n in SHELL_IN_CLEAR})})
    return passed("no telnet/rsh/rlogin/ftp/tftp port open or service running; administration over SSH",
                  "未开放telnet/rsh/rlogin/ftp/tftp端口或服务；通过SSH管理")


@check(id="host.ssh_root_login", title_en="Root cannot log in over SSH", title_zh="禁止root远程登录（默认账户）",
       controls={1: ["L1-CES1-04"], 2: ["L2-CES1-05"], 3: ["L3-CES1-06"]}, asset_type="host", severity="high",
       remediation="Set `PermitRootLogin no` in sshd_config; administrators log in with named accounts and use sudo.",
       remediation_zh="在sshd_config中设置`PermitRootLogin no`；管理员使用实名账户登录后通过sudo提权。")
def ssh_root_login(asset, ctx: CheckContext):
    v = (ctx.need(asset, "ssh").get("permit_root_login") or "").lower()
    if v == "no":
        return passed("PermitRootLogin no", "已禁止root远程登录（PermitRootLogin no）")
    return failed(f"PermitRootLogin {v or 'unset'}: the default root account can log in remotely",
                  f"PermitRootLogin {v or '未设置'}：默认账户root可远程登录")


@check(id="host.ssh_key_auth", title_en="SSH logins use keys, not passwords; no empty passwords",
       title_zh="SSH采用密钥认证，禁止空口令", controls=CES1_01, asset_type="host",
       remediation="Set `PasswordAuthentication no` and `PermitEmptyPasswords no` in sshd_config and distribute keys.",
       remediation_zh="在sshd_config中设置`PasswordAuthentication no`和`PermitEmptyPasswords no`，并分发密钥。")
def ssh_key_auth(asset, ctx: CheckContext):
    ssh = ctx.need(asset, "ssh")
    problems = []
    if ssh.get("permit_empty_passwords"):
        problems.append(("PermitEmptyPasswords yes", "允许空口令登录（PermitEmptyPasswords yes）"))
    if ssh.get("password_authentication"):
        problems.append(("PasswordAuthentication yes (passwords can be guessed over the network)",
                         "允许口令认证（PasswordAuthentication yes），口令可被远程猜解"))
    if not ssh.get("pubkey_authentication"):
        problems.append(("PubkeyAuthentication no", "未启用密钥认证（PubkeyAuthentication no）"))
    if problems:
        return failed("; ".join(e for e, _ in problems), "；".join(z for _, z in problems))
    return passed("SSH accepts keys only; empty passwords refused", "SSH仅接受密钥认证；拒绝空口令")


@check(id="host.mfa", title_en="Administrators log in with two factors (level 3)", title_zh="双因素身份鉴别",
       high_risk=[{"case": "6.4.1.3",
                   "basis": "SSH logins need one factor"}],
       controls={3: ["L3-CES1-04"]}, asset_type="host", params=["require_mfa"], severity="high",
       remediation="Require two methods in sshd (`AuthenticationMethods publickey,keyboard-interactive`) with an OTP "
                   "PAM module (pam_google_authenticator/pam_oath), or go through a bastion with OTP.",
       remediation_zh="在sshd中要求两种认证方式（`AuthenticationMethods publickey,keyboard-interactive`）并配合动态口令PAM模块"
                      "（pam_google_authenticator/pam_oath），或经由启用动态口令的堡垒机登录。")
def mfa(asset, ctx: CheckContext):
    if not ctx.profile.require_mfa:
        return not_applicable("the profile does not require MFA", "配置未要求双因素认证")
    ssh = ctx.need(asset, "ssh")
    methods = [m for m in str(ssh.get("authentication_methods") or "any").split() if m != "any"]
    two = [m for m in methods if len(m.split(",")) >= 2]
    otp = ssh.get("mfa_pam_modules") or []
    if two and (otp or all("publickey" in m and ("password" in m or "keyboard-interactive" in m) for m in two)):
        return passed(f"AuthenticationMethods {' '.join(methods)}" + (f"; PAM: {', '.join(otp)}" if otp else ""),
                      f"双因素登录：AuthenticationMethods {' '.join(methods)}" + (f"；PAM：{'、'.join(otp)}" if otp else ""),
                      details={"hint": "a bastion/OTP in front of the host needs an assessor's confirmation"})
    return failed(f"single-factor SSH login (AuthenticationMethods {' '.join(methods) or 'any'}"
                  + (f"; OTP PAM module present but not required: {', '.join(otp)}" if otp else "") + ")",
                  f"SSH为单因素登录（AuthenticationMethods {' '.join(methods) or 'any'}"
                  + (f"；已安装动态口令PAM模块但未强制使用：{'、'.join(otp)}" if otp else "") + "）")
