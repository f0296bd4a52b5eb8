"""JSON Schemas of the output files, generated from the models (kept in the repo under schemas/)."""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter

from .models import Assessment, ControlResult, EvidenceRecord, Finding, Inventory, Manifest, Questionnaire


def all_schemas() -> dict[str, dict]:
    from .config import scan_config_model
    return {
        "findings.schema.json": TypeAdapter(list[Finding]).json_schema(),
        "controls.schema.json": TypeAdapter(list[ControlResult]).json_schema(),
        "manifest.schema.json": Manifest.model_json_schema(),
        "inventory.schema.json": Inventory.model_json_schema(),
        "evidence-record.schema.json": EvidenceRecord.model_json_schema(),
        "scan-config.schema.json": scan_config_model().model_json_schema(),
        "questionnaire.schema.json": Questionnaire.model_json_schema(),
        "assessment.schema.json": Assessment.model_json_schema(),
    }


def render(schema: dict) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_schemas(out: Path) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, schema in all_schemas().items():
        p = out / name
        p.write_text(render(schema), encoding="utf-8")
        paths.append(p)
    return paths
