"""The pipeline: collect (collectors -> evidence + inventory), evaluate (checks -> findings), aggregate
(findings -> one result per control of the level). The engine holds no service-specific rule."""
from __future__ import annotations

import logging
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable, NamedTuple

from .catalogue import Catalogue
from .errors import InputError
from .evidence import Recorder
from .models import (Automation, Bilingual, Control, ControlResult, ControlStatus, EvidenceStatus, Finding,
                     FindingStatus, Inventory, NotApplicable, Profile, utcnow)
from .plugins import CheckContext, CheckSpec, CollectSession, EvidenceMissing, Verdict, checks, plugin_failures

log = logging.getLogger("mlps_scan")


@dataclass(frozen=True)
class ShardSelection:
    """A shard's part of a config: `--shard K/N` over the units of the targets `--only` names (all of them
    when it names none). Units are taken in config order (collectors by name, targets as written, each
    target's units in its collector's order) and cut into N contiguous runs, so one account's regions or one
    network's addresses mostly stay in one shard."""

    index: int = 1
    count: int = 1
    only: tuple[str, ...] = ()

    def __post_init__(self):
        if not 1 <= self.index <= self.count:
            raise InputError(f"--shard {self.index}/{self.count}: K must be between 1 and N")

    def pick(self, units: list[str]) -> list[str]:
        m = len(units)
        return units[(self.index - 1) * m // self.count: self.index * m // self.count]

    @property
    def salt(self) -> str:
        return f"shard {self.index}/{self.count}" + (f" only {','.join(self.only)}" if self.only else "")


@dataclass
class ShardPlan:
    targets: dict[str, list[str] | None]  # every target key -> its units (None: --only left it out)
    covered: list[str]  # the units this shard collects


def list_units(coll, target, s: CollectSession) -> list[str]:
    """The collector's units of a target; a collector that cannot list them gets its target as one unit
    (its collect() then meets the same trouble and records it)."""
    key = coll.target_key(target)
    try:
        units = [str(u) for u in coll.units(target, s)]
    except Exception as e:  # noqa: BLE001 - listing units must not take the scan down
        log.debug("units of %s failed: %s", key, traceback.format_exc())
        log.warning("%s: cannot list its units (%s: %s); it is one unit", key, type(e).__name__, e)
        return [key]
    bad = [u for u in units if u != key and not u.startswith(key + "/")]
    if bad or not units or len(set(units)) != len(units):
        log.warning("%s: collector %s listed unusable units %s; the target is one unit", key, coll.name, bad[:3] or units[:3])
        return [key]
    return units


def plan_shard(jobs: list[tuple[Any, Any, CollectSession]], selection: ShardSelection) -> tuple[ShardPlan, list]:
    """Which units of which targets this shard collects: sets each kept session's `units` (None when it holds
    the whole target) and returns the plan with the jobs that have something to collect."""
    keys = [coll.target_key(t) for coll, t, _ in jobs]
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            raise InputError(f"two targets are named {k}: give each target its own name to shard the scan")
        seen.add(k)
    unknown = [o for o in selection.only if o not in seen]
    if unknown:
        raise InputError(f"--only {unknown[0]}: no such target in the config (targets: {', '.join(keys) or 'none'})")
    listed: dict[str, list[str] | None] = {}
    for (coll, t, s), key in zip(jobs, keys):
        if selection.only and key not in selection.only:
            listed[key] = None
            continue
        s.progress("listing units")
        listed[key] = list_units(coll, t, s)
    order = [u for k in keys for u in (listed[k] or [])]
    mine = set(selection.pick(order))
    kept = []
    for (coll, t, s), key in zip(jobs, keys):
        units = listed[key]
        sel = [u for u in units or [] if u in mine]
        if sel:
            s.units = None if sel == units else sel
            kept.append((coll, t, s))
    return ShardPlan(targets=listed, covered=[u for u in order if u in mine]), kept


@dataclass
class CollectResult:
    inventory: Inventory
    api_calls: dict[str, int]
    scope: list[str]
    started_at: datetime
    finished_at: datetime
    failed_targets: list[str] = field(default_factory=list)
    failures: list = field(default_factory=list)  # completeness.Failure: every evidence record that failed
    shard: ShardPlan | None = None

    @property
    def partial(self) -> bool:
        from .completeness import is_partial
        return is_partial(self.failures, self.inventory.coverage, self.failed_targets)


def crash_coverage(coll, s: CollectSession, rec_id: str, error: str) -> None:
    """A collector that crashed on a target: every asset type it produces is missing there."""
    for pat in coll.patterns():
        s.coverage(pat, f"{coll.name}/{s.target}", EvidenceStatus.error, f"collector failed: {error}", [rec_id])


def collect(targets: Iterable[tuple[type, Any]], recorder: Recorder, *, base_dir: Path,
            profile: Profile | None = None, trust_on_first_use: bool = False,
            options: dict[str, Any] | None = None, progress: Callable[[str], None] | None = None,
            max_workers: int = 4, selection: ShardSelection | None = None) -> CollectResult:
    """Run every target's collector in a bounded pool. A collector that crashes costs only its own
    evidence: its target gets an error coverage record and the scan goes on. With a `selection`, only the
    shard's units are collected (see `plan_shard`)."""
    started = utcnow()
    jobs = []
    for cls, target in targets:
        coll = cls()
        tname = coll.target_name(target)
        s = CollectSession(cls.name, tname, recorder, base_dir=base_dir, profile=profile,
                           trust_on_first_use=trust_on_first_use, options=options, progress=progress)
        jobs.append((coll, target, s))
    plan = None
    if selection is not None:
        plan, jobs = plan_shard(jobs, selection)
    sessions: list[tuple[CollectSession, str]] = []
    for coll, _, s in jobs:
        sessions.append((s, f"{coll.name}/{s.target}"))
        if hasattr(progress, "track"):  # a display that shows each target's counts as they come
            progress.track(f"{coll.name}/{s.target}", s)  # type: ignore[union-attr]

    failed: list[str] = []

    def run(coll, target, s: CollectSession):
        s.progress("collecting")
        try:
            coll.collect(target, s)
        except InputError:
            raise  # bad input found only as it is read (a large static file read as a stream): exit 2, no bundle
        except Exception as e:  # noqa: BLE001 - isolate one target's failure
            log.debug("collector crash: %s", traceback.format_exc())
            err = f"{type(e).__name__}: {e}"
            rec = s.record("collector", status=EvidenceStatus.error, error=err)
            crash_coverage(coll, s, rec.id, err)
            failed.append(f"{coll.name}/{s.target}")
        finally:
            s.flush()  # records a collector deferred and did not read back (it failed, or never derives)
        s.progress("done")

    if jobs:
        with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(jobs)))) as pool:
            futs = [pool.submit(run, *j) for j in jobs]
            for f in as_completed(futs):
                f.result()

    inv = Inventory()
    calls: Counter[str] = Counter()
    for s, _ in sessions:
        inv.assets.extend(s.assets)
        inv.coverage.extend(s.coverage_records)
        calls[s.collector] += s.api_calls
    inv.assets.sort(key=lambda a: (a.type, a.scope, a.id))
    from .completeness import recorder_failures
    return CollectResult(inv, dict(calls), [n for _, n in sessions], started, utcnow(), failed,
                         recorder_failures(recorder), plan)


