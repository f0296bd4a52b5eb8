"""What a Kubernetes target is in scan.yaml: a kubeconfig and a context (plus the optional EKS lookup and a
copy of the EncryptionConfiguration), with the paging and timeout bounds the collector respects."""
from __future__ import annotations

import re

from pydantic import Field

from mlps_scan.models import Strict

DEFAULT_PAGE = 500
MAX_PAGES = 10000
WORKERS = 4  # parallel list calls per cluster (kinds), bounded so one scan never floods an API server
TARGET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class EksTarget(Strict):
    cluster_name: str = Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]*$")
    aws_target: str | None = Field(None, description="name of the aws: target this cluster belongs to (a label in the report)")
    region: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", description="default: the AWS SDK's region")
    profile: str | None = Field(None, description="AWS profile for eks:DescribeCluster / logs:DescribeLogGroups; "
                                                  "default: the SDK's credential chain")


class KubeTarget(Strict):
    name: str = Field(min_length=1, max_length=63, description="a short name for the cluster (used in scopes)")
    kubeconfig: str | None = Field(None, description="path to a kubeconfig; default $KUBECONFIG (several files "
                                                     "merged as kubectl does) or ~/.kube/config")
    context: str | None = Field(None, description="kubeconfig context; default the current context")
    in_cluster: bool | None = Field(
        None, description="use the pod's ServiceAccount (token and CA under /var/run/secrets/kubernetes.io/"
                          "serviceaccount, KUBERNETES_SERVICE_HOST/PORT) instead of a kubeconfig; default: when no "
                          "kubeconfig is given or found and the scanner runs in a pod")
    eks: EksTarget | None = Field(None, description="EKS control-plane logging and secrets encryption (via AWS)")
    encryption_config: str | None = Field(
        None, description="a copy of the kube-apiserver's EncryptionConfiguration file (the one "
                          "--encryption-provider-config names; not readable through the API). Its provider order "
                          "decides whether Secrets are encrypted; key material is dropped before it is recorded")
    audit_policy: str | None = Field(
        None, description="a copy of the kube-apiserver's audit policy file (the one --audit-policy-file names; "
                          "not readable through the API): its rules decide what the audit log records")
    kubelet_config: bool = Field(
        False, description="read each node's kubelet configuration through /api/v1/nodes/{node}/proxy/configz; "
                           "needs `get` on nodes/proxy (deploy/kubernetes/mlps-scan-kubelet-clusterrole.yaml), a "
                           "sensitive right, so it is off unless asked for")
    page_size: int = Field(DEFAULT_PAGE, ge=1, le=5000, description="items per list page (limit)")
    max_pages: int = Field(MAX_PAGES, ge=1, le=1_000_000, description="pages one list may take; more is an error "
                                                                      "for that list (never a silent stop)")
    timeout_seconds: float = Field(20, gt=0, le=600, description="wall time of one API call (connect, headers "
                                                                  "and body); a call that takes longer is an error")
