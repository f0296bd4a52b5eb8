"""Discovery: which hosts a target names (host names resolved, ~/.ssh/config HostName aliases followed), ONE
nmap run over all its addresses and ranges (python-nmap driving the real binary: TCP connect scan of the
port set, -sV, the ssh2-enum-algos and ssl-enum-ciphers scripts; nmap's XML is the evidence, read by
`nmap_xml`), and which hosts then get the fact script."""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from mlps_scan.errors import InputError
from mlps_scan.evidence import Recorded
from mlps_scan.models import EvidenceStatus, Profile
from mlps_scan.plugins import CollectSession

from .nmap_xml import parse_nmap_xml
from .ssh_config import ssh_config
from .targets import HostsTarget, default_ports, is_host_name, parse_target


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
