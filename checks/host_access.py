"""Linux hosts, access control (访问控制): extra uid-0 accounts, default/shared/expired accounts, empty passwords,
sudo least privilege, mandatory access control (level 3)."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, passed

DEFAULT_ACCOUNTS = {"guest", "test", "demo", "admin", "administrator", "user", "temp", "tmp", "toor", "oracle",
                    "postgres", "mysql", "ftp", "pi", "ubuntu", "centos", "ec2-user"}
SHARED_ACCOUNTS = {"shared", "share", "common", "public", "ops", "team", "dev", "support", "operator"}


# An account with uid 0 besides root is a second, hidden superuser: a surplus (often shared or backdoor) account
# (访问控制 c: 多余、共享账户) and a breach of least privilege for administrators (访问控制 d: 最小权限). Level 1
# has no least-privilege item (its access-control items are a-c), so there it evidences the surplus-account item.
@check(id="host.uid0_accounts", title_en="Only root has uid 0", title_zh="不存在root以外的超级用户",
       high_risk=[{"case": "6.4.2.2",
                   "basis": "accounts besides root with superuser rights"}],
       controls={1: ["L1-CES1-05"], 2: ["L2-CES1-06", "L2-CES1-07"], 3: ["L3-CES1-07", "L3-CES1-08"]},
       asset_type="host", severity="critical",
       remediation="Remove or re-number every account with uid 0 other than root; give administrators sudo rules instead.",
       remediation_zh="删除root以外uid为0的账户或修改其uid；管理员改用sudo规则授权。")
def uid0_accounts(asset, ctx: CheckContext):
    extra = ctx.need(asset, "accounts").get("uid0") or []
    if extra:
        return failed(f"accounts with uid 0 besides root: {', '.join(extra)}", f"root以外uid为0的账户：{'、'.join(extra)}",
                      details={"uid0": extra})
    return passed("root is the only uid-0 account", "仅root的uid为0")


@check(id="host.empty_passwords", title_en="No account has an empty password", title_zh="不存在空口令账户",
       high_risk=[{"case": "6.4.1.1",
                   "basis": "an account whose password field is empty"}],
       controls={1: ["L1-CES1-01"], 2: ["L2-CES1-01"], 3: ["L3-CES1-01"]}, asset_type="host", severity="critical",
       remediation="Lock or set a password for every account with an empty password field (`passwd -l <user>`).",
       remediation_zh="锁定口令为空的账户或为其设置口令（`passwd -l <用户名>`）。")
def empty_passwords(asset, ctx: CheckContext):
    empty = ctx.need(asset, "accounts").get("empty_password") or []
    if empty:
        return failed(f"accounts whose password field is empty: {', '.join(empty)}", f"口令为空的账户：{'、'.join(empty)}",
                      details={"accounts": empty})
    return passed("no empty password in /etc/shadow", "/etc/shadow中不存在空口令")


@check(id="host.default_accounts", title_en="Default and vendor accounts are removed or locked",
       high_risk=[{"case": "6.4.2.1",
                   "basis": "a default or vendor account can log in (whether its password is the default one is the "
                            "question)"}],
       title_zh="默认账户已删除或禁用", controls={1: ["L1-CES1-04"], 2: ["L2-CES1-05"], 3: ["L3-CES1-06"]},
       asset_type="host", severity="high",
       remediation="Delete default/vendor accounts (guest, test, admin...) or lock them and set a nologin shell.",
       remediation_zh="删除默认/厂商账户（guest、test、admin等），或将其锁定并设置nologin登录shell。")
def default_accounts(asset, ctx: CheckContext):
    acc = ctx.need(asset, "accounts")
    live = set(acc.get("login_capable") or [])
    found = sorted(live & DEFAULT_ACCOUNTS)
    if found:
        return failed(f"default/vendor accounts that can log in: {', '.join(found)}", f"可登录的默认/厂商账户：{'、'.join(found)}",
                      details={"accounts": found})
    return passed("no default/vendor account can log in", "没有可登录的默认/厂商账户")


@check(id="host.surplus_accounts", title_en="No expired, surplus or shared accounts can log in",
       title_zh="及时删除或停用多余、过期账户，避免共享账户",
       controls={1: ["L1-CES1-05"], 2: ["L2-CES1-06"], 3: ["L3-CES1-07"]}, asset_type="host",
       remediation="Lock expired accounts (`usermod -L`), give every person a named account and remove shared logins.",
       remediation_zh="锁定过期账户（`usermod -L`），为每个人分配实名账户，删除共享登录账户。")
def surplus_accounts(asset, ctx: CheckContext):
    acc = ctx.need(asset, "accounts")
    live = set(acc.get("login_capable") or [])
    expired = acc.get("expired_not_locked") or []
    shared = sorted(live & SHARED_ACCOUNTS)
    if expired or shared:
        parts = ([f"expired but not locked: {', '.join(expired)}"] if expired else []) + \
                ([f"shared-looking accounts: {', '.join(shared)}"] if shared else [])
        parts_zh = ([f"已过期但未锁定：{'、'.join(expired)}"] if expired else []) + \
                   ([f"疑似共享账户：{'、'.join(shared)}"] if shared else [])
        return failed("; ".join(parts), "；".join(parts_zh), details={"expired": expired, "shared": shared})
    return passed(f"{len(live)} login account(s); none expired-but-open or shared-looking",
                  f"{len(live)}个可登录账户，无过期未锁定或疑似共享的账户",
                  details={"hint": "whether an account is shared is confirmed by interview"})


@check(id="host.sudo_least_privilege", title_en="sudo grants least privilege", title_zh="管理用户最小权限（sudo）",
       controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08"]}, asset_type="host", severity="high",
       remediation="Replace `NOPASSWD: ALL` and `ALL=(ALL) ALL` rules for users/groups by rules naming the commands "
                   "each role needs; keep passwords required for sudo.",
       remediation_zh="将用户/用户组的`NOPASSWD: ALL`和`ALL=(ALL) ALL`规则替换为列明各角色所需命令的规则；sudo仍需输入口令。")
def sudo_least_privilege(asset, ctx: CheckContext):
    sudo = ctx.need(asset, "sudo")
    nopw = sudo.get("nopasswd_all") or []
    full = [w for w in sudo.get("full_access") or [] if w != "root"]
    if nopw or full:
        parts = ([f"NOPASSWD ALL: {'; '.join(nopw)}"] if nopw else []) + \
                ([f"unrestricted sudo for: {', '.join(full)}"] if full else [])
        parts_zh = ([f"免口令执行全部命令（NOPASSWD ALL）：{'；'.join(nopw)}"] if nopw else []) + \
                   ([f"不受限制的sudo权限：{'、'.join(full)}"] if full else [])
        return failed("; ".join(parts), "；".join(parts_zh), details={"nopasswd_all": nopw, "full_access": full})
    return passed(f"{len(sudo.get('rules') or [])} sudo rule(s); none unrestricted besides root",
                  f"{len(sudo.get('rules') or [])}条sudo规则，除root外无不受限制的授权")


@check(id="host.mac_enforcing", title_en="Mandatory access control (SELinux/AppArmor) enforcing",
       title_zh="强制访问控制（安全标记）", controls={3: ["L3-CES1-11"]}, asset_type="host",
       remediation="Run SELinux in enforcing mode (SELINUX=enforcing) or AppArmor with profiles in enforce mode.",
       remediation_zh="以强制模式运行SELinux（SELINUX=enforcing），或启用AppArmor并将配置文件设为enforce模式。")
def mac_enforcing(asset, ctx: CheckContext):
    mac = ctx.need(asset, "mac")
    if mac.get("enforcing"):
        if mac.get("selinux") == "enforcing":
            return passed(f"SELinux {mac.get('selinux')}", f"SELinux处于强制模式（{mac.get('selinux')}）")
        return passed("AppArmor enforcing", "AppArmor处于强制模式")
    return failed(f"no MAC enforcing (SELinux {mac.get('selinux') or mac.get('selinux_config') or 'absent'}, "
                  f"AppArmor {'on' if mac.get('apparmor') else 'off'})",
                  f"未启用强制访问控制（SELinux：{mac.get('selinux') or mac.get('selinux_config') or '未安装'}，"
                  f"AppArmor：{'开启' if mac.get('apparmor') else '关闭'}）")
