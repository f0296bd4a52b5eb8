"""The EKS side of a cluster whose control plane AWS manages: control-plane logging, secrets encryption and
endpoint access from the AWS API (read-only: eks:DescribeCluster, logs:DescribeLogGroups)."""
from __future__ import annotations

from mlps_scan.models import EvidenceStatus
from mlps_scan.plugins import CollectSession

from .target import EksTarget


def record_eks(eks: EksTarget, s: CollectSession) -> None:
    """Failures are recorded; the checks then say `error`."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    req = {"cluster_name": eks.cluster_name, "region": eks.region, "aws_target": eks.aws_target}
    step = "eks:DescribeCluster"
    try:
        sess = boto3.Session(profile_name=eks.profile, region_name=eks.region)
        s.count_call()
        cl = sess.client("eks").describe_cluster(name=eks.cluster_name).get("cluster")
        if not isinstance(cl, dict) or not isinstance(cl.get("name"), str):  # an empty or garbage 200
            raise ValueError("eks:DescribeCluster answered without a cluster object")
        cl = {k: v for k, v in cl.items() if k not in ("certificateAuthority", "ResponseMetadata")}
        s.record("eks:DescribeCluster", cl, request={**req, "region": sess.region_name})
        group = f"/aws/eks/{eks.cluster_name}/cluster"
        s.count_call()
        step = "logs:DescribeLogGroups"
        lg = sess.client("logs").describe_log_groups(logGroupNamePrefix=group)
        if not isinstance(lg.get("logGroups"), list):  # an empty or garbage 200 is not "no log group"
            raise ValueError("logs:DescribeLogGroups answered without a logGroups list")
        s.record("logs:DescribeLogGroups", {"logGroups": [g for g in lg["logGroups"]
                                                          if isinstance(g, dict) and g.get("logGroupName") == group]},
                 request={**req, "region": sess.region_name, "logGroupNamePrefix": group})
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        denied = code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
        s.record(f"eks:{e.operation_name}", e.response.get("Error"), request=req,
                 status=EvidenceStatus.denied if denied else EvidenceStatus.error, error=f"{code}: {e}")
    except (BotoCoreError, ValueError) as e:
        s.record(step, None, request=req, status=EvidenceStatus.error, error=f"{type(e).__name__}: {e}")
