"""The benchmark's baseline: the older screening by lists and amount thresholds alone.

It screened orders before the CEL rules (functions/risk/) replaced it, and lives on here only
so that bench/risk.py can put the rules' cost beside it: block lists of e-mails, domains, IP
ranges and countries, review and block thresholds, a billing/shipping mismatch.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import OrderPlaced

Decision = Literal["allow", "review", "block"]


class Blocklists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    emails: tuple[str, ...] = ()
    email_domains: tuple[str, ...] = ()
    ips: tuple[str, ...] = Field(default=(), description="addresses or CIDR ranges")
    countries: tuple[str, ...] = ()


class RiskSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    block: Blocklists = Blocklists()
    review_over: int | None = Field(default=None, description="minor units; review above this")
    block_over: int | None = Field(default=None, description="minor units; block above this")
    review_country_mismatch: bool = True


class Screening(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Decision
    score: int
    reasons: tuple[str, ...]
    signals: dict[str, str | int | bool | None]
    ruleset_version: str = "lists-and-thresholds/1"


def _in_ranges(ip: str | None, ranges: tuple[str, ...]) -> str | None:
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    for entry in ranges:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return entry
        except ValueError:
            continue
    return None


def screen(order: OrderPlaced, settings: RiskSettings) -> Screening:
    email = (order.customer.email or "").lower()
    domain = email.rsplit("@", 1)[-1] if "@" in email else None
    billing = order.billing_address.country if order.billing_address else None
    shipping = order.shipping_address.country if order.shipping_address else None
    signals: dict[str, str | int | bool | None] = {
        "email": email or None,
        "email_domain": domain,
        "ip": order.customer.ip,
        "billing_country": billing,
        "shipping_country": shipping,
        "amount": order.total.amount,
        "currency": order.total.currency,
    }
    blocked: list[str] = []
    review: list[str] = []
    lists = settings.block
    if email and email in {e.lower() for e in lists.emails}:
        blocked.append(f"e-mail {email} is on the block list")
    if domain and domain in {d.lower() for d in lists.email_domains}:
        blocked.append(f"e-mail domain {domain} is on the block list")
    if hit := _in_ranges(order.customer.ip, lists.ips):
        blocked.append(f"IP {order.customer.ip} is in blocked range {hit}")
    for label, country in (("billing", billing), ("shipping", shipping)):
        if country and country in lists.countries:
            blocked.append(f"{label} country {country} is blocked")
    if settings.block_over is not None and order.total.amount > settings.block_over:
        blocked.append(f"amount {order.total} is over the block threshold")
    elif settings.review_over is not None and order.total.amount > settings.review_over:
        review.append(f"amount {order.total} is over the review threshold")
    if settings.review_country_mismatch and billing and shipping and billing != shipping:
        review.append(f"billing country ({billing}) differs from shipping country ({shipping})")
    if blocked:
        return Screening(
            decision="block", score=100, reasons=tuple(blocked + review), signals=signals
        )
    if review:
        return Screening(
            decision="review",
            score=min(90, 50 + 15 * len(review)),
            reasons=tuple(review),
            signals=signals,
        )
    return Screening(decision="allow", score=0, reasons=(), signals=signals)
