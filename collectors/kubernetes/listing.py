"""Talking to the API server: one call (status, parsed JSON, error), one retry on 5xx or no answer, GETs and
`limit` + `continue` paged lists, every attempt and page recorded as evidence in the API's own JSON shape.

Errors: 403 -> `denied`; 5xx or a lost connection -> one retry, then `error`; a timeout is not retried (the call
already took its whole time: `timeout_seconds` is the wall time of one call, the body read against a deadline);
anything else (401, TLS) -> `error`. An expired continue token (410) restarts the list once. A /version that is
not a Version, a list whose items are not objects, a continue token handed back twice, or more pages than
`max_pages` is an `error` for that call or list. Nothing is ever read as a pass."""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from .sanitize import sanitize_list
from .target import MAX_PAGES, KubeTarget  # noqa: F401 - MAX_PAGES kept importable from here

MAX_ANSWER_BYTES = 512 * 1024 * 1024  # one page larger than this is not read (an error for that list)


def call_api(fn: Callable, target: KubeTarget, **kw) -> tuple[int, Any, str | None]:
    """(http status, parsed JSON, error text). Status 0 = no HTTP answer (TLS, connection...)."""
    from kubernetes.client.exceptions import ApiException
    deadline = time.monotonic() + target.timeout_seconds
    try:
        resp = fn(_preload_content=False, _request_timeout=target.timeout_seconds, **kw)
        return resp.status, json.loads(_read_body(resp, deadline, target.timeout_seconds) or b"null"), None
    except _CallTimeout as e:
        return 0, None, f"timed out: {e}"
    except ApiException as e:
        body = None
        try:
            body = json.loads(e.body) if e.body else None
        except (ValueError, TypeError):
            body = None
        msg = (body or {}).get("message") if isinstance(body, dict) else None
        return e.status or 0, body, f"HTTP {e.status} {e.reason}" + (f": {msg}" if msg else "")
    except (ValueError, RecursionError) as e:
        return 200, None, f"unparseable answer: {str(e)[:200]}"
    except Exception as e:  # noqa: BLE001 - urllib3/TLS/connection errors
        if _is_timeout(e):
            return 0, None, f"timed out: no answer within {target.timeout_seconds:g}s ({type(e).__name__})"
        # without urllib3's retries the error is the socket's own, which does not name the server: add it
        return 0, None, f"no answer from {_server(fn)} ({type(e).__name__}: {str(e)[:300]})"


def call_with_retry(s: CollectSession, source: str, request: dict, fn: Callable, target: KubeTarget, **kw):
    """One call, retried once on 5xx (or no answer). Every attempt is recorded.
    Returns (status, body, request as recorded, None or (evidence status, error text))."""
    for attempt in (1, 2):
        s.count_call()
        status, body, err = call_api(fn, target, **kw)
        req = {**request, "attempt": attempt, "http_status": status}
        if err is None:
            return status, body, req, None
        # 5xx or a lost connection is retried once; a timeout is not (the call already took its whole time)
        retry = attempt == 1 and (status >= 500 or status == 0) and status != 501 and not err.startswith("timed out")
        st = EvidenceStatus.denied if status == 403 else EvidenceStatus.error
        if retry:  # not a failure by itself: the retry is recorded too (completeness.py)
            s.record(source, body, request={**req, "retried": True}, status=st, error=err + " (retried)")
            time.sleep(0.2)
            continue
        return status, body, req, (st, err)
    raise AssertionError("unreachable")


def record_get(s: CollectSession, source: str, path: str, fn: Callable, target: KubeTarget) -> bool:
    """One GET (/version). Returns whether the server answered over HTTP at all."""
    status, body, req, fail = call_with_retry(s, source, {"method": "GET", "path": path}, fn, target)
    if not fail and not (isinstance(body, dict) and isinstance(body.get("gitVersion"), str)):
        fail = (EvidenceStatus.error, "answer is not a Kubernetes Version object (no gitVersion)")
    if fail:
        s.record(source, body, request=req, status=fail[0], error=fail[1])
    else:
        s.record(source, body, request=req)
    return status != 0


