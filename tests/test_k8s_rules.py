"""Pure-logic cases of Kubernetes checks on hand-made assets (what the fixture clusters do not show)."""
from __future__ import annotations

import pytest

from mlps_scan.models import Asset
from mlps_scan.plugins import CheckContext, checks
from mlps_scan.profile import build_profile


def svc(**attrs):
    return Asset(type="k8s.service", id="uid-1", name="shop/web-lb", scope="kubernetes/prod/shop",
                 attributes={"namespace": "shop", **attrs}, evidence=["ev"])


@pytest.mark.parametrize("attrs,status", [
    ({"service_type": "LoadBalancer", "ports": [{"port": 443}]}, "pass"),          # the shop's HTTPS front door
    ({"service_type": "LoadBalancer", "ports": [{"port": 443}, {"port": 22}]}, "fail"),
    ({"service_type": "LoadBalancer", "ports": [{"port": 80}]}, "fail"),           # plaintext, open to all
    ({"service_type": "LoadBalancer", "ports": [{"port": 5432}], "source_ranges": ["10.0.0.0/8"]}, "pass"),
    ({"service_type": "NodePort", "ports": [{"port": 8080, "node_port": 30080}]}, "fail"),
    ({"service_type": "ClusterIP", "ports": [{"port": 8080}]}, "pass"),
])
def test_service_exposure(attrs, status):
    spec = checks()["k8s.service.exposure"]
    ctx = CheckContext([], [], build_profile(3), 3)
    assert spec.func(svc(**attrs), ctx).status == status
