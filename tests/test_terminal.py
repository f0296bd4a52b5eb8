"""The terminal: progress per collector target, a partial scan says why (one line per target and cause), and
library warnings (urllib3 retries against a dead API server) go to scan.log in the bundle, not the screen."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from conftest import SAMPLE, run_cli
from mlps_scan.models import Asset, Coverage, EvidenceStatus, Inventory
from mlps_scan.terminal import partial_reasons, plain, short_cause


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.mark.parametrize("reason,cause", [
    ("s3:GetBucketPolicy: AccessDenied: User: arn:aws-cn:iam::1:user/a is not authorized to perform: s3:GetBucketPolicy",
     "AccessDenied on s3:GetBucketPolicy"),
    ("iam:GetCredentialReport: HTTP 500: internal failure", "HTTP 500 on iam:GetCredentialReport"),
    ("MaxRetryError: HTTPSConnectionPool(host='10.0.0.1', port=6443): Max retries exceeded with url: /api/v1/nodes "
     "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection>: Failed to establish a new connection: "
     "[Errno 111] Connection refused'))", "connection refused https://10.0.0.1:6443"),
    ("ReadTimeoutError: HTTPSConnectionPool(host='api.example', port=443): Read timed out.", "timed out https://api.example:443"),
    ("host key refused: web01 / 10.0.0.5 not in known_hosts (unknown host key ssh-ed25519 SHA256:abc); add it",
     "host key not in known_hosts"),
    ("host key unverifiable: known_hosts file /root/.ssh/known_hosts not found (add the host keys, or --tofu)",
     "host key unverifiable: known_hosts file /root/.ssh/known_hosts not found"),
    (None, "not collected"),
])
def test_short_causes(reason, cause):
    assert short_cause(reason) == cause


def test_partial_reasons_are_one_line_per_target_and_cause():
    scope = "aws/prod/123456789012/cn-north-1"
    denied = "s3:GetBucketPolicy: AccessDenied: not authorized"
    inv = Inventory(
        assets=[Asset(type="aws.s3.bucket", id=f"arn:aws-cn:s3:::b{i}", scope=scope,
                      errors={"policy": denied, "policy_public": denied}) for i in range(3)]
        + [Asset(type="host", id="10.0.0.5", scope="hosts/web/10.0.0.5", errors={"ssh": "host key refused: 10.0.0.5 "
                                                                                  "not in known_hosts (unknown host key x)"})],
        coverage=[Coverage(scope="kubernetes/prod", asset_type=t, status=EvidenceStatus.error,
                           reason="MaxRetryError: HTTPSConnectionPool(host='10.0.0.1', port=6443): [Errno 111] "
                                  "Connection refused") for t in ("k8s.node", "k8s.namespace", "k8s.workload")]
        + [Coverage(scope=scope, asset_type="aws.s3.bucket", status=EvidenceStatus.ok)],
    )
    lines = partial_reasons(inv, ["aws/stage"])
    assert lines == [
        "kubernetes/prod: connection refused https://10.0.0.1:6443 (3 kinds of asset not listed)",
        "aws/prod 123456789012/cn-north-1: AccessDenied on s3:GetBucketPolicy (3 buckets)",
        "hosts/web 10.0.0.5: host key not in known_hosts (1 host)",
        "aws/stage: collector failed",
    ]


def test_terminal_text_is_plain():
    assert plain("evil\x1b[2J\x1b]0;title\x07name") == "evil\\x1b[2J\\x1b]0;title\\x07name"  # shown, not run
    assert plain("a" * 400, 10) == "a" * 9 + "…"


def test_dead_api_server_retries_go_to_the_scan_log_not_the_terminal(tmp_path):
    port = _closed_port()
    (tmp_path / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: dead, cluster: {{server: 'https://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: abc}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u}}]\ncurrent-context: dead\n")
    (tmp_path / "scan.yaml").write_text("system: {name: Dead, level: 3}\n"
                                        "kubernetes: [{name: prod, kubeconfig: kubeconfig}]\n")
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(tmp_path / "scan.yaml"), "--out", str(out), "--no-history", "--lang", "en")
    assert r.returncode == 3, r.stderr
    assert "urllib3" not in r.stderr and "Retrying" not in r.stderr, r.stderr[:2000]
    lines = [ln.strip() for ln in r.stderr.splitlines() if ln.strip()]
    assert lines[0] == "partial scan: evidence not collected:"
    assert [ln for ln in lines[1:] if ln.startswith("kubernetes/prod")] == \
        [f"kubernetes/prod: connection refused https://127.0.0.1:{port} (1 cluster, "
         f"{lines[1].split('1 cluster, ')[1].split(' ')[0]} kinds of asset not listed)"]
    assert len(lines) == 2, "one line per target and cause"
    assert "partial scan" in r.stdout  # then the counts
    log = (out / "scan.log").read_text()
    assert "Retrying" not in log  # urllib3 does not retry behind the collector: each attempt is recorded evidence
    assert "scan.log" in {f["path"] for f in json.loads((out / "manifest.json").read_text())["files"]}
    assert run_cli("verify", str(out)).returncode == 0
    # --quiet still says why (stderr), and nothing else
    r = run_cli("scan", "--config", str(tmp_path / "scan.yaml"), "--out", str(out), "--no-history", "--quiet",
                "--lang", "zh")
    assert r.returncode == 3 and r.stdout == ""
    assert r.stderr.splitlines()[0].startswith("部分证据未能采集") and "urllib3" not in r.stderr


def test_a_complete_quiet_scan_prints_nothing(tmp_path):
    r = run_cli("scan", "--config", str(SAMPLE), "--out", str(tmp_path / "o"), "--quiet")
    assert r.returncode == 1 and r.stdout == "" and r.stderr == ""
    assert (tmp_path / "o" / "scan.log").is_file()


def test_jsonl_progress_names_targets_with_counts(tmp_path):
    r = run_cli("scan", "--config", str(SAMPLE), "--out", str(tmp_path / "o"), "--progress", "jsonl", "--no-history")
    assert r.returncode == 1, r.stderr
    events = [json.loads(ln) for ln in r.stderr.splitlines() if ln.startswith("{")]
    targets = {e["target"] for e in events if "target" in e}
    assert {"static/aws-recorded", "static/hosts-recorded", "static/kubernetes-recorded"} <= targets
    done = [e for e in events if e.get("target") == "static/aws-recorded" and e["event"].endswith(": done")]
    assert done and done[0]["assets"] > 10 and done[0]["errors"] == 0
    assert any(e["event"] == "evaluating checks" for e in events)


def test_rich_progress_draws_a_line_per_target(tmp_path):
    """Forced on (not a terminal here), the live table ends showing each target with its counts."""
    r = run_cli("scan", "--config", str(SAMPLE), "--out", str(tmp_path / "o"), "--progress", "rich", "--no-history",
                env={"COLUMNS": "140"})
    assert r.returncode == 1, r.stderr
    lines = r.stderr.splitlines()
    assert any(ln.split()[:1] == ["target"] and "calls" in ln and "assets" in ln and "errors" in ln for ln in lines)
    for t in ("static/aws-recorded", "static/hosts-recorded", "static/kubernetes-recorded", "static/network"):
        assert any(ln.startswith(t) for ln in lines), (t, r.stderr)


def test_sessions_count_calls_per_region(tmp_path):
    from mlps_scan.evidence import Recorder
    from mlps_scan.plugins import CollectSession
    s = CollectSession("aws", "prod", Recorder(tmp_path), base_dir=Path("."))
    s.record("s3:ListBuckets", {"Buckets": []}, request={"region": "cn-north-1"})
    s.record("ec2:DescribeVpcs", None, request={"region": "cn-northwest-1"}, status="denied", error="AccessDenied")
    s.record("ec2:DescribeVpcs", {"Vpcs": []}, request={"region": "cn-north-1"})
    assert s.parts == {"cn-north-1": {"calls": 2, "errors": 0}, "cn-northwest-1": {"calls": 1, "errors": 1}}
    assert s.errors == 1
