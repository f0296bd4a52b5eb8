"""The questionnaire's architecture section, as collectors contribute it.

Each collector describes the assets it defines (`Collector.architecture(assets)` returns
`ArchitectureEntries`: cloud accounts, networks, internet-facing endpoints, hosts, clusters, data stores,
security services), so an asset type's prefill lives beside the code that defines its attributes. The
engine (`questionnaire.prefill`) merges the contributions and adds only what is generic: counts per asset
type, coverage gaps and the kinds nothing was seen of.

The helpers below read asset attributes the way every contribution should: tolerant of any attribute being
absent (an absent attribute is "not known", never "off"), and citing the evidence each entry came from.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Iterable

from pydantic import Field

from .models import (Asset, CloudAccount, ClusterEntry, DataStore, Endpoint, HostEntry, NetworkZone, SecurityService,
                     Strict)


class ArchitectureEntries(Strict):
    """What one collector contributes to the questionnaire's architecture section."""

    cloud_accounts: list[CloudAccount] = Field(default_factory=list)
    networks: list[NetworkZone] = Field(default_factory=list)
    internet_endpoints: list[Endpoint] = Field(default_factory=list)
    hosts: list[HostEntry] = Field(default_factory=list)
    kubernetes_clusters: list[ClusterEntry] = Field(default_factory=list)
    data_stores: list[DataStore] = Field(default_factory=list)
    security_services: list[SecurityService] = Field(default_factory=list)


SECTIONS: tuple[str, ...] = tuple(ArchitectureEntries.model_fields)

# sources that mean "anyone": a rule allowing them is open to the internet
OPEN_SOURCES = {"0.0.0.0/0", "::/0", "any", "*"}


# --------------------------------------------------------------------------- reading assets


def group_by_type(assets: Iterable[Asset]) -> dict[str, list[Asset]]:
    """Assets by type, in inventory order; a type with no assets reads as an empty list."""
    grouped: dict[str, list[Asset]] = defaultdict(list)
    for asset in assets:
        grouped[asset.type].append(asset)
    return grouped


def entry_source(asset: Asset) -> list[str]:
    """The evidence ids an entry cites (the asset id when the asset names no evidence)."""
    return list(asset.evidence) or [asset.id]


def attribute(asset: Asset, key: str, default: Any = None) -> Any:
    value = asset.attributes.get(key, default)
    return default if value is None else value


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "enabled", "active", "running", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "no", "disabled", "inactive", "stopped", "off"):
        return False
    return None


def fact_enabled(value: Any) -> bool | None:
    """A fact group (audit, firewall...) whose shape its collector owns: find its on/off answer."""
    answer = as_bool(value)
    if answer is not None or not isinstance(value, dict):
        return answer
    for key in ("enabled", "active", "running", "auditd_active", "auditd_running", "installed", "status", "state"):
        if key in value:
            answer = as_bool(value[key])
            if answer is not None:
                return answer
    return None


def short_text(value: Any, limit: int = 160) -> str | None:
    """A value as one short line (mappings as k=v pairs of their scalar items, lists comma-separated)."""
    if value is None:
        return None
    if isinstance(value, dict):
        text = ", ".join(f"{k}={value[k]}" for k in list(value)[:8] if not isinstance(value[k], (dict, list)))
    elif isinstance(value, list):
        text = ", ".join(str(x) for x in value[:8])
    else:
        text = str(value)
    return (text[: limit - 1] + "…") if len(text) > limit else (text or None)


def port_list(listeners: Any) -> list[str]:
    """`port/protocol` of each listener (dicts with port/Port/node_port and protocol/Protocol, or bare ports)."""
    out = []
    for listener in listeners or []:
        if isinstance(listener, dict):
            port = listener.get("port", listener.get("Port", listener.get("node_port")))
            protocol = listener.get("protocol", listener.get("Protocol"))
            if port is not None:
                out.append(f"{port}/{str(protocol).lower()}" if protocol else str(port))
        elif listener is not None:
            out.append(str(listener))
    return out


