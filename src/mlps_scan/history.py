"""Scan history (stage 6): an SQLite file recording each scan (system, level, time, per-control status,
finding counts, the bundle's manifest hash and path) and the register of completed level assessments
(`history assessed`: date, firm, report number, conclusion, filing certificate) that `renewal` reads.

Location: `--history PATH`, else $MLPS_SCAN_HISTORY, else <user data dir>/mlps-scan/history.sqlite3.
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from .bundle import open_bundle, verify_bundle
from .errors import BundleError, InputError
from .models import utcnow

ENV = "MLPS_SCAN_HISTORY"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scans (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  system TEXT NOT NULL,
  level INTEGER,
  scanned_at TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  filing_date TEXT,
  partial INTEGER NOT NULL DEFAULT 0,
  findings TEXT NOT NULL,
  controls TEXT NOT NULL,
  assets INTEGER,
  bundle_hash TEXT NOT NULL UNIQUE,
  bundle_path TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS control_status (
  scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
  control_id TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (scan_id, control_id)
);
CREATE INDEX IF NOT EXISTS scans_system ON scans(system, scanned_at);
CREATE TABLE IF NOT EXISTS assessments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  system TEXT NOT NULL,
  assessed_on TEXT NOT NULL,
  firm TEXT NOT NULL,
  report_no TEXT NOT NULL,
  conclusion TEXT,
  certificate_no TEXT,
  level INTEGER,
  filing_date TEXT,
  recorded_at TEXT NOT NULL,
  UNIQUE (system, report_no)
);
"""

CONCLUSIONS = {"符合": "compliant", "基本符合": "basically_compliant", "不符合": "non_compliant",
               "compliant": "compliant", "basically_compliant": "basically_compliant", "non_compliant": "non_compliant"}


def default_path() -> Path:
    from platformdirs import user_data_dir
    return Path(user_data_dir("mlps-scan")) / "history.sqlite3"


def resolve_path(cli_path: str | Path | None = None) -> Path:
    if cli_path:
        return Path(cli_path).expanduser()
    env = os.environ.get(ENV)
    if env:
        return Path(env).expanduser()
    return default_path()


