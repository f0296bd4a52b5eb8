"""Linux hosts: discovery with nmap (python-nmap driving the real binary), facts over SSH (paramiko).

Per target (one entry under `hosts:` in scan.yaml):
  1. every target string is validated (hostname, address or CIDR; nothing that nmap or a shell could read as
     an option or command), host names are resolved (recorded);
  2. discovery: ONE nmap run for all addresses of the target: TCP connect scan of the port set, -sV, and the
     ssh2-enum-algos / ssl-enum-ciphers scripts; nmap's XML is the evidence;
  3. facts: per host ONE SSH session running ONE batched read-only script (hosts_facts.sh) over one exec
     channel, host keys verified against known_hosts (RejectPolicy; trust-on-first-use only when asked for, and
     then the trusted key's fingerprint is recorded). `transport: local` runs the same script here.
Assets are built only from the recorded evidence (`derive`), so a bundle's evidence replays offline.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import re
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from mlps_scan.errors import InputError
from mlps_scan.models import EvidenceRecord, EvidenceStatus, Strict
from mlps_scan.plugins import CollectSession, Collector

logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # failures are recorded as evidence, not logged

SCRIPT_PATH = Path(__file__).with_name("hosts_facts.sh")
MARK = "@@MLPS@@ "
FACT_GROUPS = ("ssh", "password_policy", "lockout", "idle_timeout", "accounts", "sudo", "audit", "logging",
               "time_sync", "firewall", "mac", "malware", "disk_encryption", "updates", "listening", "services")
# common service ports probed besides the profile's high-risk and admin ports
COMMON_PORTS = (22, 23, 25, 80, 443, 512, 513, 514, 2222, 8080, 8443)
MAX_PREFIX = {4: 20, 6: 116}  # largest range accepted: /20 (4096 addresses) or its IPv6 equivalent
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$")


class SshSettings(Strict):
    user: str | None = Field(None, description="login user (default: ~/.ssh/config, else root)")
    port: int | None = Field(None, ge=1, le=65535, description="SSH port (default: ~/.ssh/config, else 22)")
    key: str | None = Field(None, description="private key file (default: ~/.ssh/config IdentityFile, else agent/default keys)")
    known_hosts: str | None = Field(None, description="known_hosts file (default: ~/.ssh/known_hosts)")
    jump_host: str | None = Field(None, description="[user@]host[:port] to connect through (default: ~/.ssh/config ProxyJump)")
    trust_on_first_use: bool = Field(False, description="accept an unknown host key (recorded in evidence); a changed key is always refused")
    timeout: float = Field(10, gt=0, le=600, description="connect and per-read timeout in seconds")
    script_timeout: float = Field(120, gt=0, le=3600, description="how long the fact script may run per host")
    use_ssh_config: bool = Field(True, description="read ~/.ssh/config for user, port, identity and ProxyJump")
    sudo: bool = Field(True, description="when the user is not root, run the script under `sudo -n` if allowed")


class HostsTarget(Strict):
    name: str | None = Field(None, description="name of this group of hosts (scope hosts/<name>/...)")
    targets: list[str] = Field(default_factory=lambda: ["localhost"], min_length=1, max_length=4096,
                               description="host names, IPv4/IPv6 addresses and CIDR ranges (at most /20)")
    ports: list[int] | None = Field(None, description="TCP ports nmap probes (default: profile high-risk + admin + common service ports)")
    ssh: SshSettings = Field(default_factory=SshSettings)
    transport: Literal["ssh", "local"] = Field("ssh", description="ssh, or local: run the fact script on this machine")
    discover: bool = Field(True, description="run nmap over the targets (ports, services, TLS/SSH algorithms)")
    nmap_timeout: float = Field(600, gt=0, le=86400, description="seconds the nmap run may take")
    parallel: int = Field(16, ge=1, le=256, description="hosts collected over SSH at once")


def default_ports(profile_ports: list[int] | None = None) -> list[int]:
    """The profile's high-risk and admin ports (as the scan's profile sets them; the built-in defaults when
    the collector runs without one) and the common service ports."""
    if profile_ports is None:
        from mlps_scan.models import Profile
        p = Profile()
        profile_ports = [*p.high_risk_ports, *p.admin_ports]
    return sorted(set(profile_ports) | set(COMMON_PORTS))


# --------------------------------------------------------------------------- validation


def parse_target(t: str) -> tuple[str, Any]:
    """('ip', ip_address) | ('net', ip_network) | ('name', hostname); InputError for anything else."""
    if not isinstance(t, str) or not t or t != t.strip() or t.startswith("-") or len(t) > 253:
        raise InputError(f"hosts: target {t!r} is not a host name, address or CIDR range")
    try:
        return "ip", ipaddress.ip_address(t)
    except ValueError:
        pass
    if "/" in t:
        try:
            net = ipaddress.ip_network(t, strict=False)
        except ValueError:
            raise InputError(f"hosts: target {t!r} is not a valid CIDR range") from None
        if net.prefixlen < MAX_PREFIX[net.version]:
            raise InputError(f"hosts: target {t!r} is too large (at most /{MAX_PREFIX[net.version]} per range; split it)")
        return "net", net
    if _HOSTNAME.match(t) and not t.replace(".", "").isdigit():
        return "name", t.rstrip(".")
    raise InputError(f"hosts: target {t!r} is not a host name (RFC 1123), address or CIDR range")


def _jump(spec: str) -> tuple[str | None, str, int | None]:
    user, _, rest = spec.rpartition("@")
    host, port = rest, None
    if rest.startswith("["):
        host, _, p = rest[1:].partition("]")
        port = int(p[1:]) if p.startswith(":") and p[1:].isdigit() else None
    elif rest.count(":") == 1:
        host, p = rest.split(":")
        if not p.isdigit():
            raise InputError(f"hosts: jump_host {spec!r}: port must be a number")
        port = int(p)
    try:
        parse_target(host)
    except InputError:
        raise InputError(f"hosts: jump_host {spec!r} is not [user@]host[:port]") from None
    if user and not _USER.match(user):
        raise InputError(f"hosts: jump_host {spec!r}: invalid user name")
    return user or None, host, port


# --------------------------------------------------------------------------- collector


class HostsCollector(Collector):
    name = "hosts"
    config_key = "hosts"
    target_model = HostsTarget
    description = "Linux hosts: nmap discovery and facts over SSH (one read-only script per host)"
    asset_patterns = ("host", "host.*")

    def target_name(self, target: HostsTarget) -> str:
        return target.name or (target.targets[0] if len(target.targets) == 1 else "hosts")

    def validate_target(self, target: HostsTarget, base_dir: Path) -> None:
        for t in target.targets:
            parse_target(t)
        if target.name is not None and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", target.name):
            raise InputError(f"hosts: name {target.name!r}: use letters, digits, '.', '_' and '-'")
        for p in target.ports or []:
            if not 1 <= int(p) <= 65535:
                raise InputError(f"hosts: port {p} out of range 1-65535")
        if target.ssh.user is not None and not _USER.match(target.ssh.user):
            raise InputError(f"hosts: ssh user {target.ssh.user!r} is not a valid user name")
        if target.ssh.jump_host:
            _jump(target.ssh.jump_host)
        for what in ("key", "known_hosts"):
            v = getattr(target.ssh, what)
            if v is not None:
                p = Path(v).expanduser()
                p = p if p.is_absolute() else base_dir / p
                if what == "key" and not p.is_file():
                    raise InputError(f"hosts: ssh key not found: {p}")

    # ------------------------------------------------------------------ collect

    def collect(self, target: HostsTarget, s: CollectSession) -> None:
        tofu = bool(target.ssh.trust_on_first_use or s.options.get("tofu"))
        hosts: list[tuple[str, str]] = []  # (address, label as configured)
        names: dict[str, list[str]] = {}  # address -> the host names it was configured under (known_hosts lookup)
        nets: list[str] = []
        for t in dict.fromkeys(target.targets):
            kind, val = parse_target(t)
            if kind == "ip":
                hosts.append((str(val), t))
            elif kind == "net":
                nets.append(str(val))
            else:
                alias = _ssh_config(val).get("hostname") if target.ssh.use_ssh_config else None
                alias = alias if alias and alias != val else None
                got = self._resolve(val, s, alias)
                hosts.extend(got)
                alias_name = alias if alias and _is_name(alias) else None
                for a, _ in got:
                    for n in (val, alias_name):
                        if n and n not in names.setdefault(a, []):
                            names[a].append(n)
        if target.transport == "local":
            hosts = [("localhost", "localhost")]
        # one entry (one SSH session) per address, however many times and ways (name, address) it was given;
        # the label is the first name it was given, else the address
        labels: dict[str, str] = {}
        for a, lbl in hosts:
            if a not in labels or (labels[a] == a and lbl != a and _is_name(lbl)):
                labels[a] = lbl
        hosts = list(labels.items())
        scan_addrs = [a for a, _ in hosts if a != "localhost"] + (["127.0.0.1"] if target.transport == "local" else [])
        nmap_recs = []
        if target.discover and (scan_addrs or nets):
            # one nmap run for all targets (nmap cannot mix address families: IPv6 targets get a second run)
            v4 = [a for a in scan_addrs + nets if ":" not in a]
            v6 = [a for a in scan_addrs + nets if ":" in a]
            if v4:
                nmap_recs.append(self._nmap(v4, target, s, "nmap"))
            if v6:
                nmap_recs.append(self._nmap(v6, target, s, "nmap6"))
        # which hosts get the fact script: every named/addressed host; from ranges, hosts nmap saw with the SSH port open
        ssh_hosts = [a for a, _ in hosts]
        for nmap_rec in nmap_recs:
            if not (nets and nmap_rec.ok):
                continue
            for h in _parse_nmap_xml(nmap_rec.answer.get("xml", "")):
                port = target.ssh.port or 22
                if h["address"] not in ssh_hosts and any(p["port"] == port and p["state"] == "open" for p in h["ports"]):
                    ssh_hosts.append(h["address"])
        if nets and not target.discover:
            for n in nets:
                ssh_hosts.extend(str(a) for a in ipaddress.ip_network(n).hosts())
        ssh_hosts = list(dict.fromkeys(ssh_hosts))  # a range overlapping a listed address: still one session
        script = SCRIPT_PATH.read_text(encoding="utf-8")
        s.progress(f"collecting facts from {len(ssh_hosts)} host(s)")
        s.record("target", {"targets": target.targets, "hosts": [a for a in ssh_hosts],
                            "labels": {a: lbl for a, lbl in hosts}, "names": names, "transport": target.transport,
                            "discover": target.discover}, request={"kind": "plan"})

        def one(addr: str) -> None:
            if target.transport == "local":
                self._local(script, target, s)
            else:
                self._ssh(addr, script, target, s, tofu, names.get(addr, []))

        with ThreadPoolExecutor(max_workers=max(1, min(target.parallel, len(ssh_hosts) or 1))) as pool:
            list(pool.map(one, ssh_hosts))
        # one code path: the inventory comes from what was recorded
        recs = [r for r in _session_records(s)]
        self.derive(recs, s)

    # resolution ---------------------------------------------------------

    def _resolve(self, name: str, s: CollectSession, alias: str | None = None) -> list[tuple[str, str]]:
        if alias:  # ~/.ssh/config maps the name: `Host name` / `HostName alias`
            try:
                kind, val = parse_target(alias)
            except InputError:
                kind = None
            if kind == "ip":
                s.record(f"resolve:{name}", {"name": name, "addresses": [str(val)], "via": "ssh_config HostName"})
                return [(str(val), name)]
            if kind == "name":
                name_to_resolve = val
            else:
                s.record(f"resolve:{name}", {"name": name}, status=EvidenceStatus.error,
                         error=f"~/.ssh/config HostName {alias!r} for {name} is not a host name or address")
                return []
            got = self._resolve(name_to_resolve, s)
            return [(a, name) for a, _ in got]
        if name == "localhost":
            s.record(f"resolve:{name}", {"name": name, "addresses": ["127.0.0.1"]})
            return [("127.0.0.1", name)]
        s.count_call()
        try:
            infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
            addrs = list(dict.fromkeys(i[4][0] for i in infos))
        except OSError as e:
            s.record(f"resolve:{name}", {"name": name}, status=EvidenceStatus.error, error=f"cannot resolve {name}: {e}")
            return []
        s.record(f"resolve:{name}", {"name": name, "addresses": addrs})
        return [(addrs[0], name)] if addrs else []

    # nmap ---------------------------------------------------------------

    def _nmap(self, addrs: list[str], target: HostsTarget, s: CollectSession, source: str = "nmap"):
        ports = sorted(set(target.ports or default_ports(s.options.get("profile_ports"))))
        if target.ssh.port:
            ports = sorted(set(ports) | {target.ssh.port})
        args = ["-sT", "-Pn", "-n", "-sV", "--version-light", "--script", "ssh2-enum-algos,ssl-enum-ciphers",
                "--max-retries", "1", "--host-timeout", f"{int(target.nmap_timeout)}s", "-T4"]
        if source == "nmap6":
            args.append("-6")
        request = {"targets": addrs, "ports": ports, "arguments": args}
        s.progress(f"nmap over {len(addrs)} target(s), {len(ports)} port(s)")
        s.count_call()
        try:
            import nmap
            nm = nmap.PortScanner()
            nm.scan(hosts=" ".join(addrs), ports=",".join(map(str, ports)), arguments=" ".join(args),
                    timeout=int(target.nmap_timeout) + 30)
            xml = nm.get_nmap_last_output()
            xml = xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml
        except Exception as e:  # noqa: BLE001 - nmap missing, timeout, parse error: evidence says so
            return s.record(source, None, request=request, status=EvidenceStatus.error,
                            error=f"nmap failed: {type(e).__name__}: {e}")
        return s.record(source, {"xml": xml}, request=request)

    # facts --------------------------------------------------------------

    def _local(self, script: str, target: HostsTarget, s: CollectSession) -> None:
        req = {"address": "localhost", "transport": "local", "session": 1, "channels": 1}
        s.count_call()
        try:
            p = subprocess.run(["/bin/sh", "-s"], input=script, capture_output=True, text=True,
                               timeout=target.ssh.script_timeout)
        except subprocess.TimeoutExpired:
            s.record("facts:localhost", None, request=req, status=EvidenceStatus.error,
                     error=f"timeout: the fact script ran longer than {target.ssh.script_timeout:g}s")
            return
        self._record_output("localhost", p.stdout, p.returncode, req, s, {"transport": "local"})

    def _ssh(self, addr: str, script: str, target: HostsTarget, s: CollectSession, tofu: bool,
             names: list[str] | tuple[str, ...] = ()) -> None:
        import paramiko

        st = target.ssh
        cfg = _ssh_settings([*names, addr]) if st.use_ssh_config else {}
        user = st.user or cfg.get("user") or "root"
        port = st.port or int(cfg.get("port", 22))
        keyfile = str(s.resolve_path(st.key)) if st.key else (cfg.get("identityfile") or [None])[0]
        known = s.resolve_path(st.known_hosts) if st.known_hosts else (
            Path(cfg["userknownhostsfile"].split()[0]).expanduser() if cfg.get("userknownhostsfile") else Path("~/.ssh/known_hosts").expanduser())
        jump = st.jump_host or (cfg.get("proxyjump") if cfg.get("proxyjump", "none") != "none" else None)
        req = {"address": addr, "port": port, "user": user, "transport": "ssh", "known_hosts": str(known),
               "known_hosts_names": [*names, addr], "jump_host": jump, "tofu": tofu, "sessions": 1, "channels": 1}
        source = f"facts:{addr}"
        opened: list[Any] = []

        def fail(msg: str, status=EvidenceStatus.error, answer=None):
            s.record(source, answer, request=req, status=status, error=msg)

        try:
            hostkeys = paramiko.HostKeys()
            if known.is_file():
                hostkeys.load(str(known))
            elif not tofu:
                return fail(f"host key unverifiable: known_hosts file {known} not found "
                            "(add the host keys, or opt into trust_on_first_use / --tofu)")
            if jump:
                ju, jh, jp = _jump(jump)
                jt, why, _ = self._transport(paramiko, jh, jp or 22, None, hostkeys, False, st, opened)
                if jt is None:
                    return fail(f"jump host {jh}: {why}")
                err = self._auth(paramiko, jt, ju or user, keyfile)
                if err:
                    return fail(f"jump host {jh}: {err}", EvidenceStatus.denied)
                sock = jt.open_channel("direct-tcpip", (addr, port), ("127.0.0.1", 0), timeout=st.timeout)
            else:
                sock = None
            s.count_call()
            t, why, offered = self._transport(paramiko, addr, port, sock, hostkeys, tofu, st, opened, names)
            if t is None:
                return fail(why, answer=offered)
            err = self._auth(paramiko, t, user, keyfile)
            if err:
                return fail(f"authentication failed for {user}@{addr}:{port}: {err}", EvidenceStatus.denied)
            hk = t.get_remote_server_key()
            host_key = {"type": hk.get_name(), "sha256": _fp(hk),
                        "trusted_by": getattr(t, "_mlps_trusted_by", "known_hosts")}
            wrapper = ('if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; '
                       'then exec sudo -n /bin/sh -s; else exec /bin/sh -s; fi') if st.sudo else "exec /bin/sh -s"
            chan = t.open_session(timeout=st.timeout)
            chan.settimeout(st.script_timeout)  # a slow section (e.g. the update check) is not a dead host
            chan.exec_command(wrapper)
            chan.sendall(script.encode())
            chan.shutdown_write()
            out = bytearray()
            deadline = time.monotonic() + st.script_timeout
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the fact script ran longer than {st.script_timeout:g}s")
                data = chan.recv(65536)
                if not data:
                    break
                out += data
            rc = chan.recv_exit_status() if chan.exit_status_ready() else None
            self._record_output(addr, out.decode("utf-8", "replace"), rc, req, s, {"transport": "ssh", "host_key": host_key})
        except (socket.timeout, TimeoutError) as e:
            fail(f"timeout talking to {addr}:{port}: {e or 'no answer within ' + format(st.timeout, 'g') + 's'}")
        except paramiko.SSHException as e:
            fail(f"ssh error with {addr}:{port}: {e or type(e).__name__}")
        except OSError as e:
            fail(f"unreachable {addr}:{port}: {e}")
        except Exception as e:  # noqa: BLE001 - one host's failure must not stop the others
            fail(f"{type(e).__name__}: {e}")
        finally:
            for o in reversed(opened):
                o.close()

    def _transport(self, paramiko, addr: str, port: int, sock, hostkeys, tofu: bool, st: SshSettings, opened: list,
                   names: list[str] | tuple[str, ...] = ()):
        """(transport, None, None) for a started SSH transport whose host key was verified, else
        (None, why, answer) where answer names the offered key when there was one.

        The key is checked against the known_hosts entries of every name the host was configured under and of
        its address (`host`, or `[host]:port` for other ports), as OpenSSH checks the name and the address: a
        key listed under any of them and different from the offered one refuses the host (CHANGED), also with
        trust-on-first-use; one listing of the offered key and no conflicting one verifies it; no entry at all
        is unknown (refused unless trust-on-first-use)."""
        if sock is None:
            try:
                sock = socket.create_connection((addr, port), timeout=st.timeout)
            except socket.timeout:
                return None, f"timeout: no TCP connection to {addr}:{port} within {st.timeout:g}s", None
            except OSError as e:
                return None, f"unreachable {addr}:{port}: {e.strerror or e}", None
        sock.settimeout(st.timeout)
        t = paramiko.Transport(sock)
        opened.append(t)
        t.banner_timeout = st.timeout
        t.handshake_timeout = st.timeout
        patterns = known_hosts_patterns(names, addr, port)
        entries = {p: e for p in patterns if (e := hostkeys.lookup(p))}
        known_types = {k for e in entries.values() for k in e.keys()}
        if known_types:  # negotiate a key type known_hosts lists, as OpenSSH does
            types = [k for k in t.get_security_options().key_types if k in known_types or
                     (k.startswith("rsa-sha2-") and "ssh-rsa" in known_types) or
                     k.replace("-cert-v01@openssh.com", "") in known_types]
            if types:
                t.get_security_options().key_types = types
        try:
            t.start_client(timeout=st.timeout)
        except (paramiko.SSHException, EOFError, OSError) as e:
            msg = str(e) or type(e).__name__
            if "banner" in msg.lower() or "timed out" in msg.lower() or "timeout" in msg.lower():
                return None, (f"timeout: {addr}:{port} accepted the connection but did not complete the SSH "
                              f"handshake within {st.timeout:g}s ({msg})"), None
            return None, f"ssh handshake with {addr}:{port} failed: {msg}", None
        try:
            hk = t.get_remote_server_key()
        except paramiko.SSHException:  # start_client gave up waiting without an exception
            return None, (f"timeout: {addr}:{port} accepted the connection but did not complete the SSH handshake "
                          f"within {st.timeout:g}s"), None
        name = hk.get_name()
        offered = {"offered_key": {"type": name, "sha256": _fp(hk)}}
        verdict, why = verify_host_key(hostkeys, patterns, hk)
        if verdict == "known":
            t._mlps_trusted_by = "known_hosts"
            return t, None, None
        if verdict == "changed":
            return None, why, offered
        if not tofu:
            return None, (f"host key refused: {' / '.join(patterns)} not in known_hosts (unknown host key {name} "
                          f"{_fp(hk)}); add it to known_hosts or opt into trust_on_first_use / --tofu"), offered
        t._mlps_trusted_by = "trust-on-first-use"
        return t, None, None

    @staticmethod
    def _auth(paramiko, t, user: str, keyfile: str | None) -> str | None:
        """Public-key authentication with the key file, else the agent's keys and the default keys."""
        keys = []
        try:
            if keyfile:
                keys.append(paramiko.PKey.from_path(str(Path(keyfile).expanduser())))
            else:
                try:
                    keys.extend(paramiko.Agent().get_keys())
                except Exception:  # noqa: BLE001 - no agent
                    pass
                for n in ("id_ed25519", "id_ecdsa", "id_rsa"):
                    p = Path("~/.ssh").expanduser() / n
                    if p.is_file():
                        try:
                            keys.append(paramiko.PKey.from_path(str(p)))
                        except Exception:  # noqa: BLE001 - encrypted or unreadable default key: skip it
                            pass
        except Exception as e:  # noqa: BLE001
            return f"cannot load key {keyfile}: {e}"
        if not keys:
            return "no usable private key (set ssh.key, IdentityFile in ~/.ssh/config, or load the agent)"
        last = "no key accepted"
        for k in keys:
            try:
                t.auth_publickey(user, k)
                if t.is_authenticated():
                    return None
            except paramiko.AuthenticationException as e:
                last = str(e) or "key not accepted"
            except paramiko.SSHException as e:
                return f"{e}"
        return last

    def _record_output(self, addr: str, out: str, rc: int | None, req: dict, s: CollectSession, extra: dict) -> None:
        sections = split_sections(out)
        complete = "end" in sections
        ans = {**extra, "exit_status": rc, "complete": complete,
               "sections": {k: v for k, v in sections.items() if k != "end"}}
        if not complete:
            s.record(f"facts:{addr}", ans, request=req, status=EvidenceStatus.error,
                     error="connection dropped or script cut off before the end marker: facts incomplete")
        else:
            s.record(f"facts:{addr}", ans, request=req)

    # ------------------------------------------------------------------ derive

    def derive(self, records: list[EvidenceRecord], s: CollectSession) -> None:
        tname = records[0].target if records else s.target
        base = f"hosts/{tname}"
        plan = next((r for r in records if r.source == "target"), None)
        labels = (plan.answer or {}).get("labels", {}) if plan else {}
        ranges = [x for x in ((plan.answer or {}).get("targets", []) if plan else []) if "/" in str(x)]
        hosts: dict[str, dict[str, Any]] = {}
        ev: dict[str, list[str]] = {}
        errors: dict[str, dict[str, str]] = {}
        for r in records:
            if r.source.startswith("resolve:") and r.status != EvidenceStatus.ok:
                name = r.source.split(":", 1)[1]
                s.coverage("host", f"{base}/{name}", EvidenceStatus.error, r.error, [r.id])
        for nmap_rec in [r for r in records if r.source in ("nmap", "nmap6")]:
            if nmap_rec.status == EvidenceStatus.ok:
                s.coverage("host.service", base, EvidenceStatus.ok, evidence=[nmap_rec.id])
                for h in _parse_nmap_xml((nmap_rec.answer or {}).get("xml", "")):
                    addr = h["address"]
                    open_ports = sorted(p["port"] for p in h["ports"] if p["state"] == "open")
                    listed = addr in labels or (plan is not None and addr in (plan.answer or {}).get("hosts", []))
                    if not open_ports and not listed:
                        continue  # an address of a range with nothing open: not a host we found
                    a = hosts.setdefault(addr, {"address": addr})
                    a["open_ports"] = open_ports
                    a["probed_ports"] = sorted(set(a.get("probed_ports", [])) | set((nmap_rec.request or {}).get("ports") or []))
                    a["reachable"] = bool(open_ports) or a.get("reachable", False)
                    ev.setdefault(addr, []).append(nmap_rec.id)
                    for p in h["ports"]:
                        if p["state"] != "open":
                            continue
                        s.asset("host.service", f"{addr}:{p['port']}/{p['protocol']}", scope=f"{base}/{addr}",
                                name=f"{p.get('service') or 'unknown'} on {addr}:{p['port']}",
                                attributes={"address": addr, **p}, evidence=[nmap_rec.id])
            else:
                s.coverage("host.service", base, EvidenceStatus.error, nmap_rec.error, [nmap_rec.id])
                if ranges:  # the hosts of the ranges are unknown, not absent
                    s.coverage("host", base, EvidenceStatus.error,
                               f"ranges {', '.join(ranges)} not discovered: {nmap_rec.error}", [nmap_rec.id])
        for r in records:
            if not r.source.startswith("facts:"):
                continue
            addr = r.source.split(":", 1)[1]
            a = hosts.setdefault(addr, {"address": addr})
            ev.setdefault(addr, []).append(r.id)
            ans = r.answer or {}
            if r.status == EvidenceStatus.ok or (ans.get("sections") and ans.get("complete")):
                facts = parse_facts(ans.get("sections", {}))
                a.update(facts)
                a["reachable"] = True
                a["host_key"] = ans.get("host_key")
                a["transport"] = ans.get("transport")
                errs = facts.pop("_errors", {})
                a.pop("_errors", None)
                if errs:
                    errors.setdefault(addr, {}).update(errs)
                s.coverage("host.facts", f"{base}/{addr}", EvidenceStatus.ok, evidence=[r.id])
            else:
                reason = r.error or "facts not collected"
                if reason.startswith(("unreachable", "timeout")) and "open_ports" not in a:
                    a["reachable"] = False
                if ans.get("offered_key"):
                    a["offered_host_key"] = ans["offered_key"]
                errors.setdefault(addr, {}).update({g: reason for g in FACT_GROUPS + ("os", "kernel", "hostname")})
                s.coverage("host.facts", f"{base}/{addr}", EvidenceStatus(r.status), reason, [r.id])
        planned = (plan.answer or {}).get("hosts", []) if plan else []
        for addr in planned:  # a planned host with no facts record at all (should not happen): say so
            if not any(r.source == f"facts:{addr}" for r in records):
                hosts.setdefault(addr, {"address": addr})
                errors.setdefault(addr, {}).update({g: "no fact record" for g in FACT_GROUPS})
        for addr, attrs in sorted(hosts.items()):
            if "ssh" not in attrs and addr not in errors and not any(r.source == f"facts:{addr}" for r in records):
                errors.setdefault(addr, {}).update({g: "not collected: no SSH fact collection for this host" for g in FACT_GROUPS})
            name = attrs.get("hostname") or labels.get(addr) or addr
            s.asset("host", addr, scope=f"{base}/{addr}", name=name, attributes=attrs,
                    errors=errors.get(addr, {}), evidence=ev.get(addr, []))
        s.coverage("host", base, EvidenceStatus.ok, evidence=[r.id for r in records if r.source in ("target", "nmap", "nmap6")])


