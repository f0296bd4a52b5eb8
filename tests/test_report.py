"""report.html in a real browser (headless Chromium through Playwright): the verdict and the chart are in the
first viewport at 1400 px, nothing overflows sideways at 390 px, Chinese renders in a CJK font, the print
preview (and the PDF) carries the failures, the filters work and the page reads without its script, and it
loads nothing from the network."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import browser
from fixtures.outputs import WAIVER

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=browser.missing() or "")


@pytest.fixture(scope="module")
def report(sample_bundle) -> Path:
    return sample_bundle / "report.html"


def _open(ctx, path: Path):
    """Open the report; every request that is not the file itself or a file beside it fails the test."""
    page = ctx.new_page()
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()
    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.outside = outside  # type: ignore[attr-defined]
    return page


def test_verdict_and_chart_in_the_first_viewport(report, sample_bundle):
    with browser.chromium(viewport={"width": 1400, "height": 900}) as ctx:
        page = _open(ctx, report)
        for sel in ("#verdict", "#conclusion", "#chart svg"):
            box = page.locator(sel).bounding_box()
            assert box and box["height"] > 0 and box["y"] + box["height"] <= 900, (sel, box)
        assert "不符合" in page.inner_text("#conclusion")
        controls = json.loads((sample_bundle / "controls.json").read_text())
        areas = {c["area"] for c in controls}
        assert page.locator("#chart svg g.row").count() == len(areas)
        # the bars add up to the items of each area
        total = sum(int(t) for t in page.eval_on_selector_all("#chart svg g.row > text:last-child",
                                                              "els => els.map(e => e.textContent)"))
        assert total == len(controls)
        assert page.locator("#chart svg rect.seg-non_compliant").count() >= 1
        # failures come before the matrix of all items
        assert page.locator("#failures").bounding_box()["y"] < page.locator("#matrix").bounding_box()["y"]
        assert page.outside == [], "the report loads nothing from the network"


def test_no_horizontal_overflow_at_390px(report):
    with browser.chromium(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True) as ctx:
        page = _open(ctx, report)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # the matrix is readable (rows stacked, labels shown), the filters are there
        assert page.locator("#filters").is_visible()
        row = page.locator("#L3-CES1-01")
        row.scroll_into_view_if_needed()
        assert row.bounding_box()["width"] <= 390


def test_chinese_renders_in_a_cjk_font(report):
    with browser.chromium(viewport={"width": 1400, "height": 900}) as ctx:
        page = _open(ctx, report)
        cdp = ctx.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        for sel in ("#conclusion", "#failures h2", "#L3-PES1-01 td:nth-child(2) b"):
            node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": sel})["nodeId"]
            assert node, sel
            fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            names = [f["familyName"] for f in fonts if f["glyphCount"]]
            assert any("CJK" in n or n.startswith(("Noto Sans SC", "Source Han", "WenQuanYi")) for n in names), (sel, names)


def test_print_preview_has_the_failures(report, sample_bundle):
    import pypdf
    findings = json.loads((sample_bundle / "findings.json").read_text())
    failing_checks = {f["check_id"] for f in findings if f["status"] == "fail"}
    with browser.chromium(viewport={"width": 1400, "height": 900}) as ctx:
        page = _open(ctx, report)
        page.emulate_media(media="print")
        assert page.locator("#failures").is_visible()
        assert page.locator("#failures article.check").count() == len(failing_checks)
        assert not page.locator("#filters").is_visible()
        # details are expanded in print: a manual item's row and its guidance are on paper
        assert page.locator("details.manual tr#L3-MMS1-01").is_visible()
        assert page.locator("thead").first.evaluate("e => getComputedStyle(e).display") == "table-header-group"
        pdf = page.pdf(format="A4", print_background=True)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    width_mm = float(reader.pages[0].mediabox.width) / 72 * 25.4
    assert abs(width_mm - 210) < 1, "A4"
    first = "".join(p.extract_text() for p in reader.pages[:3])
    assert "Failures" in first and "aws.iam.root_mfa" in first, "the failures start on the first pages"


def test_filters_and_the_page_without_script(report):
    with browser.chromium(viewport={"width": 1400, "height": 900}) as ctx:
        page = _open(ctx, report)
        page.select_option("#f-status", "non_compliant")
        visible = page.eval_on_selector_all("#matrix tr.f", "els => els.filter(e => !e.hidden).map(e => e.dataset.status)")
        assert visible and set(visible) == {"non_compliant"}
        page.select_option("#f-status", "")
        page.select_option("#f-sev", "critical")
        arts = page.eval_on_selector_all("#failures article.f", "els => els.filter(e => !e.hidden).map(e => e.dataset.sev)")
        assert arts and set(arts) == {"critical"}
        page.select_option("#f-sev", "")
        page.select_option("#f-area", "PES")
        areas = page.eval_on_selector_all("section.area", "els => els.filter(e => !e.hidden).map(e => e.dataset.area)")
        assert areas and set(areas) == {"PES"}  # general and cloud-extension sections
    with browser.chromium(viewport={"width": 1400, "height": 900}, java_script_enabled=False) as ctx:
        page = _open(ctx, report)
        assert not page.locator("#filters").is_visible(), "no script: no dead controls"
        assert page.locator("#failures article.check").first.is_visible()
        assert page.locator("#matrix tr#L3-CES1-01").is_visible()


def test_evidence_links_point_at_the_bundles_files(report, sample_bundle):
    with browser.chromium() as ctx:
        page = _open(ctx, report)
        hrefs = page.eval_on_selector_all('a[href^="evidence/"]', "els => els.map(e => e.getAttribute('href'))")
    assert hrefs
    missing = [h for h in set(hrefs) if not (sample_bundle / h).is_file()]
    assert not missing, missing[:5]


def test_assessment_verdict_high_risks_and_waivers(sample_bundle, tmp_path):
    """With the assessment's judgement in the bundle, the verdict leads with the conclusion range, the 符合率
    range and the high-risk candidates; waived failures say so."""
    from mlps_scan.models import ControlResult, Finding, FindingWaiver
    from mlps_scan.report import render

    findings = [Finding.model_validate(f) for f in json.loads((sample_bundle / "findings.json").read_text())]
    fail = next(f for f in findings if f.check_id == "aws.iam.root_mfa")
    fail.waiver = FindingWaiver.model_validate(WAIVER)
    controls = [ControlResult.model_validate(c) for c in json.loads((sample_bundle / "controls.json").read_text())]
    assessment = {
        "compliance_rate": {"low": 61.2, "high": 93.1},
        "conclusion": {"low": {"code": "basically_compliant", "zh": "基本符合", "en": "basically compliant"},
                       "high": {"code": "compliant", "zh": "符合", "en": "compliant"}},
        "rule": {"provisional": True, "formula": {"en": "rate = ...", "zh": "符合率 = ..."}},
        "high_risks": [{"case_id": "6.4.1.1", "title": {"zh": "测试高风险", "en": "test high risk"},
                        "control_ids": ["L3-CES1-04"], "findings": [{"check_id": "aws.iam.root_mfa",
                                                                      "resource_id": fail.resource_id}],
                        "mitigable": True, "major": False, "waivers": [WAIVER["id"]]}],
    }
    html = render(system="Acme Shop", level=3, controls=controls, findings=findings, scope=[], finished_at="2026-01-01",
                  partial=False, asset_count=1, evidence_count=1, assessment=assessment)
    out = tmp_path / "report.html"
    out.write_text(html, encoding="utf-8")
    with browser.chromium(viewport={"width": 1400, "height": 900}) as ctx:
        page = _open(ctx, out)
        assert page.inner_text("#conclusion").startswith("基本符合 – 符合")
        assert page.inner_text("#rate") == "61.2% – 93.1%"
        hr = page.locator("#high-risks")
        box = hr.bounding_box()
        assert "6.4.1.1" in hr.inner_text() and box["y"] + box["height"] <= 900
        assert page.locator("#fail-aws\\.iam\\.root_mfa .waived").inner_text().startswith(f"已豁免 waived {WAIVER['id']}")
