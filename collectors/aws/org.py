"""AWS Organizations and shards: which account each record belongs to.

An `aws` target with `organization:` lists the organisation's active accounts from the account its
credentials reach (the management account, or a delegated administrator): `organizations:ListAccounts`, or
`ListAccountsForParent` / `ListOrganizationalUnitsForParent` under the configured OUs. Each account is then
scanned like a single-account target, through the role `organization.role_name` assumed in it (the account the
credentials belong to is scanned with them directly). Its evidence is recorded under the target name
`<name>/<account>`, so its scopes are `aws/<name>/<account>/...` and a replay or a merge finds each account's
records apart. Accounts run in parallel, `parallel_accounts` at a time, each with its own bounded call pool.

Assumed-role credentials are botocore `RefreshableCredentials`: they are renewed (a new `sts:AssumeRole`)
before they expire, so a scan may outlast `duration_seconds`. An account whose role cannot be assumed, or
whose identity call fails or times out, gets `error`/`denied` coverage for every AWS asset type in its scope
(its checks say `error`, the scan exits 3, the reason is printed per account); the others go on.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from mlps_scan.models import EvidenceRecord, EvidenceStatus
from mlps_scan.plugins import CollectSession

from .target import DENIED_CODES, AwsTarget, default_parallel_accounts
from .partition import GLOBAL_REGION, partition_of_arn

PLAN = "mlps-scan:OrgPlan"
SCOPE = "mlps-scan:ScanScope"


@dataclass
class OrgPlan:
    members: list[str] | None  # accounts to scan, sorted (None: the organisation could not be listed)
    caller_account: str = ""
    partition: str = "aws"
    management_account: str | None = None
    region: str = "us-east-1"  # where the organisation and STS are asked (the partition's global region)
    error: str | None = None
    fetcher: Any = None  # the listing Fetcher: the scanner's session, reused for sts:AssumeRole


# --------------------------------------------------------------------------- listing


def plan(target: AwsTarget, s: CollectSession) -> OrgPlan:
    """The accounts to scan (listed once per session; units() and collect() share it)."""
    with s._lock:
        got = s.state.get("aws.org")
    if got is not None:
        return got
    from .fetch import Fetcher

    org = target.organization
    f = Fetcher(target, s)
    p = OrgPlan(members=None, fetcher=f)
    try:
        f._sessions()
    except Exception as e:  # noqa: BLE001 - a profile or role that cannot be used: say so, as evidence
        p.error = f"cannot open a session: {type(e).__name__}: {e}"[:500]
    if p.error is None:
        ident = f.call("sts", f.default_region, "get_caller_identity")
        if not ident.ok:
            p.error = f"sts:GetCallerIdentity: {ident.error}"
        else:
            p.caller_account = ident.answer.get("Account", "")
            p.partition = partition_of_arn(ident.answer.get("Arn", ""))
    if p.error is None:
        p.region = greg = GLOBAL_REGION.get(p.partition, f.default_region)
        desc = f.call("organizations", greg, "describe_organization")
        if desc.ok:
            p.management_account = ((desc.answer or {}).get("Organization") or {}).get("MasterAccountId")
        else:  # not in an organisation, or not allowed to see it: nothing below can be trusted
            p.error = f"organizations:DescribeOrganization: {desc.error}"
    if p.error is None:
        listed, p.error = _list(f, p.region, org.ous)
        if p.error is None:
            active = sorted(a["Id"] for a in listed if (a.get("State") or a.get("Status")) == "ACTIVE")
            chosen = [a for a in active if org.accounts is None or a in org.accounts]
            p.members = [a for a in chosen if a not in org.exclude_accounts]
            if not p.members:  # scanning nothing must not read as an organisation with nothing wrong
                p.error = (f"no account to scan: {len(active)} active account(s) listed"
                           + (" under the configured OUs" if org.ous else "") + ", none left after accounts/exclude_accounts")
                p.members = None
    missing = [a for a in (org.accounts or []) if p.members is not None and a not in p.members
               and a not in org.exclude_accounts]
    s.record(PLAN, {"caller_account": p.caller_account, "partition": p.partition,
                    "management_account": p.management_account, "members": p.members,
                    "not_in_organization": missing, "excluded": list(org.exclude_accounts), "ous": org.ous,
                    "role_name": org.role_name, "error": p.error}, request={})
    with s._lock:
        s.state.setdefault("aws.org", p)
        return s.state["aws.org"]


def _list(f, region: str, ous: list[str] | None) -> tuple[list[dict], str | None]:
    """Every account of the organisation, or of the OU subtrees named."""
    if not ous:
        rec = f.call("organizations", region, "list_accounts", {}, paginate=True)
        return ((rec.answer or {}).get("Accounts", []), None) if rec.ok else ([], f"organizations:ListAccounts: {rec.error}")
    out: dict[str, dict] = {}
    todo, seen = list(ous), set()
    while todo:
        parent = todo.pop(0)
        if parent in seen:
            continue
        seen.add(parent)
        rec = f.call("organizations", region, "list_accounts_for_parent", {"ParentId": parent}, paginate=True)
        if not rec.ok:
            return [], f"organizations:ListAccountsForParent {parent}: {rec.error}"
        for a in (rec.answer or {}).get("Accounts", []):
            out[a["Id"]] = a
        sub = f.call("organizations", region, "list_organizational_units_for_parent", {"ParentId": parent}, paginate=True)
        if not sub.ok:
            return [], f"organizations:ListOrganizationalUnitsForParent {parent}: {sub.error}"
        todo += [ou["Id"] for ou in (sub.answer or {}).get("OrganizationalUnits", [])]
    return list(out.values()), None


# --------------------------------------------------------------------------- credentials


class AssumeFailed(Exception):
    pass


def refresh_windows(duration: int) -> tuple[int, int]:
    """(advisory, mandatory) seconds before expiry at which botocore renews the credentials: its defaults
    (15 and 10 minutes) for an hour or more, proportionally less for short sessions, so a 15-minute session
    is not renewed on every call."""
    return min(15 * 60, duration // 4), min(10 * 60, duration // 6)


def member_session(f, account: str, target: AwsTarget, ms: CollectSession, partition: str, region: str):
    """A boto3 session in `account` through the organisation role, with credentials renewed before they
    expire. The first AssumeRole is made now (a denied role fails here) and recorded, without credentials."""
    from botocore.credentials import RefreshableCredentials
    from botocore.exceptions import BotoCoreError, ClientError

    org = target.organization
    role_arn = f"arn:{partition}:iam::{account}:role/{org.role_name}"
    kw: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": org.session_name, "DurationSeconds": org.duration_seconds}
    if org.external_id:
        kw["ExternalId"] = org.external_id
    request = {"region": region, "params": {k: (True if k == "ExternalId" else v) for k, v in kw.items()}}
    sts = f.client("sts", region)

    def fetch() -> dict:
        c = sts.assume_role(**kw)["Credentials"]
        exp = c["Expiration"]
        exp = exp if isinstance(exp, datetime) else datetime.fromisoformat(str(exp).replace("Z", "+00:00"))
        return {"access_key": c["AccessKeyId"], "secret_key": c["SecretAccessKey"], "token": c["SessionToken"],
                "expiry_time": exp.astimezone(timezone.utc).isoformat()}

    try:
        first = fetch()
    except ClientError as e:
        err = e.response.get("Error", {}) or {}
        code = str(err.get("Code") or "")
        http = (e.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        status = EvidenceStatus.denied if (code in DENIED_CODES or http == 403) else EvidenceStatus.error
        msg = f"{code or 'HTTP ' + str(http)}: {err.get('Message') or e}"[:500]
        ms.record("sts:AssumeRole", request=request, status=status, error=msg)
        raise AssumeFailed(f"sts:AssumeRole {role_arn}: {msg}") from None
    except (BotoCoreError, OSError, ValueError, KeyError, TypeError) as e:  # incl. an answer without credentials
        msg = f"{type(e).__name__}: {e}"[:500]
        ms.record("sts:AssumeRole", request=request, status=EvidenceStatus.error, error=msg)
        raise AssumeFailed(f"sts:AssumeRole {role_arn}: {msg}") from None
    ms.record("sts:AssumeRole", {"RoleArn": role_arn, "Expiration": first["expiry_time"],
                                 "RefreshedBeforeExpiry": True}, request=request)
    creds = RefreshableCredentials.create_from_metadata(metadata=first, refresh_using=fetch, method="sts-assume-role")
    creds._advisory_refresh_timeout, creds._mandatory_refresh_timeout = refresh_windows(org.duration_seconds)
    return _session_with(creds)


def own_session(f):
    """A session of the scanner's own account with the scanner's credentials but events of its own (the
    call counter of one account must not count another's calls)."""
    return _session_with(f.boto.get_credentials())


_LOADER = None
_LOADER_LOCK = threading.Lock()


def _shared_loader(data_path: str | None):
    """One botocore data loader for every account's session: each service model (EC2's alone is megabytes of
    JSON) is parsed once per scan, not once per account, and not once per account *at the same time* either
    (accounts start together and would all miss the cache at once), so memory stays flat however many
    accounts run in parallel."""
    import os

    import botocore.loaders

    class Loader(botocore.loaders.Loader):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self._parse_lock = threading.RLock()

        def load_service_model(self, *a, **kw):
            with self._parse_lock:
                return super().load_service_model(*a, **kw)

        def load_data_with_path(self, *a, **kw):
            with self._parse_lock:
                return super().load_data_with_path(*a, **kw)

    # the paths botocore's own session would search (AWS_DATA_PATH, ~/.aws/models)
    extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)] if data_path else None
    return Loader(extra_search_paths=extra) if extra else Loader()


