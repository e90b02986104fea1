"""``make demo``'s desks after the business day (issues 15 and 16): the chargeback desk works the
day's disputes (cases with their drafts, one submitted, one accepted), an early fraud warning
cancels an unshipped order, the day's business summary, and one customer or payment query of
each kind answered from the day's records. Each part prints one screen and says whether it
held; the calls are the ones the operator CLI and API make."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

Echo = Callable[[str], None]
TENANT = "demo"
BY = "demo (make demo)"
# Cases still open for an answer (a chargeback not yet submitted, accepted or decided).
_ANSWERABLE = ("new", "collecting", "ready")
# What each customer question is asked about; the first listed kind of order that exists.
CUSTOMER_QUESTIONS = ("charged_twice", "refund_not_received", "failed_but_charged")
# Lines of one answer shown on the screen (the whole answer is written to the output folder).
ANSWER_LINES = 6


# -- pure helpers (tests/unit/test_demo_desks.py) ---------------------------------------------


def representment_picks(views: Iterable[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """The operator's morning: of the open chargebacks (case views, nearest deadline first),
    submit the first the desk suggests fighting (else the first) and accept another (one the
    desk suggests accepting, if any)."""
    answerable = [
        v
        for v in views
        if v["kind"] == "chargeback" and v["state"] in _ANSWERABLE and v["order_id"]
    ]
    if not answerable:
        return None, None
    fight = [v for v in answerable if v["suggestion"]["action"] == "fight"]
    submit = (fight or answerable)[0]
    rest = [v for v in answerable if v is not submit]
    accept = [v for v in rest if v["suggestion"]["action"] == "accept"] or rest
    return submit["dispute_id"], accept[0]["dispute_id"] if accept else None


def query_orders(orders: Mapping[str, Any]) -> dict[str, str | None]:
    """Which of the day's orders (the scenario's expectations by order id) each customer
    question is asked about: a double payment, a refund, a failed payment (one later paid if
    the day has it, else the failed one: the answer is then that nothing was charged)."""

    def first(*tests: Callable[[Any], bool]) -> str | None:
        for test in tests:
            found = sorted(o.order_id for o in orders.values() if test(o))
            if found:
                return str(found[0])
        return None

    return {
        "charged_twice": first(lambda o: o.duplicate_payment),
        "refund_not_received": first(
            lambda o: o.refunded and not o.cancelled, lambda o: o.refunded
        ),
        "failed_but_charged": first(
            lambda o: o.failed_payments and o.paid, lambda o: o.failed_payments
        ),
    }


def answer_page(title: str, text: str, *, subtitle: str = "") -> str:
    """One answer as a page an operator would read (the text answer, its evidence and the
    suggested action set apart)."""
    lines = text.splitlines()
    body = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("Suggested action:"):
            body.append(f'<p class="action">{html.escape(stripped)}</p>')
        elif line.startswith((" ", "-", "•")):
            body.append(f"<li>{html.escape(stripped.lstrip('-• '))}</li>")
        elif stripped:
            body.append(f"<p>{html.escape(stripped)}</p>")
    joined = "\n".join(body).replace("</li>\n<li>", "</li><li>")
    joined = joined.replace("<li>", "<ul><li>", 1) if "<li>" in joined else joined
    if "<ul>" in joined:
        last = joined.rfind("</li>")
        joined = joined[: last + 5] + "</ul>" + joined[last + 5 :]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
       background: #f4f5f7; color: #1f2328; }}
main {{ max-width: 760px; margin: 24px auto; background: #fff; border-radius: 8px;
       padding: 24px 32px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
h1 {{ font-size: 20px; margin: 0 0 4px; }} .sub {{ color: #59636e; margin: 0 0 16px; }}
ul {{ padding-left: 20px; color: #31373d; font-size: 14px; }}
.action {{ background: #e7f3ec; border-left: 4px solid #1a7f37; padding: 8px 12px; }}
</style></head>
<body><main><h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>
{joined}
</main></body></html>
"""


def _shown(text: str, limit: int = ANSWER_LINES) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) <= limit:
        return lines
    return [*lines[: limit - 1], f"… ({len(lines) - limit + 1} more lines in the saved answer)"]


class _AskedAt:
    """The questions are asked on a given morning after the day, not on today's date."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@contextmanager
def _gateway(base_url: str) -> Iterator[None]:
    """The desk's Stripe calls go to the demo's sandbox, as the deployed functions' do."""
    previous = os.environ.get("STRIPE_API_BASE")
    os.environ["STRIPE_API_BASE"] = base_url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("STRIPE_API_BASE", None)
        else:
            os.environ["STRIPE_API_BASE"] = previous


# -- #15: the chargeback desk ----------------------------------------------------------------


