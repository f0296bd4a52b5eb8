"""AWS Backup of one region: the backup plans, their rules (schedule, retention, the vaults they copy to,
which tell where copies are kept) and how many resource selections each plan has (a plan that selects
nothing backs nothing up)."""
from __future__ import annotations

from typing import Any

from .context import AccountEvidence, ok, why


def vault_region(vault_arn: str | None) -> str | None:
    """arn:<partition>:backup:<region>:<account>:backup-vault:<name> -> region."""
    parts = str(vault_arn or "").split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else None


def plan_rules(answer: dict, region: str) -> list[dict[str, Any]]:
    rules = []
    for rule in ((answer or {}).get("BackupPlan") or {}).get("Rules", []):
        copies = [c.get("DestinationBackupVaultArn") for c in rule.get("CopyActions", [])]
        rules.append({"name": rule.get("RuleName"), "schedule": rule.get("ScheduleExpression"),
                      "vault": rule.get("TargetBackupVaultName"), "vault_region": region,
                      "delete_after_days": (rule.get("Lifecycle") or {}).get("DeleteAfterDays"),
                      "copies_to": copies, "copy_regions": sorted({vault_region(c) for c in copies if vault_region(c)})})
    return rules


def derive_plans(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.backup.plan"], scope, "backup:ListBackupPlans", region)
    for plan in (listing.answer or {}).get("BackupPlansList", []) if listing else []:
        plan_id = plan.get("BackupPlanId")
        detail = account.get("backup:GetBackupPlan", region, {"BackupPlanId": plan_id})
        selections = account.get("backup:ListBackupSelections", region, {"BackupPlanId": plan_id})
        attributes: dict[str, Any] = {"plan_id": plan_id, "region": region}
        errors: dict[str, str] = {}
        if ok(detail):
            attributes["rules"] = plan_rules(detail.answer or {}, region)
        else:
            errors["rules"] = why(detail, "backup:GetBackupPlan")
        if ok(selections):
            attributes["selections"] = [s.get("SelectionName") for s in (selections.answer or {}).get("BackupSelectionsList", [])]
        else:
            errors["selections"] = why(selections, "backup:ListBackupSelections")
        account.asset("aws.backup.plan", plan.get("BackupPlanArn") or plan_id, scope, name=plan.get("BackupPlanName"),
                      attributes=attributes, errors=errors,
                      evidence=[listing.id] + [x.id for x in (detail, selections) if x is not None])
