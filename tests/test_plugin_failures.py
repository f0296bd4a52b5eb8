"""A third-party plugin that fails to load is recorded, never dropped silently: the terminal, the manifest
and the report name it, and the controls its checks would evidence say `error`. The plugins here are real
installed distributions (a dist-info with entry points on PYTHONPATH), loaded by a real `mlps-scan` run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SAMPLE, run_cli

ACME_CHECKS = '''\
"""Acme's physical-security checks: need the Acme badge SDK."""
import acme_badge_sdk_not_installed  # the plugin's dependency is missing

from mlps_scan.plugins import check, passed


@check(id="acme.physical.badge_log", title_en="Badge log kept", title_zh="门禁记录留存",
       controls={3: ["L3-PES1-04", "L3-PES1-05"]}, asset_type="acme.badge_reader")
def badge_log(asset, ctx):
    return passed("kept")


@check(id="acme.physical.cctv", title_en="CCTV recorded", title_zh="视频监控", controls={3: ["L3-PES1-06"]},
       asset_type="acme.camera")
def cctv(asset, ctx):
    return passed("recorded")
'''


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    dist = site / "acme_mlps_plugins-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-mlps-plugins\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[mlps_scan.checks]\nacme = acme_checks\nacme-typo = acme_typo\n\n"
                                           "[mlps_scan.collectors]\nacme-cloud = acme_cloud:AcmeCloudCollector\n")
    (site / "acme_checks.py").write_text(ACME_CHECKS, encoding="utf-8")
    (site / "acme_typo.py").write_text("def broken(:\n")
    (site / "acme_cloud.py").write_text("raise RuntimeError('acme cloud SDK refused to start')\n")
    return site


@pytest.fixture(scope="module")
def scanned(broken_site, tmp_path_factory):
    out = tmp_path_factory.mktemp("broken") / "out"
    r = run_cli("scan", "--config", str(SAMPLE), "--level", "3", "--out", str(out), "--no-history",
                env={"PYTHONPATH": str(broken_site)})
    return r, out


def test_the_terminal_names_each_broken_plugin(scanned):
    r, out = scanned
    assert r.returncode == 3, r.stderr  # error findings: the scan is not a clean one
    lines = [x for x in r.stderr.splitlines() if "failed to load" in x]
    assert any("plugin acme (mlps_scan.checks: acme_checks) failed to load: ModuleNotFoundError" in x
               and "acme.physical.badge_log, acme.physical.cctv" in x for x in lines), r.stderr
    assert any("plugin acme-typo" in x and "SyntaxError" in x and "its checks did not run" in x for x in lines)
    assert any("plugin acme-cloud" in x and "RuntimeError: acme cloud SDK refused to start" in x for x in lines)
    assert "Traceback" not in r.stderr


def test_the_controls_its_checks_evidence_say_error(scanned):
    _, out = scanned
    controls = {c["control_id"]: c for c in json.loads((out / "controls.json").read_text())}
    for cid, check_id in (("L3-PES1-04", "acme.physical.badge_log"), ("L3-PES1-05", "acme.physical.badge_log"),
                          ("L3-PES1-06", "acme.physical.cctv")):
        assert controls[cid]["status"] == "error", controls[cid]  # manual without the plugin (golden copy)
        assert check_id in controls[cid]["checks"]
    assert controls["L3-PES1-07"]["status"] == "manual"  # untouched
    findings = [f for f in json.loads((out / "findings.json").read_text()) if f["resource_type"] == "plugin"]
    by_check = {f["check_id"]: f for f in findings}
    badge = by_check["acme.physical.badge_log"]
    assert badge["status"] == "error" and badge["control_ids"] == ["L3-PES1-04", "L3-PES1-05"]
    assert badge["message"].startswith("plugin acme failed to load (ModuleNotFoundError")
    typo = by_check["plugin:acme-typo"]  # its checks are unknown: still a finding, on no control
    assert typo["status"] == "error" and typo["control_ids"] == [] and "unknown" in typo["message"]


def test_the_manifest_and_the_report_record_them(scanned):
    _, out = scanned
    manifest = json.loads((out / "manifest.json").read_text())
    failures = {p["name"]: p for p in manifest["plugin_failures"]}
    assert set(failures) == {"acme", "acme-typo", "acme-cloud"}
    assert failures["acme"]["checks"] == {"acme.physical.badge_log": {"3": ["L3-PES1-04", "L3-PES1-05"]},
                                          "acme.physical.cctv": {"3": ["L3-PES1-06"]}}
    assert failures["acme-typo"]["checks"] == {} and "SyntaxError" in failures["acme-typo"]["checks_unknown"]
    assert failures["acme-cloud"]["group"] == "mlps_scan.collectors"
    report = (out / "report.html").read_text()
    assert "Plugins that failed to load" in report and "acme_checks" in report and "acme_cloud:AcmeCloudCollector" in report
    r = run_cli("verify", str(out))
    assert r.returncode == 0, r.stderr


def test_without_the_broken_plugins_nothing_is_recorded(sample_bundle):
    manifest = json.loads((sample_bundle / "manifest.json").read_text())
    assert manifest["plugin_failures"] == []
    assert "Plugins that failed to load" not in (sample_bundle / "report.html").read_text()


def test_a_config_naming_a_broken_collector_says_why(broken_site, tmp_path):
    cfg = tmp_path / "scan.yaml"
    cfg.write_text("system: {name: x, level: 3}\nacme-cloud: [{name: prod}]\n")
    r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / "o"), env={"PYTHONPATH": str(broken_site)})
    assert r.returncode == 2
    assert "acme-cloud" in r.stderr and "collector plugin acme-cloud failed to load" in r.stderr


# --------------------------------------------------------------------------- failures that used to end the run

BAD_IDS = '''\
from mlps_scan.plugins import check, passed


