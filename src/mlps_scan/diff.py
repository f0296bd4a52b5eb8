"""Compare two bundles (re-check, stage 6): new failures, fixed findings (by check_id + resource_id),
controls whose status changed (and which of those regressed), assets added and removed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .bundle import open_bundle, verify_bundle
from .errors import BundleError, InputError
from .models import ControlResult, Finding

# how bad a control status is; a move to a higher rank is a regression (from `manual`, i.e. not assessed
# before, too); a move to `manual` is "no longer assessed", never an improvement
_RANK = {"compliant": 0, "not_applicable": 1, "manual": 1, "partial": 2, "error": 2, "non_compliant": 3}
_FRANK = {"pass": 0, "not_applicable": 0, "error": 1, "fail": 2}


def _load(path: Path) -> dict[str, Any]:
    """A bundle's results. A bundle that cannot be read (missing, not a bundle, malformed JSON) is an input
    error (exit 2) naming it, never a difference: `--fail-on-regression` reads exit 1 as a regression."""
    try:
        return _read(path)
    except BundleError as e:
        msg = str(e)
        raise InputError(msg if str(path) in msg else f"{path}: {msg}") from None
    except OSError as e:
        raise InputError(f"{path}: unreadable ({e})") from None


def _read(path: Path) -> dict[str, Any]:
    r = open_bundle(Path(path))
    m = r.manifest()
    for n in ("findings.json", "controls.json"):
        if not r.has(n):
            raise InputError(f"{path}: {n} missing (a `collect` bundle? run `mlps-scan check --out` on it first)")
    assets = r.inventory().assets if r.has("inventory.json") else []
    findings, controls = r.findings(), r.controls()
    verdict = r.assessment()
    problems = verify_bundle(r.path)
    return {"path": str(path), "manifest": m, "problems": problems, "findings": findings, "controls": controls,
            "assets": assets, "profile": r.scan_settings().profile,
            "assessment": verdict.model_dump(mode="json") if verdict is not None else None}


def judged_differently(old: dict, new: dict) -> list[str]:
    """Notes when the two bundles were judged with different thresholds or decisions, so a changed threshold
    or waiver is not read as a change of the estate."""
    notes = []
    po, pn = old.get("profile"), new.get("profile")
    if isinstance(po, dict) and isinstance(pn, dict):
        changed = [f"{k} {po.get(k)!r} -> {pn.get(k)!r}" for k in sorted(set(po) | set(pn))
                   if k not in ("name", "level") and po.get(k) != pn.get(k)]
        if changed:
            notes.append("judged with different profiles (" + "; ".join(changed)
                         + "): status changes on the items they touch come from the thresholds, not the estate")
    ao, an = old.get("assessment"), new.get("assessment")
    if ao is not None or an is not None:
        wo = {w.get("id"): w for w in (ao or {}).get("waivers", []) if isinstance(w, dict)}
        wn = {w.get("id"): w for w in (an or {}).get("waivers", []) if isinstance(w, dict)}
        parts = []
        if set(wn) - set(wo):
            parts.append("added " + ", ".join(sorted(set(wn) - set(wo))))
        if set(wo) - set(wn):
            parts.append("removed " + ", ".join(sorted(set(wo) - set(wn))))
        for k in sorted(set(wo) & set(wn)):
            a, b = wo[k], wn[k]
            if a.get("status") != b.get("status"):
                parts.append(f"{k} {a.get('status')} -> {b.get('status')}")
            elif {x: a.get(x) for x in ("checks", "controls", "resources", "expires", "compensating")} != \
                    {x: b.get(x) for x in ("checks", "controls", "resources", "expires", "compensating")}:
                parts.append(f"{k} changed")
        if parts:
            notes.append("judged with different waivers (" + "; ".join(parts) + "): waived failures stay `fail`, "
                         "but control statuses and the conclusion may move with them")
        parts = _attestation_changes((ao or {}).get("attestations", []), (an or {}).get("attestations", []))
        if parts:
            notes.append("judged with different attestations (" + "; ".join(parts) + "): items they name moved with "
                         "the assessor's judgement, not with the estate")
        so = ((ao or {}).get("scope") or {}).get("extensions")
        sn = ((an or {}).get("scope") or {}).get("extensions")
        if ao is not None and an is not None and so != sn:
            notes.append(f"judged with different scopes (extensions {so} -> {sn}): 不适用 items differ")
    return notes


def _attestation_changes(old: list, new: list) -> list[str]:
    """What changed between two bundles' attestations, per control id: added, removed, status or state changed
    (a judgement change, not a change of the estate)."""
    def per_control(items: list) -> dict[str, tuple]:
        out = {}
        for x in items:
            if not isinstance(x, dict):
                continue
            for cid in x.get("control_ids") or []:
                out[cid] = (x.get("status"), x.get("state"))
        return out
    o, n = per_control(old), per_control(new)
    parts = []
    if set(n) - set(o):
        parts.append("added " + ", ".join(f"{c} {n[c][0]}" for c in sorted(set(n) - set(o))))
    if set(o) - set(n):
        parts.append("removed " + ", ".join(f"{c} {o[c][0]}" for c in sorted(set(o) - set(n))))
    for c in sorted(set(o) & set(n)):
        if o[c][0] != n[c][0]:
            parts.append(f"{c} {o[c][0]} -> {n[c][0]}")
        elif o[c][1] != n[c][1]:
            parts.append(f"{c} {o[c][1]} -> {n[c][1]}")
    return parts


def _by_key(findings: list[Finding]) -> dict[tuple[str, str], Finding]:
    out: dict[tuple[str, str], Finding] = {}
    for f in findings:
        k = (f.check_id, f.resource_id)
        if k not in out or _FRANK.get(f.status.value, 0) > _FRANK.get(out[k].status.value, 0):
            out[k] = f
    return out


def _brief(f: Finding) -> dict:
    return {"check_id": f.check_id, "resource_id": f.resource_id, "resource_name": f.resource_name or f.resource_id,
            "resource_type": f.resource_type,
            "status": f.status.value, "controls": list(f.control_ids), "message": f.message}


def _status(f: Finding | None) -> str | None:
    return f.status.value if f is not None else None


def diff(old_path: Path, new_path: Path) -> dict[str, Any]:
    old, new = _load(old_path), _load(new_path)
    fo, fn = _by_key(old["findings"]), _by_key(new["findings"])
    new_failures, fixed, resolved_gone, new_errors = [], [], [], []
    for k, f in sorted(fn.items()):
        was = _status(fo.get(k))
        if f.status.value == "fail" and was != "fail":
            new_failures.append({**_brief(f), "was": was})
        elif f.status.value == "error" and was not in ("error", "fail"):
            new_errors.append({**_brief(f), "was": was})
    for k, f in sorted(fo.items()):
        if f.status.value != "fail":
            continue
        now = fn.get(k)
        if now is None:
            resolved_gone.append({**_brief(f), "now": None})
        elif now.status.value in ("pass", "not_applicable"):
            fixed.append({**_brief(now), "was": "fail"})
    changed = _controls_changed(old["controls"], new["controls"])
    co = {c.control_id for c in old["controls"]}
    cn = {c.control_id for c in new["controls"]}
    ao = {(a.type, a.id): a for a in old["assets"]}
    an = {(a.type, a.id): a for a in new["assets"]}
    asset = lambda a: {"type": a.type, "id": a.id, "name": a.name, "scope": a.scope}  # noqa: E731
    mo, mn = old["manifest"], new["manifest"]
    return {
        "old": {"path": old["path"], "system": mo.system, "level": mo.level, "scanned_at": mo.finished_at.isoformat(),
                "verified": not old["problems"]},
        "new": {"path": new["path"], "system": mn.system, "level": mn.level, "scanned_at": mn.finished_at.isoformat(),
                "verified": not new["problems"]},
        "notes": ([f"levels differ (old {mo.level}, new {mn.level}): only control ids present in both are compared"]
                  if mo.level != mn.level else [])
                 + ([f"systems differ: {mo.system!r} vs {mn.system!r}"] if mo.system != mn.system else [])
                 + [f"{side} bundle fails verification ({len(b['problems'])} problem(s), e.g. {b['problems'][0]}): "
                    "its results may have been altered" for side, b in (("old", old), ("new", new)) if b["problems"]]
                 + judged_differently(old, new),
        "new_failures": new_failures,
        "fixed": fixed,
        "resolved_resource_gone": resolved_gone,
        "new_errors": new_errors,
        "controls_changed": changed,
        "controls_added": sorted(cn - co),
        "controls_removed": sorted(co - cn),
        "assets_added": [asset(an[k]) for k in sorted(set(an) - set(ao))],
        "assets_removed": [asset(ao[k]) for k in sorted(set(ao) - set(an))],
        "regressed": any(c["change"] == "regressed" for c in changed),
        "summary": {"new_failures": len(new_failures), "fixed": len(fixed), "resolved_resource_gone": len(resolved_gone),
                    "new_errors": len(new_errors),
                    "controls_regressed": sum(c["change"] == "regressed" for c in changed),
                    "controls_improved": sum(c["change"] == "improved" for c in changed),
                    "controls_no_longer_assessed": sum(c["change"] == "no_longer_assessed" for c in changed),
                    "controls_changed": len(changed),
                    "assets_added": len(set(an) - set(ao)), "assets_removed": len(set(ao) - set(an))},
    }


def _controls_changed(old: list[ControlResult], new: list[ControlResult]) -> list[dict[str, Any]]:
    """Controls of both bundles whose status changed, and whether that is a regression."""
    co = {c.control_id: c for c in old}
    cn = {c.control_id: c for c in new}
    changed = []
    for cid in sorted(set(co) & set(cn)):
        a, b = co[cid].status.value, cn[cid].status.value
        if a == b:
            continue
        if b == "manual":  # no automated verdict any more: evidence went away, nothing was fixed
            change = "no_longer_assessed"
        elif b == "not_applicable" or a == "not_applicable":  # a decision on applicability, not a fix
            change = "applicability_changed"
        elif _RANK.get(b, 0) > _RANK.get(a, 0):
            change = "regressed"
        elif _RANK.get(b, 0) < _RANK.get(a, 0):
            change = "improved"
        else:
            change = "changed"
        changed.append({"control_id": cid, "old": a, "new": b, "change": change, "title": cn[cid].title.en})
    return changed
