"""Transport: running the fact script on a host. Over SSH (paramiko): ONE session with ONE exec channel per
host, through an optional jump host, host keys verified against known_hosts as OpenSSH does (RejectPolicy;
trust-on-first-use only when asked for, and then the trusted key's fingerprint is recorded), public-key
authentication only. `transport: local` runs the same script here. Every outcome, failures included, is
recorded as the `facts:<address>` evidence record."""
from __future__ import annotations

import base64
import hashlib
import logging
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from .facts import split_sections
from .ssh_config import ssh_settings
from .targets import HostsTarget, SshSettings, parse_jump_host

logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # failures are recorded as evidence, not logged

SUDO_WRAPPER = ('if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; '
                'then exec sudo -n /bin/sh -s; else exec /bin/sh -s; fi')
DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")

# --------------------------------------------------------------------------- host keys


def fingerprint(key) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def known_hosts_patterns(names, address: str, port: int) -> list[str]:
    """The known_hosts host patterns a host is looked up under: every name it was configured under and its
    address, as `host` on port 22 and `[host]:port` otherwise (OpenSSH's form)."""
    return list(dict.fromkeys(h if port == 22 else f"[{h}]:{port}" for h in [*names, address]))


def verify_host_key(hostkeys, patterns: list[str], offered) -> tuple[str, str | None]:
    """('known' | 'changed' | 'unknown', why) for the offered key against the known_hosts entries of all
    `patterns`. Any pattern whose entries do not hold the offered key makes it 'changed' (refused, also with
    trust-on-first-use), as OpenSSH refuses a key that differs under the name or under the address; 'known'
    needs at least one listing of the key and no conflicting one; no entry under any pattern is 'unknown'."""
    key_type = offered.get_name()
    entries = {p: e for p in patterns if (e := hostkeys.lookup(p))}

    def listed_key(entry):
        return entry.get(key_type) or (entry.get("ssh-rsa") if key_type.startswith("rsa-sha2-") else None)

    matched = [p for p, e in entries.items() if (k := listed_key(e)) is not None and k.asbytes() == offered.asbytes()]
    changed = [p for p in entries if p not in matched]
    if changed:
        listed = "; ".join(f"{p}: " + ", ".join(f"{k} {fingerprint(v)}" for k, v in entries[p].items()) for p in changed)
        return "changed", (f"host key refused: the host key of {', '.join(changed)} CHANGED (offered {key_type} "
                           f"{fingerprint(offered)}; known_hosts lists {listed}); possible man-in-the-middle. "
                           "Nothing was sent to the host")
    return ("known", None) if matched else ("unknown", None)


# --------------------------------------------------------------------------- SSH


@dataclass
class Connection:
    """How one host is reached: scan.yaml's ssh settings first, then ~/.ssh/config, then OpenSSH defaults."""

    address: str
    port: int
    user: str
    key_file: str | None
    known_hosts: Path
    jump_host: str | None
    names: list[str] = field(default_factory=list)
    trust_on_first_use: bool = False

    def request(self) -> dict[str, Any]:
        return {"address": self.address, "port": self.port, "user": self.user, "transport": "ssh",
                "known_hosts": str(self.known_hosts), "known_hosts_names": [*self.names, self.address],
                "jump_host": self.jump_host, "tofu": self.trust_on_first_use, "sessions": 1, "channels": 1}


def connection_for(address: str, settings: SshSettings, session: CollectSession, trust_on_first_use: bool,
                   names: list[str] | tuple[str, ...] = ()) -> Connection:
    config = ssh_settings([*names, address]) if settings.use_ssh_config else {}
    if settings.known_hosts:
        known = session.resolve_path(settings.known_hosts)
    elif config.get("userknownhostsfile"):
        known = Path(config["userknownhostsfile"].split()[0]).expanduser()
    else:
        known = Path("~/.ssh/known_hosts").expanduser()
    jump = settings.jump_host or (config.get("proxyjump") if config.get("proxyjump", "none") != "none" else None)
    return Connection(address=address, port=settings.port or int(config.get("port", 22)),
                      user=settings.user or config.get("user") or "root",
                      key_file=str(session.resolve_path(settings.key)) if settings.key else (config.get("identityfile") or [None])[0],
                      known_hosts=known, jump_host=jump, names=list(names), trust_on_first_use=trust_on_first_use)


@dataclass
class Handshake:
    """A started SSH transport whose host key was verified (and how), or why the host was refused (with the
    key it offered, when it offered one)."""

    transport: Any = None
    trusted_by: str | None = None
    refused: str | None = None
    offered_key: dict | None = None


def _negotiate_known_key_types(transport, entries: dict) -> None:
    """Negotiate a key type known_hosts lists, as OpenSSH does."""
    known_types = {k for e in entries.values() for k in e.keys()}
    if not known_types:
        return
    types = [k for k in transport.get_security_options().key_types if k in known_types or
             (k.startswith("rsa-sha2-") and "ssh-rsa" in known_types) or
             k.replace("-cert-v01@openssh.com", "") in known_types]
    if types:
        transport.get_security_options().key_types = types


