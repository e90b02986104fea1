"""From the shared kernel's aggregates to the engine's records: what a stored order, payment,
payout and balance transaction mean to the reconciliation (the mapping each record's docstring
in ``model`` describes). Pure: the loader reads the aggregates, this decides what they say."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import UTC, datetime

from functions.reconcile.domain.model import (
    BalanceTxnRecord,
    ChargeRecord,
    DisputeRecord,
    OrderRecord,
    PayoutRecord,
    RefundRecord,
)
from shared.order_aggregate import OrderState
from shared.settlements import BalanceTransaction, PayoutState

# A dispute the merchant has not answered yet has no case; one answered (under review) or
# closed has been handled. Until the chargeback desk keeps cases, that is what "case" means.
_UNANSWERED = frozenset({"needs_response", "warning_needs_response"})


def order_record(state: OrderState, stage: str | None = None) -> OrderRecord | None:
    """``stage`` is the lifecycle's (``WORKFLOW`` item): an order our lifecycle cancelled
    (blocked, rejected in review, not authorised, cancelled by an operator) is cancelled
    whatever the shop has said so far."""
    placed = state.placed
    if placed is None:
        if not state.checkout_expired:
            return None
        return OrderRecord(
            tenant=state.tenant,
            order_id=state.order_id,
            status="failed",
            amount=0,
            currency=state.currency or "",
            placed_at=datetime.min.replace(tzinfo=UTC),
        )
    if state.cancelled_at is not None or stage == "cancelled":
        status = "cancelled"
    elif state.checkout_expired:
        status = "failed"
    elif state.shipments:
        status = "completed"
    else:
        status = "placed"
    value = placed.value
    return OrderRecord(
        tenant=state.tenant,
        order_id=state.order_id,
        status=status,  # type: ignore[arg-type]
        amount=int(value["total"]["amount"]),
        currency=str(value["total"]["currency"]),
        placed_at=placed.at,
        customer_email=(value.get("customer") or {}).get("email"),
    )


def payment_records(
    state: OrderState, cases: AbstractSet[str] | None = None
) -> tuple[list[ChargeRecord], list[RefundRecord], list[DisputeRecord]]:
    """``cases``: the disputes the chargeback desk holds a case for; without it (no desk to
    ask) a dispute someone answered counts as having one."""
    charges, refunds, disputes = [], [], []
    fallback = state.placed_at() or datetime.min.replace(tzinfo=UTC)
    order_id = state.order_id if state.placed is not None or state.payments else None
    for payment in state.payments.values():
        status = {"succeeded": "succeeded", "failed": "failed"}.get(payment.status, "pending")
        charges.append(
            ChargeRecord(
                payment_id=payment.payment_id,
                charge_id=payment.charge_ids[-1] if payment.charge_ids else payment.payment_id,
                order_id=order_id,
                amount=payment.amount,
                currency=payment.currency,
                status=status,  # type: ignore[arg-type]
                captured=payment.settled_amount,
                refunded=payment.refunded,
                created_at=payment.succeeded_at
                or payment.authorized_at
                or payment.failed_at
                or fallback,
            )
        )
        for refund_id, refund in payment.refunds.items():
            refunds.append(
                RefundRecord(
                    refund_id=refund_id,
                    payment_id=payment.payment_id,
                    amount=refund.amount,
                    currency=payment.currency,
                    status=refund.status.value,  # type: ignore[arg-type]
                    created_at=refund.created_at or refund.status.at,
                    charge_id=payment.charge_ids[-1] if payment.charge_ids else None,
                    order_id=order_id,
                    status_at=refund.status.at,
                    failure_reason=refund.failure_reason.value if refund.failure_reason else None,
                )
            )
    for dispute in state.disputes.values():
        disputes.append(
            DisputeRecord(
                dispute_id=dispute.dispute_id,
                charge_id=dispute.charge_id,
                amount=dispute.amount,
                currency=dispute.currency,
                status=dispute.status.value,
                has_case=(
                    dispute.dispute_id in cases
                    if cases is not None
                    else dispute.status.value not in _UNANSWERED
                ),
                opened_at=dispute.opened_at,
                order_id=state.order_id,
                reason=dispute.reason,
            )
        )
    return charges, refunds, disputes


def payout_record(state: PayoutState) -> PayoutRecord | None:
    if state.arrival_date is None or state.currency is None:
        return None
    return PayoutRecord(
        payout_id=state.payout_id,
        amount=state.amount,
        currency=state.currency,
        arrival_date=state.arrival_date.date(),
        status=state.status,  # type: ignore[arg-type]
        statement_descriptor=state.statement_descriptor,
    )


def balance_txn_record(payout_id: str, txn: BalanceTransaction) -> BalanceTxnRecord:
    return BalanceTxnRecord(
        txn_id=txn.id,
        payout_id=payout_id,
        source_id=txn.source_id,
        reporting_category=txn.reporting_category or txn.type,
        amount=txn.amount.amount,
        fee=txn.fee.amount,
        net=txn.net.amount,
        currency=txn.amount.currency,
    )
