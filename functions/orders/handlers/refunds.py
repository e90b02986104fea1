"""The refund workflow's steps function: one Lambda, one action per state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.orders import contracts as c
    from functions.orders.composition import ports_from_env
    from functions.orders.use_cases import refunds
    from shared.observability import logger

STEPS: dict[c.RefundAction, Callable[..., Any]] = {
    c.RefundAction.PREPARE: refunds.prepare,
    c.RefundAction.SUBMIT: refunds.submit,
    c.RefundAction.WAIT: refunds.wait,
    c.RefundAction.COMPLETE: refunds.complete,
    c.RefundAction.UNCONFIRMED: refunds.unconfirmed,
    c.RefundAction.FAIL: refunds.fail,
    c.RefundAction.COVERED: refunds.covered,
}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(
        tenant=event.get("tenant"),
        order_id=event.get("order_id"),
        refund_id=event.get("refund_id"),
        action=event.get("action"),
    )
    try:
        action = c.RefundAction(event.get("action", ""))
    except ValueError:
        raise ValueError(f"unknown refund action {event.get('action')!r}") from None
    step = c.REFUND_INPUTS[action].model_validate(event)
    result = STEPS[action](ports_from_env(), step)
    return result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)
