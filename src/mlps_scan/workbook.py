"""The assessment workbook (测评记录表), both ways.

`export`: a bundle that verifies -> record.xlsx in the shape of a GB/T 28448 field record, Chinese first:
  概览       system, level, scope, the conclusion range and 符合率 (when assessment.json has them), counts per area
  测评记录   one row per 测评项 x 测评对象 (a resource the scan judged; a manual item, or the manual part of a
             partly automated item, one row for the assessor); 符合程度 is a drop-down, filters and frozen header
  资料清单   for every item a person must examine: the documents and records to request, owner and due date
  整改清单   failed findings by severity (and high-risk candidates), 整改建议, owner and due date

`import`: the rows an assessor filled (符合程度, 结果记录, 核查人, 核查日期 on rows without an automated verdict)
-> a static evidence file of `attestations:`; listed under `static:` in scan.yaml it changes those controls on the
next `scan`/`check`. A bad cell is one line naming sheet, row and column (exit 2) and nothing is written; an
exported workbook imported untouched gives no attestations.

The rows' identities and the automated rows' original values travel in a hidden sheet (`_mlps`), so an edited
automated row is found even after the assessor re-sorted or filtered the sheet.
"""
from __future__ import annotations

import json
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .errors import InputError
from .lang import SEVERITY, SEVERITY_ORDER, STATUS, label, message, text
from .results import Results, area_names, load_results

FORMAT = "mlps-scan/workbook"
VERSION = 1
META_SHEET = "_mlps"
S_OVERVIEW, S_RECORD, S_DOCS, S_FIX = "概览", "测评记录", "资料清单", "整改清单"

# 符合程度: the five values of the drop-down, and what an assessor's choice records as an attestation
DEGREES = ["符合", "部分符合", "不符合", "不适用", "待核查"]
OPEN = "待核查"
DEGREE_TO_STATUS = {"符合": "pass", "部分符合": "fail", "不符合": "fail", "不适用": "not_applicable"}
_FORMULA = ("=", "+", "-", "@")

# (key, Chinese header, English header, width)
RECORD_COLUMNS = [
    ("no", "序号", "No.", 6),
    ("area", "安全类", "Area", 14),
    ("point", "控制点", "Control point", 16),
    ("id", "测评项编号", "Item ID", 14),
    ("requirement", "测评指标", "Requirement", 48),
    ("object", "测评对象", "Assessed object", 34),
    ("method", "测评实施", "Examined (check, evidence)", 40),
    ("record", "结果记录", "Result record", 52),
    ("degree", "符合程度", "Compliance", 11),
    ("evidence", "证据", "Evidence", 30),
    ("remediation", "整改建议", "Remediation", 40),
    ("by", "核查人", "Assessor", 12),
    ("date", "核查日期", "Date", 12),
    ("source", "判定方式", "Verdict by", 12),
    ("key", "行标识", "Row key", 10),
]
EDITABLE = ("record", "degree", "by", "date", "object")
_SOURCE = {"auto": ("自动检查", "scan"), "recorded": ("已有核查记录", "recorded attestation"),
           "manual": ("人工核查", "assessor")}


def _col(key: str) -> int:
    return [c[0] for c in RECORD_COLUMNS].index(key) + 1


@dataclass
class Row:
    control: dict
    object: str = ""
    method: str = ""
    record: str = ""
    degree: str = OPEN
    evidence: list[str] = field(default_factory=list)
    remediation: str = ""
    by: str = ""
    date: str = ""
    source: str = "manual"  # auto | recorded | manual
    key: str = ""


# --------------------------------------------------------------------------- building the rows


def _degree(statuses: set[str]) -> str:
    """符合程度 of one object from the verdicts of the checks that judged it for one item."""
    judged = statuses - {"error"}
    if "fail" in judged and "pass" in judged:
        return "部分符合"
    if "fail" in judged:
        return "不符合"
    if "pass" in judged:
        return "符合" if "error" not in statuses else "部分符合"
    if judged == {"not_applicable"}:
        return "不适用"
    return OPEN