def known_hosts_patterns(names, addr: str, port: int) -> list[str]:
    """The known_hosts host patterns a host is looked up under: every name it was configured under and its
    address, as `host` on port 22 and `[host]:port` otherwise (OpenSSH's form)."""
    return list(dict.fromkeys(h if port == 22 else f"[{h}]:{port}" for h in [*names, addr]))


def verify_host_key(hostkeys, patterns: list[str], hk) -> tuple[str, str | None]:
    """('known' | 'changed' | 'unknown', why) for the offered key `hk` against the known_hosts entries of all
    `patterns`. Any pattern whose entries do not hold the offered key makes it 'changed' (refused, also with
    trust-on-first-use), as OpenSSH refuses a key that differs under the name or under the address; 'known'
    needs at least one listing of the key and no conflicting one; no entry under any pattern is 'unknown'."""
    name = hk.get_name()
    entries = {p: e for p in patterns if (e := hostkeys.lookup(p))}

    def listed_key(entry):
        return entry.get(name) or (entry.get("ssh-rsa") if name.startswith("rsa-sha2-") else None)

    matched = [p for p, e in entries.items() if (k := listed_key(e)) is not None and k.asbytes() == hk.asbytes()]
    changed = [p for p in entries if p not in matched]
    if changed:
        listed = "; ".join(f"{p}: " + ", ".join(f"{k} {_fp(v)}" for k, v in entries[p].items()) for p in changed)
        return "changed", (f"host key refused: the host key of {', '.join(changed)} CHANGED (offered {name} {_fp(hk)}; "
                           f"known_hosts lists {listed}); possible man-in-the-middle. Nothing was sent to the host")
    return ("known", None) if matched else ("unknown", None)