def chargebacks(
    stack: Any,
    outdir: Path,
    echo: Echo,
    stripe_sandbox: Any,
    scenario: Any,
    forward: Callable[[], int],
) -> bool:
    """The cases the processor opened for the day's disputes, each with its draft, suggestion
    and deadline; then one submitted and one accepted through the desk's use cases against the
    Stripe sandbox, and what Stripe said back delivered to the stack as its webhooks."""
    from functions.disputes.composition import DisputesSettings, build_ports
    from functions.disputes.domain.register import case_view, ordered
    from functions.disputes.use_cases.representment import accept_case, submit_case

    table = stack.deployment.outputs["TableName"]
    expected = {o.dispute_id: o.order_id for o in scenario.expected.orders.values() if o.dispute_id}
    with _gateway(stripe_sandbox.base_url):
        desk = build_ports(
            DisputesSettings(table_name=table, tenant_secret_prefix=stack.tenant_secret_prefix)
        )

        def views() -> list[dict[str, Any]]:
            return [
                case_view(c)
                for c in ordered(
                    desk.cases.cases(TENANT, "open"), desk.cases.cases(TENANT, "closed")
                )
            ]

        opened = views()
        echo(
            f"chargeback desk: {len(opened)} case(s) opened by the processor for the day's "
            f"{len(expected)} Stripe disputes (open first, nearest deadline first):"
        )
        for view in opened:
            evidence = view["evidence"]
            echo(
                f"  {view['dispute_id']:28} {view['state']:10} {view['amount_text']:>11} "
                f"{view['reason'] or '-':12} order {view['order_id'] or '-'}  "
                f"due {view['evidence_due_by'] or '-'}"
            )
            if view["state"] not in _ANSWERABLE:
                # Decided during the day (the shop answered Stripe itself, or did not).
                echo(f"    decided during the day: Stripe says {view['stripe_status']}")
                continue
            echo(
                f"    draft: {len(evidence['fields'])} fields, {len(evidence['files'])} files, "
                f"{len(evidence['missing'])} missing; suggestion: "
                f"{view['suggestion']['action']} — {view['suggestion']['reason']}"
            )
        to_submit, to_accept = representment_picks(opened)
        done: dict[str, tuple[str, str]] = {}
        if to_submit:
            done[to_submit] = ("submitted", str(submit_case(desk, TENANT, to_submit, by=BY).state))
        if to_accept:
            done[to_accept] = ("accepted", str(accept_case(desk, TENANT, to_accept, by=BY).state))
        delivered = forward()
        after = {v["dispute_id"]: v for v in views()}
    (outdir / "disputes.json").write_text(json.dumps(list(after.values()), indent=2))
    for dispute_id, (action, state) in done.items():
        stripe_status = stripe_sandbox.get(dispute_id)["status"]
        echo(
            f"  operator {action} {dispute_id}: case {state} → {after[dispute_id]['state']} "
            f"after Stripe's events; Stripe says {stripe_status}"
        )
    echo(f"  Stripe's answers delivered back as {delivered} webhook(s)")
    answerable = [v for v in opened if v["state"] in _ANSWERABLE]
    return (
        set(expected) <= {v["dispute_id"] for v in opened}
        and all(v["order_id"] and v["evidence"]["fields"] for v in answerable)
        and to_submit is not None
        and to_accept is not None
        and after[to_submit]["state"] == "submitted"
        and stripe_sandbox.get(to_submit)["status"] == "under_review"
        and after[to_accept]["state"] == "accepted"
        and stripe_sandbox.get(to_accept)["status"] == "lost"
    )


def early_fraud_warnings(stack: Any, echo: Echo, stripe_sandbox: Any, scenario: Any) -> bool:
    """Each order the issuer warned of fraud before it shipped: cancelled, refunded once."""
    import stripe

    from local.demo import _demo_secrets
    from shared.lifecycle_store import LifecycleStore
    from shared.money import Money
    from shared.order_store import OrderStore

    warned = [o for o in scenario.expected.orders.values() if o.early_fraud_warning]
    client = stripe.StripeClient(
        _demo_secrets().stripe_api_key, base_addresses={"api": stripe_sandbox.base_url}
    )
    table = stack.deployment.outputs["TableName"]
    store, lifecycles = OrderStore(table), LifecycleStore(table)
    cancelled = lifecycles.in_stage(TENANT, "cancelled")
    cancelled_by = {item["order_id"]: item.get("detail", "") for item in cancelled}
    ok = bool(warned)
    for order in warned:
        state, _ = store.load(TENANT, order.order_id)
        refunds = [
            refund
            for pi in order.payment_intents
            for refund in client.v1.refunds.list(params={"payment_intent": pi}).data
        ]
        refunded = sum(r.amount for r in refunds if r.status == "succeeded")
        on_order = sum(len(p.refunds) for p in state.payments.values())
        # The desk cancels as an operator does: the lifecycle stops at "cancelled", the
        # warning named as the reason.
        stage = lifecycles.stage(TENANT, order.order_id)
        why = cancelled_by.get(order.order_id) or "no reason recorded"
        outcome = f"cancelled ({why})" if stage == "cancelled" else f"NOT cancelled ({stage})"
        echo(
            f"early fraud warning {order.early_fraud_warning} on {order.order_id} "
            f"(paid {Money.of(order.captured, order.currency).format(grouping=True)}, "
            f"{'shipped' if state.shipments else 'not shipped'}): "
            f"order {outcome}, "
            f"{len(refunds)} refund(s) at Stripe of "
            f"{Money.of(refunded, order.currency).format(grouping=True)} "
            f"(reason {refunds[0].reason if refunds else '-'}), {on_order} on the order"
        )
        ok &= (
            stage == "cancelled"
            and str(order.early_fraud_warning) in why
            and not state.shipments
            and len(refunds) == 1
            and refunded == order.captured
            and on_order == 1
        )
    return ok


