"""What each vendor of an order is told (docs/payouts.md, "Vendors are told"): the lines it
packs and ships when the order is confirmed, and the lines a cancellation, a return or a refund
takes back, with their amounts in the order's currency — the same amounts the ledger posts (the
sale's allocation, a refund split pro rata to what each line charged, then into the vendor's
part by ``reversal_parts``).

Plain values only: the use case renders and sends them (``use_cases/vendor_news.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from functions.payouts.domain.postings import SaleLine, reversal_parts, spread
from shared.events import OrderPlaced


class News(StrEnum):
    """What happened to the vendor's lines; each is told once per order, event and vendor."""

    ORDER = "order"  # confirmed: pack and ship these
    CANCELLED = "cancelled"  # do not ship (or nothing more is owed for them)
    RETURNED = "returned"  # the customer sent items back and was refunded
    REFUNDED = "refunded"  # the customer was refunded (part of) the order


@dataclass(frozen=True)
class NewsLine:
    """One of the vendor's lines as the vendor reads it (amounts in minor units)."""

    line_id: str
    name: str
    sku: str
    quantity: int
    unit_price: int
    # ORDER: what the line charged the customer (goods less discount, with shipping and tax);
    # CANCELLED: the same, no longer charged; RETURNED / REFUNDED: the line's share given back.
    amount: int
    # ORDER / CANCELLED: the vendor's net for the line (after commission and fee share);
    # RETURNED / REFUNDED: what leaves the vendor's balance for it.
    vendor_amount: int


@dataclass(frozen=True)
class VendorNews:
    vendor_id: str
    news: News
    lines: tuple[NewsLine, ...]
    event_id: str = ""  # the refund's id for RETURNED / REFUNDED

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def vendor_amount(self) -> int:
        return sum(line.vendor_amount for line in self.lines)

    @property
    def once(self) -> str:
        """What is sent once: the news, its event and the vendor (the notification log's key
        beside the order)."""
        event = f":{self.event_id}" if self.event_id else ""
        return f"vendor_{self.news.value}{event}:{self.vendor_id}"


def _by_vendor(
    order: OrderPlaced,
    sold: Sequence[SaleLine],
    amounts: Sequence[tuple[int, int]],
    news: News,
    event_id: str = "",
) -> list[VendorNews]:
    shop = {line.line_id: line for line in order.lines}
    grouped: dict[str, list[NewsLine]] = {}
    for line, (amount, vendor_amount) in zip(sold, amounts, strict=True):
        placed = shop.get(line.line_id)
        # The vendor the shop named ships the line even when its money waits in suspense (a
        # vendor not paid in the order's currency): it is told, with no share of its own. A
        # line given back nothing is not news to its vendor.
        named = line.vendor_id or line.named_vendor
        if not named or placed is None:
            continue
        if news in (News.RETURNED, News.REFUNDED) and amount == 0:
            continue
        grouped.setdefault(named, []).append(
            NewsLine(
                line_id=line.line_id,
                name=placed.name,
                sku=placed.sku or line.sku,
                quantity=placed.quantity,
                unit_price=placed.unit_price.amount,
                amount=amount,
                vendor_amount=vendor_amount if line.vendor_id is not None else 0,
            )
        )
    return [
        VendorNews(vendor_id, news, tuple(lines), event_id)
        for vendor_id, lines in sorted(grouped.items())
    ]


def order_news(order: OrderPlaced, sold: Sequence[SaleLine]) -> list[VendorNews]:
    """Each vendor's lines of a confirmed order (what to pack and ship)."""
    return _by_vendor(order, sold, [(line.charged, line.vendor_net) for line in sold], News.ORDER)


def cancellation_news(order: OrderPlaced, sold: Sequence[SaleLine]) -> list[VendorNews]:
    """Each vendor's lines of a cancelled order."""
    amounts = [(line.charged, line.vendor_net) for line in sold]
    return _by_vendor(order, sold, amounts, News.CANCELLED)


def refund_news(
    order: OrderPlaced, sold: Sequence[SaleLine], refund_id: str, amount: int, *, returned: bool
) -> list[VendorNews]:
    """Each vendor's share of a refund of ``amount``: split over the lines in proportion to what
    each charged (as the ledger's reversal), the vendor's part of each share as it posts it."""
    shares = spread(amount, sold)
    amounts = [
        (share, reversal_parts(line, share)[0]) for line, share in zip(sold, shares, strict=True)
    ]
    news = News.RETURNED if returned else News.REFUNDED
    return _by_vendor(order, sold, amounts, news, refund_id)
