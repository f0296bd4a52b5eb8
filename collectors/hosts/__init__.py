"""Linux hosts: discovery with nmap (python-nmap driving the real binary), facts over SSH (paramiko).

Per target (one entry under `hosts:` in scan.yaml):
  1. every target string is validated (hostname, address or CIDR; nothing that nmap or a shell could read as
     an option or command), host names are resolved (recorded). Modules `targets`, `discovery`.
  2. discovery: ONE nmap run for all addresses of the target: TCP connect scan of the port set (the scan
     profile's high-risk and admin ports and common service ports), -sV, and the ssh2-enum-algos /
     ssl-enum-ciphers scripts; nmap's XML is the evidence. Modules `discovery`, `nmap_xml`.
  3. facts: per host ONE SSH session running ONE batched read-only script (facts.sh) over one exec channel,
     host keys verified against known_hosts (RejectPolicy; trust-on-first-use only when asked for, and then
     the trusted key's fingerprint is recorded). `transport: local` runs the same script here. Modules
     `transport`, `ssh_config`.
Assets are built only from the recorded evidence (`derive`; the script's output is read by `facts`), so a
bundle's evidence replays offline.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlps_scan.models import EvidenceRecord
from mlps_scan.plugins import CollectSession, Collector

from .architecture import describe
from .derive import derive_hosts
from .discovery import discover, fact_hosts, plan_hosts
from .facts import (FACT_GROUPS, MARK, SCRIPT_PATH, parse_accounts, parse_audit, parse_disk, parse_facts,
                    parse_firewall, parse_listening, parse_logging, parse_mac, parse_malware, parse_password,
                    parse_sshd, parse_sudoers, parse_time, parse_tmout, parse_updates, split_sections)
from .limits import check_target, count_addresses
from .targets import COMMON_PORTS, HostsTarget, SshSettings, default_ports, parse_target, unit_parts, validate
from .transport import known_hosts_patterns, run_locally, run_over_ssh, verify_host_key

__all__ = ["COMMON_PORTS", "FACT_GROUPS", "MARK", "SCRIPT_PATH", "HostsCollector", "HostsTarget", "SshSettings",
           "default_ports", "known_hosts_patterns", "parse_accounts", "parse_audit", "parse_disk", "parse_facts",
           "parse_firewall", "parse_listening", "parse_logging", "parse_mac", "parse_malware", "parse_password",
           "parse_sshd", "parse_sudoers", "parse_target", "parse_time", "parse_tmout", "parse_updates",
           "split_sections", "verify_host_key"]


class HostsCollector(Collector):
    name = "hosts"
    config_key = "hosts"
    target_model = HostsTarget
    description = "Linux hosts: nmap discovery and facts over SSH (one read-only script per host)"
    asset_patterns = ("host", "host.*")
    # after the cloud's entries, before clusters'; first in the hosts section; security facilities after the
    # network devices'
    architecture_order = {"*": 20, "hosts": 10, "security_services": 30}

    def target_name(self, target: HostsTarget) -> str:
        return target.name or (target.targets[0] if len(target.targets) == 1 else "hosts")

    def validate_target(self, target: HostsTarget, base_dir: Path) -> None:
        validate(target, base_dir)
        check_target(target, base_dir)  # public addresses need allow_public; the address cap; regular key files

    def validate_targets(self, targets: list[HostsTarget], base_dir: Path) -> None:
        count_addresses(targets)  # all hosts targets of one scan together: the address cap

    # ------------------------------------------------------------------ shards

    def units(self, target: HostsTarget, session: CollectSession) -> list[str]:
        """One unit per configured host (name or address) and per /24 (IPv6: /120) chunk of a range."""
        key = self.target_key(target)
        if target.transport == "local":
            return [key]
        return [f"{key}/{part}" for part in unit_parts(target.targets)]

    def _restricted(self, target: HostsTarget, session: CollectSession) -> HostsTarget:
        """The target narrowed to the session's units (a shard's part), keeping its name (and so its scopes)."""
        if session.units is None:
            return target
        key = self.target_key(target)
        parts = [p for p in unit_parts(target.targets) if f"{key}/{p}" in session.units]
        return target.model_copy(update={"targets": parts, "name": self.target_name(target)})

    # ------------------------------------------------------------------ collect

    def collect(self, target: HostsTarget, session: CollectSession) -> None:
        target = self._restricted(target, session)
        trust_on_first_use = bool(target.ssh.trust_on_first_use or session.trust_on_first_use)
        plan = plan_hosts(target, session)
        nmap_runs = discover(plan, target, session, session.profile)
        hosts = fact_hosts(plan, target, nmap_runs)
        script = SCRIPT_PATH.read_text(encoding="utf-8")
        session.progress(f"collecting facts from {len(hosts)} host(s)")
        session.record("target", {"targets": target.targets, "hosts": hosts, "labels": plan.labels,
                                  "names": plan.names, "transport": target.transport, "discover": target.discover},
                       request={"kind": "plan"})

        def one(address: str) -> None:
            if target.transport == "local":
                run_locally(script, target, session)
            else:
                run_over_ssh(address, script, target, session, trust_on_first_use, plan.names.get(address, []))

        with ThreadPoolExecutor(max_workers=max(1, min(target.parallel, len(hosts) or 1))) as pool:
            list(pool.map(one, hosts))
        # one code path: the inventory comes from what was recorded
        self.derive(sorted(session.records(), key=lambda r: r.id), session)

    def derive(self, records: list[EvidenceRecord], session: CollectSession) -> None:
        derive_hosts(records, session)

    def architecture(self, assets):
        return describe(assets)
