"""The hourly reconciliation tick fanned out over many tenants, on the local stack.

Deploys the synthesized template on moto (``local.stack``), installs ``--tenants`` tenants all
due at one tick (UTC, run hour 05, tick 2026-11-21 05:05 UTC, day 2026-11-20) and writes each
tenant's day straight into the table in the shapes the reconciliation reads: ``--orders``
orders placed and paid on the day (the order item on the status index, its change note), one
payout of the day's charges with a balance transaction per charge, and two bank credits (the
payout's settlement and one that nothing explains, so each tenant has exactly one break).

Then, in the same process, side by side:

1. **baseline**: the same tenants reconciled one after the other in one process (the tick as
   it was: a loop calling the daily reconciliation function for each tenant);
2. **fan-out**: the tick's state machine (ListDue → Map of the daily function per tenant,
   MaxConcurrency from the template → Summary), started as the schedule starts it.

Per tenant it prints the daily function's duration and memory (the process's resident memory
at its peak during the invocation less before it: what the run added; Lambda's "Max Memory
Used" adds the runtime's ~100 MB). Locally every Lambda invocation runs in this one process,
one at a time (``local.lambda_shim``), so the Map's concurrency cannot shorten the local wall
time; the bench also prints what the measured per-tenant times give when MaxConcurrency runs
of them overlap, as Lambda would run them ("projected").

moto answers a ``Query`` by sorting the whole table (``local/moto_index.py``), which would make
each tenant's time grow with the other tenants' data; the bench installs
``local.moto_index.index_queries`` so a query reads its partition, as DynamoDB's does. moto's
answers still cost ~1.4 ms per order (three items read per order), most of each tenant's time
here; the function's own CPU is printed apart.

moto keeps an item as Python objects (~4.9 KB each for these items), so 100 tenants x 10,000
orders (3 million items) would need ~15 GB: by default (``--storage compact``) the table keeps
its items in ``local.moto_compact`` (one deflated blob each, ~0.4-0.5 KB) and the day is loaded
straight into it; ``--storage moto`` writes through moto's backend as before.
``--baseline-tenants N`` runs the sequential baseline over the first N tenants only (0: none):
the RESULT line then says ``baseline_tenants=N`` and gives the baseline scaled to all tenants
apart (``baseline_scaled_s``, not measured). Ends with
``RESULT total_s=… slowest_tenant_s=… tenants=… failed=… baseline_s=… baseline_tenants=…``.
"""

from __future__ import annotations

import argparse
import functools
import heapq
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import ROOT, result_line

TICK = "2026-11-21T05:05:00+00:00"
DAY = date(2026, 11, 20)
RUN_HOUR = 5
CURRENCY = "EUR"
FEE_BP = 140  # the gateway's fee, basis points of each charge
SENTINEL_AMOUNT = 99999  # the template order's amount, replaced per order
PAGE = 4096  # /proc/self/statm counts pages


def tenant_ids(count: int) -> list[str]:
    return [f"bench-{n:04d}" for n in range(count)]


def write_tenants(path: Path, tenants: list[str]) -> None:
    path.write_text(
        json.dumps(
            {
                "tenants": [
                    {
                        "settings": {
                            "id": tenant,
                            "name": f"Bench {tenant}",
                            "currency": CURRENCY,
                            "timezone": "UTC",
                            "customer_sender": f"orders@{tenant}.example",
                            "finance_emails": [f"finance@{tenant}.example"],
                            "reconciliation": {"run_hour": RUN_HOUR},
                        },
                        "secrets": {},
                    }
                    for tenant in tenants
                ]
            }
        )
    )


# -- the day's data, straight into moto's table ---------------------------------------------------


