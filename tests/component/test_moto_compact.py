"""The benches' compact moto storage (``local.moto_compact`` with ``local.moto_index``) answers
as moto does: the same calls, made through boto3 on a table as the stack defines it, once on
plain moto and once on the compact storage with indexed queries, give the same answers — the
writes the reconciliation makes (conditional puts, updates, batches, transactions, deletes), its
reads (items, partitions and the status index in pages, with filters and projections), and the
stream records that the writes leave."""

from __future__ import annotations

import base64
import functools
import gc
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item

from local.moto_compact import CompactItems, compact_table
from local.moto_index import index_queries, installed, restore_queries
from shared import keys
from tests.component.conftest import create_table

TABLE = "compact-test"
INDEX = next(i for i in keys.TABLE.indexes if i.partition_key == "GSI2PK").name
# Differ run to run on moto alone: ids, the clock, and a stream record's SizeBytes (moto
# measures the record's JSON with its timestamp in it).
VOLATILE = {"ResponseMetadata", "eventID", "ApproximateCreationDateTime", "SizeBytes"}


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(autouse=True)
def plain_moto() -> Iterator[None]:
    """Each test starts on moto's own queries; a local stack this worker started before (which
    installs the indexed ones) gets them back after."""
    was = installed()
    restore_queries()
    yield
    restore_queries()
    if was:
        index_queries()


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def _order(tenant: str, n: int) -> dict[str, Any]:
    return {
        "PK": {"S": f"T#{tenant}#O#o{n:03d}"},
        "SK": {"S": "ORDER"},
        "kind": {"S": "order"},
        "status": {"S": "paid" if n % 3 else "shipped"},
        "GSI2PK": {"S": keys.status_index(tenant, "paid" if n % 3 else "shipped")},
        "GSI2SK": {"S": f"2026-11-20T10:{n % 60:02d}:00+00:00#o{n:03d}"},
        "state_z": {"B": bytes([n % 256]) * (40 + n)},
        "amount": {"N": str(1000 + n * 7)},
        "lines": {"L": [{"M": {"sku": {"S": f"s{n}"}, "qty": {"N": str(n % 4 + 1)}}}]},
        "tags": {"SS": ["a", f"t{n % 5}"]},
        "expires_at": {"N": "1900000000"},
    }


def _note(tenant: str, n: int) -> dict[str, Any]:
    return {
        "PK": {"S": f"T#{tenant}#CHANGED#2026-11-20"},
        "SK": {"S": f"O#o{n:03d}"},
        "kind": {"S": "order_changed"},
        "order_id": {"S": f"o{n:03d}"},
    }


def _pages(ddb: Any, operation: str, arguments: dict[str, Any]) -> list[Any]:
    return list(ddb.get_paginator(operation).paginate(TableName=TABLE, **arguments))


