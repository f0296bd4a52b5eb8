#!/usr/bin/env python3
"""AWS Organizations benchmark against a local moto server (loopback only, no cloud account).

For each size M (default 1 10 50) an organisation with M member accounts (+ the management account) is
created, each account holding a little of every kind the scan lists in each of 2 regions, and the real CLI
scans it (`organization:` target, `--progress jsonl`) in a child process. Printed per size: wall time, accounts
scanned, API calls per account against the single-account minimum (the same account scanned alone as a plain
target), the organisation-level calls (listing, AssumeRole), the scanner's peak RSS; then the growth
wall(M)/wall(1), RSS(M)/RSS(1) (must stay <= 1.5) and where the time goes (listing, per-account collection
and its parallelism, evaluation and writing).

    .venv/bin/python bench/org_bench.py                 # 1, 10, 50 members
    .venv/bin/python bench/org_bench.py --sizes 1 10    # quicker
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ["cn-north-1", "cn-northwest-1"]
ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGIONS[0],
       "AWS_MAX_ATTEMPTS": "1", "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
       "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}

# runs the CLI in a child and reports its own peak RSS (the moto server is another process: not counted)
CHILD = """
import resource, sys
from mlps_scan.cli import main
rc = main(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(rc)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     env={**os.environ, **ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("moto server did not start")

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b""), timeout=300)

    def client(self, service, region=REGIONS[0], creds=None):
        import boto3
        c = creds or {"AccessKeyId": "testing", "SecretAccessKey": "testing", "SessionToken": None}
        return boto3.session.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                                     aws_session_token=c.get("SessionToken")).client(service, region_name=region,
                                                                                    endpoint_url=self.url)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def seed_account(moto: Moto, account: str, creds) -> None:
    """A little of each kind in each region: a bucket, a user, a key, a log group, a VPC with a security group."""
    iam = moto.client("iam", creds=creds)
    iam.create_user(UserName=f"user-{account[-4:]}")
    iam.update_account_password_policy(MinimumPasswordLength=14)
    for r in REGIONS:
        s3 = moto.client("s3", r, creds)
        s3.create_bucket(Bucket=f"b-{account}-{r}", CreateBucketConfiguration={"LocationConstraint": r})
        moto.client("kms", r, creds).create_key(Description="k")
        moto.client("logs", r, creds).create_log_group(logGroupName="/app")
        ec2 = moto.client("ec2", r, creds)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def build_org(moto: Moto, members: int) -> list[str]:
    moto.reset()
    org = moto.client("organizations")
    org.create_organization(FeatureSet="ALL")
    ids = [org.create_account(Email=f"m{i}@example.com", AccountName=f"m{i}")["CreateAccountStatus"]["AccountId"]
           for i in range(members)]
    sts = moto.client("sts")
    seed_account(moto, "123456789012", None)
    for a in ids:
        creds = sts.assume_role(RoleArn=f"arn:aws-cn:iam::{a}:role/OrganizationAccountAccessRole",
                                RoleSessionName="seed")["Credentials"]
        seed_account(moto, a, creds)
    return ids


def run_scan(moto: Moto, work: Path, config: str, name: str) -> dict:
    cfg = work / f"{name}.yaml"
    cfg.write_text(config)
    out, rss_file = work / name, work / f"{name}.rss"
    t0, epoch0 = time.perf_counter(), time.time()
    p = subprocess.run([sys.executable, "-c", CHILD, str(rss_file), "scan", "--config", str(cfg), "--out", str(out),
                        "--no-zip", "--no-history", "--progress", "jsonl", "--fail-on", "never"],
                       env={**os.environ, **ENV, "AWS_ENDPOINT_URL": moto.url}, capture_output=True, text=True)
    wall, epoch1 = time.perf_counter() - t0, time.time()
    if p.returncode != 0:
        raise SystemExit(f"scan {name} failed ({p.returncode}): {p.stderr[-2000:]}")
    events = []
    for line in p.stderr.splitlines():
        if line.startswith("{"):
            e = json.loads(line)
            events.append((datetime.fromisoformat(e["time"]).timestamp(), e["event"]))
    recs = [json.loads(f.read_text()) for f in (out / "evidence").glob("*ApiCalls*.json")]
    return {"wall": wall, "start": epoch0, "end": epoch1, "rss_mb": int(rss_file.read_text()) / 1024,
            "events": events, "calls": recs,
            "evidence": len(list((out / "evidence").glob("*.json"))), "out": out}


