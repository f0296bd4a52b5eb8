"""Redaction: the one place where secrets are removed, before anything is written.

The evidence recorder runs every answer through `redact()`; the bundle writer runs every text file it
writes through `redact_text()` as a second line of defence. Both are pure functions.

What goes: values under secret-looking keys (passwords, secret keys, tokens, private keys, session
credentials), Kubernetes Secret `data`/`stringData` (the key names are kept), the last-applied
annotation of any Kubernetes object, PEM private keys, crypt(3) password hashes, JWTs, bearer tokens and AWS secret keys
wherever they appear in text; AWS access key ids are masked to their last four characters.
"""
from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"

# keys whose *values* are secret, matched case-insensitively on the key with separators removed
_SECRET_KEYS = {
    "password", "passwd", "secret", "secretaccesskey", "awssecretaccesskey", "sessiontoken",
    "awssessiontoken", "token", "accesstoken", "refreshtoken", "idtoken", "bearertoken", "apikey",
    "privatekey", "clientkey", "clientkeydata", "clientsecret", "masteruserpassword", "authtoken",
    "credentials", "passphrase", "keymaterial", "privatekeymaterial", "passwordhash", "hash",
}
# key fragments that mark a secret value (e.g. "db_password", "SecretString")
_SECRET_FRAGMENTS = ("password", "secretaccesskey", "secretstring", "secretbinary", "privatekey",
                     "sessiontoken", "bearertoken", "clientkeydata", "apitoken", "authtoken")
# keys that look secret but are not (metadata about secrets)
_NOT_SECRET = {"passwordlastused", "passwordenabled", "passwordlastchanged", "passwordnextrotation",
               "passwordpolicy", "passwordreuseprevention", "passwordauthentication", "permitemptypasswords",
               "hardexpiry", "allowuserstochangepassword", "expirepasswords", "maxpasswordage",
               "minimumpasswordlength", "requiresymbols", "requirenumbers", "requireuppercasecharacters",
               "requirelowercasecharacters", "tokenexpiry", "automountserviceaccounttoken", "secretname",
               "secretarn", "secretsencryption", "secretref", "secretkeyref", "secrets", "passwordempty",
               "passwordlocked", "passwordstatus", "passwordminlen", "passwordmaxdays", "passwordmindays",
               "passwordwarnage", "tokensexpire", "sessiontokenexpiry", "hashalgorithm", "passwordhashalgorithm",
               "passwordauthenticationenabled", "passwordrequired", "passwordlastusedage", "credentialreport",
               "hashes"}

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END \1PRIVATE KEY-----|\Z)", re.S)
_CRYPT = re.compile(r"\$(?:1|2[aby]|5|6|y|gy|7|sha1|md5)\$[./A-Za-z0-9$=,+-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
_BEARER = re.compile(r"(?i)\b(bearer|token)(\s*[:=]?\s+|\s*[:=]\s*)([A-Za-z0-9._~+/=-]{16,})")
_AWS_SECRET = re.compile(r"(?i)(aws.{0,20}secret.{0,20}?['\"=: ]+)([A-Za-z0-9/+]{40})\b")
_AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)([0-9A-Z]{12})([0-9A-Z]{4})\b")
# /etc/shadow-style lines: keep the user and the flags, drop the hash field
_SHADOW = re.compile(r"^([a-z_][a-z0-9_.-]*\$?):([^:\s]{13,}):", re.M)


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def is_secret_key(key: str) -> bool:
    k = _norm(key)
    if k in _NOT_SECRET:
        return False
    return k in _SECRET_KEYS or any(f in k for f in _SECRET_FRAGMENTS)


def redact_text(text: str) -> tuple[str, int]:
    """Remove secrets from free text. Returns the new text and how many replacements were made."""
    n = 0

    def sub(rx: re.Pattern, repl, s: str) -> str:
        nonlocal n
        s2, k = rx.subn(repl, s)
        n += k
        return s2

    text = sub(_PEM, "[REDACTED PRIVATE KEY]", text)
    text = sub(_SHADOW, lambda m: f"{m.group(1)}:{REDACTED}:", text)
    text = sub(_CRYPT, "[REDACTED HASH]", text)
    text = sub(_JWT, "[REDACTED JWT]", text)
    text = sub(_AWS_SECRET, lambda m: m.group(1) + REDACTED, text)
    text = sub(_BEARER, lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = sub(_AWS_KEY_ID, lambda m: f"{m.group(1)}{'*' * 12}{m.group(3)}", text)
    return text, n


def _is_secret_object(d: dict) -> bool:
    kind = d.get("kind")
    if kind == "Secret":
        return True
    # items of a SecretList carry no kind; they have type + data
    return kind is None and isinstance(d.get("type"), str) and ("data" in d or "stringData" in d) and \
        isinstance(d.get("metadata"), dict)


def _is_secret_name_value(d: dict) -> bool:
    """A name/value pair whose name says the value is a secret (env vars), not a path to one."""
    name, value = d.get("name"), d.get("value")
    if not isinstance(name, str) or not isinstance(value, str) or not value or value == REDACTED:
        return False
    if name.upper().endswith(("_FILE", "_PATH", "_DIR", "_POLICY", "_LENGTH", "_ENABLED")):
        return False
    return is_secret_key(name)


def redact(obj: Any) -> tuple[Any, int]:
    """Return a redacted deep copy of a JSON-like value and the number of redactions."""
    count = 0

    def walk(x: Any, secret_list: bool = False) -> Any:
        nonlocal count
        if isinstance(x, dict):
            secret_obj = secret_list or _is_secret_object(x)
            if _is_secret_name_value(x):
                # {name: DB_PASSWORD, value: ...}: Kubernetes env vars, ECS task environments
                count += 1
                return {**{k: walk(v) for k, v in x.items() if k != "value"}, "value": REDACTED}
            out = {}
            for k, v in x.items():
                ks = str(k)
                if secret_obj and ks in ("data", "stringData", "binaryData"):
                    if v:
                        count += 1
                        out["redactedDataKeys"] = sorted(v) if isinstance(v, dict) else []
                    continue
                if ks == "metadata" and isinstance(v, dict) and isinstance(v.get("annotations"), dict):
                    # any Kubernetes object: kubectl's copy of what it applied holds the object's values too
                    v = dict(v)
                    ann = dict(v["annotations"])
                    if ann.get("kubectl.kubernetes.io/last-applied-configuration") not in (None, REDACTED):
                        ann["kubectl.kubernetes.io/last-applied-configuration"] = REDACTED
                        count += 1
                        v["annotations"] = ann
                if ks == "secret" and isinstance(v, dict) and ("secretName" in v or "name" in v) \
                        and not any(is_secret_key(str(k2)) for k2 in v):
                    # a Kubernetes volume/projection source naming a Secret (metadata, not a value): walk it
                    out[ks] = walk(v)
                    continue
                if is_secret_key(ks) and v not in (None, "", [], {}) and not isinstance(v, bool):
                    if isinstance(v, (str, int, float)) or isinstance(v, (list, dict)):
                        count += 1
                        out[ks] = REDACTED
                        continue
                out[ks] = walk(v, secret_list=(x.get("kind") == "SecretList" and ks == "items"))
            return out
        if isinstance(x, (list, tuple)):
            return [walk(i, secret_list) for i in x]
        if isinstance(x, str):
            s, k = redact_text(x)
            count += k
            return s
        if isinstance(x, bytes):
            s, k = redact_text(x.decode("utf-8", "replace"))
            count += k
            return s
        return x

    return walk(obj), count