# --------------------------------------------------------------------------- evaluation

_BAD = (EvidenceStatus.error, EvidenceStatus.denied)


def _finding(spec: CheckSpec, level: int, status: str, message: str, message_zh: str, resource_id: str,
             resource_type: str, evidence: list[str], scope: str, details: dict | None = None) -> Finding:
    return Finding(check_id=spec.id, control_ids=spec.controls_for(level), status=FindingStatus(status),
                   resource_id=resource_id, resource_type=resource_type, message=message, message_zh=message_zh,
                   evidence=list(dict.fromkeys(evidence)), scope=scope, severity=spec.severity,  # type: ignore[arg-type]
                   title=spec.title, remediation=spec.remediation, details=details or {})


_COV_ZH = {"error": "采集出错", "denied": "无权限", "not_available": "不提供"}


def _cov_en(c) -> str:
    return f"{c.asset_type} in {c.scope}: {c.reason or c.status.value}"


def _cov_zh(c) -> str:
    return f"{c.scope} 中的 {c.asset_type}（{_COV_ZH.get(c.status.value, c.status.value)}）：{c.reason or c.status.value}"


def _missing(reasons: str, reasons_zh: str = "") -> tuple[str, str]:
    return f"evidence missing: {reasons}", f"证据缺失，无法判定：{reasons_zh or reasons}"