def _is_name(t: str) -> bool:
    try:
        return parse_target(t)[0] == "name"
    except InputError:
        return False


def _fp(key) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


_SSH_CONFIG_LOCK = threading.Lock()


def _ssh_settings(hosts: list[str]) -> dict:
    """~/.ssh/config settings for a host known by several names: the blocks that name the first name win
    (as `ssh NAME`), then those naming later names and the address (a config keyed by addresses), and the
    catch-all `Host *` values come last, so they never override a block written for the host."""
    star = _ssh_config("mlps-scan-no-such-host.invalid")  # what only the catch-all blocks give
    out: dict = {}
    for h in hosts:
        for k, v in _ssh_config(h).items():
            if k != "hostname" and star.get(k) != v:
                out.setdefault(k, v)
    for k, v in star.items():
        if k != "hostname":
            out.setdefault(k, v)
    return out


def _ssh_config(host: str) -> dict:
    import paramiko
    p = Path("~/.ssh/config").expanduser()
    if not p.is_file():
        return {}
    with _SSH_CONFIG_LOCK:
        try:
            cfg = paramiko.SSHConfig.from_path(str(p))
            return dict(cfg.lookup(host))
        except Exception:  # noqa: BLE001 - an unreadable ssh config falls back to scan.yaml settings
            return {}


