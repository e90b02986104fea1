"""Stripe Connect mode (docs/payouts.md, "Stripe Connect"): a cycle pays a vendor whose payout
method is a connected account by a Stripe transfer, and money taken back from a vendor after it
was paid (a refund, a return, a chargeback it bears) is reversed from that transfer.

Everything here is decided from the ledger and the cycle's lines alone, so a retry asks Stripe
the same thing under the same idempotency key:

- a transfer per cycle, vendor and currency: key = SHA-256 over the whole identity, its
  ``transfer_group`` names the cycle, and ``source_transaction`` is the one charge the money
  came from when there is one (``source_charge``);
- a reversal per event (refund, return, dispute) and vendor: the part of the event's debit the
  vendor's unpaid money cannot cover (``shortfall``), from the vendor's newest transfer in the
  currency, at most what is left of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from functions.payouts.domain.cycles import CycleLine, LineStatus
from functions.payouts.domain.ledger import Account, Book, Entry, EntryKind, entry

STRIPE_CONNECT = "stripe_connect"
# A vendor's money not yet paid to it: what a debit is taken from before any paid-out money is.
UNPAID_BOOKS = (Book.PENDING, Book.AVAILABLE, Book.RESERVED, Book.NEGATIVE_CARRIED)
# How far back a cycle reads a Connect vendor's entries for its transfer's source charge.
SOURCE_LOOKBACK = timedelta(days=92)
# Entries that move ``available`` without bringing money from an order (the cycle's own).
_CYCLE_MOVES = frozenset({EntryKind.PAYOUT, EntryKind.CARRY})


class TransferRefused(Exception):
    """Stripe said no to a transfer or a reversal (a 4xx other than 429): asking again the
    same cannot help. ``code`` is Stripe's error code (``balance_insufficient``, …)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


def _hashed(*parts: str) -> str:
    # Each part prefixed by its length: no part can bleed into the next; never truncated.
    return hashlib.sha256("".join(f"{len(p)}:{p}" for p in parts).encode()).hexdigest()


def transfer_key(tenant: str, cycle_id: str, vendor_id: str, currency: str) -> str:
    """The transfer's idempotency key: one per tenant, cycle, vendor and currency."""
    return _hashed("payout-transfer", tenant, cycle_id, vendor_id, currency)


def transfer_group(cycle_id: str) -> str:
    """Stripe's ``transfer_group`` of a cycle's transfers (the tenant's own Stripe account)."""
    return f"payout-cycle-{cycle_id}"


def reversal_key(
    tenant: str, currency: str, order_id: str, event_id: str, vendor_id: str, transfer_id: str
) -> str:
    return _hashed(
        "transfer-reversal", tenant, currency, order_id, event_id, vendor_id, transfer_id
    )


@dataclass(frozen=True, slots=True)
class TransferOrder:
    """One transfer as the cycle asks for it (``currency`` as the ledger writes it)."""

    key: str
    account_id: str
    amount: int
    currency: str
    group: str
    source_transaction: str | None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReversalOrder:
    key: str
    transfer_id: str
    amount: int
    metadata: Mapping[str, str] = field(default_factory=dict)


def pays_by_transfer(line: CycleLine) -> bool:
    """A payable line to a connected account that has no transfer yet."""
    return (
        line.status is LineStatus.PAYABLE
        and line.method == STRIPE_CONNECT
        and bool(line.account_id)
        and not line.transfer_id
    )


def transfer_order(
    tenant: str, cycle_id: str, line: CycleLine, source_transaction: str | None
) -> TransferOrder:
    key = transfer_key(tenant, cycle_id, line.vendor_id, line.currency)
    return TransferOrder(
        key=key,
        account_id=line.account_id,
        amount=line.amount,
        currency=line.currency,
        group=transfer_group(cycle_id),
        source_transaction=source_transaction,
        metadata={"tenant": tenant, "cycle": cycle_id, "vendor": line.vendor_id, "key": key},
    )


def source_charge(
    entries: Sequence[Entry], vendor_id: str, currency: str, cycle_id: str, amount: int
) -> str | None:
    """The charge a vendor's payout in this cycle came from, when it came from one.

    The rule: every entry that *added* to the vendor's ``available`` since its previous payout
    in the currency (releases, credits, a failed payout's return) is of one order, and that
    order's sale recorded exactly one charge, and the payout (``amount``) is no more than what
    that order added. Debits (refunds, a carried negative) only make the payout smaller, so it
    never exceeds what that charge brought. Otherwise None: the transfer draws on the
    platform's available balance. ``entries`` are the vendor's, oldest first, from
    ``SOURCE_LOOKBACK`` before the cycle on: the last check keeps a window that cuts off older
    credits still unpaid from naming a charge that cannot cover them."""
    account = Account.vendor(vendor_id, Book.AVAILABLE)
    mine = [e for e in entries if e.currency == currency]
    previous = [
        e.occurred_at for e in mine if e.kind is EntryKind.PAYOUT and e.event_id != cycle_id
    ]
    since = max(previous) if previous else None
    credits = [
        e
        for e in mine
        if e.kind not in _CYCLE_MOVES
        and (since is None or e.occurred_at > since)
        and e.amount_for(account) > 0
    ]
    orders = {e.order_id for e in credits}
    if len(orders) != 1 or amount > sum(e.amount_for(account) for e in credits):
        return None
    (order_id,) = orders
    charges = {e.ref("charge") for e in mine if e.kind is EntryKind.SALE and e.order_id == order_id}
    if not order_id or len(charges) != 1 or "" in charges:
        return None
    return charges.pop()


def taken_from(entries: Iterable[Entry], vendor_id: str, currency: str) -> int:
    """What an event's entries took from the vendor's ``available`` (≥ 0)."""
    account = Account.vendor(vendor_id, Book.AVAILABLE)
    return max(0, -sum(e.amount_for(account) for e in entries if e.currency == currency))


def shortfall(balances: Mapping[tuple[str, Book], int], currency: str, taken: int) -> int:
    """The part of ``taken`` the vendor's unpaid money (pending, available, reserved, carried)
    no longer covers: it was paid out already, so it is reversed from the vendor's transfer.
    ``balances`` are after the event was posted."""
    unpaid = sum(balances.get((currency, book), 0) for book in UNPAID_BOOKS)
    return max(0, min(taken, -unpaid))


def reversed_from(entries: Iterable[Entry], transfer_id: str) -> int:
    """What our ledger has reversed from a transfer so far."""
    return sum(
        e.amount_for(Account.vendor(e.ref("vendor"), Book.AVAILABLE))
        for e in entries
        if e.kind is EntryKind.TRANSFER_REVERSAL and e.ref("transfer") == transfer_id
    )


def transfer_reversed(
    tenant: str,
    currency: str,
    order_id: str,
    event_id: str,
    vendor_id: str,
    amount: int,
    transfer_id: str,
    reversal_id: str,
    at: datetime,
) -> Entry | None:
    """The vendor gave back ``amount`` of what it was paid: ``paid`` down, ``available`` up
    (where the event's debit left it short)."""
    return entry(
        tenant,
        currency,
        EntryKind.TRANSFER_REVERSAL,
        event_id,
        vendor_id,
        at,
        [
            (Account.vendor(vendor_id, Book.PAID), -amount),
            (Account.vendor(vendor_id, Book.AVAILABLE), amount),
        ],
        order_id=order_id,
        refs={"vendor": vendor_id, "transfer": transfer_id, "reversal": reversal_id},
    )
