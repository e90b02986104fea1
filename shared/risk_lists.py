"""A tenant's screening lists (block or allow) and what a valid entry is.

A list entry must be an e-mail, a domain, an IP or CIDR, a 6-8 digit BIN, an ISO country code
or a card fingerprint, kept in canonical form (lower-case e-mails and domains, networks for IPs,
upper-case countries). In the shared kernel because a tenant's settings start its lists
(``shared.tenants.RiskSettings``) and are checked on load; the risk context keeps the lists'
versions and changes (``functions/risk/domain/lists``).
"""

import ipaddress
import re
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

ListKind = Literal["emails", "email_domains", "ips", "card_fingerprints", "bins", "countries"]
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_BIN = re.compile(r"^\d{6,8}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_FINGERPRINT = re.compile(r"^[A-Za-z0-9_-]{4,64}$")


def normalise_entry(kind: ListKind, value: str) -> str:
    """The canonical form of a list entry, or ValueError saying what is wrong with it."""
    text = value.strip()
    if kind == "emails":
        if not _EMAIL.fullmatch(text):
            raise ValueError(f"{value!r} is not an e-mail address")
        return text.lower()
    if kind == "email_domains":
        if not _DOMAIN.fullmatch(text.lower()):
            raise ValueError(f"{value!r} is not a domain name")
        return text.lower()
    if kind == "ips":
        try:
            return str(ipaddress.ip_network(text, strict=False))
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IP address or CIDR range") from error
    if kind == "bins":
        if not _BIN.fullmatch(text):
            raise ValueError(f"{value!r} is not a card BIN (6 to 8 digits)")
        return text
    if kind == "countries":
        if not _COUNTRY.fullmatch(text.upper()):
            raise ValueError(f"{value!r} is not an ISO 3166 two-letter country code")
        return text.upper()
    if not _FINGERPRINT.fullmatch(text):
        raise ValueError(f"{value!r} is not a card fingerprint")
    return text


class ListSet(BaseModel):
    """One list, by kind of entry; every entry checked and kept canonical."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    emails: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    ips: tuple[str, ...] = Field(default=(), description="addresses or CIDR ranges")
    card_fingerprints: tuple[str, ...] = ()
    bins: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    @field_validator("*")
    @classmethod
    def _entries(cls, values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        kind = info.field_name
        assert kind is not None
        return tuple(normalise_entry(cast("ListKind", kind), value) for value in values)
