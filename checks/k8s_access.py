"""Kubernetes access control: RBAC bindings and roles, service-account tokens, anonymous access, the API
server's authentication/authorisation flags, and separation of administrative roles.

Reads the `k8s.*` assets of the kubernetes collector (docs/asset-types.md). Built-in objects the API server
bootstraps (label `kubernetes.io/bootstrapping=rbac-defaults`) are reported as not applicable where they are
wildcards by design (cluster-admin) or harmless defaults (system:public-info-viewer).
"""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, EvidenceMissing, check, failed, not_applicable, passed

from ._k8s_instances import per_apiserver

ANON = {"system:anonymous", "system:unauthenticated"}
# the default binding that lets anyone read /version, /healthz...: present in every cluster, harmless
HARMLESS_ANON_ROLES = {"system:public-info-viewer"}
SUPERUSER_GROUP = "system:masters"


def subject_str(s: dict) -> str:
    ns = f"{s.get('namespace')}/" if s.get("kind") == "ServiceAccount" and s.get("namespace") else ""
    return f"{s.get('kind')}:{ns}{s.get('name')}"


def grants_cluster_admin(b) -> bool:
    a = b.attributes
    return a.get("role_kind") == "ClusterRole" and (a.get("role") == "cluster-admin"
                                                  or (a.get("cluster_wide") and a.get("role_full_access") is True))


@check(
    id="k8s.rbac.cluster_admin",
    title_en="cluster-admin is not bound to users, groups or service accounts",
    title_zh="cluster-admin 未绑定到普通用户、用户组或服务账户",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08"]},
    asset_type="k8s.rbac.binding",
    remediation="Remove the binding; grant namespaced Roles with the verbs and resources the subject needs. Keep "
                "cluster-admin for the system:masters break-glass group only.",
    remediation_zh="删除该绑定；按主体所需的操作和资源授予命名空间级Role。cluster-admin仅保留给system:masters应急组。",
    severity="high",
)
def cluster_admin(asset, ctx: CheckContext):
    a = asset.attributes
    if a.get("role") != "cluster-admin" and a.get("cluster_wide"):
        ctx.need(asset, "role_full_access")  # the role must be known to judge a full-access ClusterRole
    if not grants_cluster_admin(asset):
        return passed(f"binds {a.get('role_kind')}/{a.get('role')}, not cluster-admin",
                      f"绑定的是{a.get('role_kind')}/{a.get('role')}，不是cluster-admin")
    bad = [subject_str(s) for s in a.get("subjects") or [] if not (s.get("kind") == "Group" and s.get("name") == SUPERUSER_GROUP)]
    if bad:
        return failed(f"cluster-admin ({a.get('role')}) bound to {', '.join(bad)}",
                      f"cluster-admin（{a.get('role')}）绑定到了{'、'.join(bad)}", details={"subjects": bad})
    return passed(f"cluster-admin bound only to the {SUPERUSER_GROUP} group", f"cluster-admin仅绑定到{SUPERUSER_GROUP}组")


@check(
    id="k8s.rbac.wildcard",
    title_en="Roles name their verbs and resources (no wildcards)", title_zh="角色不使用通配符授权",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08", "L3-CES1-10"]},
    asset_type="k8s.rbac.role",
    remediation="Replace '*' in verbs, resources and apiGroups with the explicit verbs and resources needed.",
    remediation_zh="将verbs、resources和apiGroups中的'*'替换为明确需要的操作和资源。",
)
def wildcard(asset, ctx: CheckContext):
    a = asset.attributes
    if a.get("builtin") and asset.name in ("ClusterRole/cluster-admin",):
        return not_applicable("built-in cluster-admin is a wildcard by design; its bindings are checked instead",
                              "内置cluster-admin按设计使用通配符；改为检查其绑定")
    rules = ctx.need(asset, "rules")
    wild = [r for r in rules if "*" in (r.get("verbs") or []) or "*" in (r.get("resources") or [])]
    if wild:
        shown = "; ".join(f"verbs={r.get('verbs')} resources={r.get('resources') or r.get('nonResourceURLs')}" for r in wild)
        return failed(f"{len(wild)} wildcard rule(s): {shown}", f"{len(wild)}条规则使用通配符：{shown}", details={"rules": wild})
    return passed(f"{len(rules)} rule(s), no wildcard verb or resource", f"{len(rules)}条规则，未使用通配符操作或资源")


