"""``make demo``: the local stack driven through what the product does, printed as it happens."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

from shared import keys

Echo = Callable[[str], None]


def wait_for_execution(sfn: Any, execution_arn: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


class Observer(Protocol):
    """Watches the demo's stack (the cost meter): from the moment it is up to just before it
    stops, when what the day left behind can still be read."""

    def started(self, stack: Any) -> None: ...

    def finished(self, stack: Any) -> None: ...


def run_demo(
    outdir: Path,
    *,
    port: int,
    echo: Echo,
    start: Callable[..., Any],
    observer: Observer | None = None,
) -> bool:
    outdir.mkdir(parents=True, exist_ok=True)
    # The e-mails of an earlier run would be counted as this day's.
    shutil.rmtree(outdir / "emails", ignore_errors=True)
    t0 = time.monotonic()
    echo("synthesizing the CDK app and deploying it into moto…")
    stack = start(port, synth=True, verbose=False, mail_dir=outdir / "emails")
    ok = True
    if observer is not None:
        observer.started(stack)
    try:
        echo(
            f"local stack ready at {stack.base_url} in {time.monotonic() - t0:.1f}s "
            f"({len(stack.deployment.physical)} resources deployed)"
        )
        ok &= _health_round_trip(stack, outdir, echo)
        ok &= _selfcheck(stack, outdir, echo)
        from local.demo_payouts import payout_cycle
        from local.sandboxes.stripe_events import LivePush
        from local.sandboxes.stripe_sandbox import StripeSandbox

        # One gateway for the whole demo: the reconciliation's refunds go to the same Stripe.
        with StripeSandbox(seed=7) as stripe_sandbox:
            stack.dispatcher.overrides["STRIPE_API_BASE"] = stripe_sandbox.base_url
            # The gateway's own events (refunds, captures) reach the stack as they happen while
            # the day and its lifecycles run, as Stripe sends them.
            push = LivePush(
                stripe_sandbox,
                base_url=stack.base_url,
                tenant="demo",
                secret=_demo_secrets().stripe,
            )
            with ExitStack() as live:
                day = _business_day(
                    stack, outdir, echo, stripe_sandbox, lambda: live.enter_context(push)
                )
                ok &= day is not None
                ok &= _lifecycles(stack, outdir, echo)
            echo(
                f"gateway events sent as they happened during the day: {push.delivered}"
                + (f", never acknowledged: {', '.join(push.failed)}" if push.failed else "")
            )
            ok &= not push.failed
            ok &= payout_cycle(stack, outdir, echo)
            if day is not None:
                ok &= _reconciliation(stack, outdir, echo, stripe_sandbox, day)
                ok &= _desks(stack, outdir, echo, stripe_sandbox, day)
            stack.dispatcher.overrides.pop("STRIPE_API_BASE", None)
        _team_digests(stack, outdir, echo)
        if observer is not None:
            observer.finished(stack)
    finally:
        stack.stop()
    return ok


def _health_round_trip(stack: Any, outdir: Path, echo: Echo) -> bool:
    t = time.monotonic()
    with urllib.request.urlopen(f"{stack.base_url}/health", timeout=30) as answer:  # noqa: S310
        status, body = answer.status, json.loads(answer.read())
    took = (time.monotonic() - t) * 1000
    (outdir / "health.json").write_text(json.dumps(body, indent=2))
    echo(
        f"GET /health → {status} {body['status']} from {body['function']} "
        f"(code {body['version']}) in {took:.0f} ms"
    )
    return bool(status == 200 and body["status"] == "ok")


def _selfcheck(stack: Any, outdir: Path, echo: Echo) -> bool:
    from functions.api.handlers.selfcheck import proof_for

    sfn = stack.client("stepfunctions")
    (machine,) = [
        arn
        for lid, arn in stack.deployment.of_type("AWS::StepFunctions::StateMachine").items()
        if "SelfCheck" in lid
    ]
    run_id = f"demo-{uuid.uuid4().hex[:8]}"
    execution = sfn.start_execution(
        stateMachineArn=machine, name=run_id, input=json.dumps({"run_id": run_id})
    )
    described = wait_for_execution(sfn, execution["executionArn"])
    table = stack.deployment.outputs["TableName"]
    item = (
        stack.client("dynamodb")
        .get_item(
            TableName=table,
            Key=dict(
                zip(("PK", "SK"), ({"S": k} for k in keys.selfcheck_proof(run_id)), strict=True)
            ),
        )
        .get("Item")
    )
    proven = bool(item) and item["proof"]["S"] == proof_for(run_id)
    (outdir / "selfcheck.json").write_text(
        json.dumps(
            {
                "execution": described["executionArn"],
                "status": described["status"],
                "output": json.loads(described.get("output") or "null"),
                "item": item,
            },
            indent=2,
            default=str,
        )
    )
    echo(
        f"self-check workflow {run_id} → {described['status']}; proof item in {table}: "
        f"{'written by the real handler' if proven else 'MISSING'}"
    )
    return described["status"] == "SUCCEEDED" and proven


DEMO_ORDERS = 40


def _demo_secrets() -> Any:
    """The sandboxes sign with the demo tenant's documented test secrets."""
    from local import tenants
    from local.sandboxes.scenario import WebhookSecrets

    (demo,) = [t for t in tenants.read().tenants if t.settings.id == "demo"]
    secrets = demo.secrets
    return WebhookSecrets(
        stripe=secrets["stripe"]["webhook_secrets"][0],
        stripe_api_key=secrets["stripe"]["api_key"],
        shop=secrets["shop"]["webhook_secrets"][0],
        shopify=secrets["shopify"]["webhook_secrets"][0],
        easypost=secrets["easypost"]["webhook_secrets"][0],
        aftership=secrets["aftership"]["webhook_secrets"][0],
        shippo_token=secrets["shippo"]["tokens"][0],
        shippo_secret=(secrets["shippo"]["webhook_secrets"] or [None])[0],
    )


