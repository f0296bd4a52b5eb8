"""Access-control facts of a host: sshd's effective settings, password quality and lockout (PAM, login.defs),
the shell idle timeout, local accounts (passwd/shadow/group) and sudoers."""
from __future__ import annotations

import re
from typing import Any

from .text import strip_path, to_int


SSHD_DEFAULTS = {  # OpenSSH >= 7.4 defaults, for the config-file fallback
    "permitrootlogin": "prohibit-password", "passwordauthentication": "yes", "pubkeyauthentication": "yes",
    "permitemptypasswords": "no", "kbdinteractiveauthentication": "yes", "clientaliveinterval": "0",
    "clientalivecountmax": "3", "maxauthtries": "6", "x11forwarding": "no", "authenticationmethods": "any",
    "usepam": "no", "protocol": "2", "loglevel": "INFO",
}


def parse_sshd(text: str) -> dict[str, Any]:
    lines = text.splitlines()
    source = lines[0].split("=", 1)[1] if lines and lines[0].startswith("source=") else "files"
    conf: dict[str, str] = {}
    for line in lines[1:]:
        _, c = strip_path(line)
        if not c or c.lower().startswith(("match ", "include ")):
            if c.lower().startswith("match "):
                break  # settings after Match apply conditionally: the global ones are what we read
            continue
        k, _, v = c.partition(" ") if " " in c else c.partition("\t")
        k, v = k.strip().lower(), v.strip()
        if "=" in k and not v:
            k, _, v = k.partition("=")
        if source == "files" and k in conf:
            continue  # sshd_config: the first value wins
        conf[k] = v
    if source == "files":
        for k, v in SSHD_DEFAULTS.items():
            conf.setdefault(k, v)
    if "challengeresponseauthentication" in conf and "kbdinteractiveauthentication" not in conf:
        conf["kbdinteractiveauthentication"] = conf["challengeresponseauthentication"]

    def lst(k):
        v = conf.get(k)
        return [x for x in v.split(",") if x] if v else None

    return {
        "source": source,
        "permit_root_login": conf.get("permitrootlogin"),
        "password_authentication": conf.get("passwordauthentication") == "yes",
        "pubkey_authentication": conf.get("pubkeyauthentication", "yes") == "yes",
        "permit_empty_passwords": conf.get("permitemptypasswords") == "yes",
        "kbd_interactive_authentication": conf.get("kbdinteractiveauthentication") == "yes",
        "authentication_methods": conf.get("authenticationmethods", "any"),
        "use_pam": conf.get("usepam") == "yes",
        "client_alive_interval": to_int(conf.get("clientaliveinterval", "0")),
        "client_alive_count_max": to_int(conf.get("clientalivecountmax", "3")),
        "max_auth_tries": to_int(conf.get("maxauthtries")),
        "ciphers": lst("ciphers"), "macs": lst("macs"), "kex_algorithms": lst("kexalgorithms"),
        "host_key_algorithms": lst("hostkeyalgorithms"),
        "protocol": conf.get("protocol", "2"),
        "listen_addresses": [v for k, v in conf.items() if k == "listenaddress"],
        "allow_users": conf.get("allowusers"), "allow_groups": conf.get("allowgroups"),
        "ports": [to_int(p) for p in (conf.get("port") or "22").split()],
        "log_level": (conf.get("loglevel") or "INFO").upper(),
    }


