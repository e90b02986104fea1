"""The table stream's consumer: applies each newly stored raw event (the outbox pattern).

Batches arrive filtered to inserted raw events. Failures are reported per record
(``ReportBatchItemFailures``), so the records before a failure are not retried; the mapping
bisects, retries a bounded number of times and then sends the batch's coordinates to the
dead-letter queue, from which ``ecomops events replay --from-dlq`` re-drives it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.webhooks.composition import processor_dependencies
from functions.webhooks.use_cases.process import process
from shared.observability import logger
from shared.raw_events import RawEvent

_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def raw_event_from_stream(record: dict[str, Any]) -> RawEvent:
    return RawEvent.from_item(record["dynamodb"]["NewImage"])


def _record(record: DynamoDBRecord) -> None:
    raw = raw_event_from_stream(record.raw_event)
    logger.append_keys(tenant=raw.tenant, source=raw.source, event_id=raw.event_id)
    outcome = process(raw, processor_dependencies())
    logger.info("processed", extra={"outcome": outcome, "event_type": raw.event_type})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=_record, processor=_processor, context=context
    )
