"""Shared fixtures. Boundary tests (moto server, sshd + nmap, the Kubernetes API fixture server) live in
their own modules with their own fixtures; this file holds what every test may use."""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_inventories" / "acme-shop" / "scan.yaml"
# the date the sample's waivers and attestations are judged at: fixed, so the sample's outputs do not move
# with the calendar (scripts/update-golden uses the same date)
SAMPLE_AS_OF = "2026-11-29"
# the independent output checker lives in shared/ beside the checkout (or beside one of its parents)
CHECK_BUNDLE = next((d / "shared" / "tools" / "check-bundle" for d in ROOT.parents
                     if (d / "shared" / "tools" / "check-bundle").exists()),
                    ROOT.parent / "shared" / "tools" / "check-bundle")

# the scan history: never the real user data dir. Every test (in-process or through run_cli) writes to a
# throw-away file unless it passes its own MLPS_SCAN_HISTORY.
_HISTORY_DIR = tempfile.mkdtemp(prefix="mlps-scan-test-history-")
atexit.register(shutil.rmtree, _HISTORY_DIR, True)
TEST_HISTORY = str(Path(_HISTORY_DIR) / "history.sqlite3")
os.environ["MLPS_SCAN_HISTORY"] = TEST_HISTORY

# each test bed keeps its fixtures in tests/fixtures/<bed>.py
pytest_plugins = sorted(f"fixtures.{p.stem}" for p in (Path(__file__).parent / "fixtures").glob("*.py")
                        if not p.stem.startswith("_"))


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 300):
    """Run the real command line in a fresh interpreter; returns CompletedProcess (text)."""
    e = dict(os.environ)
    e["MLPS_SCAN_HISTORY"] = TEST_HISTORY
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "mlps_scan", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=e, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def sample_bundle(tmp_path_factory) -> Path:
    """One scan of the built-in sample, shared by the tests that only read it."""
    out = tmp_path_factory.mktemp("sample") / "out"
    r = run_cli("scan", "--config", str(SAMPLE), "--level", "3", "--out", str(out), "--quiet", "--as-of", SAMPLE_AS_OF)
    assert r.returncode in (0, 1, 3), r.stderr
    assert (out / "manifest.json").exists(), r.stderr
    return out


@pytest.fixture
def bundle_copy(sample_bundle, tmp_path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(sample_bundle, dst)
    return dst


def check_bundle(path: Path) -> subprocess.CompletedProcess:
    """The project-independent contract and secret check from ../shared/tools."""
    if not CHECK_BUNDLE.exists():
        pytest.skip(f"{CHECK_BUNDLE} not present")
    return subprocess.run([sys.executable, str(CHECK_BUNDLE), str(path)], capture_output=True, text=True, timeout=120)
