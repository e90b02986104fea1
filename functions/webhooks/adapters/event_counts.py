"""Counting what ingestion holds: raw events the table still keeps (the tenant's
``retention.raw_event_days``; older ones are in the archive) and orders by the ``ByStatus``
index, and the dead-letter queue's depth (``use_cases.views.stats_view``)."""

from __future__ import annotations

from collections.abc import Iterator

from shared import aws, keys


class DynamoEventCounts:
    def __init__(self, table_name: str, dead_letter_queue: str | None = None) -> None:
        self.table_name = table_name
        self.dead_letter_queue = dead_letter_queue

    def raw_events(self, tenant: str, source: str) -> Iterator[tuple[str, str]]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.raw_index(tenant, source)}},
            ProjectionExpression="#s, event_type",
            ExpressionAttributeNames={"#s": "status"},
        ):
            for item in page["Items"]:
                yield item["status"]["S"], item["event_type"]["S"]

    def orders_with_status(self, tenant: str, status: str) -> int:
        paginator = aws.client("dynamodb").get_paginator("query")
        total = 0
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName="ByStatus",
            Select="COUNT",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.status_index(tenant, status)}},
        ):
            total += page["Count"]
        return total

    def dead_letters(self) -> int | None:
        if not self.dead_letter_queue:
            return None
        attributes = aws.client("sqs").get_queue_attributes(
            QueueUrl=self.dead_letter_queue, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])