def _business_day(
    stack: Any, outdir: Path, echo: Echo, stripe_sandbox: Any, go_live: Callable[[], object]
) -> Any:
    """The sandboxes play a day: shop and Shopify orders, Stripe payments, refunds, disputes and
    a payout, carrier tracking from EasyPost, AfterShip and Shippo, delivered with duplicates and
    out of order, as the real senders do."""
    from functions.webhooks.composition import event_stats
    from local.demo_payouts import install_vendors
    from local.sandboxes.delivery import Deliverer
    from local.sandboxes.scenario import Mix, ScenarioConfig, business_day

    t = time.monotonic()
    table = stack.deployment.outputs["TableName"]
    _install_rules(table, echo)
    install_vendors(table, echo)
    config = ScenarioConfig(
        base_url=stack.base_url,
        tenant="demo",
        orders=DEMO_ORDERS,
        seed=7,
        secrets=_demo_secrets(),
        # Four disputes: two are decided during the day, two left for the desk to answer.
        mix=Mix(fraud=PLANTED_FRAUD, disputes=4, early_fraud_warnings=1),
    )
    scenario = business_day(config, stripe=stripe_sandbox)
    go_live()  # after planning: the plan drains what the gateway did to make the day
    echo(
        f"sandboxes planned a day of {len(scenario.orders)} orders: "
        f"{scenario.unique_deliveries()} webhooks "
        + ", ".join(f"{k}={v}" for k, v in scenario.counts().items())
    )
    reviewer = _Reviewer(stack)
    reviewer.start()
    try:
        # The day's ~800 deliveries take three to seven minutes on a 2-core machine (the local
        # runtime runs one invocation at a time, and a marketplace's orders also post to the
        # vendor ledger and mail their vendors): the bound is there to stop a stuck run, not to
        # race it.
        # A sender retries a delivery that got no answer for longer than the local runtime
        # (one invocation at a time) may take to answer on a busy minute: as the real senders
        # do, if for seconds rather than days.
        report = Deliverer(
            duplicate_rate=0.2,
            reorder="window",
            reorder_window=25,
            concurrency=4,
            max_attempts=8,
            backoff_max=1.0,
            seed=7,
            deadline=600.0,
        ).deliver(scenario.deliveries)
    finally:
        reviewer.stop()
    echo(f"client team during the day: {reviewer.summary()}")
    echo(f"delivered: {report.summary()}")
    stack.wait_idle(300)
    _screenings(table, scenario, outdir, echo)
    stats = event_stats(table, "demo", stack.deployment.outputs.get("DeadLetterQueue"))
    (outdir / "events-stats.json").write_text(json.dumps(stats, indent=2))
    echo(
        f"stored {stats['raw_events_total']} events (duplicates stored once); "
        f"dead letters: {stats.get('dead_letters', 0)}"
    )
    echo("orders by status:")
    for status, count in sorted(stats["orders_by_status"].items(), key=lambda kv: -kv[1]):
        echo(f"  {status:20} {count:5}")
    payouts = _payout_summaries(stack, table)
    (outdir / "payouts.json").write_text(json.dumps(payouts, indent=2))
    for payout in payouts:
        echo(
            f"payout {payout['payout_id']}: {payout['status']} {payout['amount']} "
            f"{payout['currency']}, {payout['transactions']} balance transactions filed by "
            f"category {payout['categories']}"
        )
    echo(
        f"business day took {time.monotonic() - t:.1f}s; try "
        "`ecomops orders show --tenant demo <order> --local <url>` on a running `local up`"
    )
    expected_orders = {o.order_id for o in scenario.orders}
    ok = (
        report.all_acknowledged
        and stats.get("dead_letters", 0) == 0
        and sum(stats["orders_by_status"].values()) >= len(expected_orders)
    )
    return scenario if ok else None


