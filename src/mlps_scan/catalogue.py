"""The control catalogue: every GB/T 22239-2019 requirement item for levels 1-3 as data (data/controls.yaml)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from .models import Area, Control

AREA_ORDER = ["PES", "CNS", "ABS", "CES", "SMC", "PSS", "ORS", "HRS", "CMS", "MMS"]


class Catalogue:
    def __init__(self, areas: list[Area], controls: list[Control]):
        self.areas = {a.code: a for a in areas}
        self.controls = controls
        self.by_id = {c.id: c for c in controls}
        if len(self.by_id) != len(controls):
            raise ValueError("duplicate control ids in the catalogue")

    def for_level(self, level: int) -> list[Control]:
        return [c for c in self.controls if c.level == level]

    def __contains__(self, control_id: str) -> bool:
        return control_id in self.by_id

    def get(self, control_id: str) -> Control:
        return self.by_id[control_id]

    def levels(self) -> list[int]:
        return sorted({c.level for c in self.controls})


# the built-in data is ours and plain: libyaml's loader (when PyYAML has it) reads it ~7x faster than the
# pure-Python one, which is what made every command pay about a second before it started
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_data(name: str):
    """A YAML file of the package's data/ folder, parsed."""
    text = resources.files("mlps_scan").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


@lru_cache(maxsize=1)
def load() -> Catalogue:
    """The catalogue, loaded once per process."""
    doc = load_data("controls.yaml")
    return Catalogue([Area.model_validate(a) for a in doc["areas"]],
                     [Control.model_validate(c) for c in doc["controls"]])
