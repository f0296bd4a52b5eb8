"""Renewal dates (stage 6): when the next level assessment (等级测评) is due, and when the 2025 filing
certificate (备案证明) expires.

Assessment cycle (shared reference §5; `cycle_months` overrides): level 1 yearly self-assessment (自查),
level 2 every two years (common practice, no national legal cycle), level 3 and above yearly.

Certificate (公网安〔2025〕1846号 Q6): valid 3 years from filing (filings before 2025-01-01 count from
2025-01-01), +1 year for each completed assessment; apply for extension in the 3 months before expiry. The
term counts its first day, as a certificate's 有效期 does: one from 2025-03-01 is valid through 2028-02-29 and
has lapsed on 2028-03-01 (`expires` is the last valid day; a term from Feb 29 runs through Feb 28).
An assessment extends the certificate only while it is valid: one completed after the certificate lapsed
does not revive it (the system must apply again). Level 1 systems are not filed, so have no certificate;
a level 2+ system without a known filing date has one whose expiry cannot be computed.

Exit codes for cron jobs: 0 nothing due within the warning window, 1 due within the window, 5 overdue.
"""
from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any, Iterable

OK, DUE_SOON, OVERDUE = 0, 1, 5
STATUS_EXIT = {"ok": OK, "due_soon": DUE_SOON, "overdue": OVERDUE}
CERT_EPOCH = date(2025, 1, 1)
DEFAULT_CYCLE_MONTHS = {1: 12, 2: 24, 3: 12, 4: 12, 5: 12}
CERT_BASIS = "公网安〔2025〕1846号 Q6: filing certificate valid 3 years, +1 year per completed assessment"


def add_months(d: date, months: int) -> date:
    """Calendar month arithmetic; a day that does not exist in the target month becomes its last day
    (Feb 29 + 12 months = Feb 28 in a common year; Jan 31 + 1 month = Feb 28/29)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def add_years(d: date, years: int) -> date:
    return add_months(d, 12 * years)


def term_end(start: date, years: int) -> date:
    """The last day of a term of `years` years that starts on (and counts) `start`: the day before the
    anniversary. A Feb 29 start has no anniversary in a common year: the term then runs through Feb 28."""
    y = start.year + years
    try:
        anniversary = start.replace(year=y)
    except ValueError:  # Feb 29 in a common year: the term is over once Feb 28 has passed
        anniversary = date(y, 3, 1)
    return anniversary - timedelta(days=1)


def _status(due: date, today: date, warn_days: int) -> tuple[str, int]:
    days = (due - today).days
    if days < 0:
        return "overdue", days
    if days <= warn_days:
        return "due_soon", days
    return "ok", days


def renewal(*, level: int, filing_date: date | None, today: date, assessments: Iterable[date] = (),
            warn_days: int = 60, cycle_months: int | None = None) -> dict[str, Any]:
    """Next assessment due date and certificate expiry, with their status against `today`."""
    given = sorted(set(assessments))
    # an assessment dated after `today` has not happened yet: it neither resets the cycle nor extends
    # the certificate (it is listed so a typo in a date does not go unnoticed)
    assessed = [d for d in given if d <= today]
    future = [d for d in given if d > today]
    if filing_date is None and not assessed:
        if future:
            raise ValueError(f"every assessment date is after today ({', '.join(d.isoformat() for d in future)}): "
                             "pass a completed one or the filing date")
        raise ValueError("a filing date or an assessment date is needed")
    cycle = cycle_months or DEFAULT_CYCLE_MONTHS.get(level, 12)
    base = assessed[-1] if assessed else filing_date
    assert base is not None
    due = add_months(base, cycle)
    st, days = _status(due, today, warn_days)
    kind = "self-assessment (自查)" if level == 1 else "level assessment (等级测评)"
    out: dict[str, Any] = {
        "level": level, "today": today.isoformat(), "warn_days": warn_days,
        "assessment": {"kind": kind, "cycle_months": cycle, "from": base.isoformat(),
                       "from_kind": "last assessment" if assessed else "filing date",
                       "due": due.isoformat(), "days_left": days, "status": st},
        "certificate": None,
    }
    if future:
        out["assessment"]["ignored_future_dates"] = [d.isoformat() for d in future]
    worst = st
    if level >= 2 and filing_date is None:
        out["certificate_note"] = ("filing date unknown: the certificate's expiry needs it (pass --filing-date, set "
                                   "system.filing_date in scan.yaml or record it with `history assessed --filing-date`)")
    if level >= 2 and filing_date is not None:
        start = max(filing_date, CERT_EPOCH)
        # only assessments completed while the certificate runs extend it: not those before it started
        # (a pre-2025 filing's older assessments), not future ones (filtered above), and not those after it
        # lapsed (it is not revived: the system must apply again)
        completed, late = [], []
        expires = term_end(start, 3)  # the last valid day
        for d in (d for d in assessed if d >= start):
            if d <= expires and not late:
                completed.append(d)
                expires = term_end(start, 3 + len(completed))
            else:
                late.append(d)
        cst, cdays = _status(expires, today, warn_days)
        out["certificate"] = {"basis": CERT_BASIS, "valid_from": start.isoformat(),
                              "counted_from_2025": filing_date < CERT_EPOCH,
                              "completed_assessments": len(completed), "expires": expires.isoformat(),
                              "extension_window_opens": add_months(expires + timedelta(days=1), -3).isoformat(),
                              "days_left": cdays, "status": cst}
        if late:
            out["certificate"]["lapsed_on"] = (expires + timedelta(days=1)).isoformat()
            out["certificate"]["not_extending"] = [d.isoformat() for d in late]
        worst = max((st, cst), key=lambda s: STATUS_EXIT[s])
    out["status"] = worst
    out["exit_code"] = STATUS_EXIT[worst]
    return out
