"""The Kubernetes collector behind the fault proxy (HTTPS in front of tests/k8s_apiserver.py): paging that
never ends, a hung or trickling server, broken answers. A repeated `continue` token or the page cap is an
error for that list (never a traceback, never a silent stop); `timeout_seconds` is the wall time of one call
and nothing retries behind the collector's back; library warnings never reach the terminal."""
from __future__ import annotations

import pytest

from faultproxy import FAULTS
from relhelp import load_bundle
from test_partial import k8s_scan

pytestmark = pytest.mark.k8s

LISTS = r"^/(api|apis/[^/]+)/v1/[a-z]+$"


def test_repeated_continue_token_is_an_error_for_that_list(k8s_behind_proxy, tmp_path, capsys):
    srv, proxy, kubeconfig = k8s_behind_proxy("weak")
    first: list[str] = []

    def hand_back_the_first_token(doc):
        tok = (doc.get("metadata") or {}).get("continue")
        if tok:
            first.append(tok)
            doc["metadata"]["continue"] = first[0]
        return doc

    proxy.fault("mutate", path=r"^/api/v1/pods$", mutate=hand_back_the_first_token)
    r, out = k8s_scan(tmp_path, kubeconfig, capsys=capsys)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    res = load_bundle(out)
    errs = [x["error"] for x in res.by_source("list:pods") if x["status"] == "error"]
    assert any("continue token repeated" in e for e in errs), errs
    assert proxy.seen["/api/v1/pods"] == 2  # page 1, page 2 (which handed page 1's token back), no more
    cov = {(c["asset_type"], c["status"]) for c in res.inventory["coverage"]}
    assert ("k8s.workload", "error") in cov
    assert "kubernetes/c: continue token repeated" in r.stderr, r.stderr


def test_page_cap_is_an_error_not_a_silent_stop(k8s_api, tmp_path, capsys):
    srv = k8s_api("weak")  # 9 pods: 3 pages of 3
    r, out = k8s_scan(tmp_path, srv.kubeconfig, extra=", max_pages: 2", capsys=capsys)
    assert r.returncode == 3, r.stderr
    errs = [x["error"] for x in load_bundle(out).by_source("list:pods") if x["status"] == "error"]
    assert any("more than 2 pages" in e for e in errs), errs
    cov = {(c["asset_type"], c["status"]) for c in load_bundle(out).inventory["coverage"]}
    assert ("k8s.workload", "error") in cov


def test_a_hung_server_costs_one_call_and_prints_no_library_warnings(k8s_behind_proxy, tmp_path):
    srv, proxy, kubeconfig = k8s_behind_proxy("weak")
    proxy.fault("hang", path=".*")
    r, out = k8s_scan(tmp_path, kubeconfig, timeout=1)
    assert r.returncode == 3, r.stderr
    assert sum(proxy.seen.values()) == 1, dict(proxy.seen)  # /version once: no retries, no lists asked
    res = load_bundle(out)
    ver = res.by_source("version")
    assert len(ver) == 1 and ver[0]["status"] == "error" and ver[0]["error"].startswith("timed out")
    cov = {(c["asset_type"], c["status"], c["reason"].split(":")[0]) for c in res.inventory["coverage"]
           if c["asset_type"].startswith("k8s.")}
    assert ("k8s.workload", "error", "not asked") in cov
    assert "urllib3" not in r.stderr and "Retrying" not in r.stderr and "WARNING" not in r.stderr
    assert all(line.startswith(("partial scan", "  ")) for line in r.stderr.splitlines()), r.stderr


@pytest.mark.parametrize("kind", ["hang", "trickle"])
def test_timeout_is_the_wall_time_of_one_call(k8s_behind_proxy, tmp_path, capsys, kind):
    """A list that hangs, or answers one byte at a time (each read quick, the whole not), fails once, after its
    timeout, and is not retried; the rest of the cluster is still collected."""
    srv, proxy, kubeconfig = k8s_behind_proxy("weak")
    proxy.trickle_seconds = 0.3
    proxy.fault(kind, path=r"^/api/v1/pods$")
    r, out = k8s_scan(tmp_path, kubeconfig, timeout=1, capsys=capsys)
    assert r.returncode == 3, r.stderr
    assert proxy.seen["/api/v1/pods"] == 1
    res = load_bundle(out)
    pods = res.by_source("list:pods")
    assert len(pods) == 1 and pods[0]["status"] == "error" and pods[0]["error"].startswith("timed out"), pods
    assert any(x["status"] == "ok" for x in res.by_source("list:nodes"))


@pytest.mark.parametrize("kind", FAULTS)
def test_every_fault_on_every_list_is_an_error_never_a_pass(k8s_behind_proxy, tmp_path, capsys, kind):
    """Each fault on every list call and /version at once: every record is a failure, nothing passes."""
    srv, proxy, kubeconfig = k8s_behind_proxy("weak")
    proxy.fault(kind, path=LISTS + "|^/version/?$")
    r, out = k8s_scan(tmp_path, kubeconfig, timeout=1, capsys=capsys)
    assert r.returncode == 3, r.stderr
    res = load_bundle(out)
    api = [x for x in res.records.values() if x["source"] == "version" or x["source"].startswith("list:")]
    assert api and not [x["source"] for x in api if x["status"] == "ok"]
    k8s_pass = [f for f in res.findings if f["check_id"].startswith("k8s.") and f["status"] == "pass"]
    assert not k8s_pass, [(f["check_id"], f["resource_id"]) for f in k8s_pass][:5]
