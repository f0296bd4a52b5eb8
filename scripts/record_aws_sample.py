#!/usr/bin/env python3
"""Re-record the built-in sample's AWS evidence (sample_inventories/acme-shop/recorded/aws/) from a scan of a
seeded cn-north-1 moto estate (mixed compliant/non-compliant), with the gap peer (tests/fixtures/aws_peer.py)
answering the Systems Manager and AWS Backup operations moto lacks. Loopback only; needs moto[server]."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from fixtures.aws import _ENV, MotoBed, _free_port, seed_account, seed_region
    from fixtures.aws_peer import GapPeer
    os.environ.update(_ENV)
    from moto.server import ThreadedMotoServer
    port = _free_port()
    srv = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    srv.start()
    bed = MotoBed(f"http://127.0.0.1:{port}")
    peer = GapPeer(bed.url).start()
    try:
        seed_account(bed, "cn-north-1", compliant=True)
        seed_region(bed, "cn-north-1", compliant_defaults=True, peer=peer)
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "scan.yaml"
            cfg.write_text("system: {name: Acme Shop, level: 3}\naws:\n  - name: acme-cn\n    regions: [cn-north-1]\n")
            out = Path(tmp) / "out"
            r = subprocess.run([sys.executable, "-m", "mlps_scan", "collect", "--config", str(cfg), "--out", str(out),
                                "--no-zip", "--quiet"], env=dict(os.environ, AWS_ENDPOINT_URL=bed.url, **peer.env),
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(r.stderr, file=sys.stderr)
                return 1
            dst = ROOT / "sample_inventories" / "acme-shop" / "recorded" / "aws"
            shutil.rmtree(dst, ignore_errors=True)
            dst.mkdir(parents=True)
            for p in sorted((out / "evidence").glob("*.json")):
                shutil.copy(p, dst / p.name)
            n = len(list(dst.glob("*.json")))
            size = sum(p.stat().st_size for p in dst.glob("*.json"))
            print(f"{n} records, {size // 1024} KB -> {dst.relative_to(ROOT)}")
    finally:
        peer.stop()
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
