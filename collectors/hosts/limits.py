"""How far a hosts scan may reach, checked before anything is sent (exit 2 otherwise):

- addresses outside private, shared (100.64/10), loopback and link-local ranges (anything routable on the
  internet) are scanned only when the hosts target says `allow_public: true`: a typo in a range must not
  send nmap to someone else's network;
- all hosts targets of one scan together cover at most `max_addresses()` addresses (default 65,536, set
  with MLPS_SCAN_MAX_ADDRESSES), counted after merging overlaps; a host name counts as one;
- the SSH key and known_hosts files it names are regular files (a FIFO would hang the SSH library).
"""
from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Iterable

from mlps_scan.errors import InputError

ENV = "MLPS_SCAN_MAX_ADDRESSES"
DEFAULT_MAX = 65536
INTERNAL = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "fc00::/7", "fe80::/10", "::1/128"))


def max_addresses() -> int:
    raw = os.environ.get(ENV, "")
    if not raw:
        return DEFAULT_MAX
    if not raw.isdigit() or not 1 <= int(raw) <= 1 << 24:
        raise InputError(f"{ENV}={raw!r}: give the most addresses one scan may cover (1 to 16777216)")
    return int(raw)


def _internal(net) -> bool:
    return any(net.version == n.version and net.subnet_of(n) for n in INTERNAL)


def _parsed(target) -> list[tuple[str, Any]]:
    from .targets import parse_target
    return [parse_target(t) for t in dict.fromkeys(target.targets)]


def _label(target) -> str:
    return f"hosts target {target.name}" if target.name else "hosts target"


def check_target(target, base_dir: Path) -> None:
    """One target: public addresses need `allow_public`; its own size; its key/known_hosts are regular files."""
    if target.transport != "local":
        public = []
        for kind, val in _parsed(target):
            if kind in ("ip", "net"):
                net = ipaddress.ip_network(val) if kind == "ip" else val
                if not _internal(net):
                    public.append(str(val))
        if public and not getattr(target, "allow_public", False):
            raise InputError(f"{_label(target)}: {', '.join(public[:3])}{' ...' if len(public) > 3 else ''} "
                             "is outside private, loopback and link-local ranges; scan it only if it is yours: "
                             "set allow_public: true on this target")
    count_addresses([target])
    from mlps_scan.loaders import require_regular_file
    for what in ("key", "known_hosts"):
        v = getattr(target.ssh, what)
        if v is not None:
            p = Path(v).expanduser()
            p = p if p.is_absolute() else base_dir / p
            if p.exists():
                require_regular_file(p, f"{_label(target)}: ssh {what}")


def count_addresses(targets: Iterable[Any]) -> int:
    """Addresses the targets cover (overlaps merged, a name counts as one); InputError above the cap."""
    nets: list = []
    names = 0
    for t in targets:
        if t.transport == "local":
            names += 1
            continue
        for kind, val in _parsed(t):
            if kind == "ip":
                nets.append(ipaddress.ip_network(val))
            elif kind == "net":
                nets.append(val)
            else:
                names += 1
    total = names
    for version in (4, 6):
        total += sum(n.num_addresses for n in ipaddress.collapse_addresses(x for x in nets if x.version == version))
    cap = max_addresses()
    if total > cap:
        raise InputError(f"hosts targets cover {total:,} addresses, more than {cap:,} per scan; split the scan or "
                         f"set {ENV} to raise the cap")
    return total
