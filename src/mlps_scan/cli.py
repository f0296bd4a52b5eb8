"""Command line: scan, collect, check, controls, verify, schemas; questionnaire, grade, history, diff, renewal
(the consultant workflow, in workflow.py).

Exit codes: 0 no failure outside active waivers and no missing evidence; 1 a failure no waiver covers (or a bundle
failed verification); 2 usage or input error; 3 partial scan (some evidence could not be collected); 4 internal
error.
"""
from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence

from . import __version__
from .errors import InputError, MlpsError

log = logging.getLogger("mlps_scan")


class _Parser(argparse.ArgumentParser):
    """argparse that answers bad usage with one line and exit 2 (no usage dump)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message} (see {self.prog.split()[0]} --help)")


def _level(v: str) -> int:
    try:
        n = int(v)
    except ValueError:
        n = 0
    if n not in (1, 2, 3):
        raise argparse.ArgumentTypeError(f"unknown level {v!r}: mlps-scan covers levels 1, 2 and 3")
    return n


def _date(v: str):
    from datetime import date
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {v!r}") from None


def _shard(v: str) -> tuple[int, int]:
    k, sep, n = v.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n) <= 100000):
        raise argparse.ArgumentTypeError(f"{v!r} is not K/N with 1 <= K <= N (e.g. 2/4: the second of four shards)")
    return int(k), int(n)


def _target_key(v: str) -> str:
    c, sep, name = v.partition("/")
    if not (sep and c and name):
        raise argparse.ArgumentTypeError(f"{v!r} is not COLLECTOR/NAME (e.g. hosts/idc-shanghai, aws/prod)")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="mlps-scan", description="Evidence-first MLPS 2.0 (等级保护 2.0) technical pre-assessment.")
    p.add_argument("--version", action="version", version=f"mlps-scan {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)

    def out_opts(sp):
        sp.add_argument("--out", required=True, type=Path, help="output folder (the bundle)")
        sp.add_argument("--force", action="store_true", help="replace a non-empty --out that is not a bundle")
        sp.add_argument("--no-zip", action="store_true", help="do not write bundle.zip (the folder is the bundle)")
        sp.add_argument("--sign-key", type=Path, help="Ed25519 private key (PEM) to sign the manifest with")

    def eval_opts(sp):
        sp.add_argument("--level", type=_level, help="MLPS level 1-3 (default: system.level of the config)")
        sp.add_argument("--profile", type=Path, help="YAML file overriding the level's thresholds")
        sp.add_argument("--fail-on", choices=["any", "fail", "error", "high-risk", "never"], default="any",
                        help="which outcomes give a non-zero exit: any (default: 1 failures no waiver covers, 3 partial), "
                             "fail, error, high-risk (1 when high-risk cases are not ruled out by an assessor), never")
        sp.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD",
                        help="judge waivers and attestations as of this date (default: today)")
        sp.add_argument("--checks", action="append", metavar="IDS",
                        help="run only these checks (comma-separated ids or patterns such as 'aws.iam.*'; repeatable)")
        sp.add_argument("--skip-checks", action="append", metavar="IDS", help="leave these checks out (ids or patterns)")
        sp.add_argument("--severity", action="append", metavar="LIST",
                        help="run only checks of these severities (comma-separated: low, medium, high, critical)")

    def shard_opts(sp):
        sp.add_argument("--shard", type=_shard, metavar="K/N",
                        help="scan the K-th of N parts of the config's units (accounts x regions, clusters, host "
                             "addresses or /24 chunks, static files); `merge` joins the N bundles")
        sp.add_argument("--only", type=_target_key, action="append", metavar="COLLECTOR/NAME",
                        help="scan only this target (repeatable), e.g. the network zone this runner reaches")

    def noise(sp):
        sp.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
        sp.add_argument("--progress", choices=["auto", "rich", "jsonl", "none"], default="auto",
                        help="progress display on stderr: one line per target with calls, assets and errors "
                             "(auto: on a terminal only; jsonl: one JSON object per event, for CI)")
        sp.add_argument("--lang", choices=["zh", "en"], help="language of the summary (default: from the locale)")

    sp = sub.add_parser("scan", help="collect evidence, evaluate the level, write the bundle")
    sp.add_argument("--config", required=True, type=Path, help="scan.yaml")
    out_opts(sp); eval_opts(sp); noise(sp); shard_opts(sp)
    sp.add_argument("--tofu", action="store_true", help="trust SSH host keys on first use (recorded in evidence)")
    sp.add_argument("--no-history", action="store_true", help="do not record this scan in the history")
    sp.add_argument("--history", help="history file (default: $MLPS_SCAN_HISTORY or the user data dir)")

    sp = sub.add_parser("collect", help="collect evidence and inventory only (no evaluation)")
    sp.add_argument("--config", required=True, type=Path)
    out_opts(sp); noise(sp); shard_opts(sp)
    sp.add_argument("--tofu", action="store_true", help="trust SSH host keys on first use (recorded in evidence)")

    sp = sub.add_parser("check", help="re-evaluate a bundle offline, without credentials")
    sp.add_argument("bundle", type=Path)
    eval_opts(sp); noise(sp)
    sp.add_argument("--out", type=Path, help="write a new bundle with the re-evaluated results")
    sp.add_argument("--force", action="store_true")
    sp.add_argument("--no-zip", action="store_true")
    sp.add_argument("--sign-key", type=Path)
    sp.add_argument("--format", choices=["table", "json"], default="table")
    sp.add_argument("--waivers", type=Path, metavar="FILE",
                    help="a static file with `waivers:` that replaces the bundle's waivers (recorded as evidence in --out)")

    sp = sub.add_parser("merge", help="merge the shard bundles of one config (or scans of one system) and evaluate")
    sp.add_argument("bundles", nargs="+", type=Path)
    sp.add_argument("--allow-partial", action="store_true",
                    help="merge although some units were scanned by no shard: their checks are then error")
    sp.add_argument("--no-history", action="store_true", help="do not record the merged shards in the history")
    sp.add_argument("--history", help="history file (default: $MLPS_SCAN_HISTORY or the user data dir)")
    sp.add_argument("--out", required=True, type=Path)
    sp.add_argument("--force", action="store_true")
    sp.add_argument("--no-zip", action="store_true")
    sp.add_argument("--sign-key", type=Path)
    eval_opts(sp)
    sp.add_argument("-q", "--quiet", action="store_true")
    sp.add_argument("--lang", choices=["zh", "en"], help="language of the summary (default: from the locale)")

    sp = sub.add_parser("controls", help="list the control catalogue of a level")
    sp.add_argument("--level", type=_level, required=True)
    sp.add_argument("--format", choices=["table", "json"], default="table")
    sp.add_argument("--area", help="only this area code (e.g. CES)")

    sp = sub.add_parser("verify", help="recompute a bundle's hashes (and signature); non-zero on any change")
    sp.add_argument("bundle", type=Path)
    sp.add_argument("--public-key", type=Path, help="the signer's Ed25519 public key (PEM) to require")

    sp = sub.add_parser("export", help="the results of a bundle that verifies as CSV, JUnit XML, SARIF 2.1.0 or OCSF")
    sp.add_argument("bundle", type=Path)
    sp.add_argument("--format", required=True, choices=["csv", "junit", "sarif", "ocsf"])
    sp.add_argument("-o", "--output", required=True, help="file to write (- for stdout)")
    sp.add_argument("--controls", action="store_true", help="CSV: one row per control instead of per finding")
    sp.add_argument("--lang", choices=["zh", "en"], help="language of messages (default: from the locale)")

    sp = sub.add_parser("workbook", help="the assessment workbook (xlsx): `workbook export BUNDLE -o record.xlsx`, "
                                         "`workbook import record.xlsx -o assessor.yaml`")
    sp.add_argument("action", choices=["export", "import"])
    sp.add_argument("source", type=Path, help="export: the bundle; import: the filled workbook")
    sp.add_argument("-o", "--output", required=True, type=Path, help="export: record.xlsx; import: assessor.yaml")
    sp.add_argument("--lang", choices=["zh", "en"], help="export: language of the cells (default: from the locale; "
                                                         "headers are Chinese with English beside)")
    sp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    sp.add_argument("--today", type=_date_arg, help=argparse.SUPPRESS)

    sp = sub.add_parser("schemas", help="write the JSON Schemas of the output files")
    sp.add_argument("--out", type=Path, default=Path("schemas"))

    sp = sub.add_parser("checks", help="list the checks and the controls they evidence")
    sp.add_argument("--level", type=_level)
    sp.add_argument("--format", choices=["table", "json"], default="table")

    from .workflow import add_parsers  # questionnaire, grade, history, diff, renewal
    add_parsers(sub)
    return p


# --------------------------------------------------------------------------- helpers


def _console(stderr: bool = False):
    from .terminal import console
    return console(stderr)


_CONTROL_COLUMNS = ("compliant", "partial", "non_compliant", "error", "manual", "not_applicable")


def _warn_plugin_failures() -> None:
    """A plugin that failed to load is named on stderr (also with --quiet): its checks did not run."""
    from .plugins import plugin_failures
    from .terminal import plain
    for p in plugin_failures(load=False):
        what = (f"the controls of its checks ({', '.join(sorted(p.checks))}) are marked error" if p.checks
                else "its checks did not run" if p.group == "mlps_scan.checks" else "its targets cannot be scanned")
        print(plain(f"mlps-scan: plugin {p.name} ({p.group}: {p.value}) failed to load: {p.error}; {what}"), file=sys.stderr)


def _print_summary(controls, findings, out: Path | None, quiet: bool, partial: bool, assessment=None,
                   lang: str = "en", why: list[str] | None = None) -> None:
    """Why a partial scan is partial (stderr, one line per target and cause, even with --quiet), then the counts
    and the assessment's verdict lines."""
    from rich.text import Text

    from .lang import STATUS, label
    from .terminal import markup, plain
    if why:  # plain lines, never wrapped: one per target and cause
        err = _console(stderr=True)
        err.print(Text("部分证据未能采集（扫描不完整）：" if lang == "zh" else "partial scan: evidence not collected:",
                       style="bold yellow"), soft_wrap=True)
        for line in why:
            err.print(Text("  " + plain(line)), soft_wrap=True)
    if quiet:
        return
    from rich.table import Table
    con = _console()
    cc = Counter(c.status.value for c in controls)
    fc = Counter(f.status.value for f in findings)
    waived = sum(1 for f in findings if f.waiver is not None)
    t = Table(title="测评项 Controls" if lang == "zh" else "Controls 测评项", show_header=True)
    for k in _CONTROL_COLUMNS:  # English: the status names of controls.json
        t.add_column(label(STATUS, k, lang) if lang == "zh" else k)
    t.add_row(*(str(cc.get(k, 0)) for k in _CONTROL_COLUMNS))
    con.print(t)
    if lang == "zh":
        con.print(f"检查结果：{fc.get('fail', 0)} 不通过" + (f"（其中 {waived} 项已豁免）" if waived else "")
                  + f"，{fc.get('error', 0)} 无法评估，{fc.get('pass', 0)} 通过，{fc.get('not_applicable', 0)} 不适用"
                  + ("  [bold yellow]（扫描不完整）[/]" if partial else ""))
    else:
        con.print(f"findings: {fc.get('fail', 0)} fail" + (f" ({waived} waived)" if waived else "")
                  + f", {fc.get('error', 0)} error, {fc.get('pass', 0)} pass, "
                  f"{fc.get('not_applicable', 0)} not applicable" + ("  [bold yellow](partial scan)[/]" if partial else ""))
    if assessment is not None:
        for line in verdict_lines(assessment):
            con.print(markup(line))
    if out:
        con.print(Text(plain(f"{'证据包' if lang == 'zh' else 'bundle'}: {out}  {'报告' if lang == 'zh' else 'report'}: "
                             f"{out / 'report.html'}")), soft_wrap=True)


