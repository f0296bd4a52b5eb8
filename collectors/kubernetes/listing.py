"""Talking to the API server: one call (status, parsed JSON, error), one retry on 5xx or no answer, GETs and
`limit` + `continue` paged lists, every attempt and page recorded as evidence in the API's own JSON shape.

Errors: 403 -> `denied`; 5xx or no answer -> one retry, then `error`; anything else (401, TLS, connection)
-> `error`. An expired continue token (410) restarts the list once. Nothing is ever read as a pass."""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from .sanitize import sanitize_list
from .target import KubeTarget

MAX_PAGES = 10000


def call_api(fn: Callable, target: KubeTarget, **kw) -> tuple[int, Any, str | None]:
    """(http status, parsed JSON, error text). Status 0 = no HTTP answer (TLS, connection...)."""
    from kubernetes.client.exceptions import ApiException
    try:
        resp = fn(_preload_content=False, _request_timeout=target.timeout_seconds, **kw)
        return resp.status, json.loads(resp.data or b"null"), None
    except ApiException as e:
        body = None
        try:
            body = json.loads(e.body) if e.body else None
        except (ValueError, TypeError):
            body = None
        msg = (body or {}).get("message") if isinstance(body, dict) else None
        return e.status or 0, body, f"HTTP {e.status} {e.reason}" + (f": {msg}" if msg else "")
    except ValueError as e:
        return 200, None, f"unparseable answer: {e}"
    except Exception as e:  # noqa: BLE001 - urllib3/TLS/connection errors
        return 0, None, f"{type(e).__name__}: {str(e)[:300]}"


def call_with_retry(s: CollectSession, source: str, request: dict, fn: Callable, target: KubeTarget, **kw):
    """One call, retried once on 5xx (or no answer). Every attempt is recorded.
    Returns (status, body, request as recorded, None or (evidence status, error text))."""
    for attempt in (1, 2):
        s.count_call()
        status, body, err = call_api(fn, target, **kw)
        req = {**request, "attempt": attempt, "http_status": status}
        if err is None:
            return status, body, req, None
        retry = attempt == 1 and (status >= 500 or status == 0) and status != 501
        st = EvidenceStatus.denied if status == 403 else EvidenceStatus.error
        if retry:
            s.record(source, body, request=req, status=st, error=err + " (retried)")
            time.sleep(0.2)
            continue
        return status, body, req, (st, err)
    raise AssertionError("unreachable")


def record_get(s: CollectSession, source: str, path: str, fn: Callable, target: KubeTarget) -> None:
    status, body, req, fail = call_with_retry(s, source, {"method": "GET", "path": path}, fn, target)
    if fail:
        s.record(source, body, request=req, status=fail[0], error=fail[1])
    else:
        s.record(source, body, request=req)


def record_list(s: CollectSession, kind: str, path: str, fn: Callable, page_size: int, target: KubeTarget,
                on_items: Callable[[int, list[dict]], None] | None = None) -> None:
    """Every page of one kind's list, recorded as `list:<kind>` with its page number (and generation 2 after
    a restart). `on_items(page, items)` sees each recorded page (page 1 again after a restart)."""
    cont: str | None = None
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
            s.record(f"list:{kind}", body, request=req, status=EvidenceStatus.error, error=fail[1] + " (list restarted)")
            generation, page, cont = 2, 0, None
            continue
        if fail:
            s.record(f"list:{kind}", body, request=req, status=fail[0], error=fail[1])
            return
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            s.record(f"list:{kind}", body, request=req, status=EvidenceStatus.error,
                     error="answer is not a Kubernetes List (no items)")
            return
        rec = s.record(f"list:{kind}", sanitize_list(kind, body), request=req)
        if on_items is not None:
            on_items(page, (rec.answer or {}).get("items") or [])
        s.progress(f"{kind}: page {page}, {len(body['items'])} items")
        cont = ((rec.answer or {}).get("metadata") or {}).get("continue") or None
        if not cont or page >= MAX_PAGES:
            return
