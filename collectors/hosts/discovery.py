"""Discovery: which hosts a target names (host names resolved, ~/.ssh/config HostName aliases followed), ONE
nmap run over all its addresses and ranges (python-nmap driving the real binary: TCP connect scan of the
port set, -sV, the ssh2-enum-algos and ssl-enum-ciphers scripts; nmap's XML is the evidence), and the
reading of that XML into hosts and ports."""
from __future__ import annotations

import ipaddress
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from mlps_scan.errors import InputError
from mlps_scan.evidence import Recorded
from mlps_scan.models import EvidenceStatus, Profile
from mlps_scan.plugins import CollectSession

from .targets import HostsTarget, default_ports, is_host_name, parse_target
from .transport import ssh_config


@dataclass
class HostPlan:
    """The hosts of one target: address -> label (the first name it was given, else the address), the names
    each address was configured under (for known_hosts), and the CIDR ranges to discover."""

    labels: dict[str, str] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    ranges: list[str] = field(default_factory=list)


def plan_hosts(target: HostsTarget, session: CollectSession) -> HostPlan:
    """One entry (one SSH session) per address, however many times and ways (name, address) it was given."""
    found: list[tuple[str, str]] = []  # (address, label as configured)
    plan = HostPlan()
    for text in dict.fromkeys(target.targets):
        kind, value = parse_target(text)
        if kind == "ip":
            found.append((str(value), text))
        elif kind == "net":
            plan.ranges.append(str(value))
        else:
            alias = ssh_config(value).get("hostname") if target.ssh.use_ssh_config else None
            alias = alias if alias and alias != value else None
            resolved = resolve(value, session, alias)
            found.extend(resolved)
            alias_name = alias if alias and is_host_name(alias) else None
            for address, _ in resolved:
                for name in (value, alias_name):
                    if name and name not in plan.names.setdefault(address, []):
                        plan.names[address].append(name)
    if target.transport == "local":
        found = [("localhost", "localhost")]
    for address, label in found:
        current = plan.labels.get(address)
        if current is None or (current == address and label != address and is_host_name(label)):
            plan.labels[address] = label
    return plan


def resolve(name: str, session: CollectSession, alias: str | None = None) -> list[tuple[str, str]]:
    """[(address, name)] for a host name (recorded as `resolve:<name>`), following a ~/.ssh/config HostName."""
    if alias:  # ~/.ssh/config maps the name: `Host name` / `HostName alias`
        try:
            kind, value = parse_target(alias)
        except InputError:
            kind = None
        if kind == "ip":
            session.record(f"resolve:{name}", {"name": name, "addresses": [str(value)], "via": "ssh_config HostName"})
            return [(str(value), name)]
        if kind != "name":
            session.record(f"resolve:{name}", {"name": name}, status=EvidenceStatus.error,
                           error=f"~/.ssh/config HostName {alias!r} for {name} is not a host name or address")
            return []
        return [(address, name) for address, _ in resolve(value, session)]
    if name == "localhost":
        session.record(f"resolve:{name}", {"name": name, "addresses": ["127.0.0.1"]})
        return [("127.0.0.1", name)]
    session.count_call()
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    except OSError as e:
        session.record(f"resolve:{name}", {"name": name}, status=EvidenceStatus.error, error=f"cannot resolve {name}: {e}")
        return []
    session.record(f"resolve:{name}", {"name": name, "addresses": addresses})
    return [(addresses[0], name)] if addresses else []


def discover(plan: HostPlan, target: HostsTarget, session: CollectSession, profile: Profile | None) -> list[Recorded]:
    """One nmap run for all targets (nmap cannot mix address families: IPv6 targets get a second run)."""
    addresses = [a for a in plan.labels if a != "localhost"] + (["127.0.0.1"] if target.transport == "local" else [])
    if not (target.discover and (addresses or plan.ranges)):
        return []
    runs = []
    ipv4 = [a for a in addresses + plan.ranges if ":" not in a]
    ipv6 = [a for a in addresses + plan.ranges if ":" in a]
    if ipv4:
        runs.append(run_nmap(ipv4, target, session, profile, "nmap"))
    if ipv6:
        runs.append(run_nmap(ipv6, target, session, profile, "nmap6"))
    return runs


def run_nmap(addresses: list[str], target: HostsTarget, session: CollectSession, profile: Profile | None,
             source: str = "nmap") -> Recorded:
    ports = sorted(set(target.ports or default_ports(profile)))
    if target.ssh.port:
        ports = sorted(set(ports) | {target.ssh.port})
    arguments = ["-sT", "-Pn", "-n", "-sV", "--version-light", "--script", "ssh2-enum-algos,ssl-enum-ciphers",
                 "--max-retries", "1", "--host-timeout", f"{int(target.nmap_timeout)}s", "-T4"]
    if source == "nmap6":
        arguments.append("-6")
    request = {"targets": addresses, "ports": ports, "arguments": arguments}
    session.progress(f"nmap over {len(addresses)} target(s), {len(ports)} port(s)")
    session.count_call()
    try:
        import nmap
        scanner = nmap.PortScanner()
        scanner.scan(hosts=" ".join(addresses), ports=",".join(map(str, ports)), arguments=" ".join(arguments),
                     timeout=int(target.nmap_timeout) + 30)
        xml = scanner.get_nmap_last_output()
        xml = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml
    except Exception as e:  # noqa: BLE001 - nmap missing, timeout, parse error: evidence says so
        return session.record(source, None, request=request, status=EvidenceStatus.error,
                              error=f"nmap failed: {type(e).__name__}: {e}")
    return session.record(source, {"xml": xml}, request=request)


def fact_hosts(plan: HostPlan, target: HostsTarget, nmap_runs: list[Recorded]) -> list[str]:
    """Which hosts get the fact script: every named/addressed host; from ranges, the hosts nmap saw with the
    SSH port open (every address of a range when discovery is off). A range overlapping a listed address
    still gives one session."""
    hosts = list(plan.labels)
    ssh_port = target.ssh.port or 22
    for run in nmap_runs:
        if not (plan.ranges and run.ok):
            continue
        for host in parse_nmap_xml(run.answer.get("xml", "")):
            if host["address"] not in hosts and any(p["port"] == ssh_port and p["state"] == "open" for p in host["ports"]):
                hosts.append(host["address"])
    if plan.ranges and not target.discover:
        for network in plan.ranges:
            hosts.extend(str(a) for a in ipaddress.ip_network(network).hosts())
    return list(dict.fromkeys(hosts))


# --------------------------------------------------------------------------- nmap XML


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
