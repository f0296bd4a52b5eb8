"""The sample's findings, controls, inventory, settings and questionnaire equal the stored copy
(tests/data/golden/acme-shop). A change that means to alter them runs scripts/update-golden and commits the
diff; any other difference is a regression (a refactor that moved a verdict, a lost asset)."""
from __future__ import annotations

import difflib

import pytest

from golden import GOLDEN, outputs


def test_sample_outputs_equal_the_stored_copy(sample_bundle):
    got = outputs(sample_bundle)
    stored = {p.name: p.read_text(encoding="utf-8") for p in GOLDEN.iterdir()}
    assert sorted(got) == sorted(stored), "files differ: run scripts/update-golden if this is intended"
    for name in sorted(stored):
        if got[name] != stored[name]:
            diff = "".join(list(difflib.unified_diff(stored[name].splitlines(True), got[name].splitlines(True),
                                                     f"golden/{name}", f"scan/{name}", n=1))[:60])
            pytest.fail(f"{name} differs from the stored copy (scripts/update-golden if intended):\n{diff}")
