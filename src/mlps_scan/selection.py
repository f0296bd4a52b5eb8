"""Running a subset of the checks (`--checks`, `--skip-checks`, `--severity`).

A selection is recorded in the manifest, and every control one of whose checks did not run says so: a
control is never `compliant` because a check was left out (it is `partial` at best, or stays `manual` when
none of its checks ran), and `skipped_checks` names what was left out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Iterable

from .errors import InputError
from .models import ControlResult, ControlStatus

SEVERITIES = ("low", "medium", "high", "critical")


def _split(values: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(p.strip() for p in str(v).split(",") if p.strip())
    return out


@dataclass
class Selection:
    checks: list[str] = field(default_factory=list)  # ids or glob patterns (aws.iam.*); empty = every check
    skip: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)  # empty = every severity

    @classmethod
    def from_args(cls, checks=None, skip=None, severity=None) -> "Selection":
        sel = cls(_split(checks), _split(skip), [s.lower() for s in _split(severity)])
        bad = [s for s in sel.severity if s not in SEVERITIES]
        if bad:
            raise InputError(f"--severity: unknown severity {bad[0]!r} (choose from {', '.join(SEVERITIES)})")
        return sel

    @property
    def active(self) -> bool:
        return bool(self.checks or self.skip or self.severity)

    def resolve(self, specs, level: int) -> tuple[set[str], set[str]]:
        """(ids to run, ids left out) among the checks that evidence a control of `level`. A pattern that
        names no check at all is an input error (a typo must not silently run everything or nothing)."""
        every = {s.id: s for s in specs}
        for flag, pats in (("--checks", self.checks), ("--skip-checks", self.skip)):
            for p in pats:
                if not any(fnmatchcase(i, p) for i in every):
                    raise InputError(f"{flag}: no check matches {p!r} (see `mlps-scan checks`)")
        at_level = {i: s for i, s in every.items() if s.controls_for(level)}
        run = set()
        for i, s in at_level.items():
            if self.checks and not any(fnmatchcase(i, p) for p in self.checks):
                continue
            if any(fnmatchcase(i, p) for p in self.skip):
                continue
            if self.severity and s.severity not in self.severity:
                continue
            run.add(i)
        if self.active and not run:
            raise InputError(f"the check selection leaves no check to run at level {level}")
        return run, set(at_level) - run

    def covers(self, check_id: str, severity: str) -> bool:
        """Whether a check this installation does not have (named by a bundle's findings) is in the selection."""
        if self.checks and not any(fnmatchcase(check_id, p) for p in self.checks):
            return False
        if any(fnmatchcase(check_id, p) for p in self.skip):
            return False
        return not self.severity or severity in self.severity

    def record_for(self, level: int) -> dict | None:
        """The manifest's record of this selection at `level` (None when every check ran)."""
        if not self.active:
            return None
        from .plugins import checks
        return self.record(self.resolve(list(checks().values()), level)[1])

    def record(self, skipped: set[str]) -> dict | None:
        """What the manifest says about the selection (None when every check ran)."""
        if not self.active:
            return None
        return {"checks": self.checks, "skip_checks": self.skip, "severity": self.severity,
                "skipped": sorted(skipped)}


def mark_skipped(controls: list[ControlResult], skipped: set[str], specs, level: int) -> list[ControlResult]:
    """Say on each control which of its checks did not run; a control cannot be compliant without them."""
    if not skipped:
        return controls
    by_control: dict[str, list[str]] = {}
    for s in specs:
        if s.id in skipped:
            for cid in s.controls_for(level):
                by_control.setdefault(cid, []).append(s.id)
    out = []
    for c in controls:
        left = sorted(by_control.get(c.control_id, []))
        if not left:
            out.append(c)
            continue
        note = f"not run in this scan (check selection): {', '.join(left)}"
        upd: dict = {"skipped_checks": left}
        if c.status == ControlStatus.compliant:
            upd.update(status=ControlStatus.partial, summary=f"{c.summary}; {note}")
        elif c.status == ControlStatus.manual and not c.counts:
            upd["summary"] = f"no automated verdict: every check of this item was left out ({', '.join(left)})"
        else:
            upd["summary"] = f"{c.summary}; {note}"
        out.append(c.model_copy(update=upd))
    return out
