"""Partition helpers: ARNs, global-service regions and region lists for `aws`, `aws-cn` (and `aws-us-gov`).

ARNs are always built here from the partition STS reported, never taken from answers that may carry the
wrong partition (moto returns `arn:aws:` for EC2 security groups in cn-* regions, for example).
"""
from __future__ import annotations

import threading
from functools import lru_cache

# where global services (IAM, S3 bucket listing, STS for the partition) are called
GLOBAL_REGION = {"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
CHINA_REGIONS = ("cn-north-1", "cn-northwest-1")


def partition_of_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def partition_of_arn(arn: str) -> str:
    parts = arn.split(":")
    return parts[1] if len(parts) > 2 and parts[0] == "arn" else "aws"


def arn(partition: str, service: str, region: str, account: str, resource: str) -> str:
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


_SESSION_LOCK = threading.Lock()
_SESSION: list = []


def _lookup_session():
    if not _SESSION:
        import boto3
        _SESSION.append(boto3.session.Session())
    return _SESSION[0]


@lru_cache(maxsize=None)
def service_regions(service: str, partition: str) -> tuple[str, ...]:
    """Regions where botocore's endpoint data says `service` is offered in `partition`. One session answers
    every lookup (it loads the endpoint data once; a session per lookup, from every worker at once, loaded it
    dozens of times at the start of each scan)."""
    with _SESSION_LOCK:
        return tuple(_lookup_session().get_available_regions(service, partition_name=partition))


def share_model_loader(session) -> None:
    """Give a scan's boto3 session the data loader of the region lookups: a lookup parses the whole service
    model (for its endpoint prefix), and the clients of the scan then reuse that parse instead of parsing
    each model again (~0.45 s of CPU per scan). The loader holds only botocore's data files, no credentials."""
    with _SESSION_LOCK:
        lookup = _lookup_session()._session
        loader = lookup.get_component("data_loader")
    if session._session.get_config_variable("data_path") != lookup.get_config_variable("data_path"):
        return  # a profile with models of its own (`data_path`): its clients read them through its own loader
    session._session.register_component("data_loader", loader)


def offered(service: str, region: str, partition: str) -> bool:
    """False only when botocore knows the region (it lists EC2 there) but not `service` in it: a region newer
    than the installed botocore is assumed to offer everything, so nothing is wrongly skipped."""
    if region in service_regions(service, partition):
        return True
    return region not in service_regions("ec2", partition)
