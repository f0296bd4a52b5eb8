"""report.html: the human view of a bundle (bilingual control names, derived ids marked)."""
from __future__ import annotations

from collections import Counter
from importlib import resources

from jinja2 import Environment, select_autoescape

from . import __version__
from .catalogue import load as load_catalogue
from .models import Assessment, ControlResult, Finding, FindingStatus, PluginFailure

_LEVEL_ZH = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}
STATUSES = [("compliant", "compliant 符合"), ("partial", "partial 部分符合"), ("non_compliant", "non-compliant 不符合"),
            ("error", "error 无法评估"), ("manual", "manual 人工核查"), ("not_applicable", "not applicable 不适用")]


def _rate(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f} %"


def verdict_view(a: Assessment | None) -> dict | None:
    """What the verdict block of a report (or another front end: the workbook, an export) shows of the
    assessment, as plain values: the conclusion and 符合率 ranges, the high-risk candidates, waivers, 不适用
    items and the rule's basis."""
    if a is None:
        return None
    lo, hi = a.conclusion.low, a.conclusion.high
    same = lo is not None and hi is not None and lo.code == hi.code
    conclusion = ("—" if lo is None else f"{lo.zh} {lo.en}" if same
                  else f"{lo.zh} {lo.en} … {hi.zh} {hi.en}" if hi is not None else f"{lo.zh} {lo.en}")
    rate = (_rate(a.compliance_rate.low) if a.compliance_rate.low == a.compliance_rate.high
            else f"{_rate(a.compliance_rate.low)} … {_rate(a.compliance_rate.high)}")
    waivers: dict[str, list] = {}
    for w in a.waivers:
        waivers.setdefault(w.status, []).append(w)
    return {
        "conclusion": conclusion, "conclusion_low": lo, "conclusion_high": hi, "rate": rate,
        "as_of": a.as_of.isoformat(), "counts": a.counts, "provisional": a.rule.provisional,
        "formula": a.rule.formula, "basis": a.rule.basis, "scope": a.scope,
        "high_risks": a.high_risks, "majors": sum(h.major for h in a.high_risks),
        "waivers": a.waivers, "waivers_by_status": waivers, "not_applicable": a.not_applicable,
        "attestations": [x for x in a.attestations if x.state != "counted"], "notes": a.notes,
    }


def render(*, system: str, level: int, controls: list[ControlResult], findings: list[Finding], scope: list[str],
           finished_at: str, partial: bool, asset_count: int, evidence_count: int, signed: str | None = None,
           assessment: Assessment | None = None, plugin_failures: list[PluginFailure] | None = None) -> str:
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    tpl = env.from_string(resources.files("mlps_scan").joinpath("templates/report.html.j2").read_text("utf-8"))
    order = {"fail": 0, "error": 1}
    problems = sorted((f for f in findings if f.status in (FindingStatus.fail, FindingStatus.error)),
                      key=lambda f: (order[f.status.value], f.check_id, f.resource_id))
    return tpl.render(
        system=system, level=level, level_zh=_LEVEL_ZH.get(level, str(level)), version=__version__,
        controls=controls, findings=findings, problems=problems,
        passed=[f for f in findings if f.status == FindingStatus.passed],
        control_counts=Counter(c.status.value for c in controls),
        finding_counts=Counter(f.status.value for f in findings), statuses=STATUSES, scope=scope,
        areas=load_catalogue().areas, finished_at=finished_at, partial=partial, asset_count=asset_count, evidence_count=evidence_count, signed=signed,
        verdict=verdict_view(assessment), plugin_failures=plugin_failures or [])
