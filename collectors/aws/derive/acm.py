"""ACM certificates of one region."""
from __future__ import annotations

from .context import AccountEvidence


def derive_certificates(account: AccountEvidence, region: str, scope: str) -> None:
    listing = account.listed(["aws.acm.certificate"], scope, "acm:ListCertificates", region)
    for certificate in (listing.answer or {}).get("CertificateSummaryList", []) if listing else []:
        account.asset("aws.acm.certificate", certificate["CertificateArn"], scope, name=certificate.get("DomainName"),
                      evidence=[listing.id],
                      attributes={"domain": certificate.get("DomainName"), "not_after": certificate.get("NotAfter"),
                                  "in_use": certificate.get("InUse"), "status": certificate.get("Status"),
                                  "type": certificate.get("Type")})
