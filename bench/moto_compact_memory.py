"""Items per GB of a moto table: as moto keeps them, and in ``local.moto_compact``'s storage.

Writes ``--tenants`` x ``--orders`` days of the fan-out bench (``bench/reconcile_fanout.py``:
per order its item with the packed aggregate, its change note, its balance transaction; a
payout per tenant) into a table shaped as the stack's (``shared.keys.TABLE``, its stream on),
in a fresh process per storage, and measures the resident memory they add and the seconds
they take. ``moto``: through moto's backend ``put_item`` (an ``Item`` of ``DynamoType``s per
item, and a stream record each); ``compact``: ``CompactItems.load`` (one deflated blob per
item). Then reads every tenant's day back through boto3 as the reconciliation does (the status
index and two partitions, in pages) and times it. Ends with ``RESULT moto_items_per_gb=…
compact_items_per_gb=… …``.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import result_line
from reconcile_fanout import (
    DAY,
    _order_template,
    _txn_template,
    day_items,
    rss_mb,
    tenant_ids,
)

TABLE = "bench-memory"


def _read_back(client: Any, tenants: list[str]) -> int:
    from shared import keys

    index = next(i for i in keys.TABLE.indexes if i.partition_key == "GSI2PK")
    seen = 0
    for tenant in tenants:
        queries: list[dict[str, Any]] = [
            {
                "IndexName": index.name,
                "KeyConditionExpression": "GSI2PK = :v",
                "ExpressionAttributeValues": {":v": {"S": keys.status_index(tenant, "paid")}},
            },
            {
                "KeyConditionExpression": "PK = :v",
                "ExpressionAttributeValues": {":v": {"S": keys.changed_orders_pk(tenant, DAY)}},
            },
            {
                "KeyConditionExpression": "PK = :v",
                "ExpressionAttributeValues": {":v": {"S": keys.payout_pk(tenant, f"po_{tenant}")}},
            },
        ]
        for query in queries:
            for page in client.get_paginator("query").paginate(TableName=TABLE, **query):
                seen += len(page["Items"])
    return seen


def measure(storage: str, tenants: int, orders: int) -> dict[str, float]:
    """One storage, in this process."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import dynamodb_backends

    from local.moto_compact import compact_table
    from local.moto_index import index_queries
    from tests.component.conftest import create_table

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        index_queries()
        write: Callable[[dict[str, Any]], Any]
        if storage == "compact":
            write = compact_table(backend.get_table(TABLE)).load
        else:
            write = functools.partial(backend.put_item, TABLE)

        template, txn_template = _order_template(), _txn_template()
        names = tenant_ids(tenants)
        before = rss_mb()
        started = time.perf_counter()
        items = 0
        for tenant in names:
            for item in day_items(tenant, orders, template, txn_template):
                write(item)
                items += 1
        write_s = time.perf_counter() - started
        added = rss_mb() - before
        started = time.perf_counter()
        read = _read_back(client, names)
        read_s = time.perf_counter() - started
        assert read == items, (read, items)
    return {
        "items": items,
        "added_mb": added,
        "write_s": write_s,
        "read_s": read_s,
        "items_per_gb": items / (added / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--one", choices=("moto", "compact"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.tenants, args.orders)))
        return
    found: dict[str, dict[str, float]] = {}
    for storage in ("moto", "compact"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                storage,
                "--tenants",
                str(args.tenants),
                "--orders",
                str(args.orders),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found[storage] = json.loads(out.strip().splitlines()[-1])
        m = found[storage]
        print(
            f"{storage:8} {m['items']:,.0f} items: +{m['added_mb']:.0f} MB "
            f"({m['added_mb'] * 1024 * 1024 / m['items']:.0f} B an item, "
            f"{m['items_per_gb']:,.0f} items/GB); written in {m['write_s']:.1f}s, "
            f"read back in pages in {m['read_s']:.1f}s"
        )
    print(
        result_line(
            moto_items_per_gb=round(found["moto"]["items_per_gb"]),
            compact_items_per_gb=round(found["compact"]["items_per_gb"]),
            ratio=found["compact"]["items_per_gb"] / found["moto"]["items_per_gb"],
            items=int(found["moto"]["items"]),
            moto_write_s=found["moto"]["write_s"],
            compact_write_s=found["compact"]["write_s"],
            moto_read_s=found["moto"]["read_s"],
            compact_read_s=found["compact"]["read_s"],
        )
    )


if __name__ == "__main__":
    main()
