"""RBAC: Roles and ClusterRoles (wildcards, full access, built-in), the bindings that grant them (with the
rules of the role they reference), and every subject named by a binding (`k8s.rbac.subject`) with what it
holds, through which binding, where: the facts the rights checks judge."""
from __future__ import annotations

from typing import Any

from .context import ClusterLists, md

RoleKey = tuple[str, Any, Any]  # (Role | ClusterRole, namespace or None, name)
SubjectKey = tuple[str, Any, Any]  # (User | Group | ServiceAccount, namespace or None, name)
BINDING_KINDS = (("clusterrolebindings", True), ("rolebindings", False))


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
            or str(m.get("name", "")).startswith("system:"), "tags": labels,
            "resource_name": f"{m.get('namespace')}/{m.get('name')}" if not cluster else m.get("name")}


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


def _referenced_role(b: dict, roles_by: dict[RoleKey, dict]) -> tuple[dict, str, dict | None]:
    """(roleRef, the kind key it is listed under, the role's attributes or None when it does not exist)."""
    ref = b.get("roleRef") or {}
    role_ns = None if ref.get("kind") == "ClusterRole" else md(b).get("namespace")
    src = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
    return ref, src, roles_by.get((ref.get("kind"), role_ns, ref.get("name")))


def _binding_asset(c: ClusterLists, b: dict, cluster: bool, roles_by: dict[RoleKey, dict], evidence: list[str]) -> None:
    m = md(b)
    ref, src, role = _referenced_role(b, roles_by)
    errors = {}
    attrs = {"kind": "ClusterRoleBinding" if cluster else "RoleBinding", "namespace": m.get("namespace"),
             "role": ref.get("name"), "role_kind": ref.get("kind"), "cluster_wide": cluster,
             "subjects": [{"kind": x.get("kind"), "name": x.get("name"), "namespace": x.get("namespace")}
                          for x in b.get("subjects") or []],
             "builtin": (m.get("labels") or {}).get("kubernetes.io/bootstrapping") == "rbac-defaults"}
    if role is not None:
        attrs["role_wildcard"] = role["wildcard"]
        attrs["role_full_access"] = role["full_access"]
        attrs["role_rules"] = role["rules"]
    elif c.why(src):
        errors["role_wildcard"] = errors["role_full_access"] = errors["role_rules"] = c.why(src)  # type: ignore[assignment]
    else:  # the role does not exist (dangling binding): it grants nothing
        attrs["role_wildcard"] = attrs["role_full_access"] = attrs["role_rules"] = None
    attrs["resource_name"] = m.get("name") if cluster else f"{m.get('namespace')}/{m.get('name')}"
    c.session.asset("k8s.rbac.binding", m.get("uid") or f"{attrs['kind']}/{m.get('namespace')}/{m.get('name')}",
                    scope=c.ns_scope(None if cluster else m.get("namespace")), name=f"{attrs['kind']}/{m.get('name')}",
                    attributes=attrs, errors=errors, evidence=evidence)


def derive_bindings(c: ClusterLists, roles_by: dict[RoleKey, dict]) -> None:
    for kind_key, cluster in BINDING_KINDS:
        k = c.kind(kind_key)
        for b in k.items:
            _binding_asset(c, b, cluster, roles_by, k.evidence)


def _grant(b: dict, cluster: bool, roles_by: dict[RoleKey, dict], c: ClusterLists) -> tuple[dict, str | None]:
    """What one binding grants its subjects: (grant facts, why the role's rules are unknown or None)."""
    m = md(b)
    ref, src, role = _referenced_role(b, roles_by)
    kind = "ClusterRoleBinding" if cluster else "RoleBinding"
    grant = {"binding": f"{kind}/{m.get('name')}" if cluster else f"{kind}/{m.get('namespace')}/{m.get('name')}",
             "role": f"{ref.get('kind')}/{ref.get('name')}", "namespace": None if cluster else m.get("namespace"),
             "builtin": (m.get("labels") or {}).get("kubernetes.io/bootstrapping") == "rbac-defaults"}
    unknown = c.why(src) if role is None else None
    grant["rules"] = role["rules"] if role is not None else None  # None: dangling (grants nothing) or unknown
    return grant, unknown


def subject_key(subject: dict, binding_ns: str | None) -> SubjectKey:
    kind = subject.get("kind")
    ns = (subject.get("namespace") or binding_ns) if kind == "ServiceAccount" else None
    return (str(kind), ns, subject.get("name"))


def grants_by_subject(c: ClusterLists, roles_by: dict[RoleKey, dict]) -> dict[SubjectKey, tuple[list[dict], list[str]]]:
    """subject -> (its grants, reasons some grant's rules are unknown), in binding order."""
    out: dict[SubjectKey, tuple[list[dict], list[str]]] = {}
    for kind_key, cluster in BINDING_KINDS:
        for b in c.kind(kind_key).items:
            grant, unknown = _grant(b, cluster, roles_by, c)
            for subj in b.get("subjects") or []:
                grants, reasons = out.setdefault(subject_key(subj, md(b).get("namespace")), ([], []))
                grants.append(grant)
                if unknown and unknown not in reasons:
                    reasons.append(unknown)
    return out


def subject_label(key: SubjectKey) -> str:
    kind, ns, name = key
    return f"{kind}:{ns}/{name}" if ns else f"{kind}:{name}"


def derive_subjects(c: ClusterLists, grants: dict[SubjectKey, tuple[list[dict], list[str]]]) -> None:
    """One k8s.rbac.subject per user, group or ServiceAccount a binding names, at the cluster's scope."""
    evidence = c.kind("clusterrolebindings").evidence + c.kind("rolebindings").evidence \
        + c.kind("clusterroles").evidence + c.kind("roles").evidence
    for key in sorted(grants, key=lambda k: (k[0], k[1] or "", str(k[2]))):
        kind, ns, name = key
        held, unknown = grants[key]
        errors = {"grants": "; ".join(unknown)} if unknown else {}
        attrs = {"kind": kind, "name": name, "namespace": ns, "grants": held,
                 "resource_name": f"{ns}/{name}" if ns else name}
        c.session.asset("k8s.rbac.subject", f"{c.scope}/subject/{subject_label(key)}", scope=c.scope,
                        name=subject_label(key), attributes=attrs, errors=errors, evidence=evidence)
