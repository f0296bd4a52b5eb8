"""The control catalogue: pinned level-3 counts, level differences, id bases."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from mlps_scan.catalogue import load

from conftest import run_cli

L3_PINNED = {("PES", "general"): 22, ("CNS", "general"): 8, ("ABS", "general"): 20, ("CES", "general"): 34,
             ("SMC", "general"): 12, ("PES", "cloud"): 1, ("CNS", "cloud"): 5, ("ABS", "cloud"): 8,
             ("CES", "cloud"): 19, ("SMC", "cloud"): 4}
TECH = ["PES", "CNS", "ABS", "CES"]
MGMT = ["PSS", "ORS", "HRS", "CMS", "MMS"]


def counts(level):
    return Counter((c.area, c.extension) for c in load().for_level(level))


def test_level3_counts_are_the_verified_ones():
    got = counts(3)
    for key, n in L3_PINNED.items():
        assert got[key] == n, f"L3 {key}: {got[key]} != {n}"


def test_l3_ces1_16_does_not_exist_and_numbering_has_the_gap():
    ids = {c.id for c in load().for_level(3)}
    assert "L3-CES1-16" not in ids
    assert {f"L3-CES1-{n:02d}" for n in [*range(1, 16), *range(17, 36)]} <= ids


@pytest.mark.parametrize("level,areas", [(1, TECH + MGMT), (2, TECH + ["SMC"] + MGMT), (3, TECH + ["SMC"] + MGMT)])
def test_each_level_has_its_areas(level, areas):
    present = {c.area for c in load().for_level(level)}
    for a in areas:
        assert a in present, f"level {level} lacks area {a}"
    if level == 1:
        assert "SMC" not in present


def test_derived_level_counts_follow_the_reference():
    assert counts(2)[("CNS", "general")] == 4 and counts(2)[("ABS", "general")] == 11
    assert counts(2)[("CES", "general")] == 23 and counts(2)[("SMC", "general")] == 4
    assert counts(1)[("CNS", "general")] == 2 and counts(1)[("ABS", "general")] == 5
    assert counts(1)[("CES", "general")] == 11


def test_id_basis_marks_what_is_published():
    for c in load().controls:
        tech = c.area in ("PES", "CNS", "ABS", "CES", "SMC")
        if c.level == 3 and tech:
            assert c.id_basis == "published", c.id
        elif c.id == "L1-ABS1-01":
            assert c.id_basis == "published"
        else:
            assert c.id_basis == "derived", c.id
        # the id says what the record says
        assert c.id.startswith(f"L{c.level}-{c.area}{1 if c.extension == 'general' else 2}-"), c.id


def test_every_item_has_bilingual_titles_and_manual_guidance():
    for c in load().controls:
        assert c.title.en and c.title.zh and c.control_point.en and c.control_point.zh, c.id
        if c.automation.value != "automated":
            assert c.guidance and c.guidance.en and c.guidance.zh, c.id


def test_level2_and_level3_differ_as_the_standard_does():
    l3 = load().for_level(3)
    mfa = load().get("L3-CES1-04")
    assert "factor" in mfa.title.en.lower() or "multi" in mfa.title.en.lower() or "两种" in mfa.title.zh
    l2_text = " ".join(c.title.en.lower() + c.title.zh for c in load().for_level(2) if c.area == "CES")
    assert "two or more" not in l2_text and "两种或两种以上" not in l2_text
    assert len(l3) > len(load().for_level(2)) > len(load().for_level(1))
    # level 2 has no data-confidentiality (crypto) items; level 1 no computing-environment audit items
    assert not [c for c in load().for_level(2) if c.control_point.zh.startswith("数据保密性")]
    assert not [c for c in load().for_level(1) if c.area == "CES" and c.control_point.zh == "安全审计"]


def test_controls_command_lists_the_level_as_json_and_table():
    r = run_cli("controls", "--level", "3", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data) == len(load().for_level(3))
    assert {d["id"] for d in data} == {c.id for c in load().for_level(3)}
    r2 = run_cli("controls", "--level", "2", "--format", "json")
    assert "L3-CES1-04" not in r2.stdout and "L3-CES1-04" in r.stdout
    t = run_cli("controls", "--level", "3", "--area", "CES")
    assert t.returncode == 0 and "L3-CES1-04" in t.stdout and "身份鉴别" in t.stdout
