"""Helpers shared by the AWS check modules (not a check module itself: the leading underscore keeps the
plugin loader from importing it as one)."""
from __future__ import annotations

import re

from mlps_scan.plugins import CheckContext, EvidenceMissing

ANY = ("0.0.0.0/0", "::/0")


def world_open_ports(rules: list[dict], ports: list[int]) -> list[str]:
    """Rules (security-group ingress shape) that let the whole internet reach one of `ports`."""
    hits = []
    for r in rules or []:
        wide = [c for c in r.get("cidrs", []) if c in ANY]
        if not wide:
            continue
        proto = str(r.get("protocol", "all")).lower()
        if proto not in ("all", "tcp", "udp", "6", "17", "-1"):
            continue
        lo = 0 if r.get("from_port") is None else int(r["from_port"])
        hi = 65535 if r.get("to_port") is None else int(r["to_port"])
        if proto in ("all", "-1"):
            lo, hi = 0, 65535
        for p in ports:
            if lo <= p <= hi:
                hits.append(f"{p}/{'any' if proto in ('all', '-1') else proto} from {', '.join(wide)}")
    return sorted(set(hits), key=lambda h: int(h.split("/")[0]))


def nacl_open_ports(entries: list[dict], ports: list[int]) -> list[str]:
    """Ports of `ports` that a NACL admits from the internet: the lowest-numbered ingress rule that matches
    the port and a world CIDR decides (NACLs are evaluated in rule-number order)."""
    ingress = sorted((e for e in entries or [] if not e.get("egress")), key=lambda e: int(e.get("rule_number") or 0))
    open_ = []
    for p in ports:
        for e in ingress:
            if e.get("cidr") not in ANY:
                continue
            proto = str(e.get("protocol", "all"))
            if proto not in ("all", "tcp", "-1", "6"):
                continue
            lo = 0 if e.get("from_port") is None else int(e["from_port"])
            hi = 65535 if e.get("to_port") is None else int(e["to_port"])
            if proto in ("all", "-1"):
                lo, hi = 0, 65535
            if lo <= p <= hi:
                if str(e.get("action", "")).lower() == "allow":
                    open_.append(f"{p} (rule {e.get('rule_number')} from {e.get('cidr')})")
                break
    return open_


_MODERN = re.compile(r"TLS13-1-[23]|TLS-1-2|FS-1-2|TLS13-1-3|TLS-1-3|PQ-TLS-1-[23]|TLS13-1-2")


def tls_policy_ok(policy: str | None) -> bool:
    """ELB security policies are named after their minimum protocol: ...-TLS13-1-2-..., ...-TLS-1-2-...,
    ...-FS-1-2-... allow TLS 1.2 and up; ELBSecurityPolicy-2016-08, -TLS-1-0/-1-1, -FS-2018-06 still allow
    TLS 1.0/1.1."""
    return bool(policy) and bool(_MODERN.search(policy))


def account_of(asset, ctx: CheckContext):
    accts = ctx.related(asset, "aws.account")
    return accts[0] if accts else None


def need_coverage(asset, ctx: CheckContext, type_: str) -> None:
    """Raise EvidenceMissing when `type_` could not be listed in the asset's scope."""
    miss = ctx.missing(asset, type_)
    if miss:
        raise EvidenceMissing("; ".join(f"{c.asset_type} in {c.scope}: {c.reason or c.status.value}" for c in miss))