def verdict_lines(a) -> list[str]:
    """The assessment in three lines for the terminal: rate and conclusion ranges, high-risk candidates,
    decisions."""
    from .models import HIGH_RISK_STATE_ZH, WAIVER_STATUS_ZH

    def rng(lo, hi, fmt):
        if lo is None:
            return "—"
        return fmt(lo) if hi is None or fmt(lo) == fmt(hi) else f"{fmt(lo)} … {fmt(hi)}"
    rate = rng(a.compliance_rate.low, a.compliance_rate.high, lambda v: f"{v:.1f} %")
    concl = rng(a.conclusion.low, a.conclusion.high, lambda c: f"{c.zh} {c.en}")
    majors = sum(h.major for h in a.high_risks)
    ws = Counter(w.status for w in a.waivers)
    ruled = Counter(h.state for h in a.high_risks if h.state != "candidate")
    lines = [f"符合率 compliance rate: {rate}; conclusion 结论: {concl}"
             + (" (provisional 暂定)" if a.rule.provisional else "") + f" [as of {a.as_of}]",
             f"high-risk candidates 疑似高风险: {len(a.high_risks)}"
             + (f" ({majors} may be 重大风险隐患 major: {', '.join(h.case_id for h in a.high_risks if h.major)})" if majors else "")
             + (f"; cases {', '.join(h.case_id for h in a.high_risks)}" if a.high_risks and not majors else "")
             + ("; ruled by the assessor 已判定: " + ", ".join(f"{n} {k} {HIGH_RISK_STATE_ZH[k]}"
                                                            for k, n in sorted(ruled.items())) if ruled else "")]
    decisions = []
    if a.waivers:
        decisions.append("waivers 豁免: " + ", ".join(f"{n} {k} {WAIVER_STATUS_ZH.get(k, '')}".rstrip()
                                                     for k, n in sorted(ws.items())))
    if a.counts.get("not_applicable"):
        decisions.append(f"不适用 not applicable: {a.counts['not_applicable']}")
    stale = [x.id for x in a.attestations if x.state != "counted"]
    if stale:
        decisions.append(f"attestations not counted 未采信的现场记录: {len(stale)}")
    if decisions:
        lines.append("; ".join(decisions))
    return lines


