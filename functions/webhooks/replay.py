"""Re-driving stored events: from the dead-letter queue, or by tenant, source and time.

Replays go through ``processing.process``, the very function the stream processor calls, and
the timeline makes an already applied event a no-op: replaying is always safe.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from functions.webhooks.processing import Dependencies, process
from shared import aws
from shared.raw_events import RAW_KIND, RawEvent


@dataclass
class ReplayReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    messages_deleted: int = 0

    def add(self, raw: RawEvent, deps: Dependencies) -> bool:
        try:
            self.outcomes[process(raw, deps)] += 1
            return True
        except Exception as error:  # reported per event; the rest of the replay goes on
            self.failures.append((raw.event_id, f"{type(error).__name__}: {error}"))
            self.outcomes["failed"] += 1
            return False


def replay_since(tenant: str, source: str, since: str, deps: Dependencies) -> ReplayReport:
    report = ReplayReport()
    for raw in deps.raw_events.since(tenant, source, since):
        report.add(raw, deps)
    return report


def _raw_events_of(message: dict[str, Any], table_name: str) -> Iterator[RawEvent]:
    """The raw events a stream on-failure record points at."""
    ddb = aws.client("dynamodb")
    keys = message.get("keys")
    if keys:  # the local runtime adds the records' keys
        for key in keys:
            item = ddb.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")
            if item and item.get("kind", {}).get("S") == RAW_KIND:
                yield RawEvent.from_item(item)
        return
    info = message["DDBStreamBatchInfo"]
    streams = aws.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    end = int(info["endSequenceNumber"])
    while iterator:
        answer = streams.get_records(ShardIterator=iterator, Limit=100)
        for record in answer["Records"]:
            if int(record["dynamodb"]["SequenceNumber"]) > end:
                return
            image = record["dynamodb"].get("NewImage") or {}
            if image.get("kind", {}).get("S") == RAW_KIND:
                yield RawEvent.from_item(image)
        if not answer["Records"]:
            return
        iterator = answer.get("NextShardIterator")


def replay_dead_letters(
    queue_url: str, table_name: str, deps: Dependencies, max_messages: int = 1000
) -> ReplayReport:
    """Process every event the dead-letter queue points at; delete a message once all of its
    events applied, keep it otherwise."""
    sqs = aws.client("sqs")
    report = ReplayReport()
    seen = 0
    while seen < max_messages:
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        )
        messages = answer.get("Messages", [])
        if not messages:
            break
        for message in messages:
            seen += 1
            events = list(_raw_events_of(json.loads(message["Body"]), table_name))
            results = [report.add(raw, deps) for raw in events]
            if all(results):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                report.messages_deleted += 1
    return report
