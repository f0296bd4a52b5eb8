#!/usr/bin/env python3
"""Kubernetes dump benchmark: `mlps-scan scan` of a generated `kubectl get -o json` dump (bench/k8s_dump.py:
pods with status blocks and digests, Deployments with kubectl's last-applied annotation, RBAC, Secrets...),
then `check` and `verify` of the bundle it wrote. Every command runs in its own process; the figures are that
process's wall time, CPU (user+sys) and peak RSS (from wait4), and peak RSS against the dump's size.

With `--baseline PYTHON` (an interpreter with another build installed, e.g. a venv holding the wheel of an
earlier commit) each scan runs with both builds in turn (A B A B ..., `--runs` pairs) and the ratios
new/baseline are printed (medians).

    .venv/bin/python bench/k8s_bench.py --sizes 10000 50000 --baseline /tmp/base/bin/python --runs 1
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import k8s_dump  # noqa: E402


def run(cmd: list[str], env: dict) -> dict:
    """One command in its own process: wall s, CPU s, peak RSS MB, exit code."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if p.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}: {err.strip()[-500:]}")
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024, "rc": p.returncode}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10000, 50000])
    ap.add_argument("--baseline", help="python of another build: run both, alternately, and print ratios")
    ap.add_argument("--runs", type=int, default=1, help="pairs of scans per size (medians)")
    ap.add_argument("--dir", help="where dumps and bundles go (default: a temporary folder)")
    a = ap.parse_args()
    work = Path(a.dir) if a.dir else Path(tempfile.mkdtemp(prefix="k8s-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MLPS_SCAN_HISTORY=str(work / "history.sqlite3"))
    builds = {"new": sys.executable}
    if a.baseline:
        builds["base"] = a.baseline
    try:
        for n in a.sizes:
            dump = work / f"k8s-{n}.json"
            if not dump.exists():
                k8s_dump.write(n, dump)
            size_mb = dump.stat().st_size / 2**20
            cfg = work / f"scan-{n}.yaml"
            cfg.write_text(f"system: {{name: Bench, level: 3}}\nstatic:\n  - {{name: cluster, path: {dump.name}}}\n")
            got: dict[str, list[dict]] = {b: [] for b in builds}
            for _ in range(a.runs):
                for name, py in builds.items():
                    out = work / f"out-{name}-{n}"
                    got[name].append(run([py, "-m", "mlps_scan", "scan", "--config", str(cfg), "--out", str(out),
                                          "--quiet", "--force"], env))
            med = {b: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "rss_mb")}
                   for b, rs in got.items()}
            new = med["new"]
            print(f"{n} objects, dump {size_mb:.0f} MB")
            print(f"  scan   wall {new['wall_s']:7.1f} s  CPU {new['cpu_s']:7.1f} s  peak RSS {new['rss_mb']:6.0f} MB "
                  f"({new['rss_mb'] / size_mb:.2f}x the dump)")
            if "base" in med:
                base = med["base"]
                print(f"  base   wall {base['wall_s']:7.1f} s  CPU {base['cpu_s']:7.1f} s  peak RSS {base['rss_mb']:6.0f} MB "
                      f"({base['rss_mb'] / size_mb:.2f}x the dump)")
                print(f"  ratio  wall {new['wall_s'] / base['wall_s']:.3f}  CPU {new['cpu_s'] / base['cpu_s']:.3f}  "
                      f"peak RSS {new['rss_mb'] / base['rss_mb']:.3f}")
            bundle = work / f"out-new-{n}"
            for cmd in (["check", str(bundle)], ["verify", str(bundle)]):
                r = run([sys.executable, "-m", "mlps_scan", *cmd], env)
                print(f"  {cmd[0]:6s} wall {r['wall_s']:7.1f} s  CPU {r['cpu_s']:7.1f} s  peak RSS {r['rss_mb']:6.0f} MB")
            sys.stdout.flush()
    finally:
        if not a.dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