def _session_records(s: CollectSession) -> list[EvidenceRecord]:
    """The records this session wrote (read back from the bundle: the redacted form)."""
    out = []
    for ev_id, (coll, _src, _st) in list(s.recorder.index.items()):
        if coll != s.collector:
            continue
        rec = EvidenceRecord.model_validate_json((s.recorder.dir / f"{ev_id}.json").read_text(encoding="utf-8"))
        if rec.target == s.target:
            out.append(rec)
    return sorted(out, key=lambda r: r.id)


def split_sections(out: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    cur = None
    for line in out.splitlines():
        if line.startswith(MARK):
            cur = line[len(MARK):].strip()
            sections[cur] = []
        elif cur is not None:
            sections[cur].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


# --------------------------------------------------------------------------- nmap XML


def _parse_nmap_xml(xml: str) -> list[dict[str, Any]]:
    if not xml:
        return []
    root = ET.fromstring(xml)
    out = []
    for h in root.iter("host"):
        addr_el = next((a for a in h.findall("address") if a.get("addrtype") in ("ipv4", "ipv6")), None)
        if addr_el is None:
            continue
        ports = []
        for p in h.iter("port"):
            st = p.find("state")
            svc = p.find("service")
            item: dict[str, Any] = {"port": int(p.get("portid")), "protocol": p.get("protocol"),
                                    "state": st.get("state") if st is not None else "unknown",
                                    "service": svc.get("name") if svc is not None else None,
                                    "product": svc.get("product") if svc is not None else None,
                                    "version": svc.get("version") if svc is not None else None,
                                    "tunnel": svc.get("tunnel") if svc is not None else None}
            for sc in p.findall("script"):
                if sc.get("id") == "ssh2-enum-algos":
                    item["ssh_algorithms"] = {t.get("key"): [e.text for e in t.findall("elem")] for t in sc.findall("table")}
                elif sc.get("id") == "ssl-enum-ciphers":
                    tls: dict[str, Any] = {"versions": [], "ciphers": [], "least_strength": None}
                    for t in sc.findall("table"):
                        tls["versions"].append(t.get("key"))
                        for ct in t.findall("table"):
                            if ct.get("key") == "ciphers":
                                for c in ct.findall("table"):
                                    name = next((e.text for e in c.findall("elem") if e.get("key") == "name"), None)
                                    strength = next((e.text for e in c.findall("elem") if e.get("key") == "strength"), None)
                                    tls["ciphers"].append({"version": t.get("key"), "name": name, "strength": strength})
                    ls = next((e.text for e in sc.findall("elem") if e.get("key") == "least strength"), None)
                    tls["least_strength"] = ls
                    item["tls"] = tls
            ports.append(item)
        out.append({"address": addr_el.get("addr"), "ports": ports})
    return out


# --------------------------------------------------------------------------- facts parsing


def _kv(text: str, sep: str = "=") -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if sep in line:
            k, _, v = line.partition(sep)
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out


def _strip_path(line: str) -> tuple[str, str]:
    """'path: content' -> (path, content)."""
    if line.startswith("/") and ": " in line:
        p, _, c = line.partition(": ")
        return p, c.strip()
    return "", line.strip()


def _int(v: Any) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


SSHD_DEFAULTS = {  # OpenSSH >= 7.4 defaults, for the config-file fallback
    "permitrootlogin": "prohibit-password", "passwordauthentication": "yes", "pubkeyauthentication": "yes",
    "permitemptypasswords": "no", "kbdinteractiveauthentication": "yes", "clientaliveinterval": "0",
    "clientalivecountmax": "3", "maxauthtries": "6", "x11forwarding": "no", "authenticationmethods": "any",
    "usepam": "no", "protocol": "2",
}


def parse_sshd(text: str) -> dict[str, Any]:
    lines = text.splitlines()
    source = lines[0].split("=", 1)[1] if lines and lines[0].startswith("source=") else "files"
    conf: dict[str, str] = {}
    for line in lines[1:]:
        _, c = _strip_path(line)
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
        "client_alive_interval": _int(conf.get("clientaliveinterval", "0")),
        "client_alive_count_max": _int(conf.get("clientalivecountmax", "3")),
        "max_auth_tries": _int(conf.get("maxauthtries")),
        "ciphers": lst("ciphers"), "macs": lst("macs"), "kex_algorithms": lst("kexalgorithms"),
        "host_key_algorithms": lst("hostkeyalgorithms"),
        "protocol": conf.get("protocol", "2"),
        "listen_addresses": [v for k, v in conf.items() if k == "listenaddress"],
        "allow_users": conf.get("allowusers"), "allow_groups": conf.get("allowgroups"),
        "ports": [_int(p) for p in (conf.get("port") or "22").split()],
    }


