"""The judgements the AWS collector makes on policy documents, in one place with their table tests
(tests/test_aws_policy.py): does a policy grant every action on every resource (admin), does a bucket policy
refuse requests without TLS (TLS only), would S3 call a bucket policy public, and is a bucket public once
Block Public Access (bucket and account) is applied.

These are pure functions of the recorded documents; derivation calls them and stores the answers as asset
attributes (`admin`, `tls_only`, `policy_public`, `public`), which the checks then judge against the level.
"""
from __future__ import annotations

import ipaddress
import json
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

# a setting that could not be read (distinct from None: read, and not set)
UNKNOWN: Any = object()

PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers",
                   "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")

# Condition keys whose fixed (wildcard-free) values tie an `Allow` for Principal "*" to known callers, per
# "The meaning of public" (Amazon S3 User Guide, Block Public Access): such a statement is not public.
RESTRICTING_KEYS = {
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceowner", "aws:sourceaccount",
    "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
}
# positive operators only: a negated operator (StringNotEquals, NotIpAddress...) or ...IfExists (absent key
# passes) or ForAllValues: (an empty set passes) lets arbitrary callers through
RESTRICTING_OPERATORS = {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else ([] if value is None else [value])


def statements(document: Any) -> list[dict]:
    """The statements of an IAM/bucket policy document given as a dict, JSON text or URL-encoded JSON."""
    if isinstance(document, str):
        for text in (document, unquote(document)):
            try:
                document = json.loads(text)
                break
            except ValueError:
                continue
        else:
            return []
    if not isinstance(document, dict):
        return []
    found = document.get("Statement", [])
    found = [found] if isinstance(found, dict) else found
    return [st for st in found if isinstance(st, dict)] if isinstance(found, list) else []


def allows_admin(document: Any) -> bool:
    """A policy document that allows every action on every resource (`*:*`) without a condition."""
    for st in statements(document):
        if st.get("Effect") != "Allow" or "NotAction" in st or "Condition" in st:
            continue
        actions, resources = as_list(st.get("Action")), as_list(st.get("Resource"))
        if ("*" in actions or "*:*" in actions) and "*" in resources:
            return True
    return False


# IAM actions that change who may do what (access-control policy): attaching, writing or versioning policies,
# group membership and role trust
POLICY_WRITE_ACTIONS = (
    "iam:PutUserPolicy", "iam:PutRolePolicy", "iam:PutGroupPolicy", "iam:AttachUserPolicy", "iam:AttachRolePolicy",
    "iam:AttachGroupPolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DetachUserPolicy",
    "iam:DetachRolePolicy", "iam:DetachGroupPolicy", "iam:DeleteUserPolicy", "iam:DeleteRolePolicy",
    "iam:DeleteGroupPolicy", "iam:AddUserToGroup", "iam:UpdateAssumeRolePolicy", "iam:PutUserPermissionsBoundary",
    "iam:PutRolePermissionsBoundary")
# reading the audit trail (what an audit administrator does)
AUDIT_READ_ACTIONS = ("cloudtrail:LookupEvents",)


def allows_any(document: Any, actions: tuple[str, ...]) -> list[str]:
    """The actions of `actions` an Allow statement of the document grants (wildcards in the statement's
    Action match: `iam:*`, `iam:Put*`, `*`). Conditions are not weighed: a conditional grant still grants."""
    granted = set()
    for st in statements(document):
        if st.get("Effect") != "Allow" or "NotAction" in st:
            continue
        for pattern in as_list(st.get("Action")):
            if not isinstance(pattern, str):
                continue
            granted |= {a for a in actions if fnmatchcase(a.lower(), pattern.lower())}
    return sorted(granted)


def denies_insecure_transport(document: Any) -> bool:
    """A bucket policy that denies requests without TLS (aws:SecureTransport = false): TLS only."""
    for st in statements(document):
        if st.get("Effect") != "Deny" or not any(a in ("*", "s3:*") for a in as_list(st.get("Action"))):
            continue
        for operator, condition in (st.get("Condition") or {}).items():
            if operator.lower().startswith("bool") and isinstance(condition, dict):
                for key, value in condition.items():
                    if key.lower() == "aws:securetransport" and any(str(x).lower() == "false" for x in as_list(value)):
                        return True
    return False


def _fixed(values: list) -> bool:
    return bool(values) and all(isinstance(v, str) and v and "*" not in v and "?" not in v and "${" not in v
                                for v in values)


def _userid_fixed(values: list) -> bool:
    """aws:userid values are fixed, or `<role id>:*` (any session of one role)."""
    return bool(values) and all(isinstance(v, str) and _fixed([v[:-2] if v.endswith(":*") else v]) for v in values)


def _cidr_restricts(values: list) -> bool:
    """aws:SourceIp limits callers unless a range is broader than /8 (IPv4) or /32 (IPv6), private ranges
    (RFC 1918, IPv6 unique-local fc00::/7) excepted: that is how S3 judges 'public'."""
    if not values:
        return False
    unique_local = ipaddress.ip_network("fc00::/7")
    for value in values:
        try:
            net = ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            return False
        if net.version == 4 and net.prefixlen < 8:
            return False
        if net.version == 6 and net.prefixlen < 32 and not net.subnet_of(unique_local):
            return False
    return True


def condition_restricts(condition: Any) -> bool:
    """True when one condition of the statement ties it to fixed callers (conditions are ANDed)."""
    if not isinstance(condition, dict):
        return False
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict):
            continue
        op = str(operator).lower()
        if op.startswith("forallvalues:") or op.endswith("ifexists"):
            continue
        op = op.split(":", 1)[1] if op.startswith("foranyvalue:") else op
        for key, value in pairs.items():
            name, values = str(key).lower(), as_list(value)
            if name == "aws:sourceip":
                if op == "ipaddress" and _cidr_restricts(values):
                    return True
            elif name == "aws:userid":
                if op in RESTRICTING_OPERATORS and _userid_fixed(values):
                    return True
            elif name in RESTRICTING_KEYS and op in RESTRICTING_OPERATORS and _fixed(values):
                return True
    return False


