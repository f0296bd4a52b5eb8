"""`partial` is never under-reported: any evidence that failed (other than "not offered here") makes the scan
partial, exit 3, and is named on the terminal (stderr, also under --quiet) and in report.html; a failed
attempt that was retried and then answered is not a failure. Through the real CLI, with the fault proxy in
front of the moto server and of the Kubernetes API server."""
from __future__ import annotations

import pytest

from conftest import run_cli
from fixtures.aws import seed_account, seed_region
from relhelp import aws_config, aws_upstream, cli_inprocess, load_bundle

# the calls whose failure the issue found reported as exit 1, partial false
def named(text: str, target: str, *needles: str) -> bool:
    """A line of `text` names `target` and every needle (terminal.partial_reasons: `target[ where]: cause`)."""
    return any(line.strip().startswith(target) and all(n in line for n in needles) for line in text.splitlines())


QUIET_FAILURES = ["ec2:DescribeNetworkInterfaces", "iam:ListAccessKeys", "iam:ListVirtualMFADevices",
                  "iam:GenerateCredentialReport"]


@pytest.fixture(scope="module")
def aws_estate(moto_server):
    moto_server.reset()
    seed_account(moto_server, "cn-north-1", compliant=True)
    seed_region(moto_server, "cn-north-1")
    yield moto_server
    moto_server.reset()


@pytest.mark.aws
@pytest.mark.parametrize("kind,ops,real_cli", [("500", QUIET_FAILURES[:3], True), ("403", QUIET_FAILURES[:3], False),
                                               ("500", QUIET_FAILURES[3:], False), ("403", QUIET_FAILURES[3:], False)])
def test_failed_calls_make_the_scan_partial_and_are_named(aws_estate, fault_proxy, tmp_path, capsys, kind, ops,
                                                          real_cli):
    """(ListAccessKeys is asked only for users the credential report lists, so GenerateCredentialReport is
    broken in a scan of its own; one case runs the real CLI in a subprocess, the others in this process.)"""
    proxy = fault_proxy(aws_upstream(aws_estate))
    proxy.fault(kind, op=set(ops))
    out = tmp_path / "out"
    argv = ("scan", "--config", str(aws_config(tmp_path, proxy.url)), "--out", str(out), "--quiet", "--no-zip",
            "--no-history")
    r = run_cli(*argv) if real_cli else cli_inprocess(capsys, *argv)
    assert r.returncode == 3, r.stderr
    assert {op for op, _ in proxy.hits} == set(ops)
    res = load_bundle(out)
    assert res.manifest["partial"] is True
    report = (out / "report.html").read_text()
    for op in ops:
        assert named(r.stderr, "aws/acct", op), (op, r.stderr)
        assert op in report, op
    assert "Evidence not collected" in report


def k8s_scan(tmp_path, kubeconfig, name="c", extra="", timeout: float = 5, capsys=None):
    """`scan` of one cluster; in this process when `capsys` is given, else the real CLI in a subprocess."""
    cfg = tmp_path / f"scan-{name}.yaml"
    cfg.write_text(f"system: {{name: k8s test, level: 3}}\nkubernetes:\n"
                   f"  - {{name: {name}, kubeconfig: {kubeconfig}, page_size: 3, timeout_seconds: {timeout}{extra}}}\n")
    out = tmp_path / f"out-{name}"
    argv = ("scan", "--config", str(cfg), "--out", str(out), "--quiet", "--no-zip", "--no-history")
    return (cli_inprocess(capsys, *argv) if capsys is not None else run_cli(*argv)), out


@pytest.mark.k8s
@pytest.mark.parametrize("kind", ["403", "500", "garbage", "empty"])
def test_kubernetes_version_failure_is_partial(k8s_behind_proxy, tmp_path, capsys, kind):
    srv, proxy, kubeconfig = k8s_behind_proxy("weak")
    proxy.fault(kind, path=r"^/version/?$")
    r, out = k8s_scan(tmp_path, kubeconfig, capsys=capsys)
    assert r.returncode == 3, r.stderr
    assert load_bundle(out).manifest["partial"] is True
    assert named(r.stderr, "kubernetes/c", "(1 cluster"), r.stderr  # the cluster, with the cause of its /version
    v = [f for f in load_bundle(out).findings if f["resource_type"] == "k8s.cluster" and f["status"] == "pass"]
    assert not any(f["check_id"] == "k8s.version.supported" for f in v)