def _order_template() -> str:
    """One placed and paid order as the processor stores it, with placeholders for the tenant,
    the order and its amount (the JSON of the real aggregate, so the loader reads the shape it
    always reads)."""
    from shared.events import Customer, LineItem, OrderPlaced, PaymentSucceeded, Source
    from shared.money import Money
    from shared.order_aggregate import OrderState, apply

    at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=10)
    total = Money.of(SENTINEL_AMOUNT, CURRENCY)
    state = OrderState(tenant="TENANTX", order_id="ORDERX")
    state = apply(
        state,
        OrderPlaced(
            tenant="TENANTX",
            source=Source.SHOP,
            source_event_id="ORDERX-placed",
            occurred_at=at,
            order_id="ORDERX",
            currency=CURRENCY,
            total=total,
            lines=(
                LineItem(line_id="l1", name="Lamp", quantity=1, unit_price=total, vendor_id="v1"),
            ),
            customer=Customer(email="buyer@example.com", name="Bench Buyer"),
        ),
    )
    state = apply(
        state,
        PaymentSucceeded(
            tenant="TENANTX",
            source=Source.STRIPE,
            source_event_id="ORDERX-paid",
            occurred_at=at + timedelta(minutes=1),
            order_id="ORDERX",
            payment_id="pi_ORDERX",
            charge_id="ch_ORDERX",
            amount=total,
        ),
    )
    assert state.status() == "paid"
    text = state.model_dump_json(exclude_none=True)
    assert str(SENTINEL_AMOUNT) in text
    return text


@dataclass
class Planted:
    items: int = 0
    orders: int = 0
    seconds: float = 0.0
    per_tenant_net: dict[str, int] = field(default_factory=dict)


def day_items(
    tenant: str, orders: int, template: str, txn_template: str
) -> Iterator[dict[str, Any]]:
    """A tenant's day as table items (wire JSON): per order its item on the status index, its
    change note and its balance transaction; then the day's payout of their net."""
    from shared import keys
    from shared.packed import packed_attribute
    from shared.settlements import PayoutState

    placed = (datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=10)).isoformat()
    expires = {"N": str(int(time.time()) + 400 * 86400)}
    payout_id = f"po_{tenant}"
    txn_template = txn_template.replace("PAYOUTX", payout_id)
    net_total = 0
    for n in range(orders):
        order_id = f"o{n:06d}"
        amount = 1000 + (n % 97) * 10
        text = (
            template.replace("TENANTX", tenant)
            .replace("ORDERX", order_id)
            .replace(str(SENTINEL_AMOUNT), str(amount))
        )
        name, value, _ = packed_attribute("state", text.encode())
        yield {
            "PK": {"S": keys.order_pk(tenant, order_id)},
            "SK": {"S": "ORDER"},
            "kind": {"S": "order"},
            "tenant": {"S": tenant},
            "order_id": {"S": order_id},
            "status": {"S": "paid"},
            "GSI2PK": {"S": keys.status_index(tenant, "paid")},
            "GSI2SK": {"S": f"{placed}#{order_id}"},
            name: value,
            "expires_at": expires,
        }
        yield {
            "PK": {"S": keys.changed_orders_pk(tenant, DAY)},
            "SK": {"S": keys.changed_order_sk(order_id)},
            "kind": {"S": "order_changed"},
            "order_id": {"S": order_id},
            "expires_at": expires,
        }
        fee = amount * FEE_BP // 10_000
        net_total += amount - fee
        txn = (
            txn_template.replace("ORDERX", order_id)
            .replace(str(SENTINEL_AMOUNT), str(amount))
            .replace("88888", str(fee))
            .replace("77777", str(amount - fee))
        )
        yield {
            "PK": {"S": keys.payout_pk(tenant, payout_id)},
            "SK": {"S": f"BT#charge#txn_{order_id}"},
            "kind": {"S": "balance_transaction"},
            "txn": {"S": txn},
            "expires_at": expires,
        }
    arrival = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=12)
    payout = PayoutState(
        tenant=tenant,
        payout_id=payout_id,
        currency=CURRENCY,
        amount=net_total,
        arrival_date=arrival,
        statement_descriptor="STRIPE",
        paid_at=arrival - timedelta(hours=2),
    )
    yield {
        "PK": {"S": keys.payout_pk(tenant, payout_id)},
        "SK": {"S": "PAYOUT"},
        "kind": {"S": "payout"},
        "GSI2PK": {"S": keys.payouts_index(tenant)},
        "GSI2SK": {"S": f"{arrival.isoformat()}#{payout_id}"},
        "state": {"S": payout.model_dump_json()},
        "expires_at": expires,
    }


