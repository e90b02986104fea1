"""Vendor payouts at marketplace scale: a month of a large marketplace through the ledger's
domain code, then one payout cycle with both reports, side by side with a naive cycle; and the
DynamoDB writes per order line, measured on moto.

The month (default 1,000,000 order lines over 5,000 vendors, a long tail of small vendors and a
few large ones, EUR and USD): every order's sale allocated by the domain (discount, shipping,
tax and gateway fee by largest remainder, commission from each vendor's plan), releases for
what was delivered and past its return window, cancellations voided, refunds by amount, returns
by lines, chargebacks opened and lost or won, carrier claims credited. Everything is posted to
the domain's ``Ledger`` (balances and idempotency keys).

The cycle (timed): every vendor's line (``plan_line``: minimum, hold, delay days, payout method),
the payouts and carries posted, the summary (per vendor and currency) and the detailed report
(one row per ledger entry of the month) written as CSV and JSON, and the instruction to finance
(a pain.001 file of the EUR bank payouts, validated against its schema by sepaxml, and a CSV of
the rest). The naive cycle beside it recomputes each vendor's balances by folding every entry of
the month, as a ledger without cached balances would.

On moto: a few hundred orders through the real adapters (``DynamoLedger``) and use cases: sale,
release, some refunds and one cycle; the items written divided by the order lines.

Nothing here asserts a time. The last line: ``RESULT cycle_s=… peak_rss_mb=… entries=…
balanced=1 …``.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import result_line

from functions.payouts.domain.cycles import (
    Cycle,
    CycleLine,
    LineStatus,
    cycle_id_for,
    latest_cutoff,
    line_entry,
    plan_line,
    recent_credits,
    release_threshold,
)
from functions.payouts.domain.ledger import PLATFORM, Account, Book, Entry, EntryKind, Ledger
from functions.payouts.domain.postings import (
    Context,
    FeeBearer,
    OrderLine,
    carrier_claim,
    chargeback_lost,
    chargeback_opened,
    chargeback_won,
    refund_by_amount,
    refund_by_lines,
    refund_cash,
    release,
    sale,
    void,
)
from functions.payouts.domain.reports import (
    CycleReport,
    Debtor,
    other_lines,
    payouts_csv,
    sepa_file,
    sepa_lines,
    summary_csv,
    to_json,
)
from functions.payouts.domain.vendors import Vendor, check_vendor
from shared.tenants import PayoutSettings

TENANT = "bench"
ZONE = "Europe/Berlin"
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
SETTINGS = PayoutSettings(
    enabled=True, schedule="monthly", day=2, cutoff_hour=6, delay_days=1, minimum_payout=1000
)
RETURN_WINDOW = timedelta(days=14)
CATEGORIES = ("home", "art", "fashion", "toys")


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the marketplace -----------------------------------------------------------------------------


def vendors(count: int, rng: random.Random) -> list[Vendor]:
    """``count`` vendors: most paid by SEPA in EUR, some by Stripe Connect, a few in USD."""
    from schwifty import IBAN

    made = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.8:
            payout = {
                "method": "bank",
                "holder": f"Vendor {n} GmbH",
                "iban": str(
                    IBAN.generate("DE", bank_code="37040044", account_code=str(10_000 + n))
                ),
                "currency": "EUR",
            }
            currencies = ["EUR", "USD"] if rng.random() < 0.2 else ["EUR"]
        elif roll < 0.95:
            payout = {"method": "stripe_connect", "account_id": f"acct_{n:08d}X", "currency": "EUR"}
            currencies = ["EUR", "USD"]
        else:
            payout = {"method": "stripe_connect", "account_id": f"acct_{n:08d}U", "currency": "USD"}
            currencies = ["USD", "EUR"]
        percent = rng.choice(("8", "10", "12.5", "15"))
        made.append(
            check_vendor(
                {
                    "vendor_id": f"v{n:05d}",
                    "name": f"Vendor {n}",
                    "emails": [f"v{n}@vendors.example"],
                    "currencies": currencies,
                    "payout": payout,
                    "commission": [
                        {
                            "category": "*",
                            "percent": percent,
                            "fixed": 20,
                            "effective_from": "2026-01-01",
                        },
                        {"category": "art", "percent": "7.5", "effective_from": "2026-01-01"},
                    ],
                    "hold": {"reserve_percent": "5" if n % 50 == 0 else "0"},
                    "minimum_payout": {"EUR": 2500} if n % 7 == 0 else {},
                    **({"status": "on_hold", "hold_reason": "KYC expired"} if n % 97 == 0 else {}),
                }
            )
        )
    return made


def month(
    ledger: Ledger, sellers: list[Vendor], lines_wanted: int, rng: random.Random
) -> dict[str, int]:
    """Posts a month of orders until ``lines_wanted`` lines; returns what happened, counted."""
    from functions.payouts.domain.postings import allocate

    # A long tail: vendor i sells in proportion to 1/(i+1)^0.8.
    weights = [1 / (i + 1) ** 0.8 for i in range(len(sellers))]
    cumulative = []
    total = 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    counts: dict[str, int] = defaultdict(int)
    month_end = MONTH_START + timedelta(days=31)
    fees = FeeBearer.PLATFORM
    lines_made = 0
    order_no = 0
    while lines_made < lines_wanted:
        order_no += 1
        size = min(rng.choice((1, 1, 2, 2, 3, 4, 5)), lines_wanted - lines_made)
        chosen = rng.choices(sellers, cum_weights=cumulative, k=size)
        currency = "USD" if rng.random() < 0.15 else "EUR"
        placed = MONTH_START + timedelta(seconds=rng.randrange(31 * 86_400))
        category = rng.choice(CATEGORIES)
        raw = []
        for i, seller in enumerate(chosen):
            known = currency in seller.currencies and rng.random() > 0.0005
            raw.append(
                OrderLine(
                    f"l{i}",
                    seller.vendor_id if known else None,
                    rng.choice((1, 1, 1, 2, 3)),
                    rng.randrange(300, 25_000),
                    sku=f"sku-{rng.randrange(200_000)}",
                    category=category,
                    named_vendor=seller.vendor_id,
                )
            )
        gross = sum(line.quantity * line.unit_price for line in raw)
        rates = {
            line.line_id: seller.rate_for(category, placed.date())
            for line, seller in zip(raw, chosen, strict=True)
            if line.vendor_id is not None
        }
        lines = allocate(
            raw,
            discount=gross // 10 if rng.random() < 0.2 else 0,
            shipping=rng.choice((0, 0, 490, 990)),
            tax=gross * 19 // 100 if currency == "EUR" else 0,
            gateway_fee=25 + gross * 14 // 1000,
            rates=rates,
            fees_borne_by=fees,
        )
        ctx = Context(TENANT, currency, f"o{order_no:07d}")
        lines_made += size
        counts["orders"] += 1
        ledger.post_all(sale(ctx, "paid", line, placed) for line in lines)
        charged = sum(line.charged for line in lines)
        roll = rng.random()
        if roll < 0.02:  # cancelled before release
            ledger.post_all(
                void(ctx, "cancel", line, placed + timedelta(hours=2)) for line in lines
            )
            ledger.post(refund_cash(ctx, "re-cancel", charged, placed + timedelta(hours=3)))
            counts["cancelled"] += 1
            continue
        delivered = placed + timedelta(days=rng.randrange(2, 9))
        released_at = delivered + RETURN_WINDOW
        reserves = {s.vendor_id: s.hold.reserve_basis_points() for s in chosen}
        if released_at < month_end:
            ledger.post_all(
                release(ctx, "release", line, released_at, reserves.get(line.vendor_id or "", 0))
                for line in lines
            )
            counts["released"] += 1
        later = delivered + timedelta(days=rng.randrange(0, 20))
        if later >= month_end:
            continue
        roll = rng.random()
        if roll < 0.04:
            ledger.post_all(
                refund_by_amount(ctx, "re-1", lines, rng.randrange(1, charged + 1), later)
            )
            counts["refunded"] += 1
        elif roll < 0.07:
            returned = [(line, line.charged) for line in lines[:1]]
            ledger.post_all(refund_by_lines(ctx, EntryKind.RETURN, "return-1", returned, later))
            counts["returned"] += 1
        elif roll < 0.073:
            ledger.post(chargeback_opened(ctx, "dp-1", charged, later))
            if rng.random() < 0.6:
                bear = rng.random() < 0.5
                ledger.post_all(
                    chargeback_lost(ctx, "dp-1", lines, charged, later, vendors_bear=bear)
                )
            else:
                ledger.post(chargeback_won(ctx, "dp-1", charged, later + timedelta(days=1)))
            counts["disputed"] += 1
        elif roll < 0.075:
            ledger.post_all(carrier_claim(ctx, "claim-1", lines, charged // 2, later))
            counts["claims"] += 1
    counts["lines"] = lines_made
    return dict(counts)


# -- the cycle -----------------------------------------------------------------------------------


def cycle(
    ledger: Ledger, sellers: list[Vendor], out: Path, now: datetime
) -> tuple[Cycle, list[CycleLine], dict[str, float]]:
    """One cycle as the use case runs it, on the domain's ledger; returns its timings."""
    steps: dict[str, float] = {}
    started = time.perf_counter()
    cpu = time.process_time()
    cutoff = latest_cutoff(SETTINGS, ZONE, now)
    cycle_id = cycle_id_for(cutoff, ZONE)
    threshold = release_threshold(SETTINGS, cutoff)
    # What the store's queries give the use case: each vendor's entries (by its key), and
    # those since the release threshold (by time), read here in one pass over the month.
    by_vendor: dict[str, list[Entry]] = defaultdict(list)
    since_threshold: list[Entry] = []
    # In the entries' own zone: times of one tzinfo compare without asking it for offsets.
    threshold_utc = threshold.astimezone(UTC)
    for item in ledger.entries:
        holder = item.ref("vendor") or PLATFORM
        by_vendor[holder].append(item)
        if item.occurred_at >= threshold_utc:
            since_threshold.append(item)
    steps["entries by vendor"] = time.perf_counter() - started
    mark = time.perf_counter()
    lines: list[CycleLine] = []
    recent = recent_credits(since_threshold, threshold)
    for seller in sellers:
        for currency in seller.currencies:
            available = ledger.balance(currency, Account.vendor(seller.vendor_id, Book.AVAILABLE))
            carried = ledger.balance(
                currency, Account.vendor(seller.vendor_id, Book.NEGATIVE_CARRIED)
            )
            if not available and not carried:
                continue
            lines.append(
                plan_line(
                    seller,
                    currency,
                    available,
                    carried,
                    recent.get((currency, seller.vendor_id), 0),
                    SETTINGS.minimum_payout,
                )
            )
    posted = [line_entry(TENANT, cycle_id, line, now) for line in lines]
    ledger.post_all(posted)
    for made in posted:
        if made is not None:
            by_vendor[made.ref("vendor")].append(made)
    payable: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.status is LineStatus.PAYABLE:
            payable[line.currency] += line.amount
    the_cycle = Cycle(
        tenant=TENANT,
        cycle_id=cycle_id,
        cutoff=cutoff,
        started_at=now,
        lines_complete=True,
        vendors=len(lines),
        payable=dict(payable),
    )
    steps["plan and post the lines"] = time.perf_counter() - mark
    mark = time.perf_counter()
    # As the use case: one vendor at a time into both reports, the detailed one streamed out
    # (here to a file; the use case's goes to the bucket in parts).
    with (out / "detail.csv").open("w", newline="") as handle:
        report = CycleReport(cycle_id, handle)
        for vendor_id in sorted(v for v in by_vendor if v != PLATFORM):
            report.add(vendor_id, by_vendor[vendor_id])
    rows = report.summary(lines)
    (out / "summary.csv").write_text(summary_csv(rows))
    (out / "report.json").write_text(to_json(the_cycle, rows, lines))
    steps["both reports (detail CSV, summary CSV, JSON)"] = time.perf_counter() - mark
    mark = time.perf_counter()
    debtor = Debtor("Bench Marketplace GmbH", "DE89370400440532013000", "COBADEFFXXX")
    (out / "pain001.xml").write_bytes(
        sepa_file(the_cycle, lines, debtor, cutoff.date() + timedelta(days=1))
    )
    (out / "other-payouts.csv").write_text(payouts_csv(other_lines(lines)))
    steps["instruction (pain.001 validated, CSV)"] = time.perf_counter() - mark
    steps["cycle"] = time.perf_counter() - started
    # The processor time it took: what a loaded machine's other work does not add to.
    steps["cycle (processor time)"] = time.process_time() - cpu
    return the_cycle, lines, steps


