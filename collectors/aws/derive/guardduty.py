"""GuardDuty detectors of one region (threat detection) and their status."""
from __future__ import annotations

from ..partition import arn
from .context import AccountEvidence, ok, why


# the older DataSources answer, for detectors (or partitions) that do not report Features
_DATA_SOURCE_FEATURES = {"S3_DATA_EVENTS": ("S3Logs",), "EKS_AUDIT_LOGS": ("Kubernetes", "AuditLogs"),
                         "EBS_MALWARE_PROTECTION": ("MalwareProtection", "ScanEc2InstanceWithFindings", "EbsVolumes")}


def detector_features(answer: dict) -> dict[str, str]:
    """Protection plans of a detector, name -> ENABLED/DISABLED (Features, else the DataSources answer)."""
    features = {str(f.get("Name")): str(f.get("Status")) for f in answer.get("Features") or [] if f.get("Name")}
    sources = answer.get("DataSources") or {}
    for name, path in _DATA_SOURCE_FEATURES.items():
        if name in features:
            continue
        node = sources
        for key in path:
            node = (node or {}).get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get("Status"):
            features[name] = str(node["Status"])
    return features


def derive_detectors(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.guardduty.detector"], scope, "guardduty:ListDetectors", region)
    for detector_id in (listing.answer or {}).get("DetectorIds", []) if listing else []:
        detector = account.get("guardduty:GetDetector", region, {"DetectorId": detector_id})
        attributes, errors = {"detector_id": detector_id}, {}
        if ok(detector):
            attributes["status"] = (detector.answer or {}).get("Status")
            attributes["finding_publishing_frequency"] = (detector.answer or {}).get("FindingPublishingFrequency")
            attributes["features"] = detector_features(detector.answer or {})
        else:
            errors["status"] = why(detector, "guardduty:GetDetector")
        account.asset("aws.guardduty.detector",
                      arn(account.partition, "guardduty", region, account.account_id, f"detector/{detector_id}"), scope,
                      name=detector_id, attributes=attributes, errors=errors,
                      evidence=[listing.id] + ([detector.id] if detector else []))
