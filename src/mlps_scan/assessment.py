"""The assessment's judgement over findings and control results (DESIGN: Decision, Assessment).

Pure functions over findings, control results, the catalogue and the decisions recorded in the inventory
(`attestation` and `waiver` assets from static files); the pipeline calls them in this order:

  attestation_states   which attestations count as of the assessment date (stale, future ones do not)
  apply_waivers        failed findings covered by an active waiver gain `waiver` (the verdict stays `fail`)
  decide_scope         which extensions apply: declared in scan.yaml (system.extensions) or derived
  decide_not_applicable  不适用 from an attestation or the scope, never over an automated verdict
  (runner.aggregate)   one result per control, N/A and waived failures included
  high_risks           the high-risk guideline's cases the failed findings trigger (data/high_risk.yaml)
  compliance, conclude the 符合率 range and the 2025 conclusion range (data/conclusion.yaml)
  assess               all of it as the `Assessment` written to assessment.json

Nothing here reads the network, the clock or a file other than the package's data files: `as_of` is passed in.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InputError, pydantic_message
from .models import (Assessment, Asset, AttestationDocument, AttestationState, Bilingual, Conclusion,
                     ConclusionRange, ConclusionRule, ControlResult, ControlStatus, Finding, FindingRef,
                     FindingStatus, FindingWaiver, HighRisk, Inventory, NotApplicable, NotApplicableItem, Profile,
                     RateRange, ScopeDecision, Waiver, WaiverState)

# --------------------------------------------------------------------------- data files


class Case(BaseModel):
    """One case of the high-risk guideline, as data/high_risk.yaml holds it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^\d+(\.\d+){3}$")
    title: Bilingual
    levels: list[int]
    controls: dict[int, list[str]]
    checks: list[str] = Field(min_length=1)
    mitigable: bool
    mitigation: Bilingual | None = None
    question: Bilingual
    condition: Bilingual | None = None
    major: str | None = Field(None, pattern=r"^A-\d\d$")
    basis: str


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    cases: list[Case]
    not_mapped: list[dict[str, Any]] = Field(default_factory=list)


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_rate: float
    conclusion: Literal["compliant", "basically_compliant", "non_compliant"]
    requires_no_major_risk: bool = False
    with_major_risk: Literal["compliant", "basically_compliant", "non_compliant"] | None = None


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    provisional: bool
    basis: dict[str, str]
    weights: dict[Literal["compliant", "partial", "non_compliant"], float]
    bands: list[Band]
    conclusions: dict[str, Bilingual]
    formula: Bilingual


def _data(name: str) -> Any:
    return yaml.safe_load(resources.files("mlps_scan").joinpath(f"data/{name}").read_text("utf-8"))


@lru_cache(maxsize=1)
def cases() -> list[Case]:
    return sorted(CaseFile.model_validate(_data("high_risk.yaml")).cases, key=lambda c: case_key(c.id))


@lru_cache(maxsize=1)
def not_mapped() -> list[dict[str, Any]]:
    return CaseFile.model_validate(_data("high_risk.yaml")).not_mapped


@lru_cache(maxsize=1)
def rule() -> RuleFile:
    r = RuleFile.model_validate(_data("conclusion.yaml"))
    r.bands.sort(key=lambda b: -b.min_rate)
    return r


def case_key(case_id: str) -> tuple[int, ...]:
    return tuple(int(p) for p in case_id.split("."))


# --------------------------------------------------------------------------- decisions from the inventory


@dataclass(frozen=True)
class RecordedWaiver:
    waiver: Waiver
    asset: Asset


def waivers_in(inventory: Inventory) -> list[RecordedWaiver]:
    """The waivers the inventory holds (assets of type `waiver`), validated again (they may come from a
    bundle written by another version)."""
    out = []
    for a in inventory.assets:
        if a.type != "waiver":
            continue
        attrs = {k: v for k, v in a.attributes.items() if k != "file"}
        try:
            out.append(RecordedWaiver(Waiver.model_validate(attrs), a))
        except ValidationError as e:
            raise InputError(pydantic_message(e, prefix=f"waiver {a.id} ({a.scope}): ")) from None
    return out


