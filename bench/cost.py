"""What AWS would bill for the demo's business day, per 1,000 orders, first month and month 12.

Runs ``make demo``'s day on the local stack (the very template ``cdk synth`` writes, on moto)
with the cost meter on (``local/costs``): every request our functions make, DynamoDB write
units sized from the items before and after each write (indexes included), read units, Lambda
invocations and their duration (as timed in-process, and as modelled, which is billed: the
calls' time taken out, the own work at the function's share of CPU, a latency per call), API
requests, state transitions from the execution histories, e-mails, SNS, KMS and Parameter
Store calls, log bytes, trace roots, and what stays stored in the table and the buckets with
how long it is kept. Prices come from
``local/costs/prices.json`` (each with its page and the date read). The model and its
assumptions: docs/cost.md. The outside measurement that opened issue #17 is printed beside the
figures as the baseline ($1.45 a 1,000 orders in month 1, $2.00 in month 12).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import ROOT, result_line

from local.costs.bill import TABLE_CLASSES, Volume, load_prices, storage_by_what
from local.costs.day import DIGEST_KIND, DayMeter, usage_of
from local.costs.lambda_time import by_function, load_latencies
from local.costs.report import (
    bill_lines,
    bills,
    by_service,
    floor_lines,
    floor_of,
    lambda_lines,
    later_lines,
    short_name,
)

OUTSIDE_BASELINE = {"month1": 1.45, "month12": 2.00}  # issue #17, measured from outside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None, help="where the demo writes")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--orders-per-tenant-month", type=int, default=3000)
    args = parser.parse_args()

    from cli.main import start_local_stack
    from local.demo import run_demo

    meter = DayMeter(tenants=args.tenants, show_logs=False)
    outdir = args.out or Path(tempfile.mkdtemp(prefix="ecomops-cost-"))
    lines: list[str] = []
    ok = run_demo(outdir, port=0, echo=lines.append, start=start_local_stack, observer=meter)
    if not ok:
        print("\n".join(lines))
        raise SystemExit("the demo's day failed; nothing to price")
    readings = meter.readings
    assert readings is not None
    usage = meter.usage()
    volume = Volume(args.tenants, args.orders_per_tenant_month)
    first, twelfth = bills(usage, volume)

    orders = usage.orders
    counts = readings.counts
    wcu = sum(counts.write_units.values())
    transitions = sum(readings.transitions.values())
    print("\n".join(bill_lines(usage, volume)))
    one, twelve = by_service(first), by_service(twelfth)
    print(
        f"  {'outside measurement (#17)':30} {OUTSIDE_BASELINE['month1']:9.2f} "
        f"{OUTSIDE_BASELINE['month12']:9.2f}"
    )
    print("\n".join(later_lines(usage, volume, months=(24, 48, 84))))
    other = next(c for c in TABLE_CLASSES if c != readings.table_class)
    print(
        "\n".join(
            later_lines(
                usage_of(readings, args.tenants, table_class=other),
                volume,
                title=f"the same day with the table in class {other}:",
            )
        )
    )

    print("\nper order:")
    print(
        f"  DynamoDB write units {wcu / orders:8.1f}  read units {counts.read_units / orders:8.1f}"
    )
    by_target: Counter[str] = Counter()
    by_writer: Counter[str] = Counter()
    for (function, target), units in counts.write_units.items():
        by_target[target] += units
        by_writer[short_name(function)] += units
    for target, units in by_target.most_common():
        print(f"    {target:28} {units / orders:8.1f}")
    print("  write units by item written (sort key's first part): all, then table and indexes:")
    by_item: Counter[str] = Counter()
    for (kind, _), units in counts.write_units_by_item.items():
        by_item[kind] += units
    for kind, units in by_item.most_common(12):
        parts = sorted(
            ((where, n) for (k, where), n in counts.write_units_by_item.items() if k == kind),
            key=lambda part: part[0] != "table",
        )
        print(
            f"    {kind:28} {units / orders:8.1f}  "
            + ", ".join(f"{where} {n / orders:.1f}" for where, n in parts if n)
        )
    print("  write units by function:")
    for function, units in by_writer.most_common():
        print(f"    {function or '(outside a function)':28} {units / orders:8.1f}")
    print(
        f"  state transitions {transitions / orders:6.1f} "
        + ", ".join(f"{m}={n / orders:.1f}" for m, n in readings.transitions.items())
    )
    latencies = load_latencies()
    lambda_times = by_function(counts.invocation_times, latencies)
    print("\n".join("  " + line for line in lambda_lines(lambda_times, orders, latencies)))
    print(
        f"  API requests {counts.api_requests / orders:.1f}, "
        f"e-mails {readings.emails / orders:.1f}, log KB "
        f"{counts.log_bytes / orders / 1024:.1f}, custom metrics {len(counts.metrics)}"
    )
    if readings.digest_teams:
        print(
            f"  team digests: {readings.emails_by_kind.get(DIGEST_KIND, 0)} sent today to "
            f"{readings.digest_teams} team(s), {sum(readings.emails_by_kind.values())} e-mails "
            f"in all; priced as one an hour to each team at each of {volume.tenants} tenants: "
            f"{usage.monthly.get('ses_email', 0.0):.0f} a month, "
            f"{twelfth.per_1000_fixed.get('ses_email', 0.0):.4f} per 1,000 orders"
        )
    floor = None
    if readings.happy_path_states is not None:
        floor = floor_of(usage, volume, readings.emails_by_kind, readings.happy_path_states)
        print("\n".join("  " + line for line in floor_lines(floor)))
    print("  requests by service and operation (per order):")
    for (service, operation), n in counts.requests.most_common(25):
        print(f"    {service:16} {operation:28} {n / orders:7.2f}")
    stored = sum(s.bytes for s in usage.stored if s.price.startswith("dynamodb_storage_gb_month"))
    print(
        f"  stored in the table (items and indexes, with overhead) {stored / orders / 1024:.1f} KB"
    )
    held = storage_by_what(usage, load_prices(), 12, volume)
    print(f"    {'item':28} {'KB/order':>8} {'month 12 USD/1,000 orders':>27}")
    for kind, size in readings.stored_by_item.most_common(10):
        print(f"    {kind:28} {size / orders / 1024:8.1f} {held.get(kind, 0.0):27.4f}")

    report = {
        "orders": orders,
        "month1": {"total": first.total, "by_service": one},
        "month12": {"total": twelfth.total, "by_service": twelve},
        "quantities": usage.quantities,
        "emails_by_kind": dict(readings.emails_by_kind),
        "floor_month12": None if floor is None else floor.total,
        "lambda_gb_seconds": {
            "measured": sum(t.measured_gb_s for t in lambda_times.values()),
            "modelled": sum(t.modelled_gb_s for t in lambda_times.values()),
        },
    }
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "cost.json").write_text(json.dumps(report, indent=2, default=str))
    print(
        result_line(
            usd_per_1000_orders=first.total,
            usd_per_1000_orders_month12=twelfth.total,
            wcu_per_order=wcu / orders,
            transitions_per_order=transitions / orders,
            floor_month12=floor.total if floor else float("nan"),
            baseline_month12=OUTSIDE_BASELINE["month12"],
        )
    )


if __name__ == "__main__":
    main()
