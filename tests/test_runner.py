"""Evaluation and aggregation on evidence fixtures: no evidence, no pass; every control of the level listed."""
from __future__ import annotations

from pathlib import Path

from mlps_scan.catalogue import load
from mlps_scan.evidence import Recorder
from mlps_scan.models import Asset, Coverage, EvidenceStatus, Inventory
from mlps_scan.plugins import Collector
from mlps_scan.profile import build_profile
from mlps_scan.runner import aggregate, collect, evaluate, exit_code

FW_OK = {"default_action": "deny", "logging": True, "log_destination": "syslog://x",
         "rules": [{"name": "web", "action": "allow", "source": "any", "destination": "10.0.0.1", "ports": "443", "protocol": "tcp"}]}


def fw(id_, attrs, scope="static/net", errors=None):
    return Asset(type="network.firewall", id=id_, scope=scope, attributes=attrs, errors=errors or {}, evidence=["ev1"])


def by(findings, check_id):
    return {f.resource_id: f for f in findings if f.check_id == check_id}


def results(inv, level=3):
    cat = load()
    f = evaluate(inv, level, build_profile(level), cat)
    return f, {c.control_id: c for c in aggregate(f, level, cat)}


def test_compliant_device_passes_and_control_is_compliant():
    f, c = results(Inventory(assets=[fw("fw1", FW_OK)]))
    assert by(f, "network.firewall.default_deny")["fw1"].status.value == "pass"
    assert c["L3-ABS1-05"].status.value == "compliant"


def test_allow_all_default_fails():
    f, c = results(Inventory(assets=[fw("fw2", {**FW_OK, "default_action": "allow"})]))
    assert by(f, "network.firewall.default_deny")["fw2"].status.value == "fail"
    assert c["L3-ABS1-05"].status.value == "non_compliant"


def test_mixed_results_make_the_control_partial():
    f, c = results(Inventory(assets=[fw("fw1", FW_OK), fw("fw2", {**FW_OK, "default_action": "allow"})]))
    assert c["L3-ABS1-05"].status.value == "partial"


def test_attribute_that_could_not_be_collected_is_error_not_pass():
    f, c = results(Inventory(assets=[fw("fw3", {k: v for k, v in FW_OK.items() if k != "rules"},
                                        errors={"rules": "AccessDenied"})]))
    got = by(f, "network.firewall.default_deny")["fw3"]
    assert got.status.value == "error" and "AccessDenied" in got.message
    assert c["L3-ABS1-05"].status.value == "error"


def test_type_that_could_not_be_listed_is_error_for_the_scope():
    inv = Inventory(coverage=[Coverage(scope="static/net", asset_type="network.firewall",
                                       status=EvidenceStatus.denied, reason="403 Forbidden", evidence=["ev9"])])
    f, c = results(inv)
    got = by(f, "network.firewall.default_deny")["static/net"]
    assert got.status.value == "error" and got.evidence == ["ev9"]
    assert c["L3-ABS1-05"].status.value == "error"


def test_every_control_of_the_level_is_listed_even_with_no_evidence():
    for level in (1, 2, 3):
        _, c = results(Inventory(), level)
        assert set(c) == {x.id for x in load().for_level(level)}
        assert all(r.status.value == "manual" and r.manual for r in c.values())


def test_exit_codes():
    f, _ = results(Inventory(assets=[fw("fw1", FW_OK)]))
    assert exit_code(f, partial=False) == 0
    f2, _ = results(Inventory(assets=[fw("fw2", {**FW_OK, "default_action": "allow"})]))
    assert exit_code(f2, partial=False) == 1
    assert exit_code(f2, partial=True) == 3
    assert exit_code(f2, partial=True, fail_on="fail") == 1
    assert exit_code(f2, partial=True, fail_on="never") == 0
    assert exit_code(f, partial=True, fail_on="fail") == 0


def test_a_crashing_collector_costs_only_its_own_evidence(tmp_path: Path):
    from mlps_scan.collectors.static import StaticTarget
    from mlps_scan.plugins import _COLLECTORS

    # defined (and so registered) here, not at import: the registry (and the scan.yaml schema built from it)
    # must not hold it while other tests run
    class _Boom(Collector):
        name = "test-boom"
        config_key = "test_boom"
        target_model = StaticTarget  # any model will do
        asset_patterns = ("network.*",)

        def collect(self, target, session):
            session.record("probe", {"ok": 1})
            raise RuntimeError("peer went away")

    try:
        rec = Recorder(tmp_path)
        res = collect([(_Boom, StaticTarget(path="x", name="t1"))], rec, base_dir=tmp_path)
    finally:
        _COLLECTORS.pop("test-boom", None)
    assert res.partial and res.failed_targets == ["test-boom/t1"]
    assert len(list((tmp_path / "evidence").glob("*.json"))) == 2  # the probe and the failure record
    f, c = results(res.inventory)
    errs = by(f, "network.firewall.default_deny")
    assert errs["test-boom/t1"].status.value == "error" and "peer went away" in errs["test-boom/t1"].message
    assert c["L3-ABS1-05"].status.value == "error"
