"""Grading: the full GB/T 22240-2020 matrix and its 2025 variant, the max rule over the two aspects, the
conservative reading of unanswered/ambiguous answers, and answers contradicted by the scan's evidence."""
from __future__ import annotations

import json
from itertools import product

import pytest
import yaml

from mlps_scan import questionnaire as Q
from mlps_scan.grading import DEGREES, OBJECTS, grade, level_for
from mlps_scan.models import Questionnaire

from conftest import run_cli

C, S, N = OBJECTS  # citizens / social order / national security
MATRIX = {
    "gbt22240-2020": {
        (C, "general"): 1, (C, "serious"): 2, (C, "particularly_serious"): 2,
        (S, "general"): 2, (S, "serious"): 3, (S, "particularly_serious"): 4,
        (N, "general"): 3, (N, "serious"): 4, (N, "particularly_serious"): 5,
    },
    "2025": {
        (C, "general"): 1, (C, "serious"): 2, (C, "particularly_serious"): 2,
        (S, "general"): 2, (S, "serious"): 3, (S, "particularly_serious"): 4,
        (N, "general"): 4, (N, "serious"): 5, (N, "particularly_serious"): 5,
    },
}
HARMS = [d for d in DEGREES if d != "none"]


def q_with(bi: dict | None = None, ss: dict | None = None, **sections) -> Questionnaire:
    base = {o: "none" for o in OBJECTS}
    return Questionnaire.model_validate({"impact": {"business_information": {**base, **(bi or {})},
                                                    "system_service": {**base, **(ss or {})}}, **sections})


@pytest.mark.parametrize("basis", sorted(MATRIX))
@pytest.mark.parametrize("obj,degree", list(product(OBJECTS, HARMS)))
def test_matrix_cell(basis, obj, degree):
    want = MATRIX[basis][(obj, degree)]
    assert level_for(basis, obj, degree) == want
    # the same cell through a questionnaire, in either aspect, with everything else `none`
    for aspect in ("bi", "ss"):
        r = grade(q_with(**{aspect: {obj: degree}}), basis)
        assert r["level"] == want and r["complete"]
        key = "business_information" if aspect == "bi" else "system_service"
        assert r["aspects"][key]["level"] == want and r["aspects"][key]["drivers"] == [obj]
        other = "system_service" if aspect == "bi" else "business_information"
        assert r["aspects"][other]["level"] == 1 and r["aspects"][other]["drivers"] == []


def test_matrix_file_is_complete_and_matches():
    for basis, cells in MATRIX.items():
        assert len(cells) == 9
        for (obj, degree), lvl in cells.items():
            assert level_for(basis, obj, degree) == lvl
        for obj in OBJECTS:
            assert level_for(basis, obj, "none") == 0


def test_no_harm_at_all_is_level_1():
    r = grade(q_with())
    assert r["level"] == 1 and r["complete"] and r["driving_answers"] == []


@pytest.mark.parametrize("basis", sorted(MATRIX))
@pytest.mark.parametrize("bi_cell,ss_cell", [
    ((C, "serious"), (S, "serious")),
    ((N, "general"), (C, "general")),
    ((S, "particularly_serious"), (N, "serious")),
    ((C, "particularly_serious"), (C, "general")),
])
def test_level_is_the_higher_of_the_two_aspects(basis, bi_cell, ss_cell):
    r = grade(q_with(bi={bi_cell[0]: bi_cell[1]}, ss={ss_cell[0]: ss_cell[1]}), basis)
    lb, ls = MATRIX[basis][bi_cell], MATRIX[basis][ss_cell]
    assert (r["aspects"]["business_information"]["level"], r["aspects"]["system_service"]["level"]) == (lb, ls)
    assert r["level"] == max(lb, ls)
    driving = {d["path"] for d in r["driving_answers"]}
    if lb >= ls:
        assert f"impact.business_information.{bi_cell[0]}" in driving
    if ls >= lb:
        assert f"impact.system_service.{ss_cell[0]}" in driving


def test_within_an_aspect_the_worst_object_wins():
    r = grade(q_with(bi={C: "particularly_serious", S: "serious", N: "none"}))
    assert r["aspects"]["business_information"]["level"] == 3
    assert r["aspects"]["business_information"]["drivers"] == [S]


def test_every_combination_of_answers_is_the_max_of_its_cells():
    for basis in MATRIX:
        for degrees in product(DEGREES, repeat=3):
            q = q_with(bi=dict(zip(OBJECTS, degrees)))
            want = max([MATRIX[basis][(o, d)] for o, d in zip(OBJECTS, degrees) if d != "none"] + [1])
            assert grade(q, basis)["level"] == want