# --------------------------------------------------------------------------- commands


def _selection(args):
    from .selection import Selection
    return Selection.from_args(getattr(args, "checks", None), getattr(args, "skip_checks", None),
                               getattr(args, "severity", None))


def cmd_scan(args, evaluate_level: bool = True) -> int:
    from . import pipeline

    from .lang import resolve
    from .terminal import ScanProgress
    selection = _selection(args) if evaluate_level else None
    with ScanProgress(args.progress, args.quiet) as prog:
        res = pipeline.scan(args.config, out=args.out, level=getattr(args, "level", None),
                            profile_path=getattr(args, "profile", None), evaluate_level=evaluate_level,
                            force=args.force, zip_bundle=not args.no_zip, sign_key=args.sign_key,
                            tofu=bool(getattr(args, "tofu", False)), progress=prog, as_of=getattr(args, "as_of", None),
                            selection=selection, shard=getattr(args, "shard", None),
                            only=getattr(args, "only", None))
    if isinstance(res, pipeline.Collected):
        from .terminal import fmt
        if res.why:
            _print_summary([], [], None, True, True, None, resolve(args.lang), res.why)
        if not args.quiet:
            _console().print(fmt("collected {} assets, {} evidence records", res.assets, res.evidence)
                             + (" (partial)" if res.partial else "") + fmt(" -> {}", res.out))
        return 3 if res.partial else 0
    _print_summary(res.controls, res.findings, res.out, args.quiet, res.partial, res.assessment, resolve(args.lang),
                   res.extra.get("why_partial"))
    if not (getattr(args, "shard", None) or getattr(args, "only", None)):  # a part: its merge is the system's scan
        from .workflow import record_scan
        record_scan(res.out, args, sample=bool(res.extra.get("sample")))
    return _exit(res, args.fail_on)


