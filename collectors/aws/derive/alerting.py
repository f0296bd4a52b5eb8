"""Alerting of one region: CloudWatch Logs metric filters (what they count in which log group), CloudWatch
metric alarms (on which metric, with which actions), SNS topics as their subscriptions show them (who a topic
reaches: confirmed subscriptions by protocol), and EventBridge rules with their targets (only the rules that
watch security sources have their targets asked; see `..fetch.watched_rule`)."""
from __future__ import annotations

import json
from typing import Any

from ..fetch import watched_rule
from ..partition import arn
from .context import AccountEvidence, ok, why


def derive_metric_filters(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.logs.metric_filter"], scope, "logs:DescribeMetricFilters", region)
    for item in (listing.answer or {}).get("metricFilters", []) if listing else []:
        group, name = item.get("logGroupName"), item.get("filterName")
        metrics = [{"name": m.get("metricName"), "namespace": m.get("metricNamespace")}
                   for m in item.get("metricTransformations", [])]
        account.asset("aws.logs.metric_filter",
                      arn(account.partition, "logs", region, account.account_id, f"log-group:{group}:metric-filter:{name}"),
                      scope, name=name, evidence=[listing.id],
                      attributes={"region": region, "log_group": group, "pattern": item.get("filterPattern") or "",
                                  "metrics": metrics})


def derive_alarms(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.cloudwatch.alarm"], scope, "cloudwatch:DescribeAlarms", region)
    for alarm in (listing.answer or {}).get("MetricAlarms", []) if listing else []:
        name = alarm.get("AlarmName")
        account.asset("aws.cloudwatch.alarm",
                      alarm.get("AlarmArn") or arn(account.partition, "cloudwatch", region, account.account_id,
                                                   f"alarm:{name}"),
                      scope, name=name, evidence=[listing.id],
                      attributes={"region": region, "metric": alarm.get("MetricName"),
                                  "namespace": alarm.get("Namespace"),
                                  "dimensions": {d.get("Name"): d.get("Value") for d in alarm.get("Dimensions", [])},
                                  "actions_enabled": bool(alarm.get("ActionsEnabled", True)),
                                  "alarm_actions": list(alarm.get("AlarmActions", [])),
                                  "state": alarm.get("StateValue")})


def derive_topics(account: AccountEvidence, region: str, scope: str) -> None:
    """One `aws.sns.topic` per topic that has subscriptions: how many are confirmed, over which protocols.
    (Endpoints are not copied into the inventory: they may be people's addresses.)"""
    listing = account.listed(["aws.sns.topic"], scope, "sns:ListSubscriptions", region)
    topics: dict[str, dict[str, Any]] = {}
    for sub in (listing.answer or {}).get("Subscriptions", []) if listing else []:
        topic = topics.setdefault(sub.get("TopicArn"), {"confirmed": 0, "pending": 0, "protocols": set()})
        if str(sub.get("SubscriptionArn", "")).startswith("arn:"):
            topic["confirmed"] += 1
            topic["protocols"].add(sub.get("Protocol"))
        else:  # "PendingConfirmation" (or "Deleted"): nobody receives anything yet
            topic["pending"] += 1
    for topic_arn, t in sorted(topics.items()):
        account.asset("aws.sns.topic", topic_arn, scope, name=topic_arn.rsplit(":", 1)[-1], evidence=[listing.id],
                      attributes={"region": region, "confirmed_subscriptions": t["confirmed"],
                                  "pending_subscriptions": t["pending"], "protocols": sorted(t["protocols"])})


def derive_event_rules(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.events.rule"], scope, "events:ListRules", region)
    for rule in (listing.answer or {}).get("Rules", []) if listing else []:
        name = rule.get("Name")
        try:
            pattern = json.loads(rule.get("EventPattern") or "null")
        except ValueError:
            pattern = None
        attributes: dict[str, Any] = {"region": region, "state": rule.get("State"), "pattern": pattern,
                                      "event_bus": rule.get("EventBusName", "default"),
                                      "watched": watched_rule(rule)}
        errors: dict[str, str] = {}
        evidence = [listing.id]
        if watched_rule(rule):
            targets = account.get("events:ListTargetsByRule", region, {"Rule": name})
            if ok(targets):
                attributes["targets"] = [t.get("Arn") for t in (targets.answer or {}).get("Targets", [])]
                evidence.append(targets.id)
            else:
                errors["targets"] = why(targets, "events:ListTargetsByRule")
                if targets is not None:
                    evidence.append(targets.id)
        account.asset("aws.events.rule",
                      rule.get("Arn") or arn(account.partition, "events", region, account.account_id, f"rule/{name}"),
                      scope, name=name, attributes=attributes, errors=errors, evidence=evidence)
