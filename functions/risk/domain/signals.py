"""Signals: everything the rules may look at, computed from an order and the tenant's settings.

The result is a flat ``dict[str, Any]`` whose keys are exactly ``VOCABULARY`` (documented in
docs/risk.md). Every attribute is always present with a value of its declared type — an
unknown string is ``""``, a missing count is ``0`` — because a CEL rule that touches a missing
variable or compares ``null`` with a number fails, and a rule must never fail at screening
time for want of data.

``compute`` is pure: velocity counts and customer history come in already fetched
(``use_cases.screening.collect`` fetches them through ports for a live order; the backtest
keeps them in memory while it replays history in time order).
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from disposable_email_domains import blocklist as _disposable_domains
from iptocc import country_code
from pydantic import BaseModel, ConfigDict, Field

from functions.risk.domain.customers import CustomerHistory, customer_key
from functions.risk.domain.velocity import DIMENSIONS, WINDOWS, VelocityCounts
from shared.event_parts import Address, Card, OrderPlaced
from shared.risk_lists import ListSet
from shared.tenants import RiskSettings, Thresholds

AttributeType = Literal["string", "int", "bool"]

_BASE_VOCABULARY: dict[str, tuple[AttributeType, str]] = {
    "amount": ("int", "order total in minor units"),
    "currency": ("string", "ISO 4217 code of the order"),
    "category": ("string", "business category of the order (else the tenant's)"),
    "line_count": ("int", "number of order lines"),
    "item_count": ("int", "units over all lines"),
    "amount_review_threshold": ("int", "category's review threshold, minor units (0: none)"),
    "amount_block_threshold": ("int", "category's block threshold, minor units (0: none)"),
    "amount_over_review": ("bool", "amount above the category's review threshold"),
    "amount_over_block": ("bool", "amount above the category's block threshold"),
    "email_domain": ("string", "domain of the customer's e-mail, lower case"),
    "email_disposable": ("bool", "domain is a known disposable-mail provider"),
    "email_blocked": ("bool", "e-mail or its domain is on the tenant's block list"),
    "email_allowed": ("bool", "e-mail or its domain is on the tenant's allow list"),
    "ip": ("string", "customer's IP address"),
    "ip_country": ("string", "country of the IP (offline RIR data)"),
    "ip_blocked": ("bool", "IP is on, or in a range on, the block list"),
    "ip_allowed": ("bool", "IP is on, or in a range on, the allow list"),
    "billing_country": ("string", "billing address country"),
    "shipping_country": ("string", "shipping address country"),
    "ip_billing_mismatch": ("bool", "IP and billing countries both known and different"),
    "billing_shipping_mismatch": ("bool", "billing and shipping countries known and different"),
    "country_blocked": ("bool", "IP, billing or shipping country on the block list"),
    "country_allowed": ("bool", "billing country on the allow list"),
    "local_hour": ("int", "hour (0-23) the order was placed, in the tenant's time zone"),
    "card_present": ("bool", "card details are known"),
    "card_bin": ("string", "first six to eight digits of the card"),
    "card_country": ("string", "issuing country of the card"),
    "card_funding": ("string", "credit, debit, prepaid, …"),
    "card_billing_mismatch": ("bool", "card and billing countries known and different"),
    "card_blocked": ("bool", "card fingerprint or BIN on the block list"),
    "card_allowed": ("bool", "card fingerprint on the allow list"),
    "customer_first_order": ("bool", "no earlier order from this customer"),
    "customer_orders": ("int", "earlier orders from this customer"),
    "customer_amount": ("int", "sum of earlier orders, minor units"),
    "customer_refunds": ("int", "earlier refunds to this customer"),
    "customer_chargebacks": ("int", "earlier chargebacks by this customer"),
    "customer_fraud_decisions": ("int", "earlier orders of this customer blocked or rejected"),
}

_DIMENSION_MEANING = {
    "email": "e-mail",
    "ip": "IP",
    "card": "card fingerprint",
    "customer": "customer",
    "shipping": "shipping address",
}
_WINDOW_MEANING = {"1h": "this hour", "1d": "today", "7d": "this week"}


def _velocity_vocabulary() -> dict[str, tuple[AttributeType, str]]:
    entries: dict[str, tuple[AttributeType, str]] = {}
    for dimension in DIMENSIONS:
        for window in WINDOWS:
            who, when = _DIMENSION_MEANING[dimension], _WINDOW_MEANING[window]
            entries[f"{dimension}_orders_{window}"] = (
                "int",
                f"earlier orders with this {who} {when} (UTC bucket)",
            )
            entries[f"{dimension}_amount_{window}"] = (
                "int",
                f"their total, minor units, with this {who} {when}",
            )
    return entries


VOCABULARY: dict[str, tuple[AttributeType, str]] = {
    **_BASE_VOCABULARY,
    **_velocity_vocabulary(),
}


class SignalConfig(BaseModel):
    """What signals need from a tenant's settings (``TenantSettings.risk`` and friends)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    business_category: str = "general"
    block: ListSet = ListSet()
    allow: ListSet = ListSet()
    thresholds: dict[str, Thresholds] = Field(
        default_factory=dict, description="per business category; '*' for any other"
    )

    @classmethod
    def from_tenant(cls, timezone: str, business_category: str, risk: RiskSettings) -> SignalConfig:
        """From ``TenantSettings.risk``; the older ``review_over``/``block_over`` pair is the
        default (``*``) thresholds."""
        return cls(
            timezone=timezone,
            business_category=business_category,
            block=risk.block,
            allow=risk.allow,
            thresholds=risk.thresholds_by_category(),
        )


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@cache
def _networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # a malformed entry must not stop screening; lists are validated on save
    return tuple(networks)


