"""Facts: the read-only script every host runs (facts.sh, one batched run per host) and the reading of its
output, section by section, into the host's fact groups (docs/asset-types.md). Pure text parsing: what the
script printed is the evidence, and these functions turn it into attributes the checks read."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .access_facts import (parse_accounts, parse_lockout, parse_password, parse_password_policy, parse_permissions,
                           parse_sshd, parse_sudoers, parse_tmout)
from .service_facts import (parse_audit, parse_auth_logging, parse_disk, parse_firewall, parse_fw_state,
                            parse_listening, parse_logging, parse_mac, parse_malware, parse_time, parse_updates)
from .text import key_values, to_int

SCRIPT_PATH = Path(__file__).with_name("facts.sh")
MARK = "@@MLPS@@ "
FACT_GROUPS = ("ssh", "password_policy", "lockout", "idle_timeout", "accounts", "sudo", "audit", "logging",
               "time_sync", "firewall", "mac", "malware", "disk_encryption", "updates", "listening", "services",
               "auth_logging", "permissions")


def split_sections(out: str) -> dict[str, str]:
    """The script's output cut at its section markers (`@@MLPS@@ <name>`)."""
    sections: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith(MARK):
            current = line[len(MARK):].strip()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


__all__ = ["FACT_GROUPS", "MARK", "SCRIPT_PATH", "parse_accounts", "parse_audit", "parse_disk", "parse_facts",
           "parse_firewall", "parse_listening", "parse_lockout", "parse_logging", "parse_mac", "parse_malware",
           "parse_password", "parse_password_policy", "parse_sshd", "parse_sudoers", "parse_time", "parse_tmout",
           "parse_updates", "split_sections"]


def parse_facts(sections: dict[str, str]) -> dict[str, Any]:
    """The script's sections -> the host's fact groups (docs/asset-types.md). Fact groups that could not be
    read are named under `_errors` (the caller moves them to the asset's errors)."""
    facts: dict[str, Any] = {}
    errors: dict[str, str] = {}
    meta = key_values(sections.get("meta", ""))
    facts["hostname"] = meta.get("hostname") or None
    facts["kernel"] = meta.get("kernel") or None
    facts["remote_uid"] = to_int(meta.get("uid"))
    os_release = key_values(sections.get("os_release", ""))
    facts["os"] = {"id": os_release.get("ID"), "version": os_release.get("VERSION_ID"),
                   "pretty_name": os_release.get("PRETTY_NAME")}
    facts["updates"] = parse_updates(sections.get("updates", ""))
    facts["ssh"] = parse_sshd(sections.get("sshd", ""))
    password_policy, lockout, mfa = parse_password(sections.get("login_defs", ""), sections.get("pam", ""))
    facts["password_policy"], facts["lockout"] = password_policy, lockout
    facts["ssh"]["mfa_pam_modules"] = mfa["pam_modules"]
    facts["idle_timeout"] = {**parse_tmout(sections.get("tmout", "")),
                             "ssh_client_alive_interval": facts["ssh"]["client_alive_interval"],
                             "ssh_client_alive_count_max": facts["ssh"]["client_alive_count_max"]}
    accounts, accounts_error = parse_accounts(sections.get("accounts", ""))
    facts["accounts"] = accounts
    if accounts_error:
        errors.update(accounts_error)
    facts["sudo"] = parse_sudoers(sections.get("sudoers", ""))
    facts["audit"] = parse_audit(sections.get("audit", ""))
    facts["logging"] = parse_logging(sections.get("logging", ""))
    facts["logging"]["audisp_remote"] = facts["audit"]["remote"]
    facts["time_sync"] = parse_time(sections.get("time_sync", ""))
    facts["firewall"] = parse_firewall(sections.get("firewall", ""))
    # sections a fact script older than these checks did not print: not collected, never "none found"
    if "fw_state" in sections:
        facts["firewall"]["state_rules"] = parse_fw_state(sections["fw_state"])
    if "auth_logging" in sections:
        facts["auth_logging"] = parse_auth_logging(sections["auth_logging"])
    else:
        errors["auth_logging"] = "not in the facts (collected by an older fact script)"
    if "perms" in sections:
        facts["permissions"] = parse_permissions(sections["perms"])
    else:
        errors["permissions"] = "not in the facts (collected by an older fact script)"
    facts["mac"] = parse_mac(sections.get("mac", ""))
    facts["malware"] = parse_malware(sections.get("malware", ""))
    facts["disk_encryption"] = parse_disk(sections.get("disk", ""))
    facts["listening"] = parse_listening(sections.get("listening", ""))
    facts["services"] = [x for x in sections.get("services", "").split() if x]
    if facts["remote_uid"] not in (0, None):
        errors.setdefault("sudo", "not root and sudo -n not allowed: sudoers unreadable")
    if errors:
        facts["_errors"] = errors
    return facts