def _session_with(credentials):
    """A boto3 session holding `credentials`, sharing one data loader with every other account's session."""
    import boto3
    import botocore.session
    global _LOADER
    bs = botocore.session.Session()
    with _LOADER_LOCK:
        if _LOADER is None:
            _LOADER = _shared_loader(bs.get_config_variable("data_path"))
    bs.register_component("data_loader", _LOADER)
    bs._credentials = credentials  # botocore's documented-by-use way to hand a session its credential object
    return boto3.session.Session(botocore_session=bs)


# --------------------------------------------------------------------------- the scan


def collect_organization(coll, target: AwsTarget, s: CollectSession) -> None:
    from .fetch import Fetcher

    p = plan(target, s)
    f = p.fetcher
    key = coll.target_key(target)
    members = p.members or []
    regions = target.regions

    def account_units(a: str) -> list[str]:
        return [f"{key}/{a}/{r}" for r in regions] if regions else [f"{key}/{a}"]

    todo = [a for a in members if any(s.wants(u) for u in account_units(a))]
    s.progress(f"organisation: {len(members)} account(s) listed, {len(todo)} to scan here")

    def one(account: str) -> None:
        ms = s.sub(f"{target.name}/{account}")
        ms.progress("collecting")
        t = target.model_copy(update={"organization": None, "role_arn": None, "external_id": None, "profile": None,
                                      "parallel_accounts": None})
        account_level, planned = True, None
        if regions and s.units is not None:
            t = t.model_copy(update={"regions": [r for r in regions if s.wants(f"{key}/{account}/{r}")]})
            account_level, planned = s.wants(f"{key}/{account}/{regions[0]}"), list(regions)
        try:
            boto = (own_session(f) if account == p.caller_account
                    else member_session(f, account, target, ms, p.partition, p.region))
            Fetcher(t, ms, boto_session=boto, account_level=account_level, planned_regions=planned).run()
        except AssumeFailed:
            pass  # recorded: the account's scope says why
        except Exception as e:  # noqa: BLE001 - one account's failure costs only that account
            ms.record("mlps-scan:AccountFailed", status=EvidenceStatus.error, error=f"{type(e).__name__}: {e}"[:500])
        derive_records(ms.records(), ms)
        ms.progress("done")

    workers = target.parallel_accounts or default_parallel_accounts()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo) or 1)), thread_name_prefix="aws-account") as pool:
        for fut in [pool.submit(one, a) for a in todo]:
            fut.result()
    s.record("mlps-scan:ApiCalls", {"calls": dict(sorted(f.calls.items())), "total": sum(f.calls.values())},
             request={"organization": True})
    derive_records(s.records(), s)


