"""What each business fact posts to the ledger (docs/payouts.md has the table).

A sale is allocated per line: the order's discount, shipping, tax and gateway fee are split over
its lines by largest remainder in proportion to each line's gross (unit price times quantity), so
every line's parts are exact in minor units and add up to the order's. Commission is the plan's
percent of the line's goods after discount (rounded half up) plus its fixed amount, never more
than those goods. What the vendor is owed is what the line charged less commission and, when the
tenant makes vendors bear them, the line's share of the gateway fee.

Reversals (refunds, returns, chargebacks a vendor bears) always take from ``available``, never
from ``pending``: so an entry's postings never depend on what came before it, balances are the
same in any order, and a line refunded before its release leaves ``available`` short until the
release moves the line's whole net in (the cycle pays the sum; nothing refunded is ever paid).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from functions.payouts.domain.allocation import split
from functions.payouts.domain.ledger import Account, Book, Entry, EntryKind, entry, vendor_move

_P = Account.platform


class FeeBearer(StrEnum):
    VENDOR = "vendor"
    PLATFORM = "platform"


@dataclass(frozen=True, slots=True)
class Rate:
    """A commission rate: basis points (1/100 of a percent) of the goods, plus a fixed amount
    per line in minor units."""

    basis_points: int = 0
    fixed: int = 0


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_id: str
    vendor_id: str | None  # None: no known vendor (suspense)
    quantity: int
    unit_price: int
    sku: str = ""
    category: str = ""
    named_vendor: str = ""  # the vendor id the shop gave, known or not


@dataclass(frozen=True, slots=True)
class SaleLine:
    """One line's allocation; ``vendor_net`` is what its vendor is owed."""

    line_id: str
    vendor_id: str | None
    sku: str
    gross: int
    discount: int
    shipping: int
    tax: int
    commission: int
    fee: int  # the line's share of the gateway fee
    vendor_fee: int  # the part of it the vendor bears
    named_vendor: str = ""

    @property
    def charged(self) -> int:
        return self.gross - self.discount + self.shipping + self.tax

    @property
    def vendor_net(self) -> int:
        return self.charged - self.commission - self.vendor_fee


def commission(goods: int, rate: Rate) -> int:
    percent = (goods * rate.basis_points + 5_000) // 10_000 if goods > 0 else 0
    return max(0, min(goods, percent + rate.fixed))


def allocate(
    lines: Sequence[OrderLine],
    *,
    discount: int,
    shipping: int,
    tax: int,
    gateway_fee: int,
    rates: Mapping[str, Rate],
    fees_borne_by: FeeBearer,
) -> list[SaleLine]:
    """The order's sale per line (``rates`` by line id; a line without one pays no commission)."""
    gross = [line.unit_price * line.quantity for line in lines]
    discounts = split(discount, gross)
    shippings = split(shipping, gross)
    taxes = split(tax, gross)
    fees = split(gateway_fee, gross)
    result = []
    for i, line in enumerate(lines):
        goods = gross[i] - discounts[i]
        known = line.vendor_id is not None
        rate = rates.get(line.line_id, Rate()) if known else Rate()
        result.append(
            SaleLine(
                line_id=line.line_id,
                vendor_id=line.vendor_id,
                sku=line.sku,
                gross=gross[i],
                discount=discounts[i],
                shipping=shippings[i],
                tax=taxes[i],
                commission=commission(goods, rate),
                fee=fees[i],
                vendor_fee=fees[i] if known and fees_borne_by is FeeBearer.VENDOR else 0,
                named_vendor=line.vendor_id or line.named_vendor,
            )
        )
    return result


def _owed(line: SaleLine, book: Book) -> Account:
    """Where the vendor's side of a line goes: its vendor's book, or suspense."""
    if line.vendor_id is None:
        return _P(Book.SUSPENSE)
    return Account.vendor(line.vendor_id, book)


@dataclass(frozen=True, slots=True)
class Context:
    """What every entry of one order carries."""

    tenant: str
    currency: str
    order_id: str


