"""What a hosts target is (one entry under `hosts:` in scan.yaml) and how its strings are validated before
anything reaches nmap or a shell: host names (RFC 1123), addresses, CIDR ranges (at most /20), user names,
jump hosts; and which ports discovery probes."""
from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from mlps_scan.errors import InputError
from mlps_scan.models import Profile, Strict

# common service ports probed besides the profile's high-risk and admin ports
COMMON_PORTS = (22, 23, 25, 80, 443, 512, 513, 514, 2222, 8080, 8443)
MAX_PREFIX = {4: 20, 6: 116}  # largest range accepted: /20 (4096 addresses) or its IPv6 equivalent
HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$")
USER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$")
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


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
    allow_public: bool = Field(False, description="scan addresses outside private, loopback and link-local ranges "
                                                  "(they are refused otherwise)")


def default_ports(profile: Profile | None = None) -> list[int]:
    """The profile's high-risk and admin ports (as the scan's profile sets them; the built-in defaults when
    the collector runs without one) and the common service ports."""
    profile = profile or Profile()
    return sorted(set(profile.high_risk_ports) | set(profile.admin_ports) | set(COMMON_PORTS))


def parse_target(text: str) -> tuple[str, Any]:
    """('ip', ip_address) | ('net', ip_network) | ('name', hostname); InputError for anything else."""
    if not isinstance(text, str) or not text or text != text.strip() or text.startswith("-") or len(text) > 253:
        raise InputError(f"hosts: target {text!r} is not a host name, address or CIDR range")
    try:
        return "ip", ipaddress.ip_address(text)
    except ValueError:
        pass
    if "/" in text:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise InputError(f"hosts: target {text!r} is not a valid CIDR range") from None
        if net.prefixlen < MAX_PREFIX[net.version]:
            raise InputError(f"hosts: target {text!r} is too large (at most /{MAX_PREFIX[net.version]} per range; split it)")
        return "net", net
    if HOSTNAME.match(text) and not text.replace(".", "").isdigit():
        return "name", text.rstrip(".")
    raise InputError(f"hosts: target {text!r} is not a host name (RFC 1123), address or CIDR range")


UNIT_PREFIX = {4: 24, 6: 120}  # a range is split into chunks of this size for shards


def unit_parts(targets: list[str]) -> list[str]:
    """The configured hosts and the chunks of the configured ranges, each once, in the order given."""
    out: list[str] = []
    for t in dict.fromkeys(targets):
        kind, val = parse_target(t)
        if kind == "net" and val.prefixlen < UNIT_PREFIX[val.version]:
            out.extend(str(n) for n in val.subnets(new_prefix=UNIT_PREFIX[val.version]))
        else:
            out.append(str(val) if kind == "net" else t)
    return list(dict.fromkeys(out))


def is_host_name(text: str) -> bool:
    try:
        return parse_target(text)[0] == "name"
    except InputError:
        return False


def parse_jump_host(spec: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` (or `[user@][v6-address]:port`) -> (user, host, port); InputError otherwise."""
    user, _, rest = spec.rpartition("@")
    host, port = rest, None
    if rest.startswith("["):
        host, _, port_text = rest[1:].partition("]")
        port = int(port_text[1:]) if port_text.startswith(":") and port_text[1:].isdigit() else None
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
        if not port_text.isdigit():
            raise InputError(f"hosts: jump_host {spec!r}: port must be a number")
        port = int(port_text)
    try:
        parse_target(host)
    except InputError:
        raise InputError(f"hosts: jump_host {spec!r} is not [user@]host[:port]") from None
    if user and not USER_NAME.match(user):
        raise InputError(f"hosts: jump_host {spec!r}: invalid user name")
    return user or None, host, port


def validate(target: HostsTarget, base_dir: Path) -> None:
    """Raise InputError for anything of the target that must not reach nmap, ssh or a shell."""
    for text in target.targets:
        parse_target(text)
    if target.name is not None and not TARGET_NAME.match(target.name):
        raise InputError(f"hosts: name {target.name!r}: use letters, digits, '.', '_' and '-'")
    for port in target.ports or []:
        if not 1 <= int(port) <= 65535:
            raise InputError(f"hosts: port {port} out of range 1-65535")
    if target.ssh.user is not None and not USER_NAME.match(target.ssh.user):
        raise InputError(f"hosts: ssh user {target.ssh.user!r} is not a valid user name")
    if target.ssh.jump_host:
        parse_jump_host(target.ssh.jump_host)
    if target.ssh.key is not None:
        key = Path(target.ssh.key).expanduser()
        key = key if key.is_absolute() else base_dir / key
        if not key.is_file():
            raise InputError(f"hosts: ssh key not found: {key}")