@cache
def _lowered(entries: tuple[str, ...]) -> frozenset[str]:
    return frozenset(e.strip().lower() for e in entries)


def _ip_in(ip: str, entries: tuple[str, ...]) -> bool:
    if not ip or not entries:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(entries))


def ip_country(ip: str) -> str:
    if not ip:
        return ""
    try:
        return country_code(ip) or ""
    except ValueError:
        return ""


def _address_key(address: Address | None) -> str:
    if address is None or not (address.line1 or address.postal_code):
        return ""
    parts = (address.line1, address.line2, address.postal_code, address.country)
    return "|".join(" ".join((p or "").lower().split()) for p in parts)


def velocity_keys(order: OrderPlaced, card: Card | None = None) -> dict[str, str]:
    keys = {
        "email": (order.customer.email or "").strip().lower(),
        "ip": (order.customer.ip or "").strip(),
        "card": (card.fingerprint or "") if card else "",
        "customer": customer_key(order),
        "shipping": _address_key(order.shipping_address),
    }
    return {k: v for k, v in keys.items() if v}


def _threshold(config: SignalConfig, category: str) -> Thresholds:
    return config.thresholds.get(category) or config.thresholds.get("*") or Thresholds()


def compute(
    order: OrderPlaced,
    config: SignalConfig,
    velocity: VelocityCounts,
    history: CustomerHistory,
    card: Card | None = None,
) -> dict[str, Any]:
    """The attributes of one order, from counts and history already fetched (pure)."""
    email = (order.customer.email or "").strip().lower()
    domain = email.rsplit("@", 1)[-1] if "@" in email else ""
    ip = (order.customer.ip or "").strip()
    ip_cc = ip_country(ip)
    billing = (order.billing_address.country or "") if order.billing_address else ""
    shipping = (order.shipping_address.country or "") if order.shipping_address else ""
    category = order.business_category or config.business_category
    amount = order.total.amount
    limits = _threshold(config, category)
    block, allow = config.block, config.allow
    card_bin = (card.bin or "") if card else ""
    card_cc = (card.country or "").upper() if card else ""
    fingerprint = (card.fingerprint or "") if card else ""
    local = order.occurred_at.astimezone(_zone(config.timezone))
    blocked_countries = _lowered(block.countries)

    attributes: dict[str, Any] = {
        "amount": amount,
        "currency": order.total.currency,
        "category": category,
        "line_count": len(order.lines),
        "item_count": sum(line.quantity for line in order.lines),
        "amount_review_threshold": limits.review_over or 0,
        "amount_block_threshold": limits.block_over or 0,
        "amount_over_review": limits.review_over is not None and amount > limits.review_over,
        "amount_over_block": limits.block_over is not None and amount > limits.block_over,
        "email_domain": domain,
        "email_disposable": domain in _disposable_domains,
        "email_blocked": bool(email)
        and (email in _lowered(block.emails) or domain in _lowered(block.email_domains)),
        "email_allowed": bool(email)
        and (email in _lowered(allow.emails) or domain in _lowered(allow.email_domains)),
        "ip": ip,
        "ip_country": ip_cc,
        "ip_blocked": _ip_in(ip, block.ips),
        "ip_allowed": _ip_in(ip, allow.ips),
        "billing_country": billing,
        "shipping_country": shipping,
        "ip_billing_mismatch": bool(ip_cc and billing) and ip_cc != billing,
        "billing_shipping_mismatch": bool(billing and shipping) and billing != shipping,
        "country_blocked": any(
            c.lower() in blocked_countries for c in (ip_cc, billing, shipping) if c
        ),
        "country_allowed": bool(billing) and billing.lower() in _lowered(allow.countries),
        "local_hour": local.hour,
        "card_present": card is not None,
        "card_bin": card_bin,
        "card_country": card_cc,
        "card_funding": (card.funding or "") if card else "",
        "card_billing_mismatch": bool(card_cc and billing) and card_cc != billing,
        "card_blocked": (bool(fingerprint) and fingerprint in block.card_fingerprints)
        or (bool(card_bin) and any(card_bin.startswith(b) for b in block.bins)),
        "card_allowed": bool(fingerprint) and fingerprint in allow.card_fingerprints,
        "customer_first_order": history.orders == 0,
        "customer_orders": history.orders,
        "customer_amount": history.amount,
        "customer_refunds": history.refunds,
        "customer_chargebacks": history.chargebacks,
        "customer_fraud_decisions": history.fraud_decisions,
    }
    for dimension in DIMENSIONS:
        for window in WINDOWS:
            counter = velocity.get(dimension, window)
            attributes[f"{dimension}_orders_{window}"] = counter.orders
            attributes[f"{dimension}_amount_{window}"] = counter.amount
    return attributes