PLANTED_FRAUD = (("card_testing", 7), ("disposable", 2), ("geo_ring", 3))
DEMO_RULES = Path(__file__).with_name("rules.demo.yaml")


def _install_rules(table: str, echo: Echo) -> None:
    """The demo tenant's rules, saved as an operator saves them (validated, versioned)."""
    import yaml

    from functions.risk.composition import build_admin

    stored = build_admin(table).save_rules(
        "demo", "*", yaml.safe_load(DEMO_RULES.read_text()), "demo (make demo)"
    )
    echo(
        f"screening rules for demo saved as version {stored.version} "
        f"({len(stored.body['rules'])} CEL rules, {DEMO_RULES.name})"
    )


def _planted_pattern(order: Any) -> str | None:
    if order.customer.ip == "185.220.101.7":
        return "card_testing"
    if order.customer.email.endswith("@guerrillamail.com"):
        return "disposable"
    if order.customer.ip.startswith("105.112."):
        return "geo_ring"
    return None


def _screenings(table: str, scenario: Any, outdir: Path, echo: Echo) -> None:
    """Every order's screening: decisions counted, each review and block with its reasons."""
    from collections import Counter

    from shared.lifecycle_store import LifecycleStore

    store = LifecycleStore(table)
    decisions: Counter[str] = Counter()
    flagged = []
    rows = []
    for order in scenario.orders:
        screening = store.screening("demo", order.order_id)
        if screening is None:
            continue
        pattern = _planted_pattern(order)
        decisions[screening["decision"]] += 1
        row = {
            "order_id": order.order_id,
            "planted": pattern,
            "decision": screening["decision"],
            "score": screening["score"],
            "reasons": screening["reasons"],
            "rules": screening.get("matched_rules", []),
            "ruleset": screening.get("ruleset_version"),
        }
        rows.append(row)
        if screening["decision"] != "allow" or pattern:
            flagged.append(row)
    (outdir / "screenings.json").write_text(json.dumps(rows, indent=2))
    version = next((r["ruleset"] for r in rows), "?")
    echo(
        f"screened {len(rows)} orders with {version}: "
        + ", ".join(f"{d} {decisions[d]}" for d in ("allow", "review", "block"))
    )
    for row in sorted(flagged, key=lambda r: (r["planted"] or "~", r["order_id"])):
        planted = f"[{row['planted']}]" if row["planted"] else "[organic]"
        reasons = "; ".join(row["reasons"]) or "no rule matched"
        echo(f"  {row['decision']:6} {row['score']:>3} {row['order_id']:16} {planted:15} {reasons}")


