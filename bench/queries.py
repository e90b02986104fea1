"""A customer's orders found by e-mail among N orders (default 1,000,000): the DynamoDB reads one
lookup makes, counted, and the time our side of it takes.

The index is the table's ``ByCustomer`` index as the order store writes it: each order's
aggregate item carries ``GSI1PK = T#<t>#CUST#<hash of the e-mail>``. N orders of N/4 customers
(1 to 7 orders each) are indexed by that key (the real ``shared.keys.customer_index``); the
orders of the customers looked up are written through the real ``OrderStore.commit`` (their
aggregate items, timeline entries and lookup entries, captured as DynamoDB would receive them,
which also counts what an order costs in writes). The lookups then go through the real adapter
and use case (``find_orders``) with botocore's DynamoDB client; its calls are answered in
process, before they leave botocore, from that index: every call is counted by operation, and a
Query on ``ByCustomer`` returns the partition's items newest first, as DynamoDB does.

What is timed is everything on our side of the wire: building the request, botocore's
serialisation and parsing, validating the orders found. DynamoDB's own time is not in it: a
Query on one partition key reads only that key's items (single-digit milliseconds on AWS
whatever the table's size), and moto cannot hold a million items on this machine. The
numbers that do not depend on the machine are the reads: one Query, no Scan, per lookup.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import result_line

from functions.reports.queries.adapters.orders import TableOrderIndex
from functions.reports.queries.use_cases.lookup import find_orders
from shared import aws, keys
from shared.events import Card, Customer, LineItem, OrderPlaced, PaymentSucceeded, Source
from shared.money import Money
from shared.order_aggregate import OrderState, TimelineEntry, apply
from shared.order_store import OrderStore

TENANT = "bench"
TABLE = "bench-table"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def email(customer: int) -> str:
    return f"Customer.{customer}@Example.com"


class InProcessTable:
    """DynamoDB's answers for the calls the bench makes, from an index held in memory; every
    call counted by operation."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        # GSI1PK → order numbers; order number → its stored items (for the customers looked up).
        self.partitions: dict[str, list[int]] = defaultdict(list)
        self.items: dict[int, dict[str, Any]] = {}
        self.writes: Counter[str] = Counter()
        self.capturing: int | None = None

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        self.calls[model.name] += 1
        request = json.loads(params["body"] or b"{}")
        ok = SimpleNamespace(status_code=200, headers={})
        if model.name == "GetItem":  # the order store reading an order before its first write
            return ok, {}
        if model.name == "PutItem":
            item = request["Item"]
            kind = item["SK"]["S"].split("#")[0]
            self.writes[kind] += 1
            if kind == "ORDER" and self.capturing is not None:
                self.items[self.capturing] = item
            return ok, {}
        if model.name == "Query" and request.get("IndexName") == keys.BY_CUSTOMER:
            partition = request["ExpressionAttributeValues"][":pk"]["S"]
            found = [self.items[n] for n in self.partitions.get(partition, [])]
            newest_first = not request.get("ScanIndexForward", True)
            found.sort(key=lambda i: i["GSI1SK"]["S"], reverse=newest_first)
            limit = request.get("Limit", len(found))
            return ok, {"Items": found[:limit], "Count": min(limit, len(found))}
        if model.name == "BatchGetItem":  # the orders the index found, read whole
            wanted = request["RequestItems"][TABLE]["Keys"]
            by_pk = {item["PK"]["S"]: item for item in self.items.values()}
            found = [by_pk[k["PK"]["S"]] for k in wanted if k["PK"]["S"] in by_pk]
            return ok, {"Responses": {TABLE: found}, "UnprocessedKeys": {}}
        raise AssertionError(f"the lookup made an unexpected call: {model.name} {request}")


