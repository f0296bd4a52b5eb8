"""Concurrency: several processes recording into one history at once (two scans finishing together, a CI job
running `history record` in parallel) all succeed; the history holds each bundle once."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from conftest import ROOT


def _spawn(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mlps_scan", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)


def test_concurrent_history_record_of_one_bundle(sample_bundle, tmp_path):
    hist = tmp_path / "history.sqlite3"
    env = {**os.environ, "MLPS_SCAN_HISTORY": str(hist)}
    procs = [_spawn("history", "record", str(sample_bundle), env=env) for _ in range(8)]
    results = [(p.wait(timeout=240), p.stdout.read(), p.stderr.read()) for p in procs]
    assert all(rc == 0 for rc, _, _ in results), [err for _, _, err in results]
    assert sum(out.startswith("recorded") for _, out, _ in results) == 1, [out for _, out, _ in results]
    assert sum(out.startswith("already recorded") for _, out, _ in results) == 7
    with sqlite3.connect(hist) as c:
        assert c.execute("SELECT COUNT(*) FROM scans").fetchone()[0] == 1


def test_concurrent_scans_record_into_one_history(tmp_path):
    hist = tmp_path / "history.sqlite3"
    env = {**os.environ, "MLPS_SCAN_HISTORY": str(hist)}
    cfg = ROOT / "sample_inventories" / "acme-shop" / "scan.yaml"
    procs = [_spawn("scan", "--config", str(cfg), "--level", str(level), "--out", str(tmp_path / f"out{level}"),
                    "--quiet", "--no-zip", "--history", str(hist), env=env)
             for level in (1, 2, 3)]  # three different bundles (the sample is recorded only into a named history)
    results = [(p.wait(timeout=280), p.stderr.read()) for p in procs]
    assert all(rc in (0, 1) for rc, _ in results), results  # the sample's findings; never 4
    assert not any("warning" in err for _, err in results), results
    with sqlite3.connect(hist) as c:
        assert c.execute("SELECT COUNT(*) FROM scans").fetchone()[0] == 3
