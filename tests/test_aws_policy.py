"""The AWS policy judgements (collectors/aws/policy.py) as tables: which documents grant admin, which bucket
policies are TLS-only, which S3 would call public, and how Block Public Access neutralises exposure. Pure
functions of policy documents: no AWS involved."""
from __future__ import annotations

import pytest

from mlps_scan.collectors.aws.policy import (UNKNOWN, acl_grants_public, allows_admin, allows_public,
                                             denies_insecure_transport, public_via, statements)


def _allow(cond=None, principal="*", **extra):
    st = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", **extra}
    if cond is not None:
        st["Condition"] = cond
    return {"Statement": [st]}


DENY_PLAIN_HTTP = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                   "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


@pytest.mark.parametrize("document, count", [
    ({"Statement": [{"Effect": "Allow"}, {"Effect": "Deny"}]}, 2),
    ({"Statement": {"Effect": "Allow"}}, 1),                                   # one statement as a mapping
    ('{"Statement": [{"Effect": "Allow"}]}', 1),                               # JSON text
    ("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%7D%5D%7D", 1),     # URL-encoded JSON (IAM answers)
    ("not json", 0), (None, 0), ({"Statement": "x"}, 0), ({"Statement": [1, {"Effect": "Allow"}]}, 1),
])
def test_statements_of_every_document_form(document, count):
    assert len(statements(document)) == count


@pytest.mark.parametrize("document, admin", [
    ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, True),
    ('{"Statement": {"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}}', True),
    ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}, False),
    ({"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}, False),
    ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}]}, False),
    ({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}, False),
    ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                     "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}, False),
    (None, False),
])
def test_admin_means_every_action_on_every_resource_unconditionally(document, admin):
    assert allows_admin(document) is admin


@pytest.mark.parametrize("document, tls_only", [
    ({"Statement": [DENY_PLAIN_HTTP]}, True),
    ({"Statement": [dict(DENY_PLAIN_HTTP, Action="*")]}, True),
    ({"Statement": [dict(DENY_PLAIN_HTTP, Condition={"Bool": {"aws:SecureTransport": ["false"]}})]}, True),
    ({"Statement": [dict(DENY_PLAIN_HTTP, Action="s3:GetObject")]}, False),    # only one action refused
    ({"Statement": [dict(DENY_PLAIN_HTTP, Effect="Allow")]}, False),
    ({"Statement": [dict(DENY_PLAIN_HTTP, Condition={"Bool": {"aws:SecureTransport": "true"}})]}, False),
    ({"Statement": [dict(DENY_PLAIN_HTTP, Condition={})]}, False),
    (None, False),
])
def test_tls_only_means_plain_http_is_denied_for_every_s3_action(document, tls_only):
    assert denies_insecure_transport(document) is tls_only


PUBLIC = [
    _allow(),
    _allow(principal={"AWS": ["arn:aws:iam::111122223333:root", "*"]}),
    _allow({"Bool": {"aws:SecureTransport": "true"}}),                       # how, not who
    _allow({"StringLike": {"s3:prefix": ["home/"]}}),
    _allow({"StringEquals": {"aws:SourceVpce": "vpce-*"}}),                 # a wildcard is no fixed value
    _allow({"StringNotEquals": {"aws:SourceVpc": "vpc-1a2b3c4d"}}),          # negated: everyone else
    _allow({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1a2b3c4d"}}),     # absent key passes
    _allow({"ForAllValues:StringEquals": {"aws:SourceVpc": ["vpc-1a2b3c4d"]}}),  # an empty set passes
    _allow({"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}),                    # broader than /8
    _allow({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}}),
    _allow({"IpAddress": {"aws:SourceIp": "2001:db8::/16"}}),                # IPv6 broader than /32
    _allow({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
    _allow(principal={"AWS": "arn:aws:iam::*:root"}),
    {"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "s3:GetObject", "Resource": "*"}]},
    '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", '
    '"Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}',
]
PRIVATE = [
    _allow(principal={"AWS": "arn:aws:iam::111122223333:root"}),
    _allow(principal={"Service": "logging.s3.amazonaws.com"}),
    _allow({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
    _allow({"StringEquals": {"aws:SourceVpc": ["vpc-1a2b3c4d"]}}),
    _allow({"ForAnyValue:StringEquals": {"aws:SourceVpc": ["vpc-1a2b3c4d"]}}),
    _allow({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.1.0/24"]}}),
    _allow({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
    _allow({"IpAddress": {"aws:SourceIp": "fd00::/8"}}),                      # IPv6 unique-local
    _allow({"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
    _allow({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}),
    _allow({"StringEquals": {"aws:SourceAccount": "111122223333"}}),
    _allow({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}}),
    _allow({"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/r"}}),
    _allow({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}),
    # a TLS condition beside a pinning one: conditions are ANDed, so still pinned
    _allow({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
    # a Deny for non-TLS requests is not an Allow at all
    {"Statement": [DENY_PLAIN_HTTP]},
    None,
]


@pytest.mark.parametrize("document", PUBLIC, ids=[f"public-{i}" for i in range(len(PUBLIC))])
def test_an_allow_to_everyone_no_condition_pins_is_public(document):
    assert allows_public(document)


@pytest.mark.parametrize("document", PRIVATE, ids=[f"private-{i}" for i in range(len(PRIVATE))])
def test_conditions_that_pin_the_caller_make_it_private(document):
    assert not allows_public(document)


ALL_USERS = {"Grants": [{"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
                         "Permission": "READ"}]}


@pytest.mark.parametrize("acl, public", [
    (ALL_USERS, True),
    ({"Grants": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"}}]}, True),
    ({"Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}]}, False),
    ({"Grants": [{"Grantee": {"URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"}}]}, False),
    (None, False),
])
def test_acl_public_grantees(acl, public):
    assert acl_grants_public(acl) is public


ACL = "ACL grant to AllUsers/AuthenticatedUsers (IgnorePublicAcls off)"
POLICY = "bucket policy allowing everyone (RestrictPublicBuckets off)"


@pytest.mark.parametrize("acl_public, policy_public, bucket_block, account_block, via", [
    (True, True, None, None, [ACL, POLICY]),
    (True, True, {"IgnorePublicAcls": True}, None, [POLICY]),
    (True, True, None, {"RestrictPublicBuckets": True}, [ACL]),            # the account's setting applies too
    (True, True, {"IgnorePublicAcls": True}, {"RestrictPublicBuckets": True}, []),
    (True, False, {"BlockPublicAcls": True}, None, [ACL]),                 # refuses new ACLs, keeps old ones
    (False, True, {"BlockPublicPolicy": True}, None, [POLICY]),            # refuses new policies only
    (True, True, None, UNKNOWN, [ACL, POLICY]),                            # unreadable: neutralises nothing
    (False, False, None, UNKNOWN, []),
])
def test_public_after_block_public_access(acl_public, policy_public, bucket_block, account_block, via):
    assert public_via(acl_public, policy_public, bucket_block, account_block) == via
