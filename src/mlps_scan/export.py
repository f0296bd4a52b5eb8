"""`mlps-scan export BUNDLE --format csv|junit|sarif|ocsf -o FILE`: the results of a bundle that verifies, in
the formats pipelines and other tools read.

  csv    one row per finding (`--controls`: one row per control), UTF-8 with a BOM so Excel reads Chinese
  junit  JUnit XML: a testsuite per security area, a testcase per finding; fail -> <failure>, error ->
         <error>, not_applicable -> <skipped>
  sarif  SARIF 2.1.0: rules = the checks (help text, control ids, severity), results = failed findings
  ocsf   OCSF Compliance Finding events (class 2003), built with py-ocsf-models (the package Prowler uses)

A waived finding (a `waiver` on a failed finding, see the waivers of static evidence files) stays a failure and
says so: CSV waiver columns, a JUnit property and message prefix, a SARIF suppression, OCSF status Suppressed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from . import __version__
from .catalogue import AREA_ORDER
from .errors import InputError
from .lang import FINDING, SEVERITY, STATUS, label, message, text
from .results import Results, area_names, load_results

FORMATS = ("csv", "junit", "sarif", "ocsf")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(v: Any) -> str:
    """A spreadsheet-safe CSV cell: text a spreadsheet would run as a formula (a resource named
    `=HYPERLINK(...)`) is kept as text with a leading apostrophe."""
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        v = "; ".join(str(x) for x in v)
    s = str(v)
    return "'" + s if s.startswith(_FORMULA) else s


def waiver_of(f: dict) -> dict | None:
    w = f.get("waiver")
    return w if isinstance(w, dict) and w.get("id") else None


def _waiver_note(w: dict, lang: str) -> str:
    exp = f", expires {w.get('expires')}" if w.get("expires") else ""
    if lang == "zh":
        return f"[已豁免 {w['id']}{'，有效期至' + str(w['expires']) if w.get('expires') else ''}] "
    return f"[waived {w['id']}{exp}] "


def primary_area(f: dict, controls_by_id: dict[str, dict]) -> str:
    for cid in f.get("control_ids") or []:
        c = controls_by_id.get(cid)
        if c:
            return c.get("area") or "other"
    return "other"


# --------------------------------------------------------------------------- CSV

FINDING_COLUMNS = ["system", "level", "check_id", "status", "severity", "control_ids", "resource_id", "resource_name",
                   "resource_type",
                   "scope", "message", "message_zh", "title_en", "title_zh", "remediation_en", "remediation_zh",
                   "evidence", "waiver_id", "waiver_approved_by", "waiver_expires", "waiver_compensating"]
CONTROL_COLUMNS = ["system", "level", "control_id", "status", "status_zh", "area", "area_zh", "clause", "id_basis",
                   "automation", "control_point_en", "control_point_zh", "title_en", "title_zh", "summary",
                   "pass", "fail", "error", "not_applicable", "waived", "checks", "skipped_checks", "manual_en",
                   "manual_zh", "not_applicable_reason", "not_applicable_by"]


def not_applicable_info(c: dict) -> tuple[str, str]:
    """(reason, who decided) of a not-applicable control, whichever way controls.json spells them."""
    na = c.get("na") or {}
    if not isinstance(na, dict):
        na = {}
    reason = na.get("reason") or c.get("reason") or ""
    by = na.get("by") or na.get("decided_by") or c.get("decided_by") or ""
    return str(reason), str(by)


def to_csv(r: Results, controls: bool = False, lang: str = "en") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if controls:
        areas = area_names()
        w.writerow(CONTROL_COLUMNS)
        for c in r.controls:
            a = areas.get(c.get("area"))
            counts = c.get("counts") or {}
            reason, by = not_applicable_info(c)
            w.writerow([_cell(v) for v in (
                r.system, r.level, c.get("control_id"), c.get("status"), label(STATUS, c.get("status", ""), "zh"),
                c.get("area"), a.zh if a else "", c.get("clause"), c.get("id_basis"), c.get("automation"),
                (c.get("control_point") or {}).get("en"), (c.get("control_point") or {}).get("zh"),
                (c.get("title") or {}).get("en"), (c.get("title") or {}).get("zh"), c.get("summary"),
                counts.get("pass", 0), counts.get("fail", 0), counts.get("error", 0), counts.get("not_applicable", 0),
                counts.get("waived", c.get("waived", 0)) or 0,
                c.get("checks"), c.get("skipped_checks"), (c.get("manual") or {}).get("en"),
                (c.get("manual") or {}).get("zh"), reason, by)])
    else:
        w.writerow(FINDING_COLUMNS)
        for f in r.findings:
            wv = waiver_of(f) or {}
            w.writerow([_cell(v) for v in (
                r.system, r.level, f.get("check_id"), f.get("status"), f.get("severity"), f.get("control_ids"),
                f.get("resource_id"), f.get("resource_name") or f.get("resource_id"), f.get("resource_type"), f.get("scope"),
                f.get("message"), f.get("message_zh"),
                (f.get("title") or {}).get("en"), (f.get("title") or {}).get("zh"),
                (f.get("remediation") or {}).get("en") if isinstance(f.get("remediation"), dict) else f.get("remediation"),
                (f.get("remediation") or {}).get("zh") if isinstance(f.get("remediation"), dict) else "",
                f.get("evidence"), wv.get("id"), wv.get("approved_by"), wv.get("expires"), wv.get("compensating"))])
    return "\ufeff" + buf.getvalue()


# --------------------------------------------------------------------------- JUnit


def to_junit(r: Results, lang: str = "en") -> str:
    controls_by_id = {c.get("control_id"): c for c in r.controls}
    areas = area_names()
    by_area: dict[str, list[dict]] = {}
    for f in r.findings:
        by_area.setdefault(primary_area(f, controls_by_id), []).append(f)
    order = [a for a in AREA_ORDER if a in by_area] + sorted(a for a in by_area if a not in AREA_ORDER)
    root = ET.Element("testsuites", name=f"mlps-scan {r.system} level {r.level}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    stamp = r.manifest.finished_at.replace(tzinfo=None).isoformat(timespec="seconds")
    for code in order:
        a = areas.get(code)
        name = f"{code} {a.zh} {a.en}" if a else code
        suite = ET.SubElement(root, "testsuite", name=name, timestamp=stamp, hostname="mlps-scan")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for f in by_area[code]:
            counts["tests"] += 1
            tc = ET.SubElement(suite, "testcase", classname=str(f.get("check_id")), name=str(f.get("resource_id")),
                               time="0")
            props = ET.SubElement(tc, "properties")
            for k, v in (("control_ids", " ".join(f.get("control_ids") or [])), ("severity", f.get("severity")),
                         ("resource_name", f.get("resource_name")), ("resource_type", f.get("resource_type")),
                         ("scope", f.get("scope")),
                         ("evidence", " ".join(f.get("evidence") or []))):
                ET.SubElement(props, "property", name=k, value=str(v or ""))
            wv = waiver_of(f)
            if wv:
                for k in ("id", "approved_by", "expires", "compensating"):
                    if wv.get(k):
                        ET.SubElement(props, "property", name=f"waiver_{k}", value=str(wv[k]))
            msg = message(f, lang)
            st = f.get("status")
            body = "\n".join(x for x in (
                f"{label(FINDING, st, lang)}: {msg}",
                f"controls: {', '.join(f.get('control_ids') or [])}",
                f"remediation: {text(f.get('remediation'), lang)}" if f.get("remediation") else "",
                f"evidence: {', '.join(f.get('evidence') or [])}") if x)
            if st == "fail":
                counts["failures"] += 1
                el = ET.SubElement(tc, "failure", message=(_waiver_note(wv, lang) if wv else "") + msg,
                                   type=str(f.get("severity") or ""))
                el.text = body
            elif st == "error":
                counts["errors"] += 1
                el = ET.SubElement(tc, "error", message=msg, type="evidence_missing")
                el.text = body
            elif st == "not_applicable":
                counts["skipped"] += 1
                ET.SubElement(tc, "skipped", message=msg)
            else:
                ET.SubElement(tc, "system-out").text = msg
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- SARIF

_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _rule(check_id: str, findings: list[dict], lang: str) -> dict:
    f0 = findings[0]
    title = f0.get("title") or {}
    rem = f0.get("remediation") or {}
    if isinstance(rem, str):
        rem = {"en": rem}
    controls = sorted({c for f in findings for c in f.get("control_ids") or []})
    sev = f0.get("severity") or "medium"
    short = text(title, lang) or check_id
    help_text = text(rem, lang) or ("Assessor's recorded judgement." if check_id == "attestation" else "")
    other = text(rem, "en" if lang == "zh" else "zh")
    md = f"**{short}**\n\n{help_text}" + (f"\n\n{other}" if other and other != help_text else "") + \
         f"\n\nMLPS 2.0 (GB/T 22239-2019 / GB/T 28448-2019) test items: {', '.join(controls) or '-'}"
    return {
        "id": check_id,
        "name": "".join(p.capitalize() for p in check_id.replace("_", ".").split(".")),
        "shortDescription": {"text": short},
        "fullDescription": {"text": " / ".join(x for x in (title.get("en"), title.get("zh")) if x) or check_id},
        "help": {"text": help_text + (f" ({other})" if other and other != help_text else ""), "markdown": md},
        "defaultConfiguration": {"level": _SARIF_LEVEL.get(sev, "warning")},
        "properties": {"tags": ["security", "mlps", *controls], "control_ids": controls, "severity": sev,
                       "security-severity": _SECURITY_SEVERITY.get(sev, "5.5")},
    }


def to_sarif(r: Results, lang: str = "en") -> str:
    by_check: dict[str, list[dict]] = {}
    for f in r.findings:
        by_check.setdefault(f.get("check_id", ""), []).append(f)
    rules = [_rule(cid, fs, lang) for cid, fs in sorted(by_check.items())]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for f in r.findings:
        if f.get("status") != "fail":
            continue
        ev = [e for e in f.get("evidence") or [] if r.has_evidence(e)]
        res: dict[str, Any] = {
            "ruleId": f.get("check_id"), "ruleIndex": index[f.get("check_id")],
            "level": _SARIF_LEVEL.get(f.get("severity") or "medium", "warning"),
            "message": {"text": message(f, lang)},
            "locations": [{
                **({"physicalLocation": {"artifactLocation": {"uri": f"evidence/{ev[0]}.json", "uriBaseId": "BUNDLE"}}}
                   if ev else {}),
                "logicalLocations": [{"fullyQualifiedName": str(f.get("resource_id")),
                                      "name": str(f.get("resource_name") or f.get("resource_id")),
                                      "kind": str(f.get("resource_type") or "resource")}],
            }],
            "partialFingerprints": {"mlpsFinding/v1": hashlib.sha256(
                f"{f.get('check_id')}\x00{f.get('resource_id')}".encode()).hexdigest()},
            "properties": {"control_ids": f.get("control_ids") or [], "severity": f.get("severity"),
                           "scope": f.get("scope"), "evidence": f.get("evidence") or [],
                           "message_en": f.get("message"), "message_zh": f.get("message_zh") or ""},
        }
        wv = waiver_of(f)
        if wv:
            res["suppressions"] = [{
                "kind": "external", "status": "accepted",
                "justification": f"waiver {wv['id']}" + (f" approved by {wv['approved_by']}" if wv.get("approved_by") else "")
                                 + (f", expires {wv['expires']}" if wv.get("expires") else "")
                                 + (f"; compensating measure: {wv['compensating']}" if wv.get("compensating") else ""),
                "properties": {k: wv.get(k) for k in ("id", "approved_by", "expires", "compensating") if wv.get(k)},
            }]
        results.append(res)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mlps-scan", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "automationDetails": {"id": f"mlps-scan/{r.system}/level-{r.level}/"},
            "originalUriBaseIds": {"BUNDLE": {"uri": Path(r.path).absolute().as_uri() + ("/" if Path(r.path).is_dir() else "")}},
            "invocations": [{"executionSuccessful": True,
                             "startTimeUtc": _utc(r.manifest.started_at), "endTimeUtc": _utc(r.manifest.finished_at),
                             "properties": {"partial": r.manifest.partial, "level": r.level, "system": r.system}}],
            "results": results,
            "language": "zh-CN" if lang == "zh" else "en-US",
        }],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def _utc(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- OCSF


def to_ocsf(r: Results, lang: str = "en") -> str:
    from py_ocsf_models.events.base_event import SeverityID, StatusID
    from py_ocsf_models.events.findings.activity_id import ActivityID
    from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
    from py_ocsf_models.events.findings.compliance_finding_type_id import ComplianceFindingTypeID
    from py_ocsf_models.objects.check import Check
    from py_ocsf_models.objects.compliance import Compliance
    from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatusID
    from py_ocsf_models.objects.finding_info import FindingInformation
    from py_ocsf_models.objects.metadata import Metadata
    from py_ocsf_models.objects.product import Product
    from py_ocsf_models.objects.remediation import Remediation
    from py_ocsf_models.objects.resource_details import ResourceDetails

    sev_id = {"critical": SeverityID.Critical, "high": SeverityID.High, "medium": SeverityID.Medium,
              "low": SeverityID.Low}
    comp = {"pass": ComplianceStatusID.Pass, "fail": ComplianceStatusID.Fail, "error": ComplianceStatusID.Warning,
            "not_applicable": ComplianceStatusID.Other}
    controls_by_id = {c.get("control_id"): c for c in r.controls}
    when = r.manifest.finished_at.astimezone(timezone.utc)
    ms = int(when.timestamp() * 1000)
    standard = f"GB/T 22239-2019 level {r.level} (MLPS 2.0 等级保护 第{r.level}级)"
    product = Product(name="mlps-scan", vendor_name="mlps-scan", version=__version__, uid="mlps-scan")
    events = []
    for f in r.findings:
        st = f.get("status", "")
        wv = waiver_of(f)
        sev = f.get("severity") or "medium"
        rem = f.get("remediation")
        uid = hashlib.sha256(f"{r.system}\x00{f.get('check_id')}\x00{f.get('resource_id')}".encode()).hexdigest()
        cids = f.get("control_ids") or []
        ev = ComplianceFinding(
            activity_id=ActivityID.Create, activity_name="Create",
            type_uid=ComplianceFindingTypeID.Create, type_name="Compliance Finding: Create",
            severity_id=sev_id.get(sev, SeverityID.Unknown), severity=label(SEVERITY, sev, "en").capitalize(),
            status_id=StatusID.Suppressed if wv else StatusID.New, status="Suppressed" if wv else "New",
            status_detail=(_waiver_note(wv, "en").strip() if wv else None),
            message=message(f, lang), time=ms, time_dt=when,
            metadata=Metadata(product=product, event_code=f.get("check_id"), uid=uid,
                              labels=["mlps", f"level-{r.level}", r.system]),
            finding_info=FindingInformation(uid=uid, title=text(f.get("title"), lang) or str(f.get("check_id")),
                                            desc=message(f, lang), types=["MLPS 2.0"], created_time=ms,
                                            created_time_dt=when),
            compliance=Compliance(
                standards=[standard], requirements=cids,
                control=", ".join(cids) or None,
                desc="; ".join(text((controls_by_id.get(c) or {}).get("title"), lang) for c in cids if c in controls_by_id) or None,
                status_id=comp.get(st, ComplianceStatusID.Unknown),
                checks=[Check(uid=f.get("check_id"), name=text(f.get("title"), lang) or f.get("check_id"),
                              severity=sev, severity_id=sev_id.get(sev), standards=[standard],
                              status=label(FINDING, st, "en"), status_id=comp.get(st, ComplianceStatusID.Unknown))]),
            remediation=Remediation(desc=text(rem, lang)) if rem else None,
            resources=[ResourceDetails(uid=str(f.get("resource_id")), name=f.get("resource_name"), type=f.get("resource_type"),
                                       group=None, labels=[f.get("scope")] if f.get("scope") else None,
                                       data={"evidence": f.get("evidence") or []})],
            unmapped={"mlps_status": st, "message_en": f.get("message"), "message_zh": f.get("message_zh") or "",
                      "waiver": wv, "scope": f.get("scope")},
        )
        events.append(ev.model_dump(mode="json", exclude_none=True))
    return json.dumps(events, ensure_ascii=False, indent=1) + "\n"


# --------------------------------------------------------------------------- entry point

_WRITERS: dict[str, Callable[..., str]] = {"junit": to_junit, "sarif": to_sarif, "ocsf": to_ocsf}


def render(bundle: Path, fmt: str, *, controls: bool = False, lang: str = "en") -> tuple[str, Results]:
    if fmt not in FORMATS:
        raise InputError(f"export: unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if controls and fmt != "csv":
        raise InputError("export: --controls goes with --format csv")
    r = load_results(bundle)
    if fmt == "csv":
        return to_csv(r, controls=controls, lang=lang), r
    return _WRITERS[fmt](r, lang=lang), r


def write(text_: str, out: str) -> Path | None:
    """Write to `out` (or stdout for `-`) all at once: a failed export leaves no half-written file."""
    import sys

    from .results import atomic_write
    if out == "-":
        sys.stdout.write(text_.lstrip("\ufeff"))
        return None
    return atomic_write(Path(out), lambda p: p.write_text(text_, encoding="utf-8", newline=""))
