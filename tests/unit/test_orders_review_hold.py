"""While a review holds an order (issue 13, items 8 and 10): the authorisation window's alert to
the reviewer, and the call task for the client team before the review times out, each at its
time and once; the call's outcome recorded. Over fakes of the orders ports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from functions.orders import contracts as c
from functions.orders.domain import OperationRefused
from functions.orders.use_cases import lifecycle, operations, reviews
from shared.events import Address, PaymentAuthorized
from shared.notices.orders import AuthorisationEnding, CallCustomer
from shared.tenants import TenantSettings
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.unit.test_orders_confirm_when_paid import gateway
from tests.unit.test_orders_use_cases import T0, placed, step

HELD = T0 + timedelta(hours=1)  # screening held the order an hour after it was placed
HOUR = 3600


def tenant(**values: Any) -> TenantSettings:
    return TenantSettings(
        id="acme",
        name="Acme",
        currency="EUR",
        customer_sender="shop@acme.example",
        alert_emails=("ops@acme.example",),
        **values,
    )


# Manual capture, a review of 150 h: the call is due at 126 h (24 h before the end); the card
# was authorised when the order was placed, an hour before the hold, so the 168 h window ends
# 167 h into the review and its alert (24 h before) is due at 143 h.
MANUAL = tenant(capture_mode="manual", review_timeout_hours=150)


def held(settings: TenantSettings = MANUAL) -> FakePorts:
    fake = FakePorts(clock=FixedClock(HELD), tenants=FakeTenants(settings))
    order = placed().model_copy(
        update={"billing_address": Address(country="NL", phone="+31 20 555 0100")}
    )
    fake.orders.add(order, gateway(PaymentAuthorized))  # authorised when the order was placed
    fake.records.save_screening("acme", "o-1", {"reasons": ["IP in NG"], "score": 80})
    return fake


def checkpoint(fake: FakePorts, after_h: float, seconds_per_day: int = 86_400) -> c.ReviewPlan:
    fake.clock.set(HELD + timedelta(hours=after_h))
    return reviews.checkpoint(
        fake.ports(seconds_per_day=seconds_per_day),
        step(c.ReviewCheckpointInput, c.LifecycleAction.REVIEW_CHECKPOINT),
    )


def subjects(fake: FakePorts) -> list[str]:
    return [notice.headline for notice in fake.alerts.sent]


def test_the_review_waits_in_stretches_to_each_point_then_ends() -> None:
    fake = held()
    assert checkpoint(fake, 0) == c.ReviewPlan(expired=False, next_s=126 * HOUR)
    assert fake.alerts.sent == []
    assert checkpoint(fake, 126) == c.ReviewPlan(expired=False, next_s=17 * HOUR)
    assert checkpoint(fake, 143) == c.ReviewPlan(expired=False, next_s=7 * HOUR)
    assert checkpoint(fake, 150).expired


def test_the_reviewer_is_alerted_once_when_the_authorisation_nears_its_end() -> None:
    fake = held()
    checkpoint(fake, 0)
    checkpoint(fake, 142.5)
    assert not any("authorisation" in s for s in subjects(fake))
    checkpoint(fake, 143)
    checkpoint(fake, 143)  # a retried step
    checkpoint(fake, 149)
    (alert,) = [n for n in fake.alerts.sent if isinstance(n, AuthorisationEnding)]
    assert alert.order_id == "o-1"
    assert alert.authorisation_ends_at == (T0 + timedelta(hours=168)).isoformat()
    assert alert.review_ends_at == (HELD + timedelta(hours=150)).isoformat()


def test_automatic_capture_holds_no_authorisation_to_alert_about() -> None:
    fake = held(tenant(review_timeout_hours=150))
    for hours in (0, 126, 149):
        checkpoint(fake, hours)
    assert not any("authorisation" in s for s in subjects(fake))


def test_an_authorisation_older_than_the_hold_moves_the_alert_earlier() -> None:
    fake = held()
    fake.clock.set(T0 + timedelta(hours=100))  # held 100 h after the card was authorised
    plan = reviews.checkpoint(
        fake.ports(), step(c.ReviewCheckpointInput, c.LifecycleAction.REVIEW_CHECKPOINT)
    )
    assert plan.next_s == 44 * HOUR  # 168 - 24 - 100
    assert fake.alerts.sent == []


def test_the_call_task_is_opened_once_with_phone_reasons_score_and_link() -> None:
    fake = held()
    checkpoint(fake, 0)
    checkpoint(fake, 125)
    assert fake.records.review("acme", "o-1")["call_task"] is None  # type: ignore[index]
    checkpoint(fake, 126)
    checkpoint(fake, 126)  # a retried step
    task = fake.records.review("acme", "o-1")["call_task"]  # type: ignore[index]
    assert task["phone"] == "+31 20 555 0100"  # from the billing address
    assert (task["reasons"], task["score"]) == (["IP in NG"], 80)
    assert task["order_url"] == "https://ops.example/ops/tenants/acme/orders/o-1"
    assert task["call_by"] == (HELD + timedelta(hours=150)).isoformat()
    (notice,) = [n for n in fake.alerts.sent if isinstance(n, CallCustomer)]
    assert notice.phone == "+31 20 555 0100" and notice.reasons == ("IP in NG",)
    assert notice.headline.startswith("Call the customer")


def test_a_review_shorter_than_the_call_margin_calls_at_once_and_zero_calls_never() -> None:
    short = held(tenant(review_timeout_hours=12))
    assert checkpoint(short, 0) == c.ReviewPlan(expired=False, next_s=12 * HOUR)
    assert short.records.review("acme", "o-1")["call_task"] is not None  # type: ignore[index]
    never = held(tenant(review_call_before_timeout_hours=0))
    assert checkpoint(never, 0) == c.ReviewPlan(expired=False, next_s=48 * HOUR)
    checkpoint(never, 47)
    assert never.records.review("acme", "o-1")["call_task"] is None  # type: ignore[index]


def test_the_stretches_follow_the_deployments_time_scale() -> None:
    # The local stack: a day is a second, so 126 h is 5.25 s, rounded up.
    fake = held()
    assert checkpoint(fake, 0, seconds_per_day=1).next_s == 6
    fake.clock.set(HELD + timedelta(seconds=6.25))  # 150 h on this scale
    plan = reviews.checkpoint(
        fake.ports(seconds_per_day=1),
        step(c.ReviewCheckpointInput, c.LifecycleAction.REVIEW_CHECKPOINT),
    )
    assert plan.expired


def test_a_later_stretch_only_parks_the_token() -> None:
    fake = held()
    hold = step(c.HoldInput, c.LifecycleAction.HOLD, task_token="tok-1")
    lifecycle.hold(fake.ports(), hold)
    told = (fake.mailer.kinds(), len(fake.alerts.sent))
    lifecycle.hold(fake.ports(), hold.model_copy(update={"task_token": "tok-2"}))
    assert (fake.mailer.kinds(), len(fake.alerts.sent)) == told
    assert fake.records.waits[("acme", "o-1", "review")] == "tok-2"


def between_stretches(fake: FakePorts, after_h: float) -> None:
    """Held, and the stretch whose token is parked has just timed out (its token is stale)."""
    checkpoint(fake, 0)
    hold = step(c.HoldInput, c.LifecycleAction.HOLD, task_token="stale")
    lifecycle.hold(fake.ports(), hold)
    fake.clock.set(HELD + timedelta(hours=after_h))
    fake.workflows.live_tokens = {"fresh"}


def test_a_decision_between_two_stretches_waits_for_the_next_one() -> None:
    fake = held()
    between_stretches(fake, 126)
    answer = operations.decide_review(fake.ports(), "acme", "o-1", "reject", "alice")
    assert answer == {"resumed": True, "queued": True}
    checkpoint(fake, 126)
    hold = step(c.HoldInput, c.LifecycleAction.HOLD, task_token="fresh")
    assert lifecycle.hold(fake.ports(), hold) == {"held": True, "decided": True}
    assert fake.workflows.resumed[-1] == ("fresh", {"decision": "reject", "by": "alice"})
    assert ("acme", "o-1", "review") not in fake.records.waits


def test_a_decision_parked_after_the_next_stretch_began_resumes_that_stretch() -> None:
    fake = held()
    between_stretches(fake, 126)
    resume = fake.workflows.resume

    def next_stretch_begins_meanwhile(token: str, output: dict[str, Any]) -> bool:
        if token == "stale":  # while decide finds the stale token refused, the next one parks
            checkpoint(fake, 126)
            hold = step(c.HoldInput, c.LifecycleAction.HOLD, task_token="fresh")
            assert lifecycle.hold(fake.ports(), hold) == {"held": True, "decided": False}
        return resume(token, output)

    fake.workflows.resume = next_stretch_begins_meanwhile  # type: ignore[method-assign]
    answer = operations.decide_review(fake.ports(), "acme", "o-1", "approve", "alice")
    assert answer == {"resumed": True, "queued": True}
    assert fake.workflows.resumed[-1] == ("fresh", {"decision": "approve", "by": "alice"})
    assert fake.records.waits == {}


def test_a_decision_after_the_reviews_time_is_up_is_refused() -> None:
    fake = held()
    between_stretches(fake, 150)
    answer = operations.decide_review(fake.ports(), "acme", "o-1", "approve", "alice")
    assert answer == {"resumed": False, "reason": "no review is waiting for this order"}
    assert ("acme", "o-1", "review_decision") not in fake.records.waits


# -- the call's outcome --------------------------------------------------------------------------


def called(fake: FakePorts, outcome: str, note: str = "") -> dict[str, Any]:
    return operations.record_call_outcome(fake.ports(), "acme", "o-1", outcome, note, "alice")


def test_a_calls_outcome_is_kept_with_who_and_when_and_shown_on_the_timeline() -> None:
    fake = held()
    checkpoint(fake, 126)
    fake.records.set_stage("acme", "o-1", c.Stage.POTENTIAL_FRAUD)
    assert called(fake, "no-answer")["advice"] is None
    fake.clock.advance(timedelta(hours=2))
    result = called(fake, "reached-declined", "says she never ordered")
    assert result["advice"] == "the customer does not recognise the order: reject the review"
    outcomes = fake.records.review("acme", "o-1")["outcomes"]  # type: ignore[index]
    assert [(o["outcome"], o["by"]) for o in outcomes] == [
        ("no-answer", "alice"),
        ("reached-declined", "alice"),
    ]
    assert outcomes[1]["at"] == (HELD + timedelta(hours=128)).isoformat()
    notes = fake.orders.notes[("acme", "o-1")]
    assert [n.kind for n in notes] == ["CallOutcome", "CallOutcome"]
    assert notes[1].summary == "customer called by alice: reached-declined (says she never ordered)"
    assert notes[0].event_id != notes[1].event_id


@pytest.mark.parametrize(
    ("outcome", "refusal"),
    [("answered", "not one of reached-confirmed"), ("no-answer", "never held for review")],
)
def test_calls_that_cannot_be_recorded_are_refused(outcome: str, refusal: str) -> None:
    fake = held()  # never held: no checkpoint ran
    with pytest.raises(OperationRefused, match=refusal):
        called(fake, outcome)
    assert fake.orders.notes == {}