def build_rows(r: Results, lang: str) -> list[Row]:
    by_control = r.findings_by_control()
    scan_day = r.manifest.finished_at.date().isoformat()
    rows: list[Row] = []
    for c in r.controls:
        cid = c.get("control_id")
        fs = by_control.get(cid, [])
        objects: "OrderedDict[tuple[bool, str], list[dict]]" = OrderedDict()
        for f in sorted(fs, key=lambda f: (f.get("check_id") == "attestation", f.get("scope", ""), f.get("resource_id", ""))):
            objects.setdefault((f.get("check_id") == "attestation", f.get("resource_id", "")), []).append(f)
        n = 0
        mine: list[Row] = []
        for (_, rid), group in objects.items():
            n += 1
            statuses = {f.get("status") for f in group}
            attested = all(f.get("check_id") == "attestation" for f in group)
            checks = sorted({f.get("check_id") for f in group})
            ev = list(dict.fromkeys(e for f in group for e in f.get("evidence") or []))
            rec = "；".join(dict.fromkeys(message(f, lang) for f in group)) if lang == "zh" else \
                "; ".join(dict.fromkeys(message(f, lang) for f in group))
            waived = [f["waiver"]["id"] for f in group if isinstance(f.get("waiver"), dict) and f["waiver"].get("id")]
            if waived:
                rec += ("（已豁免：" + "、".join(waived) + "）") if lang == "zh" else f" (waived: {', '.join(waived)})"
            degree = _degree(statuses)
            source = "recorded" if attested else ("auto" if degree != OPEN else "manual")
            rems = list(dict.fromkeys(text(f.get("remediation"), lang) for f in group
                                      if f.get("status") == "fail" and f.get("remediation")))
            method = (("核查记录 " if lang == "zh" else "attestation ") + rid) if attested else \
                ("自动检查：" if lang == "zh" else "automated check: ") + ", ".join(checks)
            mine.append(Row(control=c, object=_object_name(group[0]) if not attested else "", method=method,
                            record=rec, degree=degree, evidence=ev, remediation="\n".join(rems),
                            by="mlps-scan" if source == "auto" else "", date=scan_day if source == "auto" else "",
                            source=source, key=f"{cid}#{n}"))
            if attested:  # who attested, when
                mine[-1].by, mine[-1].date = _attested_by(group[0])
        rows.extend(mine)
        status = c.get("status")
        # a person examines: a manual item, the manual part of a partly automated one, an item nothing in scope
        # evidenced, or one whose automated checks were all not applicable here; unless an assessor's recorded
        # attestation already judged it
        needs_person = (c.get("automation") != "automated" or not fs or status == "manual") and \
            not any(rw.source == "recorded" for rw in mine)
        if status == "not_applicable" and not fs:
            reason = _na_reason(c)
            n += 1
            rows.append(Row(control=c, method="适用性判定" if lang == "zh" else "applicability", record=reason,
                            degree="不适用", source="recorded", key=f"{cid}#{n}"))
        elif needs_person:
            n += 1
            guide = text(c.get("manual"), lang)
            method = (("访谈/核查：" if lang == "zh" else "interview/examine: ") + guide) if guide else \
                ("访谈/核查" if lang == "zh" else "interview/examine")
            skipped = c.get("skipped_checks") or []
            if skipped:
                method += ("（本次未运行的检查：" + "、".join(skipped) + "）") if lang == "zh" else \
                    f" (checks not run in this scan: {', '.join(skipped)})"
            rows.append(Row(control=c, method=method, source="manual", key=f"{cid}#{n}"))
    return rows


def _object_name(f: dict) -> str:
    """The object as the record names it: its id, then its type and the name a person uses for it."""
    rid = str(f.get("resource_id") or "")
    rtype = f.get("resource_type") or ""
    name = str(f.get("resource_name") or "")
    extra = [x for x in (rtype if rtype and rtype not in rid else "", name if name and name not in rid else "") if x]
    return f"{rid} ({', '.join(extra)})" if extra else rid


def _attested_by(f: dict) -> tuple[str, str]:
    msg = f.get("message") or ""
    # "attested by NAME on DATE: note"
    if msg.startswith("attested by ") and " on " in msg:
        who, rest = msg[len("attested by "):].split(" on ", 1)
        return who, rest.split(":", 1)[0]
    return "", ""


