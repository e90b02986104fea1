"""Which sender addresses SES may send from: the address or its domain verified."""

from __future__ import annotations

from collections.abc import Sequence

from shared import aws


class SesIdentities:
    def unverified(self, addresses: Sequence[str]) -> list[str]:
        identities = sorted({*addresses, *(a.rpartition("@")[2] for a in addresses)})
        answer = aws.client("ses").get_identity_verification_attributes(Identities=identities)
        verified = {
            identity
            for identity, attributes in answer.get("VerificationAttributes", {}).items()
            if attributes.get("VerificationStatus") == "Success"
        }
        return [a for a in addresses if a not in verified and a.rpartition("@")[2] not in verified]
