"""Fetching: every read-only call the AWS collector makes, recorded as evidence (pages merged).

One bounded pool runs all tasks: `max_workers` threads pull them from one queue, and a task may return
follow-up tasks (per-trail status, per-bucket settings), which go on the same queue at once, so nothing waits
on a nested pool and a completion costs the same however many tasks wait. Each client's HTTP connection pool
holds a connection per worker, so connections are reused rather than opened per call. A task never raises:
a failed call is recorded with status `denied` or `error` and the assets/coverage built from it say so.
"""
from __future__ import annotations

import csv
import io
import queue
import re
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any, Callable

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from .shapes import register as validate_answers
from .target import ACTION_OVERRIDES, DENIED_CODES, AwsTarget
from .partition import GLOBAL_REGION, offered, partition_of_arn, partition_of_region, share_model_loader

Task = Callable[[], "list[Task] | None"]

# "not configured" answers: recorded as ok with {"Absent": code}; the asset attribute becomes null
ABSENT = {
    "GetAccountPasswordPolicy": {"NoSuchEntity"},
    "GetBucketEncryption": {"ServerSideEncryptionConfigurationNotFoundError"},
    "GetPublicAccessBlock": {"NoSuchPublicAccessBlockConfiguration"},
    "GetBucketPolicy": {"NoSuchBucketPolicy"},
    "GetBucketReplication": {"ReplicationConfigurationNotFoundError"},
    # no Session Manager preferences saved in the region (the console creates this document on first save)
    "GetDocument": {"InvalidDocument"},
    # "Account ... is not subscribed to AWS Security Hub": Security Hub is off in the region
    "DescribeHub": {"InvalidAccessException"},
}

# regional list calls: (service, method, params, paginate)
SESSION_PREFERENCES = "SSM-SessionManagerRunShell"
# per-resource calls that take a list of ids: at most this many ids per call
PATCH_STATE_BATCH = 50  # ssm:DescribeInstancePatchStates (InstanceIds: 1-50)
IMAGE_BATCH = 200  # ec2:DescribeImages image-id filter values

REGIONAL: list[tuple[str, str, dict, bool]] = [
    ("ec2", "describe_vpcs", {}, True),
    ("ec2", "describe_subnets", {}, True),
    ("ec2", "describe_route_tables", {}, True),
    ("ec2", "describe_internet_gateways", {}, True),
    ("ec2", "describe_security_groups", {}, True),
    ("ec2", "describe_network_acls", {}, True),
    ("ec2", "describe_flow_logs", {}, True),
    ("ec2", "describe_network_interfaces", {}, True),
    ("ec2", "describe_volumes", {}, True),
    ("ec2", "describe_snapshots", {"OwnerIds": ["self"]}, True),
    ("ec2", "get_ebs_encryption_by_default", {}, False),
    ("logs", "describe_log_groups", {}, True),
    ("config", "describe_configuration_recorders", {}, False),
    ("config", "describe_configuration_recorder_status", {}, False),
    ("rds", "describe_db_instances", {}, True),
    ("acm", "list_certificates", {}, True),
    # alerting: metric filters on log groups (CloudTrail's), alarms, who the SNS topics reach
    ("logs", "describe_metric_filters", {}, True),
    ("cloudwatch", "describe_alarms", {}, True),
    ("sns", "list_subscriptions", {}, True),
    # DNS query logging of VPCs (what internal hosts look up on the internet)
    ("route53resolver", "list_resolver_query_log_config_associations", {}, True),
    ("securityhub", "describe_hub", {}, False),
    # Session Manager preferences: whether administrators' sessions are logged
    ("ssm", "get_document", {"Name": SESSION_PREFERENCES}, False),
]


PUBLIC_SNAPSHOTS = {"OwnerIds": ["self"], "RestorableByUserIds": ["all"]}