def order_state(number: int, customer: int) -> OrderState:
    at = T0 + timedelta(seconds=30 * number)
    total = Money.of(1000 + number % 9000, "EUR")
    state = OrderState(tenant=TENANT, order_id=f"o{number}")
    state = apply(
        state,
        OrderPlaced(
            tenant=TENANT,
            source=Source.SHOP,
            source_event_id=f"o{number}-placed",
            occurred_at=at,
            order_id=f"o{number}",
            currency="EUR",
            total=total,
            lines=(
                LineItem(line_id="l1", name="Lamp", quantity=1, unit_price=total, vendor_id="v1"),
            ),
            customer=Customer(email=email(customer), name="Bench", phone="+442079460958"),
        ),
    )
    return apply(
        state,
        PaymentSucceeded(
            tenant=TENANT,
            source=Source.STRIPE,
            source_event_id=f"o{number}-paid",
            occurred_at=at + timedelta(minutes=1),
            order_id=f"o{number}",
            payment_id=f"pi_{number}",
            charge_id=f"ch_{number}",
            amount=total,
            card=Card(bin="424242", last4=f"{number % 10000:04d}", brand="visa"),
        ),
    )


def lookup_bench(orders: int, lookups: int) -> dict[str, float | int]:
    """Index ``orders`` orders, look ``lookups`` customers up by e-mail, print what happened and
    return the figures of the RESULT line (``bench/reports.py`` may print them beside its own)."""
    args = SimpleNamespace(orders=orders, lookups=lookups)
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    aws.reset()
    table = InProcessTable()
    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", table)

    rng = random.Random(16)
    customers = max(1, args.orders // 4)
    started = time.perf_counter()
    owner: list[int] = []
    for _ in range(args.orders):
        owner.append(rng.randrange(customers))
    orders_of: dict[int, list[int]] = defaultdict(list)
    for number, customer in enumerate(owner):
        orders_of[customer].append(number)
    for customer, numbers in orders_of.items():
        table.partitions[keys.customer_index(TENANT, email(customer))] = numbers
    indexed_s = time.perf_counter() - started
    print(
        f"indexed {args.orders:,} orders of {len(orders_of):,} customers by e-mail in "
        f"{indexed_s:.1f} s ({len(table.partitions):,} index keys)"
    )

    looked_up = rng.sample(sorted(orders_of), min(args.lookups, len(orders_of)))
    store = OrderStore(TABLE)
    written = 0
    for customer in looked_up:
        for number in orders_of[customer]:
            state = order_state(number, customer)
            table.capturing = number
            entry = TimelineEntry(T0, "bench", f"o{number}", "OrderPlaced", "placed")
            assert store.commit(state, 0, entry) == "applied"
            written += 1
    table.capturing = None
    per_order = {kind: count / written for kind, count in sorted(table.writes.items())}
    print(
        f"wrote {written:,} orders of the {len(looked_up):,} customers looked up through the order "
        "store; puts per order (one event each): "
        + ", ".join(f"{kind} {n:.2f}" for kind, n in per_order.items())
    )

    table.calls.clear()
    timings, per_lookup = [], []
    for customer in looked_up:
        before = sum(table.calls.values())
        t = time.perf_counter()
        result = find_orders(
            TableOrderIndex(TABLE), TENANT, "email", f"  {email(customer).upper()} "
        )
        timings.append((time.perf_counter() - t) * 1000)
        per_lookup.append(sum(table.calls.values()) - before)
        assert sorted(h.order_id for h in result.hits) == sorted(
            f"o{n}" for n in orders_of[customer]
        ), customer
    missing = find_orders(TableOrderIndex(TABLE), TENANT, "email", "nobody@example.com")
    assert not missing.found
    median = statistics.median(timings)
    p99 = sorted(timings)[max(0, int(len(timings) * 0.99) - 1)]
    reads = Counter(per_lookup)
    print(
        f"{len(looked_up):,} lookups by e-mail: median {median:.2f} ms, p99 {p99:.2f} ms "
        f"(our side of the wire); DynamoDB calls: {dict(table.calls)}; calls per lookup: "
        f"{dict(reads)}"
    )
    print(f"nothing found reads: {missing.text()}")
    client.meta.events.unregister("before-call.dynamodb", table)
    return {
        "lookup_ms": median,
        "lookup_p99_ms": p99,
        "reads_per_lookup": max(per_lookup),
        "scans": table.calls["Scan"],
        "orders": args.orders,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=1_000)
    args = parser.parse_args()
    figures = lookup_bench(args.orders, args.lookups)
    rss = peak_rss_mb()
    print(f"peak RSS: {rss:,.0f} MB")
    print(result_line(**figures, peak_rss_mb=round(rss)))


if __name__ == "__main__":
    main()
