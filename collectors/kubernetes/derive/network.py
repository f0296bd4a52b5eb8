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
                 "tags": labels}
        if c.why("networkpolicies"):
            errors["default_deny"] = c.why("networkpolicies")
        else:
            attrs["default_deny"] = m.get("name") in deny_ns
            attrs["network_policies"] = sum(1 for p in netpols.items if md(p).get("namespace") == m.get("name"))
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
                                    "egress_rules": len(spec.get("egress") or [])})


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
                                    "internal_load_balancer": _internal_load_balancer(m.get("annotations") or {})})


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
                                    "ingress_class": spec.get("ingressClassName")})
