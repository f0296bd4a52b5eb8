"""Namespaces (with their NetworkPolicy and Pod Security Admission facts), NetworkPolicies, Services and
Ingresses."""
from __future__ import annotations

from .context import ClusterLists, md


def is_default_deny(np: dict) -> bool:
    spec = np.get("spec") or {}
    sel = spec.get("podSelector") or {}
    if sel.get("matchLabels") or sel.get("matchExpressions"):
        return False
    types = spec.get("policyTypes") or ["Ingress"]
    return "Ingress" in types and not spec.get("ingress")


def egress_types(np: dict) -> bool:
    """The policy restricts egress (policyTypes names Egress, or, unset, the policy has egress rules)."""
    spec = np.get("spec") or {}
    types = spec.get("policyTypes")
    return "Egress" in types if types else bool(spec.get("egress"))


def _world_peer(peer: dict) -> bool:
    block = peer.get("ipBlock") or {}
    return block.get("cidr") in ("0.0.0.0/0", "::/0") and not block.get("except")


def open_egress(np: dict) -> bool:
    """An egress rule that lets the selected pods reach anything: no `to` and no `ports`, or the whole
    internet (ipBlock 0.0.0.0/0 or ::/0 without exceptions) on any port."""
    if not egress_types(np):
        return False
    for rule in (np.get("spec") or {}).get("egress") or []:
        peers = rule.get("to") or []
        if not rule.get("ports") and (not peers or any(_world_peer(p) for p in peers)):
            return True
    return False


def _egress_facts(ns_name: str, netpols: list[dict]) -> dict:
    mine = [p for p in netpols if md(p).get("namespace") == ns_name and egress_types(p)]
    selects_all = [p for p in mine if not ((p.get("spec") or {}).get("podSelector") or {}).get("matchLabels")
                   and not ((p.get("spec") or {}).get("podSelector") or {}).get("matchExpressions")]
    return {"egress_policies": len(mine), "egress_isolated": bool(selects_all),
            "egress_open_policies": sorted(str(md(p).get("name")) for p in mine if open_egress(p))}


def derive_namespaces(c: ClusterLists) -> None:
    netpols = c.kind("networkpolicies")
    deny_ns = {(md(p).get("namespace")) for p in netpols.items if is_default_deny(p)}
    namespaces = c.kind("namespaces")
    for ns in namespaces.items:
        m = md(ns)
        labels = m.get("labels") or {}
        errors = {}
        attrs = {"labels": labels, "pod_security": labels.get("pod-security.kubernetes.io/enforce"),
                 "pod_security_audit": labels.get("pod-security.kubernetes.io/audit"),
                 "pod_security_warn": labels.get("pod-security.kubernetes.io/warn"),
                 "phase": (ns.get("status") or {}).get("phase"),
                 "tags": labels, "resource_name": m.get("name")}
        if c.why("networkpolicies"):
            errors["default_deny"] = errors["egress_isolated"] = c.why("networkpolicies")  # type: ignore[assignment]
        else:
            attrs["default_deny"] = m.get("name") in deny_ns
            attrs["network_policies"] = sum(1 for p in netpols.items if md(p).get("namespace") == m.get("name"))
            attrs.update(_egress_facts(m.get("name"), netpols.items))
        c.session.asset("k8s.namespace", m.get("uid") or m.get("name"), scope=c.ns_scope(m.get("name")),
                        name=m.get("name"), attributes=attrs, errors=errors,
                        evidence=namespaces.evidence + netpols.evidence)


def derive_networkpolicies(c: ClusterLists) -> None:
    netpols = c.kind("networkpolicies")
    for np in netpols.items:
        m = md(np)
        spec = np.get("spec") or {}
        c.session.asset("k8s.networkpolicy", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}",
                        scope=c.ns_scope(m.get("namespace")), name=m.get("name"), evidence=netpols.evidence,
                        attributes={"namespace": m.get("namespace"), "pod_selector": spec.get("podSelector") or {},
                                    "policy_types": spec.get("policyTypes") or ["Ingress"],
                                    "default_deny": is_default_deny(np),
                                    "ingress_rules": len(spec.get("ingress") or []),
                                    "egress_rules": len(spec.get("egress") or []),
                                    "resource_name": f"{m.get('namespace')}/{m.get('name')}"})


def _internal_load_balancer(annotations: dict) -> bool:
    return any(("internal" in k.lower() and str(v).lower() in ("true", "internal", "0.0.0.0/0"))
               or (k == "service.beta.kubernetes.io/aws-load-balancer-scheme" and v == "internal")
               for k, v in annotations.items())


def derive_services(c: ClusterLists) -> None:
    svcs = c.kind("services")
    for sv in svcs.items:
        m = md(sv)
        spec = sv.get("spec") or {}
        typ = spec.get("type") or "ClusterIP"
        c.session.asset("k8s.service", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}",
                        scope=c.ns_scope(m.get("namespace")), name=m.get("name"), evidence=svcs.evidence,
                        attributes={"namespace": m.get("namespace"), "service_type": typ,
                                    "ports": [{"port": p.get("port"), "protocol": p.get("protocol", "TCP"),
                                               "node_port": p.get("nodePort")} for p in spec.get("ports") or []],
                                    "external": typ in ("LoadBalancer", "NodePort") or bool(spec.get("externalIPs")),
                                    "external_ips": spec.get("externalIPs") or [],
                                    "source_ranges": spec.get("loadBalancerSourceRanges") or [],
                                    "internal_load_balancer": _internal_load_balancer(m.get("annotations") or {}),
                                    "resource_name": f"{m.get('namespace')}/{m.get('name')}"})


def derive_ingresses(c: ClusterLists) -> None:
    ings = c.kind("ingresses")
    for ing in ings.items:
        m = md(ing)
        spec = ing.get("spec") or {}
        hosts = sorted({r.get("host") or "*" for r in spec.get("rules") or []}) or ["*"]
        tls_hosts = sorted({h for t in spec.get("tls") or [] for h in (t.get("hosts") or ["*"])})
        uncovered = [h for h in hosts if h not in tls_hosts and "*" not in tls_hosts]
        c.session.asset("k8s.ingress", m.get("uid") or f"{m.get('namespace')}/{m.get('name')}",
                        scope=c.ns_scope(m.get("namespace")), name=m.get("name"), evidence=ings.evidence,
                        attributes={"namespace": m.get("namespace"), "hosts": hosts,
                                    "tls": bool(spec.get("tls")) and not uncovered,
                                    "tls_hosts": tls_hosts, "hosts_without_tls": uncovered,
                                    "ingress_class": spec.get("ingressClassName"),
                                    "resource_name": f"{m.get('namespace')}/{m.get('name')}"})
