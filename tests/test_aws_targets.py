"""How a target reaches AWS: explicit endpoint_url vs AWS_ENDPOINT_URL, all enabled regions of the
partition, and a role assumed with an external id (another account)."""
from __future__ import annotations


import pytest

from fixtures.aws import _free_port
from test_aws_scan import load, scan

pytestmark = pytest.mark.aws


def _acct(out):
    return next(a for a in load(out, "inventory.json")["assets"] if a["type"] == "aws.account")["attributes"]


def test_explicit_endpoint_wins_and_all_enabled_regions_of_the_partition(moto, tmp_path):
    closed = f"http://127.0.0.1:{_free_port()}"
    # the explicit endpoint is the moto server behind its gap peer (which answers what moto lacks); the
    # environment's endpoints, service-specific ones too, point nowhere
    r, out = scan(tmp_path, None, extra=f"\n    endpoint_url: '{moto.peer.url}'",
                  env={"AWS_ENDPOINT_URL": closed, "AWS_ENDPOINT_URL_SSM": closed, "AWS_ENDPOINT_URL_BACKUP": closed,
                       "AWS_DEFAULT_REGION": "cn-north-1"})
    assert r.returncode in (0, 1), r.stderr
    a = _acct(out)
    assert a["partition"] == "aws-cn"
    assert a["regions"] and all(x.startswith("cn-") for x in a["regions"]), a["regions"]
    assert all(c["status"] == "ok" for c in load(out, "inventory.json")["coverage"])


def test_role_assumed_with_external_id_scans_the_other_account(moto, tmp_path):
    import boto3
    role = "arn:aws-cn:iam::111122223333:role/mlps-scan"
    sts = moto.client("sts", "cn-north-1")
    c = sts.assume_role(RoleArn=role, RoleSessionName="seed", ExternalId="ext-123")["Credentials"]
    s3 = boto3.session.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                               aws_session_token=c["SessionToken"]).client("s3", region_name="cn-north-1",
                                                                          endpoint_url=moto.url)
    s3.create_bucket(Bucket="other-account-bucket", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
    r, out = scan(tmp_path, "cn-north-1", extra=f"\n    role_arn: '{role}'\n    external_id: ext-123")
    assert r.returncode in (0, 1), r.stderr
    assert _acct(out)["account_id"] == "111122223333"
    buckets = [a["id"] for a in load(out, "inventory.json")["assets"] if a["type"] == "aws.s3.bucket"]
    assert buckets == ["arn:aws-cn:s3:::other-account-bucket"]
    # the secret of the assumed session never reaches the bundle
    blob = "".join(p.read_text() for p in out.rglob("*.json"))
    assert c["SecretAccessKey"] not in blob and c["SessionToken"] not in blob
