"""The assessment's judgement over findings and control results (DESIGN: Decision, Assessment).

Pure functions over findings, control results, the catalogue and the decisions recorded in the inventory
(`attestation` and `waiver` assets from static files); the pipeline calls them in this order:

  attestation_states   which attestations count as of the assessment date (stale, future ones do not)
  apply_waivers        failed findings covered by active waivers gain `waivers` (the verdict stays `fail`); each
                       records the controls it covers them under
  decide_scope         which extensions apply: declared in scan.yaml (system.extensions) or derived
  decide_not_applicable  不适用 from an attestation or the scope, never over an automated verdict or missing
                       evidence
  (runner.aggregate)   one result per control, N/A and waived failures included
  high_risks           the high-risk guideline's cases (data/high_risk.yaml) the failed findings trigger (as the
                       checks declare: `@check(high_risk=...)`), and the assessor's rulings on them
                       (`high_risk_decisions`); waivers' compensating measures are claims, not rulings
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
from .models import (HIGH_RISK_STATE_ZH, WAIVER_STATUS_ZH, Assessment, Asset, AttestationDocument, AttestationState,
                     Bilingual, CaseFinding, Conclusion, ConclusionRange, ConclusionRule, ControlResult, ControlStatus,
                     Finding, FindingRef, FindingStatus, FindingWaiver, HighRisk, HighRiskDecision,
                     HighRiskDecisionState, HighRiskTrigger, Inventory, MitigationClaim, NotApplicable,
                     NotApplicableItem, Profile, RateRange, ScopeDecision, Waiver, WaiverState)

# --------------------------------------------------------------------------- data files


class Case(BaseModel):
    """One case of the high-risk guideline, as data/high_risk.yaml holds it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^\d+(\.\d+){3}$")
    title: Bilingual
    levels: list[int]
    controls: dict[int, list[str]]
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


# attributes a collector adds to a waiver asset beside the waiver's own fields: the file it was read from, and
# the evidence records of the earlier waiver files a `check --waivers` file replaces
WAIVER_ASSET_KEYS = ("file", "replaces")


def waivers_in(inventory: Inventory) -> tuple[list[RecordedWaiver], list[RecordedWaiver]]:
    """The waivers the inventory holds (assets of type `waiver`), validated again (they may come from a
    bundle written by another version): (in force, superseded). A waiver is superseded when a later
    `check --waivers` file replaced the file it came from (its asset's evidence is in that file's `replaces`)."""
    found = []
    for a in inventory.assets:
        if a.type != "waiver":
            continue
        attrs = {k: v for k, v in a.attributes.items() if k not in WAIVER_ASSET_KEYS}
        try:
            found.append(RecordedWaiver(Waiver.model_validate(attrs), a))
        except ValidationError as e:
            raise InputError(pydantic_message(e, prefix=f"waiver {a.id} ({a.scope}): ")) from None
    replaced = {ev for rw in found for ev in rw.asset.attributes.get("replaces") or []}
    superseded = [rw for rw in found if set(rw.asset.evidence) & replaced]
    return [rw for rw in found if rw not in superseded], superseded


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
    return dated_state(_as_date(a.attributes.get("date")), as_of, max_age_days)


def _as_date(v: Any) -> date | None:
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError:
        return None


# --------------------------------------------------------------------------- waivers


def covered_controls(w: Waiver, f: Finding) -> list[str]:
    """The finding's control ids a waiver covers it under: every one when it names the finding's check, those
    it names when it is scoped by `controls:`; empty when it does not cover the finding (not a failure, not
    its check or controls, or a resource its patterns do not match)."""
    if f.status != FindingStatus.fail:
        return []
    if w.resources and not any(fnmatchcase(f.resource_id, p) for p in w.resources):
        return []
    if f.check_id in w.checks:
        return list(f.control_ids) or ["*"]
    return [c for c in f.control_ids if c in w.controls]


def covers(w: Waiver, f: Finding) -> bool:
    """A waiver covers a failed finding of a check it names or of a control it names (either), on a
    resource its patterns match (every resource when it names none)."""
    return bool(covered_controls(w, f))


def waiver_status(w: Waiver, as_of: date) -> str:
    if w.expires < as_of:
        return "expired"
    if w.approved_on > as_of:
        return "pending"
    return "active"


def _strength(w: FindingWaiver) -> tuple:
    return (w.compensating is None, -len(w.controls), w.id)


