"""Reading a large JSON document one top-level entry at a time, and the items of one of its arrays one item at a
time, without holding the whole document (a `kubectl get -o json` dump of a large cluster is hundreds of MB;
parsed whole it would take several times that in memory).

Each value is parsed by the standard library's C decoder (`raw_decode`) from a sliding text buffer; a value cut
by the end of the buffer is parsed again once more text is read. Only a JSON object at the top level is read
this way; anything else (and any syntax error) raises `JsonStreamError` with the line it was found on.
"""
from __future__ import annotations

import json
import re
import types
from pathlib import Path
from typing import Any, Iterator

_WS = re.compile(r"[ \t\n\r]*")
_DECODE = json.JSONDecoder().raw_decode
CHUNK = 1 << 20
MAX_VALUE = 256 << 20  # one value (one item) larger than this is refused rather than buffered without end


class JsonStreamError(ValueError):
    def __init__(self, msg: str, line: int):
        super().__init__(f"line {line}: {msg}")
        self.line = line
        self.msg = msg


class JsonObjectStream:
    """`for key, value in stream`: the top-level entries of a JSON object in file order. The value of the key
    named `stream_key`, when it is an array, is handed over as an iterator of its items (consume it before the
    next entry)."""

    def __init__(self, path: Path, stream_key: str = "items", chunk: int = CHUNK):
        self.path = Path(path)
        self.stream_key = stream_key
        self.chunk = chunk
        self._f = None
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._lines_before = 0  # newlines in text already dropped from the buffer

    # ------------------------------------------------------------------ buffer

    def __enter__(self) -> "JsonObjectStream":
        self._f = open(self.path, encoding="utf-8")
        return self

    def __exit__(self, *exc) -> None:
        if self._f is not None:
            self._f.close()

    def _fill(self) -> bool:
        """Read more text; drop what was consumed. False at the end of the file."""
        if self.eof:
            return False
        more = self._f.read(self.chunk)
        if not more:
            self.eof = True
            return False
        if self.pos:
            self._lines_before += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos:]
            self.pos = 0
        self.buf += more
        return True

    def line(self, pos: int | None = None) -> int:
        return self._lines_before + self.buf.count("\n", 0, self.pos if pos is None else pos) + 1

    def _error(self, msg: str, pos: int | None = None) -> JsonStreamError:
        return JsonStreamError(msg, self.line(pos))

    def _skip_ws(self) -> None:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or not self._fill():
                return

    def _peek(self) -> str:
        self._skip_ws()
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def _expect(self, ch: str) -> None:
        if self._peek() != ch:
            got = self.buf[self.pos:self.pos + 1] or "end of file"
            raise self._error(f"expected {ch!r}, found {got!r}")
        self.pos += 1

    def _value(self) -> Any:
        """One JSON value at the position (parsed whole)."""
        self._skip_ws()
        start_len = len(self.buf) - self.pos
        while True:
            try:
                v, end = _DECODE(self.buf, self.pos)
            except json.JSONDecodeError as e:
                if self._fill_for(start_len):
                    continue
                raise self._error(e.msg, e.pos) from None
            except RecursionError:  # a hostile file nested thousands deep: an input error, not a crash
                raise self._error("nested too deeply") from None
            if type(v) in (int, float) and len(self.buf) - end < 64 and not self.eof and self._fill_for(start_len):
                continue  # a number near the end of the buffer may go on in the next chunk ("1e" + "-7")
            self.pos = end
            _bounded(v, self)
            return v

    def _fill_for(self, start_len: int) -> bool:
        if len(self.buf) - self.pos - start_len > MAX_VALUE:
            raise self._error(f"a value larger than {MAX_VALUE >> 20} MiB (or malformed JSON)")
        return self._fill()

    # ------------------------------------------------------------------ structure

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        self._expect("{")
        if self._peek() == "}":
            self.pos += 1
            self._end()
            return
        while True:
            if self._peek() != '"':
                raise self._error("expected a key (a string in double quotes)")
            key = self._value()
            self._expect(":")
            if key == self.stream_key and self._peek() == "[":
                self.pos += 1
                items = self._items()
                yield key, items
                for _ in items:  # whatever the caller left unread
                    pass
            else:
                yield key, self._value()
            ch = self._peek()
            if ch == ",":
                self.pos += 1
                continue
            if ch == "}":
                self.pos += 1
                self._end()
                return
            raise self._error(f"expected ',' or '}}' after the value of {key[:40]!r}")

    def _items(self) -> Iterator[Any]:
        if self._peek() == "]":
            self.pos += 1
            return
        while True:
            yield self._value()
            ch = self._peek()
            if ch == ",":
                self.pos += 1
                continue
            if ch == "]":
                self.pos += 1
                return
            raise self._error("expected ',' or ']' between items")

    def _end(self) -> None:
        if self._peek() != "":
            raise self._error("extra data after the end of the document")


def starts_with_item_array(path: Path, key: str = "items", limit: int = 1 << 20) -> bool:
    """Whether a JSON file is an object whose `key` holds an array, judged from its first `limit` characters
    (the entries before `key`, which in a kubectl dump is only `apiVersion`). Nothing past that is read."""
    try:
        with JsonObjectStream(path, key, chunk=min(CHUNK, limit)) as st:
            for k, v in st:
                if k == key:
                    return isinstance(v, types.GeneratorType)  # the array is there (not read)
                if st.pos > limit:
                    return False
    except (JsonStreamError, UnicodeDecodeError, OSError):
        return False
    return False


def _bounded(v: Any, stream: "JsonObjectStream") -> None:
    """The nesting bound every input has (mlps_scan.loaders.MAX_DEPTH), for one streamed value."""
    from .errors import InputError
    from .loaders import MAX_DEPTH, check_depth
    try:
        check_depth(v, "value")
    except InputError:
        raise stream._error(f"nested deeper than {MAX_DEPTH} levels") from None