_CLASS_CREDITS = ("dcredit", "ucredit", "lcredit", "ocredit")


def parse_password(login_defs: str, pam: str) -> tuple[dict, dict, dict]:
    defs = {}
    for line in login_defs.splitlines():
        _, c = _strip_path(line)
        parts = c.split()
        if len(parts) >= 2:
            defs[parts[0]] = parts[1]
    pam_lines = [(p, c) for p, c in (_strip_path(x) for x in pam.splitlines()) if p.startswith("/etc/pam.d/")]
    conf_lines = [(p, c) for p, c in (_strip_path(x) for x in pam.splitlines()) if p.startswith("/etc/security/")]
    quality_mod = None
    qopts: dict[str, str] = {}
    for p, c in pam_lines:
        m = re.search(r"(pam_pwquality|pam_cracklib|pam_passwdqc)\.so(.*)$", c)
        if m and c.split()[0] == "password":
            quality_mod = m.group(1)
            for tok in m.group(2).split():
                k, _, v = tok.partition("=")
                qopts[k] = v
    for p, c in conf_lines:
        if "pwquality.conf" in p and quality_mod in (None, "pam_pwquality"):
            k, _, v = c.partition("=")
            qopts.setdefault(k.strip(), v.strip())
    min_len = None
    min_classes = None
    if quality_mod:
        min_len = _int(qopts.get("minlen", "9" if quality_mod == "pam_pwquality" else "9"))
        neg = sum(1 for c in _CLASS_CREDITS if (_int(qopts.get(c)) or 0) < 0)
        min_classes = max(_int(qopts.get("minclass")) or 0, neg)
    pass_min_len = _int(defs.get("PASS_MIN_LEN"))
    if min_len is None:
        min_len = pass_min_len
    remember = None
    for p, c in pam_lines:
        m = re.search(r"(pam_pwhistory|pam_unix)\.so.*\bremember=(\d+)", c)
        if m:
            remember = max(remember or 0, int(m.group(2)))
    password_policy = {
        "quality_module": quality_mod, "min_length": min_len, "min_classes": min_classes or 0,
        "max_days": _int(defs.get("PASS_MAX_DAYS")), "min_days": _int(defs.get("PASS_MIN_DAYS")),
        "warn_age": _int(defs.get("PASS_WARN_AGE")), "login_defs_min_len": pass_min_len,
        "remember": remember, "encrypt_method": defs.get("ENCRYPT_METHOD"),
        "options": {k: v for k, v in qopts.items() if k and k.isidentifier()},
    }
    # lockout: pam_faillock / pam_tally2 options, faillock.conf
    lock_mod, lopts = None, {}
    for p, c in pam_lines:
        m = re.search(r"(pam_faillock|pam_tally2|pam_tally)\.so(.*)$", c)
        if m and c.split()[0] == "auth":
            lock_mod = m.group(1)
            for tok in m.group(2).split():
                k, _, v = tok.partition("=")
                if v:
                    lopts[k] = v
    if lock_mod == "pam_faillock":
        for p, c in conf_lines:
            if p.endswith("faillock.conf"):
                k, _, v = c.partition("=")
                lopts.setdefault(k.strip(), v.strip())
    deny = _int(lopts.get("deny")) if lock_mod else None
    if lock_mod == "pam_faillock" and deny is None:
        deny = 3  # pam_faillock default
    unlock = lopts.get("unlock_time") if lock_mod else None
    lockout = {"module": lock_mod, "deny": deny,
               "unlock_time": (0 if unlock == "never" else _int(unlock)) if unlock is not None else (600 if lock_mod == "pam_faillock" else None),
               "even_deny_root": "even_deny_root" in " ".join(c for _, c in pam_lines + conf_lines)}
    mfa_modules = sorted({m for _, c in pam_lines for m in re.findall(r"(pam_google_authenticator|pam_oath|pam_u2f|pam_duo|pam_radius_auth)", c)})
    return password_policy, lockout, {"pam_modules": mfa_modules}


