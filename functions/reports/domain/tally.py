"""The reporting read model: what one tenant's local day contributed to its business, as a
small record (a tally) that adds up into any longer period.

Every figure is event-dated: a fact counts on the local day it happened, whatever day the
order was placed. A sale counts the day the order's payment succeeded, a refund the day the
gateway reported it succeeded, a chargeback the day the dispute opened (and again, as lost,
the day it was lost), a failed payment the day it failed, a dispatch the day the first parcel
went, a delivery the day the last parcel arrived. Orders placed, their screening decision and
its review count on the day the order was placed. So a week, a month or a year is the plain
sum of its days, and a refund never restates the period of its sale.

Money is kept per currency and never added across currencies. Medians cannot be added, so
delivery times are kept as a histogram of whole hours, and the median is read from the summed
histogram (exact to the hour).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from shared.events import PARCEL_EXCEPTIONS, PARCEL_LOSSES, ShipmentStatus
from shared.order_aggregate import REFUND_COUNTED, CancelReason, OrderState, ShipmentFacts

# What a screening decided, and what came of a held order.
SCREENING_DECISIONS = ("allow", "review", "block")
REVIEW_OUTCOMES = ("approved", "rejected", "timed_out", "pending")
# A carrier's scan that somebody has to act on (a loss is also a claim).
_EXCEPTIONS = frozenset({*PARCEL_EXCEPTIONS, *PARCEL_LOSSES, ShipmentStatus.RETURN_TO_SENDER})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProductSold(NamedTuple):
    """One product's sales: a tuple, stored as a JSON array (a year's summary adds up a few
    million of them: a tuple is read and added several times faster than a model)."""

    name: str
    vendor: str
    quantity: int
    gross: int

    def plus(self, other: "ProductSold") -> "ProductSold":
        return self._replace(
            quantity=self.quantity + other.quantity, gross=self.gross + other.gross
        )


class CurrencyTally(_Model):
    """One currency's money of a day or a period (minor units)."""

    orders: int = 0  # orders whose payment succeeded (sales)
    gross: int = 0  # line prices x quantities, before discounts
    discounts: int = 0
    shipping: int = 0
    tax: int = 0
    refunds: int = 0  # how many refunds succeeded
    returns: int = 0  # what they gave back
    chargebacks: int = 0
    chargeback_amount: int = 0
    chargebacks_lost: int = 0
    chargeback_lost_amount: int = 0
    failed_payments: int = 0
    failed_amount: int = 0
    products: dict[str, ProductSold] = Field(default_factory=dict)
    vendors: dict[str, int] = Field(default_factory=dict)

    @property
    def net(self) -> int:
        """Shopify's net sales: gross sales - discounts - returns."""
        return self.gross - self.discounts - self.returns

    @property
    def total(self) -> int:
        """Shopify's total sales: net sales + taxes + shipping."""
        return self.net + self.tax + self.shipping

    @property
    def average_order_value(self) -> int | None:
        """Shopify's AOV: (gross sales - discounts) / orders, rounded half up to a minor unit."""
        if not self.orders:
            return None
        return (2 * (self.gross - self.discounts) + self.orders) // (2 * self.orders)

    def add(self, other: "CurrencyTally") -> None:
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        products = self.products
        for key, sold in other.products.items():
            mine = products.get(key)
            products[key] = sold if mine is None else mine.plus(sold)
        for vendor, gross in other.vendors.items():
            self.vendors[vendor] = self.vendors.get(vendor, 0) + gross


_COUNTERS = tuple(
    name for name, field in CurrencyTally.model_fields.items() if field.annotation is int
)