def _calls(ddb: Any, table: Any) -> list[Any]:
    """The same script for both storages; every answer (or error code) in order."""
    answers: list[Any] = []

    def record(call: Callable[[], Any]) -> None:
        try:
            answers.append(_stable(call()))
        except ClientError as error:
            answers.append(("error", error.response["Error"]["Code"]))

    for tenant in ("acme", "bolt"):
        for n in range(25):
            ddb.put_item(TableName=TABLE, Item=_order(tenant, n))
            ddb.put_item(TableName=TABLE, Item=_note(tenant, n))
    key = {"PK": {"S": "T#acme#O#o004"}, "SK": {"S": "ORDER"}}
    # Conditional writes, as the break store and the lifecycle store make them.
    record(
        lambda: ddb.put_item(
            TableName=TABLE,
            Item=_order("acme", 4),
            ConditionExpression="attribute_not_exists(PK)",
        )
    )
    record(
        lambda: ddb.put_item(
            TableName=TABLE,
            Item=_order("acme", 99),
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValues="ALL_OLD",
        )
    )
    record(
        lambda: ddb.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET #s = :s, GSI2PK = :g ADD amount :one REMOVE tags",
            ConditionExpression="#s = :was",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": "refunded"},
                ":g": {"S": keys.status_index("acme", "refunded")},
                ":one": {"N": "1"},
                ":was": {"S": "paid"},
            },
            ReturnValues="ALL_NEW",
        )
    )
    record(
        lambda: ddb.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET #s = :s",
            ConditionExpression="#s = :was",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "x"}, ":was": {"S": "paid"}},
        )
    )
    record(
        lambda: ddb.update_item(
            TableName=TABLE,
            Key={"PK": {"S": "T#acme#BREAK#b1"}, "SK": {"S": "BREAK"}},
            UpdateExpression="SET opened = if_not_exists(opened, :d), seen = list_append("
            "if_not_exists(seen, :empty), :d2)",
            ExpressionAttributeValues={
                ":d": {"S": "2026-11-20"},
                ":d2": {"L": [{"S": "2026-11-20"}]},
                ":empty": {"L": []},
            },
            ReturnValues="UPDATED_NEW",
        )
    )
    record(lambda: ddb.get_item(TableName=TABLE, Key=key))
    record(
        lambda: ddb.get_item(
            TableName=TABLE,
            Key=key,
            ProjectionExpression="amount, #l[0]",
            ExpressionAttributeNames={"#l": "lines"},
        )
    )
    record(lambda: ddb.get_item(TableName=TABLE, Key={"PK": {"S": "nope"}, "SK": {"S": "x"}}))
    # Batches, as the bank store and the loader make them.
    record(
        lambda: ddb.batch_write_item(
            RequestItems={
                TABLE: [
                    {"PutRequest": {"Item": _note("acme", 40)}},
                    {
                        "DeleteRequest": {
                            "Key": {"PK": _note("bolt", 3)["PK"], "SK": _note("bolt", 3)["SK"]}
                        }
                    },
                ]
            }
        )
    )
    record(
        lambda: sorted(
            (
                item
                for item in ddb.batch_get_item(
                    RequestItems={
                        TABLE: {
                            "Keys": [
                                {"PK": {"S": f"T#acme#O#o{n:03d}"}, "SK": {"S": "ORDER"}}
                                for n in (1, 4, 7, 77)
                            ],
                            "ProjectionExpression": "PK, #s, state_z",
                            "ExpressionAttributeNames": {"#s": "status"},
                        }
                    }
                )["Responses"][TABLE]
            ),
            key=lambda item: str(item["PK"]),
        )
    )
    # A transaction that fails rolls back; one that succeeds writes.
    record(
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": _note("acme", 50)}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key,
                        "UpdateExpression": "SET #s = :s",
                        "ConditionExpression": "#s = :was",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":s": {"S": "y"}, ":was": {"S": "paid"}},
                    }
                },
            ]
        )
    )
    record(
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": _note("acme", 51)}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key,
                        "UpdateExpression": "SET #s = :s",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":s": {"S": "closed"}},
                    }
                },
                {
                    "Delete": {
                        "TableName": TABLE,
                        "Key": {"PK": _note("acme", 2)["PK"], "SK": _note("acme", 2)["SK"]},
                    }
                },
            ]
        )
    )
    record(
        lambda: ddb.delete_item(
            TableName=TABLE,
            Key={"PK": _order("bolt", 5)["PK"], "SK": _order("bolt", 5)["SK"]},
            ReturnValues="ALL_OLD",
        )
    )
    # Reads in pages: a partition, the status index, forward and back, filtered, projected.
    for query in (
        {
            "KeyConditionExpression": "PK = :p",
            "ExpressionAttributeValues": {":p": {"S": "T#acme#CHANGED#2026-11-20"}},
            "Limit": 7,
        },
        {
            "KeyConditionExpression": "PK = :p AND begins_with(SK, :b)",
            "ExpressionAttributeValues": {
                ":p": {"S": "T#acme#CHANGED#2026-11-20"},
                ":b": {"S": "O#o01"},
            },
            "ScanIndexForward": False,
            "ProjectionExpression": "order_id",
        },
        {
            "IndexName": INDEX,
            "KeyConditionExpression": "GSI2PK = :p",
            "ExpressionAttributeValues": {":p": {"S": keys.status_index("acme", "paid")}},
            "Limit": 5,
        },
        {
            "IndexName": INDEX,
            "KeyConditionExpression": "GSI2PK = :p AND GSI2SK BETWEEN :a AND :b",
            "FilterExpression": "amount > :m",
            "ExpressionAttributeValues": {
                ":p": {"S": keys.status_index("bolt", "paid")},
                ":a": {"S": "2026-11-20T10:05"},
                ":b": {"S": "2026-11-20T10:20"},
                ":m": {"N": "1070"},
            },
            "ScanIndexForward": False,
            "Limit": 4,
        },
        {
            "IndexName": INDEX,
            "KeyConditionExpression": "GSI2PK = :p",
            "ExpressionAttributeValues": {":p": {"S": keys.status_index("acme", "refunded")}},
        },
        {
            "IndexName": INDEX,
            "KeyConditionExpression": "GSI2PK = :p",
            "ExpressionAttributeValues": {":p": {"S": keys.status_index("nobody", "paid")}},
        },
    ):
        record(functools.partial(_pages, ddb, "query", query))
    record(functools.partial(_pages, ddb, "scan", {"Limit": 13}))
    record(lambda: ddb.describe_table(TableName=TABLE)["Table"]["ItemCount"])
    # The stream records the writes left (what the stream poller delivers).
    record(lambda: [r.to_json() for r in table.stream_shard.items])
    return answers