def _na_reason(c: dict) -> str:
    from .export import not_applicable_info
    reason, by = not_applicable_info(c)
    return reason + (f"（{by}）" if by else "") if reason else (c.get("summary") or "")


# --------------------------------------------------------------------------- export


def export(bundle: Path, out: Path, *, lang: str = "zh", force: bool = False) -> tuple[Path, int]:
    from openpyxl import Workbook

    out = Path(out).expanduser()
    if out.exists() and not force:
        raise InputError(f"{out} exists (a workbook an assessor filled?): choose another -o or pass --force")
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"workbook export: -o {out} must end in .xlsx")
    r = load_results(bundle)
    rows = build_rows(r, lang)
    wb = Workbook()
    _overview(wb.active, r, rows, lang)
    _record(wb.create_sheet(S_RECORD), r, rows, lang)
    _documents(wb.create_sheet(S_DOCS), r, lang)
    _fixes(wb.create_sheet(S_FIX), r, lang)
    _meta(wb.create_sheet(META_SHEET), r, rows, lang)
    wb.properties.creator = "mlps-scan"
    wb.properties.title = f"{r.system} 等级保护测评记录 (level {r.level})"
    wb.properties.created = r.manifest.finished_at.replace(tzinfo=None)
    from .results import atomic_write
    atomic_write(out, lambda p: wb.save(p))
    return out, len(rows)


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    thin = Side(style="thin", color="C8CDD3")
    return {
        "head": Font(bold=True, color="FFFFFF"), "head_fill": PatternFill("solid", fgColor="24527A"),
        "wrap": Alignment(wrap_text=True, vertical="top"), "center": Alignment(horizontal="center", vertical="top", wrap_text=True),
        "auto_fill": PatternFill("solid", fgColor="F2F4F7"), "open_fill": PatternFill("solid", fgColor="FFF8DC"),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin), "bold": Font(bold=True),
        "title": Font(bold=True, size=14),
        "degree": {"符合": PatternFill("solid", fgColor="DAFBE1"), "部分符合": PatternFill("solid", fgColor="FFF3B0"),
                   "不符合": PatternFill("solid", fgColor="FFD7D5"), "不适用": PatternFill("solid", fgColor="E6E8EB"),
                   "待核查": PatternFill("solid", fgColor="FFF8DC")},
    }


def _put(ws, row: int, col: int, value: Any, **style):
    """Write a cell; text is always text (a resource named `=HYPERLINK(...)` must not become a formula)."""
    c = ws.cell(row=row, column=col)
    if isinstance(value, str):
        value = value.replace("\x00", "")
        c.value = value
        if value.startswith(_FORMULA):
            c.data_type = "s"
    else:
        c.value = value
    for k, v in style.items():
        setattr(c, k, v)
    return c


def _header(ws, columns: list[tuple], st) -> None:
    from openpyxl.utils import get_column_letter
    for i, (_, zh, en, width) in enumerate(columns, start=1):
        _put(ws, 1, i, f"{zh}\n{en}", font=st["head"], fill=st["head_fill"], alignment=st["center"], border=st["border"])
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"