def _exit(res, fail_on: str) -> int:
    from .runner import exit_code
    open_cases = sum(h.state in ("candidate", "confirmed") for h in res.assessment.high_risks) if res.assessment else 0
    return exit_code(res.findings, res.partial, fail_on, high_risks=open_cases)


def cmd_check(args) -> int:
    from . import pipeline

    res = pipeline.check(args.bundle, level=args.level, profile_path=args.profile, out=args.out, force=args.force,
                         zip_bundle=not args.no_zip, sign_key=args.sign_key, waivers=args.waivers, as_of=args.as_of,
                         selection=_selection(args))
    if args.format == "json":
        from .terminal import json_text
        print(json_text({"level": res.level, "partial": res.partial, "why_partial": res.extra.get("why_partial") or [],
                         "controls": [c.model_dump(mode="json") for c in res.controls],
                         "findings": [f.model_dump(mode="json") for f in res.findings],
                         "assessment": res.assessment.model_dump(mode="json") if res.assessment else None}))
    else:
        from .lang import resolve
        _print_summary(res.controls, res.findings, res.out, args.quiet, res.partial, res.assessment,
                       resolve(args.lang), res.extra.get("why_partial"))
    return _exit(res, args.fail_on)


def cmd_merge(args) -> int:
    from . import pipeline

    res = pipeline.merge(args.bundles, out=args.out, level=args.level, profile_path=args.profile, force=args.force,
                         zip_bundle=not args.no_zip, sign_key=args.sign_key, as_of=args.as_of,
                         selection=_selection(args), allow_partial=args.allow_partial)
    from .lang import resolve
    _print_summary(res.controls, res.findings, res.out, args.quiet, res.partial, res.assessment, resolve(args.lang),
                   res.extra.get("why_partial"))
    if res.manifest is not None and res.manifest.shard is not None:  # the system's bundle made of its shards
        from .workflow import record_scan
        record_scan(res.out, args, sample=bool(res.extra.get("sample")))
    return _exit(res, args.fail_on)


