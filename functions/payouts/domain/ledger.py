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
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

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
        return _account(vendor_id, book)

    @classmethod
    def platform(cls, book: Book) -> Account:
        return _account(PLATFORM, book)

    def __str__(self) -> str:
        return f"{self.holder}:{self.book}"


@lru_cache(maxsize=65_536)
def _account(holder: str, book: Book) -> Account:
    """One object per account: a month's entries share them instead of each holding copies."""
    return Account(holder, book)


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
    TRANSFER_REVERSAL = "transfer_reversal"  # paid money taken back from a Connect transfer


class UnbalancedEntry(ValueError):
    pass


def idempotency_key(
    tenant: str, currency: str, order_id: str, event_id: str, line: str, kind: str
) -> str:
    """The entry's name: SHA-256 over the whole identity (never truncated), so two facts never
    share a name and one fact always has the same one. The order is part of it because shops
    number lines per order."""
    # Each part prefixed by its length: no part's characters can bleed into the next.
    whole = "".join(
        f"{len(part)}:{part}" for part in (tenant, currency, order_id, event_id, line, kind)
    )
    return hashlib.sha256(whole.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Posting:
    account: Account
    amount: int  # minor units; positive adds to what the account holds


class Entry:
    """One balanced, immutable fact of the ledger. ``line`` is the order line (``""`` for what
    is not about one line); ``refs`` carries what reports show (order, SKU, refund, dispute).

    Kept compact (a month of a large marketplace holds millions): the postings and references
    as flat tuples, the key as its 32-byte digest; ``postings``, ``refs`` and ``key`` read them
    back."""

    __slots__ = (
        "_digest",
        "_flat",
        "_refs",
        "actor",
        "currency",
        "event_id",
        "kind",
        "line",
        "occurred_at",
        "order_id",
        "reason",
        "tenant",
    )
    tenant: str
    currency: str
    kind: EntryKind
    event_id: str
    line: str
    occurred_at: datetime
    order_id: str
    reason: str
    actor: str
    _flat: tuple[Account | int, ...]
    _refs: tuple[str, ...]
    _digest: bytes

    def __init__(
        self,
        tenant: str,
        currency: str,
        kind: EntryKind,
        event_id: str,
        line: str,
        occurred_at: datetime,
        postings: Iterable[Posting | tuple[Account, int]],
        order_id: str = "",
        reason: str = "",
        actor: str = "",
        refs: Mapping[str, str] | None = None,
    ) -> None:
        flat: list[Account | int] = []
        total = 0
        for posting in postings:
            account, amount = (
                (posting.account, posting.amount) if isinstance(posting, Posting) else posting
            )
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise TypeError("postings are integers of minor units")
            flat += (account, amount)
            total += amount
        if not flat:
            raise UnbalancedEntry(f"{kind} {event_id}/{line} posts nothing")
        if total != 0:
            raise UnbalancedEntry(f"{kind} {event_id}/{line} does not balance: off by {total}")
        set_ = object.__setattr__
        set_(self, "tenant", tenant)
        set_(self, "currency", currency)
        set_(self, "kind", kind)
        set_(self, "event_id", event_id)
        set_(self, "line", line)
        set_(self, "occurred_at", occurred_at)
        set_(self, "order_id", order_id)
        set_(self, "reason", reason)
        set_(self, "actor", actor)
        set_(self, "_flat", tuple(flat))
        set_(self, "_refs", tuple(v for pair in sorted((refs or {}).items()) for v in pair))
        set_(
            self,
            "_digest",
            bytes.fromhex(idempotency_key(tenant, currency, order_id, event_id, line, kind)),
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"an entry is immutable ({name})")

    @property
    def key(self) -> str:
        """The idempotency key: SHA-256 of the entry's whole identity, in hex."""
        return self._digest.hex()

    @property
    def digest(self) -> bytes:
        return self._digest

    def moves(self) -> Iterator[tuple[Account, int]]:
        """(account, amount) of each posting, without building Posting objects."""
        flat = self._flat
        for i in range(0, len(flat), 2):
            yield flat[i], flat[i + 1]  # type: ignore[misc]

    def flat(self) -> tuple[Account | int, ...]:
        """The postings as one tuple: account, amount, account, amount… (hot loops)."""
        return self._flat

    def flat_refs(self) -> tuple[str, ...]:
        """The references as one tuple: name, value, name, value… sorted by name."""
        return self._refs

    @property
    def postings(self) -> tuple[Posting, ...]:
        return tuple(Posting(account, amount) for account, amount in self.moves())

    @property
    def refs(self) -> dict[str, str]:
        pairs = self._refs
        return {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2)}

    def ref(self, name: str, default: str = "") -> str:
        pairs = self._refs
        for i in range(0, len(pairs), 2):
            if pairs[i] == name:
                return pairs[i + 1]
        return default

    def amount_for(self, account: Account) -> int:
        return sum(amount for held, amount in self.moves() if held == account)

    def _identity(self) -> tuple[object, ...]:
        return (
            self._digest,
            self._flat,
            self._refs,
            self.occurred_at,
            self.reason,
            self.actor,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._digest)

    def __repr__(self) -> str:
        return (
            f"Entry({self.kind}, {self.tenant}/{self.currency}, order={self.order_id!r}, "
            f"event={self.event_id!r}, line={self.line!r}, postings={self.postings}, "
            f"refs={self.refs})"
        )


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
    merged: dict[Account, int] = {}
    for account, amount in postings:
        merged[account] = merged.get(account, 0) + amount
    kept = [(a, n) for a, n in sorted(merged.items(), key=_by_account) if n]
    if not kept:
        return None
    return Entry(tenant, currency, kind, event_id, line, at, kept, **details)  # type: ignore[arg-type]


def _by_account(item: tuple[Account, int]) -> tuple[str, str]:
    return item[0].holder, item[0].book.value


class Ledger:
    """Balances folded from entries, per currency and account; each entry counted once."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self._seen: set[bytes] = set()
        self._balances: dict[tuple[str, Account], int] = defaultdict(int)
        self.entries: list[Entry] = []

    def post(self, item: Entry | None) -> bool:
        """Adds the entry unless one of its key is there already; True if it was added."""
        if item is None:
            return False
        if item.tenant != self.tenant:
            raise ValueError(f"an entry of {item.tenant} in the ledger of {self.tenant}")
        if item.digest in self._seen:
            return False
        self._seen.add(item.digest)
        self.entries.append(item)
        currency = item.currency
        balances = self._balances
        for account, amount in item.moves():
            balances[(currency, account)] += amount
        return True

    def post_all(self, items: Iterable[Entry | None]) -> int:
        return sum(self.post(item) for item in items)

    def __contains__(self, key: str) -> bool:
        return bytes.fromhex(key) in self._seen

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