def parse_tmout(text: str) -> dict[str, Any]:
    """TMOUT in the shell profile files: its smallest value, and whether it is made readonly (users cannot
    unset it) and exported. /etc/environment is read by pam_env into the environment: exported."""
    val, ro, exported, files = None, False, False, []
    for line in text.splitlines():
        p, c = _strip_path(line)
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
            users[parts[1]] = {"uid": _int(parts[2]), "gid": _int(parts[3]), "shell": " ".join(parts[4:])}
        elif parts[0] == "shadow" and len(parts) >= 10:
            shadow[parts[1]] = {"status": parts[2], "algorithm": parts[3], "last_change": _int(parts[4]),
                                "max_days": _int(parts[6]), "expire": _int(parts[9])}
        elif parts[0] == "shadow-unreadable":
            unreadable = True
        elif parts[0] == "group" and len(parts) >= 3:
            groups[parts[1]] = [m for m in (parts[3].split(",") if len(parts) > 3 else []) if m]
        elif line.startswith("today="):
            today = _int(line[6:])
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
        _, c = _strip_path(line)
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


_WATCH_LOGIN = re.compile(r"(/var/log/(lastlog|faillog|tallylog|wtmp|btmp)|/var/run/(faillock|utmp)|/run/faillock|logins|session)")
_WATCH_PRIV = re.compile(r"(/etc/sudoers|euid=0|privileged|execve|/usr/bin/sudo|actions|setuid)")
_WATCH_CHANGE = re.compile(r"(/etc/(passwd|shadow|group|gshadow|security/opasswd)|identity|/etc/ssh/sshd_config|/etc/audit|time-change|adjtimex|settimeofday|MAC-policy|system-locale)")


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
            _, c = _strip_path(line[11:])
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
    rules_rc, status_rc = _int(kv.get("rules_rc")), _int(kv.get("status_rc"))
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
        "enabled": _int(enabled) if enabled is not None else None,
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
        "num_logs": _int(conf.get("num_logs")), "max_log_file_action": conf.get("max_log_file_action"),
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
            rotate = _int(w[1])
        elif w[0] == "maxage" and len(w) > 1:
            maxage = _int(w[1])
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
            glob_lines.append(_strip_path(line[17:])[1])
            continue
        if line.startswith("logrotate-syslog "):
            sys_lines.append(_strip_path(line[17:])[1])
            continue
        p, c = _strip_path(line)
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
        "journald_retention_sec": _int(mret) if mret else None,
        "logrotate": rot_sys,
        "retention_days": rot_sys["days"],
    }


