"""What one payout cycle does for one vendor in one currency.

The payable amount is the vendor's ``available`` plus its ``negative_carried`` (what it owes
from earlier cycles, ≤ 0). At or above the minimum payout it is paid: both books go to zero and
``paid`` grows by the amount. Below the minimum it stays where it is; a negative ``available``
moves into ``negative_carried`` so the next cycles recover it before paying anything. Entries
are keyed by the cycle and the vendor, so a cycle run again posts nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from functions.payouts.domain.ledger import Account, Book, Entry, EntryKind, Ledger, vendor_move


class Outcome(StrEnum):
    PAYABLE = "payable"
    UNDER_MINIMUM = "under_minimum"
    NEGATIVE = "negative"
    ON_HOLD = "on_hold"
    NOTHING = "nothing"
    NO_PAYOUT_METHOD = "no_payout_method"


@dataclass(frozen=True, slots=True)
class Decision:
    vendor_id: str
    currency: str
    outcome: Outcome
    amount: int  # paid when payable; otherwise what stays (available + carried)
    entry: Entry | None


def decide(
    ledger: Ledger,
    cycle_id: str,
    vendor_id: str,
    currency: str,
    at: datetime,
    *,
    minimum: int,
    on_hold: bool = False,
) -> Decision:
    available = ledger.balance(currency, Account.vendor(vendor_id, Book.AVAILABLE))
    carried = ledger.balance(currency, Account.vendor(vendor_id, Book.NEGATIVE_CARRIED))
    return decide_from(
        ledger.tenant, cycle_id, vendor_id, currency, at, available, carried, minimum, on_hold
    )


def decide_from(
    tenant: str,
    cycle_id: str,
    vendor_id: str,
    currency: str,
    at: datetime,
    available: int,
    carried: int,
    minimum: int,
    on_hold: bool = False,
) -> Decision:
    payable = available + carried
    if on_hold:
        return Decision(vendor_id, currency, Outcome.ON_HOLD, payable, None)
    if payable > 0 and payable >= minimum:
        made = vendor_move(
            tenant,
            currency,
            EntryKind.PAYOUT,
            cycle_id,
            vendor_id,
            at,
            [(Book.AVAILABLE, -available), (Book.NEGATIVE_CARRIED, -carried), (Book.PAID, payable)],
            cycle=cycle_id,
        )
        return Decision(vendor_id, currency, Outcome.PAYABLE, payable, made)
    if available < 0:
        made = vendor_move(
            tenant,
            currency,
            EntryKind.CARRY,
            cycle_id,
            vendor_id,
            at,
            [(Book.AVAILABLE, -available), (Book.NEGATIVE_CARRIED, available)],
            cycle=cycle_id,
        )
        return Decision(vendor_id, currency, Outcome.NEGATIVE, payable, made)
    if payable < 0:
        return Decision(vendor_id, currency, Outcome.NEGATIVE, payable, None)
    if payable == 0:
        return Decision(vendor_id, currency, Outcome.NOTHING, 0, None)
    return Decision(vendor_id, currency, Outcome.UNDER_MINIMUM, payable, None)


def payout_failed(
    tenant: str, currency: str, cycle_id: str, vendor_id: str, amount: int, at: datetime
) -> Entry | None:
    """Finance could not pay the vendor's line of a cycle: the money returns to its balance."""
    return vendor_move(
        tenant,
        currency,
        EntryKind.PAYOUT_FAILED,
        cycle_id,
        vendor_id,
        at,
        [(Book.PAID, -amount), (Book.AVAILABLE, amount)],
        cycle=cycle_id,
    )
