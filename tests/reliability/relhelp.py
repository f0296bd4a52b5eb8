"""Helpers shared by the reliability suite: an in-process scan (the real pipeline, collectors talking to their
peers over the network; nothing mocked) and readers of what it wrote."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ScanResult:
    out: Path
    partial: bool
    exit: int
    findings: list[dict]
    records: dict[str, dict]
    inventory: dict
    manifest: dict

    @property
    def verdicts(self) -> dict[tuple[str, str], str]:
        res: dict[tuple[str, str], str] = {}
        for f in self.findings:
            k = (f["check_id"], f["resource_id"])
            res[k] = f["status"] if k not in res or res[k] == f["status"] else "mixed"
        return res

    def by_source(self, source: str) -> list[dict]:
        return [r for r in self.records.values() if r["source"] == source]


def load_bundle(out: Path, exit_code: int | None = None) -> ScanResult:
    out = Path(out)
    m = json.loads((out / "manifest.json").read_text())
    findings = json.loads((out / "findings.json").read_text()) if (out / "findings.json").exists() else []
    recs = {}
    for p in (out / "evidence").glob("*.json"):
        r = json.loads(p.read_text())
        recs[r["id"]] = r
    inv = json.loads((out / "inventory.json").read_text())
    return ScanResult(out, m["partial"], exit_code if exit_code is not None else -1, findings, recs, inv, m)


def scan_inprocess(config: Path, out: Path, level: int = 3) -> ScanResult:
    """`mlps-scan scan` without the interpreter start-up: the same pipeline the CLI runs."""
    from mlps_scan import pipeline
    from mlps_scan.runner import exit_code
    ev = pipeline.scan(config, out=out, level=level, profile_path=None, zip_bundle=False)
    return load_bundle(out, exit_code(ev.findings, ev.partial))


def aws_upstream(moto_server) -> str:
    """Where a fault proxy in front of the AWS estate forwards to: the gap peer when the moto fixture runs one
    (it answers the few operations moto lacks and relays the rest to moto; a target's endpoint_url sends every
    service to the proxy, so the proxy must reach them too), else moto itself."""
    peer = getattr(moto_server, "peer", None)
    return peer.url if peer is not None else moto_server.url


def aws_config(tmp: Path, endpoint: str, *, region: str = "cn-north-1", timeout: float | None = None,
               workers: int = 8) -> Path:
    cfg = tmp / "scan.yaml"
    tmp.mkdir(parents=True, exist_ok=True)
    extra = f"\n    timeout_seconds: {timeout}" if timeout else ""
    cfg.write_text(f"system: {{name: T, level: 3}}\naws:\n  - name: acct\n    regions: [{region}]\n"
                   f"    endpoint_url: {endpoint}\n    max_workers: {workers}{extra}\n")
    return cfg


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli_inprocess(capsys, *argv, env: dict | None = None) -> Ran:
    """`mlps-scan ARGV` through cli.main in this process (no interpreter start-up), output captured by capsys.
    Only for cases that cannot hang (a FIFO test runs in a subprocess with a timeout)."""
    import os
    from mlps_scan.cli import main
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        capsys.readouterr()
        rc = main([str(a) for a in argv])
        out = capsys.readouterr()
        return Ran(rc, out.out, out.err)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
