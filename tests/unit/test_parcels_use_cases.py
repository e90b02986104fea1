"""Parcels over fakes (issue 13.1, 13.2): what the processor does with each carrier scan, the
delivery wait's outcome, and a claim's life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.orders import contracts as c
from functions.orders.domain import OperationRefused
from functions.orders.use_cases import changes, lifecycle, operations
from shared.events import (
    ChargeRefunded,
    Customer,
    LineItem,
    OrderFulfilled,
    OrderPlaced,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.money import Money
from shared.notices.orders import DeliveryProblem as DeliveryNotice
from shared.notify.render import DeliveryProblem
from shared.observability import logger
from shared.tenants import TenantSettings
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.unit.test_orders_waiting_steps import wait

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
    return FakePorts(clock=FixedClock(T0 + timedelta(days=3)), tenants=FakeTenants(ACME))


def placed() -> OrderPlaced:
    def line(line_id: str, amount: int) -> LineItem:
        return LineItem(
            line_id=line_id,
            name=f"item {line_id}",
            quantity=1,
            unit_price=Money.of(amount, "EUR"),
            vendor_id="v1",
        )

    return OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id="placed",
        occurred_at=T0,
        order_id="o-1",
        currency="EUR",
        total=Money.of(5000, "EUR"),
        lines=(line("l1", 2000), line("l2", 3000)),
        customer=Customer(email="ann@example.com", name="Ann"),
    )


def fulfilled(code: str, *lines: str) -> OrderFulfilled:
    return OrderFulfilled(
        tenant="acme",
        source=Source.SHOP,
        source_event_id=f"ful-{code}",
        occurred_at=T0 + timedelta(hours=1),
        order_id="o-1",
        tracking_code=code,
        carrier="UPS",
        line_ids=lines,
    )


def scan(
    code: str, status: ShipmentStatus, hours: int, detail: str | None = None, eid: str = ""
) -> ShipmentUpdated:
    return ShipmentUpdated(
        tenant="acme",
        source=Source.AFTERSHIP,
        source_event_id=eid or f"{code}-{status}-{hours}",
        occurred_at=T0 + timedelta(hours=hours),
        tracking_code=code,
        status=status,
        status_detail=detail,
        order_id="o-1",
        carrier="ups",
    )


def arrive(fake: FakePorts, *events: Any) -> None:
    """What the processor does: apply each event, then tell the orders context."""
    for event in events:
        fake.orders.add(event)
        changes.order_changed(fake.ports(), event, "o-1", "applied")


def wait_for_delivery(fake: FakePorts) -> None:
    wait(fake, c.WaitKind.DELIVERY, "tok")


def problem_mails(fake: FakePorts) -> list[str]:
    """Which delivery-problem e-mails the customer got, by the wording's headline."""
    headlines = {v[1]: k for k, v in DeliveryProblem._WORDING.items()}
    return [
        next(problem for headline, problem in headlines.items() if headline in e.text)
        for e in fake.mailer.sent
        if str(e.kind) == "delivery_problem"
    ]


def test_an_attempt_tells_the_customer_once_opens_no_claim_and_keeps_waiting(
    fake: FakePorts,
) -> None:
    arrive(fake, placed(), fulfilled("1ZA"))
    wait_for_delivery(fake)
    attempt = scan("1ZA", ShipmentStatus.ATTEMPT_FAILED, 48, "Business closed")
    arrive(fake, attempt, attempt, scan("1ZA", ShipmentStatus.ATTEMPT_FAILED, 48, eid="again"))
    assert problem_mails(fake) == ["failed_attempt"]
    assert fake.records.claims("acme", "o-1") == []
    assert fake.workflows.resumed == []  # still waiting for the delivery
    # A second attempt the next day is news again; then the delivery resumes the wait.
    arrive(fake, scan("1ZA", ShipmentStatus.ATTEMPT_FAILED, 72))
    assert problem_mails(fake) == ["failed_attempt", "failed_attempt"]
    arrive(fake, scan("1ZA", ShipmentStatus.DELIVERED, 96))
    ((token, outcome),) = fake.workflows.resumed
    assert (token, outcome["outcome"]) == ("tok", "delivered")