def cmd_controls(args) -> int:
    from .catalogue import load
    from .plugins import checks_by_control
    cat = load()
    ctrls = [c for c in cat.for_level(args.level) if not args.area or c.area == args.area.upper()]
    if args.area and not ctrls:
        raise InputError(f"unknown area {args.area!r}: choose from {', '.join(cat.areas)}")
    by_control = checks_by_control(args.level)
    if args.format == "json":
        # per item, the checks that evidence it and what each shows for it (a consultant reviews the mapping here)
        from .terminal import json_text
        print(json_text([{**c.model_dump(mode="json"), "checks": [
            {"id": s.id, "title": s.title.model_dump(), "shows": s.shows[c.id].model_dump() if c.id in s.shows else None}
            for s in by_control.get(c.id, [])]} for c in ctrls]))
        return 0
    from rich.table import Table

    from .terminal import cell
    t = Table(title=f"GB/T 22239-2019 level {args.level}: {len(ctrls)} test items (≈ = derived id, not official)")
    for col in ("id", "clause", "control point 控制点", "requirement 要求", "automation", "checks"):
        t.add_column(col, overflow="fold")
    for c in ctrls:
        specs = by_control.get(c.id, [])
        shown = "\n".join(s.id + (f": {s.shows[c.id].en}" if c.id in s.shows else "") for s in specs)
        if not specs and c.manual_reason:
            shown = f"manual: {c.manual_reason.en}"
        t.add_row(*(cell(x) for x in (("≈ " if c.id_basis == "derived" else "") + c.id, c.clause,
                  f"{c.control_point.en}\n{c.control_point.zh}", f"{c.title.en}\n{c.title.zh}", c.automation.value)),
                  cell(shown))  # check texts may come from plugins: printed as written
    _console().print(t)
    return 0


def cmd_checks(args) -> int:
    from .plugins import checks
    specs = sorted(checks().values(), key=lambda s: s.id)
    if args.level:
        specs = [s for s in specs if s.controls_for(args.level)]
    if args.format == "json":
        from .terminal import json_text
        print(json_text([{"id": s.id, "title": s.title.model_dump(), "controls": s.controls, "asset_type": s.asset_type,
                           "reads": s.reads, "params": s.params, "severity": s.severity,
                           "remediation": s.remediation.model_dump() if s.remediation else None,
                           "shows": {cid: text.model_dump() for cid, text in s.shows.items()},
                           "high_risk": [t.model_dump() for t in s.high_risk]} for s in specs]))
        return 0
    from rich.table import Table

    from .terminal import cell
    t = Table(title=f"{len(specs)} checks")
    for col in ("id", "title", "asset type", "controls"):
        t.add_column(col, overflow="fold")
    for s in specs:
        ctl = "; ".join(f"L{k}: {', '.join(v)}" for k, v in sorted(s.controls.items()) if not args.level or k == args.level)
        t.add_row(cell(s.id), cell(f"{s.title.en}\n{s.title.zh}"), cell(s.asset_type), cell(ctl))
    _console().print(t)
    return 0


