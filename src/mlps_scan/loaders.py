"""Reading what a user gives us: scan configs, profiles, questionnaires, static evidence, kubeconfigs, keys,
bundle files. One place, so every input gets the same guarantees, each failure being one InputError line
(exit 2):

- a regular file only: a FIFO, a device (/dev/zero), a folder or a socket is refused before it is read (a
  FIFO is opened non-blocking, so it cannot hang the scan);
- at most `max_input_bytes()` bytes (default 256 MiB, `MLPS_SCAN_MAX_INPUT_MB` sets it), checked before
  reading and while reading (a file that grows, or a /proc file that says it is empty);
- nested at most `MAX_DEPTH` levels (no RecursionError deep inside a parser or the redactor), and a YAML
  document whose aliases expand to more than `MAX_NODES` nodes is refused (no "billion laughs");
- YAML: a duplicate key is an error naming the key and its line; an impossible date (`2026-02-30`,
  unquoted `2026-13-01`) is an error naming the line; JSON: a duplicate key is an error too.
"""
from __future__ import annotations

import json
import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

ENV_MAX_MB = "MLPS_SCAN_MAX_INPUT_MB"
DEFAULT_MAX_MB = 256
MAX_DEPTH = 100
MAX_NODES = 5_000_000


def max_input_bytes() -> int:
    raw = os.environ.get(ENV_MAX_MB)
    if raw is None or raw == "":
        return DEFAULT_MAX_MB << 20
    try:
        mb = float(raw)
    except ValueError:
        mb = -1
    if not 0 < mb <= 1 << 20:
        raise InputError(f"{ENV_MAX_MB}={raw!r}: give the largest input file in MiB (e.g. 512)")
    return int(mb * (1 << 20))


def _mib(n: int) -> str:
    return f"{n / (1 << 20):g} MiB"


