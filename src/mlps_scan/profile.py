"""Profiles: the thresholds a level demands, with a consultant's overrides on top."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from .errors import InputError, pydantic_message
from .models import Profile


@lru_cache(maxsize=1)
def _defaults() -> dict:
    return yaml.safe_load(resources.files("mlps_scan").joinpath("data/profiles.yaml").read_text("utf-8"))["levels"]


def load_yaml_file(path: Path, what: str, loader: type = yaml.SafeLoader) -> object:
    """Read a YAML file a user gave us (loaders.py: a regular file under the size limit, bounded nesting,
    duplicate keys and impossible dates refused); every failure becomes one InputError line. `loader` must be
    yaml.SafeLoader or a subclass of it."""
    from .loaders import load_yaml_file as load
    assert issubclass(loader, yaml.SafeLoader)
    return load(path, what, loader)


def build_profile(level: int, override: Path | dict | None = None) -> Profile:
    base = dict(_defaults().get(level, _defaults()[3]))
    base["level"] = level
    src = "profile"
    if isinstance(override, (str, Path)):
        src = f"profile {override}"
        override = load_yaml_file(Path(override), "profile")
        if override is None:
            override = {}
        if not isinstance(override, dict):
            raise InputError(f"{src}: expected a mapping of thresholds")
    if override:
        override = {k: v for k, v in override.items() if k != "level"}
        base.update(override)
        base.setdefault("name", "custom")
    try:
        return Profile.model_validate(base)
    except ValidationError as e:
        raise InputError(pydantic_message(e, prefix=f"{src}: ")) from None