def net_of_day(orders: int) -> int:
    return sum(
        amount - amount * FEE_BP // 10_000
        for amount in (1000 + (n % 97) * 10 for n in range(orders))
    )


def _txn_template() -> str:
    from shared.money import Money
    from shared.settlements import BalanceTransaction

    placed = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(hours=10)
    return BalanceTransaction(
        id="txn_ORDERX",
        amount=Money.of(SENTINEL_AMOUNT, CURRENCY),
        fee=Money.of(88888, CURRENCY),
        net=Money.of(77777, CURRENCY),
        type="charge",
        reporting_category="charge",
        source_id="ch_ORDERX",
        created=placed,
        payout_id="PAYOUTX",
    ).model_dump_json()


def plant(table: str, tenants: list[str], orders: int, storage: str) -> Planted:
    """Every tenant's day, written through moto's backend (no HTTP round trip per item) or,
    with compact storage, loaded straight into it (``local.moto_compact``: no ``Item`` built
    per item, no stream record — the day stands for data already processed)."""
    from moto.dynamodb.models import dynamodb_backends

    from functions.reconcile.adapters.bank_store import BankStore
    from functions.reconcile.domain.bank.model import BankLine, SourcePosition
    from local.moto_compact import CompactItems
    from local.stack import ACCOUNT, REGION

    backend = dynamodb_backends[ACCOUNT][REGION]
    items = backend.get_table(table).items
    write: Callable[[dict[str, Any]], Any]
    if storage == "compact":
        assert isinstance(items, CompactItems)
        write = items.load
    else:
        write = functools.partial(backend.put_item, table)
    template = _order_template()
    txn_template = _txn_template()
    net_total = net_of_day(orders)
    started = time.perf_counter()
    planted = Planted()
    bank = BankStore(table)
    for tenant in tenants:
        payout_id = f"po_{tenant}"
        for item in day_items(tenant, orders, template, txn_template):
            write(item)
            planted.items += 1
        source = SourcePosition(
            file=f"bank-statements/{tenant}/{DAY}.csv",
            file_sha256="b" * 64,
            format="csv",
            line_no=2,
            entry_index=0,
        )
        settlement = BankLine(
            tenant=tenant,
            account="NL91ABNA0417164300",
            currency=CURRENCY,
            amount=net_total,
            direction="credit",
            booking_date=DAY,
            value_date=DAY,
            source=source,
            counterparty="STRIPE PAYMENTS",
            remittance=f"STRIPE PAYOUT {payout_id}",
        )
        unexplained = BankLine(
            tenant=tenant,
            account="NL91ABNA0417164300",
            currency=CURRENCY,
            amount=4321,
            direction="credit",
            booking_date=DAY,
            value_date=DAY,
            source=SourcePosition(
                file=source.file,
                file_sha256=source.file_sha256,
                format="csv",
                line_no=3,
                entry_index=1,
            ),
            counterparty="STRIPE PAYMENTS",
            remittance="STRIPE TRANSFER",
        )
        planted.items += bank.put_lines([settlement, unexplained])
        planted.orders += orders
        planted.per_tenant_net[tenant] = net_total
    planted.seconds = time.perf_counter() - started
    return planted


# -- measuring each invocation of the daily function ---------------------------------------------


def rss_mb() -> float:
    with Path("/proc/self/statm").open() as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


