"""What assets from static files contribute to the questionnaire's architecture section: network devices
(`network.*`: firewalls and the like) as zones, rules allowing any source as internet-facing exposure, the
devices themselves as security services, and databases a user listed (`database*`, `static.database*`)."""
from __future__ import annotations

from collections import defaultdict

from mlps_scan.architecture import (OPEN_SOURCES, ArchitectureEntries, as_bool, attribute, data_store, entry_source,
                                    short_text)
from mlps_scan.models import Asset, Endpoint, NetworkZone, SecurityService

NETWORK_PREFIX = "network."
STORE_PREFIXES = ("database", "static.database")
ALLOWING = ("allow", "permit", "accept")


def describe(assets: list[Asset]) -> ArchitectureEntries:
    devices = sorted((a for a in assets if a.type.startswith(NETWORK_PREFIX)), key=lambda a: a.type)  # stable
    entries = ArchitectureEntries()
    entries.networks.extend(zones(devices))
    for device in devices:
        exposed = [f"{r.get('ports', 'any')}/{r.get('protocol', 'any')} -> {r.get('destination', 'any')}"
                   for r in attribute(device, "rules", []) or []
                   if isinstance(r, dict) and str(r.get("action", "")).lower() in ALLOWING
                   and str(r.get("source", "")).lower() in OPEN_SOURCES]
        if exposed:
            entries.internet_endpoints.append(Endpoint(
                kind="firewall_allow_any_source", id=device.id, name=device.name, ports=exposed, scope=device.scope,
                detail=f"zone {attribute(device, 'zone', '?')}: rules allowing any source", internet_facing=False,
                source=entry_source(device)))
    entries.data_stores.extend(data_store(a, kind=a.type, public=attribute(a, "public"))
                               for a in assets if a.type.startswith(STORE_PREFIXES))
    for device in devices:
        entries.security_services.append(SecurityService(
            kind=device.type.split(".", 1)[1], id=device.id, name=device.name, scope=device.scope,
            enabled=as_bool(attribute(device, "logging")) if "logging" in device.attributes else None,
            detail=short_text({k: device.attributes[k] for k in ("vendor", "model", "zone", "default_action", "logging")
                               if k in device.attributes}),
            source=entry_source(device)))
    return entries


def zones(devices: list[Asset]) -> list[NetworkZone]:
    """One zone per `zone` the devices name, listing the devices in it."""
    members: dict[str, list[Asset]] = defaultdict(list)
    for device in devices:
        if attribute(device, "zone"):
            members[str(device.attributes["zone"])].append(device)
    return [NetworkZone(kind="firewall_zone", id=zone, name=zone,
                        detail="devices: " + ", ".join(a.name or a.id for a in in_zone),
                        source=sorted({e for a in in_zone for e in entry_source(a)}))
            for zone, in_zone in sorted(members.items())]
