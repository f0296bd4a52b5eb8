"""Issue #15: every level-2 and level-3 item the catalogue calls automatable (`automated` or `partial`) is
evidenced by at least one check, or it is `manual` with a reason an assessor can read. The gap list is
computed from the catalogue and the check registry (what `mlps-scan controls` and `mlps-scan checks` print),
so a new item, a dropped mapping or a reclassification without a reason shows up here."""
from __future__ import annotations

import json

import pytest

from conftest import run_cli
from mlps_scan.catalogue import load
from mlps_scan.models import Automation
from mlps_scan.plugins import checks

# the items #15 found without a check (levels 2 and 3): each new mapping to one of them must say, in the
# check's metadata (`shows`), what the check shows for that item
GAPS_AT_THE_START = {
    2: "L2-CNS1-01 L2-ABS1-05 L2-ABS1-07 L2-ABS1-09 L2-ABS2-02 L2-ABS2-07 L2-CES1-20 L2-CES2-01 L2-CES2-02 "
       "L2-CES2-03 L2-CES2-09 L2-SMC1-01 L2-SMC1-02 L2-SMC1-03 L2-SMC1-04".split(),
    3: "L3-CNS1-03 L3-ABS1-02 L3-ABS1-03 L3-ABS1-08 L3-ABS1-09 L3-ABS1-12 L3-ABS1-14 L3-ABS1-15 L3-ABS1-17 "
       "L3-ABS1-19 L3-ABS2-02 L3-ABS2-08 L3-CES1-09 L3-CES1-30 L3-CES2-02 L3-CES2-03 L3-CES2-04 L3-CES2-05 "
       "L3-CES2-06 L3-CES2-07 L3-CES2-15 L3-SMC1-01 L3-SMC1-03 L3-SMC1-04 L3-SMC1-06 L3-SMC1-07 L3-SMC1-11 "
       "L3-SMC1-12 L3-SMC2-01 L3-SMC2-02 L3-SMC2-03 L3-SMC2-04".split(),
}


def mapping_gaps(level: int) -> list[str]:
    """Items of the level the catalogue calls automatable that no check evidences."""
    mapped = {cid for spec in checks().values() for cid in spec.controls_for(level)}
    return [c.id for c in load().for_level(level)
            if c.automation != Automation.manual and c.id not in mapped]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_every_automatable_item_has_a_check(level):
    gaps = mapping_gaps(level)
    cat = load()
    assert not gaps, f"level {level}: {len(gaps)} automatable item(s) no check evidences:\n" + "\n".join(
        f"  {cid} ({cat.get(cid).automation.value}) {cat.get(cid).title.en}" for cid in gaps)


def test_the_gap_list_is_not_vacuous():
    """The measurement finds a gap when one exists: drop every check of one item and it is listed."""
    cat = load()
    auto = [c for c in cat.for_level(3) if c.automation != Automation.manual]
    assert len(auto) > 60
    mapped = {cid for spec in checks().values() for cid in spec.controls_for(3)}
    assert {c.id for c in auto} <= mapped | {c.id for c in auto if c.id not in mapped}
    probe = auto[0].id
    without = {cid for spec in checks().values() for cid in spec.controls_for(3) if cid != probe}
    assert probe not in without


def test_reclassified_items_say_why():
    """An item of the original gap list now `manual` carries a one-line reason in both languages; a reason
    is only given on manual items."""
    cat = load()
    for level, ids in GAPS_AT_THE_START.items():
        for cid in ids:
            c = cat.get(cid)
            if c.automation == Automation.manual:
                assert c.manual_reason is not None, f"{cid} reclassified manual without a reason"
                assert c.manual_reason.en and c.manual_reason.zh and "\n" not in c.manual_reason.en.strip()
    for c in cat.controls:
        if c.manual_reason is not None:
            assert c.automation == Automation.manual, f"{c.id}: a manual reason on a {c.automation.value} item"


def test_new_mappings_say_what_the_check_shows():
    cat = load()
    missing, stray = [], []
    for spec in checks().values():
        if not spec.module.startswith("mlps_scan.checks."):
            continue
        for level, ids in GAPS_AT_THE_START.items():
            for cid in spec.controls_for(level):
                if cid in ids and cid not in spec.shows:
                    missing.append(f"{spec.id} -> {cid}")
        mapped = {cid for ids in spec.controls.values() for cid in ids}
        stray += [f"{spec.id}: shows {cid} it does not map" for cid in spec.shows if cid not in mapped]
        for cid, text in spec.shows.items():
            assert cid in cat and text.en and text.zh and text.en != text.zh, (spec.id, cid)
    assert not missing, "mappings to former gap items without `shows`:\n" + "\n".join(missing)
    assert not stray, "\n".join(stray)


def test_controls_command_lists_the_checks_of_each_item():
    r = run_cli("controls", "--level", "3", "--format", "json")
    assert r.returncode == 0, r.stderr
    items = {c["id"]: c for c in json.loads(r.stdout)}
    assert "aws.cloudtrail.multi_region" in [x["id"] for x in items["L3-CES1-12"]["checks"]]
    for cid in GAPS_AT_THE_START[3]:
        c = items[cid]
        if c["automation"] == "manual":
            assert c["checks"] == [] and c["manual_reason"]["zh"], cid
        else:
            assert c["checks"] and all(x["shows"] and x["title"]["zh"] for x in c["checks"]), cid
    table = run_cli("controls", "--level", "2", "--area", "CES", env={"COLUMNS": "250"})
    assert table.returncode == 0, table.stderr
    assert "aws.rds.backup" in table.stdout and "checks" in table.stdout


def test_every_finding_of_the_sample_names_its_resource(sample_bundle):
    """Findings identify resources by the name a person uses, not only by ARN, uid or address: a Kubernetes
    object as namespace/name, an AWS resource by its Name tag or name, a host by its host name."""
    findings = json.loads((sample_bundle / "findings.json").read_text(encoding="utf-8"))
    inventory = json.loads((sample_bundle / "inventory.json").read_text(encoding="utf-8"))
    by_id = {a["id"]: a for a in inventory["assets"]}
    assert findings and all(f.get("resource_name") for f in findings)
    for f in findings:
        asset = by_id.get(f["resource_id"])
        if asset and asset["type"].startswith("k8s.") and asset["attributes"].get("namespace"):
            assert f["resource_name"].startswith(asset["attributes"]["namespace"] + "/"), f
            assert asset["id"] not in f["resource_name"]
    names = {f["resource_name"] for f in findings}
    assert {"web01", "db01", "good-sg", "shop/web"} <= names
    report = (sample_bundle / "report.html").read_text(encoding="utf-8")
    assert "shop/web" in report


def test_exports_carry_the_resource_name(sample_bundle, tmp_path):
    import csv
    import io
    out = tmp_path / "findings.csv"
    r = run_cli("export", str(sample_bundle), "--format", "csv", "-o", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows and all(row["resource_name"] for row in rows)
    assert {"shop/web", "web01"} <= {row["resource_name"] for row in rows}
    sarif = tmp_path / "findings.sarif"
    assert run_cli("export", str(sample_bundle), "--format", "sarif", "-o", str(sarif)).returncode == 0
    names = {loc["name"] for res in json.loads(sarif.read_text())["runs"][0]["results"]
             for ref in res["locations"] for loc in ref["logicalLocations"]}
    assert "db01" in names
