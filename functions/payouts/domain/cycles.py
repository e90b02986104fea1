"""Payout cycles: when they run (the tenant's schedule, in its time zone), and what one pays.

A cycle is named by its cut-off's local date. It is written as a draft with one line per vendor
and currency (what was decided), then its payouts are posted (entries keyed by cycle and vendor),
then it is sent to finance; finance confirms it, line by line or whole, and a line that failed
gives its money back to the vendor's balance. Running a cycle again pays nothing twice; a cycle
interrupted half way resumes from its draft lines.
"""

import calendar
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from functions.payouts.domain.ledger import Account, Book, Entry, EntryKind
from functions.payouts.domain.postings import reserve_release
from functions.payouts.domain.settlement import Outcome, decide_from
from functions.payouts.domain.vendors import BankAccount, StripeConnect, Vendor
from shared.tenants import PayoutSettings


class CycleConflict(RuntimeError):
    """The cycle moved on meanwhile (another run, another operator)."""


class CycleStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"  # the instruction went to finance
    CONFIRMED = "confirmed"
    PARTLY_CONFIRMED = "partly_confirmed"
    FAILED = "failed"


class LineStatus(StrEnum):
    HELD = "held"  # nothing paid this cycle (under minimum, negative, on hold, no method)
    PAYABLE = "payable"  # posted as paid, waiting for finance
    PAID = "paid"
    FAILED = "failed"  # finance could not pay: back in the vendor's balance


class CycleLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    vendor_id: str
    currency: str
    outcome: Outcome
    amount: int  # paid when payable; otherwise what stays
    available: int
    carried: int
    held_back: int = 0  # released within the delay days: kept for the next cycle
    # Moved from the vendor's reserve to available by this cycle (part of ``available``):
    # what releases kept back longer ago than the vendor's ``hold.reserve_days``.
    reserve_released: int = 0
    reason: str = ""
    status: LineStatus
    name: str = ""
    method: str = ""  # "bank", "stripe_connect" or "" (none in this currency)
    holder: str = ""
    iban: str = ""
    bic: str = ""
    account_id: str = ""
    emails: tuple[str, ...] = ()
    # Stripe Connect mode: the transfer that paid the line, and the charge it drew on.
    transfer_id: str = ""
    source_transaction: str = ""


