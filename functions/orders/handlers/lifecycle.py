"""The order lifecycle state machine's steps function: one Lambda, one action per state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.orders import contracts as c
    from functions.orders.composition import ports_from_env
    from functions.orders.use_cases import lifecycle, reviews
    from shared.observability import logger

STEPS: dict[c.LifecycleAction, Callable[..., Any]] = {
    c.LifecycleAction.SCREEN: lifecycle.screen,
    c.LifecycleAction.SCREEN_AND_WAIT: lifecycle.screen_and_wait,
    c.LifecycleAction.HOLD: lifecycle.hold,
    c.LifecycleAction.DECIDE: lifecycle.decide,
    c.LifecycleAction.WAIT: lifecycle.wait,
    c.LifecycleAction.STAGE: lifecycle.stage,
    c.LifecycleAction.CANCEL: lifecycle.cancel,
    c.LifecycleAction.CAPTURE: lifecycle.capture,
    c.LifecycleAction.RELEASE: lifecycle.release,
    c.LifecycleAction.MOVEMENT: lifecycle.check_movement,
    c.LifecycleAction.REVIEW_CHECKPOINT: reviews.checkpoint,
}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(
        tenant=event.get("tenant"), order_id=event.get("order_id"), action=event.get("action")
    )
    try:
        action = c.LifecycleAction(event.get("action", ""))
    except ValueError:
        raise ValueError(f"unknown lifecycle action {event.get('action')!r}") from None
    step = c.LIFECYCLE_INPUTS[action].model_validate(event)
    result = STEPS[action](ports_from_env(), step)
    return result.model_dump(mode="json") if hasattr(result, "model_dump") else dict(result)
