"""What the daily run did about the refunds the engine suggested, and the ids it uses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

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