def _order_entry(
    ctx: Context,
    kind: EntryKind,
    event_id: str,
    line_id: str,
    at: datetime,
    postings: Iterable[tuple[Account, int]],
    refs: dict[str, str],
    actor: str = "",
) -> Entry | None:
    return entry(
        ctx.tenant,
        ctx.currency,
        kind,
        event_id,
        line_id,
        at,
        postings,
        order_id=ctx.order_id,
        refs=refs,
        actor=actor,
    )


def _refs(line: SaleLine, **more: str) -> dict[str, str]:
    """What reports show of a line; ``vendor`` is the vendor the shop named (known or not),
    which is also where the store files the entry."""
    refs = {"sku": line.sku} if line.sku else {}
    if line.vendor_id or line.named_vendor:
        refs["vendor"] = line.vendor_id or line.named_vendor
    if line.vendor_id is None:
        refs["suspense"] = "1"
    return {**refs, **more}


_ALLOCATION = ("gross", "discount", "shipping", "tax", "commission", "fee", "vendor_fee")


def allocation_text(line: SaleLine) -> str:
    """The line's allocation as the sale entry keeps it (reports show it; later entries of
    the line are computed from it, never from plans that may have changed since)."""
    return ",".join(str(getattr(line, name)) for name in _ALLOCATION)


def sold_line(item: Entry) -> SaleLine:
    """The line a sale entry was posted for."""
    if item.kind is not EntryKind.SALE:
        raise ValueError(f"{item.kind} is not a sale")
    parts = dict(zip(_ALLOCATION, map(int, item.ref("allocation").split(",")), strict=True))
    named = item.ref("vendor")
    return SaleLine(
        line_id=item.line,
        vendor_id=None if item.ref("suspense") else named,
        sku=item.ref("sku"),
        named_vendor=named,
        **parts,
    )


def sale(
    ctx: Context, event_id: str, line: SaleLine, at: datetime, charge: str = ""
) -> Entry | None:
    """``charge``: the one charge that paid the order, when one did (a Connect transfer may
    draw on it: ``domain/connect.source_charge``)."""
    return _order_entry(
        ctx,
        EntryKind.SALE,
        event_id,
        line.line_id,
        at,
        [
            (_P(Book.RECEIPTS), -(line.charged - line.fee)),
            (_owed(line, Book.PENDING), line.vendor_net),
            (_P(Book.COMMISSION), line.commission),
            (_P(Book.FEES_BORNE), -(line.fee - line.vendor_fee)),
        ],
        refs=_refs(
            line, allocation=allocation_text(line), **({"charge": charge} if charge else {})
        ),
    )


def reserve_of(net: int, reserve_basis_points: int) -> int:
    """The reserve kept back from a released net (rounded down: the vendor's favour)."""
    return max(0, net) * reserve_basis_points // 10_000


def release(
    ctx: Context, event_id: str, line: SaleLine, at: datetime, reserve_basis_points: int = 0
) -> Entry | None:
    """The line's whole net from pending to available (less the reserve). A suspense line is
    not released: it waits for an operator to name its vendor."""
    if line.vendor_id is None:
        return None
    reserve = reserve_of(line.vendor_net, reserve_basis_points)
    return _order_entry(
        ctx,
        EntryKind.RELEASE,
        event_id,
        line.line_id,
        at,
        [
            (_owed(line, Book.PENDING), -line.vendor_net),
            (_owed(line, Book.AVAILABLE), line.vendor_net - reserve),
            (_owed(line, Book.RESERVED), reserve),
        ],
        refs=_refs(line),
    )


def void(ctx: Context, event_id: str, line: SaleLine, at: datetime) -> Entry | None:
    """Cancelled before release: the sale undone for the vendor and the commission; the money
    waits in refunds clearing for the cancellation's refund, and the platform bears the whole
    gateway fee (the gateway keeps it)."""
    return _order_entry(
        ctx,
        EntryKind.VOID,
        event_id,
        line.line_id,
        at,
        [
            (_owed(line, Book.PENDING), -line.vendor_net),
            (_P(Book.COMMISSION), -line.commission),
            (_P(Book.FEES_BORNE), -line.vendor_fee),
            (_P(Book.REFUNDS_CLEARING), line.charged),
        ],
        refs=_refs(line),
    )


