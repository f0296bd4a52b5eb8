"""The AWS collector behind the fault proxy: every operation it calls, through every fault (empty 200, garbage,
truncated body, connection reset, 500, 503, 403, hang). No broken answer may become evidence that reads as
"nothing there" or as a pass: the call is recorded as failed, the checks reading it say `error`, the scan is
partial (exit 3), and nothing passes that did not pass with honest answers.

The operations are not listed by hand: a clean scan through the proxy names them (the proxy identifies each
request as `service:Operation`). Faults are applied depth by depth: all operations not yet faulted break at
once, and those that were actually asked are the ones whose parent calls (already covered) answered properly;
the next round covers their follow-ups. So every operation meets every fault with its parents intact."""
from __future__ import annotations

from collections import Counter

import pytest

from faultproxy import FAULTS
from fixtures.aws import seed_account, seed_region
from relhelp import aws_config, aws_upstream, scan_inprocess

pytestmark = pytest.mark.aws

REGION = "cn-north-1"


@pytest.fixture(scope="module")
def estate(moto_server):
    moto_server.reset()
    seed_account(moto_server, REGION, compliant=True)
    ids = seed_region(moto_server, REGION)
    yield ids
    moto_server.reset()


@pytest.fixture(scope="module")
def proxy(moto_server):
    from faultproxy import FaultProxy
    p = FaultProxy(aws_upstream(moto_server), replay=True).start()  # the estate does not change: moto is asked once
    yield p
    p.stop()


@pytest.fixture(scope="module")
def baseline(estate, proxy, tmp_path_factory):
    proxy.clear()
    tmp = tmp_path_factory.mktemp("aws-baseline")
    res = scan_inprocess(aws_config(tmp, proxy.url), tmp / "out")
    return res, dict(proxy.seen)


def _failed(rec: dict) -> bool:
    return rec["status"] in ("error", "denied")


def assert_no_pass_from_a_broken_answer(base, run, hit: set[str], kind: str) -> None:
    """The promises a faulted scan keeps, for the operations `hit` broke."""
    faulted = [r for r in run.records.values() if r["source"] in hit]
    assert faulted, (kind, hit)
    ok = [(r["source"], r["request"].get("params")) for r in faulted if not _failed(r)]
    assert not ok, f"{kind}: recorded as ok: {ok[:5]}"
    if kind == "403":
        assert {r["status"] for r in faulted} == {"denied"}, kind
    assert run.partial and run.exit == 3, (kind, hit, run.partial, run.exit)
    # the estate pairs a compliant and a non-compliant resource of every kind: an answer read as "nothing
    # there" / "off" / "no grants" shows up as a pass of the non-compliant twin, or as a verdict that vanished
    base_pass = {k for k, s in base.verdicts.items() if s == "pass"}
    new_pass = [k for k, s in run.verdicts.items() if s == "pass" and k not in base_pass]
    assert not new_pass, f"{kind} on {sorted(hit)}: passes that honest answers did not give: {new_pass[:5]}"
    erroring = {f["check_id"] for f in run.findings if f["status"] == "error"}
    vanished = [k for k in base.verdicts if k not in run.verdicts and k[0] not in erroring]
    assert not vanished, f"{kind} on {sorted(hit)}: verdicts vanished without an error: {vanished[:5]}"


def test_clean_scan_through_the_proxy_names_every_operation(baseline):
    base, seen = baseline
    assert not base.partial and base.exit == 1, [r["error"] for r in base.records.values() if _failed(r)][:5]
    unknown = [k for k in seen if ":" not in k]
    assert not unknown, f"requests the proxy could not name: {unknown}"
    calls = next(r for r in base.records.values() if r["source"] == "mlps-scan:ApiCalls")["answer"]
    assert len(seen) >= 40
    assert sum(seen.values()) == calls["total"]  # every call the collector counted went through the proxy


def test_empty_acl_answer_does_not_let_a_public_bucket_pass(estate, proxy, tmp_path):
    proxy.clear()
    proxy.fault("empty", op="s3:GetBucketAcl")
    run = scan_inprocess(aws_config(tmp_path, proxy.url), tmp_path / "out")
    bad = estate["buckets"]["bad"]
    v = {(c, rid.rsplit(":", 1)[-1]): s for (c, rid), s in run.verdicts.items()}
    assert v[("aws.s3.not_public", bad)] == "error"
    acl = run.by_source("s3:GetBucketAcl")
    assert acl and all(r["status"] == "error" and "empty body" in r["error"] for r in acl)
    assert run.partial and run.exit == 3


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated"])
def test_broken_log_group_answer_is_not_an_empty_list(estate, proxy, tmp_path, kind):
    proxy.clear()
    proxy.fault(kind, op="logs:DescribeLogGroups")
    run = scan_inprocess(aws_config(tmp_path, proxy.url), tmp_path / "out")
    recs = run.by_source("logs:DescribeLogGroups")
    assert recs and all(r["status"] == "error" for r in recs), [(r["status"], r["answer"]) for r in recs]
    cov = {(c["asset_type"], c["status"]) for c in run.inventory["coverage"]}
    assert ("aws.logs.log_group", "error") in cov
    logs = [f for f in run.findings if f["check_id"] == "aws.logs.retention"]
    assert logs and {f["status"] for f in logs} == {"error"}
    assert run.partial and run.exit == 3


# one sweep of every operation through every fault: dozens of scans, minutes on a loaded 2-core machine
@pytest.mark.timeout(1800)
def test_every_operation_through_every_fault(baseline, proxy, tmp_path, record_property):
    base, seen = baseline
    ops = sorted(seen)
    runs, cases = 0, Counter()
    for kind in FAULTS:
        done: set[str] = set()
        while set(ops) - done:
            proxy.clear()
            proxy.fault(kind, op=set(ops) - done)
            tmp = tmp_path / f"{kind}-{runs}"
            run = scan_inprocess(aws_config(tmp, proxy.url, timeout=2), tmp / "out")
            runs += 1
            hit = {op for op, _ in proxy.hits}
            assert hit, f"{kind}: never asked: {sorted(set(ops) - done)}"
            assert_no_pass_from_a_broken_answer(base, run, hit, kind)
            done |= hit
            cases[kind] += len(hit)
    assert all(cases[k] == len(ops) for k in FAULTS), cases
    record_property("aws_fault_cases", sum(cases.values()))
    record_property("aws_operations", len(ops))
    print(f"\n{len(ops)} AWS operations x {len(FAULTS)} faults = {sum(cases.values())} fault cases in {runs} scans")
