"""RBAC: Roles and ClusterRoles (wildcards, full access, built-in), and the bindings that grant them, with
the facts of the role they reference."""
from __future__ import annotations

from typing import Any

from .context import ClusterLists, md

RoleKey = tuple[str, Any, Any]  # (Role | ClusterRole, namespace or None, name)


def _role_attributes(role: dict, cluster: bool) -> dict[str, Any]:
    m = md(role)
    rules = role.get("rules") or []
    wild = any("*" in (ru.get("verbs") or []) or "*" in (ru.get("resources") or []) for ru in rules)
    full = any("*" in (ru.get("verbs") or []) and "*" in (ru.get("resources") or [])
               and "*" in (ru.get("apiGroups") or []) for ru in rules)
    labels = m.get("labels") or {}
    return {"kind": "ClusterRole" if cluster else "Role", "namespace": m.get("namespace"), "cluster_wide": cluster,
            "rules": rules, "wildcard": wild, "full_access": full, "aggregated": bool(role.get("aggregationRule")),
            "builtin": labels.get("kubernetes.io/bootstrapping") == "rbac-defaults"
            or str(m.get("name", "")).startswith("system:"), "tags": labels}


def derive_roles(c: ClusterLists) -> dict[RoleKey, dict]:
    """k8s.rbac.role assets; returns each role's attributes by (kind, namespace, name) for the bindings."""
    roles_by: dict[RoleKey, dict] = {}
    for kind_key, cluster in (("clusterroles", True), ("roles", False)):
        k = c.kind(kind_key)
        for r in k.items:
            m = md(r)
            attrs = _role_attributes(r, cluster)
            roles_by[(attrs["kind"], None if cluster else m.get("namespace"), m.get("name"))] = attrs
            c.session.asset("k8s.rbac.role", m.get("uid") or f"{attrs['kind']}/{m.get('namespace')}/{m.get('name')}",
                            scope=c.ns_scope(None if cluster else m.get("namespace")),
                            name=f"{attrs['kind']}/{m.get('name')}", attributes=attrs, evidence=k.evidence)
    return roles_by


def _binding_asset(c: ClusterLists, b: dict, cluster: bool, roles_by: dict[RoleKey, dict], evidence: list[str]) -> None:
    m = md(b)
    ref = b.get("roleRef") or {}
    role_ns = None if ref.get("kind") == "ClusterRole" else m.get("namespace")
    role = roles_by.get((ref.get("kind"), role_ns, ref.get("name")))
    errors = {}
    attrs = {"kind": "ClusterRoleBinding" if cluster else "RoleBinding", "namespace": m.get("namespace"),
             "role": ref.get("name"), "role_kind": ref.get("kind"), "cluster_wide": cluster,
             "subjects": [{"kind": x.get("kind"), "name": x.get("name"), "namespace": x.get("namespace")}
                          for x in b.get("subjects") or []],
             "builtin": (m.get("labels") or {}).get("kubernetes.io/bootstrapping") == "rbac-defaults"}
    src = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
    if role is not None:
        attrs["role_wildcard"] = role["wildcard"]
        attrs["role_full_access"] = role["full_access"]
    elif c.why(src):
        errors["role_wildcard"] = errors["role_full_access"] = c.why(src)  # type: ignore[assignment]
    else:
        attrs["role_wildcard"] = attrs["role_full_access"] = None  # the role does not exist (dangling binding)
    c.session.asset("k8s.rbac.binding", m.get("uid") or f"{attrs['kind']}/{m.get('namespace')}/{m.get('name')}",
                    scope=c.ns_scope(None if cluster else m.get("namespace")), name=f"{attrs['kind']}/{m.get('name')}",
                    attributes=attrs, errors=errors, evidence=evidence)


def derive_bindings(c: ClusterLists, roles_by: dict[RoleKey, dict]) -> None:
    for kind_key, cluster in (("clusterrolebindings", True), ("rolebindings", False)):
        k = c.kind(kind_key)
        for b in k.items:
            _binding_asset(c, b, cluster, roles_by, k.evidence)
