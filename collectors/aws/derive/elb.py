"""Elastic Load Balancing (v2) of one region: load balancers, their listeners (TLS policy, HTTP->HTTPS
redirects) and, for internet-facing application load balancers, the WAF web ACL guarding them."""
from __future__ import annotations

from typing import Any

from mlps_scan.models import EvidenceRecord

from .context import AccountEvidence, ok, why
from .waf import LIST_PARAMS, WafState, derive_web_acls


def listener(entry: dict) -> dict[str, Any]:
    return {"protocol": entry.get("Protocol"), "port": entry.get("Port"),
            "ssl_policy": entry.get("SslPolicy") if entry.get("Protocol") in ("HTTPS", "TLS") else None,
            "redirects_to_https": any(
                (action.get("Type") == "redirect" and (action.get("RedirectConfig") or {}).get("Protocol") == "HTTPS")
                for action in entry.get("DefaultActions", []))}


def guarding_web_acl(account: AccountEvidence, region: str, balancer_arn: str, waf: WafState, attributes: dict,
                     errors: dict) -> list[EvidenceRecord | None]:
    """Which regional web ACL guards an internet-facing ALB (`waf_web_acl`, None: none does); returns the
    records the answer rests on."""
    if waf.unreadable is not None:  # WAF could not be read here: no verdict either way
        errors["waf_web_acl"] = waf.unreadable
        return [account.get("wafv2:ListWebACLs", region, LIST_PARAMS)]
    if not waf.offered:
        attributes["waf_offered"] = False
        return [waf.record]
    if not waf.has_acls:
        attributes["waf_web_acl"] = None
        return [waf.record]
    association = account.get("wafv2:GetWebACLForResource", region, {"ResourceArn": balancer_arn})
    if ok(association):
        attributes["waf_web_acl"] = ((association.answer or {}).get("WebACL") or {}).get("ARN")
    else:
        errors["waf_web_acl"] = why(association, "wafv2:GetWebACLForResource")
    return [waf.record, association]


def derive_load_balancers(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.elb.load_balancer"], scope, "elbv2:DescribeLoadBalancers", region)
    waf = derive_web_acls(account, region, scope)
    for balancer in (listing.answer or {}).get("LoadBalancers", []) if listing else []:
        balancer_arn = balancer["LoadBalancerArn"]
        kind = balancer.get("Type")
        attributes: dict[str, Any] = {
            "arn": balancer_arn, "type": kind, "scheme": balancer.get("Scheme"), "dns_name": balancer.get("DNSName"),
            "vpc_id": balancer.get("VpcId"),
            "availability_zones": [z.get("ZoneName") for z in balancer.get("AvailabilityZones", [])]}
        errors: dict[str, str] = {}
        waf_evidence: list[EvidenceRecord | None] = []
        if kind == "application" and balancer.get("Scheme") == "internet-facing":
            waf_evidence = guarding_web_acl(account, region, balancer_arn, waf, attributes, errors)
        listeners = (account.get("elbv2:DescribeListeners", region, {"LoadBalancerArn": balancer_arn})
                     if kind != "gateway" else None)
        if kind == "gateway":
            attributes["listeners"] = []  # gateway load balancers have no TLS-terminating listeners
        elif ok(listeners):
            attributes["listeners"] = [listener(x) for x in (listeners.answer or {}).get("Listeners", [])]
        else:
            errors["listeners"] = why(listeners, "elbv2:DescribeListeners")
        account.asset("aws.elb.load_balancer", balancer_arn, scope, name=balancer.get("LoadBalancerName"),
                      attributes=attributes, errors=errors,
                      evidence=[listing.id] + ([listeners.id] if listeners else [])
                      + [w.id for w in waf_evidence if w is not None])
