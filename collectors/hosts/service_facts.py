"""System and service facts of a host: auditd (state, rules and what they cover), syslog/journald forwarding
and retention, time synchronisation, host firewall, mandatory access control, anti-malware, disk
encryption, pending security updates and listening sockets."""
from __future__ import annotations

import re
from typing import Any

from .text import key_values, strip_path, to_int


_WATCH_LOGIN = re.compile(r"(/var/log/(lastlog|faillog|tallylog|wtmp|btmp)|/var/run/(faillock|utmp)|/run/faillock|logins|session)")
_WATCH_PRIV = re.compile(r"(/etc/sudoers|euid=0|privileged|execve|/usr/bin/sudo|actions|setuid)")
_WATCH_CHANGE = re.compile(r"(/etc/(passwd|shadow|group|gshadow|security/opasswd)|identity|/etc/ssh/sshd_config|/etc/audit|time-change|adjtimex|settimeofday|MAC-policy|system-locale)")


# what audit rules cover, finer (CIS-style event classes): account/identity changes, time changes, privileged
# command execution, login/session events, sudo configuration changes, changes to the audit configuration
_COVER = {
    "identity": re.compile(r"(/etc/(passwd|shadow|group|gshadow|security/opasswd)\b|-k\s+identity)"),
    "time": re.compile(r"(adjtimex|settimeofday|clock_settime|stime\b|/etc/localtime|-k\s+time[-_]change)"),
    "privileged_commands": re.compile(r"(-S\s+[\w,]*execve[\w,]*.*(euid=0|auid>=|-k\s+\S*(priv|exec|root))"
                                      r"|/usr/bin/(sudo|su)\b.*-p\s+x|-F\s+path=/usr/bin/(sudo|su)\b|-k\s+privileged)"),
    "logins": _WATCH_LOGIN,
    "sudoers": re.compile(r"/etc/sudoers(\.d)?\b"),
    "audit_config": re.compile(r"(/etc/audit/?|/etc/libaudit\.conf|/var/log/audit/?|/s?bin/(auditctl|augenrules|auditd)\b"
                               r"|-k\s+\S*audit)"),
}


_AUDIT_RULE = re.compile(r"^-{1,2}[A-Za-z]")  # what `auditctl -l` and rules files hold: -a/-w/-e/... options


def parse_audit(text: str) -> dict[str, Any]:
    """auditd state, the loaded rules and what they cover. A line of `auditctl -l` that is not a rule ("You must
    be root to run this program.", "Error sending rule list data request (Operation not permitted)") or a
    non-zero exit status means the rules are unreadable (`rules_readable` False, `rules_error` says why), not
    that they are absent; "No rules" means none are loaded."""
    state = {}
    rules, status = [], {}
    auditctl = True
    conf = {}
    remote = {}
    kv: dict[str, str] = {}
    rule_noise: list[str] = []
    status_noise: list[str] = []
    for line in text.splitlines():
        if line.startswith("rule: "):
            r = line[6:].strip()
            if not r or r == "No rules":
                continue
            if _AUDIT_RULE.match(r):
                rules.append(r)
            else:
                rule_noise.append(r)
        elif line.startswith("file-rule: "):
            _, c = strip_path(line[11:])
            rules.append(c)
        elif line.startswith("status: "):
            k, _, v = line[8:].partition(" ")
            if re.match(r"^[a-z_]+$", k):
                status[k] = v.strip()
            else:
                status_noise.append(line[8:].strip())
        elif line == "auditctl=missing":
            auditctl = False
        elif re.match(r"^(status|rules)_rc=", line):
            k, _, v = line.partition("=")
            kv[k] = v
        elif line.startswith("/etc/audit/auditd.conf: "):
            k, _, v = line.split(": ", 1)[1].partition("=")
            conf[k.strip()] = v.strip()
        elif "au-remote" in line or "audisp-remote" in line:
            k, _, v = line.split(": ", 1)[1].partition("=")
            remote[k.strip()] = v.strip()
        elif " " in line and line.split(" ")[0] == "auditd":
            state["auditd"] = line.split(" ", 1)[1]
    rules_rc, status_rc = to_int(kv.get("rules_rc")), to_int(kv.get("status_rc"))
    rules_error = None
    if auditctl and (rule_noise or rules_rc not in (None, 0)):
        rules_error = (f"auditctl -l failed (exit status {rules_rc})" if rules_rc not in (None, 0) else "auditctl -l") + \
            (f": {rule_noise[0][:200]}" if rule_noise else "")
    status_readable = not auditctl or (status_rc in (None, 0) and "enabled" in status)
    rules = [r for r in rules if not r.startswith(("-D", "-b", "-f", "--backlog", "-r"))]
    content = [r for r in rules if not re.match(r"^-e\s", r)]
    enabled = status.get("enabled") if status_readable else None
    return {
        "service": state.get("auditd"),
        "active": state.get("auditd") == "active",
        "enabled": to_int(enabled) if enabled is not None else None,
        "rules_source": "auditctl" if auditctl else "files",
        "rules_readable": rules_error is None,
        "rules_error": rules_error,
        "status_readable": status_readable,
        "status_error": None if status_readable else (status_noise[0][:200] if status_noise else "auditctl -s gave no status"),
        "rules": content[:200], "rule_count": len(content),
        "immutable": enabled == "2" or any(re.match(r"^-e\s+2", r) for r in rules),
        "covers": {"logins": any(_WATCH_LOGIN.search(r) for r in content),
                   "privileged": any(_WATCH_PRIV.search(r) for r in content),
                   "changes": any(_WATCH_CHANGE.search(r) for r in content)},
        "covers_events": {name: any(rx.search(r) for r in content) for name, rx in _COVER.items()},
        "num_logs": to_int(conf.get("num_logs")), "max_log_file_action": conf.get("max_log_file_action"),
        "remote": remote.get("active") == "yes" and bool(remote.get("remote_server")) or (remote.get("active") == "yes"),
    }