# --------------------------------------------------------------------------- records -> assets


class _PartOfAccount:
    """A session view for a shard that holds some regions of an account but not its account-wide part:
    what derive would say about that part (missing IAM and S3 answers) is left to the shard that has it."""

    def __init__(self, s: CollectSession, account_scope: str):
        self._s, self._scope = s, account_scope

    def asset(self, type: str, id: str, *, scope: str, **kw):
        if scope != self._scope:
            return self._s.asset(type, id, scope=scope, **kw)
        return None

    def coverage(self, asset_type: str, scope: str, *a, **kw) -> None:
        if scope != self._scope or asset_type == "aws.*":
            self._s.coverage(asset_type, scope, *a, **kw)

    def __getattr__(self, name: str):
        return getattr(self._s, name)


def derive_records(records: list[EvidenceRecord], s: CollectSession) -> None:
    """Assets and coverage from recorded AWS evidence: per evidence target (one account, an organisation's
    account `<name>/<account>`, or an organisation's listing)."""
    from .derive import derive

    groups: dict[str, list[EvidenceRecord]] = {}
    for r in records:
        if r.collector == "aws":
            groups.setdefault(r.target, []).append(r)
    for tgt, recs in groups.items():
        if any(r.source == PLAN for r in recs):
            _derive_plan(tgt, recs, s)
            continue
        name, _, account = tgt.partition("/")
        if account:  # an organisation's account: its scopes are aws/<name>/<account>/...
            recs = [r.model_copy(update={"target": name}) for r in recs]
        scope = next((r for r in recs if r.source == SCOPE and r.status == EvidenceStatus.ok), None)
        if scope is None and account:
            _account_failed(name, account, recs, s)
            continue
        if scope is not None and (scope.answer or {}).get("account_level") is False:
            derive(recs, _PartOfAccount(s, f"aws/{name}/{scope.answer['account_id']}"))
        else:
            derive(recs, s)