def port_range(first: Any, last: Any, protocol: Any) -> str:
    protocol = str(protocol if protocol not in (None, "-1") else "all").lower()
    if first in (None, -1) or (first == 0 and last in (65535, None)):
        return f"all/{protocol}"
    return f"{first}/{protocol}" if last in (None, first) else f"{first}-{last}/{protocol}"


def tag_map(asset: Asset) -> dict[str, str]:
    """The asset's `tags` as a mapping (given as a mapping, or AWS style [{Key, Value}])."""
    tags = asset.attributes.get("tags")
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    if isinstance(tags, list):
        out = {}
        for tag in tags:
            if isinstance(tag, dict) and ("Key" in tag or "key" in tag):
                out[str(tag.get("Key", tag.get("key")))] = str(tag.get("Value", tag.get("value", "")))
        return out
    return {}


# --------------------------------------------------------------------------- data stores

PII_TAG_KEYS = ("data-classification", "data_classification", "dataclassification", "classification",
                "data-class", "sensitivity", "pii")
PII_TAG_VALUES = ("pii", "personal", "sensitive", "spi", "confidential-pii", "个人信息", "敏感个人信息")
PII_NAME_WORDS = ("user", "customer", "member", "order", "payment", "pii", "kyc", "account", "profile",
                  "patient", "passport", "idcard", "identity")
SENSITIVE_NAME_WORDS = ("payment", "kyc", "idcard", "identity", "passport", "patient", "health", "biometric", "card")


def personal_data_hint(asset: Asset) -> tuple[str | None, bool]:
    """(why this store looks like it holds personal information, whether it looks sensitive) or (None, False)."""
    for key, value in tag_map(asset).items():
        key_lower, value_lower = key.lower(), value.lower()
        if key_lower in PII_TAG_KEYS and any(w in value_lower for w in PII_TAG_VALUES):
            return f"tag {key}={value}", any(w in value_lower for w in ("sensitive", "spi", "敏感"))
        if key_lower == "pii" and as_bool(value):
            return f"tag {key}={value}", False
    names = " ".join(str(x) for x in (asset.name, asset.attributes.get("name"),
                                       asset.id.rsplit(":", 1)[-1].rsplit("/", 1)[-1]) if x)
    low = names.lower()
    for word in PII_NAME_WORDS:
        if re.search(rf"(^|[^a-z]){word}", low):  # a word starting a token: customer-db, orders, userdata
            return f"name {asset.name or asset.id!r} contains {word!r}", any(
                re.search(rf"(^|[^a-z]){s}", low) for s in SENSITIVE_NAME_WORDS)
    return None, False


def data_store(asset: Asset, *, kind: str, encryption_key: str = "encrypted", public: Any = None,
               structured_encryption: bool = False) -> DataStore:
    """A data-store entry: whether it is encrypted (from `encryption_key`: a boolean, or with
    `structured_encryption` a setting whose presence means encrypted), public, and looks like personal data.
    Unknown encryption is said in `detail`, never shown as "not encrypted"."""
    detail = None
    if encryption_key in asset.errors:
        encrypted, detail = None, f"encryption not known: {asset.errors[encryption_key]}"
    elif structured_encryption:
        encrypted = bool(asset.attributes.get(encryption_key)) if encryption_key in asset.attributes else None
        if encrypted:
            detail = short_text(asset.attributes[encryption_key])
    else:
        encrypted = as_bool(asset.attributes.get(encryption_key))
    if encrypted is None and detail is None:
        detail = f"encryption not known ({encryption_key} not collected)"
    hint, _ = personal_data_hint(asset)
    return DataStore(kind=kind, id=asset.id, name=asset.name or attribute(asset, "name"),
                     engine=attribute(asset, "engine"), encrypted=encrypted, public=as_bool(public),
                     personal_data_hint=hint, detail=detail, scope=asset.scope, source=entry_source(asset))