def run_check(spec: CheckSpec, ctx: CheckContext, level: int) -> list[Finding]:
    out: list[Finding] = []
    # 1. scopes where the asset type itself could not be listed: an error per scope, never silence
    for cov in ctx.coverage(spec.asset_type):
        if cov.status in _BAD:
            out.append(_finding(spec, level, "error", *_missing(_cov_en(cov), _cov_zh(cov)), cov.scope, spec.asset_type,
                                cov.evidence, cov.scope))
        elif cov.status == EvidenceStatus.not_available and cov.asset_type == spec.asset_type:
            why = cov.reason or f"{spec.asset_type} not available in {cov.scope}"
            out.append(_finding(spec, level, "not_applicable", why, f"{cov.scope} 不提供 {spec.asset_type}（{why}），不适用",
                                cov.scope, spec.asset_type, cov.evidence, cov.scope))
    # 2. one verdict per asset
    for asset in ctx.assets(spec.asset_type):
        missing = [c for r in spec.reads for c in ctx.missing(asset, r)]
        if missing:
            ev = asset.evidence + [e for c in missing for e in c.evidence]
            why = _missing("; ".join(map(_cov_en, missing)), "；".join(map(_cov_zh, missing)))
            out.append(_finding(spec, level, "error", *why, asset.id, asset.type, ev, asset.scope))
            continue
        try:
            res = spec.func(asset, ctx)
        except EvidenceMissing as e:
            out.append(_finding(spec, level, "error", *_missing(str(e), e.zh), asset.id, asset.type, asset.evidence,
                                asset.scope))
            continue
        except Exception as e:  # noqa: BLE001 - a broken check is an error result, not a crash
            log.debug("check crash: %s", traceback.format_exc())
            out.append(_finding(spec, level, "error", f"check failed: {type(e).__name__}: {e}",
                                f"检查程序出错，无法判定：{type(e).__name__}: {e}", asset.id, asset.type,
                                asset.evidence, asset.scope))
            continue
        if res is None:
            continue
        for v in (res if isinstance(res, list) else [res]):
            if not isinstance(v, Verdict):
                raise TypeError(f"check {spec.id} returned {type(v).__name__}, not Verdict")
            out.append(_finding(spec, level, v.status, v.message, v.message_zh, v.resource_id or asset.id,
                                v.resource_type or asset.type, v.evidence or asset.evidence, asset.scope, v.details))
    return out


def evaluate(inventory: Inventory, level: int, profile: Profile, catalogue: Catalogue,
             only: Iterable[str] | None = None, as_of: date | None = None) -> list[Finding]:
    ctx = CheckContext(inventory.assets, inventory.coverage, profile, level)
    findings: list[Finding] = []
    wanted = set(only) if only else None
    for spec in sorted(checks().values(), key=lambda s: s.id):
        # a check naming ids nobody knows was dropped when the plugins loaded (a plugin failure)
        if not spec.controls_for(level) or (wanted and spec.id not in wanted):
            continue
        findings.extend(run_check(spec, ctx, level))
    findings.extend(attestation_findings(ctx, level, catalogue, as_of or date.today()))
    findings.extend(plugin_failure_findings(level, catalogue))
    name_resources(findings, ctx)
    findings.sort(key=lambda f: (f.check_id, f.scope, f.resource_id))
    return findings