_PERIOD_DAYS = {"daily": 1, "weekly": 7, "monthly": 30, "yearly": 365}


def _retention(lines: list[str]) -> dict[str, Any]:
    period, rotate, maxage = None, None, None
    for c in lines:
        w = c.split()
        if not w:
            continue
        if w[0] in _PERIOD_DAYS:
            period = w[0]
        elif w[0] == "rotate" and len(w) > 1:
            rotate = to_int(w[1])
        elif w[0] == "maxage" and len(w) > 1:
            maxage = to_int(w[1])
    days = None
    if rotate is not None:
        days = (rotate + 1) * _PERIOD_DAYS.get(period or "weekly", 7)
        if maxage is not None:
            days = min(days, maxage)
    return {"period": period, "rotate": rotate, "maxage": maxage, "days": days}


def parse_logging(text: str) -> dict[str, Any]:
    svc, remote, journald, upload = {}, [], {}, None
    glob_lines, sys_lines = [], []
    for line in text.splitlines():
        if line.startswith("logrotate-global "):
            glob_lines.append(strip_path(line[17:])[1])
            continue
        if line.startswith("logrotate-syslog "):
            sys_lines.append(strip_path(line[17:])[1])
            continue
        p, c = strip_path(line)
        if not p:
            w = line.split()
            if len(w) == 2:
                svc[w[0]] = w[1]
            continue
        if "rsyslog" in p:
            m = re.search(r"@@?\(?[^\s;]*?\)?([\w.\-\[\]:]+)", c)
            if re.search(r"(^|\s)@@?[\w\[(]", c) or "omfwd" in c or "omrelp" in c:
                m = re.search(r'target="([^"]+)"', c) or re.search(r"@@?(?:\([^)]*\))?([\w.\-\[\]:]+)", c)
                remote.append(m.group(1) if m else c)
        elif "syslog-ng" in p:
            m = re.search(r'(?:network|tcp|udp)\(\s*"?([\w.\-:]+)', c)
            if m:
                remote.append(m.group(1))
        elif "journald" in p:
            k, _, v = c.partition("=")
            journald[k.strip()] = v.strip()
        elif "journal-upload" in p:
            upload = c.partition("=")[2].strip()
    rot = _retention(glob_lines)
    rot_sys = _retention(glob_lines + sys_lines)
    if rot_sys["days"] is None:
        rot_sys = rot
    if upload:
        remote.append(upload)
    mret = journald.get("MaxRetentionSec")
    return {
        "rsyslog_active": svc.get("rsyslog") == "active",
        "syslog_ng_active": svc.get("syslog-ng") == "active",
        "services": svc,
        "remote_targets": sorted(set(remote)),
        "forwarding": bool(remote),
        "journald": journald,
        "journald_retention_sec": to_int(mret) if mret else None,
        "logrotate": rot_sys,
        "retention_days": rot_sys["days"],
    }