def _deliver_gateway_events(stack: Any, stripe_sandbox: Any, wait_s: float = 0.0) -> int:
    """What the gateway did since the day's deliveries (refunds asked by lifecycles and by
    reconciliation) reaches the stack as Stripe's signed webhooks. ``wait_s``: how long to
    wait for the refund workflows to reach the gateway first."""
    from local.sandboxes.delivery import Deliverer
    from local.sandboxes.stripe_events import stripe_deliveries

    deadline = time.monotonic() + wait_s
    events = stripe_sandbox.drain_events()
    while not events and time.monotonic() < deadline:
        time.sleep(0.5)
        events = stripe_sandbox.drain_events()
    if not events:
        return 0
    deliveries = stripe_deliveries(
        events, base_url=stack.base_url, tenant="demo", secret=_demo_secrets().stripe
    )
    Deliverer(concurrency=2, seed=7).deliver(deliveries)
    stack.wait_idle(120)
    return len(events)


def _reconciliation(
    stack: Any, outdir: Path, echo: Echo, stripe_sandbox: Any, scenario: Any
) -> bool:
    """The bank's statement for the payout (short by a fee the bank took), a copy of the same
    file dropped again and a damaged file, then the day reconciled, its duplicates refunded
    through the refund workflow and Stripe, and the day re-run without refunding twice."""
    from datetime import UTC, datetime

    from local.sandboxes.bank import BankSandbox

    t = time.monotonic()
    outputs = stack.deployment.outputs
    s3 = stack.client("s3")
    bucket = outputs["BankStatementsBucket"]
    delivered = _deliver_gateway_events(stack, stripe_sandbox)
    if delivered:
        echo(f"gateway events since the day (refunds of cancelled orders): {delivered} delivered")
    payout_id = scenario.expected.payout_id
    payout = stripe_sandbox.get(payout_id)
    arrival = datetime.fromtimestamp(payout["arrival_date"], UTC).date()
    bank = BankSandbox(tenant="demo", seed=7)
    statement = bank.day(arrival, [payout], anomalies={payout_id: "short"}, unknown_credits=2)
    camt = statement.write("camt053")
    for name, body in (
        (f"{arrival}-camt053.xml", camt),
        (f"{arrival}-camt053-resent.xml", camt),
        (f"{arrival}-damaged.sta", b":20:STMT\n:25:DE89370400440532013000\n:61:garbage\n"),
    ):
        s3.put_object(Bucket=bucket, Key=f"bank-statements/demo/{name}", Body=body)
    # S3 notifies on its own thread, as S3 does: wait until the intake has recorded each drop.
    deadline = time.monotonic() + 60
    files = _bank_files(outputs["TableName"])
    while len(files) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
        files = _bank_files(outputs["TableName"])
    for record in files:
        echo(
            f"bank file {record['key'].rsplit('/', 1)[-1]}: {record['status']}"
            + (f", {record['lines']} lines" if "lines" in record else "")
            + (
                f", {record['quarantined_count']} quarantined"
                if record.get("quarantined_count")
                else ""
            )
            + (f" ({record['reason']})" if record.get("reason") else "")
        )
    planted = ", ".join(f"{a.kind} {a.payout_id or ''}".strip() for a in statement.anomalies)
    echo(f"bank sandbox planted: {planted}")

    function = outputs["ReconcileFunction"]
    day = scenario.config.start.date()
    days = sorted({day, arrival})
    summaries = []
    for each in days:
        result = stack.invoke(function, {"tenant": "demo", "day": each.isoformat()})
        summaries.append(result["reconciled"][0])
    refunded = _deliver_gateway_events(stack, stripe_sandbox, wait_s=30)
    again = stack.invoke(function, {"tenant": "demo", "day": days[-1].isoformat()})
    (outdir / "reconciliation.json").write_text(
        json.dumps({"runs": summaries, "rerun": again}, indent=2, default=str)
    )
    last = summaries[-1]
    echo(
        f"reconciliation of {', '.join(d.isoformat() for d in days)} "
        f"({time.monotonic() - t:.0f}s): {last['counts']['breaks_open']} open breaks, "
        f"{last['counts']['settlements_matched']} of {last['counts']['payouts']} payouts "
        "settled in the bank"
    )
    for name, count in sorted(last["by_class"].items(), key=lambda kv: -kv[1]):
        echo(f"  {name:30} {count:5}")
    taken: dict[str, int] = {}
    for summary in summaries:
        for status, count in summary.get("actions", {}).items():
            taken[status] = taken.get(status, 0) + count
    echo(
        "  actions: "
        + (", ".join(f"{k} {v}" for k, v in sorted(taken.items())) or "none")
        + f"; gateway confirmed {refunded} refund events"
    )
    rerun = again["reconciled"][0]
    echo(
        f"  re-run of {days[-1]}: {rerun['counts']['breaks_opened']} new breaks, actions "
        + (", ".join(f"{k} {v}" for k, v in sorted(rerun.get("actions", {}).items())) or "none")
    )
    reports = s3.list_objects_v2(Bucket=outputs["ReportsBucket"], Prefix="reports/demo/")
    for obj in reports.get("Contents", []):
        if obj["Key"].endswith("report.html"):
            body = s3.get_object(Bucket=outputs["ReportsBucket"], Key=obj["Key"])["Body"].read()
            target = outdir / ("reconciliation-" + "-".join(obj["Key"].split("/")[-4:-1]) + ".html")
            target.write_bytes(body)
            echo(f"  report: {target}")
    return len(summaries) == len(days) and not rerun.get("actions", {}).get("requested")