@check(id="acme.firewall.typo", title_en="x", title_zh="x", controls={3: ["L3-ABS1-05", "L3-ABS1-99"]},
       asset_type="network.firewall")
def typo(asset, ctx):
    return passed("ok")


@check(id="acme.firewall.fine", title_en="y", title_zh="y", controls={3: ["L3-ABS1-06"]}, asset_type="network.firewall")
def fine(asset, ctx):
    return passed("fine")
'''

EXITS = '''\
import sys
from mlps_scan.plugins import check, passed


@check(id="acme.exit.early", title_en="x", title_zh="x", controls={3: ["L3-PES1-07"]}, asset_type="network.firewall")
def early(asset, ctx):
    return passed("ok")


sys.exit("licence server unreachable")
'''


@pytest.fixture(scope="module")
def misbehaving(tmp_path_factory):
    site = tmp_path_factory.mktemp("misbehaving")
    dist = site / "acme_more-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-more\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[mlps_scan.checks]\nacme-ids = acme_ids\nacme-exit = acme_exit\n\n"
        "[mlps_scan.collectors]\nacme-func = acme_func:make_collector\nacme-empty = acme_func\n")
    (site / "acme_ids.py").write_text(BAD_IDS)
    (site / "acme_exit.py").write_text(EXITS)
    (site / "acme_func.py").write_text("def make_collector():\n    return None\n")
    out = tmp_path_factory.mktemp("misbehaving-out") / "out"
    r = run_cli("scan", "--config", str(SAMPLE), "--level", "3", "--out", str(out), "--no-history",
                env={"PYTHONPATH": str(site)})
    return r, out


def test_a_misbehaving_plugin_is_recorded_and_the_scan_goes_on(misbehaving):
    r, out = misbehaving
    assert r.returncode == 3, r.stderr  # error findings for the dropped checks' controls, bundle written
    assert (out / "manifest.json").exists() and "Traceback" not in r.stderr
    failures = {p["name"]: p for p in json.loads((out / "manifest.json").read_text())["plugin_failures"]}
    # (a) a check mapping to an id missing from the catalogue: that check is dropped, its sibling runs
    ids = failures["acme-ids"]
    assert "acme.firewall.typo" in ids["error"] and "L3-ABS1-99" in ids["error"]
    assert ids["checks"] == {"acme.firewall.typo": {"3": ["L3-ABS1-05", "L3-ABS1-99"]}}
    findings = json.loads((out / "findings.json").read_text())
    typo = [f for f in findings if f["check_id"] == "acme.firewall.typo"]
    assert [(f["status"], f["control_ids"]) for f in typo] == [("error", ["L3-ABS1-05"])]
    assert any(f["check_id"] == "acme.firewall.fine" and f["status"] == "pass" for f in findings)
    # (b) sys.exit() at import: recorded, its checks not left half-registered
    ex = failures["acme-exit"]
    assert ex["error"] == "SystemExit: licence server unreachable" and "acme.exit.early" in ex["checks"]
    assert not any(f["check_id"] == "acme.exit.early" and f["status"] != "error" for f in findings)
    # (c) a collector entry point that is no Collector
    assert "not a Collector subclass" in failures["acme-func"]["error"]
    assert "defines no Collector" in failures["acme-empty"]["error"]
    lines = [x for x in r.stderr.splitlines() if "failed to load" in x]
    assert {n for n in ("acme-ids", "acme-exit", "acme-func", "acme-empty") if any(f"plugin {n} " in x for x in lines)} \
        == {"acme-ids", "acme-exit", "acme-func", "acme-empty"}, r.stderr
