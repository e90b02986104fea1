"""Raw webhooks on moto: stored with the tenant's expiry, archived an hour at a time, replayed
from the archive once the table let them go, and applied without a second write.

moto does not run DynamoDB's TTL: ``expire`` deletes what the TTL would have deleted by then.
"""

from __future__ import annotations

import gzip
import json
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.webhooks.adapters.tenant_ids import DynamoTenantIds
from functions.webhooks.composition import event_stats
from functions.webhooks.use_cases.archive import archive_ended_hours
from functions.webhooks.use_cases.process import Dependencies, process
from functions.webhooks.use_cases.replay import replay_since
from shared import keys
from shared.order_store import OrderStore
from shared.raw_events import RawEvent, RawEventStore, hour_key
from shared.retention import RAW_TABLE_DEFAULT_DAYS, TTL_ATTRIBUTE
from shared.settlement_store import SettlementStore
from shared.tenants import RetentionSettings, TenantDirectory, TenantSettings
from tests.clocks import FixedClock
from tests.component.conftest import ARCHIVE, TABLE
from tests.component.test_ingress import SECRETS, call, sign
from tests.e2e.helpers import shop_order

T0 = datetime(2026, 9, 1, 8, 15, tzinfo=UTC)


def store() -> RawEventStore:
    return RawEventStore(TABLE, ARCHIVE)


def receive(event_id: str, at: datetime, *, keep_days: int = 35, source: str = "shop") -> None:
    body = json.dumps(shop_order(f"o-{event_id}", event_id)).encode()
    assert store().put_new(
        tenant="acme",
        source=source,
        event_id=event_id,
        event_type="order.created",
        body=body,
        received_at=at.isoformat(timespec="microseconds"),
        keep_days=keep_days,
    )


def expire(ddb: Any, now: datetime) -> int:
    """Delete what DynamoDB's TTL would have deleted by ``now``."""
    gone = 0
    for item in ddb.scan(TableName=TABLE)["Items"]:
        ttl = item.get(TTL_ATTRIBUTE, {}).get("N")
        if ttl is not None and int(ttl) <= now.timestamp():
            ddb.delete_item(TableName=TABLE, Key={"PK": item["PK"], "SK": item["SK"]})
            gone += 1
    return gone


def save_tenant(**retention: Any) -> None:
    TenantDirectory(TABLE).save(
        TenantSettings(
            id="acme",
            name="Acme",
            currency="USD",
            customer_sender="Acme <orders@acme.example>",
            retention=RetentionSettings(**retention),
        )
    )


def deps(now: datetime) -> Dependencies:
    return Dependencies(
        raw_events=store(),
        orders=OrderStore(TABLE),
        settlements=SettlementStore(TABLE),
        gateway_for=lambda tenant: None,  # type: ignore[arg-type,return-value]
        clock=FixedClock(now),
    )


def objects(s3: Any) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for item in s3.list_objects_v2(Bucket=ARCHIVE).get("Contents", []):
        if item["Key"].endswith(".jsonl.gz"):
            data = gzip.decompress(s3.get_object(Bucket=ARCHIVE, Key=item["Key"])["Body"].read())
            found[item["Key"]] = [json.loads(line) for line in data.splitlines()]
    return found


# -- the front door's expiry -------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "days"), [(None, RAW_TABLE_DEFAULT_DAYS), (20, 20)])
def test_the_front_door_stores_a_webhook_until_the_tenants_period_ends(
    aws_env: dict[str, Any], setting: int | None, days: int
) -> None:
    if setting is not None:
        save_tenant(raw_event_days=setting)
    body = json.dumps(shop_order("o-1", "evt-1")).encode()
    headers, query = sign("shop", body, SECRETS["shop"], int(time.time()))
    status, _ = call("shop", body, headers, query)
    assert status == 200
    item = aws_env["ddb"].get_item(
        TableName=TABLE, Key={"PK": {"S": keys.raw_pk("acme", "shop", "evt-1")}, "SK": {"S": "RAW"}}
    )["Item"]
    received = datetime.fromisoformat(item["received_at"]["S"])
    assert int(item[TTL_ATTRIBUTE]["N"]) == int(received.timestamp()) + days * 86_400