def _desks(stack: Any, outdir: Path, echo: Echo, stripe_sandbox: Any, scenario: Any) -> bool:
    """The desks after the day: chargebacks, early fraud warnings, the day's summary and the
    customers' and finance's questions (local/demo_desks.py), each part checked on its own."""
    from local import demo_desks

    parts: list[tuple[str, Callable[[], bool]]] = [
        (
            "chargeback desk",
            lambda: demo_desks.chargebacks(
                stack,
                outdir,
                echo,
                stripe_sandbox,
                scenario,
                lambda: _deliver_gateway_events(stack, stripe_sandbox, wait_s=10),
            ),
        ),
        (
            "early fraud warning",
            lambda: demo_desks.early_fraud_warnings(stack, echo, stripe_sandbox, scenario),
        ),
        ("daily summary", lambda: demo_desks.daily_summary(stack, outdir, echo, scenario)),
        ("queries", lambda: demo_desks.queries(stack, outdir, echo, scenario)),
    ]
    ok = True
    for name, part in parts:
        t = time.monotonic()
        try:
            held = part()
        except Exception as error:  # one part failing must not hide the others
            import traceback

            echo(f"{name}: FAILED with {type(error).__name__}: {error}")
            echo(traceback.format_exc())
            held = False
        echo(f"{name}: {'ok' if held else 'FAILED'} ({time.monotonic() - t:.1f}s)")
        ok &= held
    return ok


def _team_digests(stack: Any, outdir: Path, echo: Echo) -> None:
    """The day's routine notices (orders not dispatched in time, parcels in trouble) reach the
    client team as its hourly digest: the reports function's next tick, run now."""
    from datetime import UTC, datetime, timedelta

    next_tick = datetime.now(UTC) + timedelta(hours=1)
    result = stack.invoke(
        stack.deployment.outputs["ReportsFunction"],
        {"digests": True, "time": next_tick.isoformat()},
    )
    digests = result.get("digests", [])
    (outdir / "digests.json").write_text(json.dumps(digests, indent=2))
    echo(
        "team digests of routine notices: "
        + (
            ", ".join(f"{d['team']} {d['notices']} notices in one e-mail" for d in digests)
            if digests
            else "none held"
        )
    )


def _bank_files(table: str) -> list[dict[str, Any]]:
    from shared import aws

    items = aws.client("dynamodb").query(
        TableName=table,
        IndexName="ByStatus",
        KeyConditionExpression="GSI2PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.bank_files_index("demo")}},
    )["Items"]
    return [json.loads(item["record"]["S"]) for item in items]


def _payout_summaries(stack: Any, table: str) -> list[dict[str, Any]]:
    ddb = stack.client("dynamodb")
    items = ddb.query(
        TableName=table,
        IndexName="ByStatus",
        KeyConditionExpression="GSI2PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.payouts_index("demo")}},
    )["Items"]
    summaries = []
    for found in items:
        # The index keeps the payout's keys and status, not its fields: read it whole.
        item = ddb.get_item(TableName=table, Key={"PK": found["PK"], "SK": found["SK"]})["Item"]
        pk = keys.payout_pk("demo", item["payout_id"]["S"])
        summary = ddb.get_item(TableName=table, Key={"PK": {"S": pk}, "SK": {"S": "SUMMARY"}}).get(
            "Item", {}
        )
        summaries.append(
            {
                "payout_id": item["payout_id"]["S"],
                "status": item["status"]["S"],
                "amount": int(item["amount"]["N"]),
                "currency": item["currency"]["S"],
                "transactions": int(summary.get("transactions", {}).get("N", "0")),
                "categories": json.loads(summary.get("categories", {}).get("S", "{}")),
            }
        )
    return summaries