class Tally(_Model):
    """A day's (or a period's) figures; ``add`` sums another one into it."""

    currencies: dict[str, CurrencyTally] = Field(default_factory=dict)
    placed: int = 0
    placed_paid: int = 0  # of the orders placed, those whose payment succeeded
    screening: dict[str, int] = Field(default_factory=dict)
    reviews: dict[str, int] = Field(default_factory=dict)
    dispatched: int = 0
    dispatched_in_sla: int = 0
    delivered: int = 0
    exceptions: int = 0
    claims: int = 0
    delivery_hours: dict[str, int] = Field(default_factory=dict)

    def currency(self, code: str) -> CurrencyTally:
        return self.currencies.setdefault(code, CurrencyTally())

    def add(self, other: "Tally") -> None:
        for code, figures in other.currencies.items():
            self.currency(code).add(figures)
        for name in ("placed", "placed_paid", "dispatched", "dispatched_in_sla"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("delivered", "exceptions", "claims"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in (
            (self.screening, other.screening),
            (self.reviews, other.reviews),
            (self.delivery_hours, other.delivery_hours),
        ):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count

    @property
    def conversion(self) -> float | None:
        """Placed → paid: the share of the orders placed whose payment succeeded."""
        return self.placed_paid / self.placed if self.placed else None

    @property
    def dispatch_sla_share(self) -> float | None:
        return self.dispatched_in_sla / self.dispatched if self.dispatched else None

    def median_days_to_deliver(self) -> float | None:
        """The median time from first dispatch to last delivery, in days (hour precision):
        the middle delivery of the histogram, or the mean of the two middle ones."""
        total = sum(self.delivery_hours.values())
        if not total:
            return None
        wanted = sorted({(total - 1) // 2, total // 2})
        found: list[int] = []
        seen = 0
        for hours, count in sorted((int(h), c) for h, c in self.delivery_hours.items()):
            while wanted and wanted[0] < seen + count:
                found.append(hours)
                wanted.pop(0)
            seen += count
        return round(sum(found) / len(found) / 24, 2)


def combine(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.add(tally)
    return total


# -- one day's tally from the orders that changed on it ---------------------------------------


@dataclass(frozen=True)
class OrderView:
    """What the reports read of one order: its aggregate and its screening's decision."""

    state: OrderState
    screening: str | None = None


def review_outcome(state: OrderState) -> str:
    """What came of an order screening held for review: rejected or timed out (the
    lifecycle's cancellation says so), approved once it moved on (paid or dispatched),
    pending otherwise."""
    reason = state.cancel_reason.value if state.cancel_reason else None
    if reason == CancelReason.REJECTED_IN_REVIEW:
        return "rejected"
    if reason == CancelReason.REVIEW_TIMED_OUT:
        return "timed_out"
    if state.successful_payments() or state.parcels():
        return "approved"
    return "pending"


def first_paid_at(state: OrderState) -> datetime | None:
    currency = state.currency
    times = [
        p.succeeded_at
        for p in state.payments.values()
        if p.succeeded_at is not None and p.currency == currency
    ]
    return min(times) if times else None


def dispatched_at(parcels: list[ShipmentFacts]) -> datetime | None:
    """When the first of the order's parcels (``OrderState.parcels``) left."""
    times = [p.fulfilled_at or p.first_seen_at for p in parcels]
    return min(times) if times else None


def delivered_at(parcels: list[ShipmentFacts]) -> datetime | None:
    """When the last outbound parcel arrived, once every one has."""
    if not parcels or any(p.delivered_at is None for p in parcels):
        return None
    return max(p.delivered_at for p in parcels if p.delivered_at is not None)


def _amount(value: Any) -> int:
    return int(value["amount"]) if value else 0


def _sale(figures: CurrencyTally, order: dict[str, Any]) -> None:
    figures.orders += 1
    figures.discounts += _amount(order.get("discount"))
    figures.shipping += _amount(order.get("shipping"))
    figures.tax += _amount(order.get("tax"))
    for line in order["lines"]:
        gross = _amount(line["unit_price"]) * int(line["quantity"])
        figures.gross += gross
        key = line.get("sku") or line["name"]
        vendor = str(line["vendor_id"])
        sold = ProductSold(line["name"], vendor, int(line["quantity"]), gross)
        known = figures.products.get(key)
        figures.products[key] = sold if known is None else known.plus(sold)
        figures.vendors[vendor] = figures.vendors.get(vendor, 0) + gross


def tally_day(
    day: date, timezone: str, orders: Iterable[OrderView], dispatch_sla_days: int
) -> Tally:
    """The facts of ``orders`` that happened on the local ``day``. An order may be read for
    several days (it changed on each): only its facts dated ``day`` count here."""
    zone = ZoneInfo(timezone)
    sla = timedelta(days=dispatch_sla_days)
    tally = Tally()

    def on_day(at: datetime | None) -> bool:
        return at is not None and at.astimezone(zone).date() == day

    for view in orders:
        state = view.state
        # The placed order as stored (a dict): validating it into ``OrderPlaced`` for every
        # order of a year would cost more than the whole tally.
        order = state.placed.value if state.placed else None
        paid_at = first_paid_at(state)
        if order is not None and on_day(state.placed_at()):
            tally.placed += 1
            tally.placed_paid += paid_at is not None
            if view.screening in SCREENING_DECISIONS:
                tally.screening[view.screening] = tally.screening.get(view.screening, 0) + 1
                if view.screening == "review":
                    outcome = review_outcome(state)
                    tally.reviews[outcome] = tally.reviews.get(outcome, 0) + 1
        if order is not None and on_day(paid_at):
            _sale(tally.currency(str(order["currency"])), order)
        for payment in state.payments.values():
            if on_day(payment.failed_at):
                figures = tally.currency(payment.currency)
                figures.failed_payments += 1
                figures.failed_amount += payment.amount
            for refund in payment.refunds.values():
                if refund.status.value in REFUND_COUNTED and on_day(refund.status.at):
                    figures = tally.currency(payment.currency)
                    figures.refunds += 1
                    figures.returns += refund.amount
        for dispute in state.disputes.values():
            if on_day(dispute.opened_at or dispute.status.at):
                figures = tally.currency(dispute.currency)
                figures.chargebacks += 1
                figures.chargeback_amount += dispute.amount
            if dispute.status.value == "lost" and on_day(dispute.status.at):
                figures = tally.currency(dispute.currency)
                figures.chargebacks_lost += 1
                figures.chargeback_lost_amount += dispute.amount
        parcels = state.parcels()
        sent = dispatched_at(parcels)
        if on_day(sent) and sent is not None:
            tally.dispatched += 1
            start = paid_at or state.placed_at() or sent
            tally.dispatched_in_sla += sent - start <= sla
        arrived = delivered_at(parcels)
        if on_day(arrived) and arrived is not None and sent is not None:
            tally.delivered += 1
            hours = str(int((arrived - sent).total_seconds() // 3600))
            tally.delivery_hours[hours] = tally.delivery_hours.get(hours, 0) + 1
        for parcel in parcels:
            for notice in parcel.notices.values():
                if notice.status in _EXCEPTIONS and on_day(notice.at):
                    tally.exceptions += 1
                    tally.claims += notice.status in PARCEL_LOSSES
    return tally


def top(entries: dict[str, int], n: int) -> list[tuple[str, int]]:
    """The ``n`` largest, ties by name so the list is stable."""
    return sorted(entries.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
