"""The questionnaire's architecture comes from the collectors' `architecture()` hooks: a new collector (a
third-party plugin, say) appears in the questionnaire without editing the engine, its entries land where its
`architecture_order` puts them, a hook that crashes costs only its own entries (and says so), and grading
reads exposure from `internet_facing`, not from a list of kinds."""
from __future__ import annotations

import pytest

from mlps_scan import questionnaire as Q
from mlps_scan.architecture import ArchitectureEntries, attribute, entry_source, group_by_type
from mlps_scan.grading import contradictions_with
from mlps_scan.models import Asset, Endpoint, HostEntry, Inventory, Questionnaire, SecurityService
from mlps_scan.plugins import _COLLECTORS, Collector


def asset(type_, id_, scope, **attributes):
    return Asset(type=type_, id=id_, scope=scope, attributes=attributes, evidence=[f"ev-{id_}"])


@pytest.fixture
def acme_collector():
    """A collector plugin for 'Acme Cloud' (not built in): gateways that face the internet, a managed WAF."""

    class AcmeCollector(Collector):
        name = "acme"
        config_key = "acme"
        target_model = Questionnaire  # unused here
        architecture_order = {"*": 5, "security_services": 50}  # first, except for security services

        def architecture(self, assets):
            entries = ArchitectureEntries()
            for gateway in group_by_type(assets)["acme.gateway"]:
                entries.internet_endpoints.append(Endpoint(
                    kind="acme_gateway", id=gateway.id, address=attribute(gateway, "address"), scope=gateway.scope,
                    internet_facing=attribute(gateway, "public") is True, source=entry_source(gateway)))
            for waf in group_by_type(assets)["acme.waf"]:
                entries.security_services.append(SecurityService(kind="acme_waf", id=waf.id, enabled=True,
                                                                 scope=waf.scope, source=entry_source(waf)))
            return entries

    yield AcmeCollector
    _COLLECTORS.pop("acme")


INVENTORY = Inventory(assets=[
    asset("acme.gateway", "gw-public", "acme/prod", address="203.0.113.7", public=True),
    asset("acme.gateway", "gw-internal", "acme/prod", address="10.1.0.7", public=False),
    asset("acme.waf", "waf-1", "acme/prod"),
    asset("host.service", "10.0.0.5:22/tcp", "hosts/h/10.0.0.5", address="10.0.0.5", port=22, protocol="tcp"),
    asset("host", "10.0.0.5", "hosts/h/10.0.0.5", audit={"active": True}),
])


def test_a_new_collector_appears_in_the_questionnaire_where_its_order_puts_it(acme_collector):
    arch = Q.prefill(INVENTORY)
    assert [e.id for e in arch.internet_endpoints] == ["gw-public", "gw-internal", "10.0.0.5:22/tcp"]
    assert [(s.kind, s.id) for s in arch.security_services] == [("host_audit", "10.0.0.5"), ("acme_waf", "waf-1")]
    assert {c.asset_type: c.count for c in arch.counts} == {"acme.gateway": 2, "acme.waf": 1, "host": 1,
                                                            "host.service": 1}
    assert "internet_endpoints" not in " ".join(arch.not_seen)


def test_without_the_collector_its_assets_are_only_counted():
    arch = Q.prefill(INVENTORY)
    assert [e.id for e in arch.internet_endpoints] == ["10.0.0.5:22/tcp"]
    assert {c.asset_type for c in arch.counts} >= {"acme.gateway", "acme.waf"}


def test_grading_reads_internet_facing_not_kinds(acme_collector):
    q = Questionnaire.model_validate({"users": {"public_access": False}})
    found = contradictions_with(q, INVENTORY)
    exposed = next(c for c in found if c["path"] == "users.public_access")
    # the public gateway contradicts "no public access"; the internal one and the port open to the scanner do not
    assert [a["asset"] for a in exposed["assets"]] == ["gw-public"]


def test_a_hook_that_crashes_costs_its_own_entries_and_says_so(acme_collector):
    def broken(self, assets):
        raise KeyError("gateway_mode")

    acme_collector.architecture = broken
    arch = Q.prefill(INVENTORY)
    assert [e.id for e in arch.internet_endpoints] == ["10.0.0.5:22/tcp"]  # the others' entries are all there
    gap = next(g for g in arch.coverage_gaps if g.asset_type == "acme collector")
    assert gap.status == "error" and "KeyError" in gap.reason and gap.scope == "questionnaire"


def test_internet_facing_is_not_written_to_the_questionnaire_file():
    arch = Q.prefill(INVENTORY)
    assert arch.internet_endpoints[0].internet_facing is False
    text = Q.render_yaml(Questionnaire(architecture=arch))
    assert "internet_facing" not in text and "host_service" in text
    assert [h.kind for h in arch.hosts] == ["host"] and isinstance(arch.hosts[0], HostEntry)