def test_ambiguous_answers_take_the_higher_degree():
    r = grade(q_with(bi={S: ["general", "serious"]}))
    assert r["level"] == 3 and not r["complete"]
    assert r["flags"] == [{"path": "impact.business_information.social_order_public_interest",
                           "answer": ["general", "serious"],
                           "message": "ambiguous (general or serious): took the higher, serious"}]
    assert grade(q_with(bi={C: ["serious"]}))["complete"]  # a one-item list is not ambiguous


def test_unanswered_leans_higher_and_is_flagged():
    q = Questionnaire.model_validate({"impact": {"business_information": {C: "serious", S: "none", N: "none"},
                                                 "system_service": {C: "general", S: None, N: "none"}}})
    r = grade(q)
    # unanswered social order (system service) is assumed general harm -> level 2, not `none` -> 1
    assert r["aspects"]["system_service"]["level"] == 2 and r["level"] == 2
    assert not r["complete"] and [f["path"] for f in r["flags"]] == ["impact.system_service.social_order_public_interest"]
    blank = grade(Questionnaire())
    assert blank["level"] == 3 and len(blank["flags"]) == 6  # national security cannot be ruled out


def test_2025_basis_moves_national_security_up():
    q = q_with(ss={N: "general"})
    assert grade(q, "gbt22240-2020")["level"] == 3
    r = grade(q, "2025")
    assert r["level"] == 4 and any("national security" in n for n in r["notes"]) and any("1-3" in n for n in r["notes"])


def test_advisories_on_answers_that_disagree_with_each_other():
    q = q_with(bi={C: "general"}, data={"sensitive_personal_information": {"collected": True}})
    r = grade(q)
    assert [a["path"] for a in r["advisories"]] == ["impact.business_information.citizens_legal_persons"]
    assert r["level"] == 1  # advice, not a silent change of the answer


def test_evidence_contradicts_answers(synthetic_bundle):
    inv = Q.load_inventory(Q.open_bundle(synthetic_bundle))
    q = q_with(bi={C: "none"}, data={"personal_information": {"collected": False},
                                     "sensitive_personal_information": {"collected": False}},
               users={"public_access": False})
    r = grade(q, inventory=inv, evidence_source=str(synthetic_bundle))
    by = {c["path"]: c for c in r["contradictions"]}
    assert set(by) == {"data.personal_information.collected", "data.sensitive_personal_information.collected",
                       "impact.business_information.citizens_legal_persons", "users.public_access"}
    pii = {a["asset"]: a["why"] for a in by["data.personal_information.collected"]["assets"]}
    assert pii == {"arn:aws-cn:rds:cn-north-1:123456789012:db:customer-db": "tag data-classification=pii",
                   "arn:aws-cn:s3:::acme-payment-exports": "name 'acme-payment-exports' contains 'payment'"}
    assert [a["asset"] for a in by["data.sensitive_personal_information.collected"]["assets"]] == [
        "arn:aws-cn:s3:::acme-payment-exports"]
    evidence = {p.stem for p in (synthetic_bundle / "evidence").glob("*.json")}
    for c in r["contradictions"]:
        assert c["evidence"] and set(c["evidence"]) <= evidence
    # answers that agree with the evidence raise nothing
    ok = q_with(bi={C: "serious"}, data={"personal_information": {"collected": True},
                                         "sensitive_personal_information": {"collected": True}},
                users={"public_access": True, "external": 5000})
    assert grade(ok, inventory=inv)["contradictions"] == []


