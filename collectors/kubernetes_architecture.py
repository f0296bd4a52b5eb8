"""What the Kubernetes collector's assets contribute to the questionnaire's architecture section: namespaces
as network zones, Services of type LoadBalancer/NodePort and Ingresses as internet-facing endpoints, each
cluster (version, platform, nodes, namespaces, exposed services) and its API server audit log."""
from __future__ import annotations

from mlps_scan.architecture import ArchitectureEntries, attribute, entry_source, group_by_type, port_list, short_text
from mlps_scan.models import Asset, ClusterEntry, Endpoint, NetworkZone, SecurityService


def describe(assets: list[Asset]) -> ArchitectureEntries:
    by_type = group_by_type(assets)
    entries = ArchitectureEntries()
    for namespace in by_type["k8s.namespace"]:
        entries.networks.append(NetworkZone(
            kind="k8s_namespace", id=namespace.id, name=namespace.name, scope=namespace.scope,
            detail=short_text({k: namespace.attributes[k] for k in ("pod_security", "default_deny")
                               if k in namespace.attributes}),
            source=entry_source(namespace)))
    entries.internet_endpoints.extend(endpoints(by_type))
    for cluster in by_type["k8s.cluster"]:
        entries.kubernetes_clusters.append(cluster_entry(cluster, by_type, entries.internet_endpoints))
        audit_log = audit_log_service(cluster)
        if audit_log is not None:
            entries.security_services.append(audit_log)
    return entries


def _qualified_name(asset: Asset) -> str:
    return f"{attribute(asset, 'namespace', '')}/{asset.name or asset.id}".lstrip("/")


def endpoints(by_type: dict[str, list[Asset]]) -> list[Endpoint]:
    out = []
    for service in by_type["k8s.service"]:
        service_type = str(attribute(service, "service_type", ""))
        if service_type in ("LoadBalancer", "NodePort") or attribute(service, "external") is True:
            out.append(Endpoint(kind="k8s_service", id=service.id, name=_qualified_name(service),
                                ports=port_list(attribute(service, "ports", [])), scope=service.scope,
                                detail=f"type {service_type or '?'}", internet_facing=True,
                                source=entry_source(service)))
    for ingress in by_type["k8s.ingress"]:
        tls = attribute(ingress, "tls")
        out.append(Endpoint(kind="k8s_ingress", id=ingress.id, name=_qualified_name(ingress),
                            address=", ".join(str(h) for h in attribute(ingress, "hosts", [])) or None,
                            ports=["443/tcp"] if tls else ["80/tcp"], scope=ingress.scope,
                            detail=f"TLS {'yes' if tls else 'no'}", internet_facing=True, source=entry_source(ingress)))
    return out


def cluster_entry(cluster: Asset, by_type: dict[str, list[Asset]], exposed_endpoints: list[Endpoint]) -> ClusterEntry:
    """The cluster's objects share its scope prefix kubernetes/<target>."""
    root = cluster.scope.rstrip("/")

    def inside(scope: str | None) -> bool:
        return bool(scope) and (scope == root or scope.startswith(root + "/"))

    exposed = [e.name or e.id for e in exposed_endpoints if inside(e.scope)]
    nodes = [n for n in by_type["k8s.node"] if inside(n.scope)]
    node_count = attribute(cluster, "node_count")
    if node_count is None and nodes:
        node_count = len(nodes)
    source = entry_source(cluster) + [e for n in nodes for e in entry_source(n)][:20]
    return ClusterEntry(
        id=cluster.id, name=cluster.name, version=short_text(attribute(cluster, "server_version")),
        platform=attribute(cluster, "platform"), node_count=node_count if isinstance(node_count, int) else None,
        namespaces=sum(1 for n in by_type["k8s.namespace"] if inside(n.scope)),
        exposed_services=exposed, scope=cluster.scope, source=list(dict.fromkeys(source)))


def audit_log_service(cluster: Asset) -> SecurityService | None:
    api_server = attribute(cluster, "api_server", {})
    if not isinstance(api_server, dict) or not ("audit_log_path" in api_server or "api_server" in cluster.errors):
        return None
    return SecurityService(
        kind="k8s_audit_log", id=cluster.id, name=cluster.name, scope=cluster.scope,
        enabled=None if "api_server" in cluster.errors else bool(api_server.get("audit_log_path")),
        detail=short_text({k: api_server[k] for k in ("audit_log_path", "audit_log_maxage") if k in api_server}),
        source=entry_source(cluster))
