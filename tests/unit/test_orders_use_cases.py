"""The orders use cases over fakes of their ports: no AWS, no monkeypatching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from functions.orders import contracts as c
from functions.orders.domain import NotRefundable, OperationRefused
from functions.orders.errors import RefundCovered
from functions.orders.use_cases import changes, lifecycle, operations, refunds
from functions.orders.use_cases.notify import notify
from shared.events import (
    ChargeRefunded,
    Customer,
    LineItem,
    OrderCancelled,
    OrderPlaced,
    PaymentAuthorized,
    PaymentSucceeded,
    Refund,
    RefundUpdated,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.gateway_errors import GatewayRefused
from shared.money import Money
from shared.notices import DEFAULT_OPS_SENDER
from shared.notices.orders import (
    DeliveryProblem,
    PotentialFraud,
    RefundFailed,
    RefundFailedAtGateway,
)
from shared.order_aggregate import CancelReason
from shared.tenants import TenantSettings
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants

Step = TypeVar("Step", bound=c.RefundStep)

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    alert_emails=("ops@acme.example",),
)


@pytest.fixture
def fake() -> FakePorts:
    return FakePorts(clock=FixedClock(T0 + timedelta(hours=1)), tenants=FakeTenants(ACME))


def eur(amount: int) -> Money:
    return Money.of(amount, "EUR")


def placed(order_id: str = "o-1", total: int = 5000) -> OrderPlaced:
    return OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id=f"{order_id}-placed",
        occurred_at=T0,
        order_id=order_id,
        currency="EUR",
        total=eur(total),
        lines=(
            LineItem(
                line_id="l1", name="Mug", quantity=2, unit_price=eur(total // 2), vendor_id="v1"
            ),
        ),
        customer=Customer(email="bob@example.com", name="Bob"),
    )


def paid(payment_id: str = "pi_1", amount: int = 5000, order_id: str = "o-1") -> PaymentSucceeded:
    return PaymentSucceeded(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id=f"evt-{payment_id}",
        occurred_at=T0 + timedelta(minutes=1),
        order_id=order_id,
        payment_id=payment_id,
        charge_id=f"ch-{payment_id}",
        amount=eur(amount),
    )


def step(model: type[Any], action: Any, **fields: Any) -> Any:
    return model(tenant="acme", order_id="o-1", action=action, **fields)


# -- screening and review ------------------------------------------------------------------------


def test_screening_keeps_the_whole_result_and_answers_the_decision(fake: FakePorts) -> None:
    fake.orders.add(placed())
    fake.screening.decision = "review"
    result = lifecycle.screen(fake.ports(), step(c.ScreenInput, c.LifecycleAction.SCREEN))
    assert (result.decision, result.reasons) == (c.Decision.REVIEW, ["planted"])
    assert fake.records.screening("acme", "o-1")["ruleset_version"] == "test/1"  # type: ignore[index]


def test_an_unknown_order_is_not_screened_yet(fake: FakePorts) -> None:
    with pytest.raises(LookupError, match="not known"):
        lifecycle.screen(fake.ports(), step(c.ScreenInput, c.LifecycleAction.SCREEN))
    assert fake.screening.screened == []


def test_holding_for_review_parks_the_token_asks_the_customer_and_the_client_team(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed())
    fake.records.save_screening("acme", "o-1", {"reasons": ["IP in NG"], "score": 80})
    lifecycle.hold(fake.ports(), step(c.HoldInput, c.LifecycleAction.HOLD, task_token="tok"))
    assert fake.records.stage("acme", "o-1") == c.Stage.POTENTIAL_FRAUD
    assert fake.records.waits[("acme", "o-1", "review")] == "tok"
    assert fake.mailer.kinds() == ["payment_verification", "review_needed"]
    (notice,) = fake.alerts.sent
    assert isinstance(notice, PotentialFraud) and notice.tenant == "acme"
    assert notice.approve_url and notice.approve_url.startswith(
        "https://ops.example/links/acme/o-1/approve"
    )
    # The links expire with the review: now (the clock) plus the tenant's review time.
    expiry = int((T0 + timedelta(hours=1 + ACME.review_timeout_hours)).timestamp())
    assert notice.approve_url.endswith(f"exp={expiry}")
    # The client team's e-mail comes from operations, not from the shop's customer sender.
    review = fake.mailer.sent[1]
    assert review.sender == DEFAULT_OPS_SENDER and review.to == ACME.alert_emails
    assert notice.approve_url in review.html


def test_a_decision_resumes_the_review_once(fake: FakePorts) -> None:
    fake.records.put_wait("acme", "o-1", "review", "tok")
    ports = fake.ports()
    assert operations.decide_review(ports, "acme", "o-1", "approve", "alice") == {"resumed": True}
    assert fake.workflows.resumed == [("tok", {"decision": "approve", "by": "alice"})]
    again = operations.decide_review(ports, "acme", "o-1", "approve", "alice")
    assert again["resumed"] is False


# -- waits and stages ----------------------------------------------------------------------------


def test_a_wait_for_a_fact_that_already_arrived_resumes_at_once(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid())
    fake.orders.add(shipment("in_transit"))
    lifecycle.wait(
        fake.ports(),
        step(c.WaitInput, c.LifecycleAction.WAIT, wait=c.WaitKind.SHIPMENT, task_token="tok"),
    )
    assert fake.workflows.resumed == [("tok", {"outcome": "shipped", "shipment": "in_transit"})]
    assert ("acme", "o-1", "shipment") not in fake.records.waits


def shipment(status: str, tracking: str = "1Z1", minute: int = 30) -> ShipmentUpdated:
    return ShipmentUpdated(
        tenant="acme",
        source=Source.EASYPOST,
        source_event_id=f"trk-{tracking}-{status}",
        occurred_at=T0 + timedelta(minutes=minute),
        tracking_code=tracking,
        status=ShipmentStatus(status),
        order_id="o-1",
        carrier="UPS",
    )


@pytest.mark.parametrize(
    ("stage", "mail"),
    [
        (c.Stage.CONFIRMED, ["order_confirmation"]),
        (c.Stage.SHIPPED, ["order_shipped"]),
        (c.Stage.DELIVERED, ["order_delivered"]),
        # the client team, not the customer
        (c.Stage.NOT_DISPATCHED, ["not_dispatched"]),
    ],
)
def test_each_stage_tells_the_customer_once(
    fake: FakePorts, stage: c.Stage, mail: list[str]
) -> None:
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    for _ in range(2):  # a retried step sends nothing twice
        lifecycle.stage(fake.ports(), step(c.StageInput, c.LifecycleAction.STAGE, stage=stage))
    assert fake.mailer.kinds() == mail
    assert fake.records.stage("acme", "o-1") == stage


def test_no_movement_opens_a_claim_for_the_stalled_parcel_and_alerts(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    lifecycle.stage(
        fake.ports(),
        step(
            c.StageInput,
            c.LifecycleAction.STAGE,
            stage=c.Stage.DELIVERY_PROBLEM,
            shipment="no_movement",
        ),
    )
    # The customer's e-mail, then the client team's (from operations).
    assert fake.mailer.kinds() == ["delivery_problem", "delivery_exception_ops"]
    (claim,) = fake.records.claims("acme", "o-1")
    assert (claim["tracking_code"], claim["problem"], claim["status"]) == (
        "1Z1",
        "no_movement",
        "filed",
    )
    (notice,) = fake.alerts.sent
    assert isinstance(notice, DeliveryProblem) and notice.tracking_code == "1Z1"
    assert notice.headline == "Delivery problem: order o-1, parcel 1Z1: no movement"


def test_a_failed_email_is_recorded_and_never_fails_the_step(fake: FakePorts) -> None:
    fake.orders.add(placed())
    fake.mailer.fail = True
    state, _ = fake.orders.load("acme", "o-1")
    assert notify(fake.ports(), "order_confirmation", state, ACME, ["bob@example.com"]) is None
    assert fake.notifications.records[("acme", "o-1", "order_confirmation")] == "failed"
    fake.mailer.fail = False
    assert notify(fake.ports(), "order_confirmation", state, ACME, ["bob@example.com"])


# -- cancellation, capture, release --------------------------------------------------------------


def test_a_blocked_order_is_dated_in_history_voided_refunded_and_told(fake: FakePorts) -> None:
    authorized = PaymentAuthorized(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="evt-auth",
        occurred_at=T0,
        order_id="o-1",
        payment_id="pi_auth",
        amount=eur(1000),
    )
    fake.orders.add(placed(), paid("pi_1", 4000), authorized)
    result = lifecycle.cancel(
        fake.ports(),
        step(c.CancelInput, c.LifecycleAction.CANCEL, reason=CancelReason.BLOCKED_BY_SCREENING),
    )
    assert fake.screening.fraud_decisions == [("o-1", T0 + timedelta(hours=1))]
    assert [v["payment_id"] for v in fake.payments.of("void")] == ["pi_auth"]
    assert result["voided"] == 1
    ((_, identity), document) = next(iter(fake.workflows.started.items()))
    assert identity == ("acme", "o-1", "refund", "cancellation-pi_1")
    assert document["cause"] == "screening_block" and document["payment_id"] == "pi_1"
    assert fake.mailer.kinds() == ["order_cancelled"]


def test_manual_capture_waits_for_the_authorization(fake: FakePorts) -> None:
    fake.orders.add(placed())
    with pytest.raises(lifecycle.PaymentNotAuthorizedYet):
        lifecycle.capture(fake.ports(), step(c.CaptureInput, c.LifecycleAction.CAPTURE))
    fake.orders.add(paid())
    assert lifecycle.capture(fake.ports(), step(c.CaptureInput, c.LifecycleAction.CAPTURE)) == {
        "captured": 0,
        "note": "already captured",
    }


def test_release_records_each_lines_gross_and_closes(fake: FakePorts) -> None:
    fake.orders.add(placed(total=5000))
    lifecycle.release(fake.ports(), step(c.ReleaseInput, c.LifecycleAction.RELEASE))
    assert fake.records.released[("acme", "o-1")] == [
        {"line_id": "l1", "vendor_id": "v1", "amount": 5000, "currency": "EUR"}
    ]
    assert fake.records.stage("acme", "o-1") == c.Stage.CLOSED


def test_an_operator_cancellation_stops_refunds_every_payment_and_clears_waits(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid("pi_a", 2000), paid("pi_b", 3000))
    fake.records.put_wait("acme", "o-1", "review", "tok")
    result = operations.cancel_order(fake.ports(), "acme", "o-1", "customer asked")
    assert result["refund_due"] == 5000
    assert sorted(r["refund_id"] for r in result["refunds"]) == [
        "cancellation-pi_a",
        "cancellation-pi_b",
    ]
    assert fake.workflows.stopped == [("arn:lifecycle", ("acme", "o-1"), "OrderCancelled")]
    assert fake.records.waits == {}
    assert fake.mailer.kinds() == ["order_cancelled"]


def test_a_shipped_order_cannot_be_cancelled(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    with pytest.raises(OperationRefused, match="shipped"):
        operations.cancel_order(fake.ports(), "acme", "o-1", "too late")
    assert fake.workflows.stopped == []


# -- refund requests and the refund workflow -----------------------------------------------------


def test_a_refund_request_is_accepted_once_per_id(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid())
    ports = fake.ports()
    first = operations.request_refund(ports, "acme", "o-1", amount=500, refund_id="r1")
    again = operations.request_refund(ports, "acme", "o-1", amount=500, refund_id="r1")
    assert (first["started"], again["started"], again["exists"]) == (True, False, True)
    with pytest.raises(OperationRefused, match="another request"):
        operations.request_refund(ports, "acme", "o-1", amount=900, refund_id="r1")
    assert len(fake.workflows.started) == 1


def test_a_refund_waits_for_the_gateway_as_long_as_the_tenant_allows(fake: FakePorts) -> None:
    """Two days by default; a shop refunding by bank transfer allows longer. On a deployment
    whose day lasts 10 seconds, 48 hours are 20 seconds and 120 hours 50."""
    fake.orders.add(placed(), paid())
    operations.request_refund(fake.ports(seconds_per_day=10), "acme", "o-1", refund_id="r1")
    fake.tenants.by_id["acme"] = ACME.model_copy(update={"refund_confirmation_hours": 120})
    operations.request_refund(fake.ports(seconds_per_day=10), "acme", "o-1", refund_id="r2")
    waits = [document["waits"]["confirm_s"] for document in fake.workflows.started.values()]
    assert waits == [20, 50]


def refund_step(model: type[Step], **fields: Any) -> Step:
    """A refund workflow step's input for acme's order o-1, request r1 unless ``fields`` say
    otherwise; the action is the one the model takes."""
    (action,) = [a for a, m in c.REFUND_INPUTS.items() if m is model]
    return model.model_validate(
        {"tenant": "acme", "order_id": "o-1", "refund_id": "r1", "action": action, **fields}
    )


def prepare(fake: FakePorts, refund_id: str, **fields: Any) -> c.Prepared:
    return refunds.prepare(fake.ports(), refund_step(c.PrepareInput, refund_id=refund_id, **fields))


def test_reservations_never_exceed_what_was_captured(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid("pi_1", 5000))
    assert prepare(fake, "r1", amount=3000).amount == 3000
    with pytest.raises(NotRefundable, match="refundable 2000"):
        prepare(fake, "r2", amount=3000)
    # What is left can go, and by default (no amount) a refund takes all that is left.
    assert prepare(fake, "r3").amount == 2000
    # A retried step answers what the first attempt reserved.
    assert prepare(fake, "r1", amount=3000).amount == 3000


def test_refunds_made_in_the_gateways_dashboard_shrink_what_is_left(fake: FakePorts) -> None:
    dashboard = ChargeRefunded(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="evt-ref",
        occurred_at=T0 + timedelta(minutes=5),
        order_id="o-1",
        payment_id="pi_1",
        charge_id="ch-pi_1",
        amount_refunded=eur(4000),
        refunds=(Refund(refund_id="re_dash", amount=eur(4000), status="succeeded"),),
    )
    fake.orders.add(placed(), paid("pi_1", 5000), dashboard)
    with pytest.raises(NotRefundable, match="refundable 1000"):
        prepare(fake, "r1", amount=2000)


def test_lines_are_refunded_by_their_price(fake: FakePorts) -> None:
    fake.orders.add(placed(total=5000), paid())
    prepared = prepare(fake, "r1", lines=[c.RefundLine(line_id="l1", quantity=1)])
    assert prepared.amount == 2500
    with pytest.raises(NotRefundable, match="has no line"):
        prepare(fake, "r2", lines=[c.RefundLine(line_id="nope")])


def test_a_refund_that_fails_is_recorded_released_and_alerted(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid())
    prepared = prepare(fake, "r1", amount=5000)
    error = {"Error": "GatewayRefused", "Cause": '{"errorMessage": "400: charge refunded"}'}
    result = refunds.fail(
        fake.ports(),
        refund_step(c.FailInput, step="submit", prepared=prepared, error=error),
    )
    assert result == {
        "failed": "r1",
        "reason": "GatewayRefused: 400: charge refunded",
        "released": 5000,
    }
    record = fake.refunds.records[("acme", "o-1", "r1")]
    assert (record["status"], record["failed_step"]) == ("failed", "submit")
    notice = fake.alerts.sent[-1]
    assert isinstance(notice, RefundFailed)
    assert notice.reason == "GatewayRefused: 400: charge refunded"
    # The money is free again.
    assert prepare(fake, "r2", amount=5000).amount == 5000


def submit(
    fake: FakePorts, prepared: c.Prepared, cause: c.RefundCause = c.RefundCause.SHOP_CANCELLED
) -> c.Submitted:
    return refunds.submit(
        fake.ports(),
        refund_step(c.SubmitInput, prepared=prepared, cause=cause),
    )


def test_a_refund_the_dashboard_made_before_we_heard_of_it_covers_ours(fake: FakePorts) -> None:
    """The gateway refuses ours as already refunded; its own figures say the payment is back
    in full: the request ends covered, its money released, and nobody is told it failed."""
    fake.orders.add(placed(), paid("pi_1", 5000))
    prepared = prepare(fake, "r1", amount=5000)
    fake.payments.refuse, fake.payments.refuse_code = (
        "400: already refunded",
        "charge_already_refunded",
    )
    fake.payments.figures["pi_1"] = {"captured": 5000, "refunded": 5000}
    with pytest.raises(RefundCovered, match=r"in full at the gateway \(EUR 50.00 of EUR 50.00\)"):
        submit(fake, prepared)
    error = {"Error": "RefundCovered", "Cause": '{"errorMessage": "payment pi_1 is refunded"}'}
    result = refunds.covered(
        fake.ports(),
        refund_step(c.CoveredInput, prepared=prepared, error=error),
    )
    assert result["released"] == 5000
    record = fake.refunds.records[("acme", "o-1", "r1")]
    assert record["status"] == "covered"
    assert record["covered_by"] == "RefundCovered: payment pi_1 is refunded"
    assert fake.alerts.sent == [] and fake.refunds.completions == []


def test_a_refusal_with_money_left_stands_and_says_how_much(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid("pi_1", 5000))
    prepared = prepare(fake, "r1", amount=5000)
    fake.payments.refuse, fake.payments.refuse_code = "400: too large", "amount_too_large"
    fake.payments.figures["pi_1"] = {"captured": 5000, "refunded": 2000}
    with pytest.raises(
        GatewayRefused, match=r"EUR 30\.00 of payment pi_1 is left to refund"
    ) as refused:
        submit(fake, prepared)
    assert refused.value.code == "amount_too_large"


def test_any_other_refusal_stands_as_the_gateway_gave_it(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid("pi_1", 5000))
    prepared = prepare(fake, "r1", amount=5000)
    fake.payments.refuse, fake.payments.refuse_code = "400: card expired", "expired_card"
    with pytest.raises(GatewayRefused, match=r"^400: card expired$"):
        submit(fake, prepared)  # no figures are read: none are planted


def test_submit_carries_the_requests_idempotency_key_and_complete_tells_the_customer(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid())
    prepared = prepare(fake, "r1", amount=1000)
    for _ in range(2):  # Step Functions retries: one refund at the gateway
        submit(fake, prepared, c.RefundCause.DUPLICATE_CHARGE)
    assert len(fake.payments.of("re")) == 1
    refunds.complete(
        fake.ports(),
        refund_step(c.CompleteInput, prepared=prepared, cause=c.RefundCause.DUPLICATE_CHARGE),
    )
    assert fake.refunds.completions == [("r1", 1000, "EUR")]
    assert fake.mailer.kinds() == ["refund_issued"]


# -- returns and what applied events do ----------------------------------------------------------


def test_a_return_of_a_delivered_order_is_refunded_when_its_parcel_is_back(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid(), shipment("delivered"))
    ports = fake.ports()
    opened = operations.open_return(
        ports, "acme", "o-1", [{"line_id": "l1", "quantity": 1}], "small"
    )
    tracking = opened["tracking_code"]
    assert (opened["amount"], fake.orders.links[("acme", f"tracking:{tracking}")]) == (2500, "o-1")
    state = fake.orders.add(shipment("delivered", tracking=tracking, minute=90))
    assert operations.return_parcels_moved(ports, "acme", "o-1", state) == [opened["return_id"]]
    assert operations.return_parcels_moved(ports, "acme", "o-1", state) == []


def test_an_order_placed_starts_its_lifecycle_once_and_a_shop_cancellation_cancels(
    fake: FakePorts,
) -> None:
    ports = fake.ports(seconds_per_day=10)
    event = placed()
    fake.orders.add(event)
    changes.order_changed(ports, event, "o-1", "applied")
    changes.order_changed(ports, event, "o-1", "duplicate")
    ((_, identity), document) = next(iter(fake.workflows.started.items()))
    assert identity == ("acme", "o-1") and len(fake.workflows.started) == 1
    assert document["waits"]["dispatch_s"] == ACME.dispatch_sla_days * 10
    cancelled = OrderCancelled(
        tenant="acme",
        source=Source.SHOP,
        source_event_id="o-1-cancelled",
        occurred_at=T0 + timedelta(hours=2),
        order_id="o-1",
        reason="customer",
    )
    fake.orders.add(cancelled)
    changes.order_changed(ports, cancelled, "o-1", "applied")
    assert fake.records.stage("acme", "o-1") == c.Stage.CANCELLED
    assert fake.screening.outcomes == ["o-1"]


def test_a_refund_the_gateway_fails_days_later_is_recorded_released_and_told_once(
    fake: FakePorts,
) -> None:
    """Stripe fails a refund it took (the card closed): the order counts the money as held
    again, the request ends failed with Stripe's reason and gives back its reservation, and the
    client team hears of it once, however often the failure is delivered."""
    fake.orders.add(placed(), paid())
    prepared = prepare(fake, "r1", amount=5000)
    fake.refunds.record("acme", "o-1", "r1", status="completed", gateway_refund_id="re_9")
    took = ChargeRefunded(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="evt-refunded",
        occurred_at=T0 + timedelta(hours=2),
        order_id="o-1",
        payment_id="pi_1",
        charge_id="ch-pi_1",
        amount_refunded=eur(5000),
        refunds=(Refund(refund_id="re_9", amount=eur(5000), status="succeeded"),),
    )
    assert fake.orders.add(took).refunded() == prepared.amount
    failed = RefundUpdated(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="evt-refund-failed",
        occurred_at=T0 + timedelta(days=3),
        order_id="o-1",
        payment_id="pi_1",
        charge_id="ch-pi_1",
        refund=Refund(
            refund_id="re_9",
            amount=eur(5000),
            status="failed",
            failure_reason="expired_or_canceled_card",
        ),
    )
    state = fake.orders.add(failed)
    assert state.refunded() == 0
    ports = fake.ports()
    for result in ("applied", "duplicate", "applied"):
        changes.order_changed(ports, failed, "o-1", result)
    record = fake.refunds.records[("acme", "o-1", "r1")]
    assert (record["status"], record["failed_step"]) == ("failed", "gateway")
    assert "expired_or_canceled_card" in record["failure"]
    told = [n for n in fake.alerts.sent if isinstance(n, RefundFailedAtGateway)]
    assert len(told) == 1
    assert told[0].amount == 5000
    assert told[0].reason == "expired_or_canceled_card" and told[0].refund_id == "r1"
    # A workflow still waiting for the confirmation times out without hiding why.
    step = refund_step(c.UnconfirmedInput)
    assert refunds.unconfirmed(ports, step)["failed_at_gateway"] is True
    # Nor does a completion step that ran late say it was refunded.
    late = refund_step(c.CompleteInput, prepared=prepared, cause=c.RefundCause.CUSTOMER_REQUEST)
    assert refunds.complete(ports, late)["failed_at_gateway"] is True
    # The client team's notice only: the customer is not told of a refund they did not get.
    assert fake.mailer.kinds() == ["team_notice"] and fake.refunds.completions == []
    assert fake.refunds.records[("acme", "o-1", "r1")]["status"] == "failed"
    assert len(fake.alerts.sent) == 1
    # The reservation is free again: the money can be refunded another way.
    assert prepare(fake, "r2", amount=5000).amount == 5000