def parse_time(text: str) -> dict[str, Any]:
    svc, servers, info = {}, [], {}
    for line in text.splitlines():
        p, c = _strip_path(line)
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
        m = re.search(r"hook input .*policy (\w+)", r)
        if m:
            pol.setdefault("INPUT", m.group(1).upper())
    rules = len([r for r in ipt if r.startswith("-A ")]) + (_int(other.get("nft_rules")) or 0)
    active = any(v == "active" for v in svc.values()) or other.get("firewalld_state") == "running" or \
        "active" in other.get("ufw", "").lower().split() or rules > 0 or pol.get("INPUT") in ("DROP", "REJECT")
    return {"services": svc, "active": active, "input_policy": pol.get("INPUT"), "rule_count": rules,
            "firewalld": other.get("firewalld_state"), "ufw": other.get("ufw")}


def parse_mac(text: str) -> dict[str, Any]:
    kv = {}
    aa = []
    for line in text.splitlines():
        p, c = _strip_path(line)
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
    profiles = next((_int(a.split()[0]) for a in aa if "enforce mode" in a), None)
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
                sig = max(sig or 0, _int(w[1]) or 0)
        elif line.startswith("now="):
            now = _int(line[4:])
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
            _, c = _strip_path(line[10:])
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
    kv = _kv(text)
    pkgs = [l.split("=", 1)[1] for l in text.splitlines() if l.startswith("pkg=")]
    mgr = kv.get("manager")
    rc = _int(kv.get("rc"))
    n = _int(kv.get("security"))
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