def parse_permissions(text: str) -> list[dict[str, Any]]:
    """`<path> <owner> <group> <octal mode>` lines of the access-policy files."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[0].startswith("/"):
            continue
        try:
            mode = int(parts[3], 8)
        except ValueError:
            continue
        out.append({"path": parts[0], "owner": parts[1], "group": parts[2], "mode": f"{mode:04o}"})
    return out


_CLASS_CREDITS = ("dcredit", "ucredit", "lcredit", "ocredit")
MFA_MODULES = r"(pam_google_authenticator|pam_oath|pam_u2f|pam_duo|pam_radius_auth)"


def _login_defs(text: str) -> dict[str, str]:
    defs = {}
    for line in text.splitlines():
        _, content = strip_path(line)
        parts = content.split()
        if len(parts) >= 2:
            defs[parts[0]] = parts[1]
    return defs


def _module_options(pam_lines: list[tuple[str, str]], modules: str, stack: str, keep_empty: bool) -> tuple[str | None, dict]:
    """The last PAM module of `modules` (a regex alternation) in the `stack` (password, auth) and its options."""
    module, options = None, {}
    for _, content in pam_lines:
        m = re.search(rf"({modules})\.so(.*)$", content)
        if m and content.split()[0] == stack:
            module = m.group(1)
            for token in m.group(2).split():
                key, _, value = token.partition("=")
                if value or keep_empty:
                    options[key] = value
    return module, options


def parse_password_policy(defs: dict[str, str], pam_lines: list[tuple[str, str]],
                          conf_lines: list[tuple[str, str]]) -> dict[str, Any]:
    """Length, character classes, age and reuse from pam_pwquality/cracklib/passwdqc, pwquality.conf,
    pam_pwhistory/pam_unix `remember` and login.defs."""
    quality_mod, qopts = _module_options(pam_lines, "pam_pwquality|pam_cracklib|pam_passwdqc", "password", True)
    for p, c in conf_lines:
        if "pwquality.conf" in p and quality_mod in (None, "pam_pwquality"):
            k, _, v = c.partition("=")
            qopts.setdefault(k.strip(), v.strip())
    min_len = None
    min_classes = None
    if quality_mod:
        min_len = to_int(qopts.get("minlen", "9"))
        neg = sum(1 for c in _CLASS_CREDITS if (to_int(qopts.get(c)) or 0) < 0)
        min_classes = max(to_int(qopts.get("minclass")) or 0, neg)
    pass_min_len = to_int(defs.get("PASS_MIN_LEN"))
    if min_len is None:
        min_len = pass_min_len
    remember = None
    for p, c in pam_lines:
        m = re.search(r"(pam_pwhistory|pam_unix)\.so.*\bremember=(\d+)", c)
        if m:
            remember = max(remember or 0, int(m.group(2)))
    return {
        "quality_module": quality_mod, "min_length": min_len, "min_classes": min_classes or 0,
        "max_days": to_int(defs.get("PASS_MAX_DAYS")), "min_days": to_int(defs.get("PASS_MIN_DAYS")),
        "warn_age": to_int(defs.get("PASS_WARN_AGE")), "login_defs_min_len": pass_min_len,
        "remember": remember, "encrypt_method": defs.get("ENCRYPT_METHOD"),
        "options": {k: v for k, v in qopts.items() if k and k.isidentifier()},
    }


def parse_lockout(pam_lines: list[tuple[str, str]], conf_lines: list[tuple[str, str]]) -> dict[str, Any]:
    """Lockout after failed logins: pam_faillock / pam_tally2 options, faillock.conf, their defaults."""
    lock_mod, lopts = _module_options(pam_lines, "pam_faillock|pam_tally2|pam_tally", "auth", False)
    if lock_mod == "pam_faillock":
        for p, c in conf_lines:
            if p.endswith("faillock.conf"):
                k, _, v = c.partition("=")
                lopts.setdefault(k.strip(), v.strip())
    deny = to_int(lopts.get("deny")) if lock_mod else None
    if lock_mod == "pam_faillock" and deny is None:
        deny = 3  # pam_faillock default
    unlock = lopts.get("unlock_time") if lock_mod else None
    if unlock is not None:
        unlock_time = 0 if unlock == "never" else to_int(unlock)
    else:
        unlock_time = 600 if lock_mod == "pam_faillock" else None
    return {"module": lock_mod, "deny": deny, "unlock_time": unlock_time,
            "even_deny_root": "even_deny_root" in " ".join(c for _, c in pam_lines + conf_lines)}


def parse_password(login_defs: str, pam: str) -> tuple[dict, dict, dict]:
    """(password policy, lockout, {"pam_modules": the MFA modules in the PAM stacks})."""
    split = [strip_path(x) for x in pam.splitlines()]
    pam_lines = [(p, c) for p, c in split if p.startswith("/etc/pam.d/")]
    conf_lines = [(p, c) for p, c in split if p.startswith("/etc/security/")]
    password_policy = parse_password_policy(_login_defs(login_defs), pam_lines, conf_lines)
    lockout = parse_lockout(pam_lines, conf_lines)
    mfa_modules = sorted({m for _, c in pam_lines for m in re.findall(MFA_MODULES, c)})
    return password_policy, lockout, {"pam_modules": mfa_modules}


def parse_tmout(text: str) -> dict[str, Any]:
    """TMOUT in the shell profile files: its smallest value, and whether it is made readonly (users cannot
    unset it) and exported. /etc/environment is read by pam_env into the environment: exported."""
    val, ro, exported, files = None, False, False, []
    for line in text.splitlines():
        p, c = strip_path(line)
        for stmt in re.split(r"[;&|]+", c):
            stmt = stmt.strip()
            if not re.search(r"\bTMOUT\b", stmt):
                continue
            m = re.search(r"\bTMOUT=[\"']?(\d+)", stmt)
            if m:
                v = int(m.group(1))
                val = v if val is None else min(val, v)
                files.append(p)
                if p == "/etc/environment":
                    exported = True
            flags = "".join(re.findall(r"(?:^|\s)-(\w+)", stmt.split("TMOUT")[0]))
            head = stmt.split()[0] if stmt.split() else ""
            if head == "readonly" or (head in ("declare", "typeset") and "r" in flags):
                ro = True
            if head == "export" or (head in ("declare", "typeset") and "x" in flags):
                exported = True
    return {"tmout": val, "readonly": ro, "exported": exported, "files": sorted(set(files))}


NOLOGIN = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false", "/bin/sync", "/sbin/shutdown", "/sbin/halt", "")


def parse_accounts(text: str) -> tuple[dict, dict | None]:
    users, shadow, groups = {}, {}, {}
    today = None
    unreadable = False
    for line in text.splitlines():
        parts = line.split(" ")
        if parts[0] == "passwd" and len(parts) >= 4:
            users[parts[1]] = {"uid": to_int(parts[2]), "gid": to_int(parts[3]), "shell": " ".join(parts[4:])}
        elif parts[0] == "shadow" and len(parts) >= 10:
            shadow[parts[1]] = {"status": parts[2], "algorithm": parts[3], "last_change": to_int(parts[4]),
                                "max_days": to_int(parts[6]), "expire": to_int(parts[9])}
        elif parts[0] == "shadow-unreadable":
            unreadable = True
        elif parts[0] == "group" and len(parts) >= 3:
            groups[parts[1]] = [m for m in (parts[3].split(",") if len(parts) > 3 else []) if m]
        elif line.startswith("today="):
            today = to_int(line[6:])
    out: dict[str, Any] = {"users": [], "uid0": sorted(u for u, a in users.items() if a["uid"] == 0 and u != "root"),
                           "admin_group_members": groups, "shadow_readable": not unreadable}
    for name, a in sorted(users.items()):
        sh = shadow.get(name, {})
        status = sh.get("status") if sh else None
        login_shell = a["shell"] not in NOLOGIN
        expired = bool(sh.get("expire") is not None and today is not None and sh["expire"] <= today)
        out["users"].append({"name": name, "uid": a["uid"], "shell": a["shell"], "login_shell": login_shell,
                             "password_status": status, "hash_algorithm": sh.get("algorithm") if status == "set" else None,
                             "max_days": sh.get("max_days"), "expired": expired})
    interactive = [u for u in out["users"] if u["login_shell"] and u["password_status"] in ("set", "empty")]
    out["empty_password"] = sorted(u["name"] for u in out["users"] if u["password_status"] == "empty")
    out["login_capable"] = sorted(u["name"] for u in interactive)
    out["no_max_age"] = sorted(u["name"] for u in interactive if u["password_status"] == "set" and (u["max_days"] is None or u["max_days"] > 3650))
    out["expired_not_locked"] = sorted(u["name"] for u in interactive if u["expired"])
    out["hash_algorithms"] = sorted({u["hash_algorithm"] for u in out["users"] if u["hash_algorithm"]})
    return out, ({"accounts": "/etc/shadow not readable (run as root or allow sudo -n)"} if unreadable else None)


def parse_sudoers(text: str) -> dict[str, Any]:
    rules, nopasswd_all, all_all = [], [], []
    for line in text.splitlines():
        _, c = strip_path(line)
        if not c or c.startswith(("Defaults", "#include", "@include", "User_Alias", "Cmnd_Alias", "Host_Alias", "Runas_Alias")):
            continue
        rules.append(c)
        m = re.match(r"^(\S+)\s+\S+\s*=\s*(\([^)]*\))?\s*(.*)$", c)
        if not m:
            continue
        who, cmds = m.group(1), m.group(3)
        if re.search(r"NOPASSWD:\s*ALL\s*$", cmds):
            nopasswd_all.append(c)
        elif re.sub(r"^(\w+:\s*)*", "", cmds).strip() == "ALL":
            all_all.append(who)
    return {"rules": rules, "nopasswd_all": nopasswd_all, "full_access": sorted(set(all_all))}
