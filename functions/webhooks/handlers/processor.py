"""The table stream's consumer: applies each newly stored raw event (the outbox pattern).

Batches arrive filtered to inserted raw events. Failures are reported per record
(``ReportBatchItemFailures``), so the records before a failure are not retried; the mapping
bisects, retries a bounded number of times and then sends the batch's coordinates to the
dead-letter queue, from which ``ecomops events replay --from-dlq`` re-drives it.
"""

from __future__ import annotations

from typing import Any, TypedDict

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.webhooks.composition import processor_dependencies
    from functions.webhooks.use_cases.process import process
    from shared.observability import logger
    from shared.raw_events import RawEvent


class ItemFailure(TypedDict):
    itemIdentifier: str


class PartialBatchResponse(TypedDict):
    batchItemFailures: list[ItemFailure]


class BatchFailed(Exception):
    """Every record of the batch failed: the invocation fails, and the whole batch is retried."""


def raw_event_from_stream(record: dict[str, Any]) -> RawEvent:
    return RawEvent.from_item(record["dynamodb"]["NewImage"])


def _record(record: dict[str, Any]) -> None:
    raw = raw_event_from_stream(record)
    logger.append_keys(tenant=raw.tenant, source=raw.source, event_id=raw.event_id)
    outcome = process(raw, processor_dependencies())
    logger.info("processed", extra={"outcome": outcome, "event_type": raw.event_type})


# Partial batch responses by hand, as Powertools' BatchProcessor gives them (every record tried,
# the failed ones reported by sequence number, a batch that failed whole raised): its batch
# utility loads asyncio and, with pydantic installed, every event source's parser models, a
# sixth of this function's cold start for a loop of ten lines.
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> PartialBatchResponse:
    records = event["Records"]
    failures: list[ItemFailure] = []
    for record in records:
        try:
            _record(record)
        except Exception:
            logger.exception(
                "record failed", extra={"sequence": record["dynamodb"]["SequenceNumber"]}
            )
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    if records and len(failures) == len(records):
        raise BatchFailed(f"all {len(records)} records failed")
    return {"batchItemFailures": failures}
