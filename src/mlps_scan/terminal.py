"""What a scan says on the terminal: live progress per collector target, why a partial scan is partial, and
where library warnings go (the scan log in the bundle, not the screen).

- `configure_logging` is the one place logging is set up: the terminal shows mlps-scan's own warnings only
  (everything with --debug); third-party loggers (urllib3 retries, botocore, kubernetes, paramiko) are kept
  for `scan_log`.
- `scan_log` collects every log record of a run and writes it, redacted, to `scan.log` in the bundle.
- `ScanProgress` draws one line per collector target (account and its regions, cluster, host group) with
  calls, assets and errors as they come (rich, on a terminal), or JSON lines for CI, or nothing (--quiet,
  or stderr not a terminal).
- `partial_reasons` turns the inventory's coverage gaps into one line per target and cause, de-duplicated:
  `aws/prod cn-north-1: AccessDenied on s3:GetBucketPolicy (3 buckets)`.

It is also the one place where text from input meets the terminal. Everything a command prints that came from
input (system names, asset and resource ids, paths, zip member names, evidence errors, messages quoting them)
passes through these helpers, in every command:

- `plain(x)`: control characters (ESC and every other C0/C1 control, DEL, newlines, the Unicode bidi and
  zero-width controls) are shown as escapes (`\\x1b`, `\\n`, `\\u202e`): a value stays one line and cannot
  move the cursor, recolour, erase or rewrite what was printed before it;
- `markup(x)`: `plain` and escaped for rich markup, so `[/]` or `[bold red]` in a value is printed as written
  instead of crashing or styling the output;
- `fmt(template, ...)`: a rich markup template of our own with every argument passed through `markup`;
- `console()`: the rich console every command prints with (no emoji codes, no highlighting);
- `json_text(obj)`, `yaml_dump(obj)`: JSON and YAML for stdout with the same characters escaped (still the
  same document to a reader).
"""
from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections import Counter, OrderedDict
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

OWN = "mlps_scan"
_FORMAT = "%(levelname)s %(name)s: %(message)s"


class _OwnOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == OWN or record.name.startswith(OWN + ".")


def configure_logging(debug: bool = False) -> None:
    """Terminal logging for the command line (idempotent). Without --debug only mlps-scan's own warnings reach
    stderr; library warnings are not lost: `scan_log` writes them into the bundle."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_mlps_terminal", False):
            root.removeHandler(h)
    h = logging.StreamHandler(sys.stderr)
    h._mlps_terminal = True  # type: ignore[attr-defined]
    h.setFormatter(logging.Formatter(_FORMAT) if debug else SafeFormatter(_FORMAT))
    if debug:
        h.setLevel(logging.DEBUG)
        root.setLevel(logging.DEBUG)
    else:
        h.setLevel(logging.WARNING)
        h.addFilter(_OwnOnly())
        root.setLevel(logging.INFO)
    root.addHandler(h)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a bad log record must not end the scan
            pass


@contextmanager
def scan_log(stage: Path) -> Iterator[_Collect]:
    """Collect the run's log records (INFO and above, every logger) and write them to `<stage>/scan.log`."""
    from .bundle import write_text
    h = _Collect()
    root = logging.getLogger()
    old = root.level
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    root.addHandler(h)
    try:
        yield h
    finally:
        root.removeHandler(h)
        root.setLevel(old)
        write_text(stage / "scan.log", "# mlps-scan: log records of the libraries and collectors during this scan "
                                       "(warnings such as urllib3 retries land here, not on the terminal)\n"
                   + "".join(line + "\n" for line in h.lines))


# --------------------------------------------------------------------------- text from input, made safe
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")


def _escape_char(m: re.Match) -> str:
    o = ord(m.group())
    return {0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t"}.get(o) or (f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}")


