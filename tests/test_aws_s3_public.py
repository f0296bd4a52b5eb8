"""S3 public exposure end to end against the moto server: the account-level Block Public Access settings are
collected (s3control:GetPublicAccessBlock) and combined with each bucket's own; only IgnorePublicAcls and
RestrictPublicBuckets neutralise existing grants; a Principal "*" policy is public unless a condition pins
the caller."""
from __future__ import annotations

import json

import pytest

from conftest import check_bundle
from test_aws_scan import load, scan, verdicts

pytestmark = pytest.mark.aws

R = "cn-north-1"
ACCT = "123456789012"


def _policy(bucket: str, cond: dict | None = None) -> str:
    st = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws-cn:s3:::{bucket}/*"}
    if cond:
        st["Condition"] = cond
    return json.dumps({"Version": "2012-10-17", "Statement": [st]})


def test_account_block_and_policy_conditions_decide_publicness(moto, tmp_path):
    s3 = moto.client("s3", R)
    loc = {"CreateBucketConfiguration": {"LocationConstraint": R}}
    buckets = ("acl-public", "pol-tls-only", "pol-vpce", "pol-block-policy", "pol-restricted")
    for b in buckets:
        s3.create_bucket(Bucket=b, **loc)
    s3.put_bucket_acl(Bucket="acl-public", ACL="public-read")
    s3.put_bucket_policy(Bucket="pol-tls-only", Policy=_policy("pol-tls-only", {"Bool": {"aws:SecureTransport": "true"}}))
    s3.put_bucket_policy(Bucket="pol-vpce", Policy=_policy("pol-vpce", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}))
    for b in ("pol-block-policy", "pol-restricted"):
        s3.put_bucket_policy(Bucket=b, Policy=_policy(b))
    s3.put_public_access_block(Bucket="pol-block-policy", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": True, "RestrictPublicBuckets": False})
    s3.put_public_access_block(Bucket="pol-restricted", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
    # account level: public ACLs ignored everywhere; BlockPublicPolicy refuses new policies only
    moto.client("s3control", R).put_public_access_block(AccountId=ACCT, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": False})

    r, out = scan(tmp_path, R)
    assert r.returncode == 1, r.stderr
    v = verdicts(out)
    assert {b: v[("aws.s3.not_public", b)] for b in buckets} == {
        "acl-public": "pass", "pol-tls-only": "fail", "pol-vpce": "pass", "pol-block-policy": "fail",
        "pol-restricted": "pass"}
    msgs = {f["resource_id"].rsplit(":", 1)[-1]: f["message"] for f in load(out, "findings.json")
            if f["check_id"] == "aws.s3.not_public"}
    assert "RestrictPublicBuckets off" in msgs["pol-block-policy"]
    assert "ignored: IgnorePublicAcls" in msgs["acl-public"]
    # the account setting is evidence (and on the account asset), collected through the read-only policy
    recs = [json.loads(p.read_text()) for p in (out / "evidence").glob("*.json")]
    acct_rec = [x for x in recs if x["source"] == "s3control:GetPublicAccessBlock"]
    assert [(x["status"], x["request"]["params"]) for x in acct_rec] == [("ok", {"AccountId": ACCT})]
    account = next(a for a in load(out, "inventory.json")["assets"] if a["type"] == "aws.account")
    assert account["attributes"]["public_access_block"]["IgnorePublicAcls"] is True
    assert acct_rec[0]["id"] in account["evidence"]
    calls = next(x for x in recs if x["source"] == "mlps-scan:ApiCalls")["answer"]["calls"]
    assert calls.get("s3:GetAccountPublicAccessBlock") == 1 and "s3:GetBucketPublicAccessBlock" in calls
    cb = check_bundle(out)
    assert cb.returncode == 0, cb.stdout + cb.stderr