def _run(compact: bool) -> tuple[list[Any], Any]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(ddb, TABLE)
        table = dynamodb_backends["123456789012"]["us-east-1"].get_table(TABLE)
        if compact:
            # A small table: the dictionary learnt early, so most items are deflated.
            compact_table(table, learn_from=4096)
            index_queries()
        try:
            answers = _calls(ddb, table)
        finally:
            restore_queries()
        return answers, table.items


def test_the_same_calls_answer_the_same_on_moto_and_on_compact_storage(
    credentials: None,
) -> None:
    plain, plain_items = _run(compact=False)
    compact, compact_items = _run(compact=True)
    assert not isinstance(plain_items, CompactItems)
    assert isinstance(compact_items, CompactItems)
    assert len(plain) == len(compact)
    for n, (a, b) in enumerate(zip(plain, compact, strict=True)):
        assert a == b, f"call {n} answered differently"
    # The script did reach every kind of answer: errors, items, pages, records.
    assert ("error", "ConditionalCheckFailedException") in plain
    assert ("error", "TransactionCanceledException") in plain
    assert any(isinstance(a, list) and len(a) > 1 for a in plain)  # several pages
    # The blobs are deflated once the store has seen enough to learn its dictionary.
    blobs = [blob for rows in compact_items.rows.values() for blob in rows.values()]
    assert {blob[:1] for blob in blobs} == {b"r", b"z"}


def test_compact_items_read_back_what_was_loaded_and_index_it(credentials: None) -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(ddb, TABLE)
        table = dynamodb_backends["123456789012"]["us-east-1"].get_table(TABLE)
        store = compact_table(table)
        index_queries()
        try:
            for n in range(300):
                store.load(_order("acme", n))
            paid = keys.status_index("acme", "paid")
            pages = list(
                ddb.get_paginator("query").paginate(
                    TableName=TABLE,
                    IndexName=INDEX,
                    KeyConditionExpression="GSI2PK = :p",
                    ExpressionAttributeValues={":p": {"S": paid}},
                )
            )
            got = [item for page in pages for item in page["Items"]]
            assert len(got) == 200  # n % 3 != 0
            first = ddb.get_item(
                TableName=TABLE, Key={"PK": {"S": "T#acme#O#o001"}, "SK": {"S": "ORDER"}}
            )["Item"]
            # An update moving an item to another index value moves it in the store's map.
            ddb.update_item(
                TableName=TABLE,
                Key={"PK": {"S": "T#acme#O#o001"}, "SK": {"S": "ORDER"}},
                UpdateExpression="SET GSI2PK = :g",
                ExpressionAttributeValues={":g": {"S": keys.status_index("acme", "refunded")}},
            )
            # Reads leave nothing behind: moto's registry of the items it builds keeps none.
            tracked = len(Item.instances_tracked)  # type: ignore[attr-defined]
            ddb.query(
                TableName=TABLE,
                IndexName=INDEX,
                KeyConditionExpression="GSI2PK = :p",
                ExpressionAttributeValues={":p": {"S": paid}},
                ProjectionExpression="PK, amount",
            )
            assert len(Item.instances_tracked) == tracked  # type: ignore[attr-defined]
            decoded = weakref.ref(store.decode(store.rows["T#acme#O#o002"]["ORDER"]))
            gc.collect()
            assert decoded() is None
        finally:
            restore_queries()
    loaded = _order("acme", 1)
    assert first["state_z"]["B"] == loaded["state_z"]["B"]
    assert first["lines"] == loaded["lines"]
    assert base64.b64encode(loaded["state_z"]["B"]) != loaded["state_z"]["B"]
    by_status = {value: len(found) for (_, value), found in store.by_value["GSI2PK"].items()}
    assert by_status == {
        keys.status_index("acme", "paid"): 199,
        keys.status_index("acme", "shipped"): 100,
        keys.status_index("acme", "refunded"): 1,
    }


