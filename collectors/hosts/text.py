"""Small readers shared by the fact parsers: `key=value` lines, `path: content` lines, lenient integers."""
from __future__ import annotations

from typing import Any


def key_values(text: str, sep: str = "=") -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if sep in line:
            k, _, v = line.partition(sep)
            out[k.strip()] = v.strip().strip('"').strip("'")
    return out


def strip_path(line: str) -> tuple[str, str]:
    """'path: content' -> (path, content)."""
    if line.startswith("/") and ": " in line:
        p, _, c = line.partition(": ")
        return p, c.strip()
    return "", line.strip()


def to_int(v: Any) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None
