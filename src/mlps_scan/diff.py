"""Compare two bundles (re-check, stage 6): new failures, fixed findings (by check_id + resource_id),
controls whose status changed (and which of those regressed), assets added and removed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import BundleError, InputError

# how bad a control status is; a move to a higher rank is a regression (from `manual`, i.e. not assessed
# before, too); a move to `manual` is "no longer assessed", never an improvement
_RANK = {"compliant": 0, "not_applicable": 1, "manual": 1, "partial": 2, "error": 2, "non_compliant": 3}
_FRANK = {"pass": 0, "not_applicable": 0, "error": 1, "fail": 2}


def _load(path: Path) -> dict[str, Any]:
    from .questionnaire import open_bundle
    r = open_bundle(Path(path))
    m = r.manifest()
    names = r.names()
    for n in ("findings.json", "controls.json"):
        if n not in names:
            raise InputError(f"{path}: {n} missing (a `collect` bundle? run `mlps-scan check --out` on it first)")
    inv = r.json("inventory.json") if "inventory.json" in names else {"assets": []}
    scan_meta = r.json("scan.json") if "scan.json" in names else {}
    verdict = r.json("assessment.json") if "assessment.json" in names else None
    findings = r.json("findings.json")
    controls = r.json("controls.json")
    if not isinstance(findings, list) or not isinstance(controls, list) or not isinstance(inv, dict):
        raise BundleError(f"{path}: findings.json, controls.json or inventory.json has the wrong shape")
    from .bundle import verify_bundle
    problems = verify_bundle(r.path)
    return {"path": str(path), "manifest": m, "problems": problems, "findings": findings, "controls": controls,
            "assets": inv.get("assets", []), "profile": (scan_meta or {}).get("profile") if isinstance(scan_meta, dict) else None,
            "assessment": verdict if isinstance(verdict, dict) else None}


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
        so = ((ao or {}).get("scope") or {}).get("extensions")
        sn = ((an or {}).get("scope") or {}).get("extensions")
        if ao is not None and an is not None and so != sn:
            notes.append(f"judged with different scopes (extensions {so} -> {sn}): 不适用 items differ")
    return notes


def _by_key(findings: list[dict]) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for f in findings:
        k = (f.get("check_id", ""), f.get("resource_id", ""))
        if k not in out or _FRANK.get(f.get("status"), 0) > _FRANK.get(out[k].get("status"), 0):
            out[k] = f
    return out


def _brief(f: dict) -> dict:
    return {"check_id": f.get("check_id"), "resource_id": f.get("resource_id"), "resource_type": f.get("resource_type"),
            "status": f.get("status"), "controls": f.get("control_ids", []), "message": f.get("message")}


def diff(old_path: Path, new_path: Path) -> dict[str, Any]:
    old, new = _load(old_path), _load(new_path)
    fo, fn = _by_key(old["findings"]), _by_key(new["findings"])
    new_failures, fixed, resolved_gone, new_errors = [], [], [], []
    for k, f in sorted(fn.items()):
        prev = fo.get(k)
        if f.get("status") == "fail" and (prev is None or prev.get("status") != "fail"):
            new_failures.append({**_brief(f), "was": prev.get("status") if prev else None})
        elif f.get("status") == "error" and (prev is None or prev.get("status") not in ("error", "fail")):
            new_errors.append({**_brief(f), "was": prev.get("status") if prev else None})
    for k, f in sorted(fo.items()):
        if f.get("status") != "fail":
            continue
        now = fn.get(k)
        if now is None:
            resolved_gone.append({**_brief(f), "now": None})
        elif now.get("status") in ("pass", "not_applicable"):
            fixed.append({**_brief(now), "was": "fail"})
    co = {c["control_id"]: c for c in old["controls"] if isinstance(c, dict) and "control_id" in c}
    cn = {c["control_id"]: c for c in new["controls"] if isinstance(c, dict) and "control_id" in c}
    changed = []
    for cid in sorted(set(co) & set(cn)):
        a, b = co[cid]["status"], cn[cid]["status"]
        if a != b:
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
            changed.append({"control_id": cid, "old": a, "new": b, "change": change,
                            "title": (cn[cid].get("title") or {}).get("en")})
    ao = {(a["type"], a["id"]): a for a in old["assets"] if isinstance(a, dict)}
    an = {(a["type"], a["id"]): a for a in new["assets"] if isinstance(a, dict)}
    asset = lambda a: {"type": a["type"], "id": a["id"], "name": a.get("name"), "scope": a.get("scope")}  # noqa: E731
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
        "controls_added": sorted(set(cn) - set(co)),
        "controls_removed": sorted(set(co) - set(cn)),
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
