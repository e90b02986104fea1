"""The operators' entry points to raw webhooks, run as an operator runs them (a separate
process against moto's server): ``events archive`` writes the hours that ended, ``events
replay`` finds what only the archive still holds, ``events stats`` counts what the table
holds without an ``applied`` status."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from local.stack import free_port
from shared import aws, keys
from shared.raw_events import RawEventStore
from shared.tenants import TenantDirectory, TenantSettings
from tests.cli_runs import ecomops
from tests.component.conftest import create_table
from tests.e2e.helpers import shop_order

TABLE, BUCKET = "ecomops-cli", "ecomops-archive-cli"
LONG_AGO = datetime(2001, 1, 1, 8, 30, tzinfo=UTC)  # before any clock a test runs on
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_REGION": "eu-west-1", **KEYS}
    for name, value in {**env, "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    aws.reset()
    create_table(boto3.client("dynamodb"), TABLE)
    boto3.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    template = {
        "Resources": {"Alerts": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {
            "TableName": {"Value": TABLE},
            "ArchiveBucket": {"Value": BUCKET},
            "ApiUrl": {"Value": "https://api.prod.example/"},
        },
    }
    boto3.client("cloudformation").create_stack(
        StackName="EcomOps",
        TemplateBody=json.dumps(template),
        Tags=[{"Key": "stage", "Value": "prod"}],
    )
    try:
        yield env
    finally:
        aws.reset()
        server.stop()


def test_archive_then_replay_beyond_the_table_then_stats(
    deployed: dict[str, str], tmp_path: Path
) -> None:
    TenantDirectory(TABLE).save(
        TenantSettings(
            id="acme", name="Acme", currency="USD", customer_sender="Acme <orders@acme.example>"
        )
    )
    store = RawEventStore(TABLE, BUCKET)
    for i, event_id in enumerate(("evt-1", "evt-2")):
        assert store.put_new(
            tenant="acme",
            source="shop",
            event_id=event_id,
            event_type="order.created",
            body=json.dumps(shop_order(f"o-{i}", event_id)).encode(),
            received_at=(LONG_AGO + timedelta(minutes=i)).isoformat(timespec="microseconds"),
            keep_days=35,
        )

    archived = ecomops("events", "archive", home=tmp_path, **deployed)
    assert archived.code == 0, archived.stderr
    assert "archived 2 events of 1 tenants in 1 objects" in archived.stdout
    # The table lets them go (moto runs no TTL): only the archive holds them now.
    ddb = boto3.client("dynamodb")
    for event_id in ("evt-1", "evt-2"):
        ddb.delete_item(
            TableName=TABLE,
            Key={"PK": {"S": keys.raw_pk("acme", "shop", event_id)}, "SK": {"S": "RAW"}},
        )

    since = (LONG_AGO - timedelta(hours=1)).isoformat()
    args = ("events", "replay", "--tenant", "acme", "--source", "shop", "--since", since)
    replayed = ecomops(*args, home=tmp_path, **deployed)
    assert replayed.code == 0, replayed.stderr
    assert "replayed: applied=2" in replayed.stdout
    again = ecomops(*args, home=tmp_path, **deployed)
    assert "replayed: applied=2" in again.stdout  # applied once: the orders say so
    orders = ddb.scan(TableName=TABLE)["Items"]
    assert {i["PK"]["S"] for i in orders if i["SK"]["S"] == "ORDER"} >= {
        keys.order_pk("acme", "o-0"),
        keys.order_pk("acme", "o-1"),
    }

    bad = ecomops(*args[:-1], "yesterday", home=tmp_path, **deployed)
    assert bad.code == 2 and "--since 'yesterday'" in bad.stdout + bad.stderr

    stats = ecomops("events", "stats", "--tenant", "acme", "--json", home=tmp_path, **deployed)
    assert json.loads(stats.stdout)["raw_events_total"] == 0  # the archive holds them