def _lifecycles(stack: Any, outdir: Path, echo: Echo) -> bool:
    """Let every order's lifecycle run out, and show where each ended."""
    from collections import Counter

    t = time.monotonic()
    sfn = stack.client("stepfunctions")
    machine = stack.deployment.outputs["LifecycleStateMachine"]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")
        if not running["executions"]:
            break
        time.sleep(1)
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    ends: Counter[str] = Counter()
    rows = []
    for execution in executions:
        end = _final_state(sfn, execution)
        ends[end] += 1
        rows.append(
            {"execution": execution["name"], "status": execution["status"], "final_state": end}
        )
    (outdir / "lifecycles.json").write_text(json.dumps(rows, indent=2))
    echo(
        f"order lifecycles ({len(executions)}) by final state, after "
        f"{time.monotonic() - t:.0f}s (a lifecycle day lasts {stack.seconds_per_day}s here):"
    )
    for end, count in ends.most_common():
        echo(f"  {end:28} {count:5}")
    emails = Counter(p.name.split("-")[0] for p in (outdir / "emails").glob("*.eml"))
    echo(
        f"e-mails written to {outdir / 'emails'}: "
        + ", ".join(f"{kind}={count}" for kind, count in sorted(emails.items()))
    )
    return bool(executions) and "RUNNING" not in {row["status"] for row in rows}


def _final_state(sfn: Any, execution: dict[str, Any]) -> str:
    if execution["status"] in ("ABORTED", "FAILED") and "stopDate" in execution:
        history = sfn.get_execution_history(
            executionArn=execution["executionArn"], reverseOrder=True, maxResults=5
        )["events"]
        if any(e["type"] in ("ExecutionAborted", "ExecutionFailed") for e in history):
            # A stopped lifecycle: the shop or an operator cancelled the order.
            return "Cancelled by shop/operator"
    if execution["status"] != "SUCCEEDED":
        return str(execution["status"])
    pages = sfn.get_paginator("get_execution_history")
    events = [
        e for page in pages.paginate(executionArn=execution["executionArn"]) for e in page["events"]
    ]
    # Its end state: the step that ended it (ReleaseFunds, a cancel) or a Succeed state. Newest
    # first by id: moto answers oldest first whatever reverseOrder says.
    for event in sorted(events, key=lambda e: int(e["id"]), reverse=True):
        if event["type"].endswith("StateEntered"):
            return str(event["stateEnteredEventDetails"]["name"])
    return str(execution["status"])


class _Reviewer:
    """The client team at work during the day: of the orders held as potential fraud it approves
    most, rejects one in four and leaves one in five to time out (cancelled and refunded)."""

    def __init__(self, stack: Any) -> None:
        import threading

        from shared.lifecycle_store import LifecycleStore

        self.stack = stack
        self.store = LifecycleStore(stack.deployment.outputs["TableName"])
        self.steps = next(
            name
            for lid, name in stack.deployment.physical.items()
            if lid.startswith("OrdersLifecycleSteps")
            and stack.deployment.types[lid] == "AWS::Lambda::Function"
        )
        self.decided: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="demo-reviewer")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            for item in self.store.in_stage("demo", "potential_fraud"):
                order_id = item["order_id"]
                if order_id in self.decided:
                    continue
                n = len(self.decided)
                decision = "ignore" if n % 5 == 4 else "reject" if n % 4 == 1 else "approve"
                self.decided[order_id] = decision
                if decision != "ignore":
                    self.stack.invoke(
                        self.steps,
                        {
                            "action": "decide",
                            "tenant": "demo",
                            "order_id": order_id,
                            "decision": decision,
                            "by": "demo",
                        },
                    )

    def summary(self) -> str:
        from collections import Counter

        counts = Counter(self.decided.values())
        return (
            f"{len(self.decided)} held as potential fraud: {counts['approve']} approved, "
            f"{counts['reject']} rejected, {counts['ignore']} left to time out"
        )
