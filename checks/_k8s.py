"""Helpers the Kubernetes check modules share (none of them imports another check module)."""
from __future__ import annotations

from mlps_scan.plugins import CheckContext


def control_plane(asset, ctx: CheckContext) -> tuple[str, dict]:
    """("api", kube-apiserver flags) where the static pod is visible, ("eks", EKS facts) for an EKS cluster
    read through AWS, else EvidenceMissing (the reason says why the flags are unknown)."""
    a = asset.attributes
    if "api_server" in a:
        return "api", a["api_server"]
    if a.get("platform") == "eks" and a.get("eks_cluster"):
        return "eks", ctx.need(asset, "eks")
    return "api", ctx.need(asset, "api_server")