def name_resources(findings: list[Finding], ctx: CheckContext) -> None:
    """Each finding's `resource_name`, the name a person uses, from the asset it names: the asset's
    `resource_name` attribute (a collector's choice, e.g. namespace/name), else its name, else its id (an
    asset without a name still names itself). A finding on a scope (evidence missing for a whole kind) names
    none."""
    for f in findings:
        asset = ctx.asset_by_id(f.resource_id)
        if asset is not None and f.resource_name is None:
            f.resource_name = str(asset.attributes.get("resource_name") or asset.name or asset.id)


def attestation_findings(ctx: CheckContext, level: int, catalogue: Catalogue, as_of: date) -> list[Finding]:
    """An assessor's recorded judgement (static `attestations:`) becomes a finding on the controls it names.
    It is evidence like any other: who, when, what was seen, and the file's hash. An attestation dated after
    `as_of`, or older than the profile's attestation_max_age_days on it, does not count (the assessment
    reports it)."""
    from .assessment import attestation_state
    out = []
    for a in ctx.assets("attestation"):
        at = a.attributes
        if attestation_state(a, as_of, ctx.profile.attestation_max_age_days) != "counted":
            continue
        ids = [c for c in at.get("control_ids", []) if c in catalogue and catalogue.get(c).level == level]
        unknown = [c for c in at.get("control_ids", []) if c not in catalogue]
        if unknown:
            out.append(Finding(check_id="attestation", control_ids=[], status=FindingStatus.error, resource_id=a.id,
                               resource_type="attestation", scope=a.scope, evidence=a.evidence,
                               message=f"attestation names control ids not in the catalogue: {', '.join(unknown)}",
                               message_zh=f"核查记录引用了目录中不存在的测评项编号：{'、'.join(unknown)}"))
        if not ids:
            continue
        out.append(Finding(check_id="attestation", control_ids=ids, status=FindingStatus(at["status"]), resource_id=a.id,
                           resource_type="attestation", scope=a.scope, evidence=a.evidence,
                           message=f"attested by {at['by']} on {at['date']}: {at['note']}",
                           message_zh=f"{at['by']} 于 {at['date']} 核查：{at['note']}",
                           details={"attestation": True, "documents": at.get("documents", [])}))
    return out


def plugin_failure_findings(level: int, catalogue: Catalogue) -> list[Finding]:
    """A check plugin that failed to load: an `error` finding per check it declares, on the controls of the
    level that check evidences (read from its source), so they say error instead of vanishing; one finding
    on no control when its checks could not be read."""
    out = []
    for failure in plugin_failures():
        if failure.group != "mlps_scan.checks":
            continue
        message = f"plugin {failure.name} failed to load ({failure.error}): its checks did not run"
        message_zh = f"插件 {failure.name} 加载失败（{failure.error}）：其检查未执行，无法判定"
        common = dict(status=FindingStatus.error, resource_id=f"plugin/{failure.name}", resource_name=failure.name,
                      resource_type="plugin",
                      scope="plugins", details={"plugin": failure.value})
        if not failure.checks:
            out.append(Finding(check_id=f"plugin:{failure.name}", control_ids=[], **common,
                               message=f"{message}; which controls they evidence is unknown: {failure.checks_unknown}",
                               message_zh=f"{message_zh}；无法得知其对应的测评项：{failure.checks_unknown}"))
        for check_id, controls in sorted(failure.checks.items()):
            ids = [c for c in controls.get(level, []) if c in catalogue and catalogue.get(c).level == level]
            if ids:
                out.append(Finding(check_id=check_id, control_ids=ids, message=message, message_zh=message_zh, **common))
    return out


class RecordedCheck(NamedTuple):
    """A check a bundle's findings name (for a re-check offline): the controls and severity they recorded."""

    controls: tuple[str, ...]
    severity: str


def recorded_checks(findings: Iterable[Finding]) -> dict[str, RecordedCheck]:
    """The checks a bundle's findings name (not the runner's own records: attestations, plugins that failed to
    load without their checks read), with the controls they evidenced and their severity."""
    controls: dict[str, set[str]] = {}
    severity: dict[str, str] = {}
    for f in findings:
        if f.check_id == "attestation" or f.check_id.startswith("plugin:"):
            continue
        controls.setdefault(f.check_id, set()).update(f.control_ids)
        severity.setdefault(f.check_id, f.severity)
    return {c: RecordedCheck(tuple(sorted(ids)), severity[c]) for c, ids in controls.items()}