def handshake(paramiko, address: str, port: int, sock, hostkeys, trust_on_first_use: bool, settings: SshSettings,
              opened: list, names: list[str] | tuple[str, ...] = ()) -> Handshake:
    """Connect (unless `sock` is a channel through a jump host), run the SSH handshake and verify the host key.

    The key is checked against the known_hosts entries of every name the host was configured under and of
    its address (`host`, or `[host]:port` for other ports), as OpenSSH checks the name and the address: a
    key listed under any of them and different from the offered one refuses the host (CHANGED), also with
    trust-on-first-use; one listing of the offered key and no conflicting one verifies it; no entry at all
    is unknown (refused unless trust-on-first-use)."""
    timeout = settings.timeout
    if sock is None:
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
        except socket.timeout:
            return Handshake(refused=f"timeout: no TCP connection to {address}:{port} within {timeout:g}s")
        except OSError as e:
            return Handshake(refused=f"unreachable {address}:{port}: {e.strerror or e}")
    sock.settimeout(timeout)
    transport = paramiko.Transport(sock)
    opened.append(transport)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    patterns = known_hosts_patterns(names, address, port)
    _negotiate_known_key_types(transport, {p: e for p in patterns if (e := hostkeys.lookup(p))})
    no_handshake = (f"timeout: {address}:{port} accepted the connection but did not complete the SSH handshake "
                    f"within {timeout:g}s")
    try:
        transport.start_client(timeout=timeout)
    except (paramiko.SSHException, EOFError, OSError) as e:
        message = str(e) or type(e).__name__
        if "banner" in message.lower() or "timed out" in message.lower() or "timeout" in message.lower():
            return Handshake(refused=f"{no_handshake} ({message})")
        return Handshake(refused=f"ssh handshake with {address}:{port} failed: {message}")
    try:
        key = transport.get_remote_server_key()
    except paramiko.SSHException:  # start_client gave up waiting without an exception
        return Handshake(refused=no_handshake)
    offered = {"offered_key": {"type": key.get_name(), "sha256": fingerprint(key)}}
    verdict, why = verify_host_key(hostkeys, patterns, key)
    if verdict == "known":
        return Handshake(transport=transport, trusted_by="known_hosts")
    if verdict == "changed":
        return Handshake(refused=why, offered_key=offered)
    if not trust_on_first_use:
        return Handshake(refused=(f"host key refused: {' / '.join(patterns)} not in known_hosts (unknown host key "
                                  f"{key.get_name()} {fingerprint(key)}); add it to known_hosts or opt into "
                                  "trust_on_first_use / --tofu"), offered_key=offered)
    return Handshake(transport=transport, trusted_by="trust-on-first-use")


def _candidate_keys(paramiko, key_file: str | None) -> list:
    """The key file, else the agent's keys and the default keys (~/.ssh/id_*) that load."""
    if key_file:
        return [paramiko.PKey.from_path(str(Path(key_file).expanduser()))]
    keys = []
    try:
        keys.extend(paramiko.Agent().get_keys())
    except Exception:  # noqa: BLE001 - no agent
        pass
    for name in DEFAULT_KEYS:
        path = Path("~/.ssh").expanduser() / name
        if path.is_file():
            try:
                keys.append(paramiko.PKey.from_path(str(path)))
            except Exception:  # noqa: BLE001 - encrypted or unreadable default key: skip it
                pass
    return keys


def authenticate(paramiko, transport, user: str, key_file: str | None) -> str | None:
    """Public-key authentication; None when it succeeded, else why not."""
    try:
        keys = _candidate_keys(paramiko, key_file)
    except Exception as e:  # noqa: BLE001
        return f"cannot load key {key_file}: {e}"
    if not keys:
        return "no usable private key (set ssh.key, IdentityFile in ~/.ssh/config, or load the agent)"
    last = "no key accepted"
    for key in keys:
        try:
            transport.auth_publickey(user, key)
            if transport.is_authenticated():
                return None
        except paramiko.AuthenticationException as e:
            last = str(e) or "key not accepted"
        except paramiko.SSHException as e:
            return f"{e}"
    return last


def _open_via_jump_host(paramiko, connection: Connection, hostkeys, settings: SshSettings, opened: list):
    """(channel to the host through the jump host, None) or (None, (why, status))."""
    jump_user, jump_host, jump_port = parse_jump_host(connection.jump_host)
    jump = handshake(paramiko, jump_host, jump_port or 22, None, hostkeys, False, settings, opened)
    if jump.transport is None:
        return None, (f"jump host {jump_host}: {jump.refused}", EvidenceStatus.error)
    error = authenticate(paramiko, jump.transport, jump_user or connection.user, connection.key_file)
    if error:
        return None, (f"jump host {jump_host}: {error}", EvidenceStatus.denied)
    channel = jump.transport.open_channel("direct-tcpip", (connection.address, connection.port), ("127.0.0.1", 0),
                                          timeout=settings.timeout)
    return channel, None