def phases(res: dict) -> dict:
    """Seconds spent starting (interpreter, imports, config), listing the organisation, collecting accounts
    (and how many ran at once on average), evaluating and writing, from the progress events' clock."""
    events = res["events"]
    if not events:
        return {}
    start: dict[str, float] = {}
    spans = []
    for t, ev in events:
        who, _, what = ev.rpartition(": ")
        if what == "collecting" and who.count("/") == 2:
            start[who] = t
        elif what == "done" and who in start:
            spans.append(t - start.pop(who))
    first = next((t for t, ev in events if ev.endswith(": collecting") and ev.count("/") == 2), events[0][0])
    evalt = next((t for t, ev in events if ev == "evaluating checks"), events[-1][0])
    collect = evalt - first
    return {"startup": events[0][0] - res["start"], "listing": first - events[0][0], "collecting": collect,
            "accounts": len(spans), "per_account_mean": sum(spans) / len(spans) if spans else 0.0,
            "parallelism": sum(spans) / collect if collect > 0 else 0.0, "evaluate_and_write": res["end"] - evalt}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    args = ap.parse_args()
    import logging
    logging.getLogger("botocore").setLevel(logging.WARNING)
    moto = Moto()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="org-bench-") as tmp:
            work = Path(tmp)
            # the single-account minimum: one member of a fresh organisation scanned alone, as a plain target
            # through its role (fresh: moto answers a first GenerateCredentialReport with STARTED, a later one
            # with COMPLETE, so an account scanned twice costs one call less the second time)
            ids = build_org(moto, 1)
            single = run_scan(moto, work, f"system: {{name: B, level: 3}}\naws:\n  - name: one\n"
                                          f"    regions: [{', '.join(REGIONS)}]\n"
                                          f"    role_arn: arn:aws-cn:iam::{ids[0]}:role/MlpsScanReadOnly\n", "single")
            minimum = next(r["answer"]["total"] for r in single["calls"])
            for m in args.sizes:
                ids = build_org(moto, m)
                res = run_scan(moto, work, f"system: {{name: B, level: 3}}\naws:\n  - name: org\n"
                                           f"    regions: [{', '.join(REGIONS)}]\n"
                                           "    organization: {role_name: MlpsScanReadOnly}\n", f"org-{m}")
                per_account = {r["target"].split("/", 1)[1]: r["answer"]["total"] for r in res["calls"] if "/" in r["target"]}
                org_level = next(r["answer"] for r in res["calls"] if "/" not in r["target"])
                ph = phases(res)
                rows.append({"m": m, "accounts": len(per_account), **{k: res[k] for k in ("wall", "rss_mb", "evidence")},
                             "calls": Counter(per_account.values()), "minimum": minimum, "org": org_level, "phases": ph})
                r = rows[-1]
                print(f"M={m:>3}: {r['accounts']} accounts x {len(REGIONS)} regions in {r['wall']:.1f} s, "
                      f"peak RSS {r['rss_mb']:.0f} MB, {r['evidence']} evidence records", flush=True)
    finally:
        moto.stop()

    print()
    print(f"{'members':>7} {'accounts':>8} {'wall s':>7} {'s/acct':>6} {'calls/acct':>10} {'minimum':>7} "
          f"{'org calls':>9} {'AssumeRole':>10} {'RSS MB':>6} {'startup':>7} {'listing':>7} {'collect':>7} {'parallel':>8} {'eval+write':>10}")
    for r in rows:
        ph = r["phases"]
        calls = "/".join(str(c) for c in sorted(r["calls"]))
        print(f"{r['m']:>7} {r['accounts']:>8} {r['wall']:>7.1f} {r['wall'] / r['accounts']:>6.2f} {calls:>10} "
              f"{r['minimum']:>7} {r['org']['total']:>9} {r['org']['calls'].get('sts:AssumeRole', 0):>10} "
              f"{r['rss_mb']:>6.0f} {ph.get('startup', 0):>7.1f} {ph.get('listing', 0):>7.1f} {ph.get('collecting', 0):>7.1f} "
              f"{ph.get('parallelism', 0):>8.1f} {ph.get('evaluate_and_write', 0):>10.1f}")
    base = rows[0]
    ok = True
    for r in rows[1:]:
        g, mem = r["wall"] / base["wall"], r["rss_mb"] / base["rss_mb"]
        acct = r["accounts"] / base["accounts"]
        print(f"wall({r['m']})/wall({base['m']}) = {g:.1f}  for {acct:.1f}x the accounts "
              f"(per account {r['wall'] / r['accounts'] / (base['wall'] / base['accounts']):.2f}x);  "
              f"RSS({r['m']})/RSS({base['m']}) = {mem:.2f} ({'ok' if mem <= 1.5 else 'OVER 1.5'})")
        ok &= mem <= 1.5
    flat = all(set(r["calls"]) == {r["minimum"]} for r in rows)
    print(f"API calls per account equal to the single-account minimum at every size: {'yes' if flat else 'NO'}")
    print("where the time goes: 'startup' = interpreter, imports, config; 'listing' = session, identity and the "
          "organisation's listing; 'collect' = accounts being scanned ('parallel' = account-seconds per second); "
          "'eval+write' = checks, assessment, report and bundle. The moto server shares the machine's cores.")
    sys.exit(0 if ok and flat else 1)


if __name__ == "__main__":
    main()
