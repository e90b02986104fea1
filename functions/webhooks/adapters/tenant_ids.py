"""Every tenant with settings, by the ``ByStatus`` index's ``TENANTS`` list: the ids alone (the
archiver needs no settings, and the index's key attributes are always projected)."""

from __future__ import annotations

from collections.abc import Iterator

from shared import aws, keys


class DynamoTenantIds:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def ids(self) -> Iterator[str]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.TENANTS_INDEX}},
            ProjectionExpression="GSI2SK",
        ):
            for item in page["Items"]:
                yield item["GSI2SK"]["S"]