def cmd_verify(args) -> int:
    from .bundle import verify
    from .terminal import plain
    v = verify(args.bundle, args.public_key)
    if v.problems:
        for p in v.problems[:50]:
            print(f"FAIL {plain(p)}", file=sys.stderr)
        if len(v.problems) > 50:
            print(f"FAIL ... and {len(v.problems) - 50} more", file=sys.stderr)
        print(f"mlps-scan: verify: {plain(args.bundle)}: {len(v.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"OK {plain(args.bundle)}: every file matches manifest.json, and the manifest's summary matches the files; "
          f"{_signature_line(args.bundle, args.public_key, v)}")
    if v.zip_sha256:
        print(f"bundle.zip sha256 {v.zip_sha256} (compare with the value sent with the bundle)")
    return 0


def _signature_line(bundle: Path, public_key: Path | None, v) -> str:
    """What `verify` did about the signature, said plainly: which key, and whether that key was one the user
    named (--public-key) or only the one the manifest carries (which proves integrity, not who signed)."""
    from .terminal import plain
    if not v.signed:
        return ("not signed: no signature was checked (UNSIGNED: anyone who can edit this bundle can also rewrite "
                "its hashes; only a signature, scan --sign-key and verify --public-key, shows who made it)")
    fp = plain(v.key_fingerprint or "?")
    if public_key:
        return f"Ed25519 signature checked against --public-key {plain(public_key)} (key fingerprint {fp})"
    return (f"Ed25519 signature checked against the key the manifest names (key fingerprint {fp}); "
            "pass --public-key to require a known signer")


def cmd_export(args) -> int:
    from . import export
    from .lang import resolve
    from .terminal import plain
    text, r = export.render(args.bundle, args.format, controls=args.controls, lang=resolve(args.lang))
    path = export.write(text, args.output)
    if path is not None:
        what = "controls" if args.controls else "findings"
        n = len(r.controls) if args.controls else len(r.findings)
        print(plain(f"wrote {path} ({args.format}, {n} {what} of {r.system} level {r.level})"), file=sys.stderr)
    return 0


def _date_arg(v: str):
    from datetime import date
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {v!r}") from None


def cmd_workbook(args) -> int:
    from . import workbook
    from .lang import resolve
    from .terminal import plain
    if args.action == "export":
        path, n = workbook.export(args.source, args.output, lang=resolve(args.lang), force=args.force)
        print(plain(f"wrote {path}: {n} rows on sheet {workbook.S_RECORD}"), file=sys.stderr)
        return 0
    imp = workbook.read_workbook(args.source, today=args.today)
    path = workbook.write_attestations(imp, args.source, args.output, force=args.force)
    print(plain(f"wrote {path}: {len(imp.attestations)} attestation(s) from {imp.rows} rows of {args.source}"
                + ("" if imp.attestations else " (no row was filled: 符合程度 still 待核查)")
                + "; list it under `static:` in scan.yaml"), file=sys.stderr)
    return 0


def cmd_schemas(args) -> int:
    from .schemas import write_schemas
    from .terminal import plain
    for p in write_schemas(args.out):
        print(plain(p))
    return 0


COMMANDS: dict[str, Callable[[Any], int]] = {
    "scan": cmd_scan,
    "collect": lambda a: cmd_scan(a, evaluate_level=False),
    "check": cmd_check,
    "merge": cmd_merge,
    "controls": cmd_controls,
    "checks": cmd_checks,
    "verify": cmd_verify,
    "export": cmd_export,
    "workbook": cmd_workbook,
    "schemas": cmd_schemas,
}
from .workflow import COMMANDS as _WORKFLOW_COMMANDS  # noqa: E402

COMMANDS.update(_WORKFLOW_COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    from .terminal import configure_logging, plain
    configure_logging(debug)
    try:
        args = build_parser().parse_args(argv)
        if not args.cmd:
            raise InputError("no command given: try `mlps-scan scan --config scan.yaml --level 3 --out out/` or --help")
        code = COMMANDS[args.cmd](args)
        _warn_plugin_failures()
        return code
    except MlpsError as e:
        print(f"mlps-scan: {plain(e)}", file=sys.stderr)
        _warn_plugin_failures()
        return e.exit_code
    except KeyboardInterrupt:
        print("mlps-scan: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - no tracebacks for users; --debug shows them
        if debug:
            raise
        print(f"mlps-scan: internal error: {type(e).__name__}: {plain(e)} (rerun with --debug for details)", file=sys.stderr)
        return 4
