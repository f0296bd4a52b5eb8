"""Redaction: the one place where secrets are removed, before anything is written.

The evidence recorder runs every answer through `redact()` (structure: keys and values) as it writes the
record; the files derived from that evidence (inventory, findings, controls, report) are built from the
redacted answers alone and need no second pass (tests/test_secret_placements.py proves it on every output).
Files derived from another bundle (`check --out`, `merge`) still pass `redact_strings()`.

What goes, found by name: values under secret-looking keys (passwords, secret keys, tokens, `*_TOKEN` env
names, private keys, session credentials, cookies); `{name|key|Key|Name|ParameterKey: <secret name>,
value|Value|ParameterValue: x}` pairs (env vars, AWS tags, CloudFormation parameters) as if they were
`name: x`; Kubernetes Secret `data`/`stringData` (the key names are kept); the last-applied annotation of every
object (it can embed a whole Secret or env values); `name=value`, `name: value` and `"name": "value"` in text
whose name says secret (config files, command lines: `--db-password=x`), the value after a secret-named
flag in an argument list (`["--db-password", "x"]`), `mysql -pSECRET`, `sshpass -p SECRET`, `Cookie:`
headers, the password in a URL's userinfo (`scheme://user:pw@host`), Basic/Bearer credentials. Names that
only hint (`STRIPE_KEY`, `*_key`) lose their value when it looks like a credential (long, mixed, high
entropy), so `sort_key: name` stays readable.

Found by value, wherever they appear: PEM private keys, crypt(3)/argon2/pbkdf2/scrypt password hashes,
JWTs, GitHub, GitLab, Slack, Stripe, npm, PyPI, SendGrid and Google API tokens, Slack/Discord/Teams webhook
URLs, AWS secret keys next to their name; AWS (and Alibaba/Tencent) access key ids are masked to their
last four characters.

Cost: one regular-expression scan per string, linear in its length: every pattern is anchored at the start
of a token (a look-behind, not a scan from every position), quantifiers are bounded or possessive, and
nothing nests unbounded repetition. Short strings and key names are cached.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date, datetime, time
from typing import Any

REDACTED = "[REDACTED]"

# keys whose *values* are secret, matched case-insensitively on the key with separators removed
_SECRET_KEYS = {
    "password", "passwd", "secret", "secretaccesskey", "awssecretaccesskey", "sessiontoken",
    "awssessiontoken", "token", "accesstoken", "refreshtoken", "idtoken", "bearertoken", "apikey",
    "privatekey", "clientkey", "clientkeydata", "clientsecret", "masteruserpassword", "authtoken",
    "credentials", "passphrase", "keymaterial", "privatekeymaterial", "passwordhash", "hash",
    "cookie", "setcookie", "sessionid", "sessid", "sessionkey", "sessioncookie", "pgpass", "signingkey",
    "encryptionkey", "webhookurl", "slackwebhook", "connectionstring",
}
# key fragments that mark a secret value (e.g. "db_password", "SecretString")
_SECRET_FRAGMENTS = ("password", "passwd", "pwd", "secretaccesskey", "secretstring", "secretbinary", "privatekey",
                     "secretkey", "apikey", "accesstoken", "sessiontoken", "bearertoken", "clientkeydata", "apitoken",
                     "authtoken", "clientsecret", "dbpass", "passphrase", "sessionid", "webhookurl")
# names that end in "pass" are passwords too (DB_PASS, smtp_pass), but not these words
_PASS_SUFFIX_NOT = ("bypass", "compass", "overpass", "underpass", "firstpass", "onepass", "multipass")
# names that end in "token" hold one (GITHUB_TOKEN, VAULT_TOKEN), but not these: paging and idempotency
_TOKEN_SUFFIX_NOT = ("nexttoken", "continuationtoken", "paginationtoken", "startingtoken", "pagetoken", "clienttoken",
                     "idempotencytoken", "synctoken", "resumetoken", "cancellationtoken", "changetoken",
                     "serviceaccounttoken", "requesttoken", "markertoken")
# names ending in "key" only hint at a secret (STRIPE_KEY, license_key, but also sort_key, kms_key): their
# value goes only when it looks like a credential
_KEY_SUFFIX_NOT = ("publickey", "hostkey", "kmskey", "kmsmasterkey", "sortkey", "partitionkey", "primarykey",
                   "foreignkey", "hashkey", "rangekey", "routingkey", "tagkey", "objectkey", "cachekey", "labelkey",
                   "annotationkey", "configkey", "groupkey", "sshkeyname", "customerkey", "idempotencykey",
                   "datakey", "lookupkey", "indexkey", "mapkey", "topologykey")
# a name carrying a secret fragment but describing a setting, not holding a secret
_SETTING_SUFFIXES = ("timeout", "tries", "retry", "length", "len", "age", "days",
                     "enabled", "enable", "disabled", "policy", "file", "path", "dir", "expiry", "expires",
                     "expiration", "authentication", "algorithm", "algorithms", "rotation", "ref", "name",
                     "arn", "id", "version", "source", "required", "type", "mode", "status", "lastused",
                     "lastchanged", "prompt", "history", "complexity", "remember", "count", "seconds", "encryption",
                     "algo", "scheme", "format", "hashing", "ttl", "endpoint", "audience", "issuer", "lifetime",
                     "duration")
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
               "hashes", "pwd", "oldpwd", "pwdlastset", "apikeysource", "apikeyrequired", "key", "keys"}

_NORM = re.compile(r"[^a-z0-9]")

# --------------------------------------------------------------------------- name classes

NOT_SECRET, WEAK, SECRET = 0, 1, 2
_CLASS_CACHE: dict[str, int] = {}


def _norm(key: str) -> str:
    return _NORM.sub("", key.lower())


def name_class(key: str) -> int:
    """SECRET: the name says its value is a secret; WEAK: it only hints (`*_key`), the value decides; else
    NOT_SECRET. Cached: names repeat."""
    c = _CLASS_CACHE.get(key)
    if c is None:
        c = _classify(_norm(key))
        if len(_CLASS_CACHE) > 65_536:
            _CLASS_CACHE.clear()
        _CLASS_CACHE[key] = c
    return c


def _classify(k: str) -> int:
    if not k or k in _NOT_SECRET:
        return NOT_SECRET
    if k in _SECRET_KEYS:
        return SECRET
    if k.endswith(_SETTING_SUFFIXES):
        return NOT_SECRET
    if any(f in k for f in _SECRET_FRAGMENTS):
        return SECRET
    if k.endswith("secret") or (k.endswith("pass") and not k.endswith(_PASS_SUFFIX_NOT)):
        return SECRET
    if k.endswith("token") and not k.endswith(_TOKEN_SUFFIX_NOT):
        return SECRET
    if k.endswith("cookie"):
        return SECRET
    if k.endswith("key") and not k.endswith(_KEY_SUFFIX_NOT):
        return WEAK
    return NOT_SECRET


def is_secret_key(key: str) -> bool:
    """The name alone says the value is a secret (`db_password`, `GITHUB_TOKEN`, `SecretAccessKey`)."""
    return name_class(key) == SECRET


def looks_like_credential(val: str) -> bool:
    """A value that a hinting name (`STRIPE_KEY`) makes a secret: one long token of letters and digits
    with high entropy, not a path, URL, ARN, variable or placeholder."""
    if not 16 <= len(val) <= 8192 or _is_placeholder(val) or "://" in val:
        return False
    if any(ch.isspace() for ch in val[:256]):
        return False
    if not (any(ch.isdigit() for ch in val) and any(ch.isalpha() for ch in val)):
        return False
    sample = val[:256]
    counts = Counter(sample)
    n = len(sample)
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
    return entropy >= 3.0


def _value_is_secret(name: str, val: Any) -> bool:
    """Whether `val`, held under `name`, is a secret (by the name, or by the name's hint and the value)."""
    c = name_class(name)
    if c == NOT_SECRET:
        return False
    if c == SECRET:
        return not (isinstance(val, str) and _is_placeholder(val))
    return isinstance(val, str) and looks_like_credential(val)


# --------------------------------------------------------------------------- values that are not secrets

_PLACEHOLDERS = {"yes", "no", "true", "false", "on", "off", "none", "null", "required", "optional", "prohibit-password",
                 "without-password", "forced-commands-only", "***", "****", "*****", "<redacted>", "set", "empty",
                 "locked", "unset", "disabled", "enabled", "md5", "sha256", "sha512", "scram-sha-256", "bcrypt",
                 "yescrypt", "argon2", "argon2id", "pbkdf2", "des", "blowfish"}
_VAR_REF = re.compile(r"(?:\$\{[^}]*+\}|\$\([^)]*+\)|\$[A-Z_][A-Z0-9_]*+|\{\{.*\}\}|%[A-Za-z_][A-Za-z0-9_]*+%)", re.S)
_PATH = re.compile(r"(?:~|\.{1,2})?/(?:[\w.@+-]++/)+[\w.@+-]*+")


def _is_placeholder(val: str) -> bool:
    """Values that name where a secret is (a variable, a file path with folders, a secret store reference),
    or say there is none or how it is stored, not the secret itself."""
    v = val.lower()
    return v in _PLACEHOLDERS or v.startswith(("file:", "env:", "vault:", "arn:", "secretref:", "secretkeyref:")) \
        or bool(_VAR_REF.fullmatch(val)) or bool(_PATH.fullmatch(val))


# --------------------------------------------------------------------------- the text scanner
#
# One pattern, one scan per string. Every alternative starts at the beginning of a token (a fixed-width
# look-behind) or at a literal, and its repetitions are bounded or possessive, so a failed attempt costs a
# constant and the scan is linear in the length of the string.

_K = r"A-Za-z0-9_.\-"  # characters of a name (key) token
_TB = r"(?<![A-Za-z0-9_].)"  # after the first character: the one before it does not continue a token
_NB = r"(?<![A-Za-z0-9_.\-].)"  # the same for names (keys)


def _ci(word: str) -> str:
    """A word matched case-insensitively, as character classes (a leading class keeps the fast skip)."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


# a name worth a closer look carries one of these hints (the name rules above decide); the first letter is
# already consumed when the look-ahead runs, so a hint at the very start is matched by its tail
_HINTS = ("pass", "pwd", "secret", "token", "key", "credential", "cookie", "sessid", "sessionid", "webhook",
          "connectionstring")
_HINT_ANY = "(?:" + "|".join(_ci(h) for h in _HINTS) + ")"
_HINT_AT_START = "|".join(f"(?<=[{h[0].upper()}{h[0].lower()}]){_ci(h[1:])}" for h in _HINTS)
_NAMED_REST = (r"(?=" + _HINT_AT_START + r"|[" + _K + r"]{0,64}?" + _HINT_ANY + r")[" + _K + r"]{0,255}+)"
               r"(?P<q2>[\"']?)"
               r"(?P<sep>[ \t]{0,8}+(?:=>|[=:])[ \t]{0,8}+|(?<=[A-Za-z0-9])[ \t]{1,8}+(?=[^\-\s]))"
               r"(?=[\"']|\$\{|[^\s\"',;&{}\]\[])")
# the value of a name=value pair, read only once the name says secret (so a name that does not costs no scan
# of its value)
_VALUE = re.compile(r"\"(?:[^\"\\\n]|\\.){1,1024}+\"|'[^'\n]{1,1024}+'|\$\{[^}\s]{1,256}+\}|[^\s\"',;&{}\]\[]{1,256}+")
_PW_VALUE = r"(?:'[^'\n]{1,256}+'|\"[^\"\n]{1,256}+\"|[^\s'\";|&]{1,256}+)"

# (kind, pattern): every pattern starts with a literal or a character class, so the scanner skips it at
# once wherever that first character does not fit
_ALTERNATIVES = [
    # PEM private keys (the body to an END line, or to the end of the text)
    ("pem", r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----|\Z)"),
    # /etc/shadow lines: keep the user and the flags, drop the hash field
    ("shadow", r"(?P<sh_user>[a-z_](?<![^\n][a-z_])[a-z0-9_.-]{0,63}\$?):[^:\s]{13,1024}+:"),
    # crypt(3), argon2, pbkdf2, scrypt hashes; Django/werkzeug hash strings
    ("crypt", r"\$(?:1|2[aby]|5|6|y|gy|7|sha1|md5|argon2(?:id|i|d)|pbkdf2(?:-sha\d{1,3})?|scrypt|bcrypt(?:-sha256)?)"
              r"\$[./A-Za-z0-9$=,+-]{8,}+"),
    ("hash", r"p" + _TB + r"bkdf2(?:_sha(?:1|256|512)|:sha(?:1|256|512)(?::\d{1,9})?)\$[./A-Za-z0-9$=,:+-]{16,}+"),
    ("hash", r"a" + _TB + r"rgon2\$[./A-Za-z0-9$=,:+-]{16,}+"),
    ("hash", r"b" + _TB + r"crypt_sha256\$[./A-Za-z0-9$=,:+-]{16,}+"),
    ("hash", r"s" + _TB + r"crypt\$[./A-Za-z0-9$=,:+-]{16,}+"),
    # tokens recognised by their format
    ("tok", r"(?P<tok_pfx>g" + _TB + r"(?:h[pousr]_|ithub_pat_|lpat-))[A-Za-z0-9_\-]{20,255}+"),
    ("tok", r"(?P<tok_pfx>x" + _TB + r"(?:ox[abposrce]-|app-\d-))[A-Za-z0-9\-]{10,512}+"),
    ("tok", r"(?P<tok_pfx>[sr]" + _TB + r"k_(?:live|test)_)[A-Za-z0-9]{16,255}+"),
    ("tok", r"(?P<tok_pfx>s" + _TB + r"k-(?:proj|ant)-)[A-Za-z0-9_\-]{20,1024}+"),
    ("tok", r"(?P<tok_pfx>w" + _TB + r"hsec_)[A-Za-z0-9]{16,255}+"),
    ("tok", r"(?P<tok_pfx>n" + _TB + r"pm_)[A-Za-z0-9]{36,255}+"),
    ("tok", r"(?P<tok_pfx>p" + _TB + r"ypi-)[A-Za-z0-9_\-]{50,1024}+"),
    ("tok", r"S" + _TB + r"G\.[A-Za-z0-9_\-]{16,64}+\.[A-Za-z0-9_\-]{16,128}+"),
    ("tok", r"A" + _TB + r"Iza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])"),
    # webhook URLs: the host stays, the path (the credential) goes
    ("hook", r"(?P<hook_base>hooks\.(?:slack\.com/(?:services|workflows|triggers)/|zapier\.com/hooks/catch/))"
             r"[A-Za-z0-9_@/%+=.\-]{6,2048}+"),
    ("hook", r"(?P<hook_base>discord(?:app)?\.com/api/webhooks/)[A-Za-z0-9_@/%+=.\-]{6,2048}+"),
    ("hook", r"(?P<hook_base>webhook\.office\.com/webhookb2/)[A-Za-z0-9_@/%+=.\-]{6,2048}+"),
    ("hook", r"(?P<hook_base>oapi\.dingtalk\.com/robot/send\?access_token=|open\.feishu\.cn/open-apis/bot/v2/hook/)"
             r"[A-Za-z0-9_@/%+=.\-]{6,2048}+"),
    ("hook", r"(?P<hook_base>qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?key=)[A-Za-z0-9_@/%+=.\-]{6,2048}+"),
    # user:password@ in a URL (the user stays: it names the account)
    ("url", r"(?P<url_pre>[A-Za-z](?<![A-Za-z0-9+.\-].)[A-Za-z0-9+.\-]{1,20}://[^/\s:@'\"]{0,128}+:)"
            r"[^\s/'\"]{1,256}@(?=[^@\s/'\"])"),
    # (anchored at the start of a run of its own characters, "-" included: "eyJ-eyJ-..." is tried once, not at
    # every "eyJ" of the run)
    ("jwt", r"e(?<![A-Za-z0-9_\-].)yJ[A-Za-z0-9_\-]{5,}+\.[A-Za-z0-9_\-]{5,}+\.[A-Za-z0-9_\-]{5,}+"),
    ("basic", r"(?P<pre>[Bb]" + _TB + _ci("asic") + r"[ \t]{1,8}+)[A-Za-z0-9+/]{8,}+={0,2}+(?![A-Za-z0-9+/=])"),
    ("aws_secret", r"(?P<pre>[Aa][Ww][Ss].{0,20}?" + _ci("secret") + r".{0,20}?['\"=: ]{1,8}+)[A-Za-z0-9/+]{40}(?![A-Za-z0-9_])"),
    ("bearer", r"(?P<pre>(?:[Bb]" + _TB + _ci("earer") + "|[Tt]" + _TB + _ci("oken") + r")"
               r"(?:[ \t]{0,8}+[:=][ \t]{0,8}+|[ \t]{1,8}+))(?P<v>[A-Za-z0-9._~+/=\-]{16,}+)"),
    ("keyid", r"A" + _TB + r"(?:(?:KIA|SIA)[0-9A-Z]{12}|KID[0-9A-Za-z]{8,28}?)[0-9A-Za-z]{4}(?![0-9A-Za-z_])"),
    ("keyid", r"L" + _TB + r"TAI[0-9A-Za-z]{8,28}?[0-9A-Za-z]{4}(?![0-9A-Za-z_])"),
    # Cookie: / Set-Cookie: headers: the whole value
    ("cookie", r"(?P<pre>(?:[Cc]" + _NB + _ci("ookie") + "|[Ss]" + _NB + _ci("et-cookie") + r")[ \t]{0,8}+:[ \t]{0,8}+)"
               r"(?P<v>[^\r\n]{1,8192}+)"),
    # mysql -pSECRET (no space: with one, the client prompts), sshpass -p SECRET
    ("mysql", r"(?P<my_cmd>m" + _NB + r"(?:ysql(?:dump|admin|import|check|show|slap)?|ariadb(?:-dump|-admin)?))"
              r"(?P<my_args>(?:[ \t]++(?!-p)[^\s;|&]{1,256}+){0,32}?)(?P<my_flag>[ \t]++-p)" + _PW_VALUE),
    ("sshpass", r"(?P<pre>s" + _NB + r"shpass[ \t]++-p[ \t]*+)" + _PW_VALUE),
    # name=value / name: value / "name": "value" / --flag value where the name says secret
    ("named", r"(?P<q>[\"'])(?<![" + _K + r"].)(?P<key>[" + _K + r"]" + _NAMED_REST),
    ("named", r"(?P<key>[" + _K + r"]" + _NB + _NAMED_REST),
]
_GROUP = re.compile(r"\(\?P<\w+>")


def _combined(names: tuple[str, ...] | None = None) -> re.Pattern:
    """All alternatives in one pattern without groups (a group at the head of an alternative would cost its
    fast skip, and groups make every branch attempt dearer): it only finds where a match starts; the
    alternative that matched is found again with its groups (`_EACH`) at that spot."""
    return re.compile("|".join(_GROUP.sub("(?:", rx) for kind, rx in _ALTERNATIVES
                               if names is None or kind in names))


def _first_chars(rx: str) -> frozenset[str] | None:
    """The characters a match of `rx` can start with (ASCII), or None when that cannot be told."""
    try:
        import re._constants as c
        import re._parser as p
    except ImportError:  # pragma: no cover - another Python
        return None

    def first(items) -> set[str] | None:
        if not items:
            return None
        op, av = items[0]
        if op is c.SUBPATTERN:
            return first(av[3])
        if op is c.LITERAL:
            return {chr(av)}
        if op is c.BRANCH:
            out: set[str] = set()
            for alt in av[1]:
                got = first(alt)
                if got is None:
                    return None
                out |= got
            return out
        if op is c.IN:
            out = set()
            for iop, iav in av:
                if iop is c.LITERAL:
                    out.add(chr(iav))
                elif iop is c.RANGE:
                    out.update(chr(i) for i in range(iav[0], min(iav[1], 127) + 1))
                else:
                    return None
            return out
        return None

    got = first(list(p.parse(rx)))
    return frozenset(got) if got is not None else None


_SCAN = _combined()
_EACH = [(kind, re.compile(rx)) for kind, rx in _ALTERNATIVES]
# which alternatives can start with a character: a match found by the scan is told apart by these alone
# (each pattern is parsed once here: parsing them again for each of the 128 characters cost ~0.4 s of CPU at
# every import, i.e. on every command)
_FIRST = [_first_chars(rx) for _kind, rx in _ALTERNATIVES]
_BY_FIRST: dict[str, list] = {}
_ANY_FIRST = [(kind, one) for (kind, one), fc in zip(_EACH, _FIRST) if fc is None]
for _ch in map(chr, range(128)):
    _BY_FIRST[_ch] = [(kind, one) for (kind, one), fc in zip(_EACH, _FIRST) if fc is None or _ch in fc]
# the rest of an unquoted value that reached the scanner's bound (a secret is never cut short)
_VAL_REST = re.compile(r"[^\s\"',;&{}\]\[]*+")
# A string none of whose lower-cased text holds one of these cannot match any alternative (each needs one:
# a hint of its name rule, a literal of its format); most strings are like that and cost this check alone.
# A URL's password needs "://" and "@"; a shadow line two colons and the line shape (checked apart).
_NEEDLES = _HINTS + ("private key", "$", "gh", "glpat-", "xox", "xapp-", "sk_", "rk_", "sk-", "whsec_", "npm_",
                     "pypi-", "sg.", "aiza", "hooks.", "discord", "dingtalk", "feishu", "eyj", "basic", "bearer",
                     "akia", "asia", "ltai", "akid", "mysql", "mariadb")  # the AWS secret pattern needs "secret", a needle above
_TRIGGER = re.compile("|".join(re.escape(n) for n in _NEEDLES))
_SHADOW_LINE = re.compile(r"^[a-z_][a-z0-9_.-]{0,63}\$?:[^:\s]{13,}+:", re.M)


def _may_hold_secret(text: str) -> bool:
    return _TRIGGER.search(text.lower()) is not None or ("://" in text and "@" in text) \
        or (text.count(":") >= 2 and _SHADOW_LINE.search(text) is not None)


def _named(m: re.Match, s: str) -> tuple[str, int] | None:
    """The replacement of a name=value match and where it ends, or None when it stays (the name does not say
    secret, the value is a placeholder, or the name is a path segment, an ARN part, a sudoers tag...)."""
    key, sep = m.group("key"), m.group("sep")
    if sep.strip() == "" and not key.startswith("-"):
        return None  # whitespace separates only a command-line flag from its value
    start = m.start()
    if start and s[start - 1] == "/":
        return None  # a path segment (/etc/pam.d/common-password: ...)
    if start and s[start - 1] == ":":
        lo = max(0, start - 300)
        ws = max(s.rfind(" ", lo, start), s.rfind("\n", lo, start), s.rfind("\t", lo, start))
        if s.startswith("arn:", max(ws + 1, lo)):
            return None  # an ARN's parts (...:secret:name)
    if key.lower() in ("passwd", "nopasswd", "shadow", "gshadow") or name_class(key) == NOT_SECRET:
        return None  # sudoers tags (NOPASSWD: ALL) and nsswitch.conf databases (passwd: files)
    vm = _VALUE.match(s, m.end())
    if vm is None:
        return None
    raw = vm.group()
    quote = raw[0] if raw[0] in "\"'" and len(raw) > 1 and raw[-1] == raw[0] else ""
    val = raw[1:-1] if quote else raw
    if val == REDACTED or val.startswith("[REDACTED") or not _value_is_secret(key, val):
        return None
    end = vm.end()
    if len(raw) == 256 and raw[0] not in "\"'$":
        end = _VAL_REST.match(s, end).end()  # a secret is never cut short
    return f"{m.groupdict().get('q') or ''}{key}{m.group('q2')}{sep}{quote}{REDACTED}{quote}", end


def _replace(kind: str, m: re.Match, s: str) -> tuple[str | None, int]:
    """(the replacement, or None to keep the text; where the scan goes on)."""
    if kind == "named":
        got = _named(m, s)
        if got is None:
            return None, m.end()  # the value may hold a pair of its own: the scan goes on at its start
        return got
    if kind == "pem":
        return "[REDACTED PRIVATE KEY]", m.end()
    if kind == "shadow":
        return f"{m.group('sh_user')}:{REDACTED}:", m.end()
    if kind in ("crypt", "hash"):
        return "[REDACTED HASH]", m.end()
    if kind == "tok":
        pfx = m.groupdict().get("tok_pfx") or ""
        return f"{pfx}{REDACTED}", m.end()
    if kind == "hook":
        return f"{m.group('hook_base')}{REDACTED}", m.end()
    if kind == "url":
        return f"{m.group('url_pre')}{REDACTED}@", m.end()
    if kind == "jwt":
        return "[REDACTED JWT]", m.end()
    if kind in ("basic", "aws_secret", "sshpass"):
        return f"{m.group('pre')}{REDACTED}", m.end()
    if kind in ("bearer", "cookie"):
        if m.group("v").startswith("[REDACTED"):
            return None, m.end()
        return f"{m.group('pre')}{REDACTED}", m.end()
    if kind == "keyid":
        tok = m.group()
        return f"{tok[:4]}{'*' * (len(tok) - 8)}{tok[-4:]}", m.end()
    if kind == "mysql":
        args, _ = _scan(m.group("my_args"))  # the arguments before -p may hold secrets of their own
        return f"{m.group('my_cmd')}{args}{m.group('my_flag')}{REDACTED}", m.end()
    raise AssertionError(kind)


def _scan(text: str, rx: re.Pattern = _SCAN, each: list = _EACH) -> tuple[str, int]:
    out: list[str] = []
    n = 0
    pos = last = 0
    search = rx.search
    while True:
        m = search(text, pos)
        if m is None:
            break
        at = m.start()
        # which alternative matched here: the first that does, as in the scan, among those that can start so
        for kind, one in _BY_FIRST.get(text[at], _ANY_FIRST) if each is _EACH else each:
            mm = one.match(text, at)
            if mm is not None:
                break
        else:  # pragma: no cover - the patterns are the same; never leave the loop without progress
            pos = at + 1
            continue
        new, end = _replace(kind, mm, text)
        if new is not None:
            out.append(text[last:at])
            out.append(new)
            last = end
            n += 1
        pos = end if end > at else at + 1
    if not n:
        return text, 0
    out.append(text[last:])
    return "".join(out), n


# short strings repeat (namespaces, images, label values, setting names); unique ones (uids, digests) would
# only fill the cache, which is emptied when it holds this many (bounded memory: a few MB)
_TEXT_CACHE: dict[str, tuple[str, int]] = {}
_CACHE_MAX_LEN = 256
_CACHE_ENTRIES = 32_768


def redact_text(text: str) -> tuple[str, int]:
    """Remove secrets from free text. Returns the new text and how many replacements were made."""
    if len(text) <= _CACHE_MAX_LEN:
        hit = _TEXT_CACHE.get(text)
        if hit is not None:
            return hit
    res = _scan(text) if _may_hold_secret(text) else (text, 0)
    if len(text) <= _CACHE_MAX_LEN:
        if len(_TEXT_CACHE) > _CACHE_ENTRIES:
            _TEXT_CACHE.clear()
        _TEXT_CACHE[text] = res
    return res


# --------------------------------------------------------------------------- structures

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_FLAG = re.compile(r"-{1,2}[A-Za-z0-9][A-Za-z0-9_.-]*+")
# {name: DB_PASSWORD, value: x}, AWS tags {Key, Value}, CloudFormation {ParameterKey, ParameterValue}...
_PAIR_NAMES = ("name", "Name", "key", "Key", "ParameterKey", "ParameterName", "OptionName")
_PAIR_VALUES = ("value", "Value", "ParameterValue")
_PAIR_NAME_SET, _PAIR_VALUE_SET = frozenset(_PAIR_NAMES), frozenset(_PAIR_VALUES)


def _is_secret_object(d: dict) -> bool:
    kind = d.get("kind")
    if kind == "Secret":
        return True
    # items of a SecretList carry no kind; they have type + data
    return kind is None and isinstance(d.get("type"), str) and ("data" in d or "stringData" in d) and \
        isinstance(d.get("metadata"), dict)


def _secret_pair_value(d: dict, present: list[str] | None = None) -> str | None:
    """The value key of a name/value pair whose name says the value is a secret (env vars, AWS tags,
    CloudFormation parameters), or None. `present`: the pair keys the mapping has, when known."""
    keys = present if present is not None else [k for k in _PAIR_NAMES + _PAIR_VALUES if k in d]
    best, name = NOT_SECRET, None
    for nk in keys:
        if nk in _PAIR_NAME_SET:
            n = d[nk]
            if type(n) is str:
                c = name_class(n)
                if c > best:
                    best, name = c, n
    if best == NOT_SECRET:
        return None
    for vk in keys:
        if vk not in _PAIR_VALUE_SET:
            continue
        value = d[vk]
        if value is None or isinstance(value, (bool, dict, list)) or value in ("", REDACTED) \
                or not isinstance(value, (str, int, float)):
            continue
        if best == SECRET or (isinstance(value, str) and looks_like_credential(value)):
            return vk
    return None


def _plain_key(k: Any) -> str:
    """A dict key as JSON writes it."""
    if isinstance(k, str):
        return k if type(k) is str else str.__str__(k)
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, float):
        return float.__repr__(k)
    if isinstance(k, int):
        return int.__repr__(k)
    return _plain_scalar(k) if not isinstance(k, (bytes,)) else k.decode("utf-8", "replace")


def _plain_scalar(o: Any) -> Any:
    """A value JSON cannot hold as it is, the way the evidence format stores it."""
    if isinstance(o, (datetime, date, time)):
        return o.isoformat()
    if isinstance(o, bytes):
        return o.decode("utf-8", "replace")
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return str(o)


def _sorted_items(d: dict) -> list:
    try:
        return sorted(d.items(), key=lambda kv: kv[0])
    except TypeError:
        return sorted(d.items(), key=lambda kv: _plain_key(kv[0]))


_KEY_CACHE: dict[str, tuple[str, int, bool]] = {}


def _key_info(k: str) -> tuple[str, int, bool]:
    """(the key with any secret in it removed, redactions, whether its value is secret by name)."""
    hit = _KEY_CACHE.get(k)
    if hit is None:
        nk, n = redact_text(k)
        hit = (nk, n, name_class(nk) != NOT_SECRET)
        if len(_KEY_CACHE) > _CACHE_ENTRIES:
            _KEY_CACHE.clear()
        _KEY_CACHE[k] = hit
    return hit


_PAIR_KEYS = frozenset(_PAIR_NAMES + _PAIR_VALUES)
_SPECIAL = frozenset(("data", "stringData", "binaryData", "annotations", "items"))


def redact(obj: Any, *, plain: bool = False, sort_keys: bool = False) -> tuple[Any, int]:
    """Return a redacted deep copy of a JSON-like value and the number of redactions.

    plain: also turn what JSON cannot hold into JSON values on the way (datetimes and dates as ISO text,
    bytes as UTF-8 text, sets and tuples as lists, non-string keys as JSON writes them, NaN/inf as null),
    so an API answer is cleaned in the same single pass. sort_keys: every mapping in key order (the
    evidence format)."""
    count = 0
    text_cache = _TEXT_CACHE
    key_cache = _KEY_CACHE

    def text(s: str) -> str:
        nonlocal count
        hit = text_cache.get(s) if len(s) <= _CACHE_MAX_LEN else None
        if hit is None:
            hit = redact_text(s)
        count += hit[1]
        return hit[0]

    def other(x: Any, secret_list: bool) -> Any:
        """Anything but a plain str, int, bool, None, dict or list."""
        if isinstance(x, dict):
            return walk_dict(x, secret_list)
        if isinstance(x, (list, tuple)):
            return walk_list(x, secret_list)
        if isinstance(x, str):
            return text(str.__str__(x) if plain else x)
        if isinstance(x, bool):
            return bool(x)
        if isinstance(x, int):
            return int(x) if plain else x
        if isinstance(x, float):
            return float(x) if not plain or math.isfinite(x) else None
        if isinstance(x, bytes):
            return text(x.decode("utf-8", "replace"))
        if plain:
            if isinstance(x, (set, frozenset)):
                try:
                    return walk_list(sorted(x), secret_list)
                except TypeError:
                    return walk_list(list(x), secret_list)
            v = _plain_scalar(x)
            return text(v) if isinstance(v, str) else v
        return x

    def walk_dict(x: dict, secret_list: bool) -> dict:
        nonlocal count
        out: dict = {}
        pair: list[str] | None = None
        for k, v in (_sorted_items(x) if sort_keys else x.items()):
            ks = k if type(k) is str else _plain_key(k) if plain else str(k)
            sub_list = False
            if ks in _SPECIAL:
                if ks == "annotations":
                    if type(v) is dict and v.get(_LAST_APPLIED) not in (None, "", REDACTED):
                        # kubectl's copy of the applied manifest: a Secret's data, env values, anything at all
                        v = {**v, _LAST_APPLIED: REDACTED}
                        count += 1
                elif ks == "items":
                    sub_list = x.get("kind") == "SecretList"
                elif secret_list or _is_secret_object(x):  # data, stringData, binaryData of a Secret
                    if v:
                        count += 1
                        out["redactedDataKeys"] = sorted(v) if isinstance(v, dict) else []
                    continue
            elif ks in _PAIR_KEYS:
                if pair is None:
                    pair = [ks]
                else:
                    pair.append(ks)
            info = key_cache.get(ks)
            if info is None:
                info = _key_info(ks)  # a secret can sit in a key too
            nk, kn, hinted = info
            count += kn
            tv = type(v)
            if hinted and v is not None and tv is not bool and v != "" and v != [] and v != {}:
                if nk == "secret" and tv is dict and ("secretName" in v or "name" in v) \
                        and not any(is_secret_key(str(k2)) for k2 in v):
                    # a Kubernetes volume/projection source naming a Secret (metadata, not a value): walk it
                    out[nk] = walk_dict(v, False)
                    continue
                if _value_is_secret(nk, v) if isinstance(v, str) else name_class(nk) == SECRET:
                    count += 1
                    out[nk] = REDACTED
                    continue
            if tv is str:
                hit = text_cache.get(v) if len(v) <= _CACHE_MAX_LEN else None
                if hit is None:
                    hit = redact_text(v)
                count += hit[1]
                out[nk] = hit[0]
            elif tv is dict:
                out[nk] = walk_dict(v, False)
            elif tv is list:
                out[nk] = walk_list(v, sub_list)
            elif v is None or tv is int or tv is bool:
                out[nk] = v
            else:
                out[nk] = other(v, sub_list)
        if pair is not None and len(pair) > 1:
            vk = _secret_pair_value(x, pair)
            if vk is not None and vk in out and out[vk] != REDACTED:
                # {name: DB_PASSWORD, value: ...}: env vars, AWS tags, CloudFormation parameters
                count += 1
                out[vk] = REDACTED
        return out

    def walk_list(x: list | tuple, secret_list: bool) -> list:
        nonlocal count
        items = []
        append = items.append
        flags = False
        for v in x:
            tv = type(v)
            if tv is str:
                hit = text_cache.get(v) if len(v) <= _CACHE_MAX_LEN else None
                if hit is None:
                    hit = redact_text(v)
                count += hit[1]
                append(hit[0])
                flags = flags or v[:1] == "-"
            elif tv is dict:
                append(walk_dict(v, secret_list))
            elif tv is list:
                append(walk_list(v, secret_list))
            elif v is None or tv is int or tv is bool:
                append(v)
            else:
                append(other(v, secret_list))
        if flags:
            for i in range(len(items) - 1):
                # ["--db-password", "x"]: a secret-named flag, then its value
                a = items[i]
                if type(a) is str and a[:1] == "-" and _FLAG.fullmatch(a) and is_secret_key(a) \
                        and isinstance(items[i + 1], str) and not items[i + 1].startswith("-") \
                        and items[i + 1] != REDACTED and not _is_placeholder(items[i + 1]):
                    items[i + 1] = REDACTED
                    count += 1
        return items

    t = type(obj)
    if t is dict:
        res = walk_dict(obj, False)
    elif t is list:
        res = walk_list(obj, False)
    elif t is str:
        res = text(obj)
    elif obj is None or t is int or t is bool:
        res = obj
    else:
        res = other(obj, False)
    return res, count


def redact_strings(obj: Any) -> tuple[Any, int]:
    """The text patterns applied to every string of a JSON-like value (keys kept as they are). For files
    derived from another bundle's files (`check --out`, `merge`): their attribute names such as
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
