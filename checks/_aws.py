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


def account_scope(scope: str) -> str:
    """aws/<target>/<account>[/<region>] -> aws/<target>/<account>."""
    return "/".join(scope.split("/")[:3])


def region_of_scope(scope: str) -> str | None:
    parts = scope.split("/")
    return parts[3] if len(parts) > 3 else None


def region_of_arn(value: str | None) -> str | None:
    parts = str(value or "").split(":")
    return (parts[3] or None) if len(parts) > 4 and parts[0] == "arn" else None


def in_account(ctx: CheckContext, asset, type_: str) -> list:
    """Assets of `type_` of the same account as `asset` (every region)."""
    mine = account_scope(asset.scope)
    return [a for a in ctx.assets(type_) if account_scope(a.scope) == mine]


def notified(ctx: CheckContext, asset, target_arn: str) -> tuple[bool, str, str]:
    """Whether an alarm action or an event target reaches someone: an SNS topic with at least one confirmed
    subscription, or a service that processes the event (Lambda, SQS, Firehose, an API destination...).
    Returns (reaches, English, Chinese) descriptions."""
    service = str(target_arn).split(":")[2] if str(target_arn).count(":") >= 5 else "?"
    if service == "sns":
        topic = next((t for t in in_account(ctx, asset, "aws.sns.topic") if t.id == target_arn), None)
        name = target_arn.rsplit(":", 1)[-1]
        if topic is None or not topic.attributes.get("confirmed_subscriptions"):
            pending = topic.attributes.get("pending_subscriptions") if topic else 0
            return (False, f"topic {name} has no confirmed subscription" + (f" ({pending} pending)" if pending else ""),
                    f"主题{name}没有已确认的订阅" + (f"（{pending}个待确认）" if pending else ""))
        protocols = ", ".join(topic.attributes.get("protocols") or [])
        n = topic.attributes["confirmed_subscriptions"]
        return True, f"topic {name} ({n} confirmed subscription(s): {protocols})", f"主题{name}（{n}个已确认订阅：{protocols}）"
    if service in ("lambda", "sqs", "firehose", "logs", "events", "states", "ssm", "ssm-incidents", "ssm-contacts",
                   "securityhub"):
        return True, f"{service} target {target_arn.rsplit(':', 1)[-1]}", f"{service}目标{target_arn.rsplit(':', 1)[-1]}"
    return False, f"target {target_arn} reaches nobody known", f"目标{target_arn}无已知接收方"


def rule_sources(rule) -> list[str]:
    pattern = rule.attributes.get("pattern") or {}
    return [str(s) for s in as_list(pattern.get("source"))] if isinstance(pattern, dict) else []


def as_list(value) -> list:
    return value if isinstance(value, list) else ([] if value is None else [value])


def routed(ctx: CheckContext, region_asset, matches) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list]:
    """EventBridge rules of the region (enabled) whose pattern `matches`: ([(en, zh) reaching someone],
    [(en, zh) why a rule reaches nobody], the rules' evidence ids). A rule whose targets could not be read
    raises EvidenceMissing."""
    ok_, why, evidence = [], [], []
    for rule in ctx.related(region_asset, "aws.events.rule"):
        if rule.attributes.get("state") != "ENABLED" or not matches(rule):
            continue
        evidence += rule.evidence
        targets = ctx.need(rule, "targets")
        reached = [notified(ctx, region_asset, t) for t in targets]
        good = [(en, zh) for hit, en, zh in reached if hit]
        if good:
            ok_.append((f"rule {rule.name} -> " + "; ".join(en for en, _ in good),
                        f"规则{rule.name} -> " + "；".join(zh for _, zh in good)))
        else:
            why.append((f"rule {rule.name}: " + ("; ".join(en for _, en, _ in reached) or "no target"),
                        f"规则{rule.name}：" + ("；".join(zh for _, _, zh in reached) or "没有目标")))
    return ok_, why, evidence
