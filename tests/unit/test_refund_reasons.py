"""Refund reasons (issue 13.4): each cause of a refund or void gives the gateway its own reason,
``fraudulent`` only under the tenant's policy, and the customer a sentence in the shop's voice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from markupsafe import escape
from pydantic import ValidationError

from functions.orders import contracts as c
from functions.orders.use_cases import changes, lifecycle, operations, refunds
from functions.reconcile.domain.actions import refund_cause
from functions.reconcile.domain.model import BreakClass
from shared.events import OrderCancelled, PaymentAuthorized, Source
from shared.order_aggregate import CancelReason
from shared.refund_causes import (
    MEANINGS,
    RefundCause,
    cancellation_reason,
    customer_sentence,
    refund_reason,
)
from shared.tenants import TenantSettings
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.unit.test_orders_use_cases import ACME, T0, eur, paid, placed

# A tenant whose policy is to tell the gateway about fraud (Stripe then blocks card and e-mail).
REPORTS_FRAUD = TenantSettings.model_validate(
    {**ACME.model_dump(), "refunds": {"report_fraud_to_gateway": True}}
)

# What each cause should mean at the gateway (refund reason, void reason), written out here
# independently of the table under test. "fraud" marks the causes that are a fraud decision.
EXPECTED: dict[RefundCause, tuple[str | None, str | None]] = {
    RefundCause.CUSTOMER_REQUEST: ("requested_by_customer", "requested_by_customer"),
    RefundCause.DUPLICATE_CHARGE: ("duplicate", "duplicate"),
    RefundCause.FRAUD_REPORTED: ("fraud", "fraud"),
    RefundCause.RETURN: ("requested_by_customer", "requested_by_customer"),
    RefundCause.SHOP_CANCELLED: (None, None),
    RefundCause.NOT_PAID: (None, "abandoned"),
    RefundCause.SCREENING_BLOCK: ("fraud", "fraud"),
    RefundCause.REVIEW_REJECTED: ("fraud", "fraud"),
    RefundCause.REVIEW_TIMED_OUT: (None, "abandoned"),
    RefundCause.RECONCILIATION_DUPLICATE: ("duplicate", "duplicate"),
    RefundCause.RECONCILIATION_CANCELLED: (None, None),
    RefundCause.RECONCILIATION_NO_ORDER: (None, None),
    RefundCause.PAID_AFTER_CANCELLATION: (None, None),
}


def authorized(payment_id: str = "pi_auth") -> PaymentAuthorized:
    return PaymentAuthorized(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id=f"evt-{payment_id}",
        occurred_at=T0,
        order_id="o-1",
        payment_id=payment_id,
        amount=eur(1000),
    )


def fakes(tenant: TenantSettings = ACME) -> FakePorts:
    return FakePorts(clock=FixedClock(T0 + timedelta(hours=1)), tenants=FakeTenants(tenant))


def run_refunds(fake: FakePorts) -> list[dict[str, Any]]:
    """Run every refund workflow started so far through prepare, submit and complete, as the
    refund state machine would: what the gateway was asked, per refund."""
    ports = fake.ports()
    for (_, identity), document in fake.workflows.started.items():
        if identity[2:3] != ("refund",):
            continue
        given = c.RefundInput.model_validate(document)
        common = {"tenant": "acme", "order_id": "o-1", "refund_id": given.refund_id}
        prepared = refunds.prepare(
            ports,
            c.PrepareInput(
                **common,
                action=c.RefundAction.PREPARE,
                amount=given.amount,
                cause=given.cause,
                payment_id=given.payment_id,
            ),
        )
        refunds.submit(
            ports,
            c.SubmitInput(
                **common, action=c.RefundAction.SUBMIT, prepared=prepared, cause=given.cause
            ),
        )
        refunds.complete(
            ports,
            c.CompleteInput(
                **common, action=c.RefundAction.COMPLETE, prepared=prepared, cause=given.cause
            ),
        )
    return fake.payments.of("re")


def lifecycle_cancel(fake: FakePorts, reason: CancelReason) -> dict[str, Any]:
    return lifecycle.cancel(
        fake.ports(),
        c.CancelInput(
            tenant="acme", order_id="o-1", action=c.LifecycleAction.CANCEL, reason=reason
        ),
    )


def refund_mail(fake: FakePorts) -> str:
    (mail,) = [m for m in fake.mailer.sent if str(m.kind) == "refund_issued"]
    return f"{mail.text}\n{mail.html}"


# -- the one table ---------------------------------------------------------------------------


@pytest.mark.parametrize("cause", list(RefundCause))
@pytest.mark.parametrize("report_fraud", [False, True])
def test_each_cause_has_its_gateway_reasons_and_fraudulent_only_under_the_policy(
    cause: RefundCause, report_fraud: bool
) -> None:
    expected_refund, expected_void = EXPECTED[cause]

    def under_policy(expected: str | None) -> str | None:
        if expected == "fraud":
            return "fraudulent" if report_fraud else None
        return expected

    assert refund_reason(cause, report_fraud=report_fraud) == under_policy(expected_refund)
    assert cancellation_reason(cause, report_fraud=report_fraud) == under_policy(expected_void)
    sentence = customer_sentence(cause)
    assert sentence.endswith(".") and not any(
        word in sentence.lower() for word in ("fraud", "duplicate", "requested_by")
    )


def test_every_cause_is_in_the_table() -> None:
    assert set(MEANINGS) == set(RefundCause) == set(EXPECTED)


# -- the lifecycle's cancellations: voids and refunds ----------------------------------------


def test_a_screening_block_is_not_reported_as_fraud_by_default() -> None:
    fake = fakes()
    fake.orders.add(placed(), paid("pi_1", 4000), authorized())
    lifecycle_cancel(fake, CancelReason.BLOCKED_BY_SCREENING)
    (void,) = fake.payments.of("void")
    assert void["reason"] is None
    (refund,) = run_refunds(fake)
    assert refund["reason"] is None
    text = refund_mail(fake)
    assert "(fraudulent)" not in text and "fraud" not in text.lower()
    assert customer_sentence(RefundCause.SCREENING_BLOCK) in text


@pytest.mark.parametrize(
    "reason", [CancelReason.BLOCKED_BY_SCREENING, CancelReason.REJECTED_IN_REVIEW]
)
def test_a_tenant_that_reports_fraud_tells_the_gateway_for_blocks_and_rejections(
    reason: CancelReason,
) -> None:
    fake = fakes(REPORTS_FRAUD)
    fake.orders.add(placed(), paid("pi_1", 4000), authorized())
    lifecycle_cancel(fake, reason)
    assert [v["reason"] for v in fake.payments.of("void")] == ["fraudulent"]
    assert [r["reason"] for r in run_refunds(fake)] == ["fraudulent"]
    assert "fraud" not in refund_mail(fake).lower()


@pytest.mark.parametrize(
    ("reason", "void_reason"),
    [
        (CancelReason.PAYMENT_NOT_AUTHORIZED, "abandoned"),
        (CancelReason.REVIEW_TIMED_OUT, "abandoned"),
        (CancelReason.REJECTED_IN_REVIEW, None),
    ],
)
def test_a_void_carries_the_cancellations_own_reason(
    reason: CancelReason, void_reason: str | None
) -> None:
    fake = fakes()
    fake.orders.add(placed(), authorized())
    assert lifecycle_cancel(fake, reason)["voided"] == 1
    assert [v["reason"] for v in fake.payments.of("void")] == [void_reason]


# -- operators, shops and returns ------------------------------------------------------------


def test_an_operators_cancellation_gives_no_reason_and_tells_the_customer_why() -> None:
    fake = fakes()
    fake.orders.add(placed(), paid())
    operations.cancel_order(fake.ports(), "acme", "o-1", "out of stock (by ops@acme)")
    assert [r["reason"] for r in run_refunds(fake)] == [None]
    assert customer_sentence(RefundCause.SHOP_CANCELLED) in refund_mail(fake)


@pytest.mark.parametrize(
    ("shop_reason", "gateway_reason"),
    [("customer", "requested_by_customer"), ("inventory", None), ("fraud", None)],
)
def test_a_shops_cancel_reason_names_the_refunds_cause(
    shop_reason: str, gateway_reason: str | None
) -> None:
    fake = fakes()
    fake.orders.add(placed(), paid())
    cancelled = OrderCancelled(
        tenant="acme",
        source=Source.SHOP,
        source_event_id="o-1-cancelled",
        occurred_at=T0 + timedelta(hours=2),
        order_id="o-1",
        reason=shop_reason,
    )
    fake.orders.add(cancelled)
    changes.order_changed(fake.ports(), cancelled, "o-1", "applied")
    assert [r["reason"] for r in run_refunds(fake)] == [gateway_reason]


def test_an_operators_fraudulent_refund_reaches_the_gateway_only_under_the_policy() -> None:
    for tenant, expected in ((ACME, None), (REPORTS_FRAUD, "fraudulent")):
        fake = fakes(tenant)
        fake.orders.add(placed(), paid())
        operations.request_refund(
            fake.ports(),
            "acme",
            "o-1",
            amount=1000,
            cause=c.OPERATOR_REFUND_CAUSES["fraudulent"],
            refund_id="r1",
        )
        assert [r["reason"] for r in run_refunds(fake)] == [expected]


# -- reconciliation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("break_class", "gateway_reason"),
    [
        (BreakClass.DUPLICATE_PAYMENT, "duplicate"),
        (BreakClass.CANCELLED_NOT_REFUNDED, None),
        (BreakClass.CHARGED_ORDER_NOT_COMPLETED, None),
    ],
)
def test_reconciliation_says_duplicate_only_for_duplicates(
    break_class: BreakClass, gateway_reason: str | None
) -> None:
    fake = fakes()
    fake.orders.add(placed(), paid())
    operations.request_refund(
        fake.ports(),
        "acme",
        "o-1",
        amount=1000,
        payment_id="pi_1",
        cause=refund_cause(break_class),
        refund_id="recon-1",
    )
    assert [r["reason"] for r in run_refunds(fake)] == [gateway_reason]
    assert "duplicate" not in refund_mail(fake).lower() or gateway_reason == "duplicate"


def test_the_daily_run_names_each_refunds_cause() -> None:
    from tests.unit.test_reconcile_use_cases import ACME as RECON_TENANT
    from tests.unit.test_reconcile_use_cases import DAY, Run

    run = Run()
    run.daily.run(RECON_TENANT, DAY)
    causes = {r["order_id"]: r["cause"] for r in run.refunds.started}
    assert causes == {
        "o-dup": RefundCause.RECONCILIATION_DUPLICATE,
        "o-cancel": RefundCause.RECONCILIATION_CANCELLED,
    }


def test_reconciliation_asks_the_orders_context_for_the_breaks_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.reconcile import composition

    asked: list[dict[str, Any]] = []

    def request_refund(tenant: str, order_id: str, **request: Any) -> dict[str, Any]:
        asked.append(request)
        return {"refund_id": request["refund_id"], "started": True}

    monkeypatch.setattr(composition, "orders_request_refund", lambda: request_refund)
    starter = composition.OrdersRefunds(composition.ReconcileSettings(table_name="t"))
    starter(
        "acme",
        "o-1",
        amount=100,
        payment_id="pi_1",
        refund_id="recon-1",
        cause=RefundCause.RECONCILIATION_CANCELLED,
    )
    assert [a["cause"] for a in asked] == [RefundCause.RECONCILIATION_CANCELLED]


def test_a_break_that_suggests_no_refund_has_no_cause() -> None:
    with pytest.raises(ValueError, match="short_payment"):
        refund_cause(BreakClass.SHORT_PAYMENT)


# -- contracts and settings --------------------------------------------------------------------


def test_an_execution_started_with_the_gateways_reason_still_runs() -> None:
    legacy = {
        "tenant": "acme",
        "order_id": "o-1",
        "refund_id": "r1",
        "action": "submit",
        "prepared": {"payment_id": "pi_1", "amount": 100, "currency": "EUR"},
        "reason": "duplicate",
    }
    assert c.SubmitInput.model_validate(legacy).cause == RefundCause.DUPLICATE_CHARGE


def test_the_refund_policy_is_typed() -> None:
    assert ACME.refunds.report_fraud_to_gateway is False
    with pytest.raises(ValidationError, match="report_fraud"):
        TenantSettings.model_validate({**ACME.model_dump(), "refunds": {"report_fraud": True}})


@pytest.mark.parametrize("cause", [RefundCause.RETURN, None])
def test_the_refund_email_says_why_in_its_own_paragraph(cause: RefundCause | None) -> None:
    from shared.notify.render import EmailKind, render

    email = render(
        EmailKind.REFUND_ISSUED,
        {"order_id": "o-1", "refund": {"amount": 1000, "currency": "EUR"}, "cause": cause},
        ACME,
        ["bob@example.com"],
    )
    said = f" {customer_sentence(cause)}" if cause else ""
    assert f"We've issued a refund for your order o-1.{said}\n\nAmount refunded" in email.text
    assert f"o-1</strong>.{escape(said)}" in email.html
