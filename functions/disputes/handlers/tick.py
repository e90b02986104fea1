"""The chargeback desk's hourly tick: reminders of evidence deadlines (5, 2 and 1 days before,
while not submitted). An EventBridge event's ``time`` is the tick's instant.

Settings: ``functions.disputes.composition.DisputesSettings``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from functions.disputes.composition import CLOCK, DisputesSettings, ports_for
from functions.disputes.use_cases.deadlines import remind
from shared.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = datetime.fromisoformat(event["time"]) if event.get("time") else CLOCK.now()
    reminded = remind(ports_for(DisputesSettings.from_env()), now)
    return {"reminded": [asdict(r) for r in reminded]}
