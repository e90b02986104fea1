"""Raw webhooks on the local stack: the front door stores each with the tenant's expiry, and
the archiver function, fired by its hourly schedule, writes the hours that ended to the
archive bucket (the deployed wiring: handler, environment, schedule)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local import template as tpl
from shared import keys
from shared.raw_events import RawEventStore, hour_key
from shared.retention import RAW_TABLE_DEFAULT_DAYS, TTL_ATTRIBUTE
from tests.e2e.helpers import post_shop, shop_order, tenant_file

pytestmark = pytest.mark.local

LONG_AGO = datetime(2001, 1, 1, 8, 30, tzinfo=UTC)  # before any clock a test runs on


def test_webhooks_expire_from_the_table_and_the_hourly_archiver_keeps_them(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "archive-test"
    local_stack.install_tenants(tenant_file(tmp_path, tenant))
    outputs = local_stack.deployment.outputs
    table, bucket = outputs["TableName"], outputs["ArchiveBucket"]

    status, answer = post_shop(local_stack.base_url, tenant, shop_order("o-now", "evt-now"))
    assert status == 200, answer
    item = local_stack.client("dynamodb").get_item(
        TableName=table,
        Key={"PK": {"S": keys.raw_pk(tenant, "shop", "evt-now")}, "SK": {"S": "RAW"}},
    )["Item"]
    received = datetime.fromisoformat(item["received_at"]["S"])
    expected = int(received.timestamp()) + RAW_TABLE_DEFAULT_DAYS * 86_400
    assert int(item[TTL_ATTRIBUTE]["N"]) == expected

    # An event of long ago (stored before the archiver existed): the first run starts there.
    assert RawEventStore(table, bucket).put_new(
        tenant=tenant,
        source="shop",
        event_id="evt-old",
        event_type="order.created",
        body=json.dumps(shop_order("o-old", "evt-old")).encode(),
        received_at=LONG_AGO.isoformat(timespec="microseconds"),
    )
    local_stack.wait_idle(60)
    (schedule,) = [
        s
        for s in tpl.schedules(local_stack.deployment.template)
        if s.rule_logical_id.startswith("IngestionHourly")
    ]
    local_stack.fire(schedule.rule_logical_id)
    s3 = local_stack.client("s3")
    key = hour_key(tenant, "shop", LONG_AGO.replace(minute=0))
    lines = gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).splitlines()
    assert [json.loads(line)["event_id"] for line in lines] == ["evt-old"]
    # The webhook of this hour waits until its hour has ended.
    now_key = hour_key(tenant, "shop", received.replace(minute=0, second=0, microsecond=0))
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"raw/{tenant}/")
    assert now_key not in {o["Key"] for o in listed.get("Contents", [])}
