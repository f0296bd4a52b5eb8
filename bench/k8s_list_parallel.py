#!/usr/bin/env python3
"""Benchmark: the kubernetes collector's bounded pool over resource kinds vs one kind at a time.

Runs the real collector (real client, HTTPS) against the test API server with an added per-request latency
(default 40 ms, a nearby cloud API server), page size 3 on the `weak` fixture cluster, and prints the
wall-clock ratio serial / pooled. No assertion: a measurement.
    .venv/bin/python bench/k8s_list_parallel.py [latency_seconds]
"""
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from k8s_apiserver import FakeApiServer  # noqa: E402

from mlps_scan.collectors.kubernetes import KubeTarget, KubernetesCollector  # noqa: E402
from mlps_scan.evidence import Recorder  # noqa: E402
from mlps_scan.plugins import CollectSession  # noqa: E402

latency = float(sys.argv[1]) if len(sys.argv) > 1 else 0.04
with tempfile.TemporaryDirectory() as tmp:
    srv = FakeApiServer("weak", latency=latency).start(Path(tmp) / "api")
    try:
        times = {}
        for workers in (4, 1, 4):
            rec = Recorder(Path(tmp) / f"out{workers}-{time.perf_counter_ns()}")
            s = CollectSession("kubernetes", "weak", rec, base_dir=Path(tmp), options={"k8s_workers": workers})
            t = KubeTarget(name="weak", kubeconfig=str(srv.kubeconfig), page_size=3)
            t0 = time.perf_counter()
            KubernetesCollector().collect(t, s)
            times[workers] = time.perf_counter() - t0
            print(f"workers={workers}: {times[workers]:.2f} s, {s.api_calls} API calls, {len(s.assets)} assets")
    finally:
        srv.stop()
print("(the first pooled run warms up imports and TLS; the figures compared are the last of each)")
print(f"speed-up of the pool of 4 over serial listing at {latency * 1000:.0f} ms latency: {times[1] / times[4]:.1f}x")