def test_grade_cli_uses_the_prefill_bundle_and_json(synthetic_bundle, tmp_path):
    qf = tmp_path / "q.yaml"
    assert run_cli("questionnaire", str(synthetic_bundle), "-o", str(qf)).returncode == 0
    text = qf.read_text()
    answered = (text.replace("    collected: ~", "    collected: false", 1)
                .replace("    citizens_legal_persons: ~", "    citizens_legal_persons: serious")
                .replace("    social_order_public_interest: ~", "    social_order_public_interest: [general, serious]", 1)
                .replace("    social_order_public_interest: ~", "    social_order_public_interest: general")
                .replace("    national_security: ~", "    national_security: none"))
    qf.write_text(answered)
    r = run_cli("grade", str(qf), "--format", "json")
    assert r.returncode == 1, r.stderr  # ambiguous answer and a contradiction: attention needed
    res = json.loads(r.stdout)
    assert res["level"] == 3 and res["system"] == "Synthetic Shop" and res["basis"] == "gbt22240-2020"
    assert res["evidence_source"] == str(synthetic_bundle)
    assert [c["path"] for c in res["contradictions"]] == ["data.personal_information.collected"]
    assert res["driving_answers"] == [{"path": "impact.business_information.social_order_public_interest",
                                       "answer": ["general", "serious"], "degree": "serious", "level": 3, "assumed": True}]
    r = run_cli("grade", str(qf), "--no-evidence", "--format", "json")
    assert json.loads(r.stdout)["contradictions"] == []
    r = run_cli("grade", str(qf), "--basis", "2025")
    assert r.returncode == 1 and "Recommended level" in r.stdout and "data.personal_information.collected" in r.stdout
    assert run_cli("grade", str(qf), "--basis", "1999").returncode == 2
    # fully answered and consistent: exit 0
    clean = yaml.safe_load(answered)
    clean["data"]["personal_information"]["collected"] = True
    clean["impact"]["business_information"]["social_order_public_interest"] = "serious"
    qf.write_text(yaml.safe_dump(clean, allow_unicode=True))
    r = run_cli("grade", str(qf), "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["complete"] is True


@pytest.mark.parametrize("name,tags,hint,sensitive", [
    ("customerdb", None, "name 'customerdb' contains 'customer'", False),
    ("prod-orders", None, "name 'prod-orders' contains 'order'", False),
    ("kyc_docs", None, "name 'kyc_docs' contains 'kyc'", True),
    ("Members", None, "name 'Members' contains 'member'", False),
    ("border-logs", None, None, False),
    ("static-assets", None, None, False),
    ("analytics", {"data-classification": "personal"}, "tag data-classification=personal", False),
    ("analytics", [{"Key": "Classification", "Value": "Sensitive-PII"}], "tag Classification=Sensitive-PII", True),
    ("analytics", {"data-classification": "public"}, None, False),
])
def test_personal_data_hints(name, tags, hint, sensitive):
    from mlps_scan.models import Asset
    a = Asset(type="aws.s3.bucket", id=f"arn:aws-cn:s3:::{name}", name=name, scope="aws/x/1",
              attributes={"tags": tags} if tags is not None else {})
    assert Q.personal_data_hint(a) == (hint, sensitive)


def test_sample_answered_questionnaire(sample_bundle):
    from conftest import ROOT
    f = ROOT / "sample_inventories" / "acme-shop" / "questionnaire.yaml"
    q = Q.load(f)
    # its architecture was prefilled from the sample scan: evidence ids are stable, so they resolve in a fresh scan
    evidence = {p.stem for p in (sample_bundle / "evidence").glob("*.json")}
    srcs = {s for e in q.architecture.security_services + q.architecture.internet_endpoints for s in e.source}
    assert srcs and srcs <= evidence
    r = run_cli("grade", str(f), "--bundle", str(sample_bundle), "--format", "json")
    assert r.returncode == 1, r.stderr  # one undecided answer: provisional
    res = json.loads(r.stdout)
    assert res["level"] == 3 and res["system"] == "Acme Shop" and res["contradictions"] == []
    assert [d["path"] for d in res["driving_answers"]] == ["impact.business_information.social_order_public_interest"]


def test_a_current_level_that_differs_from_the_recommended_one_is_flagged(tmp_path):
    r = grade(q_with(bi={S: "serious"}, system={"current_level": 2}))
    d = r["level_differs"]
    assert r["level"] == 3 and d["current"] == 2 and d["recommended"] == 3
    assert "re-file" in d["message"] and "重新备案" in d["message_zh"]
    assert grade(q_with(bi={S: "serious"}, system={"current_level": 3}))["level_differs"] is None
    assert grade(q_with(bi={S: "serious"}))["level_differs"] is None  # not graded yet: nothing to compare
    lower = grade(q_with(bi={C: "general"}, system={"current_level": 3}))["level_differs"]
    assert lower["recommended"] == 1 and "expert review" in lower["message"]
    qf = tmp_path / "q.yaml"
    qf.write_text(yaml.safe_dump(q_with(bi={S: "serious"}, system={"current_level": 2}).model_dump(mode="json")))
    cli = run_cli("grade", str(qf), "--no-evidence")
    assert cli.returncode == 1 and "differs from the recommended level 3" in cli.stdout and "现定级别" in cli.stdout
