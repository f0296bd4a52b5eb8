"""The assessment workbook round trip, through openpyxl: export a bundle to record.xlsx, fill it as an assessor
would, import it into a static evidence file of attestations, and scan again with it."""
from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from conftest import SAMPLE, run_cli
from fixtures.outputs import FORMULA_ID, WAIVER
from mlps_scan.workbook import DEGREES, RECORD_COLUMNS, S_DOCS, S_FIX, S_OVERVIEW, S_RECORD

COL = {k: i for i, (k, *_r) in enumerate(RECORD_COLUMNS)}
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def record(sample_bundle, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wb") / "record.xlsx"
    r = run_cli("workbook", "export", str(sample_bundle), "-o", str(out), "--lang", "zh")
    assert r.returncode == 0, r.stderr
    return out


def cid(r) -> str:
    """The control id of a row (ids not taken from the published standard carry a trailing ≈)."""
    return (r[COL["id"]] or "").rstrip(" ≈")


def _rows(ws):
    return [list(r) for r in ws.iter_rows(min_row=2, values_only=True) if any(v is not None for v in r)]


def _import(xlsx, tmp_path, *extra):
    out = tmp_path / "assessor.yaml"
    r = run_cli("workbook", "import", str(xlsx), "-o", str(out), *extra)
    return r, out


def _edit(record, tmp_path, fn) -> Path:
    dst = tmp_path / "filled.xlsx"
    shutil.copy(record, dst)
    wb = load_workbook(dst)
    fn(wb[S_RECORD])
    wb.save(dst)
    return dst


def _find(ws, pred):
    """(row number, row values) of the first data row matching pred(values)."""
    for i, r in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        if pred(list(r)):
            return i, list(r)
    raise AssertionError("no such row")


def test_the_exported_record_has_the_field_record_shape(record, sample_bundle):
    wb = load_workbook(record)
    assert wb.sheetnames[:4] == [S_OVERVIEW, S_RECORD, S_DOCS, S_FIX]
    ws = wb[S_RECORD]
    assert [c.value.split("\n")[0] for c in ws[1]] == [c[1] for c in RECORD_COLUMNS]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and lists[0].formula1 == '"' + ",".join(DEGREES) + '"'
    deg_col = chr(ord("A") + COL["degree"])
    assert str(lists[0].sqref) == f"{deg_col}2:{deg_col}{ws.max_row}"
    rows = _rows(ws)
    controls = json.loads((sample_bundle / "controls.json").read_text())
    assert {cid(r) for r in rows} == {c["control_id"] for c in controls}, "every item of the level"
    assert {r[COL["degree"]] for r in rows} <= set(DEGREES)
    # one row per 测评项 x 测评对象: L3-CES1-01 is judged on the AWS account, hosts and the cluster
    ces01 = [r for r in rows if cid(r) == "L3-CES1-01" and r[COL["source"]] == "自动检查"]
    assert len(ces01) >= 3 and len({r[COL["object"]] for r in ces01}) == len(ces01)
    assert any(r[COL["degree"]] == "不符合" and "口令" in r[COL["record"]] for r in ces01), "Chinese result records"
    # a manual item is one row for the assessor
    mms = [r for r in rows if cid(r) == "L3-MMS1-01"]
    assert len(mms) == 1 and mms[0][COL["degree"]] == "待核查" and mms[0][COL["source"]] == "人工核查"
    assert mms[0][COL["method"]].startswith("访谈/核查")
    # the other sheets
    docs = _rows(wb[S_DOCS])
    assert len(docs) >= 197 and all(r[5] for r in docs), "what to request, for every manual item"
    fixes = _rows(wb[S_FIX])
    fails = [f for f in json.loads((sample_bundle / "findings.json").read_text()) if f["status"] == "fail"]
    assert len(fixes) == len(fails)
    order = {"严重": 0, "高": 1, "中": 2, "低": 3}
    assert [order[r[1]] for r in fixes] == sorted(order[r[1]] for r in fixes), "by severity"
    ov = [v for r in wb[S_OVERVIEW].iter_rows(values_only=True) for v in r if v is not None]
    assert "Acme Shop" in ov and "第3级 (level 3)" in ov and 257 in ov


def test_untouched_round_trip_gives_no_attestations(record, tmp_path):
    r, out = _import(record, tmp_path)
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert doc["kind"] == "mlps-scan/static" and doc["attestations"] == []


def test_resorted_untouched_workbook_still_gives_none(record, tmp_path):
    """Sorting the sheet (as an autofilter does) moves rows; rows are known by their hidden key, not position."""
    def reverse(ws):
        data = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
        for i, vals in enumerate(reversed(data), start=2):
            for j, v in enumerate(vals, start=1):
                ws.cell(i, j).value = v
    r, out = _import(_edit(record, tmp_path, reverse), tmp_path)
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(out.read_text())["attestations"] == []


def test_filled_rows_become_attestations_that_change_the_next_scan(record, tmp_path):
    filled = {}

    def fill(ws):
        i, _ = _find(ws, lambda r: cid(r) == "L3-MMS1-01")
        ws.cell(i, COL["degree"] + 1).value = "符合"
        ws.cell(i, COL["record"] + 1).value = "查阅《运维管理制度》V2.1，机房环境由专人定期巡检，巡检记录完整"
        ws.cell(i, COL["by"] + 1).value = "李明"
        ws.cell(i, COL["date"] + 1).value = date.fromisoformat(YESTERDAY)  # a real date cell
        j, _ = _find(ws, lambda r: cid(r) == "L3-PES1-10" and r[COL["source"]] == "人工核查")
        ws.cell(j, COL["degree"] + 1).value = "不符合"
        ws.cell(j, COL["record"] + 1).value = "机房未配备温湿度自动调节设施"
        ws.cell(j, COL["object"] + 1).value = "上海机房A"
        ws.cell(j, COL["by"] + 1).value = "李明"
        ws.cell(j, COL["date"] + 1).value = YESTERDAY  # a typed date string
        filled.update(mms=i, pes=j)

    r, out = _import(_edit(record, tmp_path, fill), tmp_path)
    assert r.returncode == 0, r.stderr
    assert "2 attestation(s)" in r.stderr
    doc = yaml.safe_load(out.read_text(encoding="utf-8"))
    atts = {a["control_ids"][0]: a for a in doc["attestations"]}
    assert atts["L3-MMS1-01"] == {"control_ids": ["L3-MMS1-01"], "status": "pass", "by": "李明", "date": YESTERDAY,
                                  "note": "查阅《运维管理制度》V2.1，机房环境由专人定期巡检，巡检记录完整"}
    assert atts["L3-PES1-10"]["status"] == "fail" and atts["L3-PES1-10"]["note"].startswith("测评对象 上海机房A：")
    # listed under static:, the attestations change those controls on the next scan
    cfg = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    for s in cfg["static"]:
        s["path"] = str((SAMPLE.parent / s["path"]).resolve())
    cfg["static"].append({"name": "assessor-workbook", "path": str(out)})
    scan_yaml = tmp_path / "scan.yaml"
    scan_yaml.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    bundle = tmp_path / "rescan"
    r = run_cli("scan", "--config", str(scan_yaml), "--out", str(bundle), "--quiet", "--no-history")
    assert r.returncode == 1, r.stderr
    ctl = {c["control_id"]: c for c in json.loads((bundle / "controls.json").read_text())}
    assert ctl["L3-MMS1-01"]["status"] == "compliant"
    assert ctl["L3-PES1-10"]["status"] == "non_compliant"
    # and the next workbook shows them as recorded attestations, locked
    wb2 = tmp_path / "record2.xlsx"
    assert run_cli("workbook", "export", str(bundle), "-o", str(wb2), "--lang", "zh").returncode == 0
    rows = _rows(load_workbook(wb2)[S_RECORD])
    mms = [r for r in rows if cid(r) == "L3-MMS1-01"]
    assert len(mms) == 1, "an attested manual item is not offered for filling again"
    assert any(r[COL["source"]] == "已有核查记录" and r[COL["degree"]] == "符合" and r[COL["by"]] == "李明" for r in mms)


def _set(pred, key, value):
    def fn(ws):
        i, _ = _find(ws, pred)
        ws.cell(i, COL[key] + 1).value = value
        fn.row = i
    return fn


def _manual(control_id):
    return lambda r: cid(r) == control_id and r[COL["source"]] == "人工核查"


def _fill_manual(control_id, **over):
    vals = {"degree": "符合", "record": "已核查", "by": "李明", "date": YESTERDAY, **over}

    def fn(ws):
        i, _ = _find(ws, _manual(control_id))
        for k, v in vals.items():
            ws.cell(i, COL[k] + 1).value = v
        fn.row = i
    return fn


@pytest.mark.parametrize("edit,col,needle", [
    (_fill_manual("L3-MMS1-02", degree="OK"), "I (符合程度)", "'OK' is not one of 符合 / 部分符合"),
    (_fill_manual("L3-MMS1-02", date="next week"), "M (核查日期)", "'next week' is not a date"),
    (_fill_manual("L3-MMS1-02", date="2026-02-30"), "M (核查日期)", "is not a date"),
    (_fill_manual("L3-MMS1-02", date=(date.today() + timedelta(days=30)).isoformat()), "M (核查日期)", "in the future"),
    (_fill_manual("L3-MMS1-02", by=None), "L (核查人)", "核查人 is empty"),
    (_fill_manual("L3-MMS1-02", record=None), "H (结果记录)", "结果记录 is empty"),
    (_set(_manual("L3-MMS1-03"), "id", "L3-XYZ9-99"), "D (测评项编号)", "unknown control id 'L3-XYZ9-99' for level 3"),
    (_set(lambda r: cid(r) == "L3-CES1-01" and r[COL["degree"]] == "不符合", "degree", "符合"),
     "I (符合程度)", "L3-CES1-01 is judged by the scan and cannot be edited here"),
    (_set(lambda r: cid(r) == "L3-CES1-01" and r[COL["source"]] == "自动检查", "record", "looks fine to me"),
     "H (结果记录)", "judged by the scan"),
    (_set(lambda r: cid(r) == "L3-PES1-01" and r[COL["source"]] == "已有核查记录", "degree", "不符合"),
     "I (符合程度)", "a recorded attestation"),
], ids=["degree", "not-a-date", "impossible-date", "future-date", "no-assessor", "no-record", "unknown-id",
        "automated-degree", "automated-record", "attested-row"])
def test_bad_cells_are_one_line_naming_sheet_row_and_column(record, tmp_path, edit, col, needle):
    xlsx = _edit(record, tmp_path, edit)
    r, out = _import(xlsx, tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert f"测评记录 row {edit.row} column {col}: " in lines[0], lines[0]
    assert needle in lines[0], lines[0]
    assert not out.exists() and not list(tmp_path.glob(".assessor.yaml*")), "nothing written"


def test_not_a_workbook_and_existing_output(record, tmp_path):
    junk = tmp_path / "x.xlsx"
    junk.write_text("not a zip")
    r, _ = _import(junk, tmp_path)
    assert r.returncode == 2 and "not a readable .xlsx" in r.stderr
    other = tmp_path / "other.xlsx"
    from openpyxl import Workbook
    Workbook().save(other)
    r, _ = _import(other, tmp_path)
    assert r.returncode == 2 and "not a workbook exported by" in r.stderr
    r, out = _import(record, tmp_path)
    assert r.returncode == 0
    r, _ = _import(record, tmp_path)
    assert r.returncode == 2 and "exists" in r.stderr
    r = run_cli("workbook", "export", str(tmp_path), "-o", str(record))
    assert r.returncode == 2


def test_waivers_and_formula_text_in_the_workbook(marked_bundle, tmp_path):
    out = tmp_path / "m.xlsx"
    r = run_cli("workbook", "export", str(marked_bundle), "-o", str(out), "--lang", "en")
    assert r.returncode == 0, r.stderr
    wb = load_workbook(out)
    ws = wb[S_RECORD]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells), "a resource name is never a formula"
    assert any(c.value.startswith(FORMULA_ID) for c in cells)
    rows = _rows(ws)
    assert any(f"waived: {WAIVER['id']}" in (r[COL["record"]] or "") for r in rows)
    fix = _rows(wb[S_FIX])
    assert any((r[8] or "").startswith(WAIVER["id"]) and r[11] == "已豁免" for r in fix)
    # --lang en: English result records, Chinese headers kept
    assert any("root user without MFA" in (r[COL["record"]] or "") for r in rows)
    # untouched: still no attestations
    r2, out2 = _import(out, tmp_path)
    assert r2.returncode == 0 and yaml.safe_load(out2.read_text())["attestations"] == []


def test_export_refuses_a_bundle_that_does_not_verify(sample_bundle, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(sample_bundle, bad)
    (bad / "controls.json").write_text("[]")
    out = tmp_path / "r.xlsx"
    r = run_cli("workbook", "export", str(bad), "-o", str(out))
    assert r.returncode == 2 and "fails verification" in r.stderr and not out.exists()
