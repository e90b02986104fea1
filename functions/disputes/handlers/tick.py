"""The chargeback desk's hourly tick: cases opened on a charge we had not seen linked to their
order once the payment arrived; reminders of evidence deadlines (5, 2 and 1 days before,
while not submitted), and at each tenant's local 06:00 the networks' ratios projected to the
month's end (warnings at 50 % and 75 % of a level). An EventBridge event's ``time`` is the
tick's instant.

Settings: ``functions.disputes.composition.DisputesSettings``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.disputes.composition import CLOCK, DisputesSettings, ports_for
    from functions.disputes.use_cases.deadlines import remind
    from functions.disputes.use_cases.intake import link_unknown_charges
    from functions.disputes.use_cases.ratios import warn_ratios
    from shared.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = datetime.fromisoformat(event["time"]) if event.get("time") else CLOCK.now()
    ports = ports_for(DisputesSettings.from_env())
    linked = link_unknown_charges(ports)
    reminded = remind(ports, now)
    warned = warn_ratios(ports, now)
    return {
        "linked": linked,
        "reminded": [asdict(r) for r in reminded],
        "ratio_warnings": [n.identity for n in warned],
    }