def _overview(ws, r: Results, rows: list[Row], lang: str) -> None:
    st = _styles()
    ws.title = S_OVERVIEW
    ws.column_dimensions["A"].width = 26
    for col in "BCDEFGHI":
        ws.column_dimensions[col].width = 13
    ws.column_dimensions["B"].width = 22
    _put(ws, 1, 1, f"{r.system} 网络安全等级保护测评记录（第{r.level}级） / MLPS 2.0 level {r.level} assessment record",
         font=st["title"])
    m = r.manifest
    a = r.assessment or {}
    rate, concl = a.get("compliance_rate"), a.get("conclusion")
    info = [
        ("系统名称 System", r.system),
        ("安全保护等级 Level", f"第{r.level}级 (level {r.level})"),
        ("测评范围 Scope", "\n".join(m.scope) or "—"),
        ("扫描时间 Scanned (UTC)", f"{m.started_at:%Y-%m-%d %H:%M} — {m.finished_at:%Y-%m-%d %H:%M}"),
        ("采集状态 Collection", "部分采集失败 partial scan: some evidence missing" if m.partial else "完整 complete"),
        ("工具 Tool", f"mlps-scan {m.tool_version}"),
        ("证据包 Bundle", str(Path(r.path).absolute())),
    ]
    if rate:
        info.append(("符合率 Compliance rate", _range(rate, pct=True)))
    if concl:
        info.append(("测评结论 Conclusion", _range(concl)))
    if a.get("high_risks") is not None:
        info.append(("疑似高风险 High-risk candidates", str(len(a.get("high_risks") or []))))
    rule = a.get("rule") or {}
    if rule.get("provisional"):
        f = rule.get("formula") or {}
        info.append(("计算方法（暂定） Formula (provisional)",
                     (f.get("zh", "") + "\n" + f.get("en", "")).strip() if isinstance(f, dict) else str(f)))
    if (a.get("counts") or {}).get("open") is not None:
        info.append(("待核查项 Open items", str(a["counts"]["open"])))
    if not rate:
        info.append(("符合率 / 结论", "评估判定（assessment.json）不在此证据包中 — not in this bundle"))
    for i, (k, v) in enumerate(info, start=3):
        _put(ws, i, 1, k, font=st["bold"], alignment=st["wrap"])
        _put(ws, i, 2, v, alignment=st["wrap"])
        ws.merge_cells(start_row=i, start_column=2, end_row=i, end_column=8)
        # merged cells do not grow with their text: give long values the lines they need (~60 characters a line)
        lines = sum(max(1, -(-len(part) // 60)) for part in str(v).split("\n"))
        if lines > 1:
            ws.row_dimensions[i].height = 15 * lines
    row = len(info) + 4
    _put(ws, row, 1, "各安全类测评项统计 Items per area", font=st["bold"])
    row += 1
    statuses = ["compliant", "partial", "non_compliant", "not_applicable", "error", "manual"]
    heads = ["安全类 Area"] + [f"{STATUS[s][0]}\n{STATUS[s][1]}" for s in statuses] + ["合计\nTotal"]
    for j, h in enumerate(heads, start=1):
        _put(ws, row, j, h, font=st["head"], fill=st["head_fill"], alignment=st["center"], border=st["border"])
    ws.row_dimensions[row].height = 32
    areas = area_names()
    per: dict[str, Counter] = {}
    for c in r.controls:
        per.setdefault(c.get("area"), Counter())[c.get("status")] += 1
    total = Counter()
    for code, cnt in per.items():
        row += 1
        ar = areas.get(code)
        _put(ws, row, 1, f"{code} {ar.zh if ar else ''} {ar.en if ar else ''}".strip(), border=st["border"], alignment=st["wrap"])
        for j, s in enumerate(statuses, start=2):
            _put(ws, row, j, cnt.get(s, 0), border=st["border"])
        _put(ws, row, len(statuses) + 2, sum(cnt.values()), border=st["border"], font=st["bold"])
        total.update(cnt)
    row += 1
    _put(ws, row, 1, "合计 Total", font=st["bold"], border=st["border"])
    for j, s in enumerate(statuses, start=2):
        _put(ws, row, j, total.get(s, 0), font=st["bold"], border=st["border"])
    _put(ws, row, len(statuses) + 2, sum(total.values()), font=st["bold"], border=st["border"])
    row += 2
    open_rows = sum(1 for rw in rows if rw.source == "manual")
    for line in (
        f"填写说明：在“{S_RECORD}”中，判定方式为“人工核查”的 {open_rows} 行由测评人员填写符合程度、结果记录、核查人、核查日期；"
        f"自动检查与已有核查记录的行不可修改（在扫描或证据文件中更正）。完成后运行 mlps-scan workbook import 生成核查记录文件。",
        f"How to fill: on sheet {S_RECORD}, the {open_rows} rows marked 人工核查 (assessor) take 符合程度, 结果记录, 核查人 and "
        "核查日期; rows judged by the scan or by a recorded attestation are not edited here. Then run "
        "`mlps-scan workbook import record.xlsx -o assessor.yaml` and list the file under `static:` in scan.yaml.",
        "本表由工具辅助生成，不代替测评机构的等级测评。 A tool-assisted pre-assessment, not a level assessment by a licensed institution."):
        _put(ws, row, 1, line, alignment=st["wrap"])
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=8)
        ws.row_dimensions[row].height = 48
        row += 1


def _range(v: Any, pct: bool = False) -> str:
    """A {low, high} range of assessment.json: 符合率 in percent, or conclusions {code, zh, en}."""
    def fmt(x: Any) -> str:
        if pct and isinstance(x, (int, float)):
            return f"{x:.1f}%"
        if isinstance(x, dict):
            return f"{x.get('zh') or x.get('code')} {x.get('en') or ''}".strip()
        return str(x)
    if isinstance(v, dict) and "low" in v:
        lo, hi = v.get("low"), v.get("high")
        return fmt(lo) if lo == hi else f"{fmt(lo)} — {fmt(hi)}"
    return fmt(v)


def _record(ws, r: Results, rows: list[Row], lang: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation
    st = _styles()
    _header(ws, RECORD_COLUMNS, st)
    areas = area_names()
    for i, rw in enumerate(rows, start=2):
        c = rw.control
        ar = areas.get(c.get("area"))
        area = (ar.zh if lang == "zh" else ar.en) if ar else c.get("area")
        if c.get("extension") == "cloud":
            area += "（云计算扩展）" if lang == "zh" else " (cloud extension)"
        vals = {
            "no": i - 1, "area": area, "point": text(c.get("control_point"), lang),
            "id": c.get("control_id") + (" ≈" if c.get("id_basis") == "derived" else ""),
            "requirement": text(c.get("title"), lang), "object": rw.object, "method": rw.method, "record": rw.record,
            "degree": rw.degree, "evidence": ", ".join(rw.evidence[:8]) + (f" … +{len(rw.evidence) - 8}" if len(rw.evidence) > 8 else ""),
            "remediation": rw.remediation, "by": rw.by, "date": rw.date,
            "source": label(_SOURCE, rw.source, lang), "key": rw.key,
        }
        for j, (k, *_rest) in enumerate(RECORD_COLUMNS, start=1):
            cell = _put(ws, i, j, vals[k], alignment=st["wrap"], border=st["border"])
            if k == "degree":  # coloured by value
                cell.fill = st["degree"][rw.degree]
                cell.alignment = st["center"]
            elif rw.source != "manual":  # grey: judged by the scan or a recorded attestation
                cell.fill = st["auto_fill"]
            elif k in EDITABLE:  # yellow: for the assessor
                cell.fill = st["open_fill"]
            if k == "date" and rw.source == "manual":
                cell.number_format = "yyyy-mm-dd"
    last = len(rows) + 1
    dv = DataValidation(type="list", formula1='"' + ",".join(DEGREES) + '"', allow_blank=True, showDropDown=False,
                        showErrorMessage=True, errorTitle="符合程度", error="请选择：" + "、".join(DEGREES),
                        promptTitle="符合程度", prompt="符合 / 部分符合 / 不符合 / 不适用 / 待核查")
    dv.add(f"{_letter(_col('degree'))}2:{_letter(_col('degree'))}{max(last, 2)}")
    ws.add_data_validation(dv)
    dd = DataValidation(type="date", operator="between", formula1="DATE(2000,1,1)", formula2="DATE(2100,12,31)",
                        allow_blank=True, showErrorMessage=True, errorTitle="核查日期", error="请输入日期 YYYY-MM-DD")
    dd.add(f"{_letter(_col('date'))}2:{_letter(_col('date'))}{max(last, 2)}")
    ws.add_data_validation(dd)
    ws.auto_filter.ref = f"A1:{_letter(len(RECORD_COLUMNS))}{last}"
    ws.column_dimensions[_letter(_col("key"))].hidden = True


def _letter(n: int) -> str:
    from openpyxl.utils import get_column_letter
    return get_column_letter(n)


DOC_COLUMNS = [("no", "序号", "No.", 6), ("area", "安全类", "Area", 14), ("point", "控制点", "Control point", 16),
               ("id", "测评项编号", "Item ID", 14), ("requirement", "测评指标", "Requirement", 48),
               ("docs", "需提供的资料与记录", "Documents and records to request", 60),
               ("owner", "负责人", "Owner", 12), ("due", "提交日期", "Due date", 12),
               ("state", "提供情况", "Status", 12), ("note", "备注", "Notes", 24)]


def _documents(ws, r: Results, lang: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation
    st = _styles()
    _header(ws, DOC_COLUMNS, st)
    areas = area_names()
    i = 1
    for c in r.controls:
        if not c.get("manual") or c.get("status") == "not_applicable":
            continue
        i += 1
        ar = areas.get(c.get("area"))
        vals = [i - 1, (ar.zh if lang == "zh" else ar.en) if ar else c.get("area"), text(c.get("control_point"), lang),
                c.get("control_id"), text(c.get("title"), lang), text(c.get("manual"), lang), "", "", "未提供" if lang == "zh" else "未提供", ""]
        for j, v in enumerate(vals, start=1):
            cell = _put(ws, i, j, v, alignment=st["wrap"], border=st["border"])
            if j == 8:
                cell.number_format = "yyyy-mm-dd"
    dv = DataValidation(type="list", formula1='"未提供,已提供,部分提供,不适用"', allow_blank=True)
    dv.add(f"I2:I{max(i, 2)}")
    ws.add_data_validation(dv)
    ws.auto_filter.ref = f"A1:{_letter(len(DOC_COLUMNS))}{max(i, 1)}"


FIX_COLUMNS = [("no", "序号", "No.", 6), ("severity", "风险等级", "Severity", 9), ("high_risk", "疑似高风险", "High-risk case", 14),
               ("id", "测评项编号", "Item IDs", 16), ("check", "检查项", "Check", 34), ("object", "问题对象", "Resource", 34),
               ("problem", "问题描述", "Finding", 52), ("fix", "整改建议", "Remediation", 52),
               ("waiver", "豁免/补偿措施", "Waiver / compensating", 24), ("owner", "责任人", "Owner", 12),
               ("due", "计划完成日期", "Due date", 12), ("state", "整改状态", "Status", 12)]


def high_risk_index(r: Results) -> dict[tuple[str, str], list[str]]:
    """(check_id, resource_id) -> high-risk case ids, from assessment.json when present."""
    out: dict[tuple[str, str], list[str]] = {}
    for h in (r.assessment or {}).get("high_risks") or []:
        for f in h.get("findings") or []:
            out.setdefault((f.get("check_id"), f.get("resource_id")), []).append(str(h.get("case_id")))
    return out


def _fixes(ws, r: Results, lang: str) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation
    st = _styles()
    _header(ws, FIX_COLUMNS, st)
    hr = high_risk_index(r)
    fails = [f for f in r.findings if f.get("status") == "fail"]
    rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    fails.sort(key=lambda f: (rank.get(f.get("severity"), 9), not hr.get((f.get("check_id"), f.get("resource_id"))),
                              f.get("check_id"), f.get("resource_id")))
    sev_fill = {"critical": "FFB4AB", "high": "FFD7D5", "medium": "FFF3B0", "low": "E6E8EB"}
    from openpyxl.styles import PatternFill
    for i, f in enumerate(fails, start=2):
        wv = f.get("waiver") if isinstance(f.get("waiver"), dict) else None
        vals = [i - 1, label(SEVERITY, f.get("severity", ""), lang), ", ".join(hr.get((f.get("check_id"), f.get("resource_id")), [])),
                ", ".join(f.get("control_ids") or []), f"{text(f.get('title'), lang) or f.get('check_id')}\n{f.get('check_id')}",
                _object_name(f), message(f, lang), text(f.get("remediation"), lang),
                (f"{wv['id']} → {wv.get('expires', '')}" + (f"；{wv['compensating']}" if wv.get("compensating") else "")) if wv else "",
                "", "", "未整改" if not wv else "已豁免"]
        for j, v in enumerate(vals, start=1):
            cell = _put(ws, i, j, v, alignment=st["wrap"], border=st["border"])
            if j == 2:
                cell.fill = PatternFill("solid", fgColor=sev_fill.get(f.get("severity"), "FFFFFF"))
            if j == 11:
                cell.number_format = "yyyy-mm-dd"
    last = len(fails) + 1
    dv = DataValidation(type="list", formula1='"未整改,整改中,已整改,已豁免"', allow_blank=True)
    dv.add(f"L2:L{max(last, 2)}")
    ws.add_data_validation(dv)
    ws.auto_filter.ref = f"A1:{_letter(len(FIX_COLUMNS))}{last}"


def _meta(ws, r: Results, rows: list[Row], lang: str) -> None:
    """The hidden sheet import reads: what this workbook is, and each row's identity and original values."""
    ws.sheet_state = "veryHidden"
    head = {"format": FORMAT, "version": VERSION, "system": r.system, "level": r.level, "lang": lang,
            "scanned_at": r.manifest.finished_at.isoformat(), "manifest_sha256": r.manifest_sha256}
    ws.append(["meta", json.dumps(head, ensure_ascii=False)])
    ws.append(["key", "control_id", "source", "object", "record", "degree", "by", "date"])
    for rw in rows:
        ws.append([rw.key, rw.control.get("control_id"), rw.source, rw.object, rw.record, rw.degree, rw.by, rw.date])
    for row in ws.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith(_FORMULA):
                c.data_type = "s"


# --------------------------------------------------------------------------- import


@dataclass
class Imported:
    attestations: list[dict]
    system: str
    level: int
    rows: int


def _fail(sheet: str, row: int, col: str, why: str) -> InputError:
    return InputError(f"{sheet} row {row} column {col}: {why}")


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _as_date(v: Any) -> date | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v).strip().replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(s)
    except ValueError:
        parts = s.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                pass
    raise ValueError(s)


def read_workbook(path: Path, today: date | None = None) -> Imported:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"workbook not found: {path}")
    try:
        wb = load_workbook(path, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, OSError, ValueError) as e:
        raise InputError(f"{path}: not a readable .xlsx workbook ({type(e).__name__})") from None
    if META_SHEET not in wb.sheetnames:
        raise InputError(f"{path}: not a workbook exported by `mlps-scan workbook export` (no {META_SHEET} sheet)")
    meta = wb[META_SHEET]
    try:
        head = json.loads(meta.cell(1, 2).value or "")
        assert head.get("format") == FORMAT
    except (ValueError, AssertionError):
        raise InputError(f"{path}: sheet {META_SHEET} is not an mlps-scan workbook header") from None
    original: dict[str, dict] = {}
    for row in meta.iter_rows(min_row=3, values_only=True):
        if row and row[0]:
            original[str(row[0])] = dict(zip(("key", "control_id", "source", "object", "record", "degree", "by", "date"),
                                             (_cell_text(x) for x in row)))
    if S_RECORD not in wb.sheetnames:
        raise InputError(f"{path}: sheet {S_RECORD} is missing")
    ws = wb[S_RECORD]
    # columns found by their Chinese header, so an assessor may hide or widen them (not rename them)
    found: dict[str, int] = {}
    for j, cell in enumerate(ws[1], start=1):
        first = _cell_text(cell.value).split("\n")[0].strip()
        for key, zh, *_ in RECORD_COLUMNS:
            if first == zh:
                found[key] = j
    for key in ("id", "record", "degree", "by", "date", "key", "object"):
        if key not in found:
            zh = next(c[1] for c in RECORD_COLUMNS if c[0] == key)
            raise InputError(f"{S_RECORD} row 1: column {zh} is missing (do not rename or delete the header)")

    from .catalogue import load as load_catalogue
    cat = load_catalogue()
    level = int(head.get("level") or 0)
    today = today or date.today()
    atts: list[dict] = []
    seen: set[str] = set()
    n_rows = 0
    for i, row in enumerate(ws.iter_rows(min_row=2), start=2):
        def v(key):
            return row[found[key] - 1].value if found[key] - 1 < len(row) else None
        cid = _cell_text(v("id")).replace("≈", "").strip()
        key = _cell_text(v("key"))
        vals = {k: _cell_text(v(k)) for k in ("record", "degree", "by", "date", "object")}
        if not cid and not key and not any(vals.values()):
            continue  # an empty row
        n_rows += 1
        col = lambda k: f"{_letter(found[k])} ({next(c[1] for c in RECORD_COLUMNS if c[0] == k)})"  # noqa: E731
        if cid not in cat or cat.get(cid).level != level:
            raise _fail(S_RECORD, i, col("id"), f"unknown control id {cid or '(empty)'!r} for level {level}")
        orig = original.get(key) if key else None
        if key and orig is None:
            raise _fail(S_RECORD, i, col("key"), f"unknown row key {key!r} (rows are added by copying a row "
                                                 "and clearing its 行标识)")
        if orig and orig["control_id"] != cid:
            raise _fail(S_RECORD, i, col("id"), f"the row was exported for {orig['control_id']}, not {cid}")
        if key:
            if key in seen:
                raise _fail(S_RECORD, i, col("key"), f"row key {key} appears twice (copy rows without their 行标识)")
            seen.add(key)
        degree = vals["degree"] or OPEN
        if degree not in DEGREES:
            raise _fail(S_RECORD, i, col("degree"), f"{degree!r} is not one of {' / '.join(DEGREES)}")
        if orig and orig["source"] != "manual":
            for k in ("record", "degree", "by", "date", "object"):
                if vals[k] != orig[k] and not (k == "degree" and not vals[k] and orig[k] == OPEN):
                    what = "judged by the scan" if orig["source"] == "auto" else "a recorded attestation"
                    raise _fail(S_RECORD, i, col(k), f"{cid} is {what} and cannot be edited here "
                                                     "(correct the scan or the static evidence file)")
            continue
        if degree == OPEN:
            continue  # left for later
        if orig and vals["record"] == orig["record"] and orig["record"]:
            raise _fail(S_RECORD, i, col("record"), "结果记录 still holds the exported text: write what was seen")
        if not vals["record"]:
            raise _fail(S_RECORD, i, col("record"), "结果记录 is empty: write what was examined and seen")
        if not vals["by"]:
            raise _fail(S_RECORD, i, col("by"), "核查人 is empty: who examined it")
        try:
            when = _as_date(v("date"))
        except ValueError:
            raise _fail(S_RECORD, i, col("date"), f"{vals['date']!r} is not a date (YYYY-MM-DD)") from None
        if when is None:
            raise _fail(S_RECORD, i, col("date"), "核查日期 is empty")
        if when > today:
            raise _fail(S_RECORD, i, col("date"), f"{when} is in the future")
        note = vals["record"]
        if vals["object"]:
            note = f"测评对象 {vals['object']}：{note}"
        if degree == "部分符合":
            note = f"部分符合：{note}"
        atts.append({"control_ids": [cid], "status": DEGREE_TO_STATUS[degree], "by": vals["by"],
                     "date": when.isoformat(), "note": note, "source": f"{S_RECORD} row {i}"})
    return Imported(attestations=atts, system=str(head.get("system")), level=level, rows=n_rows)


def write_attestations(imp: Imported, src: Path, out: Path, force: bool = False) -> Path:
    import yaml
    out = Path(out).expanduser()
    if out.exists() and not force:
        raise InputError(f"{out} exists: choose another -o or pass --force")
    doc = {
        "kind": "mlps-scan/static",
        "description": f"Assessor's attestations for {imp.system} (level {imp.level}), imported from workbook "
                       f"{Path(src).name} (sheet {S_RECORD}) by mlps-scan",
        "attestations": [{k: a[k] for k in ("control_ids", "status", "by", "date", "note")} for a in imp.attestations],
    }
    body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=110)
    comments = "".join(f"# attestations[{n}] <- {a['source']}\n" for n, a in enumerate(imp.attestations))
    text_ = (f"# Imported from {Path(src).name} by `mlps-scan workbook import`; list this file under `static:` in "
             "scan.yaml\n" + comments + body)
    # what we write must load back: each entry is an attestation as static evidence files hold them
    from .models import Attestation
    from .results import atomic_write
    for a in yaml.safe_load(text_)["attestations"]:
        Attestation.model_validate(a)
    return atomic_write(out, lambda p: p.write_text(text_, encoding="utf-8"))
