from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.risk.adapters.velocity import DynamoVelocity, partition_key
from functions.risk.ports import VelocityPort
from shared import aws
from tests.risk_fakes import InMemoryVelocity

TABLE = "risk-velocity-test"
KEYS = {"email": "ann@example.com", "ip": "8.8.8.8", "card": "fp_1"}
AT = datetime(2026, 11, 23, 10, 59, 30, tzinfo=UTC)  # a Monday


@pytest.fixture
def ddb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # DynamoDB applies one UpdateItem's ADD atomically; moto reads, modifies and writes without
    # a lock, so concurrent updates of one item lose counts there. Serialise moto's writes to
    # test our code against the store's real guarantee.
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    for name in ("update_item", "put_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    aws.reset()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
        )
        yield client
    aws.reset()
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(params=["dynamo", "memory"])
def port(request: pytest.FixtureRequest, ddb: Any) -> VelocityPort:
    return DynamoVelocity(TABLE) if request.param == "dynamo" else InMemoryVelocity()


def test_screened_order_not_counted_and_retry_is_idempotent(port: VelocityPort) -> None:
    first = port.observe("demo", "o1", KEYS, AT, 500)
    assert first.get("email", "1h").orders == 0
    again = port.observe("demo", "o1", KEYS, AT, 500)
    assert again == first  # a retried screening neither counts itself nor double-counts
    second = port.observe("demo", "o2", KEYS, AT, 700)
    assert second.get("email", "1h").orders == 1
    assert second.get("card", "7d").amount == 500
    third = port.observe("demo", "o3", KEYS, AT, 1)
    assert (third.get("ip", "1d").orders, third.get("ip", "1d").amount) == (2, 1200)
    other = port.observe("other", "o4", KEYS, AT, 1)
    assert other.get("email", "1h").orders == 0  # tenants never share counters


def test_window_boundaries(port: VelocityPort) -> None:
    port.observe("demo", "o1", KEYS, AT, 100)
    next_hour = port.observe("demo", "o2", KEYS, AT + timedelta(seconds=30), 100)
    assert next_hour.get("email", "1h").orders == 0  # 11:00:00 opens a new hour bucket
    assert next_hour.get("email", "1d").orders == 1
    last_second = port.observe(
        "demo", "o3", KEYS, datetime(2026, 11, 29, 23, 59, 59, tzinfo=UTC), 1
    )
    assert last_second.get("email", "7d").orders == 2  # still the week of Monday the 23rd
    assert last_second.get("email", "1d").orders == 0
    next_week = port.observe("demo", "o4", KEYS, datetime(2026, 11, 30, tzinfo=UTC), 1)
    assert next_week.get("email", "7d").orders == 0


def test_concurrent_screening_counts_every_order(port: VelocityPort) -> None:
    def screen(i: int) -> int:
        return port.observe("demo", f"o{i}", KEYS, AT, 10).get("card", "1h").orders

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(screen, range(40)))
    assert all(0 <= s < 40 for s in seen)
    final = port.observe("demo", "final", KEYS, AT, 10)
    assert final.get("card", "1h").orders == 40
    assert final.get("card", "1h").amount == 400


def test_items_carry_ttl_beyond_their_window(ddb: Any) -> None:
    DynamoVelocity(TABLE).observe("demo", "o1", {"email": "ann@example.com"}, AT, 5)
    items = ddb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": partition_key("demo", "email", "ann@example.com")}},
    )["Items"]
    by_window = {i["SK"]["S"].split("#")[0]: i for i in items}
    assert sorted(by_window) == ["1d", "1h", "7d"]
    hour_start = int(datetime(2026, 11, 23, 10, tzinfo=UTC).timestamp())
    assert int(by_window["1h"]["expires_at"]["N"]) == hour_start + 2 * 3600
    assert by_window["1h"]["SK"]["S"] == "1h#2026-11-23T10:00:00Z"
    assert by_window["7d"]["SK"]["S"] == "7d#2026-11-23T00:00:00Z"
    for window, length in (("1h", 3600), ("1d", 86_400), ("7d", 604_800)):
        assert int(by_window[window]["expires_at"]["N"]) > AT.timestamp() + length / 2
    assert "ann@example.com" not in str(items)  # hashed, never raw
