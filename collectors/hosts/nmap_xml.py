"""nmap's XML (the discovery evidence) read into hosts and their ports: state, service and version, and the
ssh2-enum-algos / ssl-enum-ciphers script results."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


def _script_output(port: dict[str, Any], script: ET.Element) -> None:
    """The ssh2-enum-algos and ssl-enum-ciphers results of one port, into `port`."""
    if script.get("id") == "ssh2-enum-algos":
        port["ssh_algorithms"] = {t.get("key"): [e.text for e in t.findall("elem")] for t in script.findall("table")}
    elif script.get("id") == "ssl-enum-ciphers":
        tls: dict[str, Any] = {"versions": [], "ciphers": [], "least_strength": None}
        for version in script.findall("table"):
            tls["versions"].append(version.get("key"))
            for group in version.findall("table"):
                if group.get("key") != "ciphers":
                    continue
                for cipher in group.findall("table"):
                    name = next((e.text for e in cipher.findall("elem") if e.get("key") == "name"), None)
                    strength = next((e.text for e in cipher.findall("elem") if e.get("key") == "strength"), None)
                    tls["ciphers"].append({"version": version.get("key"), "name": name, "strength": strength})
        tls["least_strength"] = next((e.text for e in script.findall("elem") if e.get("key") == "least strength"), None)
        port["tls"] = tls


def parse_nmap_xml(xml: str) -> list[dict[str, Any]]:
    """[{address, ports: [{port, protocol, state, service, product, version, tunnel, [ssh_algorithms], [tls]}]}]"""
    if not xml:
        return []
    out = []
    for host in ET.fromstring(xml).iter("host"):
        address = next((a for a in host.findall("address") if a.get("addrtype") in ("ipv4", "ipv6")), None)
        if address is None:
            continue
        ports = []
        for port in host.iter("port"):
            state = port.find("state")
            service = port.find("service")
            item: dict[str, Any] = {"port": int(port.get("portid")), "protocol": port.get("protocol"),
                                    "state": state.get("state") if state is not None else "unknown",
                                    "service": service.get("name") if service is not None else None,
                                    "product": service.get("product") if service is not None else None,
                                    "version": service.get("version") if service is not None else None,
                                    "tunnel": service.get("tunnel") if service is not None else None}
            for script in port.findall("script"):
                _script_output(item, script)
            ports.append(item)
        out.append({"address": address.get("addr"), "ports": ports})
    return out
