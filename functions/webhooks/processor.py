"""The table stream's consumer: applies each newly stored raw event (the outbox pattern).

Batches arrive filtered to inserted raw events. Failures are reported per record
(``ReportBatchItemFailures``), so the records before a failure are not retried; the mapping
bisects, retries a bounded number of times and then sends the batch's coordinates to the
dead-letter queue, from which ``ecomops events replay --from-dlq`` re-drives it.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.orders.starter import LifecycleStarter
from functions.webhooks.processing import Dependencies, process, raw_event_from_stream
from shared.gateway import StripeGateway
from shared.observability import logger
from shared.order_store import OrderStore
from shared.raw_events import RawEventStore
from shared.settlement_store import SettlementStore
from shared.tenant_secrets import TenantSecrets

_processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_secrets = TenantSecrets(parts=("api",))


def _gateway(tenant: str) -> StripeGateway:
    return StripeGateway(_secrets.get(tenant)["stripe"]["api_key"])


def dependencies() -> Dependencies:
    # Keyed by the environment, read on use: one process may host several deployments.
    return _dependencies(
        os.environ["TABLE_NAME"],
        os.environ.get("ARCHIVE_BUCKET"),
        os.environ.get("LIFECYCLE_STATE_MACHINE") or None,
        int(os.environ.get("LIFECYCLE_SECONDS_PER_DAY", "86400")),
    )


@cache
def _dependencies(
    table: str, archive: str | None, lifecycle_arn: str | None, seconds_per_day: int
) -> Dependencies:
    orders = OrderStore(table)
    return Dependencies(
        raw_events=RawEventStore(table, archive),
        orders=orders,
        settlements=SettlementStore(table),
        gateway_for=_gateway,
        lifecycle=(
            LifecycleStarter(table, lifecycle_arn, seconds_per_day, orders)
            if lifecycle_arn
            else None
        ),
    )


def _record(record: DynamoDBRecord) -> None:
    raw = raw_event_from_stream(record.raw_event)
    logger.append_keys(tenant=raw.tenant, source=raw.source, event_id=raw.event_id)
    outcome = process(raw, dependencies())
    logger.info("processed", extra={"outcome": outcome, "event_type": raw.event_type})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=_record, processor=_processor, context=context
    )