def plain(value: Any, limit: int | None = None) -> str:
    """`str(value)` safe for a terminal line (see the module doc), cut to `limit` characters with `…`."""
    out = _CONTROL.sub(_escape_char, str(value))
    return out if limit is None or len(out) <= limit else out[: limit - 1] + "…"


def markup(value: Any) -> str:
    """`plain(value)` escaped for rich markup."""
    from rich.markup import escape
    return escape(plain(value))


def cell(value: Any) -> str:
    """`markup` line by line: a table cell that may hold several lines (English, then Chinese)."""
    return "\n".join(markup(line) for line in str(value).split("\n"))


def fmt(template: str, *args: Any, **kwargs: Any) -> str:
    """`template.format(...)` with every argument made safe (`markup`); the template's own markup stays."""
    return template.format(*(markup(a) for a in args), **{k: markup(v) for k, v in kwargs.items()})


def console(stderr: bool = False):
    from rich.console import Console
    return Console(stderr=stderr, highlight=False, emoji=False)


def json_text(obj: Any, indent: int | None = 1) -> str:
    """JSON as `json.dumps(ensure_ascii=False)` writes it, with C1 controls and bidi/zero-width characters as
    \\u escapes (json.dumps already escapes C0 controls): the same document, harmless on a terminal."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent, default=str)
    return re.sub("[\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]",
                  lambda m: f"\\u{ord(m.group()):04x}", text)


class SafeFormatter(logging.Formatter):
    """Log lines on the terminal: one line each, control characters shown as escapes."""

    def format(self, record: logging.LogRecord) -> str:
        return plain(super().format(record))


_YAML_DANGER = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]")


@lru_cache(maxsize=1)
def _yaml_dumper():
    import yaml

    class SafeTextDumper(yaml.SafeDumper):
        """yaml.SafeDumper whose output is safe on a terminal: a string holding a control, bidi or zero-width
        character is written double-quoted with escapes (`\\e`, `\\u202E`), the same string to a YAML reader.
        (PyYAML escapes C0 controls itself; with allow_unicode it writes the rest raw.)"""

        def analyze_scalar(self, scalar):
            a = super().analyze_scalar(scalar)
            if _YAML_DANGER.search(scalar):
                a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = a.allow_block = False
            return a

        def write_double_quoted(self, text, split=True):
            if not _YAML_DANGER.search(text):
                return super().write_double_quoted(text, split)
            saved, self.allow_unicode = self.allow_unicode, False
            try:
                return super().write_double_quoted(text, split)
            finally:
                self.allow_unicode = saved

    return SafeTextDumper


def yaml_dump(obj: Any, **kw: Any) -> str:
    """`yaml.safe_dump` (same keywords) with `SafeTextDumper`: what is written can be printed safely."""
    import yaml
    return yaml.dump(obj, Dumper=_yaml_dumper(), **kw)



# --------------------------------------------------------------------------- live progress


class ScanProgress:
    """Progress on stderr. Called with messages like `aws/prod: account 1234 (aws-cn), 2 region(s)`; the
    runner also hands it each target's CollectSession (`track`) so the counts come straight from there."""

    def __init__(self, mode: str = "auto", quiet: bool = False):
        self.mode = "none" if quiet else mode
        if self.mode == "auto":
            self.mode = "rich" if sys.stderr.isatty() else "none"
        self._lock = threading.Lock()
        self._rows: "OrderedDict[str, dict]" = OrderedDict()
        self._stage = "starting"
        self._live = None

    # the runner's hooks
    def track(self, key: str, session: Any) -> None:
        with self._lock:
            self._rows[key] = {"session": session, "state": "waiting", "note": ""}

    def __call__(self, msg: str) -> None:
        key, _, note = str(msg).partition(": ")
        with self._lock:
            row = self._rows.get(key)
            if row is not None:
                if note == "collecting":
                    row["state"] = "collecting"
                elif note == "done":
                    row["state"] = "done"
                else:
                    row["note"] = note
            else:
                self._stage = str(msg)
        if self.mode == "jsonl":
            from .models import utcnow
            ev: dict[str, Any] = {"time": utcnow().isoformat(), "event": plain(msg)}
            if row is not None:
                ev.update(target=key, **self._counts(row["session"]))
            sys.stderr.write(json.dumps(ev, ensure_ascii=False) + "\n")
            sys.stderr.flush()

    @staticmethod
    def _counts(s: Any) -> dict[str, int]:
        return {"calls": int(getattr(s, "api_calls", 0)), "assets": len(getattr(s, "assets", [])),
                "errors": int(getattr(s, "errors", 0))}

    def __rich__(self):
        from rich.table import Table
        from rich.text import Text
        t = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
        for col, just in (("target", "left"), ("", "left"), ("calls", "right"), ("assets", "right"),
                          ("errors", "right"), ("", "left")):
            t.add_column(col, justify=just, no_wrap=(col != ""), overflow="ellipsis")
        icon = {"waiting": ("·", "dim"), "collecting": ("⋯", "cyan"), "done": ("✓", "green")}
        with self._lock:
            rows = list(self._rows.items())
            stage = self._stage
        for key, row in rows:
            s = row["session"]
            c = self._counts(s)
            state = row["state"]
            mark, style = icon.get(state, ("?", ""))
            if state == "done" and c["errors"]:
                mark, style = "!", "yellow"
            t.add_row(Text(plain(key, 60)), Text(mark, style=style), str(c["calls"]), str(c["assets"]),
                      Text(str(c["errors"]), style="yellow" if c["errors"] else ""), Text(plain(row["note"], 70), style="dim"))
            for part, pc in sorted(getattr(s, "parts", {}).items()):
                t.add_row(Text("  " + plain(part, 58), style="dim"), "", str(pc.get("calls", 0)), "",
                          Text(str(pc.get("errors", 0)), style="yellow" if pc.get("errors") else "dim"), "")
        if stage and stage != "starting":
            t.add_row(Text(plain(stage, 60), style="bold"), "", "", "", "", "")
        return t

    def __enter__(self) -> "ScanProgress":
        if self.mode == "rich":
            from rich.console import Console
            from rich.live import Live
            self._live = Live(self, console=Console(stderr=True, highlight=False), refresh_per_second=4,
                              transient=False, redirect_stdout=False, redirect_stderr=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None


# --------------------------------------------------------------------------- why a scan is partial

_AWS = re.compile(r"^(?P<src>[a-z0-9-]+:[A-Za-z0-9]+): (?P<code>[A-Z][A-Za-z.]+|HTTP \d{3}): ")
_POOL = re.compile(r"(?P<proto>HTTPS?)Connection(?:Pool)?\(host='(?P<name>[^']+)', port=(?P<port>\d+)\)")
_URL = re.compile(r"\b(?P<url>https?://[^\s/'\"]+)")


def _where(reason: str) -> str:
    m = _POOL.search(reason)
    if m:
        return f"{m.group('proto').lower()}://{m.group('name')}:{m.group('port')}"
    m = _URL.search(reason)
    return m.group("url") if m else ""


def short_cause(reason: str | None) -> str:
    """The cause of a coverage gap in a few words: `AccessDenied on s3:GetBucketPolicy`, `connection refused
    https://10.0.0.1:6443`, `host key not in known_hosts`; otherwise the reason's first line, shortened."""
    r = (reason or "not collected").strip()
    m = _AWS.match(r)
    if m:
        return f"{m.group('code')} on {m.group('src')}"
    low = r.lower()
    where = _where(r)
    for needles, what in ((("connection refused", "errno 111"), "connection refused"),
                          (("timed out", "timeout", "read timed"), "timed out"),
                          (("name or service not known", "nodename nor servname", "getaddrinfo failed",
                            "temporary failure in name resolution"), "host name not resolved"),
                          (("certificate verify failed",), "TLS certificate not trusted"),
                          (("no route to host", "network is unreachable"), "unreachable"),
                          (("401", "unauthorized"), "unauthorized (401)"),
                          (("403", "forbidden"), "forbidden (403)")):
        # a status code counts as a word only: an account id or address ending in 403 is not "forbidden"
        if any(re.search(rf"(?<![\w.]){re.escape(n)}(?![\w.])" if n.isdigit() else re.escape(n), low)
               for n in needles):
            return f"{what} {where}".strip()
    if "known_hosts" in low or "host key" in low:
        if "not in known_hosts" in low or "unknown host key" in low:
            return "host key not in known_hosts"
        return plain(r.split(" (")[0].split(";")[0], 140)
    return plain(r.splitlines()[0], 140)


def _label(scope: str) -> str:
    """The target (collector/target) and where inside it: `aws/prod/123456789012/cn-north-1` ->
    `aws/prod 123456789012/cn-north-1`, `hosts/web/10.0.0.5` -> `hosts/web 10.0.0.5` (no provider named here)."""
    parts = scope.split("/")
    return f"{'/'.join(parts[:2])} {'/'.join(parts[2:])}".strip()


def _noun(asset_type: str, n: int) -> str:
    word = asset_type.rsplit(".", 1)[-1].replace("_", " ")
    if n == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") and not word.endswith(("ay", "ey", "oy")) else \
        (word + "es" if word.endswith(("s", "x", "ch")) else word + "s")


def partial_reasons(inventory: Any, failed_targets: list[str] | None = None, failures: list | None = None,
                    limit: int = 30) -> list[str]:
    """One line per (target, cause), de-duplicated, most affected first. `failures` (completeness.Failure, every
    evidence record that failed) adds what the coverage and the assets' errors do not already name: a failed
    call is named even when no asset or coverage entry shows it (the scan is partial because of it)."""
    from .models import EvidenceStatus
    bad = (EvidenceStatus.error, EvidenceStatus.denied)
    groups: "OrderedDict[tuple[str, str], dict[str, set]]" = OrderedDict()
    for t in failed_targets or []:
        groups.setdefault((t, "collector failed"), {})
    for c in getattr(inventory, "coverage", []):
        if c.status in bad:
            groups.setdefault((_label(c.scope), short_cause(c.reason)), {}).setdefault("", set()).add(c.asset_type)
    for a in getattr(inventory, "assets", []):
        for _attr, why in (a.errors or {}).items():
            groups.setdefault((_label(a.scope), short_cause(why)), {}).setdefault(a.type, set()).add(a.id)
    named = {(t.split(" ")[0], cause) for t, cause in groups}
    for f in failures or []:
        # a target's part (an organisation member: aws/<name>/<account>) is labelled as the coverage labels it
        target = _label(f"{f.collector}/{f.target}")
        base = target.split(" ")[0]
        reason = f.error or f.status
        cause = short_cause(reason if str(reason).startswith(f.source) else f"{f.source}: {reason}")
        if (base, cause) in named or (base, short_cause(reason)) in named:
            continue
        groups.setdefault((target, cause if f.source in cause else f"{plain(f.source, 80)}: {cause}"), {})
    lines = []
    for (target, cause), by in sorted(groups.items(), key=lambda kv: -sum(len(v) for v in kv[1].values())):
        kinds = len(by.pop("", ()))
        cnt = Counter({t: len(ids) for t, ids in by.items()})
        extra = [f"{n} {_noun(t, n)}" for t, n in cnt.most_common(3)]
        if kinds:
            extra.append(f"{kinds} kind{'s' if kinds != 1 else ''} of asset not listed")
        lines.append(plain(f"{target}: {cause}" + (f" ({', '.join(extra)})" if extra else "")))
    if len(lines) > limit:
        lines = lines[:limit] + [f"… and {len(lines) - limit} more (see inventory.json coverage and scan.log)"]
    return lines
