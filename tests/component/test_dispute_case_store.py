"""Dispute cases on moto (issue 15, item 1): the processor opens and updates a case for every
dispute event it takes in, once per event; a dispute on a charge no event named is a flagged
case; reconciliation's ``dispute_without_case`` asks the desk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3

from functions.disputes.adapters.case_store import (
    DynamoCaseStore,
    ReconciliationBreaks,
    TableRatioCounts,
)
from functions.disputes.composition import (
    DisputesSettings,
    build_ports,
    dispute_cases,
    dispute_desk,
)
from functions.disputes.domain.case import CaseFlag, CaseState
from functions.disputes.domain.evidence import EvidenceDraft
from functions.disputes.use_cases.cases import record_dispute_event
from functions.disputes.use_cases.intake import link_unknown_charges
from functions.orders.adapters.notification_log import DynamoNotificationLog
from functions.reconcile.adapters.break_store import BreakStore
from functions.reconcile.adapters.loader import DayLoader
from functions.reconcile.domain.model import Break, BreakClass, Priority
from functions.reconcile.ports import LoadWindow
from functions.webhooks.use_cases.apply import route
from shared import keys
from shared.events import Card, PaymentSucceeded, Source
from shared.money import Money
from shared.order_store import OrderStore
from shared.tenants import TenantDirectory
from tests.clocks import FixedClock
from tests.component import orders
from tests.component.conftest import TABLE
from tests.disputes_fakes import OPENED_AT, dispute_event, ports, stripe_dispute_document, tenant


def processed(document: dict[str, Any]) -> str:
    return orders.process_stripe(
        document, OPENED_AT, disputes=lambda store: dispute_desk(TABLE, store)
    )


def case_items() -> list[dict[str, Any]]:
    pk, _ = keys.dispute_case("acme", "dp_1")
    answer = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )
    return list(answer["Items"])


def test_the_processor_opens_one_case_per_dispute_and_updates_it(aws_env: dict[str, Any]) -> None:
    placed = OPENED_AT - timedelta(days=20)
    orders.place("o-1", at=placed, amount=4000)
    orders.pay("o-1", "pi_1", 4000, placed)
    DynamoNotificationLog(TABLE, FixedClock(placed)).record(
        "acme", "o-1", "order_confirmation", "sent", "msg-confirm", "order confirmed"
    )
    created = stripe_dispute_document()
    for _ in range(3):  # Stripe redelivers; a replay re-runs the same function
        assert processed(created) == "applied"
    (item,) = case_items()
    assert item["version"]["N"] == "2"
    assert item["GSI2PK"]["S"] == keys.dispute_cases_index("acme", "open")
    store = DynamoCaseStore(TABLE)
    case = store.get("acme", "dp_1")
    assert case is not None
    assert (case.order_id, case.card_brand, case.network_reason_code, case.fee) == (
        "o-1",
        "visa",
        "10.4",
        1500,
    )
    assert (case.amount, case.charge_amount, case.partial) == (2500, 4000, True)
    # Opened, then drafted from the order, its e-mails (the orders context's log) and the
    # customer's earlier orders (a Visa 10.4 dispute looks for CE 3.0 payments).
    assert [e.what for e in case.timeline] == ["opened", "evidence drafted"]
    assert case.state == CaseState.COLLECTING
    draft = EvidenceDraft.model_validate(case.evidence)
    assert draft.order_id == "o-1"
    assert draft.fields["customer_email_address"] == "o-1@example.com"
    assert "Message id: msg-confirm" in draft.files["receipt"][0].lines
    assert draft.rendered["uncategorized_file"].content_type == "application/pdf"
    processed(
        stripe_dispute_document(
            "charge.dispute.closed",
            event_id="evt_dp_lost",
            status="lost",
            at=OPENED_AT + timedelta(days=30),
        )
    )
    case = store.get("acme", "dp_1")
    assert case is not None and (case.state, case.version) == (CaseState.LOST, 3)
    assert [c.dispute_id for c in store.cases("acme", "closed")] == ["dp_1"]
    assert list(store.cases("acme", "open")) == []
    assert [c.dispute_id for c in store.opened_in("acme", "2026-11")] == ["dp_1"]


def test_a_dispute_on_a_charge_we_never_saw_is_a_flagged_case(aws_env: dict[str, Any]) -> None:
    assert processed(stripe_dispute_document(charge_id="ch_never", payment_intent=None)) == (
        "applied"
    )
    case = DynamoCaseStore(TABLE).get("acme", "dp_1")
    assert case is not None
    assert case.flags == [CaseFlag.CHARGE_UNKNOWN] and case.order_id is None
    assert (case.charge_id, case.amount, case.reason) == ("ch_never", 2500, "fraudulent")


def test_dispute_without_case_asks_the_desk(aws_env: dict[str, Any]) -> None:
    """Before the desk, a dispute counted as answered once Stripe's status moved on; now the
    break means what it says: no case."""
    placed = datetime(2026, 11, 20, 8, tzinfo=UTC)
    orders.place("o-1", at=placed)
    orders.pay("o-1", "pi_1", 2500, placed)
    # Applied to the order without the desk (as before this issue): no case.

    route(dispute_event(order_id="o-1", status="under_review"), OrderStore(TABLE))
    loader = DayLoader(TABLE, cases=dispute_cases(TABLE))
    window = LoadWindow(2, 3, cancellation_window_days=0)
    (dispute,) = loader.load("acme", date(2026, 11, 20), "UTC", window).disputes
    assert not dispute.has_case
    # The desk takes the same dispute's event: now there is a case.
    processed(stripe_dispute_document(event_id="evt_other", status="under_review"))
    (dispute,) = loader.load("acme", date(2026, 11, 20), "UTC", window).disputes
    assert dispute.has_case


def test_ratio_counts_from_the_table(aws_env: dict[str, Any]) -> None:
    """Card payments by the day they succeeded (an order placed the month before counts in the
    month it was paid), chargebacks by brand (inquiries apart), from the stored records."""

    def paid(order_id: str, at: datetime, brand: str) -> None:
        orders.place(order_id, at=at - timedelta(days=2))
        orders.apply(
            PaymentSucceeded(
                tenant="acme",
                source=Source.STRIPE,
                source_event_id=f"evt-{order_id}",
                occurred_at=at,
                order_id=order_id,
                payment_id=f"pi_{order_id}",
                charge_id=f"ch_{order_id}",
                amount=Money.of(2500, "EUR"),
                card=Card(brand=brand, last4="4242"),
            )
        )

    paid("o-oct", datetime(2026, 10, 20, tzinfo=UTC), "visa")
    paid("o-nov1", datetime(2026, 11, 1, 1, tzinfo=UTC), "visa")
    paid("o-nov2", datetime(2026, 11, 12, tzinfo=UTC), "mastercard")
    paid("o-nov3", datetime(2026, 11, 29, tzinfo=UTC), "visa")
    paid("o-dec", datetime(2026, 12, 1, tzinfo=UTC), "visa")
    store = DynamoCaseStore(TABLE)
    p = ports()
    p.cases = store
    record_dispute_event(p, dispute_event(dispute_id="dp_a", brand="visa"), None)
    record_dispute_event(
        p, dispute_event(dispute_id="dp_b", brand="visa", status="warning_needs_response"), None
    )
    counts = TableRatioCounts(TABLE, store)
    assert counts.settled("acme", date(2026, 11, 1)) == {"visa": 2, "mastercard": 1}
    assert counts.settled("acme", date(2026, 10, 1)) == {"visa": 1}
    assert counts.chargebacks("acme", date(2026, 11, 1)) == {"visa": 1}
    assert counts.fraud_reports("acme", date(2026, 11, 1)) == {}


def test_a_dispute_before_its_charge_is_parked_then_linked_by_the_tick(
    aws_env: dict[str, Any],
) -> None:
    TenantDirectory(TABLE).save(tenant())
    # The dispute first: parked under its charge at the order level, a flagged case here.
    processed(stripe_dispute_document(charge_id="ch_pi_late", payment_intent="pi_late"))
    desk = build_ports(DisputesSettings(table_name=TABLE), FixedClock(OPENED_AT))
    assert link_unknown_charges(desk) == []
    # Then the order and its payment: the payment links the charge, the parked event drains.
    orders.place("o-late", at=OPENED_AT - timedelta(days=3))
    orders.pay("o-late", "pi_late", 2500, OPENED_AT - timedelta(days=3))
    state, _ = OrderStore(TABLE).load("acme", "o-late")
    assert "dp_1" in state.disputes
    assert link_unknown_charges(desk) == ["dp_1"]
    case = desk.cases.get("acme", "dp_1")
    assert case is not None and case.order_id == "o-late" and case.flags == []
    assert [e.what for e in case.timeline][-2:] == ["linked", "evidence drafted"]
    assert EvidenceDraft.model_validate(case.evidence).order_id == "o-late"
    assert link_unknown_charges(desk) == []


def test_the_reconciliations_duplicate_payment_findings_are_read_for_the_evidence(
    aws_env: dict[str, Any],
) -> None:
    def brk(break_id: str, cls: BreakClass, order_id: str, text: str) -> Break:
        return Break(
            break_id=break_id,
            tenant="acme",
            break_class=cls,
            priority=Priority.P1,
            currency="EUR",
            amount=2500,
            keys=(("order_id", order_id), ("charge_id", f"ch_{order_id}")),
            explanation=text,
            first_seen=date(2026, 11, 20),
        )

    BreakStore(TABLE).save(
        "acme",
        date(2026, 11, 21),
        open_now=[
            brk("b1", BreakClass.DUPLICATE_PAYMENT, "o-1", "o-1 was paid twice."),
            brk("b2", BreakClass.AMOUNT_MISMATCH, "o-1", "o-1 paid the wrong amount."),
            brk("b3", BreakClass.DUPLICATE_PAYMENT, "o-2", "o-2 was paid twice."),
        ],
        closed=[brk("b4", BreakClass.DUPLICATE_PAYMENT, "o-1", "refunded since.")],
    )
    assert ReconciliationBreaks(TABLE).duplicate_payment("acme", "o-1") == [
        "o-1 was paid twice.",
        "refunded since.",
    ]