def test_a_tenants_period_is_refused_outside_its_bounds() -> None:
    with pytest.raises(ValueError, match="raw_event_days"):
        RetentionSettings(raw_event_days=7)
    with pytest.raises(ValueError, match="raw_event_days"):
        RetentionSettings(raw_event_days=401)


# -- the archiver ------------------------------------------------------------------------------


def test_each_ended_hour_is_one_gzipped_object_per_source_written_once(
    aws_env: dict[str, Any],
) -> None:
    save_tenant()
    receive("a", T0)
    receive("b", T0 + timedelta(minutes=40))  # 08:55
    receive("c", T0 + timedelta(hours=1))  # 09:15
    receive("s", T0, source="stripe")
    big = json.dumps(
        {**shop_order("o-big", "big"), "pad": random.Random(1).randbytes(3000).hex()}
    ).encode()
    assert RawEventStore(TABLE, ARCHIVE, inline_limit=1_000).put_new(
        tenant="acme",
        source="shop",
        event_id="big",
        event_type="order.created",
        body=big,
        received_at=(T0 + timedelta(minutes=1)).isoformat(timespec="microseconds"),
    )
    clock = FixedClock(T0 + timedelta(hours=1, minutes=10))  # 09:25: 8-9 settled, 9-10 not
    report = archive_ended_hours(DynamoTenantIds(TABLE).ids(), store(), clock)
    assert (report.tenants, report.objects_written, report.events) == (1, 2, 4)
    found = objects(aws_env["s3"])
    eight = T0.replace(minute=0)
    assert sorted(found) == [hour_key("acme", "shop", eight), hour_key("acme", "stripe", eight)]
    lines = found[hour_key("acme", "shop", eight)]
    assert [line["event_id"] for line in lines] == ["a", "big", "b"]
    assert json.loads(lines[0]["body"]) == shop_order("o-a", "a")  # the body as sent
    assert "body" not in lines[1] and lines[1]["archive_key"].startswith("raw/acme/shop/")
    assert store().archived_through("acme") == T0.replace(minute=0) + timedelta(hours=1)

    clock.advance(timedelta(hours=1))
    assert archive_ended_hours(["acme"], store(), clock).objects_written == 1  # 9-10: "c"
    # An hour is never written twice, even when asked to again.
    assert not store().archive_hour("acme", "shop", eight, [])
    assert [
        line["event_id"] for line in objects(aws_env["s3"])[hour_key("acme", "shop", eight)]
    ] == [
        "a",
        "big",
        "b",
    ]


# -- replays -----------------------------------------------------------------------------------


def test_a_window_partly_beyond_the_table_is_replayed_from_the_archive_idempotently(
    aws_env: dict[str, Any],
) -> None:
    save_tenant()
    receive("old-1", T0)
    receive("old-2", T0 + timedelta(minutes=5), source="stripe")  # another source: not replayed
    receive("old-3", T0 + timedelta(hours=2))
    archive_ended_hours(["acme"], store(), FixedClock(T0 + timedelta(hours=3)))
    now = T0 + timedelta(days=50)
    receive("recent", now - timedelta(days=1))  # in the table, not archived yet
    assert expire(aws_env["ddb"], now) == 3  # the table let the old ones go
    assert store().get("acme", "shop", "old-1") is None

    report = replay_since("acme", "shop", (T0 - timedelta(hours=1)).isoformat(), deps(now))
    assert report.failures == [] and report.outcomes == Counter({"applied": 3})
    orders = OrderStore(TABLE)
    for event_id in ("old-1", "old-3", "recent"):
        state, version = orders.load("acme", f"o-{event_id}")
        assert version == 1 and state.status() == "pending_payment", event_id
    again = replay_since("acme", "shop", (T0 - timedelta(hours=1)).isoformat(), deps(now))
    assert again.outcomes == Counter({"applied": 3})
    for event_id in ("old-1", "old-3", "recent"):
        assert orders.load("acme", f"o-{event_id}")[1] == 1
        assert len(list(orders.timeline("acme", f"o-{event_id}"))) == 1
    # Marks of events the table let go are not written back.
    assert store().get("acme", "shop", "old-1") is None


