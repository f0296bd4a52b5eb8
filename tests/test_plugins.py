"""Plugin contracts: every check maps to real catalogue ids of the right level, reads declared params."""
from __future__ import annotations

from mlps_scan.catalogue import load
from mlps_scan.models import Profile
from mlps_scan.plugins import checks, collectors


def test_builtin_plugins_are_discovered():
    assert "static" in collectors()
    assert "network.firewall.default_deny" in checks()


def test_every_check_maps_to_catalogue_ids_of_its_level():
    cat = load()
    bad = []
    for spec in checks().values():
        assert spec.controls, f"{spec.id} evidences no control"
        for level, ids in spec.controls.items():
            for cid in ids:
                if cid not in cat:
                    bad.append(f"{spec.id}: {cid} not in the catalogue")
                elif cat.get(cid).level != level:
                    bad.append(f"{spec.id}: {cid} listed under level {level}")
    assert not bad, "\n".join(bad)


def test_checks_declare_titles_types_and_known_profile_params():
    fields = set(Profile.model_fields)
    for spec in checks().values():
        assert spec.title.en and spec.title.zh, spec.id
        assert spec.asset_type, spec.id
        assert set(spec.params) <= fields, f"{spec.id} reads unknown profile params {set(spec.params) - fields}"
        assert spec.severity in ("low", "medium", "high", "critical")


def test_a_check_mapped_to_an_unknown_id_is_caught(tmp_path):
    """The guard above must be able to fail: a bogus mapping is dropped at load and recorded as a plugin failure
    (its known controls say error), not an internal error after collection."""
    from mlps_scan import plugins
    from mlps_scan.plugins import _CHECKS, _FAILURES, check

    @check(id="test.bogus", title_en="x", title_zh="x", controls={3: ["L3-CES1-01", "L3-XXX1-99"]}, asset_type="test.thing")
    def bogus(asset, ctx):  # pragma: no cover - never called
        return None

    before = len(_FAILURES)
    try:
        plugins._drop_invalid_checks({})
        assert "test.bogus" not in _CHECKS
        (failure,) = _FAILURES[before:]
        assert "L3-XXX1-99" in failure.error and failure.checks == {"test.bogus": {3: ["L3-CES1-01", "L3-XXX1-99"]}}
    finally:
        _CHECKS.pop("test.bogus", None)
        del _FAILURES[before:]