@dataclass
class Invocation:
    tenant: str
    seconds: float
    # CPU of the invoking thread: the function's own work (boto3 parsing the answers, the
    # records built, the engine, the report); moto answers on its server's threads.
    cpu_s: float
    added_mb: float
    error: str | None


class DailyMeter:
    """Wraps the daily handler as the dispatcher runs it (inside its lock, so the time is the
    invocation's own): its duration and the peak resident memory it added."""

    def __init__(self, dispatcher: Any, handler_path: str) -> None:
        self.runs: list[Invocation] = []
        self._peak = 0.0
        self._sampling = threading.Event()
        self._stop = False
        original: Callable[[str], Any] = dispatcher.resolve

        def resolve(handler: str) -> Any:
            fn = original(handler)
            if handler != handler_path:
                return fn
            return lambda event, context: self._measure(fn, event, context)

        dispatcher.resolve = resolve
        threading.Thread(target=self._sample, daemon=True, name="rss-sampler").start()

    def _sample(self) -> None:
        while not self._stop:
            if self._sampling.is_set():
                self._peak = max(self._peak, rss_mb())
            time.sleep(0.005)

    def _measure(self, fn: Any, event: dict[str, Any], context: Any) -> Any:
        before = rss_mb()
        self._peak = before
        self._sampling.set()
        started = time.perf_counter()
        cpu = time.thread_time()
        error = None
        try:
            return fn(event, context)
        except Exception as exc:
            error = type(exc).__name__
            raise
        finally:
            seconds = time.perf_counter() - started
            cpu_s = time.thread_time() - cpu
            self._sampling.clear()
            peak = max(self._peak, rss_mb())
            self.runs.append(
                Invocation(event.get("tenant", "?"), seconds, cpu_s, peak - before, error)
            )

    @contextmanager
    def window(self) -> Iterator[list[Invocation]]:
        start = len(self.runs)
        taken: list[Invocation] = []
        yield taken
        taken.extend(self.runs[start:])

    def close(self) -> None:
        self._stop = True


def projected_makespan(durations: list[float], concurrency: int) -> float:
    """When the runs end if ``concurrency`` of them run at once, each next item taken by the
    first free slot (the Map's order): the wall time the measured runs give on Lambda."""
    slots = [0.0] * max(1, concurrency)
    heapq.heapify(slots)
    for seconds in durations:
        heapq.heappush(slots, heapq.heappop(slots) + seconds)
    return max(slots)


# -- the run -------------------------------------------------------------------------------------


def _fanout_machine(stack: Any) -> tuple[str, int]:
    deployment = stack.deployment
    for lid, kind in deployment.types.items():
        if kind == "AWS::StepFunctions::StateMachine" and lid.startswith("ReconciliationFanout"):
            parts = deployment.template["Resources"][lid]["Properties"]["DefinitionString"]
            text = "".join(p if isinstance(p, str) else "X" for p in parts["Fn::Join"][1])
            concurrency = int(json.loads(text)["States"]["EachTenant"]["MaxConcurrency"])
            return deployment.physical[lid], concurrency
    raise SystemExit("the template has no reconciliation fan-out state machine")


def _daily_function(stack: Any) -> str:
    deployment = stack.deployment
    for lid, kind in deployment.types.items():
        if kind == "AWS::Lambda::Function" and lid.startswith("ReconciliationDaily"):
            return str(deployment.physical[lid])
    raise SystemExit("the template has no daily reconciliation function")


