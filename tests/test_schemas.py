"""The JSON Schemas in schemas/ are the ones the models generate, and the outputs conform to them."""
from __future__ import annotations

import json

from mlps_scan.models import Assessment, ControlResult, Finding, Inventory, Manifest
from mlps_scan.schemas import all_schemas, render

from conftest import ROOT


def test_committed_schemas_match_the_models():
    for name, schema in all_schemas().items():
        p = ROOT / "schemas" / name
        assert p.exists(), f"schemas/{name} missing: run `mlps-scan schemas`"
        assert p.read_text(encoding="utf-8") == render(schema), f"schemas/{name} is stale: run `mlps-scan schemas`"


def test_sample_outputs_validate_against_the_models(sample_bundle):
    for f in json.loads((sample_bundle / "findings.json").read_text()):
        Finding.model_validate(f)
    for c in json.loads((sample_bundle / "controls.json").read_text()):
        ControlResult.model_validate(c)
    Manifest.model_validate_json((sample_bundle / "manifest.json").read_text())
    Inventory.model_validate_json((sample_bundle / "inventory.json").read_text())
    Assessment.model_validate_json((sample_bundle / "assessment.json").read_text())
