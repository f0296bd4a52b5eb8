"""Redaction: the one place where secrets are removed, before anything is written.

The evidence recorder runs every answer through `redact()`; the bundle writer runs every text file it
writes through `redact_text()` as a second line of defence. Both are pure functions.

What goes: values under secret-looking keys (passwords, secret keys, tokens, private keys, session
credentials), Kubernetes Secret `data`/`stringData` (the key names are kept), the last-applied
annotation of every object (it can embed a whole Secret or env values), PEM private keys, crypt(3),
argon2, pbkdf2 and scrypt password hashes, JWTs, bearer tokens, AWS secret keys, `name=value` and
`"name": "value"` pairs whose name says secret (config files, command lines: `--db-password=x`), the
value after a secret-named flag in an argument list (`["--db-password", "x"]`) and the password in a
URL's userinfo (`scheme://user:pw@host`), wherever they appear in text; AWS access key ids are masked to
their last four characters.
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
_SECRET_FRAGMENTS = ("password", "passwd", "pwd", "secretaccesskey", "secretstring", "secretbinary", "privatekey",
                     "secretkey", "apikey", "accesstoken", "sessiontoken", "bearertoken", "clientkeydata", "apitoken",
                     "authtoken", "clientsecret", "dbpass", "passphrase")
# names that end in "pass" are passwords too (DB_PASS, smtp_pass), but not these words
_PASS_SUFFIX_NOT = ("bypass", "compass", "overpass", "underpass", "firstpass", "onepass", "multipass")
# a name carrying a secret fragment but describing a setting, not holding a secret
_SETTING_SUFFIXES = ("timeout", "tries", "retry", "length", "len", "age", "days",
                     "enabled", "enable", "disabled", "policy", "file", "path", "dir", "expiry", "expires",
                     "expiration", "authentication", "algorithm", "algorithms", "rotation", "ref", "name",
                     "arn", "id", "version", "source", "required", "type", "mode", "status", "lastused",
                     "lastchanged", "prompt", "history", "complexity", "remember", "count", "seconds", "encryption",
                     "algo", "scheme", "format", "hashing")
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
               "hashes", "pwd", "oldpwd", "pwdlastset", "secretkeyref", "apikeysource", "apikeyrequired"}

_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END \1PRIVATE KEY-----|\Z)", re.S)
_CRYPT = re.compile(r"\$(?:1|2[aby]|5|6|y|gy|7|sha1|md5|argon2(?:id|i|d)|pbkdf2(?:-sha\d+)?|scrypt|bcrypt(?:-sha256)?)"
                    r"\$[./A-Za-z0-9$=,+-]{8,}")
# Django/werkzeug style: pbkdf2_sha256$260000$salt$hash, pbkdf2:sha256:600000$salt$hash, argon2$argon2id$...
_HASH_PREFIXED = re.compile(r"\b(?:pbkdf2_sha(?:1|256|512)|pbkdf2:sha(?:1|256|512)(?::\d+)?|argon2|bcrypt_sha256|scrypt)"
                            r"\$[./A-Za-z0-9$=,:+-]{16,}")
# user:password@ in a URL (the user stays: it names the account)
_URL_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]{1,20}://[^/\s:@'\"]{0,128}:)([^\s/'\"]{1,256})(@)(?=[^@\s/'\"]+)")
# name=value / name: value / "name": "value" where the name says secret; the value may be quoted
_NAMED_VALUE = re.compile(
    r"""(?i)(?P<q>["']?)(?P<key>-{0,2}[a-z0-9_.\-]*(?:pass|pwd|secret|token|apikey|api_key|api-key|privatekey|private_key|credential)[a-z0-9_.\-]*)(?P=q)"""
    r"""(?P<sep>[ \t]*(?:=>|[=:])[ \t]*|(?<=[a-z0-9])[ \t]+(?=[^-\s]))(?P<val>"(?:[^"\\\n]|\\.){1,4096}"|'[^'\n]{1,4096}'|\$\{[^}\s]{1,256}\}|[^\s"',;&{}\]\[]{1,4096})""")
_BASIC = re.compile(r"(?i)\b(basic)([ \t]+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
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
    if not k or k in _NOT_SECRET:
        return False
    if k in _SECRET_KEYS:
        return True
    if any(k.endswith(suf) for suf in _SETTING_SUFFIXES):
        return False
    if any(f in k for f in _SECRET_FRAGMENTS):
        return True
    return k.endswith("secret") or (k.endswith("pass") and not k.endswith(_PASS_SUFFIX_NOT))


def _named_value(m: re.Match) -> str:
    key, raw = m.group("key"), m.group("val")
    if m.group("sep").strip() == "" and not key.startswith("-"):
        return m.group(0)  # whitespace separates only a command-line flag from its value
    quote = raw[0] if raw[0] in "\"'" and len(raw) > 1 and raw[-1] == raw[0] else ""
    val = raw[1:-1] if quote else raw
    before = m.string[max(0, m.start() - 300):m.start()]
    token = re.split(r"\s", before)[-1] if before else ""
    if before.endswith("/") or (before.endswith(":") and token.startswith("arn:")):
        return m.group(0)  # a path segment (/etc/pam.d/common-password: ...) or an ARN's (...:secret:name)
    if key.lower() in ("passwd", "nopasswd", "shadow", "gshadow"):
        return m.group(0)  # sudoers tags (NOPASSWD: ALL) and nsswitch.conf databases (passwd: files)
    if val == REDACTED or val.startswith("[REDACTED") or not is_secret_key(key) or _is_placeholder(val):
        return m.group(0)
    return f"{m.group('q')}{key}{m.group('q')}{m.group('sep')}{quote}{REDACTED}{quote}"


_PLACEHOLDERS = {"yes", "no", "true", "false", "on", "off", "none", "null", "required", "optional", "prohibit-password",
                 "without-password", "forced-commands-only", "***", "****", "*****", "<redacted>", "set", "empty",
                 "locked", "unset", "disabled", "enabled", "md5", "sha256", "sha512", "scram-sha-256", "bcrypt",
                 "yescrypt", "argon2", "argon2id", "pbkdf2", "des", "blowfish"}
_VAR_REF = re.compile(r"^(?:\$\{[^}]*\}|\$\([^)]*\)|\$[A-Z_][A-Z0-9_]*|\{\{.*\}\}|%[A-Za-z_][A-Za-z0-9_]*%)$")
_PATH = re.compile(r"^(?:~|\.{1,2})?/(?:[\w.@+-]+/)+[\w.@+-]*$")


def _is_placeholder(val: str) -> bool:
    """Values that name where a secret is (a variable, a file path with folders, a secret store reference),
    or say there is none or how it is stored, not the secret itself."""
    v = val.lower()
    return v in _PLACEHOLDERS or bool(_VAR_REF.match(val)) or bool(_PATH.match(val)) \
        or v.startswith(("file:", "env:", "vault:", "arn:", "secretref:", "secretkeyref:"))


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
    text = sub(_HASH_PREFIXED, "[REDACTED HASH]", text)
    text = sub(_URL_USERINFO, lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
    text = sub(_JWT, "[REDACTED JWT]", text)
    text = sub(_BASIC, lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = sub(_AWS_SECRET, lambda m: m.group(1) + REDACTED, text)
    text = sub(_BEARER, lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = sub(_AWS_KEY_ID, lambda m: f"{m.group(1)}{'*' * 12}{m.group(3)}", text)

    def named(m: re.Match) -> str:
        nonlocal n
        new = _named_value(m)
        n += new != m.group(0)
        return new

    text = _NAMED_VALUE.sub(named, text)
    return text, n


_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_FLAG = re.compile(r"^-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*$")


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
                if ks == "annotations" and isinstance(v, dict) and v.get(_LAST_APPLIED) not in (None, "", REDACTED):
                    # kubectl's copy of the applied manifest: a Secret's data, env values, anything at all
                    v = {**v, _LAST_APPLIED: REDACTED}
                    count += 1
                ks, kn = redact_text(ks)  # a secret can sit in a key too
                count += kn
                if ks == "secret" and isinstance(v, dict) and ("secretName" in v or "name" in v) \
                        and not any(is_secret_key(str(k2)) for k2 in v):
                    # a Kubernetes volume/projection source naming a Secret (metadata, not a value): walk it
                    out[ks] = walk(v)
                    continue
                if is_secret_key(ks) and v not in (None, "", [], {}) and not isinstance(v, bool) \
                        and not (isinstance(v, str) and _is_placeholder(v)):
                    if isinstance(v, (str, int, float)) or isinstance(v, (list, dict)):
                        count += 1
                        out[ks] = REDACTED
                        continue
                out[ks] = walk(v, secret_list=(x.get("kind") == "SecretList" and ks == "items"))
            return out
        if isinstance(x, (list, tuple)):
            items = [walk(i, secret_list) for i in x]
            for i in range(len(items) - 1):
                # ["--db-password", "x"]: a secret-named flag, then its value
                if isinstance(items[i], str) and _FLAG.match(items[i]) and is_secret_key(items[i]) \
                        and isinstance(items[i + 1], str) and not items[i + 1].startswith("-") \
                        and items[i + 1] != REDACTED and not _is_placeholder(items[i + 1]):
                    items[i + 1] = REDACTED
                    count += 1
            return items
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


def redact_strings(obj: Any) -> tuple[Any, int]:
    """The text patterns applied to every string of a JSON-like value (keys kept as they are). For files
    derived from already-redacted evidence (inventory, findings, controls): their attribute names such as
    `empty_password` or `password_policy` describe settings, so the key rule of `redact()` does not apply."""
    count = 0

    def walk(x: Any) -> Any:
        nonlocal count
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(i) for i in x]
        if isinstance(x, str):
            t, k = redact_text(x)
            count += k
            return t
        return x

    return walk(obj), count