class History:
    def __init__(self, path: str | Path | None = None, create: bool = True):
        self.path = resolve_path(path)
        if self.path.exists() and self.path.is_dir():
            raise InputError(f"history {self.path} is a folder, not an SQLite file")
        if not self.path.exists() and not create:
            self.conn = None
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # concurrent writers (two scans, `history record` run twice at once) wait for each other: a busy
            # timeout, WAL so readers never block a writer, and writes in BEGIN IMMEDIATE transactions
            self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.conn.execute("PRAGMA busy_timeout = 60000")
            self.conn.execute("PRAGMA foreign_keys = ON")
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:  # a file system without WAL support: rollback journal + busy timeout
                pass
            with self._write():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self.conn.execute(stmt)
        except (sqlite3.Error, OSError) as e:
            raise InputError(f"history {self.path}: cannot open ({e})") from None

    @contextmanager
    def _write(self):
        """One write transaction, taken at once (BEGIN IMMEDIATE): a concurrent writer waits, never interleaves."""
        assert self.conn is not None
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ writing

    def record_bundle(self, bundle: str | Path) -> tuple[int, bool]:
        """Add a bundle (folder or zip). Returns (scan id, True if newly added; False if already recorded)."""
        reader = open_bundle(Path(bundle))
        m = reader.manifest()
        if m.level is None or not reader.has("controls.json"):
            raise InputError(f"{bundle}: has no evaluated level (made by `collect`?): run `mlps-scan check` first")
        problems = verify_bundle(reader.path)
        if problems:
            raise BundleError(f"{bundle}: not recorded, the bundle fails verification: {problems[0]}"
                              + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        controls = reader.controls()
        findings = reader.findings() if reader.has("findings.json") else []
        fcounts = dict(Counter(f.status.value for f in findings))
        ccounts = dict(Counter(c.status.value for c in controls))
        path = str(Path(reader.path).expanduser().absolute())
        try:
            return self._insert(m.system, m.level, m.finished_at.isoformat(), reader.scan_settings().filing_date,
                                m.partial, fcounts, ccounts,
                                m.counts.get("assets") if isinstance(m.counts.get("assets"), int) else None,
                                reader.manifest_sha256(), path, [(c.control_id, c.status.value) for c in controls])
        except sqlite3.Error as e:
            raise InputError(f"history {self.path}: cannot record ({e})") from None

    def _insert(self, system, level, scanned_at, filing, partial, fcounts, ccounts, assets, bundle_hash, path, rows):
        assert self.conn is not None
        with self._write():
            cur = self.conn.execute("SELECT id FROM scans WHERE bundle_hash = ?", (bundle_hash,))
            row = cur.fetchone()
            if row:
                self.conn.execute("UPDATE scans SET bundle_path = ? WHERE id = ?", (path, row[0]))
                return row[0], False
            cur = self.conn.execute(
                "INSERT INTO scans (system, level, scanned_at, recorded_at, filing_date, partial, findings, controls,"
                " assets, bundle_hash, bundle_path) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (system, level, scanned_at, utcnow().isoformat(), filing, int(bool(partial)),
                 json.dumps(fcounts, sort_keys=True), json.dumps(ccounts, sort_keys=True), assets, bundle_hash, path))
            sid = cur.lastrowid
            self.conn.executemany("INSERT OR REPLACE INTO control_status (scan_id, control_id, status) VALUES (?,?,?)",
                                  [(sid, c, s) for c, s in rows])
        return sid, True

    def record_assessment(self, *, system: str, assessed_on: str, firm: str, report_no: str,
                          conclusion: str | None = None, certificate_no: str | None = None, level: int | None = None,
                          filing_date: str | None = None) -> tuple[int, bool]:
        """Add a completed level assessment to the register. Returns (id, True if new); recording the same
        report again changes nothing, recording it with other values is an input error."""
        assert self.conn is not None
        if conclusion is not None and conclusion not in CONCLUSIONS:
            raise InputError(f"history assessed: unknown conclusion {conclusion!r}: 符合, 基本符合 or 不符合 "
                             "(compliant, basically_compliant, non_compliant)")
        code = CONCLUSIONS.get(conclusion) if conclusion else None
        row = (system, assessed_on, firm, report_no, code, certificate_no, level, filing_date)
        with self._write():
            cur = self.conn.execute("SELECT id, system, assessed_on, firm, report_no, conclusion, certificate_no, level, "
                                    "filing_date FROM assessments WHERE system = ? AND report_no = ?", (system, report_no))
            old = cur.fetchone()
            if old:
                if tuple(old[1:]) == row:
                    return old[0], False
                raise InputError(f"history assessed: report {report_no!r} of {system!r} is already recorded with other "
                                 f"values (date {old[2]}, firm {old[3]}): use another report number")
            cur = self.conn.execute(
                "INSERT INTO assessments (system, assessed_on, firm, report_no, conclusion, certificate_no, level,"
                " filing_date, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)", (*row, utcnow().isoformat()))
            return cur.lastrowid, True

    # ------------------------------------------------------------------ reading

    def assessments(self, system: str | None = None) -> list[dict[str, Any]]:
        if self.conn is None:
            return []
        q = ("SELECT id, system, assessed_on, firm, report_no, conclusion, certificate_no, level, filing_date, "
             "recorded_at FROM assessments")
        args: tuple = ()
        if system:
            q += " WHERE system = ?"
            args = (system,)
        q += " ORDER BY assessed_on, id"
        keys = ("id", "system", "assessed_on", "firm", "report_no", "conclusion", "certificate_no", "level",
                "filing_date", "recorded_at")
        with closing(self.conn.execute(q, args)) as cur:
            return [dict(zip(keys, r)) for r in cur.fetchall()]

    def scans(self, system: str | None = None) -> list[dict[str, Any]]:
        if self.conn is None:
            return []
        q = "SELECT id, system, level, scanned_at, recorded_at, filing_date, partial, findings, controls, assets, " \
            "bundle_hash, bundle_path FROM scans"
        args: tuple = ()
        if system:
            q += " WHERE system = ?"
            args = (system,)
        q += " ORDER BY scanned_at, id"
        out = []
        with closing(self.conn.execute(q, args)) as cur:
            for r in cur.fetchall():
                out.append({"id": r[0], "system": r[1], "level": r[2], "scanned_at": r[3], "recorded_at": r[4],
                            "filing_date": r[5], "partial": bool(r[6]), "findings": json.loads(r[7]),
                            "controls": json.loads(r[8]), "assets": r[9], "bundle_hash": r[10], "bundle_path": r[11]})
        return out

    def control_statuses(self, scan_id: int) -> dict[str, str]:
        if self.conn is None:
            return {}
        with closing(self.conn.execute("SELECT control_id, status FROM control_status WHERE scan_id = ?", (scan_id,))) as cur:
            return dict(cur.fetchall())

    def systems(self) -> list[str]:
        if self.conn is None:
            return []
        with closing(self.conn.execute("SELECT system FROM scans UNION SELECT system FROM assessments "
                                       "ORDER BY system")) as cur:
            return [r[0] for r in cur.fetchall()]


def record_after_scan(out: Path, history_path: str | Path | None = None) -> tuple[Path, int, bool]:
    with History(history_path) as h:
        sid, new = h.record_bundle(out)
        return h.path, sid, new
