"""The payout cycles function: every hour it runs the cycle of each marketplace tenant whose
cut-off has passed since its last cycle (or resumes an interrupted one); on demand (an event
with ``tenant``: ``ecomops payouts run``) it runs that tenant's cycle now. An event's ``time``
(EventBridge's) is the tick's instant.

Settings: ``functions.payouts.composition.PayoutsSettings``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.payouts.composition import ports_from_env, tenant_directory
    from functions.payouts.ports import Ports
    from functions.payouts.use_cases.cycles import Send, run_due_cycles
    from shared.observability import logger
    from shared.tenants import TenantSettings

if TYPE_CHECKING:
    from functions.payouts.domain.cycles import Cycle, CycleLine


def sender(ports: Ports) -> Any:
    def send_for(tenant: TenantSettings) -> Send:
        def send(cycle: Cycle, lines: list[CycleLine]) -> None:
            # The outputs (SEPA file, statements, e-mail templates) load when a cycle sends:
            # most hourly ticks find no tenant's cut-off passed and send nothing.
            from functions.payouts.use_cases.outputs import send_outputs

            send_outputs(ports, tenant, cycle, lines)

        return send

    return send_for


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ports = ports_from_env()
    directory = tenant_directory()
    now = datetime.fromisoformat(event["time"]) if event.get("time") else ports.clock.now()
    if event.get("tenant"):
        settings = directory.get(event["tenant"])
        if settings is None:
            raise LookupError(f"tenant {event['tenant']!r} has no settings")
        tenants = [settings]
    else:
        tenants = directory.all()
    cycles = run_due_cycles(ports, tenants, sender(ports), now)
    return {
        "cycles": [{"tenant": c.tenant, "cycle": c.cycle_id, "status": c.status} for c in cycles]
    }
