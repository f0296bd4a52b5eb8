"""Response headers parsed without the e-mail parser, for the plain header blocks APIs send.

`http.client` (under urllib3, so under botocore and the Kubernetes client) reads a response's header lines and
hands them to `email.parser`, a general RFC 2822 parser: about 8 % of the AWS collector's CPU at scale goes
there, for blocks of a handful of `Name: value` lines. `parse_headers` here builds the same `HTTPMessage` from
such a block directly, and gives every other block (a folded line, a line that is not `name: value`, a bare
CR, an unterminated block) to the standard parser, so what a caller sees never differs: `tests/
test_httpheaders.py` compares the two messages attribute by attribute over generated blocks, odd ones included.

`install()` puts it in `http.client` for this process (idempotent; the line limits of `http.client`, read by
its own `_read_headers`, stay as they are). Without `http.client._read_headers` (another Python) it does
nothing.
"""
from __future__ import annotations

import http.client
import io
import re
from typing import Any

_ORIGINAL = http.client.parse_headers
_READ = getattr(http.client, "_read_headers", None)
# the e-mail parser's header rule (email.feedparser.headerRE) with a non-empty name, one line, no CR or LF inside
_SIMPLE = re.compile(r"([\041-\071\073-\176]+):([^\r\n]*)\r?\n")


def simple_message(lines: list[bytes], _class: type = http.client.HTTPMessage) -> Any | None:
    """The message the e-mail parser makes of these header lines (each with its line end, the last one blank),
    or None when a line is not a plain `name: value` line."""
    if not lines or lines[-1] not in (b"\r\n", b"\n"):
        return None
    msg = _class()
    for raw in lines[:-1]:
        m = _SIMPLE.fullmatch(raw.decode("iso-8859-1"))
        if m is None:
            return None
        # what email's compat32 policy stores (header_source_parse): the value without leading blanks or line end
        msg.set_raw(m.group(1), m.group(2).lstrip(" \t"))
    msg.set_payload("")
    return msg


def parse_headers(fp, _class: type = http.client.HTTPMessage):
    """Drop-in for `http.client.parse_headers`."""
    lines = _READ(fp)  # type: ignore[misc]
    msg = simple_message(lines, _class)
    if msg is None:  # the standard parser itself, over the same bytes
        return _ORIGINAL(io.BytesIO(b"".join(lines)), _class)
    return msg


def install() -> bool:
    """Use `parse_headers` in `http.client` for this process. False, changing nothing, when this Python's
    `http.client` lacks the line reader it builds on or something else has replaced its parser already."""
    current = http.client.parse_headers
    if current is parse_headers:
        return True
    if _READ is None or current is not _ORIGINAL:
        return False
    http.client.parse_headers = parse_headers
    return True


__all__ = ["install", "parse_headers", "simple_message"]