class Cycle(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    cycle_id: str
    cutoff: datetime
    status: CycleStatus = CycleStatus.DRAFT
    lines_complete: bool = False
    started_at: datetime
    sent_at: datetime | None = None
    confirmed_at: datetime | None = None
    confirmed_by: str | None = None
    vendors: int = 0
    payable: dict[str, int] = Field(default_factory=dict)  # currency → total payable


# -- when -----------------------------------------------------------------------------------------


def _local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """``hour`` o'clock of ``day`` in ``zone``, as an aware time; across a daylight-saving change
    the wall-clock hour holds (an hour that does not exist is read with the offset before)."""
    return datetime.combine(day, time(hour), tzinfo=zone)


def _cycle_day(settings: PayoutSettings, day: date) -> bool:
    if settings.schedule == "daily":
        return True
    if settings.schedule == "weekly":
        return day.weekday() == settings.weekday
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(settings.day, last)


def latest_cutoff(settings: PayoutSettings, timezone: str, now: datetime) -> datetime:
    """The latest cut-off at or before ``now``: the schedule's day at ``cutoff_hour`` in the
    tenant's time zone."""
    zone = ZoneInfo(timezone)
    day = now.astimezone(zone).date()
    for _ in range(62):
        if _cycle_day(settings, day):
            cutoff = _local(day, settings.cutoff_hour, zone)
            if cutoff <= now:
                return cutoff
        day -= timedelta(days=1)
    raise ValueError("no cut-off in the last two months")  # no schedule skips that long


def cycle_id_for(cutoff: datetime, timezone: str) -> str:
    return cutoff.astimezone(ZoneInfo(timezone)).date().isoformat()


def release_threshold(settings: PayoutSettings, cutoff: datetime) -> datetime:
    """Money released after this waits for a later cycle (the delay days before the cut-off)."""
    return cutoff - timedelta(days=settings.delay_days)


def final_status(lines: list[CycleLine]) -> CycleStatus:
    """After finance's answer: confirmed when every payable line was paid, failed when none was,
    partly confirmed otherwise."""
    paid = [line for line in lines if line.status in (LineStatus.PAID, LineStatus.FAILED)]
    failed = [line for line in paid if line.status is LineStatus.FAILED]
    if not paid or not failed:
        return CycleStatus.CONFIRMED
    if len(failed) == len(paid):
        return CycleStatus.FAILED
    return CycleStatus.PARTLY_CONFIRMED


# -- what --------------------------------------------------------------------------------------


def recent_credit(entries: list[Entry], vendor_id: str, currency: str, since: datetime) -> int:
    """What reached the vendor's ``available`` at or after ``since`` (releases, credits): held
    back until a later cycle. Debits (refunds) always count at once."""
    account = Account.vendor(vendor_id, Book.AVAILABLE)
    return sum(
        max(0, e.amount_for(account))
        for e in entries
        if e.currency == currency and e.occurred_at >= since and e.kind not in _CYCLE_KINDS
    )


_CYCLE_KINDS = frozenset(
    {
        EntryKind.PAYOUT,
        EntryKind.CARRY,
        EntryKind.PAYOUT_FAILED,
        EntryKind.TRANSFER_REVERSAL,
        EntryKind.RESERVE_RELEASE,
    }
)


def reserve_still_held(entries: list[Entry], vendor_id: str, currency: str, since: datetime) -> int:
    """What releases at or after ``since`` kept back in the vendor's reserve: it stays there
    until its ``reserve_days`` have passed (the reserve of older releases is due)."""
    account = Account.vendor(vendor_id, Book.RESERVED)
    return sum(
        max(0, e.amount_for(account))
        for e in entries
        if e.currency == currency and e.occurred_at >= since and e.kind is EntryKind.RELEASE
    )


def reserve_entry(tenant: str, cycle_id: str, line: CycleLine, at: datetime) -> Entry | None:
    """The line's reserve that came due, moved to available before the payout takes it (one
    entry per cycle, vendor and currency: a resumed run posts it once)."""
    if line.reserve_released <= 0:
        return None
    return reserve_release(
        tenant, line.currency, f"reserve:{cycle_id}", line.vendor_id, line.reserve_released, at
    )


def recent_credits(entries: Iterable[Entry], since: datetime) -> dict[tuple[str, str], int]:
    """``recent_credit`` of every vendor and currency at once, in one pass:
    (currency, vendor) → what reached ``available`` at or after ``since``."""
    found: dict[tuple[str, str], int] = {}
    for item in entries:
        if item.occurred_at < since or item.kind in _CYCLE_KINDS:
            continue
        for account, amount in item.moves():
            if amount > 0 and account.book is Book.AVAILABLE:
                key = (item.currency, account.holder)
                found[key] = found.get(key, 0) + amount
    return found


def plan_line(
    vendor: Vendor,
    currency: str,
    available: int,
    carried: int,
    recent: int,
    tenant_minimum: int,
) -> CycleLine:
    """One vendor's line of a cycle in one currency (nothing posted yet)."""
    held_back = min(max(0, recent), max(0, available))
    payable_from = available - held_back
    method = vendor.payout if vendor.payout.currency == currency else None
    minimum = vendor.minimum_payout.get(currency, tenant_minimum)
    details: dict[str, object] = {
        "vendor_id": vendor.vendor_id,
        "currency": currency,
        "available": payable_from,
        "carried": carried,
        "held_back": held_back,
        "name": vendor.name,
        "emails": vendor.emails,
    }
    if isinstance(method, BankAccount):
        details |= {"method": "bank", "holder": method.holder, "iban": method.iban}
        details["bic"] = method.bic_or_derived() or ""
    elif isinstance(method, StripeConnect):
        details |= {"method": "stripe_connect", "account_id": method.account_id}
    decision = decide_from(
        "",
        "",
        vendor.vendor_id,
        currency,
        datetime.min,
        payable_from,
        carried,
        minimum,
        on_hold=vendor.on_hold,
    )
    outcome, reason = decision.outcome, _REASONS[decision.outcome]
    if vendor.on_hold:
        reason = f"on hold: {vendor.hold_reason}"
    elif method is None and outcome is Outcome.PAYABLE:
        outcome, reason = Outcome.NO_PAYOUT_METHOD, f"no payout method in {currency}"
    if outcome is Outcome.UNDER_MINIMUM:
        reason = f"under the minimum payout ({minimum})"
    status = LineStatus.PAYABLE if outcome is Outcome.PAYABLE else LineStatus.HELD
    amount = decision.amount
    return CycleLine.model_validate(
        {**details, "outcome": outcome, "amount": amount, "reason": reason, "status": status}
    )


_REASONS = {
    Outcome.PAYABLE: "",
    Outcome.UNDER_MINIMUM: "under the minimum payout",
    Outcome.NEGATIVE: "negative: recovered from the next cycles",
    Outcome.ON_HOLD: "on hold",
    Outcome.NOTHING: "nothing available",
    Outcome.NO_PAYOUT_METHOD: "no payout method in the currency",
}


def line_entry(tenant: str, cycle_id: str, line: CycleLine, at: datetime) -> Entry | None:
    """What the line posts: the payout of a payable line, the carry of a negative balance."""
    if line.outcome not in (Outcome.PAYABLE, Outcome.NEGATIVE):
        return None
    return decide_from(
        tenant, cycle_id, line.vendor_id, line.currency, at, line.available, line.carried, 0
    ).entry


# -- finance's answer by signed link ------------------------------------------------------------

# What finance may answer for a cycle, or for one vendor's line of it (``sign_action_links``).
MARKS: tuple[str, ...] = ("paid", "failed")
MARKED = {"paid": LineStatus.PAID, "failed": LineStatus.FAILED}


def link_subject(cycle_id: str, currency: str | None = None, vendor_id: str | None = None) -> str:
    """What a finance link is about: ``payouts/<cycle>`` for the whole cycle, or
    ``payouts/<cycle>/<currency>/<vendor>`` for one line (the token is bound to it)."""
    if (currency is None) != (vendor_id is None):
        raise ValueError("a line is named by its currency and its vendor together")
    line = f"/{currency}/{vendor_id}" if currency is not None else ""
    return f"payouts/{cycle_id}{line}"


def answered(lines: Iterable[CycleLine]) -> bool:
    """Finance has answered every payable line (each is paid or failed)."""
    return all(line.status is not LineStatus.PAYABLE for line in lines)
