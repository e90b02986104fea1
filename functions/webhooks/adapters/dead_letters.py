"""The processor's dead-letter queue (SQS) and what its messages point at.

A stream on-failure record carries the batch's coordinates (shard, first and last sequence
numbers): its raw events are read back from the stream (24 h retention). The local runtime adds
the records' keys, read back from the table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from shared import aws
from shared.raw_events import RAW_KIND, RawEvent


class SqsDeadLetters:
    def __init__(self, queue_url: str, table_name: str) -> None:
        self.queue_url = queue_url
        self.table_name = table_name

    def receive(self) -> list[dict[str, Any]]:
        answer = aws.client("sqs").receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    def delete(self, message: dict[str, Any]) -> None:
        aws.client("sqs").delete_message(
            QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )

    def events_of(self, message: dict[str, Any]) -> Iterator[RawEvent]:
        """The raw events a stream on-failure record points at."""
        record = json.loads(message["Body"])
        ddb = aws.client("dynamodb")
        keys = record.get("keys")
        if keys:  # the local runtime adds the records' keys
            for key in keys:
                item = ddb.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get(
                    "Item"
                )
                if item and item.get("kind", {}).get("S") == RAW_KIND:
                    yield RawEvent.from_item(item)
            return
        info = record["DDBStreamBatchInfo"]
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
            for stream_record in answer["Records"]:
                if int(stream_record["dynamodb"]["SequenceNumber"]) > end:
                    return
                image = stream_record["dynamodb"].get("NewImage") or {}
                if image.get("kind", {}).get("S") == RAW_KIND:
                    yield RawEvent.from_item(image)
            if not answer["Records"]:
                return
            iterator = answer.get("NextShardIterator")
