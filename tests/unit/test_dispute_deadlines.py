"""Deadlines (issue 15, item 4): the client team is told when a case opens (SNS and a rendered
e-mail, the deadline in the tenant's time zone), reminded 5, 2 and 1 days before the evidence
is due while it is not submitted, once each; a disputed order's vendor funds are not released
and a refund of a disputed charge ends with a clear record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.disputes.ports import Ports
from functions.disputes.use_cases.deadlines import remind
from functions.disputes.use_cases.intake import dispute_event_taken
from functions.disputes.use_cases.representment import submit_case
from functions.orders import contracts as c
from functions.orders.domain import NotRefundable
from functions.orders.use_cases import lifecycle
from shared.notices.disputes import DisputeCaseOpened, DisputeDeadlineReminder
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock
from tests.disputes_fakes import dispute_event, ports
from tests.orders_fakes import FakePorts
from tests.orders_fakes import FakeTenants as OrderTenants
from tests.unit.test_dispute_evidence import DISPUTED_AT, EMAILS, order
from tests.unit.test_orders_use_cases import ACME, paid, placed, prepare, step

OPENED = datetime(2026, 11, 20, 9, tzinfo=UTC)
DUE = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)


def desk(at: datetime = OPENED) -> tuple[Ports, FakeAlerts]:
    p = ports(order("o-1", DISPUTED_AT), at=at, emails=EMAILS)
    assert isinstance(p.alerts, FakeAlerts)
    return p, p.alerts


def test_a_case_opening_tells_the_team_with_the_deadline_in_its_time_zone() -> None:
    p, alerts = desk()
    event = dispute_event(charge_id="ch_o-1", due_by=DUE, reason="product_not_received")
    dispute_event_taken(p, event, "o-1")
    dispute_event_taken(p, event, "o-1")  # redelivered: the alert log sends it once
    (notice,) = {n.identity: n for n in alerts.sent}.values()
    assert isinstance(notice, DisputeCaseOpened)
    # The tenant is in Amsterdam: 23:59 UTC is 00:59 the next day there.
    assert notice.due_by_local == "Tue 01 Dec 2026 00:59 CET"
    assert notice.headline == (
        "Chargeback opened on order o-1: EUR 25.00 (product_not_received), "
        "evidence due Tue 01 Dec 2026 00:59 CET"
    )
    assert notice.suggestion == (
        "fight: the carrier scanned the parcel as delivered to the address"
    )
    (published,) = alerts.published
    assert published["MessageAttributes"]["kind"]["StringValue"] == "dispute_opened"
    assert "ecomops disputes show --tenant acme dp_1" in published["Message"]


def test_reminders_fire_5_2_and_1_days_before_once_each() -> None:
    p, alerts = desk()
    dispute_event_taken(p, dispute_event(charge_id="ch_o-1", due_by=DUE), "o-1")
    fired = []
    tick = OPENED
    while tick < DUE + timedelta(days=1):
        fired += [(r.days_before, tick) for r in remind(p, tick)]
        tick += timedelta(hours=1)
    assert [d for d, _ in fired] == [5, 2, 1]
    assert [t for _, t in fired] == [
        datetime(2026, 11, 26, 0, tzinfo=UTC),
        datetime(2026, 11, 29, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 0, tzinfo=UTC),
    ]
    reminders = [n for n in alerts.sent if isinstance(n, DisputeDeadlineReminder)]
    assert [n.days_before for n in reminders] == [5, 2, 1]
    assert reminders[-1].headline.startswith("Dispute evidence due in 1 day: dp_1 on order o-1")


def test_a_late_start_sends_only_the_most_urgent_reminder_and_none_once_submitted() -> None:
    p, _ = desk()
    dispute_event_taken(p, dispute_event(charge_id="ch_o-1", due_by=DUE), "o-1")
    assert [r.days_before for r in remind(p, DUE - timedelta(hours=30))] == [2]
    assert remind(p, DUE - timedelta(hours=29)) == []
    p.clock.set(DUE - timedelta(hours=26))  # type: ignore[attr-defined]
    submit_case(p, "acme", "dp_1", by="sam")
    assert remind(p, DUE - timedelta(hours=12)) == []


@pytest.fixture
def fake() -> FakePorts:
    return FakePorts(clock=FixedClock(OPENED), tenants=OrderTenants(ACME))


def test_the_lifecycle_holds_vendor_funds_of_a_disputed_order(fake: FakePorts) -> None:
    fake.orders.add(
        placed(), paid(), dispute_event(order_id="o-1", charge_id="ch-pi_1", amount=5000)
    )
    result = lifecycle.release(fake.ports(), step(c.ReleaseInput, c.LifecycleAction.RELEASE))
    assert result == {"released": 0, "held_for_disputes": ["dp_1"]}
    assert ("acme", "o-1") not in fake.records.released
    assert fake.records.stage("acme", "o-1") == c.Stage.FUNDS_HELD


def test_the_lifecycle_releases_once_the_dispute_is_won(fake: FakePorts) -> None:
    won = dispute_event(
        "charge.dispute.closed",
        event_id="evt_won",
        order_id="o-1",
        charge_id="ch-pi_1",
        status="won",
        at=OPENED + timedelta(days=30),
    )
    fake.orders.add(placed(), paid(), dispute_event(order_id="o-1", charge_id="ch-pi_1"), won)
    lifecycle.release(fake.ports(), step(c.ReleaseInput, c.LifecycleAction.RELEASE))
    assert fake.records.stage("acme", "o-1") == c.Stage.CLOSED


def test_a_refund_of_a_disputed_charge_ends_with_a_clear_record(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid(), dispute_event(order_id="o-1", charge_id="ch-pi_1"))
    with pytest.raises(NotRefundable, match=r"payment pi_1 is disputed \(dp_1, needs_response\)"):
        prepare(fake, "r1", amount=1000)
    assert fake.refunds.requests("acme", "o-1") == []