def apply_waivers(findings: list[Finding], waivers: list[RecordedWaiver], as_of: date,
                  superseded: list[RecordedWaiver] = ()) -> tuple[list[Finding], list[WaiverState]]:
    """Findings with `waivers` (every active waiver covering them, with the controls each covers them under;
    `waiver` the strongest) on every failed one, and the state of every waiver. Expired, pending and
    superseded waivers do nothing. The order of the waivers in the files does not matter."""
    ordered = sorted(waivers, key=lambda rw: rw.waiver.id)
    covered: dict[str, list[FindingRef]] = {rw.waiver.id: [] for rw in ordered}
    out = []
    for f in findings:
        recs = []
        for rw in ordered:
            w = rw.waiver
            ctrls = covered_controls(w, f) if waiver_status(w, as_of) == "active" else []
            if ctrls:
                covered[w.id].append(FindingRef(check_id=f.check_id, resource_id=f.resource_id))
                recs.append(FindingWaiver(id=w.id, approved_by=w.approved_by, expires=w.expires,
                                          compensating=w.compensating, controls=[c for c in ctrls if c != "*"]))
        if recs:
            recs.sort(key=_strength)
            f = f.model_copy(update={"waiver": recs[0], "waivers": recs})
        out.append(f)
    states = []
    for rw, st0 in [*((rw, None) for rw in ordered), *((rw, "superseded") for rw in
                                                      sorted(superseded, key=lambda rw: rw.waiver.id))]:
        w = rw.waiver
        st = st0 or waiver_status(w, as_of)
        if st == "active" and not covered[w.id]:
            st = "unused"
        states.append(WaiverState(
            id=w.id, status=st, status_zh=WAIVER_STATUS_ZH[st], checks=w.checks, controls=w.controls,
            resources=w.resources, justification=w.justification, compensating=w.compensating,
            approved_by=w.approved_by, approved_on=w.approved_on, expires=w.expires,
            findings=covered.get(w.id, []) if st == "active" else [],
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


SCOPE_DECIDED_BY = {"declared": ("scope: scan.yaml system.extensions", "定级范围（scan.yaml system.extensions）"),
                    "derived": ("scope: derived from the scan's targets", "定级范围（由扫描对象推定）")}


def decide_not_applicable(findings: list[Finding], level: int, catalogue, scope: ScopeDecision,
                          attestations: list[tuple[Asset, str]]
                          ) -> tuple[dict[str, NotApplicable], dict[str, list[str]], list[Bilingual]]:
    """不适用 decisions: items of an extension outside the scope, and items a counted attestation says are
    not applicable. Neither overrides an automated or attested verdict (pass/fail) on the item, nor missing
    evidence (`error`: never 不适用 over evidence that could not be read): the item is judged on its findings
    and the conflict is reported. Returns (control id -> decision, attestation id -> contradicted ids, notes)."""
    verdicts: dict[str, set[str]] = {}
    for f in findings:
        if f.status in (FindingStatus.passed, FindingStatus.fail, FindingStatus.error):
            for cid in f.control_ids:
                verdicts.setdefault(cid, set()).add(f.status.value)

    def why(cid: str) -> tuple[str, str]:
        if verdicts[cid] == {"error"}:
            return ("its evidence is missing (error): judged error, never 不适用 over missing evidence",
                    "其证据缺失（无法评估），按无法评估判定，不因证据缺失作不适用处理")
        return "verdicts exist for it: judged on them, not 不适用", "已有检查结论，按检查结论判定，不作不适用处理"

    na: dict[str, NotApplicable] = {}
    notes: list[Bilingual] = []
    by_en, by_zh = SCOPE_DECIDED_BY[scope.source]
    for c in catalogue.for_level(level):
        if c.extension == "general" or c.extension in scope.extensions:
            continue
        ext = EXTENSIONS.get(c.extension, Bilingual(en=f"{c.extension} extension", zh=c.extension))
        if c.id in verdicts:
            en, zh = why(c.id)
            notes.append(Bilingual(
                en=f"{c.id}: the {c.extension} extension is outside the scope ({scope.source}) but {en}",
                zh=f"{c.id}：{ext.zh}不在定级范围内（{'声明' if scope.source == 'declared' else '推定'}），但{zh}"))
            continue
        na[c.id] = NotApplicable(
            reason=f"{ext.en} ({ext.zh}) not in the system's scope: {scope.reason}",
            reason_zh=f"{ext.zh}不在本系统的定级范围内（{'scan.yaml 中 system.extensions 声明' if scope.source == 'declared' else '由扫描对象推定，可在 scan.yaml 中声明 system.extensions'}）",
            decided_by=by_en, decided_by_zh=by_zh, source="scan.json (scope)")
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
                en, zh = why(cid)
                notes.append(Bilingual(
                    en=f"{cid}: attested not applicable by {at.get('by')} ({a.id}) but {en}",
                    zh=f"{cid}：{at.get('by')} 记录为不适用（{a.id}），但{zh}"))
                continue
            na.setdefault(cid, NotApplicable(reason=str(at.get("note") or ""), reason_zh=str(at.get("note") or ""),
                                             decided_by=str(at.get("by") or ""), decided_by_zh=str(at.get("by") or ""),
                                             source=a.id, evidence=list(a.evidence)))
    return na, contradicted, notes


# --------------------------------------------------------------------------- high-risk candidates


def trigger_met(t: HighRiskTrigger, f: Finding) -> bool:
    """Whether a failed finding shows the case a check declares (`when` over its `details`): every key must
    hold. A key the finding does not record, or records as null, is unknown and counts as met: the case is a
    candidate and the assessor rules on it."""
    for key, cond in t.when.items():
        value = f.details.get(key)
        if value is None:
            continue
        if isinstance(cond, dict):
            ok = all(_holds(op, x, value) for op, x in cond.items())
        elif isinstance(cond, list):
            ok = value in cond
        else:
            ok = value == cond
        if not ok:
            return False
    return True


def _holds(op: str, x: Any, value: Any) -> bool:
    if op == "nonempty":
        return bool(value) == bool(x)
    if op == "in":
        return value in x
    try:
        return {"lt": value < x, "le": value <= x, "gt": value > x, "ge": value >= x}[op]
    except TypeError:
        return True  # not comparable: unknown, the assessor rules
    except KeyError:
        raise ValueError(f"unknown condition operator {op!r}") from None


@dataclass(frozen=True)
class RecordedDecision:
    decision: HighRiskDecision
    asset: Asset


def decisions_in(inventory: Inventory) -> list[RecordedDecision]:
    """The assessor's rulings on high-risk candidates the inventory holds (assets of type `high_risk_decision`),
    validated again."""
    out = []
    for a in inventory.assets:
        if a.type != "high_risk_decision":
            continue
        try:
            out.append(RecordedDecision(HighRiskDecision.model_validate(
                {k: v for k, v in a.attributes.items() if k != "file"}), a))
        except ValidationError as e:
            raise InputError(pydantic_message(e, prefix=f"high_risk_decision {a.id} ({a.scope}): ")) from None
    return out


def validate_decisions(decisions: Iterable[RecordedDecision], case_list: list[Case] | None = None) -> None:
    """Input errors a ruling can hold beyond its own fields: a case the scan does not list, and `mitigated` on a
    case the guideline does not allow to be mitigated."""
    known = {c.id: c for c in (case_list if case_list is not None else cases())}
    for rd in decisions:
        d, where = rd.decision, f"high_risk_decision {rd.asset.attributes.get('file') or rd.asset.id}"
        case = known.get(d.case_id)
        if case is None:
            raise InputError(f"{where}: {d.case_id} is not a case the scan lists (data/high_risk.yaml; the cases it "
                             "cannot see are under not_mapped)")
        if d.decision == "mitigated" and not case.mitigable:
            raise InputError(f"{where}: case {d.case_id}: the guideline allows no mitigation, so it cannot be "
                             "mitigated: record `confirmed` or `not_high_risk`")


def dated_state(d: date | None, as_of: date, max_age_days: int) -> str:
    """counted, stale (older than max_age_days on as_of) or future (dated after as_of)."""
    if d is None:
        return "stale"
    if d > as_of:
        return "future"
    if (as_of - d).days > max_age_days:
        return "stale"
    return "counted"


_STRICT = {"confirmed": 2, "mitigated": 1, "not_high_risk": 0}


def high_risks(findings: list[Finding], level: int, triggers: dict[str, list[HighRiskTrigger]],
               decisions: Iterable[RecordedDecision] = (), as_of: date | None = None, max_age_days: int = 365,
               case_list: list[Case] | None = None
               ) -> tuple[list[HighRisk], list[HighRiskDecisionState], list[Bilingual]]:
    """Every case of the guideline (at this level) that failed findings trigger (as their checks declare, when
    what they record shows the case), with the assessor's rulings on each finding: the latest counted
    `high_risk_decision` covering it (the stricter of two of the same day, reported). A case stays a
    candidate while a triggering finding has no ruling; waivers' compensating measures are listed as claims
    for the assessor, never as a ruling. Returns (cases, the rulings' states, notes)."""
    as_of = as_of or date.today()
    decisions = list(decisions)
    dstate = {rd.asset.id: dated_state(rd.decision.date, as_of, max_age_days) for rd in decisions}
    counted = [rd for rd in decisions if dstate[rd.asset.id] == "counted"]
    picked: dict[str, list[FindingRef]] = {}
    covering_any: set[str] = set()
    notes: list[Bilingual] = []
    by_case: dict[str, dict[tuple[str, str], Finding]] = {}
    for f in findings:
        if f.status != FindingStatus.fail:
            continue
        for t in triggers.get(f.check_id, []):
            if trigger_met(t, f):
                by_case.setdefault(t.case, {}).setdefault((f.check_id, f.resource_id), f)
    out = []
    for case in case_list if case_list is not None else cases():
        if level not in case.levels or level not in case.controls or case.id not in by_case:
            continue
        trig = by_case[case.id]
        rulings = [rd for rd in counted if rd.decision.case_id == case.id]
        refs: list[CaseFinding] = []
        for (check_id, resource_id), f in sorted(trig.items()):
            cover = [rd for rd in rulings if not rd.decision.resources
                     or any(fnmatchcase(resource_id, p) for p in rd.decision.resources)]
            covering_any.update(rd.asset.id for rd in cover)
            ref = CaseFinding(check_id=check_id, resource_id=resource_id)
            if cover:
                latest = max(rd.decision.date for rd in cover)
                same_day = [rd for rd in cover if rd.decision.date == latest]
                pick = max(same_day, key=lambda rd: (_STRICT[rd.decision.decision], rd.asset.id))
                if len({rd.decision.decision for rd in same_day}) > 1:
                    notes.append(Bilingual(
                        en=f"case {case.id} on {resource_id}: rulings of {latest} disagree "
                           f"({', '.join(sorted(rd.decision.decision + ' by ' + rd.decision.by for rd in same_day))}): "
                           f"the stricter ({pick.decision.decision}) holds; record one ruling",
                        zh=f"判例 {case.id}（{resource_id}）：{latest} 的多条判定不一致，按较严格的"
                           f"（{pick.decision.decision}）处理；请只保留一条判定"))
                picked.setdefault(pick.asset.id, []).append(FindingRef(check_id=check_id, resource_id=resource_id))
                ref = CaseFinding(check_id=check_id, resource_id=resource_id, decision=pick.decision.decision,
                                  decision_id=pick.asset.id)
            refs.append(ref)
        ruled = [r.decision for r in refs]
        state = ("confirmed" if "confirmed" in ruled else "candidate" if None in ruled
                 else "mitigated" if "mitigated" in ruled else "not_high_risk")
        claims: dict[str, MitigationClaim] = {}
        for (check_id, resource_id), f in sorted(trig.items()):
            for w in f.waivers or ([f.waiver] if f.waiver else []):
                if not w.compensating:
                    continue
                claim = claims.get(w.id)
                if claim is None:
                    tail_en = "" if case.mitigable else " (the guideline allows no mitigation of this case)"
                    tail_zh = "" if case.mitigable else "（该判例不可降级）"
                    claim = claims[w.id] = MitigationClaim(
                        waiver=w.id, compensating=w.compensating, findings=[],
                        text=Bilingual(en=f"mitigation claimed by waiver {w.id}: {w.compensating}{tail_en}; for the "
                                          "assessor to verify and record as a high_risk_decision",
                                       zh=f"豁免 {w.id} 声称的缓解措施：{w.compensating}{tail_zh}；需测评人员核实后"
                                          "以 high_risk_decisions 记录判定"))
                claim.findings.append(FindingRef(check_id=check_id, resource_id=resource_id))
        out.append(HighRisk(
            case_id=case.id, title=case.title, control_ids=case.controls[level], findings=refs,
            mitigable=case.mitigable, mitigation=case.mitigation, question=case.question,
            can_be_major=case.major is not None, major_trigger=case.major, state=state,
            state_zh=HIGH_RISK_STATE_ZH[state], major=case.major is not None and state in ("candidate", "confirmed"),
            decisions=sorted({r.decision_id for r in refs if r.decision_id}),
            waivers=sorted({w.id for f in trig.values() for w in (f.waivers or ([f.waiver] if f.waiver else []))}),
            mitigation_claims=[claims[k] for k in sorted(claims)], condition=case.condition, basis=case.basis))
    states = []
    for rd in sorted(decisions, key=lambda rd: rd.asset.id):
        d, st = rd.decision, dstate[rd.asset.id]
        if st == "counted":
            st = "counted" if rd.asset.id in picked else "overridden" if rd.asset.id in covering_any else "unused"
        states.append(HighRiskDecisionState(
            id=rd.asset.id, case_id=d.case_id, resources=d.resources, decision=d.decision, by=d.by, date=d.date,
            note=d.note, state=st, findings=picked.get(rd.asset.id, []), evidence=list(rd.asset.evidence)))
        if st == "stale":
            notes.append(Bilingual(
                en=f"high-risk ruling {rd.asset.id} on case {d.case_id} by {d.by} of {d.date} is older than "
                   f"{max_age_days} days (attestation_max_age_days): it no longer counts; rule again",
                zh=f"高风险判定 {rd.asset.id}（判例 {d.case_id}，{d.by}，{d.date}）已超过 {max_age_days} 天，不再采信，请重新判定"))
        elif st == "future":
            notes.append(Bilingual(
                en=f"high-risk ruling {rd.asset.id} on case {d.case_id} is dated {d.date}, after the assessment date "
                   f"{as_of}: not counted",
                zh=f"高风险判定 {rd.asset.id}（判例 {d.case_id}）日期为 {d.date}，晚于判定日期 {as_of}，不予采信"))
        elif st == "unused":
            notes.append(Bilingual(
                en=f"high-risk ruling {rd.asset.id} on case {d.case_id} rules on no candidate (the case is not "
                   f"triggered at level {level}, or no triggering finding matches its resources)",
                zh=f"高风险判定 {rd.asset.id}（判例 {d.case_id}）未对应任何疑似高风险（第{level}级未触发该判例，"
                   "或其 resources 未匹配触发项）"))
    return out, states, notes


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
           attestations: list[tuple[Asset, str]], contradicted: dict[str, list[str]], notes: list[Bilingual],
           triggers: dict[str, list[HighRiskTrigger]] | None = None, decisions: Iterable[RecordedDecision] = ()
           ) -> Assessment:
    r = rule()
    risks, decision_states, risk_notes = high_risks(findings, level, triggers or {}, decisions, as_of,
                                                    profile.attestation_max_age_days)
    majors = sum(h.major for h in risks)
    lo, hi, counts = compliance(controls, r)
    counts.update({"high_risk_candidates": len(risks),
                   "high_risk_open": sum(h.state in ("candidate", "confirmed") for h in risks),
                   "major_risk_candidates": majors,
                   "waived_failures": sum(1 for f in findings if f.waiver is not None),
                   "waivers": dict(Counter(w.status for w in waiver_states))})
    na_items = [NotApplicableItem(control_id=c.control_id, title=c.title, **c.na.model_dump())
                for c in controls if c.status == ControlStatus.not_applicable and c.na is not None]
    att = []
    for a, state in attestations:
        at = a.attributes
        ids = list(at.get("control_ids", []))
        ignored = [c for c in ids if c not in catalogue or catalogue.get(c).level != level]
        if a.id in contradicted:
            state = "contradicted"
        elif state == "counted" and ids and len(ignored) == len(ids):
            state = "other_level"
        docs = [AttestationDocument(**{k: d.get(k) for k in ("name", "path", "sha256", "size", "problem")})
                for d in at.get("document_files", [])]
        named = {d.name for d in docs}
        docs += [AttestationDocument(name=n, problem="not recorded (no copy in this bundle)")
                 for n in at.get("documents", []) if n not in named]
        att.append(AttestationState(id=a.id, control_ids=ids, status=at.get("status"),
                                    by=str(at.get("by", "")), date=_as_date(at.get("date")) or as_of, state=state,
                                    ignored_ids=ignored, note=str(at.get("note", "")), documents=docs,
                                    evidence=list(a.evidence)))
    out_notes = list(notes) + risk_notes
    for a in att:
        other = [c for c in a.ignored_ids if c in catalogue]
        if other and a.state in ("counted", "other_level", "contradicted"):
            out_notes.append(Bilingual(
                en=f"attestation {a.id} names {', '.join(other)}, not items of level {level}: "
                   + ("it does nothing at this level" if a.state == "other_level" else "those ids do nothing here"),
                zh=f"现场核查记录 {a.id} 引用的 {'、'.join(other)} 不是第{level}级的测评项，在本级不起作用"))
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
        elif w.status == "superseded":
            out_notes.append(Bilingual(
                en=f"waiver {w.id} ({w.source}) was replaced by a later `check --waivers` file: not applied",
                zh=f"豁免 {w.id}（{w.source}）已被后续 check --waivers 文件替换，不再适用"))
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
        high_risks=risks, waivers=waiver_states, high_risk_decisions=decision_states, attestations=att,
        not_applicable=na_items, notes=out_notes)
