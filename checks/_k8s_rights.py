"""Which RBAC rules grant dangerous rights, and where. Pure functions over the `rules` of a Role/ClusterRole
(as the API returns them) and where a binding makes them apply (`namespace`: one namespace for a
RoleBinding, None for a ClusterRoleBinding, i.e. every namespace and the cluster-scoped kinds).

Dangerous (CIS Kubernetes 5.1, Kubernetes' RBAC good practices): every verb on every resource; wildcard
rules; `escalate`/`bind` on roles (grant oneself more); `impersonate` (act as anyone); reading Secrets in
every namespace; `nodes/proxy` (the kubelet API: exec into any pod); creating pods (or what makes pods) in
kube-system, where the control plane's credentials live."""
from __future__ import annotations

from dataclasses import dataclass

READ = {"get", "list", "watch"}
POD_MAKERS = {"pods", "deployments", "daemonsets", "statefulsets", "replicasets", "jobs", "cronjobs",
              "replicationcontrollers"}
SYSTEM_NAMESPACE = "kube-system"


@dataclass(frozen=True)
class Right:
    key: str     # stable id: full_access, wildcard, escalate, bind, impersonate, secrets_read, nodes_proxy, pods_kube_system
    en: str
    zh: str


def _any(values, wanted: set[str]) -> bool:
    v = set(values or [])
    return "*" in v or bool(v & wanted)


def _groups(rule: dict, groups: set[str]) -> bool:
    return _any(rule.get("apiGroups"), groups)


def _resources(rule: dict, resources: set[str]) -> bool:
    return _any(rule.get("resources"), resources)


def _verbs(rule: dict, verbs: set[str]) -> bool:
    return _any(rule.get("verbs"), verbs)


def _full(rule: dict) -> bool:
    return all("*" in (rule.get(k) or []) for k in ("verbs", "resources", "apiGroups"))


def _wildcard(rule: dict) -> bool:
    return "*" in (rule.get("verbs") or []) or "*" in (rule.get("resources") or [])


def _rule_rights(rule: dict, namespace: str | None) -> list[Right]:
    if rule.get("nonResourceURLs") and not rule.get("resources"):
        return []
    everywhere = namespace is None
    found = []
    if _groups(rule, {"rbac.authorization.k8s.io"}) and _resources(rule, {"roles", "clusterroles"}):
        if _verbs(rule, {"escalate"}):
            found.append(Right("escalate", "escalate (raise its own rights) on roles", "对角色的escalate权限（可自行提权）"))
        if _verbs(rule, {"bind"}):
            found.append(Right("bind", "bind any role", "bind任意角色的权限"))
    if _groups(rule, {"", "authentication.k8s.io"}) and _verbs(rule, {"impersonate"}) \
            and _resources(rule, {"users", "groups", "serviceaccounts", "userextras", "uids"}):
        found.append(Right("impersonate", "impersonate users, groups or service accounts", "冒充用户、用户组或服务账户"))
    if everywhere and _groups(rule, {""}) and _resources(rule, {"secrets"}) and _verbs(rule, READ):
        found.append(Right("secrets_read", "read Secrets in every namespace", "读取所有命名空间的Secret"))
    if everywhere and _groups(rule, {""}) and _resources(rule, {"nodes/proxy"}) and _verbs(rule, {"get", "create"}):
        found.append(Right("nodes_proxy", "nodes/proxy (the kubelet API: exec into any pod)",
                           "nodes/proxy（kubelet API，可进入任意Pod执行命令）"))
    if (everywhere or namespace == SYSTEM_NAMESPACE) and _groups(rule, {"", "apps", "batch"}) \
            and _resources(rule, POD_MAKERS) and _verbs(rule, {"create"}):
        found.append(Right("pods_kube_system", "create pods in kube-system", "在kube-system中创建Pod"))
    return found


def dangerous_rights(rules: list[dict] | None, namespace: str | None) -> list[Right]:
    """The dangerous rights `rules` grant where `namespace` says (None: cluster-wide), most severe first;
    every verb on every resource is reported alone (it implies the rest)."""
    rules = [r for r in rules or [] if isinstance(r, dict)]
    if any(_full(r) for r in rules):
        where = "cluster-wide" if namespace is None else f"in namespace {namespace}"
        where_zh = "集群范围" if namespace is None else f"命名空间{namespace}内"
        return [Right("full_access", f"every verb on every resource {where}", f"{where_zh}对所有资源的全部操作")]
    found: dict[str, Right] = {}
    if any(_wildcard(r) for r in rules):
        found["wildcard"] = Right("wildcard", "wildcard rules (*)", "通配符（*）授权")
    for r in rules:
        for right in _rule_rights(r, namespace):
            found.setdefault(right.key, right)
    return list(found.values())


def describe(rights: list[Right]) -> tuple[str, str]:
    return ", ".join(r.en for r in rights), "、".join(r.zh for r in rights)