def record_list(s: CollectSession, kind: str, path: str, fn: Callable, page_size: int, target: KubeTarget,
                on_items: Callable[[int, list[dict]], None] | None = None) -> None:
    """Every page of one kind's list, recorded as `list:<kind>` with its page number (and generation 2 after
    a restart). `on_items(page, items)` sees each recorded page (page 1 again after a restart)."""
    cont: str | None = None
    seen: set[str] = set()
    page = 0
    generation = 1  # a list restarted after its continue token expired (410) is generation 2
    while True:
        page += 1
        kw: dict[str, Any] = {"limit": page_size}
        if cont:
            kw["_continue"] = cont
        request = {"method": "GET", "path": path, "limit": page_size, "continue": cont, "page": page}
        if generation > 1:
            request["generation"] = generation
        status, body, req, fail = call_with_retry(s, f"list:{kind}", request, fn, target, **kw)
        if fail and status == 410 and cont and generation == 1:
            # the snapshot behind the continue token is gone (compaction, 5+ minutes): list again, once
            s.record(f"list:{kind}", body, request={**req, "retried": True}, status=EvidenceStatus.error,
                     error=fail[1] + " (list restarted)")
            generation, page, cont = 2, 0, None
            seen = set()
            continue
        if fail:
            s.record(f"list:{kind}", body, request=req, status=fail[0], error=fail[1])
            return
        problem = list_problem(body)
        if problem:
            s.record(f"list:{kind}", body if not isinstance(body, dict) else sanitize_list(kind, body),
                     request=req, status=EvidenceStatus.error, error=problem)
            return
        rec = s.record(f"list:{kind}", sanitize_list(kind, body), request=req)
        if on_items is not None:
            on_items(page, (rec.answer or {}).get("items") or [])
        s.progress(f"{kind}: page {page}, {len(body['items'])} items")
        nxt = (body.get("metadata") or {}).get("continue") or None
        if not nxt:
            return
        if nxt == cont or nxt in seen:  # a server handing a token back would page for ever: stop, say so
            s.record(f"list:{kind}", None, request={**request, "page": page + 1, "continue": nxt},
                     status=EvidenceStatus.error, error="continue token repeated: the list is incomplete")
            return
        if page >= target.max_pages:
            s.record(f"list:{kind}", None, request={**request, "page": page + 1, "continue": nxt},
                     status=EvidenceStatus.error,
                     error=f"more than {target.max_pages} pages (max_pages): the list is incomplete")
            return
        seen.add(nxt)
        cont = nxt


def _server(fn: Callable) -> str:
    api = getattr(getattr(fn, "__self__", None), "api_client", None)
    return str(getattr(getattr(api, "configuration", None), "host", None) or "the API server")


class _CallTimeout(Exception):
    pass


def _read_body(resp, deadline: float, timeout: float) -> bytes:
    """The body of a raw urllib3 response, read in chunks against a wall-clock deadline (a server trickling
    bytes never extends a call past its timeout) and a size bound."""
    chunks, size = [], 0
    read = getattr(resp, "read1", None) or resp.read  # read1: at most one socket read, so the clock is checked
    try:
        while True:
            if time.monotonic() > deadline:
                raise _CallTimeout(f"the answer took longer than {timeout:g}s")
            chunk = read(1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise ValueError(f"answer larger than {MAX_ANSWER_BYTES >> 20} MiB")
            chunks.append(chunk)
    except BaseException:
        resp.close()  # the connection holds an unread rest: never hand it back to the pool
        raise
    resp.release_conn()
    return b"".join(chunks)


def _is_timeout(e: BaseException) -> bool:
    import socket
    seen = 0
    while e is not None and seen < 5:
        if isinstance(e, (TimeoutError, socket.timeout)) or "Timeout" in type(e).__name__:
            return True
        e = getattr(e, "reason", None) or e.__cause__ or e.__context__
        seen += 1
    return False


def list_problem(body: Any) -> str | None:
    """Why a list answer is not a Kubernetes List whose items are objects (None when it is)."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        return "answer is not a Kubernetes List (no items)"
    bad = sum(1 for i in body["items"] if not isinstance(i, dict))
    if bad:
        return f"{bad} of {len(body['items'])} list items are not objects"
    md = body.get("metadata")
    if md is not None and not isinstance(md, dict):
        return "list metadata is not an object"
    if isinstance(md, dict) and md.get("continue") is not None and not isinstance(md.get("continue"), str):
        return "continue token is not a string"
    return None
