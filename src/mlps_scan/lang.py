"""The reader's language: `--lang zh|en`, by default from the locale (LC_ALL, LC_MESSAGES, LANG). The report
shows both; the terminal, the workbook and the exports use the chosen one first."""
from __future__ import annotations

import os
from typing import Any, Mapping

LANGS = ("zh", "en")

# control status (controls.json) -> (中文, English); 待核查 is what an assessor still has to examine
STATUS = {
    "compliant": ("符合", "compliant"),
    "partial": ("部分符合", "partial"),
    "non_compliant": ("不符合", "non-compliant"),
    "not_applicable": ("不适用", "not applicable"),
    "error": ("无法评估", "not assessable"),
    "manual": ("待核查", "to examine"),
}
FINDING = {
    "pass": ("通过", "pass"),
    "fail": ("不通过", "fail"),
    "error": ("无法评估", "error"),
    "not_applicable": ("不适用", "not applicable"),
}
SEVERITY = {
    "critical": ("严重", "critical"),
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}
SEVERITY_ORDER = ("critical", "high", "medium", "low")


def default_lang(env: Mapping[str, str] | None = None) -> str:
    """zh when the locale asks for Chinese (zh_CN.UTF-8, zh_TW...), else en."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        v = env.get(var)
        if v:
            return "zh" if v.lower().startswith("zh") else "en"
    return "en"


def resolve(arg: str | None) -> str:
    return arg if arg in LANGS else default_lang()


def label(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    zh, en = table.get(key, (key, key))
    return zh if lang == "zh" else en


def both(table: Mapping[str, tuple[str, str]], key: str, lang: str) -> str:
    """`符合 compliant` (zh first) or `compliant 符合`."""
    zh, en = table.get(key, (key, key))
    return f"{zh} {en}" if lang == "zh" else f"{en} {zh}"


def text(obj: Any, lang: str) -> str:
    """The chosen language of a {en, zh} object (a dict or a Bilingual), falling back to the other."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    get = obj.get if isinstance(obj, dict) else (lambda k, d=None: getattr(obj, k, d))
    first, second = ("zh", "en") if lang == "zh" else ("en", "zh")
    return get(first) or get(second) or ""


def message(finding: Any, lang: str) -> str:
    """A finding's result record in the chosen language (English when a third-party check gave no Chinese)."""
    get = finding.get if isinstance(finding, dict) else (lambda k, d=None: getattr(finding, k, d))
    if lang == "zh" and get("message_zh"):
        return get("message_zh")
    return get("message") or ""
