"""report.html: the human view of a bundle (bilingual control names, derived ids marked)."""
from __future__ import annotations

from collections import Counter
from importlib import resources

from jinja2 import Environment, select_autoescape

from . import __version__
from .catalogue import load as load_catalogue
from .models import ControlResult, Finding, FindingStatus

_LEVEL_ZH = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五"}
STATUSES = [("compliant", "compliant 符合"), ("partial", "partial 部分符合"), ("non_compliant", "non-compliant 不符合"),
            ("error", "error 无法评估"), ("manual", "manual 人工核查")]


def render(*, system: str, level: int, controls: list[ControlResult], findings: list[Finding], scope: list[str],
           finished_at: str, partial: bool, asset_count: int, evidence_count: int, signed: str | None = None) -> str:
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
        areas=load_catalogue().areas, finished_at=finished_at, partial=partial, asset_count=asset_count, evidence_count=evidence_count, signed=signed)
