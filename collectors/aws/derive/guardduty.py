"""GuardDuty detectors of one region (threat detection) and their status."""
from __future__ import annotations

from ..partition import arn
from .context import AccountEvidence, ok, why


def derive_detectors(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.guardduty.detector"], scope, "guardduty:ListDetectors", region)
    for detector_id in (listing.answer or {}).get("DetectorIds", []) if listing else []:
        detector = account.get("guardduty:GetDetector", region, {"DetectorId": detector_id})
        attributes, errors = {"detector_id": detector_id}, {}
        if ok(detector):
            attributes["status"] = (detector.answer or {}).get("Status")
            attributes["finding_publishing_frequency"] = (detector.answer or {}).get("FindingPublishingFrequency")
        else:
            errors["status"] = why(detector, "guardduty:GetDetector")
        account.asset("aws.guardduty.detector",
                      arn(account.partition, "guardduty", region, account.account_id, f"detector/{detector_id}"), scope,
                      name=detector_id, attributes=attributes, errors=errors,
                      evidence=[listing.id] + ([detector.id] if detector else []))