def read_bytes(path: str | Path, what: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (default: max_input_bytes())."""
    path = Path(path).expanduser()
    limit = max_input_bytes() if limit is None else limit
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a folder, not a file") from None
    except OSError as e:
        raise InputError(f"{what} {path}: cannot read ({e.strerror or e})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(f"{what} {path} is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                    else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
            raise InputError(f"{what} {path} is {kind}: only regular files are read")
        if st.st_size > limit:
            raise InputError(f"{what} {path} is larger than {_mib(limit)} ({_mib(st.st_size)}); "
                             f"{ENV_MAX_MB} raises the limit")
        chunks, size = [], 0
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:  # cannot happen on a regular file; never wait for one that says so
                raise InputError(f"{what} {path}: not readable without waiting") from None
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise InputError(f"{what} {path} is larger than {_mib(limit)}; {ENV_MAX_MB} raises the limit")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as e:
        raise InputError(f"{what} {path}: cannot read ({e.strerror or e})") from None
    finally:
        os.close(fd)


def require_regular_file(path: str | Path, what: str) -> Path:
    """Refuse what is not a regular file (FIFO, device, folder) without opening it; return the path."""
    path = Path(path).expanduser()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except OSError as e:
        raise InputError(f"{what} {path}: cannot read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise InputError(f"{what} {path} is {kind}: only regular files are read")
    return path


def read_text(path: str | Path, what: str, limit: int | None = None) -> str:
    data = read_bytes(path, what, limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} {Path(path).expanduser()} is not UTF-8 text") from None


# --------------------------------------------------------------------------- YAML


class _StrictMixin:
    """compose: depth and alias-expansion bounds; construct: duplicate keys, impossible dates."""

    def compose_document(self):
        self._depth, self._sizes, self._keep = 0, {}, []
        try:
            return super().compose_document()
        finally:
            self._sizes, self._keep = {}, []

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                ev = self.peek_event()
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", ev.start_mark)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if id(node) not in self._sizes:  # an alias returns a node already measured
            if isinstance(node, yaml.SequenceNode):
                kids = [self._sizes.get(id(n), (1, 1)) for n in node.value]
            elif isinstance(node, yaml.MappingNode):
                kids = [self._sizes.get(id(n), (1, 1)) for kv in node.value for n in kv]
            else:
                kids = []
            size, depth = 1 + sum(k[0] for k in kids), 1 + max((k[1] for k in kids), default=0)
            if size > MAX_NODES:
                raise yaml.composer.ComposerError(None, None, f"expands to more than {MAX_NODES} values "
                                                  "(aliases of aliases)", node.start_mark)
            if depth > MAX_DEPTH:  # nesting built from aliases
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", node.start_mark)
            self._sizes[id(node)] = (size, depth)
            self._keep.append(node)  # ids stay unique while the document is composed
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=False)
                try:
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key!r} (a key may appear once in a mapping)", key_node.start_mark)
                    seen.add(key)
                except TypeError:  # an unhashable key: the base constructor says so
                    continue
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(None, None, f"not a real date: {node.value}",
                                                    node.start_mark) from None


@lru_cache(maxsize=None)
def strict_loader(base: type = yaml.SafeLoader) -> type:
    """`base` (yaml.SafeLoader or a subclass) with the bounds and checks of this module."""
    if not issubclass(base, yaml.SafeLoader):
        raise TypeError("only SafeLoader subclasses")
    cls = type(f"Strict{base.__name__}", (_StrictMixin, base), {})
    cls.add_constructor("tag:yaml.org,2002:timestamp", _StrictMixin.construct_yaml_timestamp)
    return cls


def parse_yaml(text: str, where: str, loader: type = yaml.SafeLoader) -> Any:
    """Parse one YAML document; every problem is one InputError line starting with `where`."""
    try:
        return yaml.load(text, Loader=strict_loader(loader))  # noqa: S506 - SafeLoader subclasses only
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" line {mark.line + 1} column {mark.column + 1}:" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{where}:{at} malformed YAML: {problem}") from None
    except RecursionError:
        raise InputError(f"{where}: malformed YAML: nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as e:
        raise InputError(f"{where}: malformed YAML: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None


def load_yaml_file(path: str | Path, what: str, loader: type = yaml.SafeLoader) -> Any:
    path = Path(path).expanduser()
    return parse_yaml(read_text(path, what), f"{what} {path}", loader)


# --------------------------------------------------------------------------- JSON


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def check_depth(obj: Any, where: str, limit: int = MAX_DEPTH) -> Any:
    """Refuse a value nested deeper than `limit` (iteratively: no recursion of our own)."""
    stack = [(obj, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            items = v.values()
        elif isinstance(v, list):
            items = v
        else:
            continue
        if d > limit:
            raise InputError(f"{where}: nested deeper than {limit} levels")
        stack.extend((x, d + 1) for x in items if isinstance(x, (dict, list)))
    return obj


def parse_json(data: bytes | str, where: str, *, duplicates: bool = False) -> Any:
    """Parse JSON; a duplicate key (unless `duplicates`), deep nesting or bad syntax is one InputError line."""
    try:
        doc = json.loads(data, object_pairs_hook=None if duplicates else _pairs)
    except RecursionError:
        raise InputError(f"{where}: malformed JSON: nested too deeply") from None
    except UnicodeDecodeError:
        raise InputError(f"{where}: not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: line {e.lineno} column {e.colno}: malformed JSON: {e.msg}") from None
    except ValueError as e:
        raise InputError(f"{where}: malformed JSON: {e}") from None
    return check_depth(doc, where)


def load_json_file(path: str | Path, what: str) -> Any:
    path = Path(path).expanduser()
    return parse_json(read_bytes(path, what), f"{what} {path}")


def load_file(path: str | Path, what: str, loader: type = yaml.SafeLoader) -> Any:
    """A .json file as JSON, anything else as YAML (with `loader`, a SafeLoader subclass)."""
    path = Path(path).expanduser()
    if path.suffix.lower() == ".json":
        return load_json_file(path, what)
    return load_yaml_file(path, what, loader)
