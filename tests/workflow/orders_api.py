"""The orders context's ports on the local stack, as an operator's request would get them."""

from __future__ import annotations

from typing import Any

from functions.orders.composition import ports_with
from functions.orders.ports import Ports


def orders(stack: Any) -> Ports:
    outputs = stack.deployment.outputs
    return ports_with(
        table_name=outputs["TableName"],
        lifecycle_machine=outputs["LifecycleStateMachine"],
        refund_machine=outputs["RefundStateMachine"],
        # The refund waits two "days" for the gateway's confirmation: 30 s here, long enough
        # that a loaded machine never leaves a refund unconfirmed by accident.
        seconds_per_day=15,
        mail_dir=str(stack.mail_dir),
    )