def parse_facts(sections: dict[str, str]) -> dict[str, Any]:
    """The script's sections -> the host's fact groups (docs/asset-types.md)."""
    f: dict[str, Any] = {}
    errs: dict[str, str] = {}
    meta = _kv(sections.get("meta", ""))
    f["hostname"] = meta.get("hostname") or None
    f["kernel"] = meta.get("kernel") or None
    f["remote_uid"] = _int(meta.get("uid"))
    osr = _kv(sections.get("os_release", ""))
    f["os"] = {"id": osr.get("ID"), "version": osr.get("VERSION_ID"), "pretty_name": osr.get("PRETTY_NAME")}
    f["updates"] = parse_updates(sections.get("updates", ""))
    f["ssh"] = parse_sshd(sections.get("sshd", ""))
    pw, lock, mfa = parse_password(sections.get("login_defs", ""), sections.get("pam", ""))
    f["password_policy"], f["lockout"] = pw, lock
    f["ssh"]["mfa_pam_modules"] = mfa["pam_modules"]
    tm = parse_tmout(sections.get("tmout", ""))
    f["idle_timeout"] = {**tm, "ssh_client_alive_interval": f["ssh"]["client_alive_interval"],
                         "ssh_client_alive_count_max": f["ssh"]["client_alive_count_max"]}
    acc, aerr = parse_accounts(sections.get("accounts", ""))
    f["accounts"] = acc
    if aerr:
        errs.update(aerr)
    f["sudo"] = parse_sudoers(sections.get("sudoers", ""))
    f["audit"] = parse_audit(sections.get("audit", ""))
    f["logging"] = parse_logging(sections.get("logging", ""))
    f["logging"]["audisp_remote"] = f["audit"]["remote"]
    f["time_sync"] = parse_time(sections.get("time_sync", ""))
    f["firewall"] = parse_firewall(sections.get("firewall", ""))
    f["mac"] = parse_mac(sections.get("mac", ""))
    f["malware"] = parse_malware(sections.get("malware", ""))
    f["disk_encryption"] = parse_disk(sections.get("disk", ""))
    f["listening"] = parse_listening(sections.get("listening", ""))
    f["services"] = [x for x in sections.get("services", "").split() if x]
    if f["remote_uid"] not in (0, None):
        errs.setdefault("sudo", "not root and sudo -n not allowed: sudoers unreadable")
    if errs:
        f["_errors"] = errs
    return f
