"""Reconciliation of one large tenant's day, side by side with a pandas baseline.

Generates N orders (default 1,000,000) with their charges, refunds and disputes, payouts that
sweep them with their balance transactions, and the bank account that received the payouts,
with a sprinkling of planted breaks of every class (``local.sandboxes.recon_day.generate``).
The bank lines go through the real files: written as CSV and as camt.053 by the bank sandbox
and parsed back by the bank parsers, whose throughput is printed too. Then it reconciles the
day with the engine and times a pandas baseline doing only the key joins on the same data
(orders ⋈ charges on order id, charges ⋈ balance transactions on charge id, payouts ⋈ bank on
currency and amount and on trace id).

Nothing here asserts a time. The breaks found are compared with the ones planted and printed.
The baseline uses pandas as installed (the dev extras bring no pyarrow, so its strings are
Python objects; with pyarrow importable pandas picks Arrow strings and joins faster).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import result_line

from functions.reconcile.domain.bank import parse
from functions.reconcile.domain.bank.model import BankLine
from functions.reconcile.domain.engine import ReconConfig, ReconResult, reconcile
from functions.reconcile.domain.model import BreakClass, DayInputs
from local.sandboxes.bank import Statement, write_camt053, write_csv
from local.sandboxes.recon_day import generate, named_as_planted

T = TypeVar("T")


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


def bank_files(
    statements: list[Statement], tenant: str, directory: Path
) -> tuple[list[BankLine], float]:
    """The statements written as CSV and camt.053 files by the bank sandbox and parsed back;
    returns the camt lines and the camt parser's entries per second."""
    entries = sum(len(s.entries) for s in statements)
    csv_path, camt_path = directory / "statement.csv", directory / "statement.xml"
    timed("bank: write CSV", 1, lambda: csv_path.write_bytes(write_csv(statements)))
    timed("bank: write camt.053", 1, lambda: camt_path.write_bytes(write_camt053(statements)))
    csv_data, camt_data = csv_path.read_bytes(), camt_path.read_bytes()
    csv_s, from_csv = timed(
        "bank: parse CSV", 1, lambda: parse(csv_data, tenant=tenant, file=str(csv_path))
    )
    camt_s, from_camt = timed(
        "bank: parse camt.053",
        1,
        lambda: parse(camt_data, tenant=tenant, file=str(camt_path), format="camt053"),
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
        lines, camt_rate = bank_files(
            generated.statements, generated.inputs.tenant, Path(directory)
        )
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
    found = named_as_planted(result.breaks)
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