# -- #16: the day's summary and queries ------------------------------------------------------


def local_day(scenario: Any, timezone: str) -> date:
    start: datetime = scenario.config.start
    return start.astimezone(ZoneInfo(timezone)).date()


def daily_summary(stack: Any, outdir: Path, echo: Echo, scenario: Any) -> bool:
    """The business summary of the demo's day, as the morning tick builds it."""
    from functions.reports.composition import ReportsSettings, reports_ports
    from functions.reports.domain.periods import PeriodKind
    from functions.reports.domain.summary import summary_json
    from functions.reports.use_cases.summary import business_summary

    outputs = stack.deployment.outputs
    ports = reports_ports(
        ReportsSettings(
            table_name=outputs["TableName"], reports_bucket=outputs.get("ReportsBucket")
        )
    )
    settings = ports.tenant(TENANT)
    day = local_day(scenario, settings.timezone)
    summary = business_summary(ports, TENANT, PeriodKind.DAILY, day)
    (outdir / "summary.json").write_text(json.dumps(summary_json(summary), indent=2, default=str))
    echo(summary.title)
    for section in summary.sections:
        shown = [f for f in section.figures if f.current]
        for row in range(0, len(shown), 3):
            echo(
                f"  {section.currency}  "
                + " · ".join(f"{f.label} {f.text(f.current)}" for f in shown[row : row + 3])
            )
    counts = [f for f in summary.figures if f.current]
    for row in range(0, len(counts), 4):
        echo("  " + " · ".join(f"{f.label} {f.text(f.current)}" for f in counts[row : row + 4]))
    placed = next((f.current for f in summary.figures if f.key == "placed"), None)
    paid = sum(f.current or 0 for s in summary.sections for f in s.figures if f.key == "orders")
    echo(
        f"  checked: {placed} orders placed of the {len(scenario.orders)} the sandboxes placed; "
        f"{paid} paid"
    )
    return placed == len(scenario.orders) and paid > 0


def queries(stack: Any, outdir: Path, echo: Echo, scenario: Any) -> bool:
    """One customer question of each kind about the day's orders, and the two payment
    questions (the payout's net explained, the day paid for), asked the morning after the
    payout reached the bank. Each answer is also saved as text and as a page."""
    from functions.reconcile.composition import settled_payouts_reader
    from functions.reports.queries.composition import build_queries
    from functions.reports.queries.use_cases.customer import answer_customer_question
    from functions.reports.queries.use_cases.payments import (
        explain_payout_query,
        paid_for_days_query,
    )

    table = stack.deployment.outputs["TableName"]
    payout = scenario.stripe.get(scenario.expected.payout_id)
    arrival = datetime.fromtimestamp(payout["arrival_date"], UTC).date()
    asked = datetime.combine(arrival + timedelta(days=1), time(9), UTC)
    services = build_queries(table, _AskedAt(asked), settled_payouts_reader(table))
    settings = services.tenant(TENANT)
    if settings is None:
        echo(f"queries: tenant {TENANT} has no settings")
        return False
    folder = outdir / "queries"
    folder.mkdir(exist_ok=True)
    echo(f"queries asked on {asked:%Y-%m-%d %H:%M} UTC, answered from our records:")

    def show(name: str, title: str, subtitle: str, text: str) -> None:
        (folder / f"{name}.txt").write_text(text + "\n")
        (folder / f"{name}.html").write_text(answer_page(title, text, subtitle=subtitle))
        echo(f"  {title} — {subtitle}")
        for line in _shown(text):
            echo(f"    {line}")

    ok = True
    for question, order_id in query_orders(scenario.expected.orders).items():
        if order_id is None:
            echo(f"  {question}: the day has no order to ask about")
            ok = False
            continue
        answer = answer_customer_question(services.orders(), TENANT, order_id, question, asked)
        words = question.replace("_", " ")
        show(
            question.replace("_", "-"),
            f"“{words.capitalize()}”",
            f"order {order_id}: {answer.finding.value}",
            answer.text(),
        )
        ok &= answer.finding.value != "order_not_found"
    explained = explain_payout_query(
        services.settlements(), services.settled_payouts(), settings, payout["id"], asked.date()
    )
    if explained is None:
        echo(f"  payout {payout['id']}: nothing found")
        ok = False
    else:
        show("payout", "How did the bank arrive at this net?", payout["id"], explained.text())
    day = local_day(scenario, settings.timezone)
    paid = paid_for_days_query(
        services.settlements(),
        services.settled_payouts(),
        services.orders(),
        settings,
        day,
        day,
        asked.date(),
    )
    show("paid-for-days", "Have we been paid for these days?", f"{day} to {day}", paid.text())
    ok &= bool(paid.as_dict()["payouts"])
    echo(f"  answers saved in {folder}")
    return ok
