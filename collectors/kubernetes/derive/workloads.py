"""ServiceAccounts and workloads: controllers (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs) and the
pods no listed controller owns, each with the security facts of its pod template."""
from __future__ import annotations

from typing import Any

from mlps_scan.redact import REDACTED

from ..resources import WORKLOAD_KINDS
from ..sanitize import secret_env_name
from .context import ClusterLists, age_days, md


def image_registry(image: str) -> str:
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def image_tag(image: str) -> str | None:
    if "@" in image:
        return "@" + image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def _runs_as_non_root(containers: list[dict], psc: dict) -> bool:
    non_root = bool(containers)
    for c in containers:
        sc = c.get("securityContext") or {}
        nr = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        uid = sc.get("runAsUser", psc.get("runAsUser"))
        if not (nr is True or (isinstance(uid, int) and uid > 0)) or uid == 0:
            non_root = False
    return non_root


def _secret_env(containers: list[dict]) -> list[str]:
    found: list[str] = []
    for c in containers:
        for e in c.get("env") or []:
            ref = ((e.get("valueFrom") or {}).get("secretKeyRef") or {})
            if ref.get("name"):
                found.append(f"{c.get('name')}: {e.get('name')} <- secret {ref['name']}")
            elif e.get("value") == REDACTED or (e.get("value") and secret_env_name(str(e.get("name", "")))):
                found.append(f"{c.get('name')}: {e.get('name')} = literal value in the spec (redacted)")
        for ef in c.get("envFrom") or []:
            if (ef.get("secretRef") or {}).get("name"):
                found.append(f"{c.get('name')}: envFrom secret {ef['secretRef']['name']}")
    return found


def pod_spec_facts(spec: dict) -> dict[str, Any]:
    """Security facts of a pod template's spec (attribute names per docs/asset-types.md)."""
    containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or []) \
        + list(spec.get("ephemeralContainers") or [])
    psc = spec.get("securityContext") or {}
    privileged = any(bool((c.get("securityContext") or {}).get("privileged")) for c in containers)
    caps: list[str] = []
    escalation = False
    for c in containers:
        sc = c.get("securityContext") or {}
        caps.extend((sc.get("capabilities") or {}).get("add") or [])
        if sc.get("allowPrivilegeEscalation", True) is not False:
            escalation = True
    vols = [v for v in spec.get("volumes") or [] if isinstance(v, dict)]
    host_paths = [(v.get("hostPath") or {}).get("path") for v in vols if isinstance(v.get("hostPath"), dict)]
    secret_vols = [v["secret"].get("secretName") for v in vols if isinstance(v.get("secret"), dict)]
    images = [c.get("image") for c in containers if c.get("image")]
    return {
        "privileged": privileged,
        "host_network": bool(spec.get("hostNetwork")),
        "host_pid": bool(spec.get("hostPID")),
        "host_ipc": bool(spec.get("hostIPC")),
        "run_as_non_root": _runs_as_non_root(containers, psc),
        "allow_privilege_escalation": escalation,
        "capabilities_added": sorted(set(caps)),
        "host_path_volumes": host_paths,
        "host_ports": sorted({p.get("hostPort") for c in containers for p in c.get("ports") or [] if p.get("hostPort")}),
        "images": images,
        "registries": sorted({image_registry(i) for i in images}),
        "image_tags": {i: image_tag(i) for i in images},
        "secret_env": _secret_env(containers),
        "secret_volumes": [v for v in secret_vols if v],
        "service_account": spec.get("serviceAccountName") or spec.get("serviceAccount") or "default",
        "automount_spec": spec.get("automountServiceAccountToken"),
    }


def template_spec(kind_key: str, obj: dict) -> dict:
    spec = obj.get("spec") or {}
    if kind_key == "pods":
        return spec
    if kind_key == "cronjobs":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def derive_serviceaccounts(c: ClusterLists, grants: dict[tuple, tuple[list[dict], list[str]]]) -> dict[tuple[str, str], Any]:
    """k8s.serviceaccount assets, with the roles bound to each (`bound_roles`: binding -> role); returns
    (namespace, name) -> automountServiceAccountToken for the workloads."""
    sa_automount: dict[tuple[str, str], Any] = {}
    k = c.kind("serviceaccounts")
    unknown = c.why("clusterrolebindings") or c.why("rolebindings")
    for sa in k.items:
        m = md(sa)
        sa_automount[(m.get("namespace"), m.get("name"))] = sa.get("automountServiceAccountToken")
        attrs = {"namespace": m.get("namespace"), "automount": sa.get("automountServiceAccountToken"),
                 "secrets": len(sa.get("secrets") or []), "age_days": age_days(m.get("creationTimestamp"), c.now)}
        errors = {}
        if unknown:
            errors["bound_roles"] = unknown
        else:
            held = grants.get(("ServiceAccount", m.get("namespace"), m.get("name")), ([], []))[0]
            attrs["bound_roles"] = [f"{g['binding']}: {g['role']}" for g in held]
        attrs["resource_name"] = f"{m.get('namespace')}/{m.get('name')}"
        c.session.asset("k8s.serviceaccount", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}",
                        scope=c.ns_scope(m.get("namespace")), name=m.get("name"), evidence=k.evidence,
                        attributes=attrs, errors=errors)
    return sa_automount


def _is_separate_workload(kind_key: str, obj: dict) -> bool:
    owners = md(obj).get("ownerReferences") or []
    if kind_key == "pods":
        return not owners  # owned by a controller (ReplicaSet/Deployment, DaemonSet, Job, Node for static pods)
    return not any(o.get("kind") in WORKLOAD_KINDS.values() for o in owners)  # e.g. a Job a CronJob made


def _workload_asset(c: ClusterLists, kind_key: str, obj: dict, evidence: list[str],
                    sa_automount: dict[tuple[str, str], Any]) -> None:
    m = md(obj)
    f = pod_spec_facts(template_spec(kind_key, obj))
    ns = m.get("namespace")
    errors: dict[str, str] = {}
    auto = f.pop("automount_spec")
    if auto is None:
        if c.why("serviceaccounts"):
            errors["automount_sa_token"] = c.why("serviceaccounts")  # type: ignore[assignment]
        else:
            sa_val = sa_automount.get((ns, f["service_account"]))
            auto = True if sa_val is None else bool(sa_val)
    attrs = {"kind": obj.get("kind") or (WORKLOAD_KINDS.get(kind_key) or "Pod"), "namespace": ns,
             **f, "labels": m.get("labels") or {}}
    if "automount_sa_token" not in errors:
        attrs["automount_sa_token"] = bool(auto)
    owners = m.get("ownerReferences") or []
    if kind_key == "pods" and owners:
        attrs["owner"] = owners[0].get("kind")
    attrs["resource_name"] = f"{ns}/{m.get('name')}" if ns else m.get("name")
    c.session.asset("k8s.workload", m.get("uid") or f"{attrs['kind']}/{ns}/{m.get('name')}", scope=c.ns_scope(ns),
                    name=f"{attrs['kind']}/{m.get('name')}", attributes=attrs, errors=errors, evidence=evidence)


def derive_workloads(c: ClusterLists, sa_automount: dict[tuple[str, str], Any]) -> None:
    """k8s.workload assets: controllers, plus pods no listed controller owns."""
    for kind_key in ("pods", *WORKLOAD_KINDS):
        k = c.kind(kind_key)
        for obj in k.items:
            if _is_separate_workload(kind_key, obj):
                _workload_asset(c, kind_key, obj, k.evidence, sa_automount)
