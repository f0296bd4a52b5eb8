"""Bilingual verdicts for the Kubernetes check modules, in the call shapes the engine's own helpers take once
they carry Chinese (`passed("...", "...")`, `check(..., remediation_zh="...")`, `EvidenceMissing(en, zh)`).
Where the running engine does not take the Chinese yet it is dropped, so these modules run on either; once
every engine in use takes it, import the helpers from mlps_scan.plugins instead and delete this file."""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from mlps_scan import plugins

_VERDICT_ZH = "zh" in inspect.signature(plugins.passed).parameters
_REMEDIATION_ZH = "remediation_zh" in inspect.signature(plugins.check).parameters
_MISSING_ZH = "zh" in inspect.signature(plugins.EvidenceMissing.__init__).parameters


def _bilingual(helper: Callable[..., plugins.Verdict]) -> Callable[..., plugins.Verdict]:
    @functools.wraps(helper)
    def verdict(message: str, zh: str = "", **kw: Any) -> plugins.Verdict:
        return helper(message, zh, **kw) if _VERDICT_ZH else helper(message, **kw)
    return verdict


passed = _bilingual(plugins.passed)
failed = _bilingual(plugins.failed)
error = _bilingual(plugins.error)
not_applicable = _bilingual(plugins.not_applicable)


def verdict(status: str, message: str, zh: str = "", **kw: Any) -> plugins.Verdict:
    """A verdict of any status (for verdicts built from other verdicts)."""
    return {"pass": passed, "fail": failed, "error": error, "not_applicable": not_applicable}[status](message, zh, **kw)


def message_zh(v: plugins.Verdict) -> str:
    return getattr(v, "message_zh", "") or ""


def missing(message: str, zh: str) -> plugins.EvidenceMissing:
    return plugins.EvidenceMissing(message, zh) if _MISSING_ZH else plugins.EvidenceMissing(message)


def missing_zh(e: plugins.EvidenceMissing) -> str:
    return getattr(e, "zh", "") or ""


def check(**kw: Any) -> Callable:
    if not _REMEDIATION_ZH:
        kw.pop("remediation_zh", None)
    return plugins.check(**kw)
