"""A yearly business summary over a year of one large tenant's orders (default 1,000,000),
side by side with the naive way (reading and folding every order at report time).

The year is generated day by day in the tenant's zone (Europe/Amsterdam: the year holds both
changes of summer time): each order is a real aggregate (``shared.order_aggregate``: placed,
paid in EUR or USD, dispatched, delivered; some refunded, failed, abandoned, disputed) with a
product out of 2,000 and a vendor out of 200, stored as the aggregate's JSON. Each day is then
done as the morning tick does it: every order parsed from its JSON and tallied
(``functions.reports.domain.tally``), the day's tally written to DynamoDB (moto, in process).
The previous year's tallies are stored too (a copy), so the summary has its comparison.

Then the yearly summary is timed as the 1 January morning runs it: the two years' tallies read
by one range query each, added up, compared, rendered (HTML, CSV, JSON), stored in S3 and
mailed (.eml files). That is ``yearly_s``. The naive baseline is what a summary without the
read model must do at least: parse and fold every one of the year's orders (measured, on the
same orders) and read them from the table (1M items, counted in read units, not timed).

The RESULT line also carries the customer lookup by e-mail among as many orders
(``bench/queries.py``'s ``lookup_bench``: its median time and DynamoDB reads per lookup).

Nothing here asserts a time; it prints the numbers and one RESULT line.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import result_line

from functions.reports.domain.periods import PeriodKind
from functions.reports.domain.tally import OrderView, tally_day
from shared import events as e
from shared.money import Money
from shared.order_aggregate import OrderState, apply

TZ = "Europe/Amsterdam"
TENANT = "bench-shop"
PRODUCTS = 2_000
VENDORS = 200
# Per 100 orders: what happens to them.
MIX = (
    ("delivered", 78),
    ("refunded", 8),
    ("failed", 5),
    ("abandoned", 4),
    ("paid", 4),
    ("disputed", 1),
)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _event_id(n: list[int]) -> str:
    n[0] += 1
    return f"evt_{n[0]}"


def template(kind: str, day: date, currency: str) -> str:
    """One order's aggregate as JSON, its id ``ORDERID``, product ``SKUX``, vendor ``VENDX``."""
    zone = ZoneInfo(TZ)
    at = datetime.combine(day, clock_time(10), zone).astimezone(UTC)
    n = [0]
    common = {"tenant": TENANT, "order_id": "ORDERID"}
    price = Money.of(2500, currency)
    state = apply(
        OrderState(tenant=TENANT, order_id="ORDERID"),
        e.OrderPlaced(
            **common,
            source=e.Source.SHOP,
            source_event_id=_event_id(n),
            occurred_at=at,
            currency=currency,
            total=Money.of(2 * 2500 + 490 - 250, currency),
            lines=(
                e.LineItem(
                    line_id="l1",
                    sku="SKUX",
                    name="Product SKUX",
                    quantity=2,
                    unit_price=price,
                    vendor_id="VENDX",
                ),
            ),
            customer=e.Customer(email="ORDERID@example.com", name="Customer"),
            shipping=Money.of(490, currency),
            discount=Money.of(250, currency),
        ),
    )
    total = Money.of(2 * 2500 + 490 - 250, currency)
    pay = {"source": e.Source.STRIPE, "payment_id": "pi_ORDERID", "charge_id": "ch_ORDERID"}

    def later(minutes: int) -> datetime:
        return at + timedelta(minutes=minutes)

    if kind == "abandoned":
        return state.model_dump_json(exclude_none=True)
    if kind == "failed":
        state = apply(
            state,
            e.PaymentFailed(
                **common,
                **pay,
                source_event_id=_event_id(n),
                occurred_at=later(1),
                amount=total,
                failure_code="card_declined",
            ),
        )
        return state.model_dump_json(exclude_none=True)
    state = apply(
        state,
        e.PaymentSucceeded(
            **common,
            **pay,
            source_event_id=_event_id(n),
            occurred_at=later(1),
            amount=total,
            card=e.Card(brand="visa", last4="4242", bin="424242", fingerprint="fp"),
        ),
    )
    if kind == "paid":
        return state.model_dump_json(exclude_none=True)
    state = apply(
        state,
        e.OrderFulfilled(
            **common,
            source=e.Source.SHOP,
            source_event_id=_event_id(n),
            occurred_at=later(120),
            tracking_code="TRK_ORDERID",
            carrier="dhl",
        ),
    )
    state = apply(
        state,
        e.ShipmentUpdated(
            **common,
            source=e.Source.EASYPOST,
            source_event_id=_event_id(n),
            occurred_at=later(600),
            tracking_code="TRK_ORDERID",
            carrier="dhl",
            status=e.ShipmentStatus.DELIVERED,
        ),
    )
    if kind == "refunded":
        state = apply(
            state,
            e.RefundUpdated(
                **common,
                source=e.Source.STRIPE,
                source_event_id=_event_id(n),
                occurred_at=later(700),
                payment_id="pi_ORDERID",
                charge_id="ch_ORDERID",
                refund=e.Refund(
                    refund_id="re_ORDERID",
                    amount=Money.of(2500, currency),
                    status="succeeded",
                    created_at=later(700),
                ),
            ),
        )
    if kind == "disputed":
        state = apply(
            state,
            e.DisputeOpened(
                **common,
                source=e.Source.STRIPE,
                source_event_id=_event_id(n),
                occurred_at=later(720),
                dispute_id="dp_ORDERID",
                charge_id="ch_ORDERID",
                amount=total,
                reason="fraudulent",
                status="needs_response",
            ),
        )
    return state.model_dump_json(exclude_none=True)


