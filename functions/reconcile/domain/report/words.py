"""The report's words: labels for break classes, priorities, actions and how payouts were
paired, and the label and tone of what the daily run did."""

from __future__ import annotations

from functions.reconcile.domain.model import BreakClass, Priority

# (label, tone): the tone picks the badge colour, the label is what finance reads.
ACTION_STATUSES: dict[str, tuple[str, str]] = {
    "refunded": ("Refunded", "good"),
    "requested": ("Requested, awaiting the gateway", "info"),
    "dry_run": ("Dry run: not sent", "muted"),
    "skipped_switch_off": ("Skipped: automatic refunds are off", "muted"),
    "skipped_over_max": ("Skipped: above the automatic limit", "warn"),
    "already_done": ("Already refunded earlier", "muted"),
    "failed": ("Failed", "bad"),
}


CLASS_LABELS: dict[BreakClass, str] = {
    BreakClass.DUPLICATE_PAYMENT: "Duplicate payment",
    BreakClass.CHARGED_ORDER_NOT_COMPLETED: "Charged, no completed order",
    BreakClass.COMPLETED_NOT_PAID: "Completed, never paid",
    BreakClass.AMOUNT_MISMATCH: "Amount mismatch",
    BreakClass.CANCELLED_NOT_REFUNDED: "Cancelled, not refunded",
    BreakClass.REFUNDED_STILL_ACTIVE: "Refunded, order still active",
    BreakClass.DISPUTE_WITHOUT_CASE: "Dispute without a case",
    BreakClass.REFUND_FAILED: "Refund failed, money held again",
    BreakClass.SHORT_PAYMENT: "Short payment",
    BreakClass.EXCESS_PAYMENT: "Excess payment",
    BreakClass.MISSING_SETTLEMENT: "Missing settlement",
    BreakClass.UNKNOWN_BANK_CREDIT: "Unknown bank credit",
    BreakClass.PAYOUT_FAILED_AFTER_PAID: "Payout failed after paid",
    BreakClass.PAYOUT_COMPOSITION_MISMATCH: "Payout composition mismatch",
}

PRIORITY_LABELS: dict[Priority, str] = {
    Priority.P1: "Act today: money lost or at risk",
    Priority.P2: "Explain this week: money unexplained",
    Priority.P3: "Bookkeeping",
}

ACTION_KIND_LABELS = {
    "refund": "Refund",
    "cancel_order": "Cancel the order",
    "open_dispute_case": "Open a chargeback case",
    "chase_settlement": "Chase the settlement",
    "pay_back_customer": "Pay the customer back another way",
}

SETTLEMENT_METHODS = {
    "id": "matched by reference",
    "amount": "matched by amount and date",
    "short": "paired, short",
    "excess": "paired, excess",
}


def class_label(break_class: BreakClass | str) -> str:
    try:
        return CLASS_LABELS[BreakClass(break_class)]
    except ValueError:
        return str(break_class).replace("_", " ").capitalize()