def validate_waivers(waivers: Iterable[RecordedWaiver], profile: Profile, known_checks: Iterable[str] | None = None,
                     known_controls: Iterable[str] | None = None) -> None:
    """Input errors a waiver can hold beyond its own fields: a duplicate id, a term longer than the profile's
    `waiver_max_days`, and (when the registries are given) check or control ids nobody knows, which would
    otherwise leave the waiver silently unused."""
    seen: dict[str, str] = {}
    checks_known = set(known_checks) if known_checks is not None else None
    controls_known = set(known_controls) if known_controls is not None else None
    for rw in waivers:
        w, where = rw.waiver, f"waiver {rw.waiver.id} ({rw.asset.attributes.get('file') or rw.asset.scope})"
        if w.id in seen:
            raise InputError(f"{where}: duplicate waiver id (also in {seen[w.id]})")
        seen[w.id] = str(rw.asset.attributes.get("file") or rw.asset.scope)
        days = (w.expires - w.approved_on).days
        if days > profile.waiver_max_days:
            raise InputError(f"{where}: expires {w.expires} is {days} days after approved_on {w.approved_on}; "
                             f"the profile allows at most {profile.waiver_max_days} (waiver_max_days)")
        if checks_known is not None:
            unknown = [c for c in w.checks if c not in checks_known]
            if unknown:
                raise InputError(f"{where}: unknown check id(s) {', '.join(unknown)} (see `mlps-scan checks`)")
        if controls_known is not None:
            unknown = [c for c in w.controls if c not in controls_known]
            if unknown:
                raise InputError(f"{where}: unknown control id(s) {', '.join(unknown)} (see `mlps-scan controls`)")


def attestation_state(a: Asset, as_of: date, max_age_days: int) -> str:
    """counted, stale (older than max_age_days on as_of) or future (dated after as_of)."""
    d = _as_date(a.attributes.get("date"))
    if d is None:
        return "stale"
    if d > as_of:
        return "future"
    if (as_of - d).days > max_age_days:
        return "stale"
    return "counted"


def _as_date(v: Any) -> date | None:
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        return None


# --------------------------------------------------------------------------- waivers


def covers(w: Waiver, f: Finding) -> bool:
    """A waiver covers a failed finding of a check it names or of a control it names (either), on a
    resource its patterns match (every resource when it names none)."""
    if f.status != FindingStatus.fail:
        return False
    if f.check_id not in w.checks and not set(f.control_ids) & set(w.controls):
        return False
    return not w.resources or any(fnmatchcase(f.resource_id, p) for p in w.resources)


def waiver_status(w: Waiver, as_of: date) -> str:
    if w.expires < as_of:
        return "expired"
    if w.approved_on > as_of:
        return "pending"
    return "active"


def apply_waivers(findings: list[Finding], waivers: list[RecordedWaiver], as_of: date
                  ) -> tuple[list[Finding], list[WaiverState]]:
    """Findings with `waiver` set on every failed one an active waiver covers (the first, in id order, when
    several do), and the state of every waiver. Expired and pending waivers do nothing."""
    ordered = sorted(waivers, key=lambda rw: rw.waiver.id)
    covered: dict[str, list[FindingRef]] = {rw.waiver.id: [] for rw in ordered}
    out = []
    for f in findings:
        hit = None
        for rw in ordered:
            if waiver_status(rw.waiver, as_of) == "active" and covers(rw.waiver, f):
                covered[rw.waiver.id].append(FindingRef(check_id=f.check_id, resource_id=f.resource_id))
                hit = hit or rw.waiver
        if hit is not None:
            f = f.model_copy(update={"waiver": FindingWaiver(id=hit.id, approved_by=hit.approved_by, expires=hit.expires,
                                                             compensating=hit.compensating)})
        out.append(f)
    states = []
    for rw in ordered:
        w = rw.waiver
        st = waiver_status(w, as_of)
        if st == "active" and not covered[w.id]:
            st = "unused"
        states.append(WaiverState(
            id=w.id, status=st, checks=w.checks, controls=w.controls, resources=w.resources,
            justification=w.justification, compensating=w.compensating, approved_by=w.approved_by,
            approved_on=w.approved_on, expires=w.expires, findings=covered[w.id] if st == "active" else [],
            source=f"{rw.asset.scope}: {rw.asset.attributes.get('file') or rw.asset.id}", evidence=rw.asset.evidence))
    return out, states