def naive_cycle(ledger: Ledger, sellers: list[Vendor]) -> tuple[float, dict[tuple[str, str], int]]:
    """The payable amounts as a ledger without cached balances finds them: every entry of the
    month folded again, at cycle time."""
    started = time.perf_counter()
    available: dict[tuple[str, str], int] = defaultdict(int)
    for item in ledger.entries:
        if item.kind in (EntryKind.PAYOUT, EntryKind.CARRY):
            continue
        for account, amount in item.moves():
            if (
                account.book in (Book.AVAILABLE, Book.NEGATIVE_CARRIED)
                and account.holder != PLATFORM
            ):
                available[(item.currency, account.holder)] += amount
    return time.perf_counter() - started, available


# -- DynamoDB writes per order line, on moto -------------------------------------------------------


def writes_per_line(orders: int, rng: random.Random, split: bool) -> tuple[float, float, int]:
    """(items written per line, write requests per line, lines) over sale, release, some
    refunds and one cycle, through the real adapters and use cases on moto. ``split``: every
    line of an order is another vendor's (the costliest case), else most carts are one
    vendor's and some mix two."""
    import os

    import boto3
    from moto import mock_aws

    from functions.payouts.adapters.ledger_store import DynamoLedger
    from functions.payouts.composition import build_ports
    from functions.payouts.use_cases.cycles import run_cycle
    from functions.payouts.use_cases.flows import order_released, order_sold, refund_completed
    from functions.payouts.use_cases.vendors import save_vendor
    from shared import aws
    from shared.events import Customer, LineItem, OrderPlaced, Source
    from shared.money import Money
    from shared.order_aggregate import OrderState, apply
    from shared.tenants import TenantSettings
    from tests.alerts_fakes import FakeAlerts
    from tests.clocks import FixedClock
    from tests.component.conftest import create_table
    from tests.payouts_fakes import parcel

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    aws.reset()
    with mock_aws():
        create_table(boto3.client("dynamodb"), "bench")
        tenant = TenantSettings(
            id="bench",
            name="Bench",
            currency="EUR",
            customer_sender="shop@bench.example",
            timezone=ZONE,
            payouts=SETTINGS,
        )
        clock = FixedClock(MONTH_START)
        ports = build_ports("bench", clock, FakeAlerts())
        sellers = [f"v{n}" for n in range(40)]
        for vendor_id in sellers:
            save_vendor(
                ports,
                "bench",
                {
                    "vendor_id": vendor_id,
                    "name": vendor_id,
                    "emails": [f"{vendor_id}@x.example"],
                    "currencies": ["EUR"],
                    "payout": {
                        "method": "stripe_connect",
                        "account_id": f"acct_{vendor_id}xxxxxx",
                        "currency": "EUR",
                    },
                    "commission": [{"percent": "10", "effective_from": "2026-01-01"}],
                },
                "bench",
            )
        ledger = ports.ledger
        assert isinstance(ledger, DynamoLedger)
        lines_total = groups = 0
        for n in range(orders):
            size = rng.choice((1, 1, 2, 2, 3, 4, 5))
            if split:
                cart = rng.sample(sellers, size)
            else:  # most carts are one vendor's; some mix two
                cart = rng.sample(sellers, 2 if rng.random() < 0.3 else 1)
            lines = tuple(
                LineItem(
                    line_id=f"l{i}",
                    name="x",
                    quantity=1,
                    unit_price=Money.of(rng.randrange(500, 5000), "EUR"),
                    vendor_id=cart[i] if split else rng.choice(cart),
                )
                for i in range(size)
            )
            groups += len({line.vendor_id for line in lines})
            placed = OrderPlaced(
                tenant="bench",
                source=Source.SHOP,
                source_event_id=f"o{n}",
                occurred_at=MONTH_START,
                order_id=f"o{n}",
                currency="EUR",
                total=Money.of(sum(line.unit_price.amount for line in lines), "EUR"),
                lines=lines,
                customer=Customer(email="c@x.example"),
            )
            state = apply(OrderState(tenant="bench", order_id=f"o{n}"), placed)
            # One parcel carrying every line, delivered: the release step releases them all.
            for event in parcel(f"o{n}", f"1Z{n}", MONTH_START, tenant="bench"):
                state = apply(state, event)
            clock.set(MONTH_START)
            order_sold(ports, tenant, state)
            clock.set(MONTH_START + timedelta(days=20))
            order_released(ports, tenant, state, [line.line_id for line in lines])
            if rng.random() < 0.1:
                refund_completed(ports, tenant, state, f"re{n}", 300, "EUR")
            lines_total += size
        clock.set(datetime(2026, 11, 2, 7, tzinfo=UTC))
        run_cycle(ports, tenant)
    aws.reset()
    print(
        f"  (moto, {'every line another vendor' if split else 'carts of one or two vendors'}: "
        f"{lines_total / groups:.2f} lines per order and vendor)"
    )
    return ledger.writes / lines_total, ledger.requests / lines_total, lines_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--vendors", type=int, default=5_000)
    parser.add_argument("--moto-orders", type=int, default=80)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--moto-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--split", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.moto_only:
        per_item, per_request, moto_lines = writes_per_line(args.moto_orders, rng, args.split)
        print(f"MOTO {per_item} {per_request} {moto_lines}")
        return
    # In processes of their own first: moto's tables live in memory, apart from the month's.
    moto: dict[bool, tuple[float, float, int]] = {}
    for split in (False, True):
        shown = subprocess.run(
            [
                sys.executable,
                __file__,
                "--moto-only",
                "--moto-orders",
                str(args.moto_orders),
                *(["--split"] if split else []),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        for line in shown[:-1]:
            print(line)
        _, item_text, request_text, lines_text = shown[-1].split()
        moto[split] = (float(item_text), float(request_text), int(lines_text))
    per_item, per_request, moto_lines = moto[False]
    split_item, split_request, split_lines = moto[True]

    started = time.perf_counter()
    sellers = vendors(args.vendors, rng)
    print(f"{len(sellers):,} vendors set up (IBANs checked)  {time.perf_counter() - started:.2f} s")
    ledger = Ledger(TENANT)
    started = time.perf_counter()
    counts = month(ledger, sellers, args.lines, rng)
    month_s = time.perf_counter() - started
    entries = len(ledger.entries)
    print(
        f"a month: {counts['lines']:,} lines in {counts['orders']:,} orders, "
        + ", ".join(
            f"{counts.get(k, 0):,} {k}"
            for k in ("released", "cancelled", "refunded", "returned", "disputed", "claims")
        )
    )
    print(
        f"posted {entries:,} entries in {month_s:.1f} s ({month_s / entries * 1e6:.1f} µs an entry)"
    )
    gc.collect()
    gc.freeze()  # the month's objects stay: the collector need not walk them again
    rss_month = peak_rss_mb()
    print(f"peak RSS with the month's ledger: {rss_month:,.0f} MB")

    naive_s, naive = naive_cycle(ledger, sellers)
    now = datetime(2026, 11, 2, 7, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        the_cycle, lines, steps = cycle(ledger, sellers, out, now)
        sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    rss = peak_rss_mb()
    for step, seconds in steps.items():
        print(f"  {step:<40} {seconds:>7.3f} s")
    paid = sum(1 for line in lines if line.status is LineStatus.PAYABLE)
    print(
        f"cycle {the_cycle.cycle_id}: {len(lines):,} vendor lines, {paid:,} paid, "
        f"payable {the_cycle.payable}, {len(sepa_lines(lines)):,} in the SEPA file"
    )
    print(
        "files: " + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sorted(sizes.items()))
    )
    # The naive cycle finds the same amounts the cached balances gave (before this cycle paid).
    agree = all(
        naive[(line.currency, line.vendor_id)] == line.available + line.carried + line.held_back
        for line in lines
    )
    print(
        f"naive cycle (refold every entry for the balances) {naive_s:.3f} s; same amounts: {agree}"
    )
    print(
        f"cached balances for the same step               {steps['plan and post the lines']:.3f} s"
    )
    balanced = int(
        all(ledger.total(c) == 0 for c in ledger.currencies())
        and all(sum(a for _, a in e.moves()) == 0 for e in ledger.entries)
    )
    print(f"the ledger sums to zero per currency, every entry balances: {bool(balanced)}")
    print(f"peak RSS: {rss:,.0f} MB")
    print(
        f"DynamoDB on moto, {moto_lines} lines through the use cases (sale, release, 10 % "
        f"refunded, a cycle): {per_item:.2f} items written a line, {per_request:.2f} write "
        f"requests a line; every line another vendor's ({split_lines} lines): "
        f"{split_item:.2f} items, {split_request:.2f} requests a line"
    )
    print(
        result_line(
            cycle_s=steps["cycle"],
            cycle_cpu_s=steps["cycle (processor time)"],
            peak_rss_mb=round(rss),
            entries=len(ledger.entries),
            balanced=balanced,
            month_s=month_s,
            naive_balances_s=naive_s,
            ddb_writes_per_line=per_item,
            ddb_requests_per_line=per_request,
            ddb_writes_per_line_split=split_item,
            ddb_requests_per_line_split=split_request,
        )
    )


if __name__ == "__main__":
    main()