@check(
    id="k8s.rbac.anonymous",
    high_risk=[{"case": "6.4.2.2",
                "basis": "rights granted to anonymous or unauthenticated users"}],
    title_en="No role bound to anonymous or unauthenticated users", title_zh="未向匿名或未认证用户授权",
    controls={1: ["L1-CES1-04"], 2: ["L2-CES1-05"], 3: ["L3-CES1-06"]},
    asset_type="k8s.rbac.binding",
    remediation="Delete bindings whose subjects are system:anonymous or system:unauthenticated.",
    remediation_zh="删除主体为system:anonymous或system:unauthenticated的绑定。",
    severity="high",
)
def anonymous_binding(asset, ctx: CheckContext):
    a = asset.attributes
    anon = [subject_str(s) for s in a.get("subjects") or [] if s.get("name") in ANON]
    if not anon:
        return passed("no anonymous subject", "无匿名主体")
    if a.get("role") in HARMLESS_ANON_ROLES and a.get("role_kind") == "ClusterRole":
        return passed(f"default {a.get('role')} binding (health and version endpoints only)",
                      f"默认的{a.get('role')}绑定（仅健康检查和版本接口）")
    return failed(f"{a.get('role_kind')}/{a.get('role')} granted to {', '.join(anon)}",
                  f"{a.get('role_kind')}/{a.get('role')}授予了{'、'.join(anon)}", details={"subjects": anon})


@check(
    id="k8s.workload.sa_token_automount",
    title_en="Workloads do not mount the default service account's token",
    title_zh="工作负载不自动挂载默认服务账户令牌",
    controls={1: ["L1-CES1-04"], 2: ["L2-CES1-05"], 3: ["L3-CES1-06"]},
    asset_type="k8s.workload",
    reads=["k8s.serviceaccount"],
    remediation="Set automountServiceAccountToken: false on the default ServiceAccount (or pod spec), and give "
                "workloads that call the API a dedicated ServiceAccount.",
    remediation_zh="在默认ServiceAccount（或Pod spec）上设置automountServiceAccountToken: false，"
                   "为需要调用API的工作负载分配专用ServiceAccount。",
)
def sa_token_automount(asset, ctx: CheckContext):
    a = asset.attributes
    auto = ctx.need(asset, "automount_sa_token")
    sa = a.get("service_account") or "default"
    if auto and sa == "default":
        return failed("mounts the token of the namespace's default ServiceAccount", "挂载了命名空间默认ServiceAccount的令牌")
    if auto:
        return passed(f"mounts the token of its own ServiceAccount {sa}", f"挂载的是其专用ServiceAccount {sa} 的令牌")
    return passed("service-account token not mounted", "未挂载服务账户令牌")


@check(
    id="k8s.apiserver.anonymous_auth",
    title_en="API server rejects anonymous requests", title_zh="API 服务器禁用匿名访问",
    controls={1: ["L1-CES1-01", "L1-CES1-04"], 2: ["L2-CES1-01", "L2-CES1-05"], 3: ["L3-CES1-01", "L3-CES1-06"]},
    asset_type="k8s.cluster",
    remediation="Start kube-apiserver with --anonymous-auth=false (or restrict anonymous requests to health "
                "endpoints with an AuthenticationConfiguration).",
    remediation_zh="以--anonymous-auth=false启动kube-apiserver（或用AuthenticationConfiguration将匿名请求限制在健康检查接口）。",
    severity="high",
)
@per_apiserver
def anonymous_auth(asset, ctx: CheckContext):
    api = ctx.need(asset, "api_server")
    if api.get("token_auth_file"):
        return failed(f"static token file in use (--token-auth-file={api['token_auth_file']})",
                      f"使用了静态令牌文件（--token-auth-file={api['token_auth_file']}）")
    if api.get("anonymous_auth") is False:
        return passed("--anonymous-auth=false", "已禁用匿名访问（--anonymous-auth=false）")
    how = "--anonymous-auth=true" if api.get("anonymous_auth") else "--anonymous-auth not set (default: true)"
    how_zh = "--anonymous-auth=true" if api.get("anonymous_auth") else "未设置--anonymous-auth（默认true）"
    return failed(f"anonymous requests are accepted: {how}", f"接受匿名请求：{how_zh}")


