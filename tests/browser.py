"""A real browser for the report tests: the system Chromium (Debian package `chromium`, with `fonts-noto-cjk`
for Chinese) driven by Playwright for Python. Playwright never downloads a browser here; `.ci/run` installs the
Debian packages. Each launch gets a fresh profile and no background networking."""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def missing() -> str | None:
    """Why the browser tests cannot run here (None when they can). With MLPS_REQUIRE_BROWSER=1 (the CI) a
    missing browser is an error, not a skip."""
    why = None
    if not Path(CHROMIUM).exists():
        why = f"{CHROMIUM} not installed (apt-get install chromium fonts-noto-cjk; .ci/run does)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            why = "playwright (Python) not installed"
    if why and os.environ.get("MLPS_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests required but cannot run: {why}")
    return why


@contextmanager
def chromium(**context_options):
    """A persistent context on a fresh, throw-away profile; closed (and the profile removed) on exit."""
    from playwright.sync_api import sync_playwright
    profile = tempfile.mkdtemp(prefix="mlps-chromium-")
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
                                                       **context_options)
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
