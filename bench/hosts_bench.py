#!/usr/bin/env python3
"""Host collection at 1, 10 and 50 hosts: real sshd daemons on loopback addresses 127.0.214.1-50 (the test
bed's HostBed, chrooted busybox roots), one `mlps-scan collect` per size with nmap discovery on 3 ports.

Prints the wall time, SSH sessions and channels per host as counted by the sshd daemons themselves (their
DEBUG1 logs: "Accepted publickey" = a session, "server_input_channel_open" = a channel), and wall(50)/wall(1).
Needs root, sshd, nmap and busybox-static. Run: .venv/bin/python bench/hosts_bench.py [--sizes 1,10,50]
"""
from __future__ import annotations

import argparse
import os
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from fixtures.hosts import COMPLIANT, HostBed, missing_requirements  # noqa: E402

NET = "127.0.214."


def run(n: int, parallel: int) -> dict:
    bed = HostBed()
    try:
        t0 = time.monotonic()
        for i in range(1, n + 1):
            bed.add_sshd({**COMPLIANT, "hostname": f"h{i:02d}"}, f"{NET}{i}", log_level="DEBUG1")
        bed.wait_ready(timeout=60)
        setup = time.monotonic() - t0
        kh = bed.known_hosts()

        def collect(discover: bool, tag: str):
            cfg = bed.base / f"scan-{tag}.yaml"
            cfg.write_text(json.dumps({"system": {"name": "bench", "level": 3}, "hosts": [{
                "name": "bench", "targets": [f"{NET}{i}" for i in range(1, n + 1)], "ports": [22, 23, 3389],
                "parallel": parallel, "discover": discover,
                "ssh": {"user": "root", "key": str(bed.client_key), "known_hosts": str(kh), "use_ssh_config": False}}]}))
            out = bed.base / f"out-{tag}"
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t1 = time.monotonic()
            r = subprocess.run([sys.executable, "-m", "mlps_scan", "collect", "--config", str(cfg), "--out", str(out),
                                "--quiet", "--no-zip"], capture_output=True, text=True, cwd=ROOT)
            if r.returncode != 0:
                raise SystemExit(f"collect failed ({r.returncode}): {r.stderr}")
            wall = time.monotonic() - t1
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the scanner process and its nmap, not the sshds
            cpu_box[tag] = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
            return wall, out

        cpu_box: dict[str, float] = {}
        facts_only, _ = collect(False, "facts")
        for h in bed.hosts.values():  # count only the full run's sessions
            (h.dir / "sshd.log").write_text("")
        wall, out = collect(True, "full")
        ev = [json.loads(p.read_text()) for p in (out / "evidence").glob("*.json")]
        ok = sum(1 for e in ev if e["source"].startswith("facts:") and e["status"] == "ok")
        nmap_t = next((e for e in ev if e["source"] == "nmap"), None)
        sessions = channels = 0
        for h in bed.hosts.values():
            log = (h.dir / "sshd.log").read_text(errors="replace")
            sessions += log.count("Accepted publickey")
            channels += log.count("server_input_channel_open: ctype session")
        return {"hosts": n, "ok": ok, "setup_s": setup, "wall_s": wall, "sessions_per_host": sessions / n,
                "channels_per_host": channels / n, "facts_only_s": facts_only, "scanner_cpu_s": cpu_box["full"], "nmap_runs": sum(1 for e in ev if e["source"] == "nmap"),
                "nmap_ok": bool(nmap_t and nmap_t["status"] == "ok")}
    finally:
        bed.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,10,50")
    ap.add_argument("--parallel", type=int, default=16, help="hosts collected at once (the collector's default)")
    a = ap.parse_args()
    why = missing_requirements()
    if why:
        raise SystemExit(f"skip: {why}")
    rows = [run(int(n), a.parallel) for n in a.sizes.split(",")]
    print(f"{'hosts':>5} {'ok':>4} {'setup s':>8} {'wall s':>7} {'no-nmap s':>9} {'sessions/host':>14} "
          f"{'channels/host':>14} {'nmap runs':>9} {'scanner cpu s':>13}")
    for r in rows:
        print(f"{r['hosts']:>5} {r['ok']:>4} {r['setup_s']:>8.2f} {r['wall_s']:>7.2f} {r['facts_only_s']:>9.2f} "
              f"{r['sessions_per_host']:>14.2f} {r['channels_per_host']:>14.2f} {r['nmap_runs']:>9} {r['scanner_cpu_s']:>13.2f}")
    w = {r["hosts"]: r["wall_s"] for r in rows}
    if 1 in w and max(w) > 1:
        big = max(w)
        print(f"wall({big})/wall(1) = {w[big] / w[1]:.2f}  (per-host cost: {w[big] / big:.3f}s vs {w[1]:.3f}s)")
        f = {r["hosts"]: r["facts_only_s"] for r in rows}
        print(f"without nmap: wall({big})/wall(1) = {f[big] / f[1]:.2f}")
        print(f"note: the {big} 'remote' sshds and their fact scripts share this machine's {os.cpu_count()} CPUs with "
              "the scanner; on a real fleet each host runs its own script")


if __name__ == "__main__":
    main()