# largest page each paginated list call accepts (fewer round trips than the defaults, e.g. IAM's 100)
PAGE_SIZE = {
    "GetAccountAuthorizationDetails": 1000, "ListVirtualMFADevices": 1000, "ListAccessKeys": 1000,
    "ListKeys": 1000, "DescribeLogGroups": 50, "DescribeDBInstances": 100, "DescribeLoadBalancers": 400,
    "DescribeListeners": 400, "ListDetectors": 50, "ListCertificates": 1000, "ListBuckets": 10000,
    "DescribeMetricFilters": 50, "DescribeAlarms": 100, "ListResolverQueryLogConfigAssociations": 100,
    "DescribeInstanceInformation": 50, "DescribeInstancePatchStates": 50, "ListRules": 100, "ListTargetsByRule": 100,
    "ListBackupPlans": 1000, "ListBackupSelections": 1000,
}


class Fetcher:
    def __init__(self, target: AwsTarget, s: CollectSession, *, boto_session=None, account_level: bool = True,
                 planned_regions: list[str] | None = None):
        self.t = target
        self.s = s
        # an organisation member's session (assumed role, refreshed by the org code); else built from the target
        self._given = boto_session
        # a shard holding only some regions of an account leaves the account-wide part (IAM, S3) to another
        self.account_level = account_level
        self.planned_regions = planned_regions
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._client_lock = threading.Lock()  # creating a client takes ~0.1 s: not under the call counter's lock
        self.calls: Counter[str] = Counter()
        self.partition = "aws"
        self.account = ""

    # ------------------------------------------------------------------ sessions and clients

    def _sessions(self):
        import boto3
        from botocore.config import Config

        from mlps_scan import httpheaders
        httpheaders.install()  # plain header blocks without the e-mail parser (~8 % of the CPU at scale)

        # adaptive client-side rate limiting; max_attempts is left to the environment/profile (AWS_MAX_ATTEMPTS).
        # At most max_workers calls run at once, and each client (service, region) keeps that many connections
        # alive: every call after the first few reuses one (tcp_keepalive keeps idle ones from being dropped)
        self.config = Config(retries={"mode": "adaptive"}, max_pool_connections=self.t.max_workers,
                             connect_timeout=min(10, self.t.timeout_seconds),
                             read_timeout=self.t.timeout_seconds, tcp_keepalive=True)
        first = self.t.regions[0] if self.t.regions else None
        base = self._given or (boto3.session.Session(profile_name=self.t.profile) if self.t.profile
                               else boto3.session.Session())
        if self._given is None:  # (an organisation member's session shares org.py's loader already)
            share_model_loader(base)
        if self._given is not None:
            self.boto = base
        elif self.t.role_arn:
            part = partition_of_arn(self.t.role_arn)
            region = first or GLOBAL_REGION.get(part, "us-east-1")
            sts = base.client("sts", region_name=region, config=self.config, **self._ep())
            kw = {"RoleArn": self.t.role_arn, "RoleSessionName": "mlps-scan"}
            if self.t.external_id:
                kw["ExternalId"] = self.t.external_id
            cred = sts.assume_role(**kw)["Credentials"]
            self.boto = boto3.session.Session(aws_access_key_id=cred["AccessKeyId"],
                                              aws_secret_access_key=cred["SecretAccessKey"],
                                              aws_session_token=cred["SessionToken"])
            share_model_loader(self.boto)
        else:
            self.boto = base
        self.default_region = first or base.region_name or "us-east-1"
        # ISO 8601 timestamps (every XML answer carries several per resource) parsed by the standard library:
        # the same datetimes as botocore's dateutil-based parser, ~300x cheaper
        self.boto._session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=fast_timestamp)
        # the hook sees every API call of this session (all pages, all services), and only this session's
        self.boto.events.register("before-call", self._on_call)
        self.boto.events.register("before-send.s3-control", _ip_endpoint_without_account_prefix)
        validate_answers(self.boto)  # an answer that is not an answer (empty, garbage, wrong shape) fails the call

    def _ep(self) -> dict:
        return {"endpoint_url": self.t.endpoint_url} if self.t.endpoint_url else {}

    def _on_call(self, model=None, **kw) -> None:
        sm = model.service_model
        prefix = sm.signing_name or sm.endpoint_prefix
        action = f"{prefix}:{model.name}"
        # keyed by service name first: s3control signs as `s3` and shares operation names with s3
        action = ACTION_OVERRIDES.get(f"{sm.service_name}:{model.name}") or ACTION_OVERRIDES.get(action, action)
        with self._lock:
            self.calls[action] += 1
        self.s.count_call()

    def client(self, service: str, region: str):
        key = (service, region)
        c = self._clients.get(key)
        if c is not None:
            return c
        with self._client_lock:
            c = self._clients.get(key)
            if c is None:
                c = self._clients[key] = self.boto.client(service, region_name=region, config=self.config, **self._ep())
            return c

    # ------------------------------------------------------------------ one recorded call

    def call(self, service: str, region: str, method: str, params: dict | None = None, *, paginate: bool = False):
        from botocore.exceptions import BotoCoreError, ClientError
        params = params or {}
        c = self.client(service, region)
        op = c.meta.method_to_api_mapping[method]
        source = f"{service}:{op}"
        request = {"region": region, "params": params}
        try:
            if paginate and c.can_paginate(method):
                cfg = {"PageSize": PAGE_SIZE[op]} if op in PAGE_SIZE else {}
                if cfg:
                    request["page_size"] = cfg["PageSize"]
                ans = c.get_paginator(method).paginate(**params, PaginationConfig=cfg).build_full_result()
            else:
                ans = getattr(c, method)(**params)
            ans.pop("ResponseMetadata", None)
            return self.s.record(source, ans, request=request)
        except ClientError as e:
            err = e.response.get("Error", {}) or {}
            code = str(err.get("Code") or "")
            http = (e.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
            if code in ABSENT.get(op, ()):
                return self.s.record(source, {"Absent": code}, request=request)
            status = EvidenceStatus.denied if (code in DENIED_CODES or http == 403) else EvidenceStatus.error
            return self.s.record(source, request=request, status=status,
                                 error=f"{code or 'HTTP ' + str(http)}: {err.get('Message') or e}"[:500])
        except (BotoCoreError, ValueError, KeyError, OSError) as e:
            return self.s.record(source, request=request, status=EvidenceStatus.error,
                                 error=f"{type(e).__name__}: {e}"[:500])
        except Exception as e:  # noqa: BLE001 - botocore choking on a hostile answer costs this call only
            return self.s.record(source, request=request, status=EvidenceStatus.error,
                                 error=f"unreadable answer: {type(e).__name__}: {e}"[:500])

    def marker_pages(self, service: str, region: str, method: str, params: dict, items: str) -> list | None:
        """Follow `NextMarker` for the list calls botocore has no paginator for (WAFv2): one record per page,
        each asked with the marker in its params; the items of every page, or None when a page failed."""
        got: list = []
        seen: set[str] = set()
        while True:
            rec = self.call(service, region, method, params)
            if not rec.ok:
                return None
            page = rec.answer.get(items) or []
            got += page
            marker = rec.answer.get("NextMarker")
            if not marker or not page:
                return got
            params = {**params, "NextMarker": marker}
            if marker in seen:  # a service that hands the same marker back would page for ever: stop, say so
                self.s.record(f"{service}:{_op_name(service, method)}", request={"region": region, "params": params},
                              status=EvidenceStatus.error, error=f"NextMarker {marker[:40]!r} repeated: the list is incomplete")
                return None
            seen.add(marker)

    def not_offered(self, service: str, region: str, method: str) -> None:
        op = _op_name(service, method)
        # no client is made: the service has no endpoint there
        self.s.record(f"{service}:{op}", request={"region": region, "params": {}}, status=EvidenceStatus.not_available,
                      error=f"{service} is not offered in {region} ({self.partition} partition)")

    # ------------------------------------------------------------------ the scan

    def run(self) -> None:
        self._sessions()
        ident = self.call("sts", self.default_region, "get_caller_identity")
        if not ident.ok:
            raise RuntimeError(f"sts:GetCallerIdentity failed: {ident.error}")
        self.partition = partition_of_arn(ident.answer.get("Arn", ""))
        self.account = ident.answer.get("Account", "")
        gregion = GLOBAL_REGION.get(self.partition, self.default_region)
        if self.t.regions:
            regions, source = list(self.t.regions), "config"
        else:
            rec = self.call("ec2", gregion, "describe_regions", {})
            if not rec.ok:
                raise RuntimeError(f"cannot list enabled regions (ec2:DescribeRegions): {rec.error}")
            regions = sorted(r["RegionName"] for r in rec.answer.get("Regions", [])
                             if partition_of_region(r["RegionName"]) == self.partition)
            source = "ec2:DescribeRegions"
        bad = [r for r in regions if partition_of_region(r) != self.partition]
        if bad:
            raise RuntimeError(f"regions {bad} are not in the account's partition {self.partition}")
        scope = {"account_id": self.account, "partition": self.partition, "regions": regions,
                 "regions_source": source, "global_region": gregion}
        if not self.account_level or self.planned_regions:  # a shard's part of the account
            scope.update(account_level=self.account_level, planned_regions=self.planned_regions or regions)
        self.s.record("mlps-scan:ScanScope", scope, request={})
        self.s.progress(f"account {self.account} ({self.partition}), {len(regions)} region(s)")
        tasks: list[Callable] = [self._iam(gregion), self._s3(gregion)] if self.account_level else []
        for r in regions:
            for svc, method, params, pag in REGIONAL:
                tasks.append(self._simple(svc, r, method, params, pag))
            tasks += [self._cloudtrail(r), self._guardduty(r), self._kms(r), self._elbv2(r), self._public_snapshots(r),
                      self._instances(r), self._ssm(r), self._events(r), self._backup(r)]
        self._run_pool(tasks)
        self.s.record("mlps-scan:ApiCalls", {"calls": dict(sorted(self.calls.items())),
                                             "total": sum(self.calls.values())}, request={})

    def _run_pool(self, tasks: list[Callable]) -> None:
        """Run the tasks and all their follow-ups on `max_workers` threads pulling from one queue. The count
        of unfinished tasks is the only shared state, so a completion costs O(1) whatever is pending."""
        if not tasks:
            return
        work: queue.SimpleQueue = queue.SimpleQueue()
        for t in tasks:
            work.put(t)
        unfinished = len(tasks)
        lock = threading.Lock()
        n = self.t.max_workers  # follow-ups keep idle workers busy later, whatever the first count is

        def worker() -> None:
            nonlocal unfinished
            while True:
                task = work.get()
                if task is None:
                    return
                follow = list(self._guard(task) or [])
                with lock:
                    for f in follow:
                        work.put(f)
                    unfinished += len(follow) - 1
                    last = unfinished == 0
                if last:
                    for _ in range(n):
                        work.put(None)

        threads = [threading.Thread(target=worker, name=f"aws-{i}", daemon=True) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()

    def _guard(self, task: Callable):
        try:
            return task()
        except Exception as e:  # noqa: BLE001 - a bug in one task costs only its evidence
            self.s.record(f"mlps-scan:task-failed:{getattr(task, '__qualname__', 'task')}", status=EvidenceStatus.error,
                          error=f"{type(e).__name__}: {e}"[:500])
            return None

    def _offered(self, service: str, region: str, method: str) -> bool:
        if offered(service, region, self.partition):
            return True
        self.not_offered(service, region, method)
        return False

    # ------------------------------------------------------------------ tasks

    def _simple(self, svc: str, region: str, method: str, params: dict, paginate: bool) -> Callable:
        def task():
            if self._offered(svc, region, method):
                self.call(svc, region, method, params, paginate=paginate)
        task.__qualname__ = f"{svc}.{method}@{region}"
        return task

    def _cloudtrail(self, region: str) -> Callable:
        def task():
            if not self._offered("cloudtrail", region, "describe_trails"):
                return None
            rec = self.call("cloudtrail", region, "describe_trails", {"includeShadowTrails": False})
            if not rec.ok:
                return None
            out = []
            for tr in rec.answer.get("trailList", []):
                arn = tr.get("TrailARN")
                if arn:
                    out.append(lambda a=arn: self.call("cloudtrail", region, "get_trail_status", {"Name": a}) and None)
                    out.append(lambda a=arn: self.call("cloudtrail", region, "get_event_selectors", {"TrailName": a}) and None)
            return out
        return task

    def _instances(self, region: str) -> Callable:
        """The instances, then the images they run (one DescribeImages per 200 distinct image ids, by filter so
        an image that no longer exists is left out of the answer instead of failing the call)."""
        def task():
            if not self._offered("ec2", region, "describe_instances"):
                return None
            rec = self.call("ec2", region, "describe_instances", {}, paginate=True)
            if not rec.ok:
                return None
            ids = image_ids(rec.answer)
            return [lambda batch=ids[i:i + IMAGE_BATCH]: self.call(
                "ec2", region, "describe_images", images_params(batch), paginate=True) and None
                for i in range(0, len(ids), IMAGE_BATCH)]
        return task

    def _ssm(self, region: str) -> Callable:
        """Systems Manager managed instances, then their patch state (50 instances per call)."""
        def task():
            if not self._offered("ssm", region, "describe_instance_information"):
                return None
            rec = self.call("ssm", region, "describe_instance_information", {}, paginate=True)
            if not rec.ok:
                return None
            ids = sorted(x["InstanceId"] for x in rec.answer.get("InstanceInformationList", []) if x.get("InstanceId"))
            return [lambda batch=ids[i:i + PATCH_STATE_BATCH]: self.call(
                "ssm", region, "describe_instance_patch_states", {"InstanceIds": batch}, paginate=True) and None
                for i in range(0, len(ids), PATCH_STATE_BATCH)]
        return task

    def _events(self, region: str) -> Callable:
        """EventBridge rules of the default bus, and the targets of those that route security events
        (GuardDuty/Security Hub findings, EC2 launches) somewhere: the others are not asked about."""
        def task():
            if not self._offered("events", region, "list_rules"):
                return None
            rec = self.call("events", region, "list_rules", {}, paginate=True)
            if not rec.ok:
                return None
            return [lambda name=rule["Name"]: self.call("events", region, "list_targets_by_rule", {"Rule": name},
                                                        paginate=True) and None
                    for rule in rec.answer.get("Rules", []) if rule.get("Name") and watched_rule(rule)]
        return task

    def _backup(self, region: str) -> Callable:
        """AWS Backup plans, each plan's rules (schedule, copies to other regions) and its selections."""
        def task():
            if not self._offered("backup", region, "list_backup_plans"):
                return None
            rec = self.call("backup", region, "list_backup_plans", {}, paginate=True)
            if not rec.ok:
                return None
            out = []
            for plan in rec.answer.get("BackupPlansList", []):
                pid = plan.get("BackupPlanId")
                if pid:
                    out.append(lambda p=pid: self.call("backup", region, "get_backup_plan", {"BackupPlanId": p}) and None)
                    out.append(lambda p=pid: self.call("backup", region, "list_backup_selections", {"BackupPlanId": p},
                                                       paginate=True) and None)
            return out
        return task

    def _public_snapshots(self, region: str) -> Callable:
        """One list call finds the publicly restorable snapshots (RestorableByUserIds=all); each candidate is
        confirmed with its createVolumePermission attribute (a handful in practice; moto ignores the filter,
        so there it confirms every snapshot)."""
        def task():
            if not self._offered("ec2", region, "describe_snapshots"):
                return None
            rec = self.call("ec2", region, "describe_snapshots", PUBLIC_SNAPSHOTS, paginate=True)
            if not rec.ok:
                return None
            return [lambda sid=x["SnapshotId"]: self.call("ec2", region, "describe_snapshot_attribute",
                                                          {"SnapshotId": sid, "Attribute": "createVolumePermission"}) and None
                    for x in rec.answer.get("Snapshots", [])]
        return task

    def _guardduty(self, region: str) -> Callable:
        def task():
            if not self._offered("guardduty", region, "list_detectors"):
                return None
            rec = self.call("guardduty", region, "list_detectors", {}, paginate=True)
            if not rec.ok:
                return None
            return [lambda d=d: self.call("guardduty", region, "get_detector", {"DetectorId": d}) and None
                    for d in rec.answer.get("DetectorIds", [])]
        return task

    def _kms(self, region: str) -> Callable:
        def describe(key_id: str):
            rec = self.call("kms", region, "describe_key", {"KeyId": key_id})
            meta = (rec.answer or {}).get("KeyMetadata", {}) if rec.ok else {}
            if meta.get("KeyManager") == "CUSTOMER" and meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" \
                    and meta.get("KeyState") not in ("PendingDeletion", "PendingReplicaDeletion"):
                self.call("kms", region, "get_key_rotation_status", {"KeyId": key_id})

        def task():
            if not self._offered("kms", region, "list_keys"):
                return None
            rec = self.call("kms", region, "list_keys", {}, paginate=True)
            if not rec.ok:
                return None
            return [lambda k=k["KeyId"]: describe(k) for k in rec.answer.get("Keys", [])]
        return task

    def _elbv2(self, region: str) -> Callable:
        def task():
            lbs: list[dict] = []
            if self._offered("elbv2", region, "describe_load_balancers"):
                rec = self.call("elbv2", region, "describe_load_balancers", {}, paginate=True)
                lbs = rec.answer.get("LoadBalancers", []) if rec.ok else []
            public_albs = [lb["LoadBalancerArn"] for lb in lbs
                           if lb.get("Type") == "application" and lb.get("Scheme") == "internet-facing"]
            return [lambda a=lb["LoadBalancerArn"]: self.call("elbv2", region, "describe_listeners",
                                                               {"LoadBalancerArn": a}, paginate=True) and None
                    for lb in lbs if lb.get("Type", "application") != "gateway"] + [lambda: self._wafv2(region, public_albs)]
        return task

    def _wafv2(self, region: str, public_albs: list[str]) -> list[Callable] | None:
        """Regional WAF web ACLs (pages followed by NextMarker: ListWebACLs has no botocore paginator), their
        logging, and which web ACL guards each internet-facing ALB. The association is asked per ALB only when
        the region has a web ACL at all (GetWebACLForResource; moto lacks ListResourcesForWebACL), so a
        region without WAF costs one call."""
        if not self._offered("wafv2", region, "list_web_acls"):
            return None
        acls = self.marker_pages("wafv2", region, "list_web_acls", {"Scope": "REGIONAL", "Limit": 100}, "WebACLs")
        if not acls:  # none, or not readable: nothing to ask about
            return None
        out: list[Callable] = [lambda: self.marker_pages("wafv2", region, "list_logging_configurations",
                                                         {"Scope": "REGIONAL", "Limit": 100}, "LoggingConfigurations") and None]
        # each web ACL's rules (what it inspects): ListWebACLs gives only names
        out += [lambda a=a: self.call("wafv2", region, "get_web_acl", web_acl_params(a)) and None
                for a in acls if a.get("Name") and a.get("Id")]
        out += [lambda a=a: self.call("wafv2", region, "get_web_acl_for_resource", {"ResourceArn": a}) and None
                for a in public_albs]
        return out

    def _iam(self, region: str) -> Callable:
        def report():
            # the report is built asynchronously: ask until COMPLETE (bounded), then fetch it
            rec = None
            for i in range(20):
                rec = self.call("iam", region, "generate_credential_report")
                if not rec.ok or (rec.answer or {}).get("State") == "COMPLETE":
                    break
                time.sleep(min(0.1 * (i + 1), 1.0))
            got = self.call("iam", region, "get_credential_report")
            if not got.ok:
                return None
            out = []
            for row in parse_credential_report(got.answer):
                if row.get("user") == "<root_account>":
                    continue
                if any(row.get(f"access_key_{i}_last_rotated", "N/A") not in ("N/A", "", None) for i in (1, 2)):
                    out.append(lambda u=row["user"]: self.call("iam", region, "list_access_keys", {"UserName": u},
                                                               paginate=True) and None)
            return out

        def task():
            return [report,
                    lambda: self.call("iam", region, "get_account_summary") and None,
                    lambda: self.call("iam", region, "get_account_password_policy") and None,
                    lambda: self.call("iam", region, "get_account_authorization_details",
                                      {"Filter": ["User", "Role", "Group", "LocalManagedPolicy"]}, paginate=True) and None,
                    lambda: self.call("iam", region, "list_virtual_mfa_devices", {}, paginate=True) and None]
        return task

    def _s3(self, region: str) -> Callable:
        def bucket_calls(name: str, bregion: str) -> list:
            p = {"Bucket": name}
            return [lambda m=m: self.call("s3", bregion, m, p) and None
                    for m in ("get_bucket_encryption", "get_public_access_block", "get_bucket_logging",
                              "get_bucket_versioning", "get_bucket_policy", "get_bucket_acl", "get_bucket_replication")]

        def locate(name: str):
            rec = self.call("s3", region, "get_bucket_location", {"Bucket": name})
            if not rec.ok:
                return None
            return bucket_calls(name, bucket_region(rec.answer, self.partition))

        def account_block():
            # the account-level Block Public Access settings apply to every bucket beside the bucket's own
            if self._offered("s3control", region, "get_public_access_block"):
                self.call("s3control", region, "get_public_access_block", {"AccountId": self.account})

        def task():
            rec = self.call("s3", region, "list_buckets", {}, paginate=True)
            if not rec.ok:
                return [account_block]
            out = [account_block]
            for b in rec.answer.get("Buckets", []):
                if b.get("BucketRegion"):  # newer ListBuckets answers carry the region: no GetBucketLocation
                    out += bucket_calls(b["Name"], b["BucketRegion"])
                else:
                    out.append(lambda n=b["Name"]: locate(n))
            return out
        return task


def fast_timestamp(value):
    """botocore's timestamp parser for answers, with ISO 8601 text read by `datetime.fromisoformat` (what
    AWS sends; the result is the datetime botocore would give, UTC as UTC); anything else goes to botocore."""
    from botocore.utils import parse_timestamp
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[:4].isdigit():
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return parse_timestamp(value)


_ACCOUNT_PREFIXED_IP = re.compile(r"^(https?://)\d{12}\.((?:\d{1,3}\.){3}\d{1,3}|localhost|\[[0-9A-Fa-f:.]+\])(?=[:/]|$)")


def _ip_endpoint_without_account_prefix(request, **_kw) -> None:
    """S3 Control puts the account id in front of the endpoint's host (`123456789012.s3-control...`). On a
    custom endpoint given as an IP address or `localhost` (a test server, a local emulator) that name can
    never resolve, so the prefix is dropped there; real endpoints are left alone."""
    request.url = _ACCOUNT_PREFIXED_IP.sub(r"\1\2", request.url, count=1)


def image_ids(instances_answer: dict) -> list[str]:
    """The distinct image ids the instances of a DescribeInstances answer run, sorted."""
    return sorted({i.get("ImageId") for r in (instances_answer or {}).get("Reservations", [])
                   for i in r.get("Instances", []) if i.get("ImageId")})


def images_params(batch: list[str]) -> dict:
    return {"Filters": [{"Name": "image-id", "Values": list(batch)}]}


def web_acl_params(summary: dict) -> dict:
    return {"Name": summary["Name"], "Scope": "REGIONAL", "Id": summary["Id"]}


def watched_rule(rule: dict) -> bool:
    """An EventBridge rule whose pattern names a source of security events: GuardDuty or Security Hub
    findings, or EC2 (instance launches and state changes). Only these rules' targets are asked for."""
    pattern = rule.get("EventPattern") or ""
    return any(source in pattern for source in ("aws.guardduty", "aws.securityhub", "aws.ec2"))


def bucket_region(location_answer: dict, partition: str) -> str:
    loc = (location_answer or {}).get("LocationConstraint")
    if not loc:
        return GLOBAL_REGION["aws"] if partition == "aws" else GLOBAL_REGION.get(partition, "us-east-1")
    return "eu-west-1" if loc == "EU" else loc


def parse_credential_report(answer: dict) -> list[dict]:
    content = (answer or {}).get("Content") or ""
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return list(csv.DictReader(io.StringIO(content)))


_OPS: dict[str, dict[str, str]] = {}
_OPS_LOCK = threading.Lock()


def _op_name(service: str, method: str) -> str:
    if service not in _OPS:
        with _OPS_LOCK:  # many workers may ask at once: the model is parsed once
            if service not in _OPS:
                import botocore.session
                from botocore import xform_name
                m = botocore.session.get_session().get_service_model(service)
                _OPS[service] = {xform_name(n): n for n in m.operation_names}
    return _OPS[service][method]