def describe(label: str, runs: list[Invocation]) -> None:
    seconds = [r.seconds for r in runs]
    memory = [r.added_mb for r in runs]
    cpu = [r.cpu_s for r in runs]
    slowest = max(runs, key=lambda r: r.seconds)
    print(
        f"  {label}: {len(runs)} invocations; seconds p50 {statistics.median(seconds):.2f} "
        f"p95 {sorted(seconds)[int(0.95 * (len(seconds) - 1))]:.2f} max {slowest.seconds:.2f} "
        f"({slowest.tenant}); the function's own CPU s p50 {statistics.median(cpu):.2f} "
        f"max {max(cpu):.2f}; memory added MB p50 {statistics.median(memory):.1f} "
        f"max {max(memory):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--orders", type=int, default=1000, help="orders per tenant and day")
    parser.add_argument("--cdk-out", type=Path, default=ROOT / "build" / "bench-fanout-cdk.out")
    parser.add_argument("--no-synth", action="store_true", help="reuse --cdk-out as it is")
    parser.add_argument("--per-tenant", action="store_true", help="print every tenant's line")
    parser.add_argument("--fanout-first", action="store_true", help="the fan-out pass first")
    parser.add_argument(
        "--storage",
        choices=("compact", "moto"),
        default="compact",
        help="the table's items as compact blobs (local.moto_compact; bulk-loaded) or as "
        "moto keeps them (written through its backend)",
    )
    parser.add_argument(
        "--baseline-tenants",
        type=int,
        default=None,
        help="the sequential baseline over only the first N tenants (0: none); printed as "
        "measured over N, and scaled to all tenants apart",
    )
    args = parser.parse_args()

    from cli.toolchain import use_project_node

    use_project_node()
    from infra.synth import synthesize
    from local.moto_compact import compact_table
    from local.moto_index import index_queries
    from local.stack import LocalStack

    if not args.no_synth or not (args.cdk_out / "manifest.json").exists():
        t = time.perf_counter()
        result = synthesize(args.cdk_out)
        if result.errors:
            raise SystemExit(f"synth reported {len(result.errors)} errors")
        print(f"synth: {time.perf_counter() - t:.0f}s (not measured below)")

    tenants = tenant_ids(args.tenants)
    work = Path(tempfile.mkdtemp(prefix="ecomops-fanout-"))
    tenants_file = work / "tenants.json"
    write_tenants(tenants_file, tenants)
    index_queries()
    stack = LocalStack(args.cdk_out, tenants=tenants_file, mail_dir=work / "mail").start()
    try:
        assert stack.deployment is not None
        outputs = stack.deployment.outputs
        machine, concurrency = _fanout_machine(stack)
        daily = _daily_function(stack)
        meter = DailyMeter(stack.dispatcher, "functions.reconcile.handlers.daily.handler")
        base_rss = rss_mb()
        if args.storage == "compact":
            from moto.dynamodb.models import dynamodb_backends

            from local.stack import ACCOUNT, REGION

            compact_table(dynamodb_backends[ACCOUNT][REGION].get_table(outputs["TableName"]))
        planted = plant(outputs["TableName"], tenants, args.orders, args.storage)
        print(
            f"planted {planted.orders:,} orders of {len(tenants)} tenants "
            f"({planted.items:,} items, {args.storage} storage) in {planted.seconds:.0f}s; "
            f"process RSS {base_rss:.0f} → {rss_mb():.0f} MB",
            flush=True,
        )
        sampled = tenants if args.baseline_tenants is None else tenants[: args.baseline_tenants]

        # Both passes run warm: the function's modules imported once, on a day with no data.
        stack.invoke(daily, {"tenant": tenants[0], "day": (DAY - timedelta(days=30)).isoformat()})
        meter.runs.clear()

        def run_baseline() -> float:
            # The baseline: the tenants one after the other in one process.
            started = time.perf_counter()
            for tenant in sampled:
                answer = stack.invoke(daily, {"tenant": tenant, "day": DAY.isoformat()})
                assert answer["breaks_open"] == 1, (tenant, answer["reconciled"][0]["by_class"])
            return time.perf_counter() - started

        def run_fanout() -> tuple[float, dict[str, Any]]:
            # The fan-out: the tick's state machine, as the schedule starts it.
            sfn = stack.client("stepfunctions")
            started = time.perf_counter()
            execution = sfn.start_execution(
                stateMachineArn=machine, input=json.dumps({"time": TICK})
            )
            while True:
                described: dict[str, Any] = sfn.describe_execution(
                    executionArn=execution["executionArn"]
                )
                if described["status"] != "RUNNING":
                    return time.perf_counter() - started, described
                time.sleep(0.2)

        # The first pass over a tenant opens its break, the second finds it open: the order
        # of the passes is an option, so each can be measured second.
        if args.fanout_first:
            with meter.window() as fanned:
                total_s, described = run_fanout()
            with meter.window() as baseline:
                baseline_s = run_baseline()
        else:
            with meter.window() as baseline:
                baseline_s = run_baseline()
            with meter.window() as fanned:
                total_s, described = run_fanout()
        meter.close()
        if described["status"] != "SUCCEEDED":
            raise SystemExit(f"the tick ended {described['status']}: {described}")
        output = json.loads(described["output"])
        summary = output["summary"]
        by_tenant = {o["tenant"]: o for o in output["outcomes"]}
        wrong = [t for t in tenants if by_tenant.get(t, {}).get("breaks_open") != 1]
        if wrong:
            raise SystemExit(f"tenants without their one planted break: {wrong[:5]}")

        print(
            f"\n{len(tenants)} tenants x {args.orders:,} orders (day {DAY}), "
            f"Map MaxConcurrency {concurrency}"
        )
        if baseline:
            describe(f"baseline, sequential in one process ({len(sampled)} tenants)", baseline)
        describe("fan-out, daily function per Map item", fanned)
        if args.per_tenant:
            for run in sorted(fanned, key=lambda r: r.tenant):
                print(
                    f"    {run.tenant} {run.seconds:7.2f}s  cpu {run.cpu_s:6.2f}s "
                    f"{run.added_mb:7.1f} MB"
                )
        durations = [r.seconds for r in fanned]
        slowest = max(fanned, key=lambda r: r.seconds)
        projected = projected_makespan(durations, concurrency)
        overhead = total_s - sum(durations)
        print(f"  {'':44} {'wall s':>9} {'sum of runs s':>14}")
        baseline_label = f"baseline (sequential, {len(sampled)} tenants)"
        print(f"  {baseline_label:44} {baseline_s:9.1f} {sum(r.seconds for r in baseline):14.1f}")
        scaled = baseline_s * len(tenants) / len(sampled) if sampled else None
        if sampled and len(sampled) < len(tenants):
            print(
                f"  {'baseline scaled to ' + str(len(tenants)) + ' tenants (not measured)':44} "
                f"{scaled:9.1f}"
            )
        print(f"  {'fan-out (state machine, local)':44} {total_s:9.1f} {sum(durations):14.1f}")
        print(
            f"  {'fan-out projected at MaxConcurrency ' + str(concurrency):44} {projected:9.1f}"
            "   (the measured runs overlapped as Lambda runs them)"
        )
        print(
            f"  workflow overhead locally (ListDue, Map, Summary, reminders): {overhead:.1f}s; "
            f"summary: {summary['reconciled']} reconciled, {summary['failed']} failed"
        )
        per_order = 1000 / max(1, args.orders)
        print(
            f"  per order (median tenant): {per_order * statistics.median(durations):.2f} ms of "
            f"its run, {per_order * statistics.median(r.cpu_s for r in fanned):.2f} ms of it "
            "the function's own CPU"
        )
        print(
            result_line(
                total_s=total_s,
                slowest_tenant_s=slowest.seconds,
                tenants=summary["tenants"],
                failed=summary["failed"],
                baseline_s=baseline_s if sampled else "skipped",
                baseline_tenants=len(sampled),
                baseline_scaled_s=(
                    scaled if scaled is not None and len(sampled) < len(tenants) else "none"
                ),
                storage=args.storage,
                projected_map_s=projected,
                orders_per_tenant=args.orders,
                max_tenant_mb=max(r.added_mb for r in fanned),
                median_tenant_cpu_s=statistics.median(r.cpu_s for r in fanned),
            )
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
