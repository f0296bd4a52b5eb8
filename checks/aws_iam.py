"""AWS identity and access: password policy, MFA, root account, unused credentials, shared and redundant
users, least privilege."""
from __future__ import annotations

import re

from mlps_scan.plugins import CheckContext, check, failed, not_applicable, passed

APPROVED_ADMIN_TAG = "mlps:approved-admin"


@check(
    id="aws.iam.password_policy",
    title_en="IAM password policy meets the level's length, complexity, expiry and reuse thresholds",
    title_zh="IAM密码策略满足长度、复杂度、定期更换和历史密码要求",
    controls={1: ["L1-CES1-01"], 2: ["L2-CES1-01"], 3: ["L3-CES1-01"]},
    asset_type="aws.account",
    params=["password_min_length", "password_min_classes", "password_max_age_days", "password_reuse_prevention"],
    remediation="UpdateAccountPasswordPolicy: MinimumPasswordLength, Require* character classes, MaxPasswordAge "
                "and PasswordReusePrevention per the profile.",
    remediation_zh="执行UpdateAccountPasswordPolicy，按配置设置MinimumPasswordLength、各类Require*字符要求、"
                   "MaxPasswordAge和PasswordReusePrevention。",
    severity="high",
)
def password_policy(asset, ctx: CheckContext):
    pol = ctx.need(asset, "password_policy")
    if not pol:
        return failed("no account password policy set (AWS defaults apply: 8 characters, no complexity, no expiry)",
                      "未设置账户密码策略（适用AWS默认值：8个字符，无复杂度要求，永不过期）")
    p = ctx.profile
    classes = sum(bool(pol.get(k)) for k in ("RequireUppercaseCharacters", "RequireLowercaseCharacters",
                                             "RequireNumbers", "RequireSymbols"))
    problems = []
    if int(pol.get("MinimumPasswordLength") or 0) < p.password_min_length:
        problems.append((f"minimum length {pol.get('MinimumPasswordLength')} < {p.password_min_length}",
                         f"最小长度{pol.get('MinimumPasswordLength')}，小于{p.password_min_length}"))
    if classes < p.password_min_classes:
        problems.append((f"{classes} character classes required < {p.password_min_classes}",
                         f"要求{classes}类字符，少于{p.password_min_classes}类"))
    age = pol.get("MaxPasswordAge")
    if not age or int(age) > p.password_max_age_days:
        problems.append((f"maximum age {age or 'unlimited'} > {p.password_max_age_days} days",
                         f"最长使用期限{f'{age}天' if age else '不限'}，超过{p.password_max_age_days}天"))
    if int(pol.get("PasswordReusePrevention") or 0) < p.password_reuse_prevention:
        problems.append((f"reuse prevention {pol.get('PasswordReusePrevention') or 0} < {p.password_reuse_prevention}",
                         f"禁止重复使用最近{pol.get('PasswordReusePrevention') or 0}个密码，少于{p.password_reuse_prevention}个"))
    if problems:
        return failed("; ".join(e for e, _ in problems), "；".join(z for _, z in problems), details={"policy": pol})
    return passed(f"length >= {pol.get('MinimumPasswordLength')}, {classes} classes, max age {age} days, "
                  f"reuse prevention {pol.get('PasswordReusePrevention')}",
                  f"最小长度{pol.get('MinimumPasswordLength')}，要求{classes}类字符，最长使用{age}天，"
                  f"禁止重复使用最近{pol.get('PasswordReusePrevention')}个密码")


@check(
    id="aws.iam.console_mfa",
    high_risk=[{"case": "6.4.1.3",
                "basis": "a console user logs in with a password alone"}],
    title_en="IAM users with console access use MFA", title_zh="具有控制台登录权限的IAM用户启用多因素认证",
    controls={3: ["L3-CES1-04", "L3-CES2-01"]},
    asset_type="aws.iam.user", params=["require_mfa"],
    remediation="Enable a virtual or hardware MFA device for every console user (or federate through an IdP with MFA).",
    remediation_zh="为每个控制台用户启用虚拟或硬件MFA设备（或通过启用MFA的身份提供商联合登录）。",
    severity="high",
)
def console_mfa(asset, ctx: CheckContext):
    if not ctx.need(asset, "console_access"):
        return None  # API-only users have no console password to protect
    if not ctx.profile.require_mfa:
        return not_applicable("profile does not require MFA", "配置未要求多因素认证")
    if ctx.need(asset, "mfa_active"):
        return passed("console access with MFA", "控制台登录已启用MFA")
    return failed("console access without MFA", "可登录控制台但未启用MFA")


