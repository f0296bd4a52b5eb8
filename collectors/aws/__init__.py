"""AWS collector (boto3): one account per target, global partition (`aws`) or China (`aws-cn`).

`collect()` only fetches and records: every API answer (all pages merged) becomes one evidence record with
source `<service>:<Operation>` and request `{"region": ..., "params": ...}`. The assets and coverage are then
built by `derive()` from those recorded (redacted) answers alone, so a bundle's evidence replays offline into
the same inventory (static `format: evidence`).

Speed: every list call is paginated, the calls of all regions x services run in one bounded thread pool
(follow-up calls such as per-trail status are queued as they become known), botocore's adaptive retry mode
handles throttling, and no per-resource call is made where a list call already answers. A `before-call` hook
on the collector's own boto3 session counts every API call (`session.count_call`) and records which
operations were called (evidence source `mlps-scan:ApiCalls`): the read-only policy test reads it.
"""
from __future__ import annotations

from pathlib import Path

from mlps_scan.errors import InputError
from mlps_scan.plugins import CollectSession, Collector

from .architecture import describe
from .fetch import Fetcher
from .partition import partition_of_arn, partition_of_region
from .target import ACTION_OVERRIDES, DENIED_CODES, AwsTarget

__all__ = ["ACTION_OVERRIDES", "DENIED_CODES", "AwsCollector", "AwsTarget"]


class AwsCollector(Collector):
    name = "aws"
    config_key = "aws"
    target_model = AwsTarget
    description = "AWS accounts (global and China partition) through boto3, read-only"
    asset_patterns = ("aws.*",)
    extensions = ("cloud",)  # an AWS account makes the system a cloud service customer (云计算扩展要求)
    # the questionnaire reads cloud first; in its hosts section, scanned machines come before EC2 instances
    architecture_order = {"*": 10, "hosts": 20}

    def target_name(self, target: AwsTarget) -> str:
        return target.name

    def validate_target(self, target: AwsTarget, base_dir: Path) -> None:
        if target.parallel_accounts and not target.organization:
            raise InputError(f"aws target {target.name}: parallel_accounts needs organization")
        if target.external_id and not target.role_arn:
            raise InputError(f"aws target {target.name}: external_id needs role_arn")
        if target.regions:
            parts = {partition_of_region(r) for r in target.regions}
            if len(parts) > 1:
                raise InputError(f"aws target {target.name}: regions mix partitions ({', '.join(sorted(parts))}); "
                                 "one target scans one partition")
            if target.role_arn and partition_of_arn(target.role_arn) not in parts:
                raise InputError(f"aws target {target.name}: role_arn is in partition "
                                 f"{partition_of_arn(target.role_arn)} but regions are in {parts.pop()}")
        if target.profile:
            import boto3
            if target.profile not in boto3.session.Session().available_profiles:
                raise InputError(f"aws target {target.name}: profile {target.profile!r} not found in the AWS config files")

    def units(self, target: AwsTarget, session: CollectSession) -> list[str]:
        """Account x region: `aws/<name>/<region>` (one account), `aws/<name>/<account>/<region>` (an
        organisation's accounts, listed once and kept for collect()); without `regions`, one unit per account
        (its enabled regions are found when it is scanned). The account-wide part (IAM, S3) goes with the
        account's first region."""
        key = self.target_key(target)
        if target.organization is None:
            return [f"{key}/{r}" for r in target.regions] if target.regions else [key]
        from .org import plan
        members = plan(target, session).members
        if members is None:  # the organisation could not be listed: one unit, whose scan says why
            return [key]
        return [u for a in members for u in ([f"{key}/{a}/{r}" for r in target.regions] if target.regions
                                             else [f"{key}/{a}"])]

    def collect(self, target: AwsTarget, session: CollectSession) -> None:
        if target.organization is not None:
            from .org import collect_organization
            return collect_organization(self, target, session)
        session.keep_records = True  # derive() reads every record at once: no need to read them back from disk
        # and they are written once the account's calls are done (records() below), by one thread: the 15k small
        # files of a large account, written by the worker threads as they went, cost ~15 % of the scan's CPU
        session.defer_writes = True
        t, account_level, planned = target, True, None
        if session.units is not None and target.regions:  # a shard's regions of the account
            key = self.target_key(target)
            t = target.model_copy(update={"regions": [r for r in target.regions if f"{key}/{r}" in session.units]})
            account_level, planned = f"{key}/{target.regions[0]}" in session.units, list(target.regions)
        Fetcher(t, session, account_level=account_level, planned_regions=planned).run()
        self.derive(session.records(), session)  # one code path: assets come from the recorded evidence

    def derive(self, records, session: CollectSession) -> None:
        from .org import derive_records
        derive_records(records, session)

    def merge_derive(self, shards, session: CollectSession) -> None:
        """The shards' records of one account are derived together: facts that span its regions (a trail's
        bucket, the account's region list) come out as in one scan."""
        from .org import merge_derive
        merge_derive(shards, session)

    def architecture(self, assets):
        return describe(assets)

