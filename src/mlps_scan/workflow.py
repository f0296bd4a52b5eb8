"""The consultant's workflow around the scan, as commands: questionnaire, grade, history, diff, renewal.
cli.py registers these parsers (`add_parsers`) and commands (`COMMANDS`)."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any, Callable

from .errors import InputError
from .terminal import fmt, markup, plain


def _date(v: str) -> date:
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {v!r}") from None


def _level15(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        n = 0
    if not 1 <= n <= 5:
        raise argparse.ArgumentTypeError(f"unknown level {v!r}: levels are 1 to 5")
    return n


def _nonneg(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        n = -1
    if n < 0 or n > 3650:
        raise argparse.ArgumentTypeError(f"not a number of days 0-3650: {v!r}")
    return n


def add_parsers(sub) -> None:
    sp = sub.add_parser("questionnaire", help="write the client questionnaire (architecture prefilled from a bundle)")
    sp.add_argument("bundle", nargs="?", type=Path, help="bundle folder or zip, or the scan's output folder")
    sp.add_argument("-o", "--output", required=True, help="questionnaire.yaml to write (- for stdout)")
    sp.add_argument("--template", action="store_true", help="a blank questionnaire, nothing prefilled")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.add_argument("--answers", type=Path, help="an answered questionnaire whose answers to keep: refresh its "
                                                 "architecture from a newer bundle")

    sp = sub.add_parser("grade", help="recommend the level from an answered questionnaire (GB/T 22240-2020)")
    sp.add_argument("questionnaire", type=Path)
    sp.add_argument("--basis", choices=["gbt22240-2020", "2025"], default="gbt22240-2020",
                    help="grading matrix: the standard (default) or the 2025 filing-template grouping")
    sp.add_argument("--bundle", type=Path, help="bundle whose evidence the answers are checked against "
                                                "(default: the one the questionnaire was prefilled from)")
    sp.add_argument("--no-evidence", action="store_true", help="do not check the answers against a bundle")
    sp.add_argument("--format", choices=["table", "json"], default="table")

    sp = sub.add_parser("history", help="list recorded scans and assessments; `history record BUNDLE` adds a scan, "
                                         "`history assessed --system S --date D --firm F --report-no N` a completed "
                                         "level assessment")
    sp.add_argument("action", nargs="?", choices=["list", "record", "assessed"], default="list")
    sp.add_argument("bundle", nargs="?", type=Path, help="with `record`: the bundle to add")
    sp.add_argument("--system", help="only this system (with `assessed`: the system assessed)")
    sp.add_argument("--date", type=_date, help="with `assessed`: date of the assessment report, YYYY-MM-DD")
    sp.add_argument("--firm", help="with `assessed`: the assessment institution 测评机构")
    sp.add_argument("--report-no", help="with `assessed`: the report number 报告编号")
    sp.add_argument("--conclusion", help="with `assessed`: 符合, 基本符合 or 不符合")
    sp.add_argument("--certificate-no", help="with `assessed`: the filing certificate number 备案证明编号")
    sp.add_argument("--level", type=_level15, help="with `assessed`: the level assessed")
    sp.add_argument("--filing-date", type=_date, help="with `assessed`: date of the filing (备案) the certificate is for")
    sp.add_argument("--history", help="history file (default: $MLPS_SCAN_HISTORY or the user data dir)")
    sp.add_argument("--format", choices=["table", "json"], default="table")

    sp = sub.add_parser("diff", help="compare two bundles: new failures, fixes, control changes, assets")
    sp.add_argument("old", type=Path)
    sp.add_argument("new", type=Path)
    sp.add_argument("--format", choices=["table", "json"], default="table")
    sp.add_argument("--fail-on-regression", action="store_true", help="exit 1 when a control regressed")

    sp = sub.add_parser("renewal", help="next assessment due date and filing-certificate expiry (exit 0 ok, 1 due soon, 5 overdue)")
    sp.add_argument("--system", help="system name in the history")
    sp.add_argument("--filing-date", type=_date, help="date of the filing (备案), YYYY-MM-DD")
    sp.add_argument("--level", type=_level15, help="the system's level (default: the last recorded scan's)")
    sp.add_argument("--assessed", type=_date, action="append", default=[],
                    help="date of a completed level assessment (repeatable)")
    sp.add_argument("--warn-days", type=_nonneg, default=60, help="warning window in days (default 60)")
    sp.add_argument("--cycle-months", type=int, choices=range(1, 61), metavar="N",
                    help="override the assessment cycle (default: L1 12, L2 24, L3+ 12)")
    sp.add_argument("--today", type=_date, help="compute as of this date (default: today), e.g. to plan ahead")
    sp.add_argument("--history", help="history file (default: $MLPS_SCAN_HISTORY or the user data dir)")
    sp.add_argument("--format", choices=["table", "json"], default="table")


def _console():
    from .terminal import console
    return console()


def _print_json(obj: Any) -> None:
    from .terminal import json_text
    print(json_text(obj))


# --------------------------------------------------------------------------- questionnaire


def cmd_questionnaire(args) -> int:
    from . import questionnaire as Q
    from .bundle import open_bundle
    if args.template and args.bundle:
        raise InputError("questionnaire: give a bundle to prefill from, or --template, not both")
    if not args.template and not args.bundle:
        raise InputError("questionnaire: give the bundle (or scan output folder) to prefill from, or --template for a blank one")
    if args.answers and args.template:
        raise InputError("questionnaire: --answers refreshes the architecture from a bundle; it does not go with --template")
    old = Q.load(args.answers) if args.answers else None
    reader = None if args.template else open_bundle(args.bundle)
    q = _odd_shapes(lambda: Q.build(reader, args.bundle), args.bundle)
    if old is not None:
        q = Q.keep_answers(q, old)
    text = Q.render_yaml(q, template=args.template)
    Q.Questionnaire.model_validate(__import__("yaml").safe_load(text))  # what we write must load back
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output).expanduser()
    if out.exists() and not args.force:
        raise InputError(f"{out} exists (an answered questionnaire?): choose another -o or pass --force")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    a = q.architecture
    _console().print(fmt("wrote {}", out) + ("" if args.template else
                     f": prefilled {len(a.cloud_accounts)} accounts, {len(a.networks)} networks/zones, "
                     f"{len(a.internet_endpoints)} internet endpoints, {len(a.hosts)} hosts, "
                     f"{len(a.kubernetes_clusters)} clusters, {len(a.data_stores)} data stores, "
                     f"{len(a.security_services)} security services"
                     + (f"; {len(a.coverage_gaps)} coverage gaps" if a.coverage_gaps else "")))
    return 0


def _odd_shapes(fn, bundle):
    """Run `fn`, which reads a bundle's inventory: attributes of a shape no collector writes (an edited or
    foreign bundle) are one error line, not an internal error."""
    from .errors import BundleError
    try:
        return fn()
    except (TypeError, AttributeError, KeyError, ValueError, IndexError) as e:
        if bundle is None:
            raise
        raise BundleError(f"{bundle}: inventory.json holds data of an unexpected shape "
                          f"({type(e).__name__}: {str(e)[:120]}); was it written by this version of mlps-scan?") from None


# --------------------------------------------------------------------------- grade


def cmd_grade(args) -> int:
    from . import questionnaire as Q
    from .bundle import open_bundle
    from .grading import grade
    q = Q.load(args.questionnaire)
    inv, src, notes = None, None, []
    if not args.no_evidence:
        if args.bundle:
            inv, src = open_bundle(args.bundle).inventory(), str(args.bundle)
        elif q.meta.prefilled_from:
            p = Path(q.meta.prefilled_from.bundle)
            if p.exists():
                reader = open_bundle(p)
                inv, src = reader.inventory(), str(p)
                if reader.manifest_sha256() != q.meta.prefilled_from.manifest_sha256:
                    notes.append(f"bundle {p} changed since the questionnaire was prefilled (manifest hash differs)")
            else:
                notes.append(f"the bundle the questionnaire was prefilled from is gone ({p}): answers not checked against evidence")
    res = _odd_shapes(lambda: grade(q, args.basis, inv, src), src)
    res["notes"] = notes + res["notes"]
    code = 0 if res["complete"] and not res["contradictions"] and not res["level_differs"] else 1
    if args.format == "json":
        _print_json(res)
        return code
    from rich.table import Table
    con = _console()
    t = Table(title=fmt("Grading 定级 — {} — basis {}", res['system'] or '(system not named)', res['basis_title']))
    for col in ("aspect 方面", "citizens 公民法人", "social order 社会秩序", "national security 国家安全", "level 级别"):
        t.add_column(col)
    for k, a in res["aspects"].items():
        cells = []
        for r in a["objects"]:
            mark = "*" if r["flag"] else ""
            cell = fmt("{}{} → {}", r['degree'], mark, r['level'] or '-')
            cells.append(f"[bold]{cell}[/]" if r["object"] in a["drivers"] and a["level"] == res["level"] else cell)
        t.add_row(fmt("{}\n{}", a['name']['en'], a['name']['zh']), *cells, markup(a["level"]))
    con.print(t)
    con.print(fmt("[bold]Recommended level 建议级别: {}[/]", res['level']) + ("" if res["complete"] else "  (provisional: answers missing)"))
    if res["level_differs"]:
        d = res["level_differs"]
        con.print(fmt("[bold red]Current level {} differs from the recommended level {} 现定级别与建议级别不一致[/]",
                      d['current'], d['recommended']))
        con.print(fmt("  {}", d['message']))
        con.print(fmt("  {}", d['message_zh']))
    for line in res["reasoning"]:
        con.print(fmt("  {}", line))
    if res["driving_answers"]:
        con.print("Answers driving the result 决定级别的回答:")
        for d in res["driving_answers"]:
            con.print(fmt("  {} = {} → level {}", d['path'], repr(d['answer']), d['level']) + ("  (assumed)" if d["assumed"] else ""))
    for title, items in (("Assumptions 保守假设 (*)", res["flags"]), ("Review 复核", res["advisories"]),
                         ("Contradicted by the scan's evidence 与扫描证据矛盾", res["contradictions"])):
        if items:
            con.print(f"[yellow]{title}:[/]")
            for i in items:
                con.print(fmt("  {}: {}", i['path'], i['message']))
                for a in i.get("assets", [])[:5]:
                    con.print(fmt("      {} {}: {} (evidence {})", a['type'], a['asset'], a['why'],
                                  ', '.join(a['evidence'][:2]) or '-'))
    for n in res["notes"]:
        con.print(fmt("[dim]note: {}[/]", n))
    return code


# --------------------------------------------------------------------------- history


_ASSESSED_ONLY = ("date", "firm", "report_no", "conclusion", "certificate_no", "level", "filing_date")


def cmd_history(args) -> int:
    from .history import History
    if args.action == "assessed":
        return _history_assessed(args)
    extra = [k for k in _ASSESSED_ONLY if getattr(args, k, None) is not None]
    if extra:
        raise InputError(f"history: --{extra[0].replace('_', '-')} goes with `history assessed`")
    if args.action == "record":
        if not args.bundle:
            raise InputError("history record: give the bundle to record")
        with History(args.history) as h:
            sid, new = h.record_bundle(args.bundle)
            print(("recorded" if new else "already recorded") + f" scan #{sid} in {plain(h.path)}")
        return 0
    if args.bundle:
        raise InputError(f"history: unexpected argument {str(args.bundle)!r} (did you mean `history record BUNDLE`?)")
    with History(args.history, create=False) as h:
        scans = h.scans(args.system)
        assessed = h.assessments(args.system)
        path = h.path
    if args.format == "json":
        _print_json({"history": str(path), "scans": scans, "assessments": assessed})
        return 0
    from rich.table import Table
    t = Table(title=fmt("Scan history 扫描历史 ({})", path))
    for col in ("#", "system", "level", "scanned at", "controls (C/P/N/E/M/NA)", "findings fail/error/pass", "bundle"):
        t.add_column(col, overflow="fold")
    for s in scans:
        c, f = s["controls"], s["findings"]
        t.add_row(*(markup(v) for v in (
            s["id"], s["system"], s["level"], s["scanned_at"] + (" (partial)" if s["partial"] else ""),
            "/".join(str(c.get(k, 0)) for k in ("compliant", "partial", "non_compliant", "error", "manual",
                                                "not_applicable")),
            f"{f.get('fail', 0)}/{f.get('error', 0)}/{f.get('pass', 0)}", s["bundle_path"])))
    con = _console()
    con.print(t)
    if not scans:
        con.print("no scans recorded" + (fmt(" for system {}", repr(args.system)) if args.system else ""))
    if assessed:
        t = Table(title="Completed level assessments 等级测评记录")
        for col in ("system", "date 日期", "firm 测评机构", "report 报告编号", "conclusion 结论", "certificate 备案证明", "level"):
            t.add_column(col, overflow="fold")
        for a in assessed:
            t.add_row(*(markup(v) for v in (
                a["system"], a["assessed_on"], a["firm"], a["report_no"], a["conclusion"] or "-",
                (a["certificate_no"] or "-") + (f" (filed {a['filing_date']})" if a["filing_date"] else ""),
                a["level"] or "-")))
        con.print(t)
    return 0


def _history_assessed(args) -> int:
    from .history import History
    if args.bundle:
        raise InputError("history assessed: takes no bundle; pass --system, --date, --firm and --report-no")
    missing = [f"--{k.replace('_', '-')}" for k in ("system", "date", "firm", "report_no") if not getattr(args, k)]
    if missing:
        raise InputError(f"history assessed: {', '.join(missing)} required (the system, the report's date, the "
                         "assessment institution and the report number)")
    if args.date > date.today():
        raise InputError(f"history assessed: --date {args.date} is in the future: record an assessment once it is completed")
    if args.filing_date and args.filing_date > date.today():
        raise InputError(f"history assessed: --filing-date {args.filing_date} is in the future")
    with History(args.history) as h:
        aid, new = h.record_assessment(
            system=args.system, assessed_on=args.date.isoformat(), firm=args.firm, report_no=args.report_no,
            conclusion=args.conclusion, certificate_no=args.certificate_no, level=args.level,
            filing_date=args.filing_date.isoformat() if args.filing_date else None)
        path = h.path
    print(plain(("recorded" if new else "already recorded") + f" assessment #{aid} of {args.system} ({args.date}, "
                f"{args.firm}, report {args.report_no}) in {path}"))
    return 0


# --------------------------------------------------------------------------- diff


def cmd_diff(args) -> int:
    from .diff import diff
    d = diff(args.old, args.new)
    code = 1 if (args.fail_on_regression and d["regressed"]) else 0
    if args.format == "json":
        _print_json(d)
        return code
    from rich.table import Table
    con = _console()
    s = d["summary"]
    con.print(fmt("[bold]{}[/]: {} (L{}) → {} (L{})", d['old']['system'], d['old']['scanned_at'], d['old']['level'],
                  d['new']['scanned_at'], d['new']['level']))
    con.print(fmt("new failures {}, fixed {}, resolved (resource gone) {}, new errors {}; controls regressed {}, "
                  "improved {}; assets +{} -{}", s['new_failures'], s['fixed'], s['resolved_resource_gone'],
                  s['new_errors'], s['controls_regressed'], s['controls_improved'], s['assets_added'], s['assets_removed']))
    for n in d["notes"]:
        con.print(fmt("[yellow]note: {}[/]", n))
    if d["controls_changed"]:
        t = Table(title="Controls whose status changed 状态变化的测评项")
        for col in ("control", "old", "new", "change", "title"):
            t.add_column(col, overflow="fold")
        for c in d["controls_changed"]:
            style = "red" if c["change"] == "regressed" else "green" if c["change"] == "improved" else ""
            t.add_row(markup(c["control_id"]), markup(c["old"]), markup(c["new"]),
                      f"[{style}]{markup(c['change'])}[/]" if style else markup(c["change"]), markup(c["title"] or ""))
        con.print(t)
    for key, title in (("new_failures", "New failures 新增不符合"), ("fixed", "Fixed 已整改"),
                       ("resolved_resource_gone", "Failing resources no longer present"), ("new_errors", "New errors (evidence missing)")):
        if d[key]:
            t = Table(title=title)
            for col in ("check", "resource", "controls", "message"):
                t.add_column(col, overflow="fold")
            for f in d[key]:
                t.add_row(markup(f["check_id"]), markup(f.get("resource_name") or f["resource_id"]),
                          markup(", ".join(map(str, f["controls"]))), markup(f["message"] or ""))
            con.print(t)
    for key, title in (("assets_added", "Assets added 新增资产"), ("assets_removed", "Assets removed 移除资产")):
        if d[key]:
            t = Table(title=title)
            for col in ("type", "id", "name"):
                t.add_column(col, overflow="fold")
            for a in d[key]:
                t.add_row(markup(a["type"]), markup(a["id"]), markup(a["name"] or ""))
            con.print(t)
    return code


# --------------------------------------------------------------------------- renewal


def cmd_renewal(args) -> int:
    from .history import History
    from .renewal import STATUS_EXIT, renewal
    today = args.today or date.today()
    jobs: list[dict[str, Any]] = []
    with History(args.history, create=False) as h:
        scans = h.scans(args.system)
        register = h.assessments(args.system)
        path = h.path

    def recorded(system: str | None) -> list[dict]:
        return [a for a in register if a["system"] == system]

    if args.filing_date or (args.assessed and args.level):
        level = args.level
        system = args.system
        if level is None:
            if not scans:
                raise InputError("renewal: no --level given and no recorded scan to take it from")
            level, system = scans[-1]["level"], scans[-1]["system"]
        jobs.append({"system": system, "level": level, "filing_date": args.filing_date, "source": "command line",
                     "register": recorded(system) if system else []})
    else:
        if not scans and not register:
            raise InputError(f"renewal: no recorded scans or assessments{' for ' + repr(args.system) if args.system else ''} "
                             f"in {path}; pass --filing-date and --level, or record one with `history assessed`")
        latest: dict[str, dict] = {}
        for s in scans:
            latest[s["system"]] = s
        for name in sorted(set(latest) | {a["system"] for a in register}):
            s, regs = latest.get(name), recorded(name)
            level = args.level or next((a["level"] for a in reversed(regs) if a["level"]), None) or (s or {}).get("level")
            filing = next((a["filing_date"] for a in reversed(regs) if a["filing_date"]), None) or (s or {}).get("filing_date")
            if level is None:
                raise InputError(f"renewal: no level known for {name!r}: pass --level or record it with "
                                 "`history assessed --level`")
            src = [f"history scan #{s['id']} ({s['scanned_at']})"] if s else []
            src += [f"{len(regs)} recorded assessment(s)"] if regs else []
            jobs.append({"system": name, "level": level, "filing_date": date.fromisoformat(filing) if filing else None,
                         "source": "; ".join(src), "register": regs})
        if args.assessed and len(jobs) > 1:
            raise InputError("renewal: --assessed needs one system: pass --system NAME")
    for j in jobs:
        regs = j.pop("register")
        j["assessed"] = sorted({*args.assessed, *(date.fromisoformat(a["assessed_on"]) for a in regs)})
        certs = [a["certificate_no"] for a in regs if a["certificate_no"]]
        if certs:
            j["certificate_no"] = certs[-1]
        if regs:
            j["last_assessment"] = {k: regs[-1][k] for k in ("assessed_on", "firm", "report_no", "conclusion")}
    results = []
    for j in jobs:
        if j["filing_date"] is None and not j["assessed"]:
            results.append({**j, "assessed": [], "filing_date": None, "status": "unknown", "exit_code": 0,
                            "message": "no filing date recorded (set system.filing_date in scan.yaml or pass --filing-date)"})
            continue
        try:
            r = renewal(level=j["level"], filing_date=j["filing_date"], today=today, assessments=j["assessed"],
                        warn_days=args.warn_days, cycle_months=args.cycle_months)
        except ValueError as e:
            raise InputError(f"renewal: {e}") from None
        results.append({**j, "assessed": [d.isoformat() for d in j["assessed"]],
                        "filing_date": j["filing_date"].isoformat() if j["filing_date"] else None, **r})
    if all(r["status"] == "unknown" for r in results):
        raise InputError(f"renewal: {results[0]['message']}")
    code = max(r["exit_code"] for r in results)
    worst = next(k for k, v in STATUS_EXIT.items() if v == code)
    if args.format == "json":
        _print_json({"today": today.isoformat(), "status": worst, "exit_code": code, "systems": results})
        return code
    from rich.table import Table
    t = Table(title=f"Renewal 复测与备案有效期 (today {today}, warning window {args.warn_days} days)")
    for col in ("system", "level", "next assessment due", "filing certificate valid through", "status"):
        t.add_column(col, overflow="fold")
    for r in results:
        if r["status"] == "unknown":
            t.add_row(markup(r["system"]), markup(r["level"]), markup(r["message"]), "", "unknown")
            continue
        a, c = r["assessment"], r["certificate"]
        cert_no = f"No. {r['certificate_no']}: " if r.get("certificate_no") else ""
        t.add_row(markup(r["system"] or "-"), markup(r["level"]),
                  markup(f"{a['due']} ({a['days_left']} days; {a['kind']} every {a['cycle_months']} months from "
                         f"{a['from_kind']} {a['from']})"),
                  markup((f"{cert_no}{c['expires']} ({c['days_left']} days; {c['completed_assessments']} completed "
                          f"assessment(s); extension from {c['extension_window_opens']})"
                          + (f"; lapsed on {c['lapsed_on']}: assessment(s) {', '.join(c['not_extending'])} came after "
                             "it and do not extend it, apply again" if c.get("lapsed_on") else "")) if c
                         else "not filed (level 1)" if r["level"] < 2 else "filing date unknown (pass --filing-date)"),
                  markup(r["status"]))
    con = _console()
    con.print(t)
    if any(r.get("certificate") for r in results):
        from .renewal import CERT_BASIS
        con.print(f"[dim]certificate: per {CERT_BASIS}; filings before 2025-01-01 count from 2025-01-01[/]")
    for r in results:
        future = (r.get("assessment") or {}).get("ignored_future_dates")
        if future:
            con.print(fmt("[yellow]{}: assessment date(s) after today ignored: {}[/]", r['system'] or '-', ', '.join(future)))
    con.print(f"exit {code}: 0 ok, 1 due within {args.warn_days} days, 5 overdue")
    return code


COMMANDS: dict[str, Callable[[Any], int]] = {
    "questionnaire": cmd_questionnaire,
    "grade": cmd_grade,
    "history": cmd_history,
    "diff": cmd_diff,
    "renewal": cmd_renewal,
}


def record_scan(out: Path, args, sample: bool = False) -> None:
    """After a successful `scan`: add the bundle to the history (a failure here warns; the scan stands). A
    demonstration estate (`system.sample: true`, the built-in sample) is recorded only into a history file
    named with --history, never into the user's real one."""
    if getattr(args, "no_history", False):
        return
    if sample and not getattr(args, "history", None):
        if not getattr(args, "quiet", False):
            _console().print("[dim]sample estate: not recorded in the scan history (pass --history FILE to record it)[/]")
        return
    from .errors import MlpsError
    from .history import record_after_scan
    try:
        path, sid, _ = record_after_scan(out, getattr(args, "history", None))
    except (MlpsError, OSError) as e:
        print(f"mlps-scan: warning: scan not recorded in the history: {plain(e)}", file=sys.stderr)
        return
    if not getattr(args, "quiet", False):
        _console().print(fmt("[dim]recorded as scan #{} in {}[/]", sid, path))