def refund_cash(
    ctx: Context, refund_id: str, amount: int, at: datetime, line_id: str = ""
) -> Entry | None:
    """A voided order's refund completed (or, with ``line_id``, a voided held line's share of
    a refund): its cash leaves refunds clearing."""
    return _order_entry(
        ctx,
        EntryKind.REFUND_CASH,
        refund_id,
        line_id,
        at,
        [(_P(Book.RECEIPTS), amount), (_P(Book.REFUNDS_CLEARING), -amount)],
        refs={"refund": refund_id},
    )


def spread(amount: int, lines: Sequence[SaleLine]) -> list[int]:
    """An order-level amount over its lines in proportion to what each line charged (never to
    what is left of it, so the split does not depend on the order refunds arrive in)."""
    return split(amount, [max(0, line.charged) for line in lines])


def reversal_parts(line: SaleLine, amount: int) -> tuple[int, int, int]:
    """``amount`` given back on a line, split (largest remainder) into the vendor's part, the
    vendor's fee share and the commission, in the proportions the sale posted them."""
    vendor, fee_part, commission_part = split(
        amount, [max(0, line.vendor_net), max(0, line.vendor_fee), max(0, line.commission)]
    )
    return vendor, fee_part, commission_part


def reversal(
    ctx: Context,
    kind: EntryKind,
    event_id: str,
    line: SaleLine,
    amount: int,
    at: datetime,
    **refs: str,
) -> Entry | None:
    """``amount`` of a line given back to the customer (a refund or a return): split over the
    vendor's net, the commission and the vendor's fee share in their proportions; the vendor's
    part leaves ``available``, the fee part is borne by the platform (the gateway keeps fees)."""
    vendor, fee_part, commission_part = reversal_parts(line, amount)
    return _order_entry(
        ctx,
        kind,
        event_id,
        line.line_id,
        at,
        [
            (_P(Book.RECEIPTS), amount),
            (_owed(line, Book.AVAILABLE), -vendor),
            (_P(Book.COMMISSION), -commission_part),
            (_P(Book.FEES_BORNE), -fee_part),
        ],
        refs=_refs(line, **refs),
    )


def refund_by_amount(
    ctx: Context,
    refund_id: str,
    lines: Sequence[SaleLine],
    amount: int,
    at: datetime,
    kind: EntryKind = EntryKind.REFUND,
) -> list[Entry]:
    shares = spread(amount, lines)
    made = (
        reversal(ctx, kind, refund_id, line, share, at, refund=refund_id)
        for line, share in zip(lines, shares, strict=True)
    )
    return [e for e in made if e is not None]


def refund_by_lines(
    ctx: Context,
    kind: EntryKind,
    event_id: str,
    amounts: Iterable[tuple[SaleLine, int]],
    at: datetime,
    **refs: str,
) -> list[Entry]:
    made = (reversal(ctx, kind, event_id, line, n, at, **refs) for line, n in amounts)
    return [e for e in made if e is not None]


def chargeback_opened(ctx: Context, dispute_id: str, amount: int, at: datetime) -> Entry | None:
    """The bank took the disputed money: the platform fronts it until the dispute ends."""
    return _order_entry(
        ctx,
        EntryKind.CHARGEBACK_OPENED,
        dispute_id,
        "",
        at,
        [(_P(Book.RECEIPTS), amount), (_P(Book.CHARGEBACK_LOSSES), -amount)],
        refs={"dispute": dispute_id},
    )


def chargeback_won(ctx: Context, dispute_id: str, amount: int, at: datetime) -> Entry | None:
    """The money came back."""
    return _order_entry(
        ctx,
        EntryKind.CHARGEBACK_WON,
        dispute_id,
        "",
        at,
        [(_P(Book.RECEIPTS), -amount), (_P(Book.CHARGEBACK_LOSSES), amount)],
        refs={"dispute": dispute_id},
    )


