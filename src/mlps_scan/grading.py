"""Level grading (stage 2) by GB/T 22240-2020: object harmed x degree of harm -> level, separately for
business-information security and system-service security; the level is the higher of the two.

The matrices are data (data/grading.yaml) with a selectable basis: `gbt22240-2020` (the standard) and
`2025` (the 2025 filing-template grouping, where harm to national security sits one level higher).

Conservative by design, as a consultant would be:
  * an unanswered object (null) is assumed harmed to a `general` degree, not `none`, and flagged;
  * an ambiguous answer (a list of degrees) takes the highest of them, and is flagged.
Answers that the scan's evidence contradicts (no personal information, but stores tagged or named like PII)
are reported with the assets and evidence ids that contradict them.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from .errors import InputError
from .models import Inventory, Questionnaire

OBJECTS = ("citizens_legal_persons", "social_order_public_interest", "national_security")
DEGREES = ("none", "general", "serious", "particularly_serious")
ASPECTS = {
    "business_information": ("business-information security", "业务信息安全"),
    "system_service": ("system-service security", "系统服务安全"),
}
BASES = ("gbt22240-2020", "2025")
UNANSWERED_ASSUMPTION = "general"


@lru_cache(maxsize=1)
def grading_data() -> dict:
    return yaml.safe_load(resources.files("mlps_scan").joinpath("data/grading.yaml").read_text("utf-8"))


def basis_data(basis: str) -> dict:
    bases = grading_data()["bases"]
    if basis not in bases:
        raise InputError(f"unknown grading basis {basis!r}: choose from {', '.join(bases)}")
    return bases[basis]


def level_for(basis: str, obj: str, degree: str) -> int:
    """The level for harm of `degree` to `obj` (0 when the object is not harmed)."""
    if obj not in OBJECTS:
        raise ValueError(f"unknown object {obj!r}")
    if degree not in DEGREES:
        raise ValueError(f"unknown degree {degree!r}")
    if degree == "none":
        return 0
    return int(basis_data(basis)["matrix"][obj][degree])


def object_label(basis: str, obj: str) -> dict[str, str]:
    return (basis_data(basis).get("object_labels") or {}).get(obj) or grading_data()["objects"][obj]


def _effective(answer: Any) -> tuple[str, str | None]:
    """(degree used, flag) for one answer."""
    if answer is None:
        return UNANSWERED_ASSUMPTION, (f"not answered: assumed {UNANSWERED_ASSUMPTION} harm (conservative; "
                                       "answer `none` if this object cannot be harmed)")
    if isinstance(answer, list):
        if not answer:
            return UNANSWERED_ASSUMPTION, f"empty list: assumed {UNANSWERED_ASSUMPTION} harm (conservative)"
        top = max(answer, key=DEGREES.index)
        if len(set(answer)) > 1:
            return top, f"ambiguous ({' or '.join(dict.fromkeys(answer))}): took the higher, {top}"
        return top, None
    return str(answer), None


def grade(q: Questionnaire, basis: str = "gbt22240-2020", inventory: Inventory | None = None,
          evidence_source: str | None = None) -> dict[str, Any]:
    b = basis_data(basis)
    aspects: dict[str, Any] = {}
    flags: list[dict[str, Any]] = []
    for aspect, (en, zh) in ASPECTS.items():
        harm = getattr(q.impact, aspect)
        rows = []
        for obj in OBJECTS:
            raw = getattr(harm, obj)
            degree, flag = _effective(raw)
            lvl = level_for(basis, obj, degree)
            rows.append({"object": obj, "answer": raw, "degree": degree, "level": lvl, "flag": flag})
            if flag:
                flags.append({"path": f"impact.{aspect}.{obj}", "answer": raw, "message": flag})
        level = max([r["level"] for r in rows] + [1])
        drivers = [r["object"] for r in rows if r["level"] == level] if any(r["level"] for r in rows) else []
        aspects[aspect] = {"name": {"en": en, "zh": zh}, "level": level, "objects": rows, "drivers": drivers,
                           "rationale": harm.rationale}
    level = max(a["level"] for a in aspects.values())
    driving_aspects = [k for k, a in aspects.items() if a["level"] == level]
    driving_answers = []
    for k in driving_aspects:
        for r in aspects[k]["objects"]:
            if r["object"] in aspects[k]["drivers"]:
                driving_answers.append({"path": f"impact.{k}.{r['object']}", "answer": r["answer"],
                                        "degree": r["degree"], "level": r["level"], "assumed": bool(r["flag"])})
    reasoning = []
    for k, a in aspects.items():
        parts = [f"{r['object']}={r['degree']}{'*' if r['flag'] else ''}->{r['level'] or '-'}" for r in a["objects"]]
        reasoning.append(f"{a['name']['en']} ({a['name']['zh']}): " + ", ".join(parts) + f" => level {a['level']}")
    reasoning.append(f"level = max({', '.join(str(a['level']) for a in aspects.values())}) = {level}"
                     + f" (driven by {' and '.join(ASPECTS[k][0] for k in driving_aspects)})")
    advisories = _advisories(q)
    contradictions = contradictions_with(q, inventory) if inventory is not None else []
    notes = []
    if level > 3:
        notes.append(f"level {level}: mlps-scan's control catalogue and checks cover levels 1-3 only")
    if level >= 2:
        notes.append("level 2 and above: expert review of the grading and filing (备案) with the PSB within 30 days")
    if b.get("firmness") != "verified":
        notes.append(f"basis {basis}: {b.get('note', '').strip()}")
    current = q.system.current_level
    level_differs = None
    if current is not None and current != level:
        level_differs = {
            "current": current, "recommended": level,
            "message": (f"the system is graded level {current} (system.current_level) but the answers give level {level}: "
                        + ("grade it up: re-grade, expert review and re-file (备案) at the higher level"
                           if level > current else
                           "review the answers, or re-grade with an expert review before lowering the level")
                        + " (公网安〔2025〕1846号 Q2: a level change needs a new expert review)"),
            "message_zh": (f"现定级别为第{current}级，本次问卷结果为第{level}级："
                           + ("应重新定级、组织专家评审并按较高级别重新备案" if level > current
                              else "请复核回答；降低级别前须重新定级并组织专家评审")),
        }
    return {
        "system": q.system.name or (q.meta.prefilled_from.system if q.meta.prefilled_from else None),
        "basis": basis, "basis_title": b["title"], "level": level,
        "complete": not flags, "aspects": aspects, "driving_answers": driving_answers,
        "reasoning": reasoning, "flags": flags, "advisories": advisories,
        "contradictions": contradictions, "evidence_source": evidence_source if inventory is not None else None,
        "notes": notes, "current_level": current, "level_differs": level_differs,
    }


def _degrees_of(answer: Any) -> set[str]:
    if answer is None:
        return set()
    return set(answer) if isinstance(answer, list) else {answer}


def _advisories(q: Questionnaire) -> list[dict[str, Any]]:
    """Answers that sit oddly with each other (no evidence involved)."""
    out = []
    bi = q.impact.business_information
    if q.data.sensitive_personal_information.collected and _degrees_of(bi.citizens_legal_persons) <= {"none", "general"} \
            and bi.citizens_legal_persons is not None:
        out.append({"path": "impact.business_information.citizens_legal_persons", "answer": bi.citizens_legal_persons,
                    "message": "sensitive personal information is collected (data.sensitive_personal_information): a leak "
                               "usually harms citizens seriously; review this answer"})
    if q.data.personal_information.collected and bi.citizens_legal_persons == "none":
        out.append({"path": "impact.business_information.citizens_legal_persons", "answer": "none",
                    "message": "personal information is collected (data.personal_information) but harm to citizens "
                               "from a leak is answered `none`"})
    if q.data.important_data.collected and bi.social_order_public_interest == "none" and bi.national_security == "none":
        out.append({"path": "impact.business_information.social_order_public_interest", "answer": "none",
                    "message": "important data is held (data.important_data): its leak harms social order/public "
                               "interest or national security by definition (Data Security Law)"})
    return out


def contradictions_with(q: Questionnaire, inv: Inventory) -> list[dict[str, Any]]:
    """Answers the scan's evidence contradicts, each with the assets and evidence ids that contradict it."""
    from .architecture import personal_data_hint
    from .questionnaire import prefill
    arch = prefill(inv)
    stores = {(d.id, d.scope) for d in arch.data_stores}  # what the collectors call a data store
    pii, sensitive = [], []
    for a in inv.assets:
        if (a.id, a.scope) not in stores:
            continue
        why, sens = personal_data_hint(a)
        if why:
            item = {"asset": a.id, "type": a.type, "why": why, "evidence": list(a.evidence)}
            pii.append(item)
            if sens:
                sensitive.append(item)
    out = []

    def add(path, answer, message, assets):
        out.append({"path": path, "answer": answer, "message": message, "assets": assets[:20],
                    "evidence": sorted({e for x in assets for e in x["evidence"]})[:50]})

    pi = q.data.personal_information.collected
    if pii and pi is not True:
        add("data.personal_information.collected", pi,
            ("answered no personal information" if pi is False else "not answered")
            + f", but the inventory holds {len(pii)} data store(s) tagged or named like personal data", pii)
    spi = q.data.sensitive_personal_information.collected
    if sensitive and spi is False:
        add("data.sensitive_personal_information.collected", spi,
            f"answered no sensitive personal information, but {len(sensitive)} store(s) are named/tagged like "
            "payment, identity or health data", sensitive)
    cit = q.impact.business_information.citizens_legal_persons
    if pii and cit == "none":
        add("impact.business_information.citizens_legal_persons", cit,
            "answered that a leak harms no citizens, but the inventory holds stores that look like personal data", pii)
    if q.users.public_access is False or q.users.external == 0:
        exposed = [e for e in arch.internet_endpoints if e.internet_facing]
        if exposed:
            assets = [{"asset": e.id, "type": e.kind, "why": e.detail or e.kind, "evidence": e.source} for e in exposed]
            path = "users.public_access" if q.users.public_access is False else "users.external"
            add(path, getattr(q.users, path.split(".")[1]),
                f"answered no public/external users, but the scan found {len(exposed)} internet-facing endpoint(s)", assets)
    return out
