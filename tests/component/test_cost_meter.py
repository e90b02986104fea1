"""The cost meter counts, on moto, the write units a planted set of writes costs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.costs.meter import Meter
from shared import aws
from tests.component.conftest import TABLE


@pytest.fixture
def meter(aws_env: dict[str, Any]) -> Iterator[Meter]:
    metered = Meter()
    metered.meter_dynamodb_writes()
    metered.meter_clients()
    try:
        yield metered
    finally:
        metered.uninstall()


def test_writes_and_reads_are_counted_as_dynamodb_bills_them(meter: Meter) -> None:
    ddb = aws.client("dynamodb")
    blob = {"S": "x" * 1500}
    # 2 units on the table, 2 on ByStatus (its keys are there, "body" is projected)
    ddb.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "T#a"},
            "SK": {"S": "1"},
            "GSI2PK": {"S": "s"},
            "GSI2SK": {"S": "1"},
            "body": blob,
        },
    )
    # 2 units on the table, 1 on ByStatus: the index keeps the keys, not the aggregate
    ddb.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "T#a"},
            "SK": {"S": "2"},
            "GSI2PK": {"S": "s"},
            "GSI2SK": {"S": "2"},
            "state_z": {"B": b"x" * 1500},
        },
    )
    # the larger image (2 units); ByStatus rewritten with the smaller projection (2 units)
    ddb.update_item(
        TableName=TABLE,
        Key={"PK": {"S": "T#a"}, "SK": {"S": "1"}},
        UpdateExpression="REMOVE body",
    )
    # a failed condition still costs the table its unit
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(
            TableName=TABLE,
            Item={"PK": {"S": "T#a"}, "SK": {"S": "1"}},
            ConditionExpression="attribute_not_exists(PK)",
        )
    # a transaction pays double: 2 items of under 1 KB
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "T#a"}, "SK": {"S": f"t{i}"}}}}
            for i in range(2)
        ]
    )
    ddb.get_item(TableName=TABLE, Key={"PK": {"S": "T#a"}, "SK": {"S": "1"}})

    counts = meter.snapshot()
    assert counts.write_units[("", "table")] == 2 + 2 + 2 + 1 + 2 * 2
    assert counts.write_units[("", "ByStatus")] == 2 + 1 + 2
    assert counts.read_units == 0.5
    assert counts.requests[("dynamodb", "PutItem")] == 3
    assert counts.requests[("dynamodb", "TransactWriteItems")] == 1
