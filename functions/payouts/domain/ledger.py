"""The vendor ledger: append-only, double-entry, per tenant and currency.

An entry is a set of postings to accounts that add up to zero, in one currency. Nothing is ever
updated or deleted: a correction is a new entry. Each entry is named by its idempotency key
(the event it comes from + the line + the kind), hashed whole, so the same fact posted twice
adds nothing. Balances are sums of postings: they are the same whatever order the entries came
in, and they never mix currencies (an account's balance is kept per currency).

Sign convention: a positive balance is what the account holds (a vendor's pending money, the
platform's commission); the platform's ``receipts`` account is the counterpart of the money
customers paid and so runs negative. Over a tenant and currency all accounts sum to zero.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

PLATFORM = "platform"


class Book(StrEnum):
    # a vendor's
    PENDING = "pending"  # sold, not released yet
    AVAILABLE = "available"  # released, payable in the next cycle
    RESERVED = "reserved"  # released but kept back (the hold policy's reserve %)
    PAID = "paid"  # sent to the vendor
    NEGATIVE_CARRIED = "negative_carried"  # what a vendor owes, recovered from the next cycles
    # the platform's
    RECEIPTS = "receipts"  # customers' money held (net of gateway fees)
    COMMISSION = "commission"
    FEES_BORNE = "fees_borne"  # gateway fees the platform bears
    REFUNDS_CLEARING = "refunds_clearing"  # voided sales waiting for their refund
    CHARGEBACK_LOSSES = "chargeback_losses"
    SUSPENSE = "suspense"  # lines whose vendor is unknown, until an operator assigns them
    ADJUSTMENTS = "adjustments"  # the platform's side of operators' adjustments


VENDOR_BOOKS = frozenset(
    {Book.PENDING, Book.AVAILABLE, Book.RESERVED, Book.PAID, Book.NEGATIVE_CARRIED}
)
# What a vendor is owed but has not been paid: held, in the reports' words.
HELD_BOOKS = (Book.PENDING, Book.AVAILABLE, Book.RESERVED, Book.NEGATIVE_CARRIED)


@dataclass(frozen=True, slots=True, order=True)
class Account:
    holder: str  # a vendor id, or PLATFORM
    book: Book

    def __post_init__(self) -> None:
        if (self.holder == PLATFORM) == (self.book in VENDOR_BOOKS):
            raise ValueError(f"{self.book} is not an account of {self.holder}")

    @classmethod
    def vendor(cls, vendor_id: str, book: Book) -> Account:
        if vendor_id == PLATFORM:
            raise ValueError(f"{PLATFORM!r} is not a vendor id")
        return cls(vendor_id, book)

    @classmethod
    def platform(cls, book: Book) -> Account:
        return cls(PLATFORM, book)

    def __str__(self) -> str:
        return f"{self.holder}:{self.book}"


class EntryKind(StrEnum):
    SALE = "sale"
    RELEASE = "release"
    VOID = "void"
    REFUND = "refund"  # reversal of refunded lines
    REFUND_CASH = "refund_cash"  # the cash of a voided order's refund leaving
    RETURN = "return"
    CHARGEBACK_OPENED = "chargeback_opened"
    CHARGEBACK_LOST = "chargeback_lost"
    CHARGEBACK_WON = "chargeback_won"
    CARRIER_CLAIM = "carrier_claim"
    ADJUSTMENT = "adjustment"
    SUSPENSE_ASSIGNED = "suspense_assigned"
    RESERVE_RELEASE = "reserve_release"
    CARRY = "carry"  # a negative balance moved into negative carried at a cycle
    PAYOUT = "payout"
    PAYOUT_FAILED = "payout_failed"


class UnbalancedEntry(ValueError):
    pass


def idempotency_key(
    tenant: str, currency: str, order_id: str, event_id: str, line: str, kind: str
) -> str:
    """The entry's name: SHA-256 over the whole identity (never truncated), so two facts never
    share a name and one fact always has the same one. The order is part of it because shops
    number lines per order."""
    # JSON keeps the parts apart whatever characters they hold.
    whole = json.dumps([tenant, currency, order_id, event_id, line, kind], ensure_ascii=False)
    return hashlib.sha256(whole.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Posting:
    account: Account
    amount: int  # minor units; positive adds to what the account holds


@dataclass(frozen=True, slots=True)
class Entry:
    """One balanced, immutable fact of the ledger. ``line`` is the order line (``""`` for what
    is not about one line); ``refs`` carries what reports show (order, SKU, refund, dispute)."""

    tenant: str
    currency: str
    kind: EntryKind
    event_id: str
    line: str
    occurred_at: datetime
    postings: tuple[Posting, ...]
    order_id: str = ""
    reason: str = ""
    actor: str = ""
    refs: Mapping[str, str] = field(default_factory=dict)
    key: str = ""

    def __post_init__(self) -> None:
        if not self.postings:
            raise UnbalancedEntry(f"{self.kind} {self.event_id}/{self.line} posts nothing")
        total = sum(p.amount for p in self.postings)
        if total != 0:
            raise UnbalancedEntry(
                f"{self.kind} {self.event_id}/{self.line} does not balance: off by {total}"
            )
        if any(isinstance(p.amount, bool) or not isinstance(p.amount, int) for p in self.postings):
            raise TypeError("postings are integers of minor units")
        if not self.key:
            object.__setattr__(
                self,
                "key",
                idempotency_key(
                    self.tenant, self.currency, self.order_id, self.event_id, self.line, self.kind
                ),
            )

    def amount_for(self, account: Account) -> int:
        return sum(p.amount for p in self.postings if p.account == account)


def entry(
    tenant: str,
    currency: str,
    kind: EntryKind,
    event_id: str,
    line: str,
    at: datetime,
    postings: Iterable[tuple[Account, int]],
    **details: object,
) -> Entry | None:
    """An entry of the non-zero postings (merged per account), or None when nothing moves."""
    merged: dict[Account, int] = defaultdict(int)
    for account, amount in postings:
        merged[account] += amount
    kept = tuple(Posting(a, n) for a, n in sorted(merged.items()) if n)
    if not kept:
        return None
    return Entry(tenant, currency, kind, event_id, line, at, kept, **details)  # type: ignore[arg-type]


class Ledger:
    """Balances folded from entries, per currency and account; each entry counted once."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self._seen: set[str] = set()
        self._balances: dict[tuple[str, Account], int] = defaultdict(int)
        self.entries: list[Entry] = []

    def post(self, item: Entry | None) -> bool:
        """Adds the entry unless one of its key is there already; True if it was added."""
        if item is None:
            return False
        if item.tenant != self.tenant:
            raise ValueError(f"an entry of {item.tenant} in the ledger of {self.tenant}")
        if item.key in self._seen:
            return False
        self._seen.add(item.key)
        self.entries.append(item)
        for p in item.postings:
            self._balances[(item.currency, p.account)] += p.amount
        return True

    def post_all(self, items: Iterable[Entry | None]) -> int:
        return sum(self.post(item) for item in items)

    def __contains__(self, key: str) -> bool:
        return key in self._seen

    def balance(self, currency: str, account: Account) -> int:
        return self._balances.get((currency, account), 0)

    def balances(self) -> dict[tuple[str, Account], int]:
        return {k: v for k, v in self._balances.items() if v}

    def currencies(self) -> set[str]:
        return {currency for currency, _ in self._balances}

    def total(self, currency: str) -> int:
        return sum(v for (c, _), v in self._balances.items() if c == currency)

    def vendors(self, currency: str) -> Iterator[str]:
        seen = {a.holder for (c, a) in self._balances if c == currency and a.holder != PLATFORM}
        yield from sorted(seen)


def vendor_move(
    tenant: str,
    currency: str,
    kind: EntryKind,
    event_id: str,
    vendor_id: str,
    at: datetime,
    moves: Iterable[tuple[Book, int]],
    **refs: str,
) -> Entry | None:
    """An entry between one vendor's own books (a release of reserve, a payout, a carry),
    named by the event and the vendor."""
    return entry(
        tenant,
        currency,
        kind,
        event_id,
        vendor_id,
        at,
        [(Account.vendor(vendor_id, book), amount) for book, amount in moves],
        refs={"vendor": vendor_id, **refs},
    )
