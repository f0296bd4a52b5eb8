"""AWS WAF (v2) regional web ACLs of one region: every page of ListWebACLs, their logging, and the resources
(load balancers) each one guards."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlps_scan.models import EvidenceRecord, EvidenceStatus

from ..fetch import web_acl_params
from .context import AccountEvidence, ok, why

LIST_PARAMS: dict[str, Any] = {"Scope": "REGIONAL", "Limit": 100}


@dataclass
class WafState:
    """What the region's WAF listing says for the load balancers: `record` is the first page's record (ok, or
    the not-offered record), or `unreadable` says why WAF could not be read; `has_acls` whether any exist."""

    record: EvidenceRecord | None = None
    unreadable: str | None = None
    has_acls: bool = False

    @property
    def offered(self) -> bool:
        return self.unreadable is not None or self.record is None or self.record.status != EvidenceStatus.not_available


def _guards(account: AccountEvidence, region: str) -> dict[str, list[EvidenceRecord]]:
    """web ACL ARN -> the GetWebACLForResource answers naming it."""
    guards: dict[str, list[EvidenceRecord]] = {}
    for answer in account.index.by_source.get("wafv2:GetWebACLForResource", []):
        acl = ((answer.answer or {}).get("WebACL") or {}).get("ARN") if ok(answer) else None
        if acl and (answer.request or {}).get("region") == region:
            guards.setdefault(acl, []).append(answer)
    return guards


def _statement_kind(statement: dict) -> str:
    return next(iter(statement), "unknown") if isinstance(statement, dict) else "unknown"


def web_acl_rules(web_acl: dict) -> dict[str, Any]:
    """What a web ACL inspects: its rules (name, statement kind, managed rule group, action) and its default
    action (Allow/Block)."""
    rules = []
    for rule in web_acl.get("Rules", []):
        statement = rule.get("Statement") or {}
        managed = statement.get("ManagedRuleGroupStatement") or {}
        action = rule.get("Action") or rule.get("OverrideAction") or {}
        rules.append({"name": rule.get("Name"), "kind": _statement_kind(statement),
                      "managed_group": f"{managed.get('VendorName')}/{managed.get('Name')}" if managed else None,
                      "action": next(iter(action), None), "override_to_count": "Count" in action})
    return {"rules": rules, "default_action": next(iter(web_acl.get("DefaultAction") or {}), None),
            "capacity": web_acl.get("Capacity")}


def derive_web_acls(account: AccountEvidence, region: str, scope: str) -> WafState:
    """Regional web ACLs with their logging (see WafState for what it returns)."""
    first = account.get("wafv2:ListWebACLs", region, LIST_PARAMS)
    if first is None:  # not offered in the region: the fetcher records that without params
        not_offered = account.get("wafv2:ListWebACLs", region, {})
        if not_offered is not None and not_offered.status == EvidenceStatus.not_available:
            account.listed(["aws.wafv2.web_acl"], scope, "wafv2:ListWebACLs", region, {})
            return WafState(record=not_offered)
    account.listed(["aws.wafv2.web_acl"], scope, "wafv2:ListWebACLs", region, LIST_PARAMS)
    pages, incomplete = account.marker_pages("wafv2:ListWebACLs", region, LIST_PARAMS, "WebACLs")
    if incomplete is not None:
        if pages:  # the first page was read (coverage ok): say the list is incomplete after all
            account.coverage("aws.wafv2.web_acl", scope, EvidenceStatus.error, incomplete, [p.id for p in pages])
        return WafState(unreadable=incomplete)
    log_pages, log_incomplete = account.marker_pages("wafv2:ListLoggingConfigurations", region, LIST_PARAMS,
                                                     "LoggingConfigurations")
    logged = {c.get("ResourceArn") for p in log_pages for c in (p.answer or {}).get("LoggingConfigurations", [])}
    guards = _guards(account, region)
    for page in pages:
        for acl in (page.answer or {}).get("WebACLs", []):
            acl_guards = guards.get(acl.get("ARN"), [])
            attributes: dict[str, Any] = {
                "arn": acl.get("ARN"), "id": acl.get("Id"), "description": acl.get("Description"),
                "associated": sorted(((g.request or {}).get("params") or {}).get("ResourceArn") for g in acl_guards)}
            errors: dict[str, str] = {}
            if log_incomplete is None:
                attributes["logging"] = acl.get("ARN") in logged
            else:
                errors["logging"] = log_incomplete
            detail = account.get("wafv2:GetWebACL", region, web_acl_params(acl)) if acl.get("Name") and acl.get("Id") \
                else None
            if ok(detail):
                attributes.update(web_acl_rules((detail.answer or {}).get("WebACL") or {}))
            else:
                errors["rules"] = why(detail, "wafv2:GetWebACL")
            account.asset("aws.wafv2.web_acl", acl.get("ARN") or acl.get("Id"), scope, name=acl.get("Name"),
                          attributes=attributes, errors=errors,
                          evidence=[page.id] + [x.id for x in log_pages] + [g.id for g in acl_guards]
                          + ([detail.id] if detail else []))
    return WafState(record=first, has_acls=any((p.answer or {}).get("WebACLs") for p in pages))