def _account_failed(name: str, account: str, recs: list[EvidenceRecord], s: CollectSession) -> None:
    bad = [r for r in recs if r.status in (EvidenceStatus.denied, EvidenceStatus.error)]
    first = next((r for r in bad if r.source == "sts:AssumeRole"), None) or (bad[0] if bad else None)
    if first is None:
        why, status = "no evidence of the account was recorded", EvidenceStatus.error
    else:
        what = "the role cannot be assumed" if first.source == "sts:AssumeRole" else "the account could not be read"
        why, status = f"{what}: {first.source}: {first.error or first.status.value}", first.status
    s.coverage("aws.*", f"aws/{name}/{account}", status, why, [r.id for r in bad][:20])


def _derive_plan(tgt: str, recs: list[EvidenceRecord], s: CollectSession) -> None:
    """The organisation's listing: a failure, or accounts the config names that are not active members,
    are missing evidence (error), never an empty, compliant organisation."""
    for r in (r for r in recs if r.source == PLAN):
        a = r.answer or {}
        if a.get("error"):
            bad = [x.id for x in recs if x.status in (EvidenceStatus.denied, EvidenceStatus.error)]
            status = next((x.status for x in recs if x.status == EvidenceStatus.denied), EvidenceStatus.error)
            s.coverage("aws.*", f"aws/{tgt}", status, f"the organisation's accounts could not be listed: {a['error']}",
                       [r.id, *bad][:20])
        for acct in a.get("not_in_organization") or []:
            s.coverage("aws.*", f"aws/{tgt}/{acct}", EvidenceStatus.error,
                       f"account {acct} is named in organization.accounts but is not an active account of the "
                       "organisation (under the configured OUs): not scanned", [r.id])


def merge_derive(shards: list[list[EvidenceRecord]], s: CollectSession) -> None:
    """One evidence target's records from several shards: one account's regions scanned apart get one scope
    record (the union of their regions, recorded by the merge, citing the shards' own), then are derived
    together, as one scan of the account would be."""
    by_id = {r.id: r for recs in shards for r in recs}
    recs = sorted(by_id.values(), key=lambda r: r.id)
    scopes = [r for r in recs if r.source == SCOPE and r.status == EvidenceStatus.ok]
    accounts = {(r.answer or {}).get("account_id") for r in scopes}
    if len(scopes) < 2:
        return derive_records(recs, s)
    if len(accounts) != 1:  # shards reached different accounts under one target name: keep them apart
        for part in shards:
            derive_records(part, s)
        return
    answers = [r.answer for r in scopes]
    planned = next((a["planned_regions"] for a in answers if a.get("planned_regions")), [])
    have = [x for a in answers for x in a.get("regions", [])]
    regions = [x for x in planned if x in have] + sorted(set(have) - set(planned))
    base = next((a for a in answers if a.get("account_level", True)), answers[0])
    combined = {**base, "regions": regions, "account_level": any(a.get("account_level", True) for a in answers),
                "planned_regions": planned or regions}
    rec = s.record(SCOPE, combined, request={"combined_from": [r.id for r in scopes]})
    from mlps_scan.evidence import EvidenceStore
    merged_scope = EvidenceStore(s.recorder.root).get(rec.id)
    derive_records([r for r in recs if r.source != SCOPE] + [merged_scope], s)
