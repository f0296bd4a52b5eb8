"""Chinese AND English wherever an assessor reads: every built-in check gives its result record (the verdict's
message) and its remediation in both languages, and the Chinese is a translation, not a copy of the English."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from mlps_scan.plugins import checks

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
VERDICTS = {"passed", "failed", "error", "not_applicable"}
CHECK_FILES = sorted((ROOT / "checks").glob("*.py"))


def _builtin_specs():
    return [s for s in checks().values() if s.module.startswith("mlps_scan.checks.")]


def _verdict_calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in VERDICTS:
            yield node


def _chinese(zh: str, en: str) -> bool:
    return bool(zh) and bool(CJK.search(zh)) and zh.strip() != en.strip()


@pytest.mark.parametrize("path", CHECK_FILES, ids=lambda p: p.name)
def test_every_verdict_in_the_source_gives_a_chinese_record(path):
    """Read from the source, so a branch the fixtures never reach is held to it too."""
    missing = []
    for call in _verdict_calls(path):
        zh = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "zh"), None)
        if zh is None:
            missing.append(f"{path.name}:{call.lineno} {call.func.id}(...) has no Chinese message")
            continue
        if isinstance(zh, ast.Constant):
            if not (isinstance(zh.value, str) and CJK.search(zh.value)):
                missing.append(f"{path.name}:{call.lineno} Chinese message has no Chinese text")
            elif isinstance(call.args[0], ast.Constant) and call.args[0].value == zh.value:
                missing.append(f"{path.name}:{call.lineno} Chinese message copies the English one")
    assert not missing, "\n".join(missing)


def test_the_source_scan_sees_the_verdicts():
    """The AST walk above is not vacuous: the check modules hold many verdict calls."""
    assert sum(1 for p in CHECK_FILES for _ in _verdict_calls(p)) > 150


def test_every_check_has_a_bilingual_remediation_and_title():
    specs = _builtin_specs()
    assert len(specs) > 80
    bad = []
    for s in specs:
        if s.remediation is None or not s.remediation.en:
            bad.append(f"{s.id}: no remediation")
        elif not _chinese(s.remediation.zh, s.remediation.en):
            bad.append(f"{s.id}: remediation has no Chinese (zh={s.remediation.zh!r})")
        if not _chinese(s.title.zh, s.title.en):
            bad.append(f"{s.id}: title has no Chinese")
    assert not bad, "\n".join(bad)


def test_sample_findings_carry_chinese_records(sample_bundle):
    findings = json.loads((sample_bundle / "findings.json").read_text(encoding="utf-8"))
    assert findings
    bad = [f"{f['check_id']} {f['resource_id']}: {f.get('message_zh')!r}" for f in findings
           if not _chinese(f.get("message_zh", ""), f["message"])]
    assert not bad, "\n".join(bad[:20])
    rem = [f for f in findings if f["status"] == "fail" and f["check_id"] != "attestation"]
    assert rem and all(_chinese(f["remediation"]["zh"], f["remediation"]["en"]) for f in rem)


def test_runner_messages_are_bilingual():
    """Errors the runner makes itself (evidence missing, a crashing check) carry a Chinese record too."""
    from mlps_scan.catalogue import load
    from mlps_scan.models import Asset, Coverage, EvidenceStatus, Profile
    from mlps_scan.plugins import CheckContext, check
    from mlps_scan.runner import run_check

    @check(id="test.bilingual.crash", title_en="t", title_zh="测", controls={3: ["L3-CES1-01"]}, asset_type="t.thing")
    def crash(asset, ctx):
        raise RuntimeError("boom")

    @check(id="test.bilingual.need", title_en="t", title_zh="测", controls={3: ["L3-CES1-01"]}, asset_type="t.thing")
    def need(asset, ctx):
        ctx.need(asset, "missing_key")

    try:
        load()
        ctx = CheckContext([Asset(type="t.thing", id="a1", scope="x/y")],
                           [Coverage(scope="x/z", asset_type="t.thing", status=EvidenceStatus.denied, reason="AccessDenied")],
                           Profile(), 3)
        for spec in (crash.check_spec, need.check_spec):
            fs = run_check(spec, ctx, 3)
            assert {f.status.value for f in fs} == {"error"}
            for f in fs:
                assert _chinese(f.message_zh, f.message), (f.message, f.message_zh)
        assert any("无权限" in f.message_zh and "AccessDenied" in f.message_zh for f in run_check(need.check_spec, ctx, 3))
    finally:
        from mlps_scan import plugins
        plugins._CHECKS.pop("test.bilingual.crash", None)
        plugins._CHECKS.pop("test.bilingual.need", None)
