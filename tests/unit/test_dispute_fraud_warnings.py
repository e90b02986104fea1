"""Early fraud warnings (issue 15, item 5): kept for the ratios; an actionable one on an
unshipped order cancels and refunds it once under duplicates (per the tenant's policy);
shipped, or a policy of alerting only, tells the client team; the refund is a fraud
cancellation that tells Stripe ``fraudulent`` only when the tenant chose so."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.disputes.ports import Ports
from functions.disputes.use_cases.fraud_warnings import (
    ALERTED,
    ALREADY_DONE,
    CANCELLED,
    RECORDED,
    fraud_warning_taken,
)
from shared.events import EarlyFraudWarningRaised, Source
from shared.notices.disputes import EarlyFraudWarningNotice
from shared.refund_causes import RefundCause, refund_reason
from tests.alerts_fakes import FakeAlerts
from tests.disputes_fakes import FakeCancellation, FakeWarnings, ports, tenant
from tests.unit.test_dispute_evidence import DISPUTED_AT, order


def warning(
    event_id: str = "evt_efw", *, actionable: bool = True, charge: str = "ch_o-1"
) -> EarlyFraudWarningRaised:
    return EarlyFraudWarningRaised(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id=event_id,
        occurred_at=DISPUTED_AT + timedelta(days=2),
        warning_id="issfr_1",
        charge_id=charge,
        payment_id=None,
        actionable=actionable,
        fraud_type="unauthorized_use_of_card",
    )


def fakes(p: Ports) -> tuple[FakeCancellation, FakeAlerts, FakeWarnings]:
    assert isinstance(p.cancellation, FakeCancellation)
    assert isinstance(p.alerts, FakeAlerts)
    assert isinstance(p.warnings, FakeWarnings)
    return p.cancellation, p.alerts, p.warnings


def test_an_unshipped_order_is_cancelled_once_under_duplicates() -> None:
    p = ports(order("o-1", DISPUTED_AT, delivered=False, shipped=False))
    cancellation, alerts, kept = fakes(p)
    results = [fraud_warning_taken(p, warning(f"evt_{n}")) for n in range(3)]
    assert results == [CANCELLED, ALREADY_DONE, ALREADY_DONE]
    (call,) = cancellation.calls
    assert call[:2] == ("acme", "o-1") and "early fraud warning issfr_1" in call[2]
    (notice,) = alerts.sent
    assert isinstance(notice, EarlyFraudWarningNotice)
    assert notice.headline == (
        "Early fraud warning on order o-1: not shipped: cancelled and 1 refund(s) started "
        "before it becomes a dispute"
    )
    month, fields = kept.kept[("acme", "issfr_1")]
    assert (month, fields["brand"], fields["order_id"]) == ("2026-11", "visa", "o-1")


def test_a_shipped_order_is_an_alert_only() -> None:
    p = ports(order("o-1", DISPUTED_AT))
    cancellation, alerts, _ = fakes(p)
    assert fraud_warning_taken(p, warning()) == ALERTED
    assert cancellation.calls == []
    (notice,) = alerts.sent
    assert "the order has shipped" in notice.headline
    assert "ecomops disputes list --tenant acme" in notice.message()


@pytest.mark.parametrize(
    ("actionable", "policy", "expected"),
    [(False, "cancel_unshipped", RECORDED), (True, "alert", ALERTED)],
)
def test_policy_and_actionability_decide(actionable: bool, policy: str, expected: str) -> None:
    p = ports(
        order("o-1", DISPUTED_AT, delivered=False, shipped=False),
        settings=tenant(early_fraud_warning=policy),
    )
    cancellation, _, kept = fakes(p)
    assert fraud_warning_taken(p, warning(actionable=actionable)) == expected
    assert cancellation.calls == [] and ("acme", "issfr_1") in kept.kept


def test_a_warning_on_a_charge_we_never_saw_is_kept_and_alerted() -> None:
    p = ports()
    _, alerts, kept = fakes(p)
    assert fraud_warning_taken(p, warning(charge="ch_unknown")) == ALERTED
    assert "no order of ours holds this charge" in alerts.sent[0].headline
    assert kept.kept[("acme", "issfr_1")][1]["brand"] == "unknown"


def test_a_cancellation_the_orders_context_refuses_is_told() -> None:
    p = ports(order("o-1", DISPUTED_AT, delivered=False, shipped=False))
    cancellation, alerts, _ = fakes(p)
    cancellation.refuse = "the order has shipped: open a return instead"
    assert fraud_warning_taken(p, warning()) == ALERTED
    assert "could not be cancelled: the order has shipped" in alerts.sent[0].headline


def test_the_refund_tells_stripe_fraudulent_only_when_the_tenant_chose_so() -> None:
    """The cancellation's cause is a fraud report: Stripe's reason follows the tenant's
    ``refunds.report_fraud_to_gateway`` (off by default: no reason at all)."""
    assert refund_reason(RefundCause.FRAUD_REPORTED, report_fraud=False) is None
    assert refund_reason(RefundCause.FRAUD_REPORTED, report_fraud=True) == "fraudulent"