def test_a_delay_is_news_not_a_loss(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA"), scan("1ZA", ShipmentStatus.DELAYED, 30, "Customs"))
    assert problem_mails(fake) == ["delayed"]
    assert "Customs" in fake.mailer.sent[-1].text
    assert fake.records.claims("acme", "o-1") == []


def test_two_parcels_deliver_the_order_only_when_both_arrived(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA", "l1"), fulfilled("1ZB", "l2"))
    wait_for_delivery(fake)
    arrive(
        fake, scan("1ZA", ShipmentStatus.DELIVERED, 30), scan("1ZB", ShipmentStatus.IN_TRANSIT, 30)
    )
    assert fake.workflows.resumed == []
    arrive(fake, scan("1ZB", ShipmentStatus.DELIVERED, 50))
    ((_, outcome),) = fake.workflows.resumed
    assert outcome["outcome"] == "delivered"
    assert [p["tracking_code"] for p in outcome["parcels"]] == ["1ZA", "1ZB"]


def test_a_lost_parcel_claims_its_own_lines_and_the_other_keeps_going(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA", "l1"), fulfilled("1ZB", "l2"))
    wait_for_delivery(fake)
    arrive(fake, scan("1ZA", ShipmentStatus.LOST, 30), scan("1ZA", ShipmentStatus.LOST, 31))
    (claim,) = fake.records.claims("acme", "o-1")
    assert (claim["tracking_code"], claim["lines"], claim["value"], claim["status"]) == (
        "1ZA",
        ["l1"],
        2000,
        "filed",
    )
    assert problem_mails(fake) == ["lost"]
    assert fake.workflows.resumed == []  # 1ZB is still on its way, 1ZA's claim is open
    arrive(fake, scan("1ZB", ShipmentStatus.DELIVERED, 40))
    assert fake.workflows.resumed == []


def test_a_claim_lives_filed_accepted_paid_and_then_settles_the_order(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA"), scan("1ZA", ShipmentStatus.DAMAGED, 30))
    wait_for_delivery(fake)
    ports = fake.ports()
    with pytest.raises(OperationRefused, match="reference"):
        operations.record_claim(ports, "acme", "o-1", "1ZA", "accepted", by="bob")
    accepted = operations.record_claim(
        ports, "acme", "o-1", "1ZA", "accepted", by="bob", reference="UPS-CLM-77"
    )
    assert (accepted["status"], accepted["version"]) == ("accepted", 2)
    with pytest.raises(OperationRefused, match="how much"):
        operations.record_claim(ports, "acme", "o-1", "1ZA", "paid", by="bob")
    with pytest.raises(OperationRefused, match="version 2"):
        operations.record_claim(
            ports, "acme", "o-1", "1ZA", "paid", by="bob", amount_paid=5000, expected_version=1
        )
    assert fake.workflows.resumed == []
    paid = operations.record_claim(
        ports, "acme", "o-1", "1ZA", "paid", by="carol", amount_paid=5000, expected_version=2
    )
    assert [(h["status"], h["by"]) for h in paid["history"]] == [
        ("filed", "ecomops"),
        ("accepted", "bob"),
        ("paid", "carol"),
    ]
    assert paid["reference"] == "UPS-CLM-77" and paid["amount_paid"] == 5000
    ((_, outcome),) = fake.workflows.resumed
    assert outcome["outcome"] == "problem"
    assert outcome["parcels"] == [{"tracking_code": "1ZA", "state": "damaged", "claim": "paid"}]
    with pytest.raises(OperationRefused, match="closed"):
        operations.record_claim(ports, "acme", "o-1", "1ZA", "rejected", by="bob")
    assert operations.open_claims(ports, "acme") == []


def test_a_parcel_delivered_after_all_withdraws_its_claim_and_resumes_the_order(
    fake: FakePorts,
) -> None:
    arrive(fake, placed(), fulfilled("1ZA"))
    wait_for_delivery(fake)
    arrive(fake, scan("1ZA", ShipmentStatus.LOST, 30))
    assert [c["status"] for c in fake.records.claims("acme", "o-1")] == ["filed"]
    arrive(fake, scan("1ZA", ShipmentStatus.DELIVERED, 60))
    (claim,) = fake.records.claims("acme", "o-1")
    assert claim["status"] == "withdrawn" and claim["history"][-1]["by"] == "carrier"
    ((_, outcome),) = fake.workflows.resumed
    assert outcome["outcome"] == "delivered"


def test_no_movement_is_checked_against_where_the_parcels_were(fake: FakePorts) -> None:
    """Executions started on the definitions that timed the delivery wait in stretches still
    ask after each stretch (``CheckMovement``); the heartbeats sent meanwhile change nothing
    of what they compare with."""
    arrive(fake, placed(), fulfilled("1ZA"), scan("1ZA", ShipmentStatus.IN_TRANSIT, 10))
    wait_for_delivery(fake)
    check = c.MovementInput(tenant="acme", order_id="o-1", action=c.LifecycleAction.MOVEMENT)
    arrive(fake, scan("1ZA", ShipmentStatus.IN_TRANSIT, 20))
    assert fake.workflows.heartbeats == ["tok"]
    assert lifecycle.check_movement(fake.ports(), check).moved is True
    assert lifecycle.check_movement(fake.ports(), check).moved is False


def test_a_scan_that_moves_a_parcel_keeps_the_delivery_wait_alive(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA", "l1"), fulfilled("1ZB", "l2"))
    arrive(fake, scan("1ZA", ShipmentStatus.IN_TRANSIT, 2))
    assert fake.workflows.heartbeats == []  # no delivery wait yet: its limit starts later
    wait_for_delivery(fake)
    arrive(fake, scan("1ZA", ShipmentStatus.IN_TRANSIT, 10))
    assert fake.workflows.heartbeats == ["tok"]
    # Older than 1ZA's latest scan (it came late): the parcel did not move.
    arrive(fake, scan("1ZA", ShipmentStatus.IN_TRANSIT, 5))
    assert fake.workflows.heartbeats == ["tok"]
    # One parcel of two delivered: it moved, and the wait goes on for the other.
    arrive(fake, scan("1ZA", ShipmentStatus.DELIVERED, 20))
    assert (fake.workflows.heartbeats, fake.workflows.resumed) == (["tok", "tok"], [])
    # The last one delivered ends the wait: resumed, not kept alive.
    arrive(fake, scan("1ZB", ShipmentStatus.DELIVERED, 30))
    assert fake.workflows.heartbeats == ["tok", "tok"]
    ((token, outcome),) = fake.workflows.resumed
    assert (token, outcome["outcome"]) == ("tok", "delivered")


def test_a_redelivered_scan_sends_its_heartbeat_again(fake: FakePorts) -> None:
    """The stream retries a batch that failed after the scan was applied: nothing says the
    first pass got as far as the heartbeat, and a second one is harmless."""
    arrive(fake, placed(), fulfilled("1ZA"))
    wait_for_delivery(fake)
    moving = scan("1ZA", ShipmentStatus.IN_TRANSIT, 10)
    arrive(fake, moving)
    changes.order_changed(fake.ports(), moving, "o-1", "duplicate")
    assert fake.workflows.heartbeats == ["tok", "tok"]


def test_what_moves_no_parcel_keeps_nothing_alive(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA"))
    wait_for_delivery(fake)
    # A return's parcel (not one the shop fulfilled) and a payment's news.
    arrive(fake, scan("1ZRETURN", ShipmentStatus.IN_TRANSIT, 10))
    refund = ChargeRefunded(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="evt-refund",
        occurred_at=T0 + timedelta(hours=11),
        order_id="o-1",
        payment_id="pi_1",
        charge_id="ch_1",
        amount_refunded=Money.of(100, "EUR"),
    )
    arrive(fake, refund)
    assert fake.workflows.heartbeats == []


def test_a_heartbeat_the_wait_no_longer_takes_fails_nothing(
    fake: FakePorts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait's limit passed (or another event resumed it) while the scan was on its way:
    Step Functions refuses the heartbeat; the processor's batch goes on, and it is logged as
    expected news, not as an error."""
    arrive(fake, placed(), fulfilled("1ZA"))
    wait_for_delivery(fake)
    fake.workflows.live_tokens = {"the-claims-wait"}
    told: list[str] = []
    monkeypatch.setattr(logger, "info", lambda message, **_: told.append(message))
    monkeypatch.setattr(logger, "warning", lambda message, **_: told.append("warn"))
    monkeypatch.setattr(logger, "error", lambda message, **_: told.append("error"))
    arrive(fake, scan("1ZA", ShipmentStatus.IN_TRANSIT, 10))
    assert fake.workflows.heartbeats == ["tok"]
    assert told == ["delivery wait already over: no heartbeat to send"]


def test_a_returned_parcel_is_settled_without_a_claim(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA"))
    wait_for_delivery(fake)
    arrive(fake, scan("1ZA", ShipmentStatus.RETURN_TO_SENDER, 30))
    assert problem_mails(fake) == ["returned_to_sender"]
    assert fake.records.claims("acme", "o-1") == []
    ((_, outcome),) = fake.workflows.resumed
    assert outcome["outcome"] == "problem"


def test_an_exception_tells_the_client_team_once(fake: FakePorts) -> None:
    refused = scan("1ZA", ShipmentStatus.EXCEPTION, 30, "Customer refused delivery")
    arrive(fake, placed(), fulfilled("1ZA"), refused, refused)
    assert problem_mails(fake) == []
    (alert,) = fake.alerts.sent
    assert isinstance(alert, DeliveryNotice) and alert.what_next == "Customer refused delivery"


def test_a_parcel_delivered_after_its_claim_was_paid_tells_the_team_once(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA"), scan("1ZA", ShipmentStatus.LOST, 30))
    ports = fake.ports()
    operations.record_claim(ports, "acme", "o-1", "1ZA", "accepted", by="bob", reference="R1")
    operations.record_claim(ports, "acme", "o-1", "1ZA", "paid", by="bob", amount_paid=5000)
    before = len(fake.alerts.sent)
    delivered = scan("1ZA", ShipmentStatus.DELIVERED, 90)
    arrive(fake, delivered, delivered)
    (claim,) = fake.records.claims("acme", "o-1")
    assert claim["status"] == "paid"
    (alert,) = fake.alerts.sent[before:]
    assert isinstance(alert, DeliveryNotice) and "R1" in (alert.what_next or "")


def test_a_settled_problem_pays_the_vendors_of_the_lines_that_arrived(fake: FakePorts) -> None:
    arrive(fake, placed(), fulfilled("1ZA", "l1"), fulfilled("1ZB", "l2"))
    arrive(fake, scan("1ZA", ShipmentStatus.DELIVERED, 30), scan("1ZB", ShipmentStatus.LOST, 30))
    operations.record_claim(fake.ports(), "acme", "o-1", "1ZB", "rejected", by="bob")
    answer = lifecycle.stage(
        fake.ports(),
        c.StageInput(
            tenant="acme",
            order_id="o-1",
            action=c.LifecycleAction.STAGE,
            stage=c.Stage.DELIVERY_PROBLEM,
            shipment="lost",
        ),
    )
    assert answer == {"stage": "delivery_problem", "delivered_lines": 1}
    release = c.ReleaseInput(
        tenant="acme", order_id="o-1", action=c.LifecycleAction.RELEASE, delivered_only=True
    )
    assert lifecycle.release(fake.ports(), release) == {"released": 1}
    assert [line["line_id"] for line in fake.records.released[("acme", "o-1")]] == ["l1"]
    assert fake.records.stage("acme", "o-1") == "delivery_problem"
