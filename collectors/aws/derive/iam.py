"""The account (root user, password policy, MFA devices, account-level S3 Block Public Access) and IAM:
groups, roles, customer managed policies and users with their credentials (credential report, access keys).
Which policies grant admin is judged in `..policy`."""
from __future__ import annotations

from typing import Any

from mlps_scan.models import EvidenceRecord, EvidenceStatus

from ..fetch import parse_credential_report
from ..partition import arn
from ..policy import AUDIT_READ_ACTIONS, POLICY_WRITE_ACTIONS, UNKNOWN, allows_admin, allows_any
from .context import AccountEvidence, absent, days_since, ok, tag_map, why
from .s3 import account_public_access_block

PRINCIPAL_TYPES = ["aws.iam.user", "aws.iam.role", "aws.iam.group", "aws.iam.policy"]
AUTHORIZATION_FILTER = {"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]}


def derive_account_and_iam(account: AccountEvidence) -> None:
    region = account.global_region
    report = account.get("iam:GetCredentialReport", region)
    details = account.listed(PRINCIPAL_TYPES, account.account_scope, "iam:GetAccountAuthorizationDetails", region,
                             AUTHORIZATION_FILTER)
    report_rows = parse_credential_report(report.answer) if ok(report) else []
    derive_account(account, report, report_rows)
    if details is None:
        return
    groups_admin = derive_groups_roles_policies(account, details)
    derive_users(account, details, report, report_rows, groups_admin)


def derive_account(account: AccountEvidence, report: EvidenceRecord | None, report_rows: list[dict]) -> None:
    region, scope = account.global_region, account.account_scope
    summary = account.get("iam:GetAccountSummary", region)
    password_policy = account.get("iam:GetAccountPasswordPolicy", region)
    virtual_mfa = account.get("iam:ListVirtualMFADevices", region)
    attributes: dict[str, Any] = {"account_id": account.account_id, "partition": account.partition,
                                  "regions": account.regions}
    errors: dict[str, str] = {}
    if ok(summary):
        summary_map = (summary.answer or {}).get("SummaryMap", {})
        attributes["root_mfa"] = bool(summary_map.get("AccountMFAEnabled"))
        attributes["root_access_keys"] = int(summary_map.get("AccountAccessKeysPresent", 0))
    else:
        errors["root_mfa"] = errors["root_access_keys"] = why(summary, "iam:GetAccountSummary")
    if ok(password_policy):
        attributes["password_policy"] = None if absent(password_policy) else (password_policy.answer or {}).get("PasswordPolicy")
    else:
        errors["password_policy"] = why(password_policy, "iam:GetAccountPasswordPolicy")
    root = next((row for row in report_rows if row.get("user") == "<root_account>"), None)
    if root is not None:
        attributes["root_password_last_used_days"] = days_since(root.get("password_last_used"), account.now)
    if ok(virtual_mfa):
        attributes["virtual_mfa_devices"] = len((virtual_mfa.answer or {}).get("VirtualMFADevices", []))
    block_record, block = account_public_access_block(account)
    if block is UNKNOWN:
        errors["public_access_block"] = why(block_record, "s3control:GetPublicAccessBlock")
    else:
        attributes["public_access_block"] = block
    scope_evidence = account.scope_record.id
    account.asset("aws.account", arn(account.partition, "iam", "", account.account_id, "root"), scope,
                  name=account.account_id, attributes=attributes, errors=errors,
                  evidence=[scope_evidence] + [r.id if r else None for r in (summary, password_policy, report, block_record)])
    account.coverage("aws.account", scope, EvidenceStatus.ok, None, [scope_evidence])
    for region_name in account.regions:
        account.coverage("aws.region", account.region_scope(region_name), EvidenceStatus.ok, None, [scope_evidence])


def _default_document(policy: dict) -> Any:
    for version in policy.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion"):
            return version.get("Document")
    return None


# AWS managed policies (by name) that let a principal change IAM policies, and that make it an auditor
AWS_POLICY_ADMIN = ("AdministratorAccess", "IAMFullAccess")
AWS_AUDIT = ("SecurityAudit", "AWSCloudTrail_ReadOnlyAccess", "AWSCloudTrailReadOnlyAccess")


class AdminJudge:
    """Whether attached managed policies or inline policy documents grant admin, let the principal change
    access-control (IAM) policies, or read the audit trail."""

    def __init__(self, account: AccountEvidence, managed_policies: list[dict]):
        self.local_admin = {p["Arn"]: allows_admin(_default_document(p)) for p in managed_policies}
        self.local_policy_write = {p["Arn"]: allows_any(_default_document(p), POLICY_WRITE_ACTIONS) for p in managed_policies}
        self.local_audit = {p["Arn"]: allows_any(_default_document(p), AUDIT_READ_ACTIONS) for p in managed_policies}
        aws_arn = lambda name: arn(account.partition, "iam", "", "aws", f"policy/{name}")  # noqa: E731
        self.aws_admin = {aws_arn("AdministratorAccess")}
        self.aws_policy_admin = {aws_arn(n) for n in AWS_POLICY_ADMIN}
        self.aws_audit = {aws_arn(n) for n in AWS_AUDIT}

    def attached(self, policy_arns: list[str]) -> bool:
        return any(x in self.aws_admin or self.local_admin.get(x) for x in policy_arns)

    def grants_admin(self, attached_arns: list[str], inline_policies: list[dict]) -> bool:
        return self.attached(attached_arns) or any(allows_admin(p.get("PolicyDocument")) for p in inline_policies)

    def policy_write(self, attached_arns: list[str], inline_policies: list[dict]) -> list[str]:
        """The policies (names) through which the principal may change IAM policies."""
        via = [x.rsplit("/", 1)[-1] for x in attached_arns if x in self.aws_policy_admin or self.local_policy_write.get(x)]
        via += [p.get("PolicyName") for p in inline_policies if allows_any(p.get("PolicyDocument"), POLICY_WRITE_ACTIONS)]
        return via

    def audit(self, attached_arns: list[str], inline_policies: list[dict]) -> list[str]:
        """The policies (names) that let the principal read the audit trail."""
        via = [x.rsplit("/", 1)[-1] for x in attached_arns if x in self.aws_audit or self.local_audit.get(x)]
        via += [p.get("PolicyName") for p in inline_policies if allows_any(p.get("PolicyDocument"), AUDIT_READ_ACTIONS)]
        return via


def derive_groups_roles_policies(account: AccountEvidence, details: EvidenceRecord) -> dict[str, bool]:
    """Groups, roles and customer managed policies; returns which groups grant admin (for their users)."""
    answer = details.answer or {}
    scope = account.account_scope
    judge = AdminJudge(account, answer.get("Policies", []))
    groups_admin: dict[str, bool] = {}
    for group in answer.get("GroupDetailList", []):
        attached = [p["PolicyArn"] for p in group.get("AttachedManagedPolicies", [])]
        inline = group.get("GroupPolicyList", [])
        admin = judge.grants_admin(attached, inline)
        groups_admin[group["GroupName"]] = admin
        account.group_rights[group["GroupName"]] = (judge.policy_write(attached, inline), judge.audit(attached, inline))
        account.asset("aws.iam.group", group["Arn"], scope, name=group["GroupName"], evidence=[details.id],
                      attributes={"arn": group["Arn"], "attached_policies": attached,
                                  "inline_policies": [p["PolicyName"] for p in inline], "admin": admin,
                                  "policy_write_via": account.group_rights[group["GroupName"]][0],
                                  "audit_via": account.group_rights[group["GroupName"]][1]})
    for role in answer.get("RoleDetailList", []):
        attached = [p["PolicyArn"] for p in role.get("AttachedManagedPolicies", [])]
        inline = role.get("RolePolicyList", [])
        path = role.get("Path", "/")
        account.asset("aws.iam.role", role["Arn"], scope, name=role["RoleName"], evidence=[details.id],
                      attributes={"arn": role["Arn"], "attached_policies": attached,
                                  "inline_policies": [p["PolicyName"] for p in inline],
                                  "admin": judge.grants_admin(attached, inline), "path": path,
                                  "policy_write_via": judge.policy_write(attached, inline),
                                  "audit_via": judge.audit(attached, inline),
                                  "service_linked": path.startswith("/aws-service-role/"),
                                  "tags": tag_map(role.get("Tags"))})
    for policy in answer.get("Policies", []):
        account.asset("aws.iam.policy", policy["Arn"], scope, name=policy["PolicyName"], evidence=[details.id],
                      attributes={"arn": policy["Arn"], "attached_policies": [],
                                  "admin": judge.local_admin[policy["Arn"]],
                                  "attachment_count": policy.get("AttachmentCount", 0)})
    return groups_admin


def derive_users(account: AccountEvidence, details: EvidenceRecord, report: EvidenceRecord | None,
                 report_rows: list[dict], groups_admin: dict[str, bool]) -> None:
    answer = details.answer or {}
    judge = AdminJudge(account, answer.get("Policies", []))
    by_user = {row.get("user"): row for row in report_rows}
    for user in answer.get("UserDetailList", []):
        user_name = user["UserName"]
        attached = [p["PolicyArn"] for p in user.get("AttachedManagedPolicies", [])]
        inline = user.get("UserPolicyList", [])
        groups = user.get("GroupList", [])
        direct = judge.grants_admin(attached, inline)
        attributes: dict[str, Any] = {
            "arn": user["Arn"], "attached_policies": attached, "inline_policies": [p["PolicyName"] for p in inline],
            "groups": groups, "admin": direct or any(groups_admin.get(x) for x in groups), "admin_direct": direct,
            "policy_write_via": judge.policy_write(attached, inline)
            + [f"group {g}: {p}" for g in groups for p in account.group_rights.get(g, ([], []))[0]],
            "audit_via": judge.audit(attached, inline)
            + [f"group {g}: {p}" for g in groups for p in account.group_rights.get(g, ([], []))[1]],
            "created_days": days_since(user.get("CreateDate"), account.now), "tags": tag_map(user.get("Tags")),
        }
        errors: dict[str, str] = {}
        evidence = [details.id]
        row = by_user.get(user_name)
        if row is None:
            for key in ("console_access", "mfa_active", "password_last_used_days", "access_keys"):
                errors[key] = why(report, "iam:GetCredentialReport") if not ok(report) else "user not in the credential report"
        else:
            evidence.append(report.id)
            user_credentials(account, user_name, row, attributes, errors, evidence)
        account.asset("aws.iam.user", user["Arn"], account.account_scope, name=user_name, attributes=attributes,
                      errors=errors, evidence=evidence)


def user_credentials(account: AccountEvidence, user_name: str, row: dict, attributes: dict, errors: dict,
                     evidence: list[str]) -> None:
    """Console password, MFA and access keys of one user from its credential-report row (key ids from
    ListAccessKeys)."""
    now = account.now
    attributes["console_access"] = row.get("password_enabled") == "true"
    attributes["mfa_active"] = row.get("mfa_active") == "true"
    attributes["password_last_used_days"] = days_since(row.get("password_last_used"), now)
    attributes["password_last_changed_days"] = days_since(row.get("password_last_changed"), now)
    keys = []
    key_list = account.get("iam:ListAccessKeys", account.global_region, {"UserName": user_name})
    metadata = (key_list.answer or {}).get("AccessKeyMetadata", []) if ok(key_list) else []
    if key_list is not None:
        evidence.append(key_list.id)
    for number in (1, 2):
        rotated = row.get(f"access_key_{number}_last_rotated", "N/A")
        if rotated in ("N/A", "", None):
            continue
        key_metadata = metadata[number - 1] if len(metadata) >= number else {}
        keys.append({"id": key_metadata.get("AccessKeyId", f"key{number}"),
                     "active": row.get(f"access_key_{number}_active") == "true",
                     "age_days": days_since(rotated, now),
                     "last_used_days": days_since(row.get(f"access_key_{number}_last_used_date"), now)})
    attributes["access_keys"] = keys
    if keys and not ok(key_list):
        errors["access_key_ids"] = why(key_list, "iam:ListAccessKeys")