def test_since_reads_whole_events_when_the_index_projects_keys_only(
    aws_env: dict[str, Any],
) -> None:
    # As the stack may define it: the index keeps keys only.
    aws_env["ddb"].delete_table(TableName=TABLE)
    _create_keys_only(aws_env["ddb"])
    receive("a", T0)
    receive("b", T0 + timedelta(minutes=1))
    (projected, _) = aws_env["ddb"].query(
        TableName=TABLE,
        IndexName="ByStatus",
        KeyConditionExpression="GSI2PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.raw_index("acme", "shop")}},
    )["Items"]
    assert "body_z" not in projected and "body" not in projected
    events = list(store().since("acme", "shop", T0.isoformat()))
    assert [e.event_id for e in events] == ["a", "b"]
    assert json.loads(store().body_of(events[0])) == shop_order("o-a", "a")


def _create_keys_only(client: Any) -> None:
    names = (
        keys.TABLE.partition_key,
        keys.TABLE.sort_key,
        *(n for i in keys.TABLE.indexes for n in (i.partition_key, i.sort_key)),
    )
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in set(names)],
        KeySchema=[
            {"AttributeName": keys.TABLE.partition_key, "KeyType": "HASH"},
            {"AttributeName": keys.TABLE.sort_key, "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index.name,
                "Projection": {"ProjectionType": "KEYS_ONLY"},
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
            }
            for index in keys.TABLE.indexes
        ],
    )


# -- processing without a second write ---------------------------------------------------------


def test_an_applied_event_is_left_as_stored_and_an_ignored_one_is_marked(
    aws_env: dict[str, Any],
) -> None:
    receive("evt-1", T0)
    key = {"PK": {"S": keys.raw_pk("acme", "shop", "evt-1")}, "SK": {"S": "RAW"}}
    before = aws_env["ddb"].get_item(TableName=TABLE, Key=key)["Item"]
    raw = RawEvent.from_item(before)
    assert process(raw, deps(T0)) == "applied"
    assert aws_env["ddb"].get_item(TableName=TABLE, Key=key)["Item"] == before

    ignored = {"id": "evt_cus", "object": "event", "type": "customer.created", "created": 1}
    assert store().put_new(
        tenant="acme",
        source="stripe",
        event_id="evt_cus",
        event_type="customer.created",
        body=json.dumps({**ignored, "data": {"object": {}}}).encode(),
        received_at=T0.isoformat(),
        keep_days=35,
    )
    assert process(store().get("acme", "stripe", "evt_cus"), deps(T0)) == "ignored"  # type: ignore[arg-type]
    marked = store().get("acme", "stripe", "evt_cus")
    assert marked is not None and marked.status == "ignored" and marked.detail

    stats = event_stats(TABLE, "acme")
    assert stats["raw_events"] == {"stripe": {"ignored": 1}, "shop": {"received": 1}}


def test_the_hourly_function_archives_up_to_the_schedules_instant(
    aws_env: dict[str, Any],
) -> None:
    from functions.webhooks.handlers import archiver
    from tests.component.test_ingress import _Context

    save_tenant()
    long_ago = datetime(2001, 1, 1, 8, 30, tzinfo=UTC)  # before any clock a test runs on
    receive("a", long_ago)
    receive("b", long_ago + timedelta(hours=2))
    scheduled = {"time": (long_ago + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    summary = archiver.handler(scheduled, _Context())
    assert (summary["objects_written"], summary["events"], summary["failed"]) == (1, 1, [])
    assert list(objects(aws_env["s3"])) == [hour_key("acme", "shop", long_ago.replace(minute=0))]


def test_the_tenants_period_is_read_once_in_a_while_and_unreadable_settings_keep_the_longest(
    aws_env: dict[str, Any],
) -> None:
    from functions.webhooks.adapters.intake import TenantRawEventDays
    from shared.retention import RAW_TABLE_LONGEST_DAYS

    save_tenant(raw_event_days=20)
    days = TenantRawEventDays(TABLE)
    assert days.days("acme") == 20
    save_tenant(raw_event_days=50)
    assert days.days("acme") == 20  # cached: a change applies within ttl_s
    assert TenantRawEventDays(TABLE, ttl_s=0).days("acme") == 50
    assert days.days("nobody") == RAW_TABLE_DEFAULT_DAYS
    assert TenantRawEventDays("no-such-table").days("acme") == RAW_TABLE_LONGEST_DAYS
