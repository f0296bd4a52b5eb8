"""Kubernetes rights judged where they are held: every binding and every subject (user, group,
ServiceAccount) holding dangerous rights (every verb on every resource, wildcards, escalate/bind/impersonate,
Secrets read in every namespace, nodes/proxy, creating pods in kube-system), saying who holds what through
which binding; and ServiceAccounts that mount their token (the namespace's `default` one, or any account
whose token carries no role).

Reads `k8s.rbac.binding` (with the rules of the role it references), `k8s.rbac.subject` (every grant of a
subject) and `k8s.serviceaccount` (`automount`, `bound_roles`). Bindings the API server bootstraps
(`kubernetes.io/bootstrapping=rbac-defaults`) and the `system:masters` break-glass group are by design."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext, check, failed, not_applicable, passed

from ._k8s_rights import dangerous_rights, describe

SUPERUSER_GROUP = "system:masters"


def _subject(s: dict) -> str:
    ns = f"{s.get('namespace')}/" if s.get("kind") == "ServiceAccount" and s.get("namespace") else ""
    return f"{s.get('kind')}:{ns}{s.get('name')}"


def _break_glass(s: dict) -> bool:
    return s.get("kind") == "Group" and s.get("name") == SUPERUSER_GROUP


@check(
    id="k8s.rbac.binding_rights",
    high_risk=[{"case": "6.4.2.2", "basis": "a binding grants people or workloads rights that open a path past their "
                                            "duties (escalate/bind/impersonate, wildcards, every Secret, nodes/proxy)"}],
    title_en="Bindings grant no dangerous rights (wildcards, escalate/bind/impersonate, Secrets everywhere, "
             "nodes/proxy, pods in kube-system)",
    title_zh="角色绑定不授予危险权限（通配符、escalate/bind/impersonate、全部Secret、nodes/proxy、kube-system中创建Pod）",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08", "L3-CES1-09"]},
    asset_type="k8s.rbac.binding",
    shows={"L3-CES1-09": ("who may configure access policies in the cluster: no binding hands the rights to "
                          "change roles and bindings (escalate, bind, impersonate, wildcards) to subjects other than "
                          "the authorised administrators, and each binding's rules say which subject may do what "
                          "on which objects",
                          "集群中谁可以配置访问控制策略：没有绑定把修改角色和绑定的权限（escalate、bind、impersonate、"
                          "通配符）授予授权管理员以外的主体，且每个绑定的规则规定了主体对客体的访问规则")},
    remediation="Bind a role with the explicit verbs and resources the subjects need, in their own namespace; "
                "remove escalate, bind and impersonate, cluster-wide Secret reads, nodes/proxy and pod creation in "
                "kube-system from roles bound to people or workloads.",
    remediation_zh="改为绑定只含所需操作和资源的角色，并限定在其自身命名空间；从绑定给人员或工作负载的角色中去除escalate、bind、"
                   "impersonate、集群范围读取Secret、nodes/proxy以及在kube-system中创建Pod的权限。",
    severity="high",
)
def binding_rights(asset, ctx: CheckContext):
    a = asset.attributes
    if a.get("builtin"):
        return not_applicable("built-in binding bootstrapped by the API server (kubernetes.io/bootstrapping=rbac-defaults)",
                              "API服务器自举创建的内置绑定（kubernetes.io/bootstrapping=rbac-defaults）")
    rules = ctx.need(asset, "role_rules")
    role = f"{a.get('role_kind')}/{a.get('role')}"
    if rules is None:
        return passed(f"{role} does not exist: the binding grants nothing (remove the dangling binding)",
                      f"{role}不存在：该绑定未授予任何权限（建议删除这一悬空绑定）")
    where = None if a.get("cluster_wide") else a.get("namespace")
    rights = dangerous_rights(rules, where)
    if not rights:
        return passed(f"grants {role}: no dangerous right", f"授予{role}：不含危险权限")
    holders = [_subject(s) for s in a.get("subjects") or [] if not _break_glass(s)]
    en, zh = describe(rights)
    if not holders:
        return passed(f"{role} ({en}) granted only to the {SUPERUSER_GROUP} break-glass group",
                      f"{role}（{zh}）仅授予{SUPERUSER_GROUP}应急组")
    return failed(f"grants {en} through {role} to {', '.join(holders)}",
                  f"通过{role}向{'、'.join(holders)}授予了{zh}",
                  details={"rights": [r.key for r in rights], "subjects": holders, "role": role})


@check(
    id="k8s.rbac.subject_rights",
    high_risk=[{"case": "6.4.2.2", "basis": "a user, group or service account holds rights that open a path past its "
                                            "duties (escalate/bind/impersonate, wildcards, every Secret, nodes/proxy)"}],
    title_en="No user, group or service account holds dangerous rights",
    title_zh="用户、用户组和服务账户不持有危险权限",
    controls={2: ["L2-CES1-07"], 3: ["L3-CES1-08", "L3-CES1-09"]},
    asset_type="k8s.rbac.subject",
    reads=["k8s.rbac.role"],
    shows={"L3-CES1-09": ("per user, group and service account, which bindings give it the rights to change "
                          "access policies (escalate, bind, impersonate, wildcards): only authorised subjects "
                          "configure the cluster's access-control policy",
                          "逐个用户、用户组和服务账户列出使其能修改访问控制策略的绑定（escalate、bind、impersonate、"
                          "通配符）：只有授权主体配置集群的访问控制策略")},
    remediation="Remove the bindings named (or replace their roles) so that the subject keeps only the verbs and "
                "resources its duties need; administrators act through separate, audited roles.",
    remediation_zh="删除所列绑定（或替换其角色），使该主体只保留其职责所需的操作和资源；管理员通过独立且受审计的角色操作。",
    severity="high",
)
def subject_rights(asset, ctx: CheckContext):
    a = asset.attributes
    who = asset.name
    if a.get("kind") == "Group" and a.get("name") == SUPERUSER_GROUP:
        return not_applicable(f"{SUPERUSER_GROUP}: the break-glass superuser group (keep it empty in daily use)",
                              f"{SUPERUSER_GROUP}：应急超级用户组（日常应保持为空）")
    grants = ctx.need(asset, "grants")
    own = [g for g in grants if not g.get("builtin")]
    held = [(g, dangerous_rights(g.get("rules"), g.get("namespace"))) for g in own]
    held = [(g, r) for g, r in held if r]
    if held:
        en = "; ".join(f"{describe(r)[0]} through {g['binding']} ({g['role']})" for g, r in held)
        zh = "；".join(f"通过{g['binding']}（{g['role']}）持有{describe(r)[1]}" for g, r in held)
        return failed(f"{who} holds {en}", f"{who}{zh}",
                      details={"grants": [{"binding": g["binding"], "role": g["role"], "rights": [x.key for x in r]}
                                          for g, r in held]})
    if not own:
        return not_applicable(f"{who} holds only built-in grants bootstrapped by the API server",
                              f"{who}仅持有API服务器自举创建的内置授权")
    bindings = ", ".join(g["binding"] for g in own)
    return passed(f"{who}: {len(own)} grant(s), none dangerous ({bindings})",
                  f"{who}：{len(own)}项授权，均不含危险权限（{bindings}）")


@check(
    id="k8s.serviceaccount.token_automount",
    title_en="ServiceAccounts do not mount tokens pods do not need (default account never)",
    title_zh="服务账户不自动挂载不需要的令牌（默认服务账户一律不挂载）",
    controls={1: ["L1-CES1-04"], 2: ["L2-CES1-05"], 3: ["L3-CES1-06"]},
    asset_type="k8s.serviceaccount",
    reads=["k8s.rbac.binding"],
    remediation="Set automountServiceAccountToken: false on every namespace's default ServiceAccount and on accounts "
                "whose token no workload uses; pods that call the API opt in with a dedicated ServiceAccount.",
    remediation_zh="在每个命名空间的默认ServiceAccount以及令牌无工作负载使用的账户上设置automountServiceAccountToken: false；"
                   "需要调用API的Pod使用专用ServiceAccount并显式挂载。",
)
def token_automount(asset, ctx: CheckContext):
    a = asset.attributes
    ns = a.get("namespace")
    if a.get("automount") is False:
        return passed("automountServiceAccountToken: false (a pod gets the token only if it asks)",
                      "已设置automountServiceAccountToken: false（仅在Pod显式要求时挂载令牌）")
    bound = ctx.need(asset, "bound_roles")
    how = "automountServiceAccountToken: true" if a.get("automount") else "automountServiceAccountToken not set (default: true)"
    if asset.name == "default":
        extra = f"; it is bound to {', '.join(bound)}" if bound else ""
        extra_zh = f"；且已绑定{'、'.join(bound)}" if bound else ""
        return failed(f"the default ServiceAccount of namespace {ns} mounts its token into every pod that does not opt "
                      f"out ({how}){extra}",
                      f"命名空间{ns}的默认ServiceAccount会把令牌挂载到所有未显式关闭的Pod中（{how}）{extra_zh}",
                      details={"bound_roles": bound})
    if bound:
        return passed(f"mounts its token, which carries the rights bound to it ({', '.join(bound)})",
                      f"挂载的令牌用于其已绑定的权限（{'、'.join(bound)}）")
    return failed(f"mounts its token ({how}) although no role is bound to it: an unneeded credential in every pod "
                  "that uses the account",
                  f"未绑定任何角色却挂载令牌（{how}）：使用该账户的每个Pod中都有一个不需要的凭据")
