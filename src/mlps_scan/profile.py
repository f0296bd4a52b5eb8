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


def _checked_dates(loader: type) -> type:
    """`loader` whose timestamps that do not exist (an unquoted `2026-13-01`) are a YAML error with the
    node's line and column, instead of a ValueError from deep inside the constructor."""
    class Loader(loader):  # type: ignore[misc, valid-type]
        pass

    def timestamp(self, node):
        try:
            return loader.construct_yaml_timestamp(self, node)
        except ValueError as e:
            raise yaml.constructor.ConstructorError(None, None, f"not a real date: {node.value} ({e})",
                                                    node.start_mark) from None

    Loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp)
    return Loader


def load_yaml_file(path: Path, what: str, loader: type = yaml.SafeLoader) -> object:
    """Read a YAML file a user gave us; every failure becomes one InputError line. `loader` must be
    yaml.SafeLoader or a subclass of it."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"{what} not found: {path}")
    assert issubclass(loader, yaml.SafeLoader)
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_checked_dates(loader))  # noqa: S506 - SafeLoader only
    except UnicodeDecodeError:
        raise InputError(f"{what} {path} is not UTF-8 text") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{what} {path}:{where}: malformed YAML: {problem}") from None


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