# --------------------------------------------------------------------------- scope and 不适用

EXTENSIONS = {"cloud": Bilingual(en="cloud computing extension", zh="云计算安全扩展要求")}


def decide_scope(inventory: Inventory, declared: list[str] | None,
                 collector_extensions: dict[str, tuple[str, ...]]) -> ScopeDecision:
    """The extensions that apply: as declared (system.extensions in scan.yaml), else derived from which
    collectors produced evidence (a collector plugin declares the extensions its targets imply)."""
    seen = sorted({x.scope.split("/", 1)[0] for x in [*inventory.assets, *inventory.coverage]})
    implied = {e: [c for c in seen if e in collector_extensions.get(c, ())] for e in EXTENSIONS}
    if declared is not None:
        ext = sorted(set(declared))
        return ScopeDecision(extensions=ext, source="declared",
                             reason="declared in scan.yaml (system.extensions: [" + ", ".join(ext) + "])")
    ext = sorted(e for e, by in implied.items() if by)
    if ext:
        why = "; ".join(f"{e}: evidence of {', '.join(implied[e])}" for e in ext)
    else:
        why = "no collector of a cloud platform in the evidence"
    return ScopeDecision(extensions=ext, source="derived",
                         reason=f"derived from the scan's targets ({why}); declare system.extensions in scan.yaml to change")


def decide_not_applicable(findings: list[Finding], level: int, catalogue, scope: ScopeDecision,
                          attestations: list[tuple[Asset, str]]
                          ) -> tuple[dict[str, NotApplicable], dict[str, list[str]], list[Bilingual]]:
    """不适用 decisions: items of an extension outside the scope, and items a counted attestation says are
    not applicable. Neither overrides an automated or attested verdict (pass/fail) on the item: such a
    conflict is reported instead. Returns (control id -> decision, attestation id -> contradicted ids, notes)."""
    verdicts = {cid for f in findings if f.status in (FindingStatus.passed, FindingStatus.fail) for cid in f.control_ids}
    na: dict[str, NotApplicable] = {}
    notes: list[Bilingual] = []
    for c in catalogue.for_level(level):
        if c.extension == "general" or c.extension in scope.extensions:
            continue
        if c.id in verdicts:
            notes.append(Bilingual(
                en=f"{c.id}: the {c.extension} extension is outside the scope ({scope.source}) but automated verdicts "
                   "exist for it: judged on them, not 不适用",
                zh=f"{c.id}：{c.extension} 扩展要求不在定级范围内（{scope.source}），但已有自动检查结论，按检查结论判定，不作不适用处理"))
            continue
        ext = EXTENSIONS.get(c.extension, Bilingual(en=f"{c.extension} extension", zh=c.extension))
        na[c.id] = NotApplicable(
            reason=f"{ext.en} ({ext.zh}) not in the system's scope: {scope.reason}",
            decided_by="scope: scan.yaml system.extensions" if scope.source == "declared"
            else "scope: derived from the scan's targets", source="scan.json (scope)")
    contradicted: dict[str, list[str]] = {}
    for a, state in attestations:
        at = a.attributes
        if state != "counted" or at.get("status") != "not_applicable":
            continue
        for cid in at.get("control_ids", []):
            if cid not in catalogue or catalogue.get(cid).level != level:
                continue
            if cid in verdicts:
                contradicted.setdefault(a.id, []).append(cid)
                notes.append(Bilingual(
                    en=f"{cid}: attested not applicable by {at.get('by')} ({a.id}) but verdicts exist for it: judged on "
                       "them, not 不适用",
                    zh=f"{cid}：{at.get('by')} 记录为不适用（{a.id}），但已有检查结论，按检查结论判定，不作不适用处理"))
                continue
            na.setdefault(cid, NotApplicable(reason=str(at.get("note") or ""), decided_by=str(at.get("by") or ""),
                                             source=a.id, evidence=list(a.evidence)))
    return na, contradicted, notes


# --------------------------------------------------------------------------- high-risk candidates


