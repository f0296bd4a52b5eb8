"""Security Hub of one region: one `aws.securityhub.hub` asset when the account is subscribed there (none when
it is not: DescribeHub answers "not subscribed", recorded as absent)."""
from __future__ import annotations

from ..partition import arn
from .context import AccountEvidence, absent


def derive_hub(account: AccountEvidence, region: str, scope: str) -> None:
    record = account.listed(["aws.securityhub.hub"], scope, "securityhub:DescribeHub", region)
    if record is None or absent(record):
        return
    answer = record.answer or {}
    account.asset("aws.securityhub.hub", arn(account.partition, "securityhub", region, account.account_id, "hub/default"),
                  scope, name=f"Security Hub ({region})", evidence=[record.id],
                  attributes={"region": region, "subscribed_at": answer.get("SubscribedAt"),
                              "auto_enable_controls": answer.get("AutoEnableControls")})