def test_queries_answered_at_once_on_many_threads_each_get_their_own_partition(
    credentials: None,
) -> None:
    """moto's server answers on many threads: each query sees only its own candidates."""
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(ddb, TABLE)
        tenants = [f"t{n}" for n in range(4)]
        for tenant in tenants:
            for n in range(20 + 10 * len(tenant)):
                ddb.put_item(TableName=TABLE, Item=_order(tenant, n))
        index_queries()
        start = threading.Barrier(len(tenants))
        wrong: list[str] = []

        def ask(tenant: str) -> None:
            try:
                asked(tenant)
            except Exception as error:  # a thread's failure is the test's
                wrong.append(f"{tenant}: {error!r}")

        def asked(tenant: str) -> None:
            client = boto3.client("dynamodb", region_name="us-east-1")
            start.wait()
            for n in range(30):
                partition = client.query(
                    TableName=TABLE,
                    KeyConditionExpression="PK = :p",
                    ExpressionAttributeValues={":p": {"S": f"T#{tenant}#O#o{n:03d}"}},
                )["Items"]
                paid = client.query(
                    TableName=TABLE,
                    IndexName=INDEX,
                    KeyConditionExpression="GSI2PK = :p",
                    ExpressionAttributeValues={":p": {"S": keys.status_index(tenant, "paid")}},
                )["Items"]
                if [i["PK"]["S"] for i in partition] != [f"T#{tenant}#O#o{n:03d}"]:
                    wrong.append(f"{tenant} partition {n}: {partition}")
                if {i["GSI2PK"]["S"] for i in paid} != {keys.status_index(tenant, "paid")}:
                    wrong.append(f"{tenant} index {n}")

        threads = [threading.Thread(target=ask, args=(t,)) for t in tenants]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wrong == []


def test_the_index_map_is_built_from_a_copy_of_what_writers_change_meanwhile() -> None:
    """moto's server threads write while a query builds the index map of a table kept in
    moto's own dicts: it once walked the table's dict as a writer added a partition
    ("dictionary changed size during iteration", a 500 to the caller, seen in the cost bench).
    Here a write lands between two items of the walk, as another thread's would."""
    from types import SimpleNamespace

    from local.moto_index import _index_items

    table = SimpleNamespace(range_key_attr="SK", items={})

    class Written:
        """An item whose reading lets a writer in: the next partition appears."""

        def __init__(self, n: int) -> None:
            self.n = n

        @property
        def attrs(self) -> dict[str, Any]:
            table.items[f"new-{self.n}"] = {"ORDER": Written(self.n + 100)}
            return {"GSI2PK": SimpleNamespace(type="S", value="wanted")}

    table.items.update({f"p{n}": {"ORDER": Written(n)} for n in range(3)})
    found = _index_items(table, "GSI2PK")
    assert len(found[("S", "wanted")]) == 3
