"""Errors that end a command with one clear line and a known exit code."""
from __future__ import annotations


class MlpsError(Exception):
    """Base: the message is shown to the user as one line."""

    exit_code = 2


class InputError(MlpsError):
    """Bad user input: malformed or invalid files, unknown options, hostile targets. Exit 2."""


class BundleError(MlpsError):
    """A bundle failed verification or cannot be read. Exit 1."""

    exit_code = 1


def yaml_path(loc: tuple) -> str:
    """Render a pydantic error location as a YAML path: aws[0].regions[1]."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def pydantic_message(exc, prefix: str = "") -> str:
    """One line for a pydantic ValidationError: the first problem with its YAML path, and how many more."""
    errs = exc.errors()
    if not errs:
        return prefix + str(exc)
    e = errs[0]
    loc = yaml_path(tuple(p for p in e.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))))
    msg = e.get("msg", "invalid value")
    if e.get("type") == "extra_forbidden":
        msg = "unknown key"
    elif e.get("type") == "missing":
        msg = "required key is missing"
    more = f" (and {len(errs) - 1} more problem{'s' if len(errs) > 2 else ''})" if len(errs) > 1 else ""
    return f"{prefix}{loc}: {msg}{more}"
