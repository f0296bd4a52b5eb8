"""report.html: the human view of a bundle, Chinese and English side by side.

It opens with the verdict (system, level, the conclusion range and 符合率 when the assessment is in the bundle,
high-risk candidates, a chart of item statuses per security area), then the failures grouped by severity and
check with their resources, then every control of the level (manual items folded per area). One file: inline
CSS, inline SVG and a small inline script for the filters (the page reads the same without it); no CDN, so it
works offline and inside a zip. Evidence ids link to the evidence files beside the report.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from importlib import resources
from typing import Any

from jinja2 import Environment, select_autoescape

from . import __version__
from .catalogue import AREA_ORDER
from .catalogue import load as load_catalogue
from .lang import FINDING, SEVERITY, SEVERITY_ORDER, STATUS
from .models import ControlResult, Finding, FindingStatus

_LEVEL_ZH = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}
CHART_STATUSES = ["compliant", "partial", "non_compliant", "not_applicable", "error", "manual"]
COLORS = {"compliant": "#2da44e", "partial": "#d4a72c", "non_compliant": "#cf222e", "not_applicable": "#8c959f",
          "error": "#bc4c00", "manual": "#d0d7de"}
CONCLUSION = {
    "compliant": ("符合", "Compliant"), "符合": ("符合", "Compliant"),
    "basically_compliant": ("基本符合", "Basically compliant"), "basic": ("基本符合", "Basically compliant"),
    "基本符合": ("基本符合", "Basically compliant"),
    "non_compliant": ("不符合", "Non-compliant"), "不符合": ("不符合", "Non-compliant"),
}
# kept for callers that list the statuses with their bilingual labels
STATUSES = [(k, f"{STATUS[k][1]} {STATUS[k][0]}") for k in CHART_STATUSES]


def _val(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def _status(x: Any) -> str:
    v = _val(x, "status")
    return getattr(v, "value", v)


def chart(controls: list[ControlResult], areas: dict) -> dict:
    """Geometry of the inline SVG: one stacked bar of item statuses per security area (viewBox units)."""
    per: "OrderedDict[str, Counter]" = OrderedDict()
    for code in AREA_ORDER:
        per[code] = Counter()
    for c in controls:
        per.setdefault(c.area, Counter())[_status(c)] += 1
    per = OrderedDict((k, v) for k, v in per.items() if v)
    label_w, bar_w, row_h, top = 205, 470, 26, 6
    widest = max((sum(v.values()) for v in per.values()), default=1)
    rows = []
    for i, (code, cnt) in enumerate(per.items()):
        total = sum(cnt.values())
        x, segs = label_w, []
        for st in CHART_STATUSES:
            n = cnt.get(st, 0)
            if not n:
                continue
            w = bar_w * n / widest
            segs.append({"status": st, "x": round(x, 2), "w": round(w, 2), "n": n, "color": COLORS[st],
                         "title": f"{STATUS[st][0]} {STATUS[st][1]}: {n}"})
            x += w
        a = areas.get(code)
        rows.append({"code": code, "zh": a.zh if a else code, "en": a.en if a else "", "y": top + i * row_h,
                     "total": total, "segs": segs, "end": round(x, 2)})
    height = top + len(rows) * row_h + 6
    return {"rows": rows, "width": label_w + bar_w + 60, "height": height, "row_h": row_h, "label_w": label_w,
            "legend": [(st, STATUS[st][0], STATUS[st][1], COLORS[st]) for st in CHART_STATUSES]}


def _conclusion(v: Any) -> tuple[str, str]:
    """(中文, English) of a conclusion: {code, zh, en} as assessment.json writes it, or a bare code."""
    if isinstance(v, dict):
        z, e = CONCLUSION.get(str(v.get("code")), (None, None))
        return v.get("zh") or z or str(v.get("code")), v.get("en") or e or str(v.get("code"))
    return CONCLUSION.get(str(v), (str(v), str(v)))


def _pct(x: Any) -> str:
    """符合率 as assessment.json gives it: a percentage (0-100)."""
    return f"{x:.1f}%" if isinstance(x, (int, float)) else str(x)


def verdict(controls: list[ControlResult], findings: list[Finding], assessment: dict | None) -> dict:
    cc = Counter(_status(c) for c in controls)
    fails = [f for f in findings if _status(f) == "fail"]
    out: dict[str, Any] = {
        "counts": cc, "total": len(controls),
        "fail_by_severity": Counter(_val(f, "severity") for f in fails),
        "failures": len(fails), "errors": sum(1 for f in findings if _status(f) == "error"),
        "assessment": bool(assessment), "high_risks": [],
    }
    if assessment:
        rate, concl = assessment.get("compliance_rate"), assessment.get("conclusion")
        if isinstance(rate, dict):
            lo, hi = rate.get("low"), rate.get("high")
            out["rate"] = _pct(lo) if lo == hi else f"{_pct(lo)} – {_pct(hi)}"
            out["rate_range"] = lo != hi
        elif rate is not None:
            out["rate"] = _pct(rate)
        if isinstance(concl, dict) and "low" in concl:
            lo, hi = _conclusion(concl.get("low")), _conclusion(concl.get("high"))
            out["conclusion_zh"] = lo[0] if lo == hi else f"{lo[0]} – {hi[0]}"
            out["conclusion_en"] = lo[1] if lo == hi else f"{lo[1]} – {hi[1]}"
        elif concl is not None:
            z, e = _conclusion(concl)
            out["conclusion_zh"], out["conclusion_en"] = z, e
        rule = assessment.get("rule") or {}
        out["provisional"] = bool(rule.get("provisional") or assessment.get("provisional"))
        formula = rule.get("formula") or assessment.get("formula")
        out["formula"] = formula if isinstance(formula, dict) else ({"en": formula, "zh": ""} if formula else None)
        for h in assessment.get("high_risks") or []:
            title = h.get("title") or {}
            out["high_risks"].append({
                "case_id": h.get("case_id"), "zh": title.get("zh") if isinstance(title, dict) else str(title),
                "en": title.get("en") if isinstance(title, dict) else "", "controls": h.get("control_ids") or [],
                "findings": h.get("findings") or [], "major": h.get("major"), "mitigable": h.get("mitigable"),
                "waivers": h.get("waivers") or [], "claims": h.get("mitigation_claims") or [],
                "state": h.get("state") or "candidate", "state_zh": h.get("state_zh") or "",
                "decisions": h.get("decisions") or [],
                "question": h.get("question") or {}, "major_trigger": h.get("major_trigger"),
                "mitigation": h.get("mitigation") or {}, "condition": h.get("condition")})
        counts = assessment.get("counts") or {}
        out["open_items"] = counts.get("open", counts.get("unassessed"))
        out["majors"] = sum(1 for h in out["high_risks"] if h["major"])
        out["high_risks_top"] = sorted(out["high_risks"], key=lambda h: not h["major"])  # possible major risks first
        out["notes"] = [n for n in assessment.get("notes") or [] if isinstance(n, dict)]
        out["na"] = assessment.get("not_applicable") or []
        out["waivers"] = assessment.get("waivers") or []
        out["unsettled"] = [a for a in assessment.get("attestations") or [] if a.get("state") not in (None, "counted")]
        out["rulings"] = assessment.get("high_risk_decisions") or []
        out["basis"] = rule.get("basis") or {}
        out["as_of"] = assessment.get("as_of")
        scope = assessment.get("scope") or {}
        out["scope"] = scope if isinstance(scope, dict) else {}
    return out


def _group_failures(findings: list[Finding], controls_by_id: dict[str, ControlResult], status: str) -> list[dict]:
    """[{severity, checks: [{check_id, title, remediation, controls, areas, items}]}], worst severity first."""
    by_sev: dict[str, "OrderedDict[str, list[Finding]]"] = {}
    for f in sorted((f for f in findings if _status(f) == status), key=lambda f: (f.check_id, f.scope, f.resource_id)):
        by_sev.setdefault(f.severity, OrderedDict()).setdefault(f.check_id, []).append(f)
    out = []
    for sev in SEVERITY_ORDER:
        checks = by_sev.get(sev)
        if not checks:
            continue
        blocks = []
        for cid, items in checks.items():
            ctl = sorted({c for f in items for c in f.control_ids})
            areas = sorted({controls_by_id[c].area for c in ctl if c in controls_by_id})
            blocks.append({"check_id": cid, "title": items[0].title, "remediation": items[0].remediation,
                           "controls": ctl, "areas": areas, "findings": items})
        out.append({"severity": sev, "zh": SEVERITY[sev][0], "en": SEVERITY[sev][1], "checks": blocks,
                    "n": sum(len(b["findings"]) for b in blocks)})
    return out


def matrix(controls: list[ControlResult], findings: list[Finding], areas: dict) -> list[dict]:
    """Per security area (and extension): the items with an automated or recorded verdict, then the manual
    items (folded)."""
    worst: dict[str, str] = {}
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    for f in findings:
        if _status(f) in ("fail", "error"):
            for cid in f.control_ids:
                if cid not in worst or rank[f.severity] < rank[worst[cid]]:
                    worst[cid] = f.severity
    groups: "OrderedDict[tuple[str, str], dict]" = OrderedDict()
    for c in controls:
        key = (c.area, c.extension)
        if key not in groups:
            a = areas.get(c.area)
            groups[key] = {"code": c.area, "extension": c.extension, "zh": a.zh if a else c.area,
                           "en": a.en if a else "", "assessed": [], "manual": []}
        (groups[key]["manual"] if _status(c) == "manual" else groups[key]["assessed"]).append(
            {"c": c, "severity": worst.get(c.control_id, "")})
    return list(groups.values())


def render(*, system: str, level: int, controls: list[ControlResult], findings: list[Finding], scope: list[str],
           finished_at: str, partial: bool, asset_count: int, evidence_count: int, signed: str | None = None,
           assessment: dict | None = None, selection: dict | None = None, plugin_failures: list | None = None,
           missing: list[str] | None = None) -> str:
    """`missing`: why a partial scan is partial, one line each (terminal.partial_reasons)."""
    if assessment is not None and not isinstance(assessment, dict):  # the Assessment model, as the pipeline has it
        assessment = assessment.model_dump(mode="json")
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
    tpl = env.from_string(resources.files("mlps_scan").joinpath("templates/report.html.j2").read_text("utf-8"))
    cat = load_catalogue()
    areas = cat.areas
    controls_by_id = {c.control_id: c for c in controls}
    present = [a for a in AREA_ORDER if any(c.area == a for c in controls)]
    waivers = [f for f in findings if _val(f, "waiver")]
    return tpl.render(
        system=system, level=level, level_zh=_LEVEL_ZH.get(level, str(level)), version=__version__,
        controls=controls, findings=findings, scope=scope, finished_at=finished_at, partial=partial,
        asset_count=asset_count, evidence_count=evidence_count, signed=signed, selection=selection,
        verdict=verdict(controls, findings, assessment), chart=chart(controls, areas),
        failures=_group_failures(findings, controls_by_id, "fail"),
        errors=_group_failures(findings, controls_by_id, "error"),
        matrix=matrix(controls, findings, areas), areas=areas, present_areas=present,
        passed=[f for f in findings if f.status == FindingStatus.passed],
        not_applicable=[f for f in findings if f.status == FindingStatus.not_applicable],
        status_label=STATUS, finding_label=FINDING, severity_label=SEVERITY, severities=SEVERITY_ORDER,
        chart_statuses=CHART_STATUSES, colors=COLORS, waivers=waivers,
        area_of={c.control_id: c.area for c in controls},
        failing_checks={f.check_id for f in findings if f.status == FindingStatus.fail},
        plugin_failures=plugin_failures or [], missing=missing or [],
    )