def absent_check_findings(absent: dict[str, RecordedCheck], level: int, catalogue: Catalogue) -> list[Finding]:
    """A check the bundle was judged with that is not installed here (its plugin is missing): an `error`
    finding on the controls of the level it evidenced, so a re-check says it could not re-judge them instead
    of dropping the check's verdicts silently."""
    out = []
    for check_id, rec in sorted(absent.items()):
        ids = [c for c in rec.controls if c in catalogue and catalogue.get(c).level == level]
        out.append(Finding(
            check_id=check_id, control_ids=ids, status=FindingStatus.error, resource_id=f"check/{check_id}",
            resource_type="check", scope="plugins", severity=rec.severity,
            details={"recorded_controls": list(rec.controls)},
            message=f"check {check_id} judged this bundle but is not installed here: its controls cannot be "
                    f"re-judged offline (install the plugin that provides it)",
            message_zh=f"检查 {check_id} 曾用于判定该证据包，但本机未安装：其对应测评项无法离线重新判定（请安装提供该检查的插件）"))
    return out


# --------------------------------------------------------------------------- aggregation

_MANUAL_DEFAULT = Bilingual(en="Assessor to examine documents, configuration and interview staff for this item.",
                            zh="由测评人员通过访谈、核查文档与配置进行判定。")


def aggregate(findings: list[Finding], level: int, catalogue: Catalogue,
              not_applicable: dict[str, NotApplicable] | None = None) -> list[ControlResult]:
    """One result for every control of the level, in catalogue order.

    compliant      every automated verdict passed and the control is fully automatable
    non_compliant  every applicable verdict failed
    partial        some passed and some failed, or all passed but a human must confirm the rest (部分符合 / 待确认),
                   or the only failures are waived with a compensating measure (never compliant on a waiver alone)
    error          no failure, but some evidence could not be collected: never read as a pass
    manual         no automated verdict (manual item, or nothing in scope): what a human must supply is listed
    not_applicable 不适用, decided by a person (attestation) or the declared scope (`not_applicable` here)

    `counts` holds failures an active waiver covers under this control as `waived`, apart from `fail` (a waiver
    scoped by `controls:` covers a finding only under the controls it names). Summaries in English and Chinese.
    """
    not_applicable = not_applicable or {}
    by_control: dict[str, list[Finding]] = {}
    for f in findings:
        for cid in f.control_ids:
            by_control.setdefault(cid, []).append(f)
    results = []
    for c in catalogue.for_level(level):
        fs = by_control.get(c.id, [])
        under = {id(f): f.waivers_under(c.id) if f.status == FindingStatus.fail else [] for f in fs}
        counts = Counter("waived" if under[id(f)] else f.status.value for f in fs)
        attested = any(f.details.get("attestation") and f.status == FindingStatus.passed for f in fs)
        waived = [ws for ws in under.values() if ws]
        na = not_applicable.get(c.id)
        if na is not None:
            status = ControlStatus.not_applicable
            summary = f"not applicable 不适用: {na.reason} (decided by {na.decided_by})"
            summary_zh = f"不适用：{na.reason_zh or na.reason}（判定：{na.decided_by_zh or na.decided_by}）"
        else:
            status, summary, summary_zh = _judge(
                c, counts, attested, compensated=all(any(w.compensating for w in ws) for ws in waived),
                waivers=sorted({w.id for ws in waived for w in ws}))
        results.append(ControlResult(
            control_id=c.id, status=status, level=c.level, area=c.area, extension=c.extension, clause=c.clause,
            id_basis=c.id_basis, automation=c.automation, title=c.title, control_point=c.control_point,
            summary=summary, summary_zh=summary_zh, counts=dict(counts), checks=sorted({f.check_id for f in fs}),
            manual=None if status == ControlStatus.not_applicable else
            (c.guidance or _MANUAL_DEFAULT) if status in (ControlStatus.manual, ControlStatus.partial)
            or c.automation != Automation.automated else None,
            na=na,
        ))
    return results


