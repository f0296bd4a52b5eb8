"""scan.yaml: the system, its level and its targets. Validated by pydantic; problems are reported with
their YAML path (e.g. `aws[0].regions: Input should be a valid list`)."""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, create_model

from .errors import InputError, pydantic_message
from .models import Strict
from .plugins import collectors, plugin_failures
from .profile import load_yaml_file


class SystemInfo(Strict):
    name: str = Field(min_length=1, max_length=200)
    level: int | None = Field(None, ge=1, le=3, description="MLPS level; omit to grade later")
    filing_date: date | None = Field(None, description="date of the filing (备案) or last assessment")
    description: str | None = None
    owner: str | None = None
    extensions: list[Literal["cloud"]] | None = Field(
        None, description="GB/T 22239 extensions in scope besides the general requirements ([cloud] or []); "
                          "default: derived from the targets (an AWS account implies cloud). Items of an extension "
                          "out of scope are 不适用 (not_applicable)")
    sample: bool = Field(False, description="a demonstration estate (the built-in sample): its scans are not recorded "
                                            "in the history unless --history names a file")


@lru_cache(maxsize=1)
def scan_config_model() -> type[BaseModel]:
    """ScanConfig with one optional list per registered collector (its `config_key`)."""
    fields: dict[str, Any] = {
        "system": (SystemInfo, ...),
        "profile": (str | dict[str, Any] | None, Field(None, description="profile override: a file path or thresholds inline")),
    }
    for c in sorted(collectors().values(), key=lambda c: c.config_key):
        fields[c.config_key] = (list[c.target_model], Field(default_factory=list, description=c.description))
    return create_model("ScanConfig", __base__=Strict, **fields)


class LoadedConfig:
    def __init__(self, model: BaseModel, path: Path):
        self.model = model
        self.path = path
        self.base_dir = path.parent

    @property
    def system(self) -> SystemInfo:
        return self.model.system  # type: ignore[attr-defined]

    def targets(self):
        """(collector class, target model) for every target in the file, in collector order."""
        for name, cls in sorted(collectors().items()):
            for t in getattr(self.model, cls.config_key, []) or []:
                yield cls, t


def load_config(path: str | Path) -> LoadedConfig:
    path = Path(path).expanduser()
    doc = load_yaml_file(path, "scan config")
    if doc is None:
        raise InputError(f"scan config {path} is empty")
    if not isinstance(doc, dict):
        raise InputError(f"scan config {path}: the top level must be a mapping (system:, aws:, hosts: ...)")
    try:
        model = scan_config_model().model_validate(doc)
    except ValidationError as e:
        broken = [p.name for p in plugin_failures() if p.group == "mlps_scan.collectors"]
        hint = f" (collector plugin {', '.join(broken)} failed to load)" if broken else ""
        raise InputError(pydantic_message(e, prefix=f"scan config {path}: ") + hint) from None
    cfg = LoadedConfig(model, path.resolve())
    by_collector: dict[type, list] = {}
    for cls, t in cfg.targets():
        cls().validate_target(t, cfg.base_dir)
        by_collector.setdefault(cls, []).append(t)
    for cls, ts in by_collector.items():
        cls().validate_targets(ts, cfg.base_dir)
    return cfg