def parse_time(text: str) -> dict[str, Any]:
    svc, servers, info = {}, [], {}
    for line in text.splitlines():
        p, c = strip_path(line)
        if p:
            w = c.replace("=", " ").split()
            if len(w) >= 2:
                servers.append(w[1])
            continue
        if line.startswith("chrony: "):
            k, _, v = line[8:].partition(":")
            info[k.strip()] = v.strip()
        elif "=" in line:
            k, _, v = line.partition("=")
            info[k] = v
        else:
            w = line.split()
            if len(w) == 2:
                svc[w[0]] = w[1]
    active = sorted(k for k, v in svc.items() if v == "active")
    return {"services": svc, "active_services": active, "active": bool(active),
            "servers": sorted(set(servers)),
            "synchronized": (info.get("NTPSynchronized") == "yes") if "NTPSynchronized" in info else
            (info.get("Leap status") == "Normal" if "Leap status" in info else None)}


def parse_firewall(text: str) -> dict[str, Any]:
    svc, ipt, nft = {}, [], []
    other = {}
    for line in text.splitlines():
        if line.startswith("iptables: "):
            ipt.append(line[10:])
        elif line.startswith("nft: "):
            nft.append(line[5:].strip())
        elif "=" in line:
            k, _, v = line.partition("=")
            other[k] = v
        elif line.startswith("ufw: "):
            other["ufw"] = line[5:]
        else:
            w = line.split()
            if len(w) == 2:
                svc[w[0]] = w[1]
    pol = {}
    for r in ipt:
        m = re.match(r"^-P (\w+) (\w+)", r)
        if m:
            pol[m.group(1)] = m.group(2)
    for r in nft:
        for hook in ("input", "output"):
            m = re.search(rf"hook {hook} .*policy (\w+)", r)
            if m:
                pol.setdefault(hook.upper(), m.group(1).upper())
    rules = len([r for r in ipt if r.startswith("-A ")]) + (to_int(other.get("nft_rules")) or 0)
    active = any(v == "active" for v in svc.values()) or other.get("firewalld_state") == "running" or \
        "active" in other.get("ufw", "").lower().split() or rules > 0 or pol.get("INPUT") in ("DROP", "REJECT")
    output_drops = [r for r in ipt if re.match(r"^-A OUTPUT (-j|--jump) (DROP|REJECT)\s*$", r)]
    return {"services": svc, "active": active, "input_policy": pol.get("INPUT"), "rule_count": rules,
            "output_policy": pol.get("OUTPUT"), "output_catch_all_drop": bool(output_drops),
            "backend": "nftables" if nft else "iptables" if ipt else None,
            "firewalld": other.get("firewalld_state"), "ufw": other.get("ufw")}


def parse_fw_state(text: str) -> dict[str, Any]:
    """How many loaded rules match on connection state (ct state / -m state / -m conntrack)."""
    kv = key_values(text)
    return {"nft_ct_state": to_int(kv.get("nft_ct_state")), "iptables_state": to_int(kv.get("iptables_state"))}


def _rsyslog_auth_targets(content: str) -> list[str]:
    """Where an rsyslog line sends auth/authpriv messages: a selector part naming the facility (not `.none`),
    or a RainerScript `if $syslogfacility-text == 'auth...' then <action>`."""
    m = re.search(r"\$syslogfacility(-text)?\s*(==|contains)\s*['\"]?(auth|authpriv|4|10)['\"]?.*?\bthen\s+(.+)$", content)
    if m:
        return [m.group(4).strip()]
    selector, action = (re.split(r"\s+", content.strip(), maxsplit=1) + [""])[:2]
    action = action.strip()
    if not action or "." not in selector:
        return []
    for part in selector.split(";"):
        facilities, _, priority = part.partition(".")
        if priority.strip().lower() != "none" and {"auth", "authpriv"} & set(facilities.split(",")):
            return [action]
    return []


def parse_auth_logging(text: str) -> dict[str, Any]:
    """Where authentication messages go: rsyslog/syslog-ng destinations for the auth/authpriv facilities
    and whether the journal is kept on disk."""
    targets, journald = [], {}
    journal_dir = False
    for line in text.splitlines():
        if line == "journal_dir=present":
            journal_dir = True
            continue
        path, content = strip_path(line)
        if "rsyslog" in path:
            targets += _rsyslog_auth_targets(content)
        elif "syslog-ng" in path:
            targets.append(content)
        elif "journald" in path:
            k, _, v = content.partition("=")
            journald[k.strip()] = v.strip()
    storage = journald.get("Storage", "auto")
    return {"auth_targets": sorted(set(targets)),
            "journal_persistent": storage == "persistent" or (storage == "auto" and journal_dir)}


