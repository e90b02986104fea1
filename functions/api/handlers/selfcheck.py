"""A Step Functions task that leaves evidence only project code can leave.

The self-check state machine calls it; the item it writes carries a proof derived from the run
id with this module's salt, so a test (or an operator after a deploy) can tell that the real
handler ran, not an echo of its input.
"""

from __future__ import annotations

import hashlib
import platform
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from pydantic import BaseModel, Field

    from functions.api.composition import services
    from shared import keys, settings
    from shared.clock import SYSTEM_CLOCK, Clock
    from shared.observability import logger

PROOF_SALT = "ecomops-selfcheck-v1"


class SelfCheckInput(BaseModel):
    run_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")


def proof_for(run_id: str) -> str:
    return hashlib.sha256(f"{PROOF_SALT}:{run_id}".encode()).hexdigest()


def record_selfcheck(
    run_id: str, proofs: Any, function_name: str, clock: Clock = SYSTEM_CLOCK
) -> dict[str, Any]:
    pk, sk = keys.selfcheck_proof(run_id)
    item = {
        "PK": pk,
        "SK": sk,
        "proof": proof_for(run_id),
        "function": function_name,
        "python": platform.python_version(),
        "code_version": settings.code_version(),
        "written_at": clock.now().isoformat(timespec="seconds"),
    }
    proofs.put(item)
    return item


# No X-Ray SDK here: its import was most of this handler's cold start, and Lambda's active
# tracing already records each run, which is all an hourly probe needs.
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SelfCheckInput.model_validate(event)
    item = record_selfcheck(request.run_id, services().proofs(), context.function_name)
    logger.info("self-check recorded", extra={"run_id": request.run_id})
    return {"run_id": request.run_id, "proof": item["proof"], "python": item["python"]}
