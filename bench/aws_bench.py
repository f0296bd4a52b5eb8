#!/usr/bin/env python3
"""AWS collector benchmark against a local moto server (no cloud account, loopback only).

For each N (default 10 100 1000; --max caps them for quick runs) it seeds N resources of every listable kind
in one region (S3 buckets, IAM users/roles/groups, log groups, VPCs, security groups, EBS volumes and
snapshots, EC2 instances, KMS keys, RDS instances, load balancers), runs the collector in process and prints:
wall time, API calls, assets, assets/s, and API calls against the minimum the fetch plan needs (list pages
at the largest page size + per-resource calls AWS offers no list call for, e.g. per-bucket settings).

    .venv/bin/python bench/aws_bench.py --max 100

With `--baseline PYTHON` (an interpreter with another build of mlps-scan installed, e.g. a venv holding the
wheel of an earlier commit) it seeds each N once and then runs the collector of both builds in turn, each in
its own process (A B A B ..., `--runs` pairs), and prints medians and the ratios new/baseline of wall time
and of the scanner's own CPU (user+sys of its process during the collection, all threads), the CPU per API
call, and how CPU grows from the smallest N to the largest (the exponent k of cpu ~ N^k; 1 is linear). Each
round also replays this build's calls with plain boto3 and no scanner work (the floor: what botocore and the
HTTP stack cost per call on this machine). moto keeps connections alive as AWS does (`--moto-close`: not):

    python3 -m venv /tmp/base && /tmp/base/bin/pip install mlps_scan-OLD.whl
    .venv/bin/python bench/aws_bench.py --sizes 100 1000 --baseline /tmp/base/bin/python --runs 3
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

REGION = "cn-north-1"

# the largest page of each paginated list call (AWS API limits) — the floor for the call count
MAX_PAGE = {"iam:GetAccountAuthorizationDetails": 1000, "iam:ListVirtualMFADevices": 1000, "iam:ListAccessKeys": 1000,
            "kms:ListKeys": 1000, "logs:DescribeLogGroups": 50, "rds:DescribeDBInstances": 100,
            "elbv2:DescribeLoadBalancers": 400, "elbv2:DescribeListeners": 400, "guardduty:ListDetectors": 50,
            "acm:ListCertificates": 1000, "s3:ListBuckets": 10000, "wafv2:ListWebACLs": 100,
            "wafv2:ListLoggingConfigurations": 100, "logs:DescribeMetricFilters": 50, "cloudwatch:DescribeAlarms": 100,
            "sns:ListSubscriptions": 100, "route53resolver:ListResolverQueryLogConfigAssociations": 100,
            "ssm:DescribeInstanceInformation": 50, "ssm:DescribeInstancePatchStates": 50, "events:ListRules": 100,
            "events:ListTargetsByRule": 100, "backup:ListBackupPlans": 1000, "backup:ListBackupSelections": 1000,
            "ec2:DescribeImages": 200}
EC2_PAGE = 1000
LIST_KEYS = ("Vpcs", "Subnets", "RouteTables", "InternetGateways", "SecurityGroups", "NetworkAcls", "FlowLogs",
             "Reservations", "NetworkInterfaces", "Volumes", "Snapshots", "logGroups", "DBInstances", "Keys",
             "LoadBalancers", "Listeners", "DetectorIds", "CertificateSummaryList", "Buckets", "VirtualMFADevices",
             "AccessKeyMetadata", "WebACLs", "LoggingConfigurations", "metricFilters", "MetricAlarms", "Subscriptions",
             "ResolverQueryLogConfigAssociations", "InstanceInformationList", "InstancePatchStates", "Rules", "Targets",
             "BackupPlansList", "BackupSelectionsList", "Images")


def seed(bed, n: int, peer=None) -> None:
    iam, s3, ec2 = bed.client("iam", REGION), bed.client("s3", REGION), bed.client("ec2", REGION)
    logs, kms, rds, elb = (bed.client(x, REGION) for x in ("logs", "kms", "rds", "elbv2"))
    cw, events, backup = (bed.client(x, REGION) for x in ("cloudwatch", "events", "backup"))
    backup.create_backup_vault(BackupVaultName="v")
    loc = {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    azs = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subs = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i * 128}.0/17", AvailabilityZone=azs[i])["Subnet"]["SubnetId"]
            for i in range(2)]
    ami = "ami-0123456789abcdef0"  # moto runs any image id; its default AMIs (and their snapshots) are off
    ec2.run_instances(ImageId=ami, MinCount=n, MaxCount=n, SubnetId=subs[0])
    for i in range(n):
        s3.create_bucket(Bucket=f"bench-bucket-{i:05d}", **loc)
        iam.create_user(UserName=f"user{i}")
        iam.create_role(RoleName=f"role{i}", AssumeRolePolicyDocument=trust)
        iam.create_group(GroupName=f"group{i}")
        logs.create_log_group(logGroupName=f"/bench/{i}")
        ec2.create_vpc(CidrBlock="10.1.0.0/16")
        ec2.create_security_group(GroupName=f"sg{i}", Description="bench", VpcId=vpc)
        v = ec2.create_volume(AvailabilityZone=azs[0], Size=1)["VolumeId"]
        ec2.create_snapshot(VolumeId=v)
        kms.create_key(Description=f"k{i}")
        rds.create_db_instance(DBInstanceIdentifier=f"db{i}", Engine="postgres", DBInstanceClass="db.t3.micro",
                               MasterUsername="u", MasterUserPassword="Passw0rd-long", AllocatedStorage=5)
        elb.create_load_balancer(Name=f"lb{i}", Subnets=subs, Scheme="internal")
        # alerting and central management: metric filters, alarms, GuardDuty-watching rules, backup plans,
        # managed instances with their patch state
        logs.put_metric_filter(logGroupName="/bench/0", filterName=f"f{i}", filterPattern='{ $.eventName = "X" }',
                               metricTransformations=[{"metricName": f"m{i}", "metricNamespace": "B", "metricValue": "1"}])
        cw.put_metric_alarm(AlarmName=f"a{i}", MetricName=f"m{i}", Namespace="B", Statistic="Sum", Period=60,
                            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
        events.put_rule(Name=f"r{i}", EventPattern='{"source": ["aws.guardduty"]}')
        backup.create_backup_plan(BackupPlan={"BackupPlanName": f"p{i}", "Rules": [
            {"RuleName": "d", "TargetBackupVaultName": "v", "ScheduleExpression": "cron(0 3 * * ? *)"}]})
        if peer is not None:
            peer.add_managed(REGION, f"mi-{i:017x}", patch={"days_ago": 1})


def minimum_calls(evidence_dir: Path) -> tuple[int, int]:
    """(minimum calls for the fetch plan, of which per-resource calls with no list alternative)."""
    total = per_resource = 0
    for p in evidence_dir.glob("*.json"):
        r = json.loads(p.read_text())
        src = r["source"]
        if src.startswith("mlps-scan:") or r["status"] == "not_available":
            continue
        ans = r.get("answer") or {}
        items = next((len(ans[k]) for k in LIST_KEYS if isinstance(ans, dict) and isinstance(ans.get(k), list)), None)
        page = MAX_PAGE.get(src) or (EC2_PAGE if src.startswith("ec2:Describe") else None)
        if items is not None and page:
            total += max(1, math.ceil(items / page))
        else:
            total += 1
            if r["request"].get("params"):  # a call about one resource (bucket, key, trail, LB, snapshot)
                per_resource += 1
    return total, per_resource


def run_once(bed, n: int, workers: int) -> dict:
    from mlps_scan.collectors.aws import AwsCollector, AwsTarget
    from mlps_scan.evidence import Recorder
    from mlps_scan.runner import collect
    bed.reset()
    t0 = time.perf_counter()
    seed(bed, n, bed.peer)
    seeded = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp))
        target = AwsTarget(name="bench", regions=[REGION], max_workers=workers)
        t0 = time.perf_counter()
        res = collect([(AwsCollector, target)], rec, base_dir=Path(tmp))
        wall = time.perf_counter() - t0
        calls = res.api_calls.get("aws", 0)
        floor, per_res = minimum_calls(Path(tmp) / "evidence")
        errors = [c for c in res.inventory.coverage if c.status.value in ("error", "denied")]
        kinds = Counter(a.type for a in res.inventory.assets)
    assets = len(res.inventory.assets)
    return {"n": n, "seed_s": round(seeded, 1), "wall_s": round(wall, 2), "api_calls": calls, "assets": assets,
            "assets_per_s": round(assets / wall, 1), "min_calls": floor, "per_resource_calls": per_res,
            "calls_vs_min": round(calls / floor, 2) if floor else None, "coverage_errors": len(errors),
            "calls_per_asset": round(calls / max(1, assets), 2), "kinds": len(kinds)}


def calls_made(evidence_dir: Path) -> list[dict]:
    """The API calls a collection made, from its evidence: service, operation, region, parameters."""
    out = []
    for p in sorted(evidence_dir.glob("*.json")):
        r = json.loads(p.read_text())
        if r["source"].startswith("mlps-scan:") or r["status"] == "not_available":
            continue
        service, _, op = r["source"].partition(":")
        out.append({"service": service, "op": op, "region": r["request"].get("region"),
                    "params": r["request"].get("params") or {}, "page_size": r["request"].get("page_size")})
    return out


def replay_only(workers: int, calls_file: str) -> dict:
    """The floor: the same API calls made with plain boto3 (the collector's client configuration, threads and
    pagination), with none of the scanner's work (no evidence, no redaction, no answer checks, no derivation).
    CPU per call here is what botocore and the HTTP stack cost on this machine."""
    import queue
    import threading

    import boto3
    from botocore import xform_name
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    calls = json.loads(Path(calls_file).read_text())
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    session = boto3.session.Session()
    config = Config(retries={"mode": "adaptive"}, max_pool_connections=workers, connect_timeout=10,
                    read_timeout=30, tcp_keepalive=True)
    clients: dict = {}
    lock = threading.Lock()
    sent = [0]

    def count(**_kw):
        with lock:
            sent[0] += 1

    session.events.register("before-send", count)

    def client(service: str, region: str):
        with lock:
            if (service, region) not in clients:
                clients[(service, region)] = session.client(service, region_name=region, config=config)
            return clients[(service, region)]

    work: queue.SimpleQueue = queue.SimpleQueue()
    for c in calls:
        work.put(c)
    for _ in range(workers):
        work.put(None)

    def worker():
        while (c := work.get()) is not None:
            cl = client(c["service"], c["region"])
            method = xform_name(c["op"])
            try:
                if cl.can_paginate(method):
                    cfg = {"PageSize": c["page_size"]} if c.get("page_size") else {}
                    cl.get_paginator(method).paginate(**c["params"], PaginationConfig=cfg).build_full_result()
                else:
                    getattr(cl, method)(**c["params"])
            except (ClientError, BotoCoreError):
                pass

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "api_calls": sent[0], "cpu_ms_per_call": 1000 * cpu / max(1, sent[0])}


def scan_only(workers: int, dump_calls: str | None = None) -> dict:
    """One collection of the seeded estate in this process (the build this interpreter imports); the
    figures of this process alone: wall time and CPU of the collection, API calls, peak RSS. dump_calls: a
    file to write the calls made to (for the floor, `replay_only`)."""
    from mlps_scan.collectors.aws import AwsCollector, AwsTarget
    from mlps_scan.evidence import Recorder
    from mlps_scan.runner import collect
    with tempfile.TemporaryDirectory() as tmp:
        rec = Recorder(Path(tmp))
        target = AwsTarget(name="bench", regions=[REGION], max_workers=workers)
        r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        res = collect([(AwsCollector, target)], rec, base_dir=Path(tmp))
        wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
        if dump_calls:
            Path(dump_calls).write_text(json.dumps(calls_made(Path(tmp) / "evidence")))
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    calls = res.api_calls.get("aws", 0)
    return {"wall_s": wall, "cpu_s": cpu, "api_calls": calls, "assets": len(res.inventory.assets),
            "cpu_ms_per_call": 1000 * cpu / max(1, calls), "maxrss_mb": r1.ru_maxrss / 1024}


def compare(bed, sizes: list[int], baseline: str, runs: int, workers: int) -> None:
    """Seed each N once; run new and baseline alternately in their own processes; print medians and ratios."""
    me = [sys.executable, str(Path(__file__).resolve()), "--scan-only", "--workers", str(workers)]
    other = [baseline, *me[1:]]
    rows: dict[int, dict[str, dict[str, float]]] = {}
    for n in sizes:
        bed.reset()
        seed(bed, n, bed.peer)
        got: dict[str, list[dict]] = {"new": [], "base": [], "floor": []}
        with tempfile.TemporaryDirectory() as tmp:
            calls = str(Path(tmp) / "calls.json")
            floor = [sys.executable, str(Path(__file__).resolve()), "--replay", calls, "--workers", str(workers)]
            for _ in range(runs):
                for name, cmd in (("new", [*me, "--dump-calls", calls]), ("base", other), ("floor", floor)):
                    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=dict(os.environ))
                    got[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
        rows[n] = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in got.items()}
        new, base, low = rows[n]["new"], rows[n]["base"], rows[n]["floor"]
        print(f"N={n}: API calls {new['api_calls']:.0f} (baseline {base['api_calls']:.0f}), assets {new['assets']:.0f}")
        print(f"  wall  {new['wall_s']:7.2f} s  baseline {base['wall_s']:7.2f} s  ratio {new['wall_s'] / base['wall_s']:.2f}")
        print(f"  CPU   {new['cpu_s']:7.2f} s  baseline {base['cpu_s']:7.2f} s  ratio {new['cpu_s'] / base['cpu_s']:.2f}")
        print(f"  CPU per API call {new['cpu_ms_per_call']:.2f} ms  baseline {base['cpu_ms_per_call']:.2f} ms  "
              f"floor {low['cpu_ms_per_call']:.2f} ms (the same calls with plain boto3: {low['api_calls']:.0f} calls, "
              f"this build {new['cpu_ms_per_call'] / low['cpu_ms_per_call']:.2f}x the floor)")
        print(f"  peak RSS {new['maxrss_mb']:.0f} MB  baseline {base['maxrss_mb']:.0f} MB")
        sys.stdout.flush()
    ns = sorted(rows)
    steps = list(zip(ns, ns[1:])) + ([(ns[0], ns[-1])] if len(ns) > 2 else [])
    for lo, hi in steps:  # each step between sizes, then smallest to largest
        for name in ("new", "base"):
            a, b = rows[lo][name], rows[hi][name]
            k_n = math.log(b["cpu_s"] / a["cpu_s"]) / math.log(hi / lo)
            k_calls = math.log(b["cpu_s"] / a["cpu_s"]) / math.log(b["api_calls"] / a["api_calls"])
            print(f"CPU growth N={lo}->{hi} ({'this build' if name == 'new' else 'baseline'}): exponent {k_n:.2f} "
                  f"against N, {k_calls:.2f} against API calls")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10, 100, 1000])
    ap.add_argument("--max", type=int, default=None, help="skip sizes above this (quick runs)")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--json", action="store_true", help="print JSON lines")
    ap.add_argument("--baseline", help="python of another build: run both, alternately, and print ratios")
    ap.add_argument("--runs", type=int, default=3, help="pairs of runs per N with --baseline (medians)")
    ap.add_argument("--moto-close", action="store_true",
                    help="serve moto with moto_server, which closes every connection (default: keep-alive, as AWS)")
    ap.add_argument("--scan-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dump-calls", help=argparse.SUPPRESS)
    ap.add_argument("--replay", help=argparse.SUPPRESS)
    a = ap.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if a.scan_only:  # a child of --baseline: the server and the estate are there (AWS_ENDPOINT_URL)
        print(json.dumps(scan_only(a.workers, a.dump_calls)))
        return 0
    if a.replay:  # a child of --baseline: the floor, the calls of this build's scan made with plain boto3
        print(json.dumps(replay_only(a.workers, a.replay)))
        return 0
    from fixtures.aws import _ENV, MotoBed, _free_port
    from fixtures.aws_peer import GapPeer
    os.environ.update(_ENV)
    import urllib.request
    port = _free_port()
    # moto in its own process, so the server does not compete with the scanner for this interpreter's GIL;
    # keeping connections open as AWS does (bench/moto_keepalive.py) unless --moto-close asks for moto_server,
    # which closes each one
    server = ([str(Path(sys.executable).parent / "moto_server")] if a.moto_close
              else [sys.executable, str(Path(__file__).resolve().parent / "moto_keepalive.py")])
    srv = subprocess.Popen([*server, "-H", "127.0.0.1", "-p", str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"moto: {'moto_server (a new connection per call)' if a.moto_close else 'keep-alive (connections reused)'}", file=sys.stderr if a.json else sys.stdout)
    bed = MotoBed(f"http://127.0.0.1:{port}")
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{bed.url}/moto-api/", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    os.environ["AWS_ENDPOINT_URL"] = bed.url
    # the Systems Manager and Backup operations moto lacks, answered by the gap peer (the rest relayed to moto)
    peer = bed.peer = GapPeer(bed.url).start()
    os.environ.update(peer.env)
    try:
        sizes = [s for s in a.sizes if a.max is None or s <= a.max]
        if a.baseline:
            compare(bed, sizes, a.baseline, a.runs, a.workers)
            return 0
        if not a.json:
            print(f"{'N':>5} {'seed s':>7} {'scan s':>7} {'calls':>6} {'min':>6} {'calls/min':>9} "
                  f"{'per-res':>7} {'assets':>7} {'assets/s':>8} {'calls/asset':>11} {'errors':>6}")
        for n in sizes:
            r = run_once(bed, n, a.workers)
            if a.json:
                print(json.dumps(r))
            else:
                print(f"{r['n']:>5} {r['seed_s']:>7} {r['wall_s']:>7} {r['api_calls']:>6} {r['min_calls']:>6} "
                      f"{r['calls_vs_min']:>9} {r['per_resource_calls']:>7} {r['assets']:>7} {r['assets_per_s']:>8} "
                      f"{r['calls_per_asset']:>11} {r['coverage_errors']:>6}")
            sys.stdout.flush()
    finally:
        peer.stop()
        srv.terminate()
        try:
            srv.wait(30)
        except subprocess.TimeoutExpired:  # a loaded machine: do not leave the server behind
            srv.kill()
            srv.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
