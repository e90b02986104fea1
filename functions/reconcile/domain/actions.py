"""What the daily run did about the refunds the engine suggested, and the ids it uses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from functions.reconcile.domain.model import BreakClass
from shared.refund_causes import RefundCause

ActionStatus = Literal[
    "refunded",
    "requested",
    "dry_run",
    "skipped_switch_off",
    "skipped_over_max",
    "already_done",
    "failed",
]


@dataclass(frozen=True, slots=True)
class ActionTaken:
    """One suggested refund and what the daily run did with it (``detail``: the gateway's
    refund id, its error, or why it was skipped)."""

    break_id: str
    kind: Literal["refund"]
    payment_id: str
    charge_id: str
    amount: int
    currency: str
    status: ActionStatus
    detail: str = ""


def refund_id_for(key: str) -> str:
    """The refund request's id for an action's idempotency key: a hash of the whole key, so
    two refunds of one break (one per duplicate charge) never share an id. Refund ids are at
    most 40 of ``[A-Za-z0-9_-]``."""
    return "recon-" + hashlib.sha256(key.encode()).hexdigest()[:32]


# Why a reconciliation refund gives the money back: the gateway hears ``duplicate`` only for a
# payment taken twice, and the customer reads what happened to them.
REFUND_CAUSES: dict[BreakClass, RefundCause] = {
    BreakClass.DUPLICATE_PAYMENT: RefundCause.RECONCILIATION_DUPLICATE,
    BreakClass.CANCELLED_NOT_REFUNDED: RefundCause.RECONCILIATION_CANCELLED,
    BreakClass.CHARGED_ORDER_NOT_COMPLETED: RefundCause.RECONCILIATION_NO_ORDER,
}


def refund_cause(break_class: BreakClass) -> RefundCause:
    """The cause of the refunds a break suggests; a break class with no known cause is a
    programming error, refused here rather than guessed at the gateway."""
    try:
        return REFUND_CAUSES[break_class]
    except KeyError:
        raise ValueError(f"{break_class} breaks do not suggest refunds") from None
