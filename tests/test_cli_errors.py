"""Bad input gets one clear line, exit 2, no traceback, nothing written to --out."""
from __future__ import annotations

import pytest
import yaml

from conftest import SAMPLE, run_cli


def assert_clean_error(r, *needles, code=2):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    for n in needles:
        assert n in lines[0], (n, lines[0])


def scan(tmp_path, cfg_text, *extra):
    cfg = tmp_path / "scan.yaml"
    cfg.write_text(cfg_text)
    out = tmp_path / "out"
    r = run_cli("scan", "--config", str(cfg), "--out", str(out), *extra)
    return r, out


@pytest.mark.parametrize("text,needles", [
    ("system: {name: x, level: 3\n", ["malformed YAML", "line"]),
    ("system: {name: x, level: 3}\nbogus: 1\n", ["bogus", "unknown key"]),
    ("system: {name: x, level: 3}\nstatic: [{path: a.yaml, colour: red}]\n", ["static[0].colour", "unknown key"]),
    ("system: {name: x, level: seven}\n", ["system.level"]),
    ("system: {name: x, level: 9}\n", ["system.level"]),
    ("static: []\n", ["system", "required"]),
    ("- just\n- a list\n", ["top level must be a mapping"]),
    ("", ["empty"]),
    ("system: {name: x, level: 3}\nstatic: [{path: missing.yaml}]\n", ["not found", "missing.yaml"]),
])
def test_bad_config(tmp_path, text, needles):
    r, out = scan(tmp_path, text)
    assert_clean_error(r, *needles)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "staging left behind"


def test_malformed_static_file_names_the_file(tmp_path):
    (tmp_path / "bad.yaml").write_text("assets:\n  - type: x\n    id: [unclosed\n")
    r, out = scan(tmp_path, "system: {name: x, level: 3}\nstatic: [{path: bad.yaml}]\n")
    assert_clean_error(r, "bad.yaml", "malformed")
    assert not out.exists()
    (tmp_path / "bad.yaml").write_text("assets:\n  - type: x\n    idd: 1\n")
    r, out = scan(tmp_path, "system: {name: x, level: 3}\nstatic: [{path: bad.yaml}]\n")
    assert_clean_error(r, "bad.yaml", "assets[0]")


def test_missing_config_file(tmp_path):
    r = run_cli("scan", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert_clean_error(r, "not found", "nope.yaml")


@pytest.mark.parametrize("args,needles", [
    (["scan", "--config", str(SAMPLE), "--level", "4", "--out", "x"], ["level", "4"]),
    (["scan", "--config", str(SAMPLE), "--level", "three", "--out", "x"], ["level"]),
    (["scan", "--config", str(SAMPLE), "--out", "x", "--frobnicate"], ["--frobnicate"]),
    (["controls", "--level", "0"], ["level"]),
    (["frobnicate"], ["frobnicate"]),
    ([], ["no command"]),
    (["verify", "/nonexistent/bundle"], ["not found"]),
    (["check", "/nonexistent/bundle", "--level", "3"], ["not found"]),
    (["controls", "--level", "3", "--area", "XYZ"], ["unknown area"]),
])
def test_bad_usage(args, needles):
    assert_clean_error(run_cli(*args), *needles)


def test_no_level_anywhere(tmp_path):
    r, out = scan(tmp_path, "system: {name: x}\n")
    assert_clean_error(r, "no level")
    assert not out.exists()


def test_out_that_is_not_a_bundle_is_not_clobbered(tmp_path):
    keep = tmp_path / "out"
    keep.mkdir()
    (keep / "precious.txt").write_text("do not delete")
    r = run_cli("scan", "--config", str(SAMPLE), "--out", str(keep))
    assert_clean_error(r, "not an mlps-scan bundle")
    assert (keep / "precious.txt").read_text() == "do not delete"


def test_bad_profile_names_the_key(tmp_path):
    prof = tmp_path / "p.yaml"
    prof.write_text(yaml.safe_dump({"password_min_length": "long"}))
    r = run_cli("scan", "--config", str(SAMPLE), "--out", str(tmp_path / "o"), "--profile", str(prof))
    assert_clean_error(r, "password_min_length")
    prof.write_text(yaml.safe_dump({"pasword_min_length": 8}))
    r = run_cli("scan", "--config", str(SAMPLE), "--out", str(tmp_path / "o"), "--profile", str(prof))
    assert_clean_error(r, "pasword_min_length", "unknown key")
    assert not (tmp_path / "o").exists()


def test_verify_on_a_random_file(tmp_path):
    f = tmp_path / "x.zip"
    f.write_text("not a zip")
    assert_clean_error(run_cli("verify", str(f)), "neither")


def test_rescan_into_an_existing_bundle_replaces_it(tmp_path):
    out = tmp_path / "out"
    for _ in range(2):
        r = run_cli("scan", "--config", str(SAMPLE), "--out", str(out), "--quiet")
        assert r.returncode in (0, 1, 3), r.stderr
    assert run_cli("verify", str(out)).returncode == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