@check(
    id="k8s.apiserver.authorization",
    high_risk=[{"case": "6.4.2.2", "when": {"always_allow": True},
                "basis": "AlwaysAllow authorises every authenticated request (an authorizer other than RBAC is not a "
                         "defect by itself)"}],
    title_en="API server authorises every request (RBAC, no AlwaysAllow)", title_zh="API 服务器启用 RBAC 授权",
    controls={1: ["L1-CES1-03"], 2: ["L2-CES1-04"], 3: ["L3-CES1-05"]},
    asset_type="k8s.cluster",
    remediation="Set --authorization-mode=Node,RBAC on kube-apiserver; never AlwaysAllow.",
    remediation_zh="为kube-apiserver设置--authorization-mode=Node,RBAC；不得使用AlwaysAllow。",
    severity="high",
)
@per_apiserver
def authorization_mode(asset, ctx: CheckContext):
    modes = ctx.need(asset, "api_server").get("authorization_mode") or ["AlwaysAllow"]
    if "AlwaysAllow" in modes:
        return failed(f"authorization mode {','.join(modes)} lets every authenticated request through",
                      f"授权模式{','.join(modes)}放行所有已认证的请求", details={"modes": modes, "always_allow": True})
    if "RBAC" not in modes:
        return failed(f"authorization mode {','.join(modes)} without RBAC", f"授权模式{','.join(modes)}未启用RBAC",
                      details={"modes": modes, "always_allow": False})
    return passed(f"--authorization-mode={','.join(modes)}", f"已启用授权：--authorization-mode={','.join(modes)}")


@check(
    id="k8s.rbac.admin_separation",
    title_en="Administrative roles are separated (no standing all-powerful subject)",
    title_zh="管理角色分离，无常设超级权限主体",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08", "L3-SMC1-05"]},
    asset_type="k8s.cluster",
    reads=["k8s.rbac.binding"],
    remediation="Split cluster administration into separate roles (system admin, security admin, audit reader) "
                "bound to different people; keep cluster-admin for break-glass use only.",
    remediation_zh="将集群管理拆分为不同角色（系统管理员、安全管理员、审计员），分别绑定给不同人员；cluster-admin仅作应急使用。",
)
def admin_separation(asset, ctx: CheckContext):
    bindings = ctx.related(asset, "k8s.rbac.binding")
    unknown = [b for b in bindings if "role_full_access" in b.errors and b.attributes.get("cluster_wide")]
    if unknown:
        raise EvidenceMissing(f"role of {unknown[0].name}: {unknown[0].errors['role_full_access']}",
                              f"{unknown[0].name} 的角色：{unknown[0].errors['role_full_access']}")
    supers = sorted({subject_str(s) for b in bindings if b.attributes.get("cluster_wide") and grants_cluster_admin(b)
                     for s in b.attributes.get("subjects") or []
                     if not (s.get("kind") == "Group" and s.get("name") == SUPERUSER_GROUP)})
    if supers:
        return failed(f"{len(supers)} subject(s) hold every power cluster-wide (system, security and audit administration "
                      f"not separated): {', '.join(supers)}",
                      f"{len(supers)}个主体在全集群拥有全部权限（系统、安全和审计管理未分离）：{'、'.join(supers)}",
                      details={"subjects": supers})
    roles = sorted({b.attributes.get("role") for b in bindings if not b.attributes.get("builtin")})
    return passed(f"no standing all-powerful subject; {len(roles)} distinct non-built-in role(s) bound",
                  f"不存在常设的超级权限主体；绑定了{len(roles)}个不同的非内置角色", details={"roles": roles})


@check(
    id="k8s.secret.legacy_sa_token",
    title_en="No long-lived service-account token Secrets", title_zh="不使用长期有效的服务账户令牌 Secret",
    controls={1: ["L1-CES1-05"], 2: ["L2-CES1-06"], 3: ["L3-CES1-07"]},
    asset_type="k8s.secret",
    remediation="Delete kubernetes.io/service-account-token Secrets; use projected, expiring tokens "
                "(TokenRequest API) instead.",
    remediation_zh="删除kubernetes.io/service-account-token类型的Secret；改用投射的、会过期的令牌（TokenRequest API）。",
)
def legacy_sa_token(asset, ctx: CheckContext):
    typ = ctx.need(asset, "secret_type")
    if typ == "kubernetes.io/service-account-token":
        age = asset.attributes.get("age_days")
        return failed(f"long-lived service-account token (never expires; {age if age is not None else '?'} days old)",
                      f"长期有效的服务账户令牌（永不过期；已存在{age if age is not None else '?'}天）")
    return passed(f"{typ} Secret, not a service-account token", f"{typ}类型的Secret，不是服务账户令牌")
