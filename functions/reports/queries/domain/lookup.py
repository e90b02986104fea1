"""A search for a customer's orders and what it found, said so support can read it back.

The value searched is kept only as support may repeat it to the customer: an e-mail with its
name masked, a phone by its last digits, a card by its last four and BIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.keys import digest
from shared.order_aggregate import OrderState
from shared.order_lookup import (
    LookupKind,
    Unsearchable,
    card_key,
    email_key,
    number_key,
    order_key,
    phone_e164,
    tracking_key,
)

# The newest orders one lookup returns: one query page, whatever the customer's history.
LOOKUP_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Search:
    """What to look for in one tenant: the index key (hashed when personal) and how to say it."""

    tenant: str
    kind: LookupKind
    key: str
    shown: str
    bin: str | None = None

    def described(self) -> str:
        return f"{_KIND_WORDS[self.kind]} {self.shown}"


_KIND_WORDS = {
    LookupKind.EMAIL: "e-mail",
    LookupKind.PHONE: "phone",
    LookupKind.CARD: "card",
    LookupKind.ORDER: "order id",
    LookupKind.NUMBER: "order number",
    LookupKind.TRACKING: "tracking number",
}


def _mask_email(email: str) -> str:
    name, domain = email.split("@")
    return f"{name[0]}***@{domain}"  # the name's length is not told either


def search_for(
    tenant: str,
    kind: LookupKind | str,
    value: str,
    *,
    country: str | None = None,
    bin_: str | None = None,
) -> Search:
    """The search for ``value`` as ``kind``; ``Unsearchable`` says why it cannot be searched."""
    try:
        kind = LookupKind(kind)
    except ValueError as exc:
        known = ", ".join(k.value for k in LookupKind)
        raise Unsearchable(f"unknown kind of lookup {kind!r} (one of {known})") from exc
    if bin_ is not None and kind is not LookupKind.CARD:
        raise Unsearchable("a BIN narrows a card lookup only")
    if kind is LookupKind.EMAIL:
        email = email_key(value)
        return Search(tenant, kind, email, _mask_email(email))
    if kind is LookupKind.PHONE:
        e164 = phone_e164(value, country)
        return Search(tenant, kind, digest(e164), f"…{e164[-4:]}")
    if kind is LookupKind.CARD:
        last4, bin_ = card_key(value, bin_)
        shown = f"ending {last4}" + (f" (BIN {bin_})" if bin_ else "")
        return Search(tenant, kind, last4, shown, bin_)
    if kind is LookupKind.TRACKING:
        code = tracking_key(value)
        return Search(tenant, kind, code, code)
    if kind is LookupKind.NUMBER:
        number = number_key(value)
        return Search(tenant, kind, number, value.strip())
    order_id = order_key(value)
    return Search(tenant, kind, order_id, order_id)


@dataclass(frozen=True, slots=True)
class OrderHit:
    """One order the search found: when it was placed (or first seen) and, when the index
    carried it, the order itself."""

    order_id: str
    at: datetime | None
    state: OrderState | None = None

    def summary(self) -> str:
        when = self.at.strftime("%Y-%m-%d %H:%M UTC") if self.at else "time unknown"
        if self.state is None:
            return f"order {self.order_id}, {when}"
        order = self.state.order
        total = order.total.format() if order else "no order received yet"
        return f"order {self.order_id}, {when}, {total}, {self.state.status().value}"


@dataclass(frozen=True)
class LookupResult:
    search: Search
    hits: tuple[OrderHit, ...]
    # More orders matched than one lookup returns (the newest are shown).
    more: bool = False

    @property
    def found(self) -> bool:
        return bool(self.hits)

    def text(self) -> str:
        where = f"the orders of tenant {self.search.tenant}"
        if not self.hits:
            return f"Nothing found: no order with {self.search.described()} among {where}."
        lines = [
            f"{len(self.hits)} order(s) with {self.search.described()} among {where}"
            + (f" (the newest {len(self.hits)}; there are more)" if self.more else "")
            + ":"
        ]
        lines += [f"  {hit.summary()}" for hit in self.hits]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "searched": {
                "tenant": self.search.tenant,
                "kind": self.search.kind.value,
                "value": self.search.shown,
            },
            "found": self.found,
            "more": self.more,
            "orders": [
                {
                    "order_id": hit.order_id,
                    "at": hit.at.isoformat() if hit.at else None,
                    "status": hit.state.status().value if hit.state else None,
                }
                for hit in self.hits
            ],
            "text": self.text(),
        }


__all__ = [
    "LOOKUP_LIMIT",
    "LookupKind",
    "LookupResult",
    "OrderHit",
    "Search",
    "Unsearchable",
    "search_for",
]