@check(
    id="aws.iam.root_mfa",
    high_risk=[{"case": "6.4.1.3",
                "basis": "the root user logs in with a password alone"}],
    title_en="The root user has MFA", title_zh="根用户启用多因素认证",
    controls={1: ["L1-CES1-04"], 2: ["L2-CES1-05"], 3: ["L3-CES1-04", "L3-CES1-06"]},
    asset_type="aws.account",
    remediation="Enable (hardware) MFA on the root user and lock its credentials away.",
    remediation_zh="为根用户启用（硬件）MFA，并妥善封存其凭证。",
    severity="critical",
)
def root_mfa(asset, ctx: CheckContext):
    if ctx.need(asset, "root_mfa"):
        return passed("root MFA enabled", "根用户已启用MFA")
    return failed("root user without MFA", "根用户未启用MFA")


@check(
    id="aws.iam.root_access_keys",
    title_en="The root user has no access keys", title_zh="根用户不存在访问密钥",
    controls={1: ["L1-CES1-04"], 2: ["L2-CES1-05"], 3: ["L3-CES1-06"]},
    asset_type="aws.account",
    remediation="Delete the root user's access keys; use IAM roles for automation.",
    remediation_zh="删除根用户的访问密钥；自动化任务使用IAM角色。",
    severity="critical",
)
def root_access_keys(asset, ctx: CheckContext):
    n = int(ctx.need(asset, "root_access_keys"))
    if n:
        return failed(f"root user has {n} access key(s)", f"根用户存在{n}个访问密钥")
    return passed("root user has no access keys", "根用户不存在访问密钥")


@check(
    id="aws.iam.unused_credentials",
    title_en="No unused passwords or stale access keys", title_zh="及时删除或停用多余、过期的账户凭证",
    controls={1: ["L1-CES1-05"], 2: ["L2-CES1-06"], 3: ["L3-CES1-07"]},
    asset_type="aws.iam.user", params=["unused_credential_days"],
    remediation="Disable console passwords and deactivate access keys not used within the profile's "
                "unused_credential_days; delete users nobody uses.",
    remediation_zh="禁用超过配置中unused_credential_days（默认90天）未使用的控制台密码，停用同样未使用的访问密钥；"
                   "删除无人使用的用户。",
)
def unused_credentials(asset, ctx: CheckContext):
    limit = ctx.profile.unused_credential_days
    stale = []
    if ctx.need(asset, "console_access"):
        used = asset.attributes.get("password_last_used_days")
        created = asset.attributes.get("created_days")
        if used is None and created is not None and created > limit:
            stale.append((f"console password never used in {created} days", f"控制台密码创建{created}天以来从未使用"))
        elif used is not None and used > limit:
            stale.append((f"console password last used {used} days ago", f"控制台密码最近一次使用在{used}天前"))
    for k in ctx.need(asset, "access_keys"):
        if not k.get("active"):
            continue
        used, age = k.get("last_used_days"), k.get("age_days")
        if used is None and age is not None and age > limit:
            stale.append((f"access key {k.get('id')} never used, {age} days old", f"访问密钥{k.get('id')}已创建{age}天，从未使用"))
        elif used is not None and used > limit:
            stale.append((f"access key {k.get('id')} last used {used} days ago", f"访问密钥{k.get('id')}最近一次使用在{used}天前"))
    if stale:
        return failed("; ".join(e for e, _ in stale), "；".join(z for _, z in stale), details={"limit_days": limit})
    return passed(f"no credential unused for more than {limit} days", f"不存在超过{limit}天未使用的凭证")


# names that belong to a role or a team rather than to one person (GB/T 22239 8.1.4.2 c): "avoid shared accounts")
_GENERIC = {"admin", "administrator", "root", "shared", "share", "common", "public", "team", "ops", "devops", "dev",
            "test", "tester", "testuser", "guest", "temp", "tmp", "demo", "default", "staff", "support", "operator",
            "sysadmin", "user", "group", "all", "everyone", "prod", "app"}


def _shared_name(name: str) -> bool:
    """A name made only of generic words (admin, ops-team, shared_dev2): it belongs to a role or a team. A name
    with a person in it (alice-admin, zhang.wei) does not."""
    words = [re.sub(r"\d+$", "", w) for w in re.split(r"[-_.@+]+", name.lower()) if w]
    return bool(words) and all(w in _GENERIC for w in words)