def parse_mac(text: str) -> dict[str, Any]:
    kv = {}
    aa = []
    for line in text.splitlines():
        p, c = strip_path(line)
        if p:
            k, _, v = c.partition("=")
            kv["selinux_config"] = v.strip()
        elif line.startswith("aa: "):
            aa.append(line[4:])
        elif "=" in line:
            k, _, v = line.partition("=")
            kv[k] = v.strip()
    se = (kv.get("selinux") or "").lower() or None
    apparmor = kv.get("apparmor") == "Y"
    profiles = next((to_int(a.split()[0]) for a in aa if "enforce mode" in a), None)
    return {"selinux": se, "selinux_config": kv.get("selinux_config"), "apparmor": apparmor,
            "apparmor_enforcing_profiles": profiles,
            "enforcing": se == "enforcing" or (apparmor and (profiles is None or profiles > 0))}


def parse_malware(text: str) -> dict[str, Any]:
    products, svc, sig, now = [], {}, None, None
    for line in text.splitlines():
        if line.startswith(("cmd=", "dir=")):
            products.append(line.split("=", 1)[1])
        elif line.startswith("signatures="):
            w = line.split("=", 1)[1].split()
            if len(w) == 2:
                sig = max(sig or 0, to_int(w[1]) or 0)
        elif line.startswith("now="):
            now = to_int(line[4:])
        else:
            w = line.split()
            if len(w) == 2:
                svc[w[0]] = w[1]
    active = sorted(k for k, v in svc.items() if v == "active")
    age = round((now - sig) / 86400, 1) if sig and now else None
    av = [p for p in products if p not in ("rkhunter", "aide")]
    return {"products": sorted(set(products)), "active_services": active,
            "installed": bool(av or active), "signature_age_days": age,
            "hids": [p for p in products if p in ("aide", "wazuh-agentd", "ossec-agentd", "/var/ossec", "rkhunter")]}


def parse_disk(text: str) -> dict[str, Any]:
    crypttab, crypt_dev, luks, mounts = [], [], [], []
    for line in text.splitlines():
        if line.startswith("crypttab: "):
            _, c = strip_path(line[10:])
            crypttab.append(c.split()[0] if c.split() else c)
        elif line.startswith("dm-crypt: "):
            w = line[10:].split()
            if w and w[0] != "No":
                crypt_dev.append(w[0])
        elif line.startswith("lsblk: "):
            w = line[7:].split()
            if len(w) >= 2 and (w[1] == "crypt" or (len(w) > 2 and w[2] == "crypto_LUKS")):
                luks.append(w[0])
        elif line.startswith("mount: "):
            mounts.append(line[7:])
    return {"crypttab": crypttab, "crypt_devices": sorted(set(crypt_dev + [d for d in luks])),
            "encrypted": bool(crypttab or crypt_dev or luks), "mounts": mounts}


# exit statuses of the update listings that mean "listed" (zypper: 100 updates / 101 security updates needed)
_UPDATES_OK_RC = {"apt": {0}, "dnf": {0}, "yum": {0}, "zypper": {0, 100, 101}}


def parse_updates(text: str) -> dict[str, Any]:
    """The update listing. `security_pending` is None (patch state unknown) unless the listing ran and its
    exit status was recorded and says it worked: a failed package manager is never "0 pending"."""
    kv = key_values(text)
    pkgs = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("pkg=")]
    mgr = kv.get("manager")
    rc = to_int(kv.get("rc"))
    n = to_int(kv.get("security"))
    problem = None
    if mgr in (None, "none"):
        problem = "no supported package manager found" if mgr == "none" else "no update listing in the facts"
    elif rc is None:
        problem = f"{mgr}: the exit status of the update listing was not recorded"
    elif rc not in _UPDATES_OK_RC.get(mgr, {0}):
        problem = f"{mgr}: the update listing failed (exit status {rc})" + (f": {kv['error']}" if kv.get("error") else "")
    elif n is None:
        problem = f"{mgr}: the update listing gave no count"
    return {"manager": mgr, "listing_rc": rc, "listing_ok": problem is None, "problem": problem,
            "security_pending": n if problem is None else None, "packages": pkgs[:50] if problem is None else []}


def parse_listening(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        w = line.split()
        if len(w) != 2:
            continue
        proto, local = w
        addr, _, port = local.rpartition(":")
        if not port.isdigit():
            continue
        out.append({"protocol": "udp" if proto.startswith("udp") else "tcp", "address": addr.strip("[]") or "*",
                    "port": int(port)})
    return sorted({(d["protocol"], d["address"], d["port"]): d for d in out}.values(), key=lambda d: (d["protocol"], d["port"], d["address"]))
