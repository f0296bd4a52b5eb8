"""Renewal: assessment due dates per level, the 2025 filing-certificate expiry, leap days and year ends,
the warning window and the exit codes a cron job acts on (0 ok, 1 due soon, 5 overdue)."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import yaml

from mlps_scan.history import ENV
from mlps_scan.renewal import add_months, add_years, renewal

from conftest import run_cli

D = date.fromisoformat


@pytest.mark.parametrize("start,months,want", [
    ("2024-02-29", 12, "2025-02-28"),   # leap day -> Feb 28 in a common year
    ("2024-02-29", 24, "2026-02-28"),
    ("2024-02-29", 48, "2028-02-29"),   # ... and back on the 29th in the next leap year
    ("2023-02-28", 12, "2024-02-28"),   # not moved to the 29th
    ("2025-12-31", 12, "2026-12-31"),   # year end
    ("2025-12-31", 1, "2026-01-31"),
    ("2026-01-31", 1, "2026-02-28"),
    ("2027-11-30", 3, "2028-02-29"),
    ("2026-03-15", -3, "2025-12-15"),
    ("2026-01-15", -1, "2025-12-15"),
])
def test_month_arithmetic(start, months, want):
    assert add_months(D(start), months) == D(want)


def test_add_years_on_leap_day():
    assert add_years(D("2024-02-29"), 1) == D("2025-02-28")
    assert add_years(D("2024-02-29"), 3) == D("2027-02-28")
    assert add_years(D("2024-02-29"), 4) == D("2028-02-29")


@pytest.mark.parametrize("level,due", [(1, "2027-03-15"), (2, "2028-03-15"), (3, "2027-03-15")])
def test_cycle_per_level(level, due):
    r = renewal(level=level, filing_date=D("2026-03-15"), today=D("2026-06-01"))
    assert r["assessment"]["due"] == due and r["assessment"]["from_kind"] == "filing date"
    assert r["assessment"]["kind"].startswith("self-assessment" if level == 1 else "level assessment")
    if level == 1:
        assert r["certificate"] is None  # level 1 is not filed
    else:
        assert r["certificate"]["expires"] == "2029-03-14"


def test_last_assessment_resets_the_cycle_and_extends_the_certificate():
    r = renewal(level=3, filing_date=D("2025-06-30"), today=D("2026-01-10"), assessments=[D("2025-12-31")])
    assert r["assessment"]["due"] == "2026-12-31" and r["assessment"]["from_kind"] == "last assessment"
    c = r["certificate"]
    assert c["completed_assessments"] == 1 and c["expires"] == "2029-06-29"  # 3 years + 1 per assessment
    assert c["extension_window_opens"] == "2029-03-30"
    r = renewal(level=3, filing_date=D("2025-06-30"), today=D("2027-01-10"),
                assessments=[D("2025-12-31"), D("2026-12-20"), D("2025-12-31")])
    assert r["certificate"]["completed_assessments"] == 2 and r["certificate"]["expires"] == "2030-06-29"
    assert r["assessment"]["due"] == "2027-12-20"


def test_future_assessment_dates_neither_reset_the_cycle_nor_extend_the_certificate():
    r = renewal(level=3, filing_date=D("2025-06-30"), today=D("2026-01-10"),
                assessments=[D("2025-12-31"), D("2026-12-20")])
    assert r["certificate"]["completed_assessments"] == 1 and r["certificate"]["expires"] == "2029-06-29"
    assert r["assessment"]["due"] == "2026-12-31" and r["assessment"]["ignored_future_dates"] == ["2026-12-20"]


def test_only_future_assessment_dates_is_a_clear_input_error(tmp_path):
    r = run_cli("renewal", "--level", "3", "--assessed", "2099-01-01", "--today", "2026-11-28",
                "--history", str(tmp_path / "h.db"))
    assert r.returncode == 2 and "after today" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_assessments_before_the_certificate_started_do_not_extend_it():
    # filed 2023, assessed 2023 and 2024: the certificate counts from 2025-01-01 and neither assessment is in it
    r = renewal(level=3, filing_date=D("2023-05-10"), today=D("2025-03-01"),
                assessments=[D("2023-11-01"), D("2024-11-01")])
    c = r["certificate"]
    assert c["valid_from"] == "2025-01-01" and c["completed_assessments"] == 0 and c["expires"] == "2027-12-31"
    assert r["assessment"]["due"] == "2025-11-01"


def test_filings_before_2025_count_from_2025_01_01():
    r = renewal(level=2, filing_date=D("2024-02-29"), today=D("2025-03-01"))
    c = r["certificate"]
    assert c["valid_from"] == "2025-01-01" and c["counted_from_2025"] and c["expires"] == "2027-12-31"
    assert r["assessment"]["due"] == "2026-02-28"  # Feb 29 + 2 years, not Mar 1
    r = renewal(level=3, filing_date=D("2024-02-29"), today=D("2025-03-01"))
    assert r["assessment"]["due"] == "2025-02-28" and r["status"] == "overdue" and r["exit_code"] == 5


@pytest.mark.parametrize("today,status,code,days", [
    ("2026-10-31", "ok", 0, 61),
    ("2026-11-01", "due_soon", 1, 60),    # the window is inclusive
    ("2026-12-31", "due_soon", 1, 0),     # due today is not yet overdue
    ("2027-01-01", "overdue", 5, -1),     # across the year end
])
def test_warning_window_and_exit_codes(today, status, code, days):
    r = renewal(level=3, filing_date=D("2025-12-31"), today=D(today), warn_days=60)
    assert (r["assessment"]["due"], r["assessment"]["status"], r["assessment"]["days_left"]) == ("2026-12-31", status, days)
    assert r["status"] == status and r["exit_code"] == code


def test_certificate_expiry_alone_can_raise_the_alarm():
    # a 4-year assessment cycle (configured), but the certificate (3 years, no completed assessment) runs out first
    r = renewal(level=2, filing_date=D("2025-01-10"), today=D("2027-12-01"), cycle_months=48)
    assert r["assessment"]["status"] == "ok" and r["assessment"]["due"] == "2029-01-10"
    assert r["certificate"]["expires"] == "2028-01-09" and r["certificate"]["status"] == "due_soon"
    assert r["status"] == "due_soon" and r["exit_code"] == 1
    r = renewal(level=2, filing_date=D("2025-01-10"), today=D("2028-01-10"), cycle_months=48)
    assert r["assessment"]["status"] == "ok" and r["certificate"]["status"] == "overdue" and r["exit_code"] == 5


def test_renewal_cli_from_arguments():
    r = run_cli("renewal", "--filing-date", "2024-02-29", "--level", "3", "--today", "2025-02-01", "--format", "json")
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    (s,) = out["systems"]
    assert s["assessment"]["due"] == "2025-02-28" and s["certificate"]["expires"] == "2027-12-31"
    assert "1846" in s["certificate"]["basis"]
    r = run_cli("renewal", "--filing-date", "2024-02-29", "--level", "3", "--today", "2025-03-01")
    assert r.returncode == 5 and "2025-02-28" in r.stdout and "overdue" in r.stdout
    r = run_cli("renewal", "--filing-date", "2025-06-01", "--level", "2", "--today", "2025-07-01", "--warn-days", "30")
    assert r.returncode == 0
    assert run_cli("renewal", "--filing-date", "2025-02-30", "--level", "3").returncode == 2
    assert run_cli("renewal", "--filing-date", "2025-02-01", "--level", "9").returncode == 2
    assert run_cli("renewal", "--filing-date", "2025-02-01", "--level", "3", "--warn-days", "-4").returncode == 2


def test_renewal_cli_from_the_history(tmp_path):
    hist = tmp_path / "h.sqlite3"
    env = {ENV: str(hist)}
    r = run_cli("renewal", env=env)
    assert r.returncode == 2 and "no recorded scans" in r.stderr and not hist.exists()
    (tmp_path / "fw.yaml").write_text(yaml.safe_dump({"assets": [{"type": "network.firewall", "id": "f"}]}))
    for name, filing in (("Alpha", "2025-12-31"), ("Beta", None)):
        cfg = tmp_path / f"{name}.yaml"
        system = {"name": name, "level": 3, **({"filing_date": filing} if filing else {})}
        cfg.write_text(yaml.safe_dump({"system": system, "static": [{"path": "fw.yaml"}]}))
        r = run_cli("scan", "--config", str(cfg), "--out", str(tmp_path / name), "--quiet", env=env)
        assert r.returncode in (1, 3), r.stderr
    r = run_cli("renewal", "--system", "Alpha", "--today", "2026-11-15", "--format", "json", env=env)
    assert r.returncode == 1, r.stderr
    (s,) = json.loads(r.stdout)["systems"]
    assert (s["system"], s["level"], s["filing_date"], s["assessment"]["due"]) == ("Alpha", 3, "2025-12-31", "2026-12-31")
    r = run_cli("renewal", "--system", "Beta", env=env)
    assert r.returncode == 2 and "no filing date" in r.stderr
    r = run_cli("renewal", "--today", "2027-01-05", env=env)  # every system: the worst decides the exit code
    assert r.returncode == 5 and "Alpha" in r.stdout and "Beta" in r.stdout and "no filing date" in r.stdout
    r = run_cli("renewal", "--system", "Alpha", "--today", "2027-01-05", "--assessed", "2026-12-20", "--format", "json", env=env)
    (s,) = json.loads(r.stdout)["systems"]
    assert r.returncode == 0 and s["assessment"]["due"] == "2027-12-20" and s["certificate"]["expires"] == "2029-12-30"


# --------------------------------------------------------------------------- issue 10: the two renewal bugs


def test_a_level_3_system_without_a_filing_date_is_not_called_level_1():
    # an assessment date alone: the level-3 certificate's expiry cannot be computed without the filing date
    r = run_cli("renewal", "--level", "3", "--assessed", "2026-06-01", "--today", "2026-11-29")
    assert r.returncode == 0, r.stderr
    assert "level 1" not in r.stdout and "filing date unknown" in r.stdout
    r = run_cli("renewal", "--level", "3", "--assessed", "2026-06-01", "--today", "2026-11-29", "--format", "json")
    (s,) = json.loads(r.stdout)["systems"]
    assert s["certificate"] is None and "filing date" in s["certificate_note"]
    r = run_cli("renewal", "--level", "1", "--assessed", "2026-06-01", "--today", "2026-11-29")
    assert "not filed (level 1)" in r.stdout


def test_an_assessment_after_the_certificate_lapsed_does_not_revive_it():
    # filed 2025-01-01: valid through 2027-12-31; the 2028-06-01 assessment came after it lapsed
    r = renewal(level=3, filing_date=D("2025-01-01"), today=D("2028-07-01"), assessments=[D("2028-06-01")])
    c = r["certificate"]
    assert c["expires"] == "2027-12-31" and c["status"] == "overdue" and c["completed_assessments"] == 0
    assert c["lapsed_on"] == "2028-01-01" and c["not_extending"] == ["2028-06-01"]
    assert r["exit_code"] == 5
    # assessed in time each year: every one extends it, from the expiry it had then
    r = renewal(level=3, filing_date=D("2025-01-01"), today=D("2028-07-01"),
                assessments=[D("2026-01-10"), D("2027-01-10"), D("2027-12-31")])
    assert r["certificate"]["expires"] == "2030-12-31" and r["certificate"]["completed_assessments"] == 3
    assert "lapsed_on" not in r["certificate"]
    cli = run_cli("renewal", "--level", "3", "--filing-date", "2025-01-01", "--assessed", "2028-06-01",
                  "--today", "2028-07-01")
    assert cli.returncode == 5 and "2028-12-31" not in cli.stdout and "2027-12-31" in cli.stdout
    assert "lapsed" in cli.stdout


def test_renewal_reads_the_register_so_a_cron_job_needs_no_flags(tmp_path):
    env = {ENV: str(tmp_path / "h.sqlite3")}
    # filed 2025-03-01 (certificate through 2028-02-29), assessed 2026-02-10: no scan recorded at all
    r = run_cli("history", "assessed", "--system", "Shop", "--date", "2026-02-10", "--firm", "Acme Testing Co",
                "--report-no", "DJCP-2026-001", "--conclusion", "基本符合", "--certificate-no", "31010099999-25001",
                "--level", "3", "--filing-date", "2025-03-01", env=env)
    assert r.returncode == 0 and "recorded assessment" in r.stdout, r.stderr
    again = run_cli("history", "assessed", "--system", "Shop", "--date", "2026-02-10", "--firm", "Acme Testing Co",
                    "--report-no", "DJCP-2026-001", "--conclusion", "基本符合", "--certificate-no", "31010099999-25001",
                    "--level", "3", "--filing-date", "2025-03-01", env=env)
    assert again.returncode == 0 and "already recorded" in again.stdout
    clash = run_cli("history", "assessed", "--system", "Shop", "--date", "2026-03-10", "--firm", "Other",
                    "--report-no", "DJCP-2026-001", env=env)
    assert clash.returncode == 2 and "already recorded with other values" in clash.stderr
    r = run_cli("renewal", "--today", "2026-11-29", "--format", "json", env=env)  # the cron job: no flags
    assert r.returncode == 0, r.stderr
    (s,) = json.loads(r.stdout)["systems"]
    assert (s["system"], s["level"], s["filing_date"]) == ("Shop", 3, "2025-03-01")
    assert s["assessment"]["due"] == "2027-02-10" and s["assessment"]["from_kind"] == "last assessment"
    assert s["certificate"]["expires"] == "2029-02-28" and s["certificate_no"] == "31010099999-25001"
    assert s["last_assessment"]["conclusion"] == "basically_compliant"
    r = run_cli("renewal", "--today", "2027-01-01", env=env)
    assert r.returncode == 1 and "31010099999-25001" in r.stdout and "2027-02-10" in r.stdout
    listing = run_cli("history", "--format", "json", env=env)
    assert json.loads(listing.stdout)["assessments"][0]["report_no"] == "DJCP-2026-001"
    # one line, exit 2, nothing recorded for bad input
    for bad in (["--date", "2099-01-01", "--firm", "F", "--report-no", "X"],
                ["--date", "2026-02-30", "--firm", "F", "--report-no", "X"],
                ["--date", "2026-02-01", "--report-no", "X"],
                ["--date", "2026-02-01", "--firm", "F", "--report-no", "Y", "--conclusion", "pass"]):
        r = run_cli("history", "assessed", "--system", "Shop", *bad, env=env)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (bad, r.stderr)
    assert len(json.loads(run_cli("history", "--format", "json", env=env).stdout)["assessments"]) == 1


# --------------------------------------------------------------------------- the certificate's last valid day


@pytest.mark.parametrize("filed,last", [
    ("2025-03-01", "2028-02-29"),   # a 3-year term from 2025-03-01 runs through 2028-02-29
    ("2025-01-01", "2027-12-31"),   # pre-2025 filings and 2025-01-01: three calendar years
    ("2028-02-29", "2031-02-28"),   # from a leap day: through Feb 28 (the anniversary would be Mar 1)
    ("2026-03-15", "2029-03-14"),
])
def test_the_certificate_is_valid_through_the_day_before_the_anniversary(filed, last):
    f = D(filed)
    c = renewal(level=3, filing_date=f, today=f)["certificate"]
    assert c["expires"] == last
    on_last = renewal(level=3, filing_date=f, today=D(last))["certificate"]
    assert on_last["status"] == "due_soon" and on_last["days_left"] == 0
    after = renewal(level=3, filing_date=f, today=D(last) + timedelta(days=1))["certificate"]
    assert after["status"] == "overdue" and after["days_left"] == -1


def test_an_assessment_on_the_anniversary_is_after_the_certificate_lapsed():
    # filed 2025-03-01: valid through 2028-02-29; assessed on 2028-02-29 it extends (+1 year), on 03-01 it does not
    c = renewal(level=3, filing_date=D("2025-03-01"), today=D("2028-03-10"), assessments=[D("2028-02-29")])["certificate"]
    assert c["completed_assessments"] == 1 and c["expires"] == "2029-02-28" and "lapsed_on" not in c
    c = renewal(level=3, filing_date=D("2025-03-01"), today=D("2028-03-10"), assessments=[D("2028-03-01")])["certificate"]
    assert c["completed_assessments"] == 0 and c["expires"] == "2028-02-29" and c["status"] == "overdue"
    assert c["lapsed_on"] == "2028-03-01" and c["not_extending"] == ["2028-03-01"]
    # each extension is one more year through the day before the next anniversary
    c = renewal(level=3, filing_date=D("2025-03-01"), today=D("2027-06-01"),
                assessments=[D("2026-02-10"), D("2027-02-10")])["certificate"]
    assert c["completed_assessments"] == 2 and c["expires"] == "2030-02-28"
    assert c["extension_window_opens"] == "2029-12-01"  # the last three months of the term
