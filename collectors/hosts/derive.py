"""Hosts and their open ports (`host`, `host.service`) and coverage, from the recorded evidence alone: the
plan (`target`), nmap's XML (`nmap`, `nmap6`), name resolution (`resolve:<name>`) and each host's fact script
output (`facts:<address>`). Live scans and offline replay share this code."""
from __future__ import annotations

from typing import Any

from mlps_scan.models import EvidenceRecord, EvidenceStatus
from mlps_scan.plugins import CollectSession

from .facts import FACT_GROUPS, parse_facts
from .nmap_xml import parse_nmap_xml

IDENTITY_FACTS = ("os", "kernel", "hostname")


class HostsEvidence:
    """What the records of one target say, host by host: attributes, evidence ids and attribute errors."""

    def __init__(self, records: list[EvidenceRecord], session: CollectSession):
        self.records = records
        self.session = session
        self.base_scope = f"hosts/{records[0].target if records else session.target}"
        self.plan = next((r for r in records if r.source == "target"), None)
        plan = (self.plan.answer or {}) if self.plan else {}
        self.labels: dict[str, str] = plan.get("labels", {})
        self.planned: list[str] = plan.get("hosts", [])
        self.ranges = [x for x in plan.get("targets", []) if "/" in str(x)]
        self.hosts: dict[str, dict[str, Any]] = {}
        self.evidence: dict[str, list[str]] = {}
        self.errors: dict[str, dict[str, str]] = {}

    def host(self, address: str) -> dict[str, Any]:
        return self.hosts.setdefault(address, {"address": address})

    def has_facts_record(self, address: str) -> bool:
        return any(r.source == f"facts:{address}" for r in self.records)


def derive_hosts(records: list[EvidenceRecord], session: CollectSession) -> None:
    found = HostsEvidence(records, session)
    for record in records:
        if record.source.startswith("resolve:") and record.status != EvidenceStatus.ok:
            name = record.source.split(":", 1)[1]
            session.coverage("host", f"{found.base_scope}/{name}", EvidenceStatus.error, record.error, [record.id])
    for record in records:
        if record.source in ("nmap", "nmap6"):
            read_discovery(found, record)
    for record in records:
        if record.source.startswith("facts:"):
            read_facts(found, record)
    for address in found.planned:  # a planned host with no facts record at all (should not happen): say so
        if not found.has_facts_record(address):
            found.host(address)
            found.errors.setdefault(address, {}).update({g: "no fact record" for g in FACT_GROUPS})
    for address, attributes in sorted(found.hosts.items()):
        if "ssh" not in attributes and address not in found.errors and not found.has_facts_record(address):
            found.errors.setdefault(address, {}).update(
                {g: "not collected: no SSH fact collection for this host" for g in FACT_GROUPS})
        name = attributes.get("hostname") or found.labels.get(address) or address
        session.asset("host", address, scope=f"{found.base_scope}/{address}", name=name, attributes=attributes,
                      errors=found.errors.get(address, {}), evidence=found.evidence.get(address, []))
    session.coverage("host", found.base_scope, EvidenceStatus.ok,
                     evidence=[r.id for r in records if r.source in ("target", "nmap", "nmap6")])


def read_discovery(found: HostsEvidence, record: EvidenceRecord) -> None:
    """One nmap run: the hosts it saw (a range's address with nothing open is not a host we found) and
    one `host.service` per open port."""
    session, base = found.session, found.base_scope
    if record.status != EvidenceStatus.ok:
        session.coverage("host.service", base, EvidenceStatus.error, record.error, [record.id])
        if found.ranges:  # the hosts of the ranges are unknown, not absent
            session.coverage("host", base, EvidenceStatus.error,
                             f"ranges {', '.join(found.ranges)} not discovered: {record.error}", [record.id])
        return
    session.coverage("host.service", base, EvidenceStatus.ok, evidence=[record.id])
    probed = (record.request or {}).get("ports") or []
    for seen in parse_nmap_xml((record.answer or {}).get("xml", "")):
        address = seen["address"]
        open_ports = sorted(p["port"] for p in seen["ports"] if p["state"] == "open")
        listed = address in found.labels or (found.plan is not None and address in found.planned)
        if not open_ports and not listed:
            continue
        host = found.host(address)
        host["open_ports"] = open_ports
        host["probed_ports"] = sorted(set(host.get("probed_ports", [])) | set(probed))
        host["reachable"] = bool(open_ports) or host.get("reachable", False)
        found.evidence.setdefault(address, []).append(record.id)
        for port in seen["ports"]:
            if port["state"] != "open":
                continue
            session.asset("host.service", f"{address}:{port['port']}/{port['protocol']}", scope=f"{base}/{address}",
                          name=f"{port.get('service') or 'unknown'} on {address}:{port['port']}",
                          attributes={"address": address, **port}, evidence=[record.id])


def read_facts(found: HostsEvidence, record: EvidenceRecord) -> None:
    """One host's fact script run: its fact groups, or every group in error with the reason it failed."""
    address = record.source.split(":", 1)[1]
    host = found.host(address)
    found.evidence.setdefault(address, []).append(record.id)
    answer = record.answer or {}
    scope = f"{found.base_scope}/{address}"
    if record.status == EvidenceStatus.ok or (answer.get("sections") and answer.get("complete")):
        facts = parse_facts(answer.get("sections", {}))
        host.update(facts)
        host["reachable"] = True
        host["host_key"] = answer.get("host_key")
        host["transport"] = answer.get("transport")
        fact_errors = facts.pop("_errors", {})
        host.pop("_errors", None)
        if fact_errors:
            found.errors.setdefault(address, {}).update(fact_errors)
        found.session.coverage("host.facts", scope, EvidenceStatus.ok, evidence=[record.id])
        return
    reason = record.error or "facts not collected"
    if reason.startswith(("unreachable", "timeout")) and "open_ports" not in host:
        host["reachable"] = False
    if answer.get("offered_key"):
        host["offered_host_key"] = answer["offered_key"]
    found.errors.setdefault(address, {}).update({g: reason for g in FACT_GROUPS + IDENTITY_FACTS})
    found.session.coverage("host.facts", scope, EvidenceStatus(record.status), reason, [record.id])
