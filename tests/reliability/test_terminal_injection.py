"""Terminal injection and markup: everything printed that came from input (system names, asset and resource
ids, paths, zip member names, evidence errors) reaches the terminal escaped (terminal.py), in every command. An
ANSI escape in an input never reaches the terminal as one; rich markup in an input (`[/]`, `[bold red]`) is
printed as written and never crashes a command (exit 4)."""
from __future__ import annotations

import shutil
import zipfile

import pytest
import yaml

from conftest import run_cli
from relhelp import cli_inprocess

ESC = "\x1b"
# cursor up + erase line + a fake verdict, a screen clear, OSC title, a bidi override, and rich markup
HOSTILE = "\x1b[1A\x1b[2KOK \x1b[2J\x1b]0;pwned\x07\u202eevil [/] [bold red]x[/bold red] \\[ :smile:"


def _no_raw_controls(r, what: str) -> None:
    for stream, text in (("stdout", r.stdout), ("stderr", r.stderr)):
        assert ESC not in text and "\x07" not in text and "\u202e" not in text, (what, stream, text[:2000])
    assert r.returncode != 4, (what, r.stderr)
    assert "Traceback" not in r.stderr and "MarkupError" not in r.stderr, (what, r.stderr)


def _estate(tmp, name: str, with_fw2: bool):
    ev = tmp / f"static-{name}.yaml"
    assets = [{"type": "network.firewall", "id": f"fw-{HOSTILE}", "name": f"edge {HOSTILE}",
               "attributes": {"default_action": "allow", "logging": False, "rules": []}}]
    if with_fw2:
        assets.append({"type": "network.firewall", "id": f"fw2-{HOSTILE}", "name": HOSTILE,
                       "attributes": {"default_action": "deny", "logging": True, "log_destination": "syslog://10.0.0.5",
                                      "rules": []}})
    ev.write_text(yaml.safe_dump({"kind": "mlps-scan/static", "assets": assets}, allow_unicode=True))
    cfg = tmp / f"scan-{name}.yaml"
    cfg.write_text(yaml.safe_dump({"system": {"name": f"Shop {HOSTILE}", "level": 3, "filing_date": "2025-06-01"},
                                   "static": [{"name": "fw", "path": ev.name}]}, allow_unicode=True))
    return cfg


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile-term")
    hist = str(tmp / "history.sqlite3")
    old, new = tmp / "old[/]", tmp / "new[bold]"
    r1 = run_cli("scan", "--config", str(_estate(tmp, "a", False)), "--out", str(old), env={"MLPS_SCAN_HISTORY": hist})
    r2 = run_cli("scan", "--config", str(_estate(tmp, "b", True)), "--out", str(new), env={"MLPS_SCAN_HISTORY": hist})
    return tmp, hist, old, new, (r1, r2)


def test_scan_with_markup_in_out_and_hostile_names(hostile):
    tmp, hist, old, new, runs = hostile
    for r in runs:
        _no_raw_controls(r, "scan")
        assert r.returncode == 1, r.stderr
    assert "[/]" in runs[0].stdout and "\\x1b" not in runs[0].stdout  # `out[/]` printed as written
    assert (old / "manifest.json").exists()


@pytest.mark.parametrize("args", [
    ("check", "{old}", "--level", "3"),
    ("check", "{old}", "--level", "3", "--format", "json"),
    ("verify", "{old}"),
    ("diff", "{old}", "{new}"),
    ("diff", "{old}", "{new}", "--format", "json"),
    ("history",),
    ("history", "--format", "json"),
    ("history", "record", "{new}"),
    ("renewal", "--today", "2026-11-01"),
    ("questionnaire", "{old}", "-o", "{tmp}/q[/].yaml", "--force"),
    ("questionnaire", "{old}", "-o", "-"),
    ("merge", "{old}", "{new}", "--out", "{tmp}/merged[/]", "--force"),
    ("collect", "--config", "{tmp}/scan-a.yaml", "--out", "{tmp}/collected[red]", "--force"),
])
def test_every_command_prints_input_escaped(hostile, capsys, args):
    tmp, hist, old, new, _ = hostile
    argv = [a.format(old=old, new=new, tmp=tmp) for a in args]
    r = cli_inprocess(capsys, *argv, env={"MLPS_SCAN_HISTORY": hist})
    _no_raw_controls(r, argv)
    if args in (("diff", "{old}", "{new}"), ("history",), ("renewal", "--today", "2026-11-01")):
        assert "\\x1b[1A" in r.stdout or "\\x1b" in r.stdout, (argv, r.stdout[:500])


def test_grade_prints_the_system_name_escaped(hostile, capsys):
    tmp, hist, old, new, _ = hostile
    q = tmp / "answered.yaml"
    r = cli_inprocess(capsys, "questionnaire", str(old), "-o", str(q), "--force")
    assert r.returncode == 0, r.stderr
    doc = yaml.safe_load(q.read_text())
    doc["impact"]["business_information"]["rationale"] = HOSTILE
    q.write_text(yaml.safe_dump(doc, allow_unicode=True))
    r = cli_inprocess(capsys, "grade", str(q))
    _no_raw_controls(r, "grade")
    assert "Shop \\x1b[1A" in r.stdout


def test_verify_names_a_zip_member_with_cursor_escapes_escaped(hostile, tmp_path, capsys):
    """A member named with cursor-movement escapes must not overwrite verify's FAIL line with an OK."""
    _, _, old, _, _ = hostile
    z = tmp_path / "bundle.zip"
    shutil.copy(old / "bundle.zip", z)
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr("evidence/\x1b[1A\x1b[2KOK every file matches.json", b"{}")
    r = cli_inprocess(capsys, "verify", str(z))
    assert r.returncode == 1
    _no_raw_controls(r, "verify")
    assert "FAIL" in r.stderr and "\\x1b[1A" in r.stderr


def test_error_messages_are_one_line(tmp_path):
    """A config path holding a newline (or escapes) gives a one-line error."""
    bad = tmp_path / "line1\nline2\x1b[2J.yaml"
    r = run_cli("scan", "--config", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert ESC not in r.stderr and "line1\\nline2" in r.stderr


def test_the_helper():
    from mlps_scan.terminal import fmt, json_text, markup, plain
    assert plain("a\x1b[2Jb\nc\u202ed\x9b") == "a\\x1b[2Jb\\nc\\u202ed\\x9b"
    assert markup("[/]") == "\\[/]"
    assert fmt("[bold]{}[/]", "[red]x") == "[bold]\\[red]x[/]"
    from rich.console import Console
    con = Console(record=True, width=200, highlight=False, emoji=False)
    con.print(fmt("[bold]{}[/] {}", "[/]", HOSTILE))  # must not raise MarkupError
    assert "[/]" in con.export_text() and ESC not in con.export_text()
    assert "\\u202e" in json_text({"a": "\u202e\x9b"}) and "\\u009b" in json_text({"a": "\x9b"})
