"""What every AWS derivation step shares: the recorded answers of one account, looked up by source, region
and parameters; the account's partition, id, regions and scopes; and the helpers that turn a missing or
failed answer into an `error`/`denied` coverage record or an asset error."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

from mlps_scan.models import Asset, EvidenceRecord, EvidenceStatus
from mlps_scan.plugins import CollectSession

ANY_IPV4 = "0.0.0.0/0"
ANY_IPV6 = "::/0"


def _canonical(params: Any) -> Any:
    """A lookup key for request parameters: the sorted pairs when every value is a plain scalar (the usual
    `{"Bucket": name}`), else their canonical JSON (the two kinds of key never compare equal)."""
    if not params:
        return ()
    if type(params) is dict and all(type(v) in (str, int) for v in params.values()):
        return tuple(sorted(params.items()))
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


class EvidenceIndex:
    """The records of one account by (source, region, parameters), and by source in recorded order."""

    def __init__(self, records: Iterable[EvidenceRecord]):
        self.by_key: dict[tuple[str, str | None, Any], EvidenceRecord] = {}
        self.by_source: dict[str, list[EvidenceRecord]] = {}
        for record in records:
            request = record.request or {}
            self.by_key[(record.source, request.get("region"), _canonical(request.get("params")))] = record
            self.by_source.setdefault(record.source, []).append(record)

    def get(self, source: str, region: str | None, params: dict | None = None) -> EvidenceRecord | None:
        return self.by_key.get((source, region, _canonical(params)))

    def first(self, source: str) -> EvidenceRecord | None:
        found = self.by_source.get(source) or []
        return found[0] if found else None


def ok(record: EvidenceRecord | None) -> bool:
    return record is not None and record.status == EvidenceStatus.ok


def why(record: EvidenceRecord | None, source: str) -> str:
    """Why an answer cannot be used: not collected, or its error/status."""
    if record is None:
        return f"{source}: not collected"
    return f"{record.source}: {record.error or record.status.value}"


def absent(record: EvidenceRecord) -> bool:
    """A "not configured" answer (recorded as {"Absent": code}): the setting is read, and not set."""
    return isinstance(record.answer, dict) and set(record.answer) == {"Absent"}


def days_since(timestamp: Any, now: datetime) -> int | None:
    if timestamp in (None, "", "N/A", "no_information", "not_supported"):
        return None
    try:
        when = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0, (now - when).days)


def tag_map(tag_list: Any) -> dict[str, str]:
    if isinstance(tag_list, dict):
        return {str(k): str(v) for k, v in tag_list.items()}
    return {str(t.get("Key")): str(t.get("Value", "")) for t in (tag_list or []) if isinstance(t, dict)}


def name_tag(tags: dict, default: str) -> str:
    return tags.get("Name") or default


def evidence_ids(*records: EvidenceRecord | None) -> list[str]:
    return [r.id for r in records if r is not None]


class AccountEvidence:
    """One account's recorded answers and where its assets go (scope aws/<target>/<account>[/<region>])."""

    def __init__(self, records: list[EvidenceRecord], session: CollectSession):
        self.session = session
        self.index = EvidenceIndex(records)
        self.target_name = records[0].target
        self.scope_record = self.index.first("mlps-scan:ScanScope")
        identity = self.index.first("sts:GetCallerIdentity")
        self.global_region: str | None
        if not ok(self.scope_record):
            self.partition = "aws"
            self.account_id = (identity.answer or {}).get("Account", "unknown") if ok(identity) else "unknown"
            self.regions: list[str] = []
            self.global_region = None
        else:
            answer = self.scope_record.answer
            self.partition, self.account_id = answer["partition"], answer["account_id"]
            self.regions, self.global_region = answer["regions"], answer["global_region"]
        self.now = max(r.collected_at for r in records)
        self.account_scope = f"aws/{self.target_name}/{self.account_id}"
        # group name -> (policies letting it change IAM policies, policies letting it read the audit trail)
        self.group_rights: dict[str, tuple[list[str], list[str]]] = {}

    @property
    def established(self) -> bool:
        """Whether the scan recorded its scope (partition, account, regions): nothing is derived without it."""
        return ok(self.scope_record)

    def region_scope(self, region: str) -> str:
        return f"{self.account_scope}/{region}"

    def get(self, source: str, region: str | None, params: dict | None = None) -> EvidenceRecord | None:
        return self.index.get(source, region, params)

    def asset(self, asset_type: str, asset_id: str, scope: str, *, name: str | None = None,
              attributes: dict | None = None, errors: dict | None = None, evidence: Iterable[str | None] = ()) -> Asset:
        return self.session.asset(asset_type, asset_id, scope=scope, name=name, attributes=attributes or {},
                                  errors=errors or {}, evidence=[e for e in evidence if e])

    def coverage(self, asset_type: str, scope: str, status: EvidenceStatus, reason: str | None = None,
                 evidence: Iterable[str] = ()) -> None:
        self.session.coverage(asset_type, scope, status, reason, list(evidence))

    def listed(self, asset_types: Iterable[str], scope: str, source: str, region: str | None,
               params: dict | None = None) -> EvidenceRecord | None:
        """Coverage of the asset types a list call answers; returns its record when it succeeded."""
        record = self.index.get(source, region, params or {})
        if record is None and params:
            # a service not offered in the region is recorded once, without the call's parameters
            bare = self.index.get(source, region, {})
            if bare is not None and bare.status == EvidenceStatus.not_available:
                record = bare
        for asset_type in asset_types:
            if record is None:
                self.coverage(asset_type, scope, EvidenceStatus.error, f"{source} in {region or 'global'}: not collected")
            elif record.status == EvidenceStatus.ok:
                self.coverage(asset_type, scope, EvidenceStatus.ok, None, [record.id])
            else:
                self.coverage(asset_type, scope, record.status, f"{source}: {record.error or record.status.value}",
                              [record.id])
        return record if ok(record) else None

    def marker_pages(self, source: str, region: str, params: dict,
                     items: str) -> tuple[list[EvidenceRecord], str | None]:
        """The pages the fetcher recorded for a NextMarker-paged call, in order, and why the chain is
        incomplete (None when it is complete): a page that failed, is missing, or a marker that comes round
        again."""
        pages: list[EvidenceRecord] = []
        seen: set[str] = set()
        record = self.index.get(source, region, params)
        while True:
            if not ok(record):
                return pages, why(record, source + (" (next page)" if pages else ""))
            pages.append(record)
            marker = (record.answer or {}).get("NextMarker")
            if not marker or not (record.answer or {}).get(items):
                return pages, None
            if marker in seen:
                return pages, f"{source}: NextMarker {marker[:40]!r} repeated, the list is incomplete"
            seen.add(marker)
            params = {**params, "NextMarker": marker}
            record = self.index.get(source, region, params)