def _run_script(transport, script: str, settings: SshSettings) -> tuple[str, int | None]:
    """The script's output and exit status, over one exec channel."""
    channel = transport.open_session(timeout=settings.timeout)
    channel.settimeout(settings.script_timeout)  # a slow section (e.g. the update check) is not a dead host
    channel.exec_command(SUDO_WRAPPER if settings.sudo else "exec /bin/sh -s")
    channel.sendall(script.encode())
    channel.shutdown_write()
    out = bytearray()
    deadline = time.monotonic() + settings.script_timeout
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the fact script ran longer than {settings.script_timeout:g}s")
        data = channel.recv(65536)
        if not data:
            break
        out += data
    return out.decode("utf-8", "replace"), channel.recv_exit_status() if channel.exit_status_ready() else None


def run_over_ssh(address: str, script: str, target: HostsTarget, session: CollectSession, trust_on_first_use: bool,
                 names: list[str] | tuple[str, ...] = ()) -> None:
    """Run the fact script on one host over SSH and record the outcome as `facts:<address>`."""
    import paramiko

    settings = target.ssh
    connection = connection_for(address, settings, session, trust_on_first_use, names)
    request = connection.request()
    source = f"facts:{address}"
    opened: list[Any] = []

    def fail(message: str, status=EvidenceStatus.error, answer=None) -> None:
        session.record(source, answer, request=request, status=status, error=message)

    port = connection.port
    try:
        hostkeys = paramiko.HostKeys()
        if connection.known_hosts.is_file():
            hostkeys.load(str(connection.known_hosts))
        elif not trust_on_first_use:
            return fail(f"host key unverifiable: known_hosts file {connection.known_hosts} not found "
                        "(add the host keys, or opt into trust_on_first_use / --tofu)")
        sock = None
        if connection.jump_host:
            sock, problem = _open_via_jump_host(paramiko, connection, hostkeys, settings, opened)
            if problem:
                return fail(*problem)
        session.count_call()
        shaken = handshake(paramiko, address, port, sock, hostkeys, trust_on_first_use, settings, opened, names)
        if shaken.transport is None:
            return fail(shaken.refused, answer=shaken.offered_key)
        error = authenticate(paramiko, shaken.transport, connection.user, connection.key_file)
        if error:
            return fail(f"authentication failed for {connection.user}@{address}:{port}: {error}", EvidenceStatus.denied)
        key = shaken.transport.get_remote_server_key()
        host_key = {"type": key.get_name(), "sha256": fingerprint(key), "trusted_by": shaken.trusted_by}
        output, exit_status = _run_script(shaken.transport, script, settings)
        record_output(address, output, exit_status, request, session, {"transport": "ssh", "host_key": host_key})
    except (socket.timeout, TimeoutError) as e:
        fail(f"timeout talking to {address}:{port}: {e or 'no answer within ' + format(settings.timeout, 'g') + 's'}")
    except paramiko.SSHException as e:
        fail(f"ssh error with {address}:{port}: {e or type(e).__name__}")
    except OSError as e:
        fail(f"unreachable {address}:{port}: {e}")
    except Exception as e:  # noqa: BLE001 - one host's failure must not stop the others
        fail(f"{type(e).__name__}: {e}")
    finally:
        for resource in reversed(opened):
            resource.close()


def run_locally(script: str, target: HostsTarget, session: CollectSession) -> None:
    """`transport: local`: the same script on this machine, recorded as `facts:localhost`."""
    request = {"address": "localhost", "transport": "local", "session": 1, "channels": 1}
    session.count_call()
    try:
        done = subprocess.run(["/bin/sh", "-s"], input=script, capture_output=True, text=True,
                              timeout=target.ssh.script_timeout)
    except subprocess.TimeoutExpired:
        session.record("facts:localhost", None, request=request, status=EvidenceStatus.error,
                       error=f"timeout: the fact script ran longer than {target.ssh.script_timeout:g}s")
        return
    record_output("localhost", done.stdout, done.returncode, request, session, {"transport": "local"})


def record_output(address: str, output: str, exit_status: int | None, request: dict, session: CollectSession,
                  extra: dict) -> None:
    sections = split_sections(output)
    complete = "end" in sections
    answer = {**extra, "exit_status": exit_status, "complete": complete,
              "sections": {k: v for k, v in sections.items() if k != "end"}}
    if not complete:
        session.record(f"facts:{address}", answer, request=request, status=EvidenceStatus.error,
                       error="connection dropped or script cut off before the end marker: facts incomplete")
    else:
        session.record(f"facts:{address}", answer, request=request)