def _judge(c: Control, counts: Counter, attested: bool = False, compensated: bool = False,
           waivers: list[str] | None = None) -> tuple[ControlStatus, str, str]:
    """(status, summary, 中文摘要) of one control from the counts of its findings."""
    p, f, e, na, w = counts["pass"], counts["fail"], counts["error"], counts["not_applicable"], counts["waived"]
    ids = ", ".join(waivers or [])
    wtext = f", {w} waived ({ids})" if w else ""
    wzh = f"，{w} 项已豁免（{ids}）" if w else ""
    etext, ezh = (f", {e} not assessable", f"，{e} 项无法评估") if e else ("", "")
    if f and p:
        return ControlStatus.partial, f"{f} failed{wtext}, {p} passed{etext}", f"{f} 项不符合{wzh}，{p} 项符合{ezh}"
    if f:
        return ControlStatus.non_compliant, f"{f} failed{wtext}{etext}", f"{f} 项不符合{wzh}{ezh}"
    if w:
        tail, tail_zh = (f", {p} passed" if p else "") + etext, (f"，{p} 项符合" if p else "") + ezh
        if p:
            return ControlStatus.partial, f"{w} failed, waived ({ids}){tail}", f"{w} 项不符合，已豁免（{ids}）{tail_zh}"
        if compensated:
            return ControlStatus.partial, (f"{w} failed, covered by waiver(s) {ids} with a compensating measure: at "
                                           f"best partial{tail}"), \
                f"{w} 项不符合，豁免 {ids} 附有补偿措施：至多部分符合{tail_zh}"
        return ControlStatus.non_compliant, (f"{w} failed, risk accepted by waiver(s) {ids} without a compensating "
                                             f"measure{tail}"), \
            f"{w} 项不符合，豁免 {ids} 仅接受风险、无补偿措施{tail_zh}"
    if e:
        return ControlStatus.error, f"{e} not assessable (evidence missing)" + (f", {p} passed" if p else ""), \
            f"{e} 项无法评估（证据缺失）" + (f"，{p} 项符合" if p else "")
    if p:
        if c.automation == Automation.automated or attested:
            return ControlStatus.compliant, f"{p} passed" + (" (assessor attestation included)" if attested else ""), \
                f"{p} 项符合" + ("（含测评人员现场核查记录）" if attested else "")
        return ControlStatus.partial, f"{p} passed; manual confirmation required", f"{p} 项符合；其余需人工确认"
    if na:
        return ControlStatus.manual, f"automated checks not applicable here ({na}); assessor to confirm", \
            f"自动检查在此不适用（{na} 项）；由测评人员确认"
    if c.automation == Automation.manual:
        return ControlStatus.manual, "manual item: evidence to be supplied by the assessor/client", \
            "人工测评项：由测评人员/被测单位提供证据"
    return ControlStatus.manual, "no automated evidence in the scan scope; assessor to supply", \
        "扫描范围内无自动化证据；由测评人员补充"


def exit_code(findings: list[Finding], partial: bool, fail_on: str = "any", high_risks: int = 0) -> int:
    """0: no failure outside active waivers and no missing evidence; 1: a failure some control's waivers do not
    cover; 3: partial scan (evidence missing). A failure active waivers cover under every control it evidences
    does not fail the run (its verdict stays `fail` in the bundle, and its controls stay non_compliant or
    partial). `fail_on` loosens this for CI: `high-risk` gives 1 only when the assessment has high-risk cases an
    assessor has not ruled out (candidate or confirmed)."""
    has_fail = any(f.status == FindingStatus.fail and not f.fully_waived for f in findings)
    has_err = partial or any(f.status == FindingStatus.error for f in findings)
    if fail_on == "never":
        return 0
    if fail_on == "high-risk":
        return 1 if high_risks else 0
    if has_err and fail_on in ("any", "error"):
        return 3
    if has_fail and fail_on in ("any", "fail"):
        return 1
    return 0
