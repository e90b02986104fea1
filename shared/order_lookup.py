"""How support finds a customer's orders: the identifiers an order is indexed by, normalised.

Support hears an e-mail, a phone number, a card's last four (and maybe its first six), an order
number or a tracking number, written any way. Each is normalised here, the same way when the
order is written and when it is searched, so one query on the ``ByCustomer`` index finds it:

- e-mail: trimmed, lower-cased, hashed (the order aggregate's own GSI1 entry: no extra write);
- phone: parsed to E.164 (``phonenumbers``, with the address's country for a national number),
  hashed; one lookup entry per distinct number on the order (customer, billing, shipping);
- card: the last four (not personal on its own), the BIN leading the entry's sort key so that
  "last four and BIN" is the same query with a ``begins_with``; one entry per distinct card;
- tracking number: upper-cased, spaces and dashes removed; one entry per parcel;
- order id: a leading ``#`` and spaces dropped: a read of the order itself, no entry;
- order number, when the shop shows the customer another one than the order's id (Shopify's
  ``name``, "#1001"): ``#``, spaces and dashes dropped, upper-cased; one entry per order.

Lookup entries are written once, when the identifier first appears on the order (the order
store compares the state before and after each event), so what an order costs in writes is
counted: one put (and its index write) per distinct phone, card and parcel, and one for an
order number that is not the order id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from shared.keys import digest
from shared.order_aggregate import OrderState


class LookupKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    ORDER = "order"
    NUMBER = "number"
    TRACKING = "tracking"


class Unsearchable(ValueError):
    """What was given cannot be searched for (every reason in the message)."""


@dataclass(frozen=True, slots=True)
class LookupEntry:
    """One identifier an order is found by: its kind, the key (hashed when personal) and, for a
    card, the BIN that leads the sort key."""

    kind: LookupKind
    key: str
    bin: str | None = None


def email_key(value: str) -> str:
    email = value.strip().lower()
    if email.count("@") != 1 or not all(email.split("@")):
        raise Unsearchable(f"{value!r} is not an e-mail address (name@domain)")
    return email


def phone_e164(value: str, country: str | None = None) -> str:
    """A phone number in E.164; a national number needs its country (ISO 3166 alpha-2)."""
    import phonenumbers  # loaded on first use: only orders with a phone need it

    raw = value.strip()
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    region = country.upper() if country else None
    if not raw.startswith("+") and region is None:
        raise Unsearchable(
            f"{value!r} has no country code: give it as +<country code>… or name the country"
        )
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise Unsearchable(f"{value!r} is not a phone number ({exc})") from exc
    if not phonenumbers.is_possible_number(number):
        raise Unsearchable(f"{value!r} is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_key(value: str, country: str | None = None) -> str:
    return digest(phone_e164(value, country))


_LAST4 = re.compile(r"^[0-9]{4}$")
_BIN = re.compile(r"^[0-9]{6,8}$")


def card_key(last4: str, bin_: str | None = None) -> tuple[str, str | None]:
    reasons = []
    last4 = last4.strip()
    if not _LAST4.match(last4):
        reasons.append(f"last four {last4!r} must be 4 digits")
    if bin_ is not None:
        bin_ = bin_.strip()
        if not _BIN.match(bin_):
            reasons.append(f"BIN {bin_!r} must be the card's first 6 to 8 digits")
    if reasons:
        raise Unsearchable("; ".join(reasons))
    return last4, bin_


def tracking_key(value: str) -> str:
    code = re.sub(r"[\s\-]", "", value).upper()
    if not code.isalnum():
        raise Unsearchable(f"{value!r} is not a tracking number (letters and digits)")
    return code


def order_key(value: str) -> str:
    order_id = value.strip().lstrip("#").strip()
    if not order_id:
        raise Unsearchable("an order number is needed")
    return order_id


def number_key(value: str) -> str:
    number = re.sub(r"[\s#\-]", "", value).upper()
    if not number:
        raise Unsearchable("an order number is needed")
    return number


def lookup_entries(state: OrderState) -> frozenset[LookupEntry]:
    """Every phone, card, parcel and shop order number the order holds (the e-mail and the
    order id need no entry of their own)."""
    entries: set[LookupEntry] = set()
    placed = state.placed.value if state.placed else {}
    if placed.get("order_number"):
        try:
            number = number_key(str(placed["order_number"]))
            if number != number_key(state.order_id):
                entries.add(LookupEntry(LookupKind.NUMBER, number))
        except Unsearchable:
            pass
    phones: list[tuple[str | None, str | None]] = []
    billing = placed.get("billing_address") or {}
    shipping = placed.get("shipping_address") or {}
    country = billing.get("country") or shipping.get("country")
    phones.append(((placed.get("customer") or {}).get("phone"), country))
    phones.append((billing.get("phone"), billing.get("country") or country))
    phones.append((shipping.get("phone"), shipping.get("country") or country))
    for payment in state.payments.values():
        customer = payment.customer.value if payment.customer else {}
        phones.append((customer.get("phone"), country))
        card = payment.card.value if payment.card else {}
        if card.get("last4"):
            entries.add(LookupEntry(LookupKind.CARD, card["last4"], card.get("bin")))
    for phone, region in phones:
        if not phone:
            continue
        try:
            entries.add(LookupEntry(LookupKind.PHONE, phone_key(phone, region)))
        except Unsearchable:
            continue  # a number nobody could search for is not indexed
    for code in state.shipments:
        try:
            entries.add(LookupEntry(LookupKind.TRACKING, tracking_key(code)))
        except Unsearchable:
            continue
    return frozenset(entries)
