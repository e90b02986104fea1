"""Which lines of an order the vendors may be paid for, parcel by parcel, and the lines held
back until an operator decides.

The shop says which lines a fulfilment (a parcel) carries; a fulfilment that names none carries
the lines no other parcel names (the order's unshipped lines, whichever order the fulfilments
came in). A line is released when the lifecycle's release step runs (every parcel settled, the
return window over) only if each parcel that carries it was delivered. The other lines are held:

- ``not_shipped``: no parcel carries it;
- ``not_delivered``: a parcel carrying it ended lost, damaged, returned or in an exception;
- ``reshipped``: two parcels or more name it (the shop sent it again): what the vendor is owed
  for it, and whether a claim or a refund settles it, is an operator's call.

A held line moves nothing in the ledger (its net stays in the vendor's ``pending``, never paid)
until an operator releases it (then it is released like any line) or voids it (its sale is
undone, the money waits in refunds clearing). The plan depends on the parcels' facts only, never
on the order they were reported in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from functions.payouts.domain.ledger import Account, Book, Entry, EntryKind, entry
from functions.payouts.domain.postings import Refused


@dataclass(frozen=True, slots=True)
class Parcel:
    """One outbound parcel as the payouts context sees it."""

    tracking_code: str
    line_ids: tuple[str, ...] = ()  # named by the shop; empty: the lines no other names
    delivered: bool = False
    state: str = "fulfilled"  # the carrier's latest word (``delivered`` once delivered)


class HoldReason(StrEnum):
    NOT_SHIPPED = "not_shipped"
    NOT_DELIVERED = "not_delivered"
    RESHIPPED = "reshipped"


@dataclass(frozen=True, slots=True)
class LineHold:
    line_id: str
    reason: HoldReason
    detail: str  # the parcels and their states, for the operator


@dataclass(frozen=True, slots=True)
class ReleasePlan:
    released: tuple[str, ...] = ()
    held: tuple[LineHold, ...] = field(default_factory=tuple)


def carriers_of(line_ids: Sequence[str], parcels: Sequence[Parcel]) -> dict[str, list[Parcel]]:
    """Each line's parcels: those that name it; else, every parcel that names no line."""
    unnamed = sorted((p for p in parcels if not p.line_ids), key=lambda p: p.tracking_code)
    found: dict[str, list[Parcel]] = {}
    for line in line_ids:
        naming = sorted((p for p in parcels if line in p.line_ids), key=lambda p: p.tracking_code)
        found[line] = naming or unnamed
    return found


def _detail(parcels: Sequence[Parcel]) -> str:
    return ", ".join(f"{p.tracking_code} {p.state}" for p in parcels) or "no parcel"


def release_plan(line_ids: Sequence[str], parcels: Sequence[Parcel]) -> ReleasePlan:
    """Of ``line_ids`` (in the order's line order), those whose every parcel was delivered,
    and the others with why they are held."""
    released: list[str] = []
    held: list[LineHold] = []
    carriers = carriers_of(line_ids, parcels)
    for line in line_ids:
        carrying = carriers[line]
        naming = [p for p in carrying if line in p.line_ids]
        if len(naming) > 1:
            held.append(LineHold(line, HoldReason.RESHIPPED, _detail(carrying)))
        elif not carrying:
            held.append(LineHold(line, HoldReason.NOT_SHIPPED, "no parcel carries it"))
        elif all(p.delivered for p in carrying):
            released.append(line)
        else:
            undelivered = [p for p in carrying if not p.delivered]
            held.append(LineHold(line, HoldReason.NOT_DELIVERED, _detail(undelivered)))
    return ReleasePlan(tuple(released), tuple(held))


class HoldStatus(StrEnum):
    OPEN = "open"
    RELEASED = "released"
    VOIDED = "voided"


class Decision(StrEnum):
    RELEASE = "release"
    VOID = "void"


DECIDED = {Decision.RELEASE: HoldStatus.RELEASED, Decision.VOID: HoldStatus.VOIDED}


class Hold(BaseModel):
    """One held line of an order, and the operator's decision once taken."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    order_id: str
    line_id: str
    vendor_id: str
    currency: str
    reason: HoldReason
    detail: str
    held_at: datetime
    status: HoldStatus = HoldStatus.OPEN
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None


def decided(hold: Hold, decision: str, *, reason: str, who: str, at: datetime) -> Hold:
    """The hold as the operator decided it; every reason at once when the decision cannot be
    taken. Taking the same decision again is allowed (a retry finishes what it began)."""
    problems = []
    try:
        target = DECIDED[Decision(decision)]
    except ValueError:
        problems.append(f"a hold is decided by {' or '.join(d.value for d in Decision)}")
        target = None
    if not reason.strip():
        problems.append("a decision on a hold needs a reason")
    if not who.strip():
        problems.append("a decision on a hold needs the operator who takes it")
    if target is not None and hold.status not in (HoldStatus.OPEN, target):
        problems.append(
            f"line {hold.line_id} of order {hold.order_id} was {hold.status.value} already "
            f"by {hold.decided_by}"
        )
    if problems:
        raise Refused(problems)
    assert target is not None
    if hold.status is target:
        return hold
    return hold.model_copy(
        update={
            "status": target,
            "decided_by": who.strip(),
            "decided_at": at,
            "decision_reason": reason.strip(),
        }
    )


# The prefix of a correction's event id: the refund it re-books, under the held line's void.
VOID_CORRECTION = "hold-void:"


def refund_rebooked(item: Entry, at: datetime) -> Entry | None:
    """A held line voided after a refund (or return) took its share from the vendor: the share
    is booked again as that refund's cash leaving refunds clearing, and what the reversal took
    from the vendor, the commission and the fees goes back. The line's balances are then those
    of a void followed by the refund, whichever came first."""
    if item.kind not in (EntryKind.REFUND, EntryKind.RETURN):
        raise ValueError(f"{item.kind} is not a refund's reversal")
    receipts = Account.platform(Book.RECEIPTS)
    refunded = item.amount_for(receipts)
    return entry(
        item.tenant,
        item.currency,
        EntryKind.REFUND_CASH,
        f"{VOID_CORRECTION}{item.event_id}",
        item.line,
        at,
        [
            *((account, -amount) for account, amount in item.moves() if account != receipts),
            (Account.platform(Book.REFUNDS_CLEARING), -refunded),
        ],
        order_id=item.order_id,
        refs={**item.refs, "rebooked": item.kind.value},
    )