@check(
    id="aws.iam.shared_or_redundant_users",
    title_en="IAM users are personal and in use: no shared-looking, credential-less or doubly keyed users",
    title_zh="避免共享账户，删除或停用多余账户（无凭证账户、通用名称账户、双活访问密钥）",
    controls={1: ["L1-CES1-05"], 2: ["L2-CES1-06"], 3: ["L3-CES1-07"]},
    asset_type="aws.iam.user",
    remediation="Give every person their own IAM user (or federate through an IdP), rename or remove generic users "
                "(admin, ops, shared...), delete users with no credentials, keep one active access key per user.",
    remediation_zh="为每个人分配独立的IAM用户（或通过身份提供商联合登录），重命名或删除通用名称用户（admin、ops、shared等），"
                   "删除没有凭证的用户，每个用户只保留一个有效访问密钥。",
)
def shared_or_redundant(asset, ctx: CheckContext):
    console = ctx.need(asset, "console_access")
    keys = [k for k in ctx.need(asset, "access_keys") if k.get("active")]
    signals = []
    name = asset.name or ""
    exempt = str((asset.attributes.get("tags") or {}).get("mlps:service-account", "")).lower() in ("true", "yes", "1")
    if _shared_name(name) and not exempt:
        signals.append((f"the name {name!r} names a role or team, not a person (a shared account?)",
                        f"用户名“{name}”指向角色或团队而非个人（疑似共享账户）"))
    if not console and not keys:
        signals.append(("no console password and no active access key: a redundant user to delete",
                        "既无控制台密码也无有效访问密钥：属于应删除的多余账户"))
    if len(keys) > 1:
        signals.append((f"{len(keys)} active access keys: one identity used from several places or people?",
                        f"存在{len(keys)}个有效访问密钥：同一身份可能被多处或多人使用"))
    if signals:
        return failed("; ".join(e for e, _ in signals), "；".join(z for _, z in signals),
                      details={"console_access": console, "active_keys": len(keys)})
    return passed("personal-looking user with credentials in use", "个人用户，凭证在使用中")


_WHAT_ZH = {"user": "用户", "group": "用户组", "role": "角色"}


def _admin_verdict(asset, what: str):
    admin = asset.attributes.get("admin")
    zh = _WHAT_ZH.get(what, what)
    if admin is None:
        from mlps_scan.plugins import EvidenceMissing
        raise EvidenceMissing("admin: not collected", "admin：未采集")
    if not admin:
        return passed(f"{what} grants no *:* (full admin) permission", f"该{zh}未授予*:*（完全管理员）权限")
    if APPROVED_ADMIN_TAG in (asset.attributes.get("tags") or {}):
        return passed(f"{what} grants *:* but is tagged {APPROVED_ADMIN_TAG} (documented break-glass/admin role)",
                      f"该{zh}授予*:*权限，但已标记{APPROVED_ADMIN_TAG}（有记录的应急/管理角色）")
    via = asset.attributes.get("attached_policies", []) + asset.attributes.get("inline_policies", [])
    return failed(f"{what} grants *:* (full admin)" + (f" via {', '.join(via)}" if via else " via group membership"),
                  f"该{zh}拥有*:*（完全管理员）权限" + (f"，来自{'、'.join(via)}" if via else "，来自所属用户组"),
                  details={"policies": via, "groups": asset.attributes.get("groups", [])})


@check(
    id="aws.iam.user_admin",
    title_en="IAM users hold no full-admin (*:*) policy", title_zh="IAM用户不直接或经用户组拥有完全管理员权限",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08"]},
    asset_type="aws.iam.user",
    remediation="Remove AdministratorAccess/`*:*` from users and groups; grant admin through a role assumed with MFA, "
                f"and tag a deliberately kept admin role `{APPROVED_ADMIN_TAG}`.",
    remediation_zh="从用户和用户组中移除AdministratorAccess/`*:*`权限；管理权限通过需MFA才能担任的角色授予，"
                   f"并为有意保留的管理角色添加标签`{APPROVED_ADMIN_TAG}`。",
    severity="high",
)
def user_admin(asset, ctx: CheckContext):
    return _admin_verdict(asset, "user")


@check(
    id="aws.iam.group_admin",
    title_en="IAM groups hold no full-admin (*:*) policy", title_zh="IAM用户组不拥有完全管理员权限",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08"]},
    asset_type="aws.iam.group",
    remediation="Replace AdministratorAccess/`*:*` on groups with job-function policies.",
    remediation_zh="将用户组上的AdministratorAccess/`*:*`替换为按岗位职责划分的策略。",
    severity="high",
)
def group_admin(asset, ctx: CheckContext):
    return _admin_verdict(asset, "group")


@check(
    id="aws.iam.role_admin",
    title_en="IAM roles hold no full-admin (*:*) policy unless approved",
    title_zh="IAM角色不拥有完全管理员权限（经批准的管理角色除外），实现管理权限分离",
    controls={2: ["L2-CES1-07", "L2-SMC1-02"], 3: ["L3-CES1-08", "L3-SMC1-02"]},
    asset_type="aws.iam.role",
    shows={"L2-SMC1-02": ("full administration (configuring resources, start-up, recovery) is held only by roles "
                          "designated for system administrators", "完全管理权限（资源配置、启动、恢复等）仅由指定给系统"
                                                                   "管理员的角色持有")},
    remediation=f"Scope role policies to what the workload needs; tag the few approved admin roles `{APPROVED_ADMIN_TAG}`.",
    remediation_zh=f"将角色策略限定为工作负载所需的权限；为少数经批准的管理角色添加标签`{APPROVED_ADMIN_TAG}`。",
)
def role_admin(asset, ctx: CheckContext):
    if asset.attributes.get("service_linked"):
        return None  # AWS-managed service-linked roles are not the customer's to scope
    return _admin_verdict(asset, "role")
