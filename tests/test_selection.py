"""Running a subset of the checks: `--checks`, `--skip-checks`, `--severity`. The selection is recorded in the
manifest, and a control never reads `compliant` because one of its checks did not run."""
from __future__ import annotations

import json

import pytest

from mlps_scan import pipeline
from mlps_scan.errors import InputError
from mlps_scan.selection import Selection


def _controls(ev):
    return {c.control_id: c for c in ev.controls}


def test_no_selection_runs_everything_and_records_nothing(sample_bundle):
    ev = pipeline.check(sample_bundle, level=3, profile_path=None)
    assert "selection" not in ev.extra
    assert all(not c.skipped_checks for c in ev.controls)
    assert _controls(ev)["L3-CES2-10"].status.value == "compliant"


def test_a_skipped_check_keeps_its_control_from_compliant(sample_bundle):
    """L3-CES2-10 (data in China) is compliant on aws.account.china_partition alone; with that check left out
    (and nothing else evidencing it) the item has no automated verdict and says why."""
    ev = pipeline.check(sample_bundle, level=3, profile_path=None,
                        selection=Selection.from_args(skip=["aws.account.china_partition"]))
    c = _controls(ev)["L3-CES2-10"]
    assert c.status.value == "manual" and c.skipped_checks == ["aws.account.china_partition"]
    assert "left out" in c.summary
    assert not any(f.check_id == "aws.account.china_partition" for f in ev.findings)
    assert ev.extra["selection"]["skipped"] == ["aws.account.china_partition"]


def test_partly_run_control_is_partial_at_best(sample_bundle):
    """A control evidenced by several checks: run only one that passes, and it is partial (not compliant),
    naming the checks that did not run."""
    full = _controls(pipeline.check(sample_bundle, level=3, profile_path=None))
    # a control with a passing check among several
    ev_all = pipeline.check(sample_bundle, level=3, profile_path=None)
    passing = {}
    for f in ev_all.findings:
        for cid in f.control_ids:
            passing.setdefault(cid, {}).setdefault(f.check_id, set()).add(f.status.value)
    cid, chk = next((cid, chk) for cid, by in sorted(passing.items()) for chk, st in sorted(by.items())
                    if st == {"pass"} and len(full[cid].checks) > 1 and chk != "attestation")
    ev = pipeline.check(sample_bundle, level=3, profile_path=None, selection=Selection.from_args(checks=[chk]))
    c = _controls(ev)[cid]
    assert c.status.value == "partial", (cid, chk, c.summary)
    assert c.skipped_checks and chk not in c.skipped_checks
    assert "not run in this scan" in c.summary
    assert {f.check_id for f in ev.findings} <= {chk, "attestation"}


def test_severity_and_patterns(sample_bundle):
    from mlps_scan.plugins import checks
    ev = pipeline.check(sample_bundle, level=3, profile_path=None,
                        selection=Selection.from_args(checks=["aws.*,host.*"], severity=["high,critical"]))
    ran = {f.check_id for f in ev.findings} - {"attestation"}
    specs = checks()
    assert ran and all(specs[i].severity in ("high", "critical") and i.split(".")[0] in ("aws", "host") for i in ran)
    assert not any(c.status.value == "compliant" and c.skipped_checks for c in ev.controls)


@pytest.mark.parametrize("kw,needle", [
    ({"checks": ["nosuch.*"]}, "--checks: no check matches 'nosuch.*'"),
    ({"skip": ["aws.iam.nope"]}, "--skip-checks: no check matches"),
    ({"severity": ["urgent"]}, "--severity: unknown severity 'urgent'"),
])
def test_bad_selection_is_an_input_error(kw, needle, sample_bundle):
    with pytest.raises(InputError, match=needle.replace("*", r"\*").replace("(", r"\(")):
        pipeline.check(sample_bundle, level=3, profile_path=None, selection=Selection.from_args(**kw))


def test_selection_that_leaves_nothing_is_an_input_error(sample_bundle):
    with pytest.raises(InputError, match="leaves no check to run at level 1"):
        # aws.rds.multi_az evidences level 3 only
        pipeline.check(sample_bundle, level=1, profile_path=None, selection=Selection.from_args(checks=["aws.rds.multi_az"]))


def test_cli_records_the_selection_in_the_manifest(sample_bundle, tmp_path, cli):
    out = tmp_path / "sel"
    r = cli("check", str(sample_bundle), "--out", str(out), "--no-zip", "--checks", "aws.iam.*", "--quiet")
    assert r.returncode in (0, 1, 3), r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["selection"]["checks"] == ["aws.iam.*"]
    assert "host.auditd" in m["selection"]["skipped"] and "aws.iam.root_mfa" not in m["selection"]["skipped"]
    assert cli("verify", str(out)).returncode == 0
    r = cli("check", str(sample_bundle), "--checks", "no.such")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "no check matches" in r.stderr