@pytest.mark.k8s
def test_kubernetes_list_items_that_are_not_objects_are_an_error(k8s_behind_proxy, tmp_path, capsys):
    srv, proxy, kubeconfig = k8s_behind_proxy("weak")

    def junk(doc):
        doc["items"] = [1, "two", None] + doc["items"][1:]
        return doc

    proxy.fault("mutate", path=r"^/api/v1/pods$", mutate=junk)
    r, out = k8s_scan(tmp_path, kubeconfig, capsys=capsys)
    assert r.returncode == 3, r.stderr
    res = load_bundle(out)
    assert res.manifest["partial"] is True
    pods = [x for x in res.records.values() if x["source"] == "list:pods"]
    assert any(x["status"] == "error" and "not objects" in (x["error"] or "") for x in pods), [x["error"] for x in pods]
    cov = {(c["asset_type"], c["status"]) for c in res.inventory["coverage"]}
    assert ("k8s.workload", "error") in cov
    assert named(r.stderr, "kubernetes/c", "list items are not objects"), r.stderr


@pytest.mark.k8s
def test_a_retried_and_answered_call_is_not_partial(k8s_behind_proxy, tmp_path, capsys):
    srv, proxy, kubeconfig = k8s_behind_proxy("weak")
    proxy.fault("500", path=r"^/api/v1/pods$", times=1)
    r, out = k8s_scan(tmp_path, kubeconfig, capsys=capsys)
    # 3 only from error findings (the kubelet checks without kubelet_config), never from a partial scan
    assert r.returncode in (1, 3), r.stderr
    res = load_bundle(out)
    assert res.manifest["partial"] is False
    retried = [x for x in res.records.values() if x["source"] == "list:pods" and x["status"] == "error"]
    assert retried and all(x["request"].get("retried") is True for x in retried)
    assert "partial" not in r.stderr


def test_not_offered_here_is_not_partial(tmp_path):
    """`not_available` (a service not offered in a region) is not a failure; `error`/`denied` are."""
    from mlps_scan.completeness import counts_as_failed, is_partial
    assert not counts_as_failed("not_available", {})
    assert counts_as_failed("error", {}) and counts_as_failed("denied", {"attempt": 2})
    assert not counts_as_failed("error", {"retried": True})
    assert not is_partial([], [{"status": "not_available"}])
    assert is_partial([], [{"status": "denied"}])



def test_a_failed_call_no_asset_shows_is_still_named_once():
    """partial_reasons names failed evidence the coverage and the assets' errors do not already name (a call
    whose failure leaves no gap, e.g. a document that could not be copied), and does not repeat one they do."""
    from mlps_scan.completeness import Failure
    from mlps_scan.models import Coverage, EvidenceStatus, Inventory
    from mlps_scan.terminal import partial_reasons
    inv = Inventory(assets=[], coverage=[Coverage(
        scope="aws/prod/123456789012/cn-north-1", asset_type="aws.s3.bucket",
        status=EvidenceStatus.denied, reason="s3:ListBuckets: AccessDenied: no", evidence=["e1"])])
    failures = [Failure("e1", "aws", "prod", "s3:ListBuckets", "denied", "AccessDenied: no"),
                Failure("e2", "static", "a", "document:missing.pdf", "error", "not found: missing.pdf"),
                Failure("e3", "static", "a", "document:\x1b[2Jevil.pdf", "error", "not found")]
    lines = partial_reasons(inv, failures=failures)
    assert [ln for ln in lines if ln.startswith("aws/prod")] == [
        "aws/prod 123456789012/cn-north-1: AccessDenied on s3:ListBuckets (1 kind of asset not listed)"]
    assert any(ln.startswith("static/a") and "document:missing.pdf" in ln for ln in lines), lines
    assert not any("\x1b" in ln for ln in lines), lines  # names from input are escaped