def high_risks(findings: list[Finding], level: int, case_list: list[Case] | None = None) -> list[HighRisk]:
    """Every case of the guideline (at this level) that failed findings trigger, with the findings, the
    waivers covering them and whether it still counts as a major-risk candidate."""
    out = []
    for case in case_list if case_list is not None else cases():
        if level not in case.levels or level not in case.controls:
            continue
        trig = [f for f in findings if f.status == FindingStatus.fail and f.check_id in case.checks]
        if not trig:
            continue
        refs = sorted({(f.check_id, f.resource_id) for f in trig})
        compensated = case.mitigable and all(f.waiver is not None and f.waiver.compensating for f in trig)
        out.append(HighRisk(
            case_id=case.id, title=case.title, control_ids=case.controls[level],
            findings=[FindingRef(check_id=c, resource_id=r) for c, r in refs],
            mitigable=case.mitigable, mitigation=case.mitigation, question=case.question,
            can_be_major=case.major is not None, major_trigger=case.major,
            major=case.major is not None and not compensated,
            waivers=sorted({f.waiver.id for f in trig if f.waiver is not None}), compensated=compensated,
            condition=case.condition, basis=case.basis))
    return out


# --------------------------------------------------------------------------- 符合率 and the conclusion


def item_bounds(c: ControlResult, weights: dict[str, float]) -> tuple[Fraction, Fraction] | None:
    """The lowest and highest 符合程度 score an item can end with, given what is still open; None for 不适用."""
    w = {k: Fraction(str(v)) for k, v in weights.items()}
    full, part, none = w["compliant"], w["partial"], w["non_compliant"]
    n = c.counts
    failed = n.get("fail", 0) + n.get("waived", 0)
    st = c.status
    if st == ControlStatus.not_applicable:
        return None
    if st == ControlStatus.compliant:
        return full, full
    if st == ControlStatus.partial:
        return (part, part) if failed else (part, full)  # no failure: a person must confirm the rest
    if st == ControlStatus.non_compliant:
        return (none, part) if n.get("error") else (none, none)
    if st == ControlStatus.error:
        return (part if n.get("pass") else none), full
    return none, full  # manual: no verdict yet


def _floor1(x: Fraction) -> float:
    return math.floor(x * 10) / 10


def compliance(controls: list[ControlResult], rule_file: RuleFile | None = None
               ) -> tuple[Fraction | None, Fraction | None, dict[str, Any]]:
    """(rate low, rate high) in percent as exact fractions (None when no item applies), and the counts."""
    r = rule_file or rule()
    lo = hi = Fraction(0)
    applicable = open_items = 0
    for c in controls:
        b = item_bounds(c, r.weights)
        if b is None:
            continue
        applicable += 1
        lo, hi = lo + b[0], hi + b[1]
        open_items += b[0] != b[1]
    st = Counter(c.status.value for c in controls)
    counts = {"items": len(controls), "applicable": applicable, "not_applicable": st.get("not_applicable", 0),
              "compliant": st.get("compliant", 0), "partial": st.get("partial", 0),
              "non_compliant": st.get("non_compliant", 0), "error": st.get("error", 0), "manual": st.get("manual", 0),
              "open": open_items, "score": {"low": float(lo), "high": float(hi)}}
    if not applicable:
        return None, None, counts
    return lo * 100 / applicable, hi * 100 / applicable, counts


def conclude(rate: Fraction | float | None, major_risks: int, rule_file: RuleFile | None = None) -> Conclusion | None:
    """The 2025 template's conclusion for a rate (percent) and a number of major risk hazards."""
    if rate is None:
        return None
    r = rule_file or rule()
    x = Fraction(str(rate)) if isinstance(rate, float) else Fraction(rate)
    for band in r.bands:
        if x >= Fraction(str(band.min_rate)):
            code = band.conclusion
            if band.requires_no_major_risk and major_risks and band.with_major_risk:
                code = band.with_major_risk
            t = r.conclusions[code]
            return Conclusion(code=code, zh=t.zh, en=t.en)
    return None


# --------------------------------------------------------------------------- the whole judgement


def attestation_states_of(inventory: Inventory, as_of: date, max_age_days: int) -> list[tuple[Asset, str]]:
    return [(a, attestation_state(a, as_of, max_age_days)) for a in inventory.assets if a.type == "attestation"]


