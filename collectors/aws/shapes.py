"""Is an AWS answer an answer? Every successful (2xx) response is held against what its caller reads before it
is recorded, so a broken answer becomes an `error` record (and its checks say `error`), never an empty list
or a silent pass.

botocore does not do this itself: it parses an empty body, and for the JSON protocols a body that is not
JSON at all, into `{}`, which a caller reads as "no log groups" or "no grants" (a public bucket passing).
Three layers, in order:

1. the raw body: a response whose operation has an output body must have one; a JSON protocol's body
   must be a JSON object; a query protocol's body must be the `<OperationResponse>` document;
2. the parsed answer against botocore's output shape: every member present has the shape's type
   (structure/map = object, list = list, string, boolean, integer, timestamp...), recursively;
3. the keys the caller reads must be there: the result keys of a paginated operation (its paginator's
   `result_key`, e.g. `logGroups`), and for the others the keys listed in `READS`; plus `CONTENT` checks of
   values the caller parses further (the credential report's CSV, a bucket policy's JSON).

`validate_answer` is a botocore `after-call` handler: registered on a session, it raises `MalformedAnswer`
(a `BotoCoreError`, so it is recorded like any failed call) for a bad page of any call made through it.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError

# non-paginated operations: the keys the collector reads (an absent one would read as "none" or "off")
READS: dict[str, tuple[str, ...]] = {
    "sts:GetCallerIdentity": ("Account", "Arn"),
    "sts:AssumeRole": ("Credentials",),  # an organisation member's role (org.py)
    "organizations:DescribeOrganization": ("Organization",),
    "ec2:DescribeRegions": ("Regions",),
    "ec2:GetEbsEncryptionByDefault": ("EbsEncryptionByDefault",),
    "config:DescribeConfigurationRecorders": ("ConfigurationRecorders",),
    "config:DescribeConfigurationRecorderStatus": ("ConfigurationRecordersStatus",),
    "cloudtrail:DescribeTrails": ("trailList",),
    "cloudtrail:GetTrailStatus": ("IsLogging",),
    "cloudtrail:GetEventSelectors": ("TrailARN",),
    "guardduty:GetDetector": ("Status",),
    "kms:DescribeKey": ("KeyMetadata",),
    "kms:GetKeyRotationStatus": ("KeyRotationEnabled",),
    "iam:GenerateCredentialReport": ("State",),
    "iam:GetCredentialReport": ("Content",),
    "iam:GetAccountSummary": ("SummaryMap",),
    "iam:GetAccountPasswordPolicy": ("PasswordPolicy",),
    "s3:GetBucketAcl": ("Owner", "Grants"),
    "s3:GetBucketEncryption": ("ServerSideEncryptionConfiguration",),
    "s3:GetPublicAccessBlock": ("PublicAccessBlockConfiguration",),
    "s3:GetBucketPolicy": ("Policy",),
    "s3control:GetPublicAccessBlock": ("PublicAccessBlockConfiguration",),
    "wafv2:ListWebACLs": ("WebACLs",),
    "wafv2:ListLoggingConfigurations": ("LoggingConfigurations",),
    "eks:DescribeCluster": ("cluster",),
    # paginated, but of its three result keys (MetricAlarms, CompositeAlarms, LogAlarms) only this one is read
    "cloudwatch:DescribeAlarms": ("MetricAlarms",),
}


def _csv_report(parsed: dict) -> str | None:
    content = parsed.get("Content")
    if isinstance(content, (bytes, bytearray)):
        content = bytes(content).decode("utf-8", "replace")
    if not isinstance(content, str) or not content.startswith("user,arn,"):
        return "Content is not the credential report CSV (no `user,arn,...` header)"
    return None


def _policy_json(parsed: dict) -> str | None:
    try:
        doc = json.loads(parsed.get("Policy") or "")
    except (TypeError, ValueError):
        return "Policy is not a JSON document"
    return None if isinstance(doc, dict) else "Policy is not a JSON object"


# values the caller parses further
CONTENT = {
    "iam:GetCredentialReport": _csv_report,
    "s3:GetBucketPolicy": _policy_json,
}

MAX_DEPTH = 64  # an answer nested deeper than this is not an AWS answer


class MalformedAnswer(BotoCoreError):
    fmt = "malformed answer to {operation} (HTTP {status}): {problem}"


def _key(model) -> str:
    return f"{model.service_model.service_name}:{model.name}"


@lru_cache(maxsize=1)
def _models():
    """One botocore session to read paginator models from (a new session per operation costs ~15 ms each)."""
    import botocore.session
    return botocore.session.get_session()


@lru_cache(maxsize=None)
def _result_keys(service: str, op: str) -> tuple[str, ...]:
    """The paginator result keys of an operation (its list results), or () when it has no paginator."""
    try:
        pag = _models().get_paginator_model(service)
        cfg = pag.get_paginator(op)
    except Exception:  # noqa: BLE001 - no paginator model / no paginator for this operation
        return ()
    keys = cfg.get("result_key") or ()
    keys = [keys] if isinstance(keys, str) else list(keys)
    return tuple(k for k in keys if re.fullmatch(r"[A-Za-z0-9_]+", k))  # top-level keys only


def required_keys(model) -> tuple[str, ...]:
    return READS.get(_key(model)) or _result_keys(model.service_model.service_name, model.name)


def _body_members(shape) -> bool:
    """Whether the output shape is carried (at least partly) in the body, not only in headers."""
    if shape is None:
        return False
    if shape.serialization.get("payload"):
        return True
    return any(m.serialization.get("location") not in ("header", "headers", "statusCode")
               for m in shape.members.values())


_XML_ROOT = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<([A-Za-z_][\w.:-]*)", re.S)


_XML_PROTOCOLS = frozenset({"query", "ec2", "rest-xml"})


def _protocol(model) -> str:
    """The protocol the client speaks (botocore picks one of a service's `protocols`: CloudWatch speaks JSON)."""
    return getattr(model.service_model, "resolved_protocol", None) or model.service_model.protocol


def raw_problem(model, raw: bytes | None) -> str | None:
    out = model.output_shape
    if out is None or model.has_streaming_output or not _body_members(out):
        return None
    raw = raw or b""
    if not raw.strip():
        return "empty body"
    proto = _protocol(model)
    if proto in ("json", "rest-json"):
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            return "the body is not JSON"
        if not isinstance(doc, dict):
            return "the body is not a JSON object"
        return None
    if proto in ("query", "ec2"):
        m = _XML_ROOT.match(raw[:4096])
        root = m.group(1).decode().split(":")[-1] if m else None
        if root != f"{model.name}Response":
            return f"the body is not a {model.name}Response document"
        return None
    if proto == "rest-xml":
        payload = out.serialization.get("payload")
        if payload and out.members[payload].type_name in ("string", "blob"):
            return None  # a raw payload (a policy document): non-empty is all the raw check can say
        if not _XML_ROOT.match(raw[:4096]):
            return "the body is not an XML document"
    return None


_TYPES: dict[str, tuple[type, ...]] = {
    "structure": (dict,), "map": (dict,), "list": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "long": (int,), "float": (int, float), "double": (int, float),
    "timestamp": (dt.datetime, str, int, float), "blob": (bytes, bytearray, str),
}


def type_problem(shape, value: Any, path: str = "", depth: int = 0) -> str | None:
    """The first place where `value` does not have the type `shape` declares (None when it all fits)."""
    if value is None:
        return None
    if depth > MAX_DEPTH:
        return f"{path or 'answer'} is nested deeper than {MAX_DEPTH} levels"
    t = shape.type_name
    if t == "string" and shape.name == "policyDocumentType" and isinstance(value, (dict, str)):
        return None  # botocore's own after-call handler decodes IAM policy documents into objects
    want = _TYPES.get(t)
    if want is None:  # document types and anything newer: no opinion
        return None
    if not isinstance(value, want) or (t in ("integer", "long", "float", "double") and isinstance(value, bool)):
        return f"{path or 'answer'} should be {t}, got {type(value).__name__}"
    if t == "structure":
        for name, member in shape.members.items():
            if name in value:
                p = type_problem(member, value[name], f"{path}.{name}" if path else name, depth + 1)
                if p:
                    return p
    elif t == "list":
        for i, item in enumerate(value):
            p = type_problem(shape.member, item, f"{path}[{i}]", depth + 1)
            if p:
                return p
    elif t == "map":
        for k, v in value.items():
            p = type_problem(shape.value, v, f"{path}[{k!r}]", depth + 1)
            if p:
                return p
    return None


def answer_problem(model, parsed: dict, raw: bytes | None = None) -> str | None:
    """Why a successful answer to `model` (botocore OperationModel) is not an answer, or None."""
    p = raw_problem(model, raw)
    if p:
        return p
    if not isinstance(parsed, dict):
        return f"answer is {type(parsed).__name__}, not an object"
    answer = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
    # botocore's XML parsers build every value from the shape (a structure from child elements, a list from
    # members, an integer with int()), so those answers have the declared types by construction; its JSON
    # parsers take the document's values as they are (a string where a list belongs iterates as characters)
    if model.output_shape is not None and _protocol(model) not in _XML_PROTOCOLS:
        p = type_problem(model.output_shape, answer)
        if p:
            return p
    missing = [k for k in required_keys(model) if answer.get(k) is None]
    if missing:
        return f"{', '.join(missing)} missing from the answer"
    check = CONTENT.get(_key(model))
    return check(answer) if check else None


def validate_answer(http_response=None, parsed=None, model=None, **_kw) -> None:
    """botocore `after-call` handler: raise MalformedAnswer for a 2xx answer that is not an answer."""
    if http_response is None or model is None or not 200 <= int(http_response.status_code) < 300:
        return
    try:
        raw = http_response.content
    except Exception:  # noqa: BLE001 - a streamed body: the raw check is skipped
        raw = None
    problem = answer_problem(model, parsed, raw)
    if problem:
        raise MalformedAnswer(operation=_key(model), status=http_response.status_code, problem=problem)


def register(session) -> None:
    """Validate every answer of a boto3/botocore session's clients (made after this call or before)."""
    session.events.register("after-call", validate_answer, unique_id="mlps-scan-validate-answer")


__all__ = ["MalformedAnswer", "READS", "CONTENT", "answer_problem", "register", "validate_answer"]