def day_orders(day: date, count: int, start: int) -> list[str]:
    """The day's orders as stored: JSON aggregates, ids from ``start``."""
    templates = {
        (kind, currency): template(kind, day, currency)
        for kind, _ in MIX
        for currency in ("EUR", "USD")
    }
    plan = [kind for kind, share in MIX for _ in range(share)]
    orders = []
    for i in range(start, start + count):
        currency = "USD" if i % 10 == 0 else "EUR"
        text = templates[(plan[i % 100], currency)]
        orders.append(
            text.replace("ORDERID", f"o{i:07d}")
            .replace("SKUX", f"sku-{i * 7919 % PRODUCTS:04d}")
            .replace("VENDX", f"vendor-{i % VENDORS:03d}")
        )
    return orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument(
        "--lookups", type=int, default=1_000, help="customer lookups by e-mail (bench/queries.py)"
    )
    args = parser.parse_args()

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from functions.reports.composition import ReportsSettings, reports_ports
    from functions.reports.use_cases.summary import business_summary, publish, roll_up_month
    from local.moto_fidelity import serialize_dynamodb_writes
    from shared import aws, keys
    from shared.clock import Clock
    from shared.tenants import TenantDirectory, TenantSettings

    tenant = TenantSettings(
        id=TENANT,
        name="Bench Shop",
        currency="EUR",
        other_currencies=("USD",),
        timezone=TZ,
        customer_sender="shop@bench.example",
        finance_emails=("finance@bench.example",),
    )
    first, last = date(args.year, 1, 1), date(args.year, 12, 31)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    per_day = [args.orders // len(days) + (i < args.orders % len(days)) for i in range(len(days))]

    class Fixed:
        def __init__(self, at: datetime) -> None:
            self.at = at

        def now(self) -> datetime:
            return self.at

    clock: Clock = Fixed(datetime.combine(last + timedelta(days=1), clock_time(8), ZoneInfo(TZ)))
    aws.reset()
    serialize_dynamodb_writes()
    with mock_aws(), tempfile.TemporaryDirectory() as mail_dir:
        ddb = boto3.client("dynamodb")
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from tests.component.conftest import create_table

        create_table(ddb, "bench")
        boto3.client("s3").create_bucket(Bucket="bench-reports")
        TenantDirectory("bench").save(tenant)
        ports = reports_ports(
            ReportsSettings(table_name="bench", reports_bucket="bench-reports", mail_dir=mail_dir),
            clock,
        )

        # -- the mornings: each day parsed and tallied (also the naive baseline's work) ------
        parse_s = tally_s = generate_s = store_s = 0.0
        orders_done = 0
        for day, count in zip(days, per_day, strict=True):
            t0 = time.perf_counter()
            stored = day_orders(day, count, orders_done)
            t1 = time.perf_counter()
            views = [OrderView(OrderState.model_validate_json(s), "allow") for s in stored]
            t2 = time.perf_counter()
            tally = tally_day(day, TZ, views, tenant.dispatch_sla_days)
            t3 = time.perf_counter()
            ports.tallies.save(TENANT, day, tally)
            # The year before, for the comparison: the same tally 365 days earlier.
            ports.tallies.save(TENANT, day - timedelta(days=365), tally)
            if (day + timedelta(days=1)).day == 1:
                # The month ended: the morning after adds up its days (and, here, the copy's).
                roll_up_month(ports, tenant, day.replace(day=1), clock.now())
                roll_up_month(
                    ports, tenant, (day - timedelta(days=365)).replace(day=1), clock.now()
                )
            store_s += time.perf_counter() - t3
            generate_s += t1 - t0
            parse_s += t2 - t1
            tally_s += t3 - t2
            orders_done += count
            del stored, views, tally
        gc.collect()

        # -- the yearly summary, as the 1 January morning runs it -----------------------------
        t0 = time.perf_counter()
        summary = business_summary(ports, TENANT, PeriodKind.YEARLY, first)
        t1 = time.perf_counter()
        published = publish(ports, tenant, summary)
        yearly_s = time.perf_counter() - t0
        read_s = t1 - t0

        def item_sizes(pk: str) -> list[int]:
            found = []
            for page in ddb.get_paginator("query").paginate(
                TableName="bench",
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
            ):
                found += [len(i["tally"]["B"]) + 64 for i in page["Items"]]
            return found

        sizes = item_sizes(keys.report_days_pk(TENANT))[-len(days) :]
        month_sizes = item_sizes(keys.report_months_pk(TENANT))
        # Eventually consistent queries: half a unit per 4 KB read (this year's 12 months and
        # last year's).
        query_rru = -(-sum(month_sizes) // 4096) * 0.5

    eur = next(s for s in summary.sections if s.currency == "EUR")
    figures = {f.key: f.current for f in eur.figures}
    # What the plan says the year holds in EUR, worked out without the tallies.
    plan = [kind for kind, share in MIX for _ in range(share)]
    sold = [
        i for i in range(orders_done) if i % 10 and plan[i % 100] not in ("failed", "abandoned")
    ]
    refunded = sum(1 for i in sold if plan[i % 100] == "refunded")
    expected_total = len(sold) * (2 * 2500 + 490 - 250) - refunded * 2500
    naive_cpu_s = parse_s + tally_s
    print(
        f"orders: {orders_done:,} over {len(days)} local days ({TZ}), "
        f"{PRODUCTS:,} products, {VENDORS} vendors"
    )
    print(f"generating the orders' JSON: {generate_s:.1f} s (not counted)")
    print(
        f"mornings, all year: parse {parse_s:.1f} s + tally {tally_s:.1f} s "
        f"= {naive_cpu_s / len(days) * 1000:.0f} ms a day; storing 730 tallies {store_s:.1f} s"
    )
    print(
        f"tally items: {len(sizes)} days a year, {sum(sizes) / len(sizes) / 1024:.1f} KB each; "
        f"{len(month_sizes)} months, {sum(month_sizes) / len(month_sizes) / 1024:.1f} KB each "
        f"(compressed); a yearly summary reads ~{query_rru:.0f} RRU (24 months)"
    )
    print(
        f"yearly summary: {yearly_s:.3f} s (read and add up {read_s:.3f} s; render, "
        f"S3 and mail the rest) -> {published['html']}"
    )
    print(
        f"  EUR orders {figures['orders']:,}, total sales {figures['total']:,} minor units, "
        f"so far: {summary.so_far}; as planned: "
        f"{(figures['orders'], figures['total']) == (len(sold), expected_total)}"
    )
    print(
        f"naive baseline (every order parsed and folded at report time): {naive_cpu_s:.1f} s "
        f"of CPU alone, plus reading {orders_done:,} items (>= {orders_done * 0.5:,.0f} RRU)"
    )
    # The other half: a customer's orders found by e-mail among as many orders (the queries'
    # bench, in its own in-process table once the year's moto is gone).
    from queries import lookup_bench

    lookup = lookup_bench(orders_done, args.lookups)
    print(
        result_line(
            yearly_s=round(yearly_s, 3),
            lookup_ms=round(float(lookup["lookup_ms"]), 3),
            reads_per_lookup=lookup["reads_per_lookup"],
            scans=lookup["scans"],
            peak_rss_mb=round(peak_rss_mb()),
            naive_s=round(naive_cpu_s, 1),
            orders=orders_done,
        )
    )


if __name__ == "__main__":
    main()