def chargeback_lost(
    ctx: Context,
    dispute_id: str,
    lines: Sequence[SaleLine],
    amount: int,
    at: datetime,
    *,
    vendors_bear: bool,
) -> list[Entry]:
    """Lost for good. When the tenant's policy makes vendors bear it, the loss moves from the
    platform to the lines' vendors in proportion to what each line charged; otherwise the
    platform keeps it and nothing is posted."""
    if not vendors_bear:
        return []
    made = (
        _order_entry(
            ctx,
            EntryKind.CHARGEBACK_LOST,
            dispute_id,
            line.line_id,
            at,
            [(_P(Book.CHARGEBACK_LOSSES), share), (_owed(line, Book.AVAILABLE), -share)],
            refs=_refs(line, dispute=dispute_id),
        )
        for line, share in zip(lines, spread(amount, lines), strict=True)
    )
    return [e for e in made if e is not None]


def carrier_claim(
    ctx: Context, claim_id: str, lines: Sequence[SaleLine], amount: int, at: datetime
) -> list[Entry]:
    """The carrier paid a claim for lost or damaged lines: their vendors are credited."""
    made = (
        _order_entry(
            ctx,
            EntryKind.CARRIER_CLAIM,
            claim_id,
            line.line_id,
            at,
            [(_P(Book.RECEIPTS), -share), (_owed(line, Book.AVAILABLE), share)],
            refs=_refs(line, claim=claim_id),
        )
        for line, share in zip(lines, spread(amount, lines), strict=True)
    )
    return [e for e in made if e is not None]


class Refused(ValueError):
    """Bad input: every reason at once, nothing posted."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


def adjustment(
    tenant: str,
    currency: str,
    adjustment_id: str,
    vendor_id: str,
    amount: int,
    at: datetime,
    *,
    reason: str,
    actor: str,
) -> Entry:
    """An operator's correction of a vendor's available balance (positive: owed to the vendor),
    against the platform's adjustments account. Reason and operator are required."""
    problems = []
    if not reason.strip():
        problems.append("an adjustment needs a reason")
    if not actor.strip():
        problems.append("an adjustment needs the operator who makes it")
    if isinstance(amount, bool) or not isinstance(amount, int):
        problems.append("the amount is an integer of minor units")
    elif amount == 0:
        problems.append("an adjustment of zero changes nothing")
    if not adjustment_id.strip():
        problems.append("an adjustment needs an id (it makes a retry add nothing)")
    if not vendor_id.strip():
        problems.append("an adjustment needs a vendor")
    if problems:
        raise Refused(problems)
    made = entry(
        tenant,
        currency,
        EntryKind.ADJUSTMENT,
        adjustment_id,
        vendor_id,
        at,
        [(Account.vendor(vendor_id, Book.AVAILABLE), amount), (_P(Book.ADJUSTMENTS), -amount)],
        reason=reason.strip(),
        actor=actor.strip(),
        refs={"vendor": vendor_id},
    )
    assert made is not None  # a non-zero amount always posts
    return made


def suspense_assigned(
    ctx: Context, event_id: str, line: SaleLine, vendor_id: str, at: datetime, *, actor: str
) -> Entry | None:
    """An operator named the vendor of a suspense line: its net moves to the vendor's pending,
    to be released like any other line."""
    if not actor.strip():
        raise Refused(["assigning a suspense line needs the operator who does it"])
    return _order_entry(
        ctx,
        EntryKind.SUSPENSE_ASSIGNED,
        event_id,
        line.line_id,
        at,
        [
            (_P(Book.SUSPENSE), -line.vendor_net),
            (Account.vendor(vendor_id, Book.PENDING), line.vendor_net),
        ],
        actor=actor,
        refs={"vendor": vendor_id},
    )


def reserve_release(
    tenant: str, currency: str, event_id: str, vendor_id: str, amount: int, at: datetime
) -> Entry | None:
    return vendor_move(
        tenant,
        currency,
        EntryKind.RESERVE_RELEASE,
        event_id,
        vendor_id,
        at,
        [(Book.RESERVED, -amount), (Book.AVAILABLE, amount)],
    )