def principal_is_everyone(statement: dict) -> bool:
    """Principal "*" / {"AWS": "*"} (or an ARN with a wildcard), or any NotPrincipal in an Allow."""
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(isinstance(x, str) and "*" in x for x in as_list(principal.get("AWS")))
    return False


def allows_public(document: Any) -> bool:
    """A bucket policy S3 would call public: an Allow to everyone that no condition ties to fixed callers
    (a condition on aws:SecureTransport or s3:prefix, say, restricts *how*, not *who*). Deny statements
    never make a policy public."""
    for st in statements(document):
        if st.get("Effect") != "Allow" or not principal_is_everyone(st):
            continue
        if not condition_restricts(st.get("Condition")):
            return True
    return False


def acl_grants_public(acl_answer: Any) -> bool:
    """A GetBucketAcl answer granting anything to AllUsers or AuthenticatedUsers."""
    return any((grant.get("Grantee") or {}).get("URI") in PUBLIC_GRANTEES for grant in (acl_answer or {}).get("Grants", []))


def public_via(acl_public: bool, policy_public: bool, bucket_block: dict | None, account_block: Any) -> list[str]:
    """How a bucket is public after Block Public Access. The bucket's and the account's settings both apply
    (the stricter wins). Only IgnorePublicAcls neutralises existing public ACLs (BlockPublicAcls refuses new
    ones) and only RestrictPublicBuckets neutralises an existing public policy (BlockPublicPolicy refuses
    new ones). An unreadable account setting (`UNKNOWN`) neutralises nothing here: the caller decides."""
    def on(flag: str) -> bool:
        return bool((bucket_block or {}).get(flag)) or (isinstance(account_block, dict) and bool(account_block.get(flag)))
    via = []
    if acl_public and not on("IgnorePublicAcls"):
        via.append("ACL grant to AllUsers/AuthenticatedUsers (IgnorePublicAcls off)")
    if policy_public and not on("RestrictPublicBuckets"):
        via.append("bucket policy allowing everyone (RestrictPublicBuckets off)")
    return via
