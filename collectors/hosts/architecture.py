"""What the hosts collector's assets contribute to the questionnaire's architecture section: each host (OS,
kernel, open ports), each open port as an endpoint (open to the scanner; whether the internet reaches it is
for the client to confirm) and the host's security facilities (auditd, firewall, anti-malware, mandatory
access control)."""
from __future__ import annotations

from typing import Any

from mlps_scan.architecture import (ArchitectureEntries, attribute, entry_source, fact_enabled, group_by_type,
                                    short_text)
from mlps_scan.models import Asset, Endpoint, HostEntry, SecurityService

# fact group -> security service kind
SECURITY_FACTS = (("audit", "host_audit"), ("firewall", "host_firewall"), ("malware", "host_malware_protection"),
                  ("mac", "host_mandatory_access_control"))


def describe(assets: list[Asset]) -> ArchitectureEntries:
    by_type = group_by_type(assets)
    entries = ArchitectureEntries()
    for service in by_type["host.service"]:
        port = attribute(service, "port")
        banner = " ".join(str(x) for x in (attribute(service, "service"), attribute(service, "product"),
                                           attribute(service, "version")) if x)
        entries.internet_endpoints.append(Endpoint(
            kind="host_service", id=service.id, name=service.name, address=attribute(service, "address"),
            ports=[f"{port}/{attribute(service, 'protocol', 'tcp')}"] if port is not None else [], scope=service.scope,
            detail=short_text(banner + " (open to the scanner; confirm whether the internet reaches it)"),
            internet_facing=False, source=entry_source(service)))
    for host in by_type["host"]:
        entries.hosts.append(host_entry(host))
        entries.security_services.extend(security_services(host))
    return entries


def os_name(os_release: Any) -> str | None:
    if isinstance(os_release, dict):
        return os_release.get("pretty_name") or " ".join(str(os_release[k]) for k in ("id", "version")
                                                         if os_release.get(k)) or None
    return str(os_release) if os_release else None


def host_entry(host: Asset) -> HostEntry:
    ports = attribute(host, "open_ports", [])
    detail = "; ".join(x for x in (
        f"kernel {host.attributes['kernel']}" if attribute(host, "kernel") else "",
        f"open ports {', '.join(str(p) for p in ports)}" if ports else "",
        "unreachable" if attribute(host, "reachable") is False else "") if x)
    return HostEntry(kind="host", id=host.id, name=attribute(host, "hostname") or host.name,
                     os=os_name(attribute(host, "os")), detail=detail or None, scope=host.scope,
                     source=entry_source(host))


def security_services(host: Asset) -> list[SecurityService]:
    out = []
    for fact, kind in SECURITY_FACTS:
        if fact in host.attributes or fact in host.errors:
            out.append(SecurityService(
                kind=kind, id=host.id, name=attribute(host, "hostname") or host.name, scope=host.scope,
                enabled=None if fact in host.errors else fact_enabled(host.attributes[fact]),
                detail=(f"not collected: {host.errors[fact]}" if fact in host.errors
                        else short_text(host.attributes.get(fact))),
                source=entry_source(host)))
    return out
