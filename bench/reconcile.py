"""Reconciliation of one large tenant's day, side by side with a pandas baseline.

Generates N orders (default 1,000,000) with their charges, refunds and disputes, payouts that
sweep them with their balance transactions, and the bank account that received the payouts,
with a sprinkling of planted breaks of every class. The bank lines go through the real files:
written as CSV and as camt.053 by the bank sandbox and parsed back by the bank parsers, whose
throughput is printed too. Then it reconciles the day with the engine and times a pandas
baseline doing only the key joins on the same data (orders ⋈ charges on order id, charges ⋈
balance transactions on charge id, payouts ⋈ bank on currency and amount and on trace id).

Nothing here asserts a time. The breaks found are compared with the ones planted and printed.
The baseline uses pandas as installed (the dev extras bring no pyarrow, so its strings are
Python objects; with pyarrow importable pandas picks Arrow strings and joins faster).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import result_line

from functions.reconcile.bank import parse
from functions.reconcile.bank.model import BankLine
from functions.reconcile.engine import ReconConfig, ReconResult, reconcile
from functions.reconcile.model import (
    BalanceTxnRecord,
    BreakClass,
    ChargeRecord,
    DayInputs,
    DisputeRecord,
    OrderRecord,
    OrderStatus,
    PayoutRecord,
    PayoutStatus,
    RefundRecord,
)
from local.sandboxes.bank import Entry, Statement, write_camt053, write_csv

TENANT = "bench-shop"
DAY = date(2026, 3, 16)
CURRENCY = "EUR"
ACCOUNT = "DE89370400440532013000"
CHARGES_PER_PAYOUT = 500
# One planted break of each orders ↔ payments class per this many orders (and at least one).
PLANT_EVERY = 20_000

T = TypeVar("T")


@dataclass(slots=True)
class Generated:
    inputs: DayInputs
    planted: set[tuple[BreakClass, str]] = field(default_factory=set)
    statements: list[Statement] = field(default_factory=list)


def _fresh(text: str) -> str:
    """An equal string that is another object (its hash not computed yet), as read from a
    store: the engine must not profit from the generator sharing one id object."""
    return text.encode().decode()


def _fee(amount: int) -> int:
    return 25 + amount * 14 // 1000


def generate(orders_wanted: int, seed: int = 7) -> Generated:
    """The day's records, with every break class planted; ``planted`` names each by its class
    and identifying key (order, dispute, payout or bank line reference)."""
    rng = random.Random(seed)
    planted: set[tuple[BreakClass, str]] = set()
    # Shared objects: a million orders need not carry a million equal datetimes or amounts.
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    moments = [start + timedelta(seconds=s) for s in range(0, 86_400, 7)]
    amounts = list(range(500, 60_000, 7))
    completed: OrderStatus = "completed"
    placed: OrderStatus = "placed"

    orders: list[OrderRecord] = []
    charges: list[ChargeRecord] = []
    refunds: list[RefundRecord] = []
    disputes: list[DisputeRecord] = []
    every = max(1, min(PLANT_EVERY, orders_wanted // 40))
    choice = rng.random
    for n in range(orders_wanted):
        oid = f"ord_{n:08d}"
        # The gateway's copy of the order id: another string, as a loader would read it.
        ref = f"ord_{n:08d}"
        amount = amounts[int(choice() * len(amounts))]
        at = moments[int(choice() * len(moments))]
        plant = n % every
        roll = choice()
        status: OrderStatus = completed if roll < 0.62 else placed if roll < 0.95 else "cancelled"
        refunded = 0
        if status == "cancelled":
            refunded = amount  # cancelled and refunded: clean
        elif roll < 0.05:
            refunded = amount // 4  # a partial refund for a returned item: clean
        if roll > 0.985:
            status = "failed"  # checkout failed, nothing charged: clean
            orders.append(OrderRecord(TENANT, oid, status, amount, CURRENCY, at))
            continue
        captured = amount
        if plant == 1:
            status = completed
            planted.add((BreakClass.COMPLETED_NOT_PAID, oid))
            orders.append(OrderRecord(TENANT, oid, status, amount, CURRENCY, at))
            continue
        if plant == 2:
            captured = amount - 100
            status = completed
            refunded = 0
            planted.add((BreakClass.AMOUNT_MISMATCH, oid))
        elif plant == 3:
            status, refunded = "cancelled", 0
            planted.add((BreakClass.CANCELLED_NOT_REFUNDED, oid))
        elif plant == 4:
            status, refunded = completed, amount
            planted.add((BreakClass.REFUNDED_STILL_ACTIVE, oid))
        elif plant == 5:
            status, refunded = "failed", 0
            planted.add((BreakClass.CHARGED_ORDER_NOT_COMPLETED, oid))
        elif plant == 6:
            status, refunded = completed, 0
            planted.add((BreakClass.DUPLICATE_PAYMENT, oid))
            charges.append(
                ChargeRecord(
                    f"pi_{n:08d}b",
                    f"ch_{n:08d}b",
                    ref,
                    amount,
                    CURRENCY,
                    "succeeded",
                    amount,
                    0,
                    at + timedelta(seconds=40),
                )
            )
        if plant == 7:  # a charge for an order the shop never sent
            refunded = 0
            planted.add((BreakClass.CHARGED_ORDER_NOT_COMPLETED, oid))
        else:
            orders.append(OrderRecord(TENANT, oid, status, amount, CURRENCY, at))
        if roll < 0.03:  # a declined first attempt before the payment that went through
            charges.append(
                ChargeRecord(
                    f"pi_{n:08d}f", f"ch_{n:08d}f", ref, amount, CURRENCY, "failed", 0, 0, at
                )
            )
        charges.append(
            ChargeRecord(
                f"pi_{n:08d}",
                f"ch_{n:08d}",
                ref,
                amount,
                CURRENCY,
                "succeeded",
                captured,
                refunded,
                at,
            )
        )
        if plant == 8 or n % (every * 2) == 9:
            has_case = plant != 8
            disputes.append(
                DisputeRecord(
                    f"dp_{n:08d}",
                    f"ch_{n:08d}",
                    amount,
                    CURRENCY,
                    "needs_response",
                    has_case,
                    at,
                    f"pi_{n:08d}",
                    oid,
                    "fraudulent",
                )
            )
            if not has_case:
                planted.add((BreakClass.DISPUTE_WITHOUT_CASE, f"dp_{n:08d}"))
        if plant == 10:  # a refund on its way: the order stays matched, no refund suggested
            refunds.append(
                RefundRecord(
                    f"re_{n:08d}",
                    f"pi_{n:08d}",
                    amount // 2,
                    CURRENCY,
                    "pending",
                    at,
                    order_id=f"ord_{n:08d}",
                )
            )
    # A payment naming no order at all.
    charges.append(
        ChargeRecord(
            "pi_orphan", "ch_orphan", None, 4_200, CURRENCY, "succeeded", 4_200, 0, moments[5]
        )
    )
    planted.add((BreakClass.CHARGED_ORDER_NOT_COMPLETED, "ch_orphan"))

    payouts, txns, entries = _settle(charges, disputes, rng, planted)
    inputs = DayInputs(
        tenant=TENANT,
        day=DAY,
        orders=orders,
        charges=charges,
        refunds=refunds,
        disputes=disputes,
        payouts=payouts,
        balance_txns=txns,
    )
    return Generated(inputs=inputs, planted=planted, statements=daily_statements(entries))


def _settle(
    charges: list[ChargeRecord],
    disputes: list[DisputeRecord],
    rng: random.Random,
    planted: set[tuple[BreakClass, str]],
) -> tuple[list[PayoutRecord], list[BalanceTxnRecord], list[Entry]]:
    """Payouts of CHARGES_PER_PAYOUT succeeded charges each, their balance transactions, and
    the bank credits (plus unrelated bank traffic)."""
    succeeded = [c for c in charges if c.status == "succeeded"]
    disputed = {d.charge_id: d for d in disputes}
    payouts: list[PayoutRecord] = []
    txns: list[BalanceTxnRecord] = []
    lines: list[Entry] = []
    paid: PayoutStatus = "paid"
    count = (len(succeeded) + CHARGES_PER_PAYOUT - 1) // CHARGES_PER_PAYOUT
    plant_at = {k: (count * (k + 1)) // 9 for k in range(8)}
    for k in range(count):
        batch = succeeded[k * CHARGES_PER_PAYOUT : (k + 1) * CHARGES_PER_PAYOUT]
        payout_id = f"po_{k:06d}"
        net = 0
        for c in batch:
            fee = _fee(c.captured)
            txns.append(
                BalanceTxnRecord(
                    f"txn_{c.charge_id}",
                    payout_id,
                    _fresh(c.charge_id),
                    "charge",
                    c.captured,
                    fee,
                    c.captured - fee,
                    CURRENCY,
                )
            )
            net += c.captured - fee
            if c.refunded:
                txns.append(
                    BalanceTxnRecord(
                        f"txn_re_{c.charge_id}",
                        payout_id,
                        f"re_{c.charge_id}",
                        "refund",
                        -c.refunded,
                        0,
                        -c.refunded,
                        CURRENCY,
                    )
                )
                net -= c.refunded
            dispute = disputed.get(c.charge_id)
            if dispute is not None:
                txns.append(
                    BalanceTxnRecord(
                        f"txn_{dispute.dispute_id}",
                        payout_id,
                        dispute.dispute_id,
                        "dispute",
                        -dispute.amount,
                        1_500,
                        -dispute.amount - 1_500,
                        CURRENCY,
                    )
                )
                net -= dispute.amount + 1_500
        if k % 50 == 3:
            txns.append(
                BalanceTxnRecord(
                    f"txn_adj_{k}", payout_id, None, "adjustment", -250, 0, -250, CURRENCY
                )
            )
            net -= 250
        arrival = DAY - timedelta(days=k % 5)
        status: PayoutStatus = paid
        amount = net
        trace = f"TRC{k:08d}" if k % 3 == 0 else None
        descriptor = "STRIPE" if k % 3 else f"STRIPE PAYOUT {k:06d}"
        booked = arrival + timedelta(days=k % 2)
        credit = net
        shown = True
        if k == plant_at[0]:
            amount = net + 1  # the gateway's payout disagrees with its own transactions
            credit = amount
            planted.add((BreakClass.PAYOUT_COMPOSITION_MISMATCH, payout_id))
        elif k == plant_at[1]:
            credit = net - 1_500  # the receiving bank took a fee
            planted.add((BreakClass.SHORT_PAYMENT, payout_id))
        elif k == plant_at[2]:
            credit = net + 900
            planted.add((BreakClass.EXCESS_PAYMENT, payout_id))
        elif k == plant_at[3]:
            arrival = DAY - timedelta(days=4)
            shown = False
            planted.add((BreakClass.MISSING_SETTLEMENT, payout_id))
        elif k == plant_at[4]:
            status = "failed_after_paid"
            planted.add((BreakClass.PAYOUT_FAILED_AFTER_PAID, payout_id))
        elif k == plant_at[5]:
            arrival = DAY  # paid today, the bank has not booked it yet: within grace, no break
            shown = False
        payouts.append(
            PayoutRecord(payout_id, amount, CURRENCY, arrival, status, descriptor, trace)
        )
        if shown:
            lines.append(
                Entry(
                    amount=credit,
                    direction="credit",
                    booking_date=booked if k != plant_at[3] else arrival,
                    value_date=booked,
                    end_to_end_id=payout_id if k % 3 == 1 else None,
                    trace_id=trace,
                    counterparty="STRIPE PAYMENTS EUROPE LTD",
                    remittance=descriptor,
                )
            )
    # A settlement-looking credit that no payout explains.
    lines.append(
        Entry(
            amount=777_777,
            direction="credit",
            booking_date=DAY - timedelta(days=1),
            value_date=None,
            counterparty="STRIPE PAYMENTS EUROPE LTD",
            remittance="STRIPE",
            end_to_end_id="UNEXPLAINED-1",
        )
    )
    planted.add((BreakClass.UNKNOWN_BANK_CREDIT, "UNEXPLAINED-1"))
    # Everything else an account sees: customers' transfers, rent, card fees. Not gateway money.
    for n in range(max(10, len(succeeded) // 40)):
        credit_line = n % 3 != 0
        lines.append(
            Entry(
                amount=rng.randrange(100, 5_000_000),
                direction="credit" if credit_line else "debit",
                booking_date=DAY - timedelta(days=n % 6),
                value_date=None,
                end_to_end_id=f"E2E{n:09d}",
                counterparty=f"CUSTOMER {n % 997}" if credit_line else "LANDLORD GMBH",
                remittance=f"INVOICE {n}" if credit_line else "RENT",
            )
        )
    return payouts, txns, lines


def daily_statements(entries: list[Entry]) -> list[Statement]:
    """One statement per booking day, balances running from one day into the next."""
    by_day: dict[date, list[Entry]] = {}
    for entry in entries:
        by_day.setdefault(entry.booking_date, []).append(entry)
    statements = []
    balance = 250_000_000
    for sequence, day in enumerate(sorted(by_day), start=1):
        statement = Statement(
            ACCOUNT, CURRENCY, f"STMT-{day:%Y%m%d}", balance, by_day[day], sequence=sequence
        )
        statements.append(statement)
        balance = statement.closing_balance
    return statements


# -- the pandas baseline ---------------------------------------------------------------------


def pandas_frames(inputs: DayInputs, lines: Sequence[BankLine]) -> dict[str, Any]:
    import pandas as pd  # type: ignore[import-untyped]  # no stubs in the dev set

    orders = inputs.orders
    charges = inputs.charges
    txns = inputs.balance_txns
    return {
        "orders": pd.DataFrame(
            {
                "order_id": [o.order_id for o in orders],
                "status": [o.status for o in orders],
                "amount": [o.amount for o in orders],
                "currency": [o.currency for o in orders],
            }
        ),
        "charges": pd.DataFrame(
            {
                "order_id": [c.order_id for c in charges],
                "charge_id": [c.charge_id for c in charges],
                "status": [c.status for c in charges],
                "captured": [c.captured for c in charges],
                "refunded": [c.refunded for c in charges],
                "currency": [c.currency for c in charges],
            }
        ),
        "txns": pd.DataFrame(
            {
                "payout_id": [t.payout_id for t in txns],
                "source_id": [t.source_id for t in txns],
                "category": [t.reporting_category for t in txns],
                "net": [t.net for t in txns],
            }
        ),
        "payouts": pd.DataFrame(
            {
                "payout_id": [p.payout_id for p in inputs.payouts],
                "amount": [p.amount for p in inputs.payouts],
                "currency": [p.currency for p in inputs.payouts],
                "trace_id": [p.trace_id for p in inputs.payouts],
            }
        ),
        "bank": pd.DataFrame(
            {
                "amount": [line.amount for line in lines],
                "currency": [line.currency for line in lines],
                "trace_id": [line.trace_id for line in lines],
            }
        ),
    }


def pandas_joins(frames: dict[str, Any]) -> int:
    """Only the key joins a reconciliation needs, nothing judged; returns the rows joined."""
    by_order = frames["orders"].merge(frames["charges"], on="order_id", how="outer")
    by_charge = frames["charges"].merge(
        frames["txns"], left_on="charge_id", right_on="source_id", how="outer"
    )
    by_amount = frames["payouts"].merge(frames["bank"], on=["currency", "amount"], how="outer")
    by_trace = (
        frames["payouts"]
        .dropna(subset=["trace_id"])
        .merge(frames["bank"].dropna(subset=["trace_id"]), on="trace_id", how="outer")
    )
    return len(by_order) + len(by_charge) + len(by_amount) + len(by_trace)


# -- running ---------------------------------------------------------------------------------


def timed(label: str, runs: int, step: Callable[[], T]) -> tuple[float, T]:
    samples = []
    value: T | None = None
    for _ in range(runs):
        started = time.perf_counter()
        value = step()
        samples.append(time.perf_counter() - started)
    assert value is not None
    seconds = statistics.median(samples)
    spread = f"  (runs: {', '.join(f'{s:.3f}' for s in samples)})" if runs > 1 else ""
    print(f"{label:<40} {seconds:>8.3f} s{spread}")
    return seconds, value


def peak_rss_mb() -> float:
    # Linux reports kilobytes (macOS bytes; this bench runs on Linux).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def found_keys(result: ReconResult) -> set[tuple[BreakClass, str]]:
    found = set()
    for brk in result.breaks:
        key = next(
            v
            for name, v in brk.keys
            if name in ("order_id", "dispute_id", "payout_id", "end_to_end_id", "charge_id")
        )
        found.add((brk.break_class, key))
    return found


def bank_files(statements: list[Statement], directory: Path) -> tuple[list[BankLine], float]:
    """The statements written as CSV and camt.053 files by the bank sandbox and parsed back;
    returns the camt lines and the camt parser's entries per second."""
    entries = sum(len(s.entries) for s in statements)
    csv_path, camt_path = directory / "statement.csv", directory / "statement.xml"
    timed("bank: write CSV", 1, lambda: csv_path.write_bytes(write_csv(statements)))
    timed("bank: write camt.053", 1, lambda: camt_path.write_bytes(write_camt053(statements)))
    csv_data, camt_data = csv_path.read_bytes(), camt_path.read_bytes()
    csv_s, from_csv = timed(
        "bank: parse CSV", 1, lambda: parse(csv_data, tenant=TENANT, file=str(csv_path))
    )
    camt_s, from_camt = timed(
        "bank: parse camt.053",
        1,
        lambda: parse(camt_data, tenant=TENANT, file=str(camt_path), format="camt053"),
    )
    for name, parsed, seconds, size in (
        ("CSV", from_csv, csv_s, len(csv_data)),
        ("camt.053", from_camt, camt_s, len(camt_data)),
    ):
        print(
            f"  {name:<9} {len(parsed.lines):>9,} lines of {entries:,} entries, "
            f"{len(parsed.quarantined)} quarantined, checks {'pass' if parsed.clean else 'FAIL'}, "
            f"{size / 1e6:,.1f} MB, {entries / seconds:>10,.0f} entries/s"
        )
    return from_camt.lines, entries / camt_s


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each side (median)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    _, generated = timed("generate", 1, lambda: generate(args.orders, args.seed))
    # The day's records live for the whole run: a Lambda would freeze them after loading too,
    # so that garbage collections do not walk millions of objects that cannot be garbage.
    gc.collect()
    gc.freeze()
    with tempfile.TemporaryDirectory() as directory:
        lines, camt_rate = bank_files(generated.statements, Path(directory))
    generated.statements.clear()
    inputs = replace(generated.inputs, bank_lines=lines)
    print(
        f"{len(inputs.orders):,} orders, {len(inputs.charges):,} charges, "
        f"{len(inputs.balance_txns):,} balance transactions, {len(inputs.payouts):,} payouts, "
        f"{len(lines):,} bank lines"
    )

    gc.collect()
    gc.freeze()
    rss_before = peak_rss_mb()
    config = ReconConfig()

    def run_engine() -> ReconResult:
        return reconcile(inputs, config=config)

    def sample(step: Callable[[], T], into: list[float]) -> T:
        started = time.perf_counter()
        value = step()
        into.append(time.perf_counter() - started)
        return value

    engine_runs: list[float] = []
    result = sample(run_engine, engine_runs)
    # Measured before pandas' frames exist: what the reconciliation itself needs.
    rss = peak_rss_mb()
    print(f"reconcile, first run                     {engine_runs[0]:>8.3f} s")
    print(f"peak RSS: {rss_before:,.0f} MB with the day loaded, {rss:,.0f} MB after reconcile")
    found = found_keys(result)
    print(f"breaks: {len(result.breaks)} found, {len(generated.planted)} planted")
    for cls in BreakClass:
        planted_n = sum(1 for c, _ in generated.planted if c is cls)
        found_n = sum(1 for c, _ in found if c is cls)
        mark = "" if planted_n == found_n else "   <-- differs"
        print(f"  {cls.value:<30} planted {planted_n:>4}  found {found_n:>4}{mark}")
    exact = found == generated.planted
    print(f"found exactly the planted breaks: {exact}")
    if not exact:
        print(f"  missed: {sorted(generated.planted - found)[:10]}")
        print(f"  extra:  {sorted(found - generated.planted)[:10]}")

    _, frames = timed("pandas: frames from the records", 1, lambda: pandas_frames(inputs, lines))
    # The two sides take turns, so that a busy moment of the machine falls on both alike.
    pandas_runs: list[float] = []
    rows = 0
    for n in range(args.runs):
        rows = sample(lambda: pandas_joins(frames), pandas_runs)
        if n:
            sample(run_engine, engine_runs)
    reconcile_s = statistics.median(engine_runs)
    pandas_s = statistics.median(pandas_runs)
    for label, runs, median in (
        ("reconcile", engine_runs, reconcile_s),
        ("pandas: key joins only", pandas_runs, pandas_s),
    ):
        shown = ", ".join(f"{s:.3f}" for s in runs)
        print(f"{label:<40} {median:>8.3f} s  (median of runs: {shown})")
    ratio = reconcile_s / pandas_s
    print(f"reconcile / pandas joins: {ratio:.2f}x  ({rows:,} joined rows)")
    print(
        result_line(
            reconcile_s=reconcile_s,
            pandas_s=pandas_s,
            ratio=ratio,
            peak_rss_mb=round(rss),
            camt_entries_per_s=round(camt_rate),
        )
    )


if __name__ == "__main__":
    main()
