"""Gateway payouts (settlements) and the balance transactions each one swept: the shapes
webhooks file and reconciliation reads, so neither context reaches into the other.

Payout events merge order-free like orders do (paid and failed are facts with times; the
status is the latest by the gateway's time, and "failed after being paid" stays visible).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from shared.events import PayoutFailed, PayoutPaid
from shared.money import Money


class FeeDetail(BaseModel):
    """One line of a balance transaction's fee (Stripe ``fee_details``): ``stripe_fee``,
    ``application_fee``, ``tax`` (VAT on the fee), ``payment_method_passthrough_fee``…"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    amount: Money
    description: str | None = None


class BalanceTransaction(BaseModel):
    """One Stripe balance transaction, as reconciliation files it (by ``reporting_category``).

    ``reporting_category`` is ``None`` on objects rendered before Stripe introduced it; the
    ``type`` is always there to fall back on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    amount: Money
    fee: Money
    net: Money
    type: str
    reporting_category: str | None = None
    status: str | None = None
    description: str | None = None
    source_id: str | None = None
    created: datetime
    available_on: datetime | None = None
    payout_id: str | None = None
    fee_details: tuple[FeeDetail, ...] = ()
    # The rate the charge was converted at into the balance currency (Stripe's
    # ``exchange_rate``), as the decimal text the gateway sent: never a float.
    exchange_rate: str | None = None


class PayoutState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    payout_id: str
    currency: str | None = None
    amount: int = 0
    arrival_date: datetime | None = None
    statement_descriptor: str | None = None
    paid_at: datetime | None = None
    failed_at: datetime | None = None
    failure_code: str | None = None
    reconciliation_completed: bool = False

    @property
    def status(self) -> str:
        if self.failed_at and (self.paid_at is None or self.failed_at >= self.paid_at):
            return "failed_after_paid" if self.paid_at else "failed"
        return "paid" if self.paid_at else "pending"


def apply_payout(state: PayoutState, event: PayoutPaid | PayoutFailed) -> PayoutState:
    new = state.model_copy(deep=True)
    new.currency = event.amount.currency
    new.amount = max(new.amount, event.amount.amount)
    new.arrival_date = max(filter(None, (new.arrival_date, event.arrival_date)), default=None)
    new.statement_descriptor = new.statement_descriptor or event.statement_descriptor
    if isinstance(event, PayoutPaid):
        new.paid_at = min(filter(None, (new.paid_at, event.occurred_at)))
        new.reconciliation_completed |= event.reconciliation_completed
    else:
        new.failed_at = max(filter(None, (new.failed_at, event.occurred_at)))
        new.failure_code = event.failure_code or new.failure_code
    return new


def summarise(transactions: Iterable[BalanceTransaction]) -> dict[str, dict[str, int]]:
    """Per reporting category: count, gross amount, fees and net, in minor units."""
    totals: dict[str, dict[str, int]] = defaultdict(
        lambda: {"count": 0, "amount": 0, "fee": 0, "net": 0}
    )
    for txn in transactions:
        row = totals[txn.reporting_category or txn.type]
        row["count"] += 1
        row["amount"] += txn.amount.amount
        row["fee"] += txn.fee.amount
        row["net"] += txn.net.amount
    return dict(totals)


class SettledPayout(BaseModel):
    """A payout as reconciliation explains it (its components, signed, and the statement-like
    text) and the bank line it paired it with: what finance's queries read, so that they reuse
    the reconciliation instead of repeating it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payout_id: str
    # (label, count or None, signed amount in minor units), in the order a statement reads.
    components: tuple[tuple[str, int | None, int], ...]
    explanation: str
    bank_line_id: str | None = None
    bank_booking_date: date | None = None
    bank_amount: int | None = None
    matched_by: str | None = None  # "id", "amount", "short" or "excess"
    # Paid, past the grace days, and no bank line: reconciliation's missing settlement.
    missing: bool = False