def assess(*, system: str, level: int, as_of: date, profile: Profile, catalogue, findings: list[Finding],
           controls: list[ControlResult], scope: ScopeDecision, waiver_states: list[WaiverState],
           attestations: list[tuple[Asset, str]], contradicted: dict[str, list[str]], notes: list[Bilingual]
           ) -> Assessment:
    r = rule()
    risks = high_risks(findings, level)
    majors = sum(h.major for h in risks)
    lo, hi, counts = compliance(controls, r)
    counts.update({"high_risk_candidates": len(risks), "major_risk_candidates": majors,
                   "waived_failures": sum(1 for f in findings if f.waiver is not None),
                   "waivers": dict(Counter(w.status for w in waiver_states))})
    na_items = [NotApplicableItem(control_id=c.control_id, title=c.title, **c.na.model_dump())
                for c in controls if c.status == ControlStatus.not_applicable and c.na is not None]
    att = []
    for a, state in attestations:
        at = a.attributes
        if a.id in contradicted:
            state = "contradicted"
        docs = [AttestationDocument(**{k: d.get(k) for k in ("name", "path", "sha256", "size", "problem")})
                for d in at.get("document_files", [])]
        named = {d.name for d in docs}
        docs += [AttestationDocument(name=n, problem="not recorded (no copy in this bundle)")
                 for n in at.get("documents", []) if n not in named]
        att.append(AttestationState(id=a.id, control_ids=list(at.get("control_ids", [])), status=at.get("status"),
                                    by=str(at.get("by", "")), date=_as_date(at.get("date")) or as_of, state=state,
                                    note=str(at.get("note", "")), documents=docs, evidence=list(a.evidence)))
    out_notes = list(notes)
    for a in att:
        if a.state == "stale":
            out_notes.append(Bilingual(
                en=f"attestation {a.id} by {a.by} of {a.date} is older than {profile.attestation_max_age_days} days "
                   "(attestation_max_age_days): it no longer counts; renew it",
                zh=f"现场核查记录 {a.id}（{a.by}，{a.date}）已超过 {profile.attestation_max_age_days} 天，不再采信，请重新核查"))
        elif a.state == "future":
            out_notes.append(Bilingual(
                en=f"attestation {a.id} is dated {a.date}, after the assessment date {as_of}: not counted",
                zh=f"现场核查记录 {a.id} 日期为 {a.date}，晚于判定日期 {as_of}，不予采信"))
        for d in a.documents:
            if d.problem:
                out_notes.append(Bilingual(en=f"attestation {a.id}: document {d.name!r}: {d.problem}",
                                           zh=f"现场核查记录 {a.id}：文档 {d.name!r} 缺失（{d.problem}）"))
    for w in waiver_states:
        if w.status == "expired":
            out_notes.append(Bilingual(en=f"waiver {w.id} expired on {w.expires}: it covers nothing; renew or remove it",
                                       zh=f"豁免 {w.id} 已于 {w.expires} 到期，不再生效；请续期或删除"))
        elif w.status == "unused":
            out_notes.append(Bilingual(
                en=f"waiver {w.id} covers no failed finding: remove it, or check its checks/controls/resources",
                zh=f"豁免 {w.id} 未覆盖任何不符合项：请删除，或核对其 checks/controls/resources"))
        elif w.status == "pending":
            out_notes.append(Bilingual(
                en=f"waiver {w.id} is approved on {w.approved_on}, after the assessment date {as_of}: not applied",
                zh=f"豁免 {w.id} 批准日期 {w.approved_on} 晚于判定日期 {as_of}，不予适用"))
    return Assessment(
        system=system, level=level, as_of=as_of,
        profile={"name": profile.name, "waiver_max_days": profile.waiver_max_days,
                 "attestation_max_age_days": profile.attestation_max_age_days},
        scope=scope,
        compliance_rate=RateRange(low=_floor1(lo) if lo is not None else None,
                                  high=_floor1(hi) if hi is not None else None),
        conclusion=ConclusionRange(low=conclude(lo, majors, r), high=conclude(hi, majors, r)),
        counts=counts,
        rule=ConclusionRule(provisional=r.provisional, basis=r.basis, weights=dict(r.weights),
                            bands=[b.model_dump(exclude_none=True) for b in r.bands], formula=r.formula),
        high_risks=risks, waivers=waiver_states, attestations=att, not_applicable=na_items, notes=out_notes)
