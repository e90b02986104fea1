"""Notices people can read (shared/notices/, shared/alerts.py), over fakes: the SNS body is a
human line and its attributes the structured fields; the e-mail is rendered for the right team
from the operations sender; each notice goes out once per identity and channel."""

from __future__ import annotations

import json

import pytest

from shared.alerts import ops_sender_of, render_notice
from shared.money import Money
from shared.notices import DEFAULT_OPS_SENDER, Notice, Team
from shared.notices.disputes import (
    DisputeCaseOpened,
    DisputeDeadlineReminder,
    DisputeRatioWarning,
    EarlyFraudWarningNotice,
)
from shared.notices.orders import (
    AuthorisationEnding,
    CallCustomer,
    ClaimWithdrawn,
    DeliveryProblem,
    NotDispatched,
    OrderNotDelivered,
    PotentialFraud,
    RefundFailed,
    RefundFailedAtGateway,
    RefundUnconfirmed,
    ReturnToInspect,
)
from shared.notices.payouts import (
    ConnectReversalFailed,
    UnknownVendor,
    VendorLinesHeld,
    VendorNotTold,
)
from shared.notices.queries import QueryCaseDue
from shared.notices.reconcile import (
    BankFileProblem,
    BreakLine,
    ReconciliationBreaks,
    ReconciliationFailed,
    ReconciliationTickIncomplete,
)
from shared.tenants import Branding, TenantSettings
from tests.alerts_fakes import API, FakeAlerts
from tests.orders_fakes import FakeMailer, FakeTenants

ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="USD",
    customer_sender="Acme Shop <orders@acme.example>",
    alert_emails=("ops@acme.example",),
    finance_emails=("finance@acme.example",),
    branding=Branding(display_name="Acme Outdoor", primary_color="#0b6e4f"),
)
ORDER = {
    "order_id": "o-1",
    "customer_name": "Maria Garcia",
    "customer_email": "maria@example.com",
    "lines": [
        {"name": "Boots", "quantity": 1, "unit_price": Money.of(5000, "USD"), "vendor": "Summit"}
    ],
    "total": Money.of(5000, "USD"),
}

SAMPLES: dict[type[Notice], Notice] = {
    DisputeCaseOpened: DisputeCaseOpened(
        tenant="acme",
        order_id="o-1",
        dispute_id="dp_1",
        amount=5000,
        currency="USD",
        reason="fraudulent",
        network_reason_code="10.4",
        card_brand="visa",
        due_by_local="Mon 30 Nov 2026 18:59 EST",
        suggestion="fight: Visa CE 3.0: two earlier undisputed payments by the same card qualify",
    ),
    DisputeDeadlineReminder: DisputeDeadlineReminder(
        tenant="acme",
        order_id="o-1",
        dispute_id="dp_1",
        amount=5000,
        currency="USD",
        due_by_local="Mon 30 Nov 2026 18:59 EST",
        days_before=2,
        state="collecting",
    ),
    DisputeRatioWarning: DisputeRatioWarning(
        tenant="acme",
        programme="Mastercard Excessive Chargeback Program",
        brand="mastercard",
        month="2026-11",
        share_percent=75,
        lines=("excessive (1.50 % and 100): projected at 80 % by the month's end",),
        rate="0.80 %",
        count=40,
        denominator=5000,
    ),
    EarlyFraudWarningNotice: EarlyFraudWarningNotice(
        tenant="acme",
        order_id="o-1",
        warning_id="issfr_1",
        charge_id="ch_1",
        fraud_type="unauthorized_use_of_card",
        outcome="not shipped: cancelled and 1 refund(s) started before it becomes a dispute",
    ),
    PotentialFraud: PotentialFraud(
        tenant="acme",
        order_id="o-1",
        reasons=("IP in NG", "new customer"),
        risk_score=80,
        approve_url="https://api.example/links/acme/o-1/approve?sig=a",
        reject_url="https://api.example/links/acme/o-1/reject?sig=r",
        order=ORDER,
    ),
    NotDispatched: NotDispatched(tenant="acme", order_id="o-1", days=3, order=ORDER),
    DeliveryProblem: DeliveryProblem(
        tenant="acme",
        order_id="o-1",
        problem="lost",
        carrier="UPS",
        tracking_code="1Z1",
        lines=("l1",),
        what_next="claim filed for lines l1: file it with the carrier",
        order=ORDER,
    ),
    OrderNotDelivered: OrderNotDelivered(
        tenant="acme",
        order_id="o-1",
        parcels=("1Z1: lost, lines l1, claim rejected", "1Z2: delivered, lines l2"),
        order=ORDER,
    ),
    ClaimWithdrawn: ClaimWithdrawn(
        tenant="acme", order_id="o-1", tracking_code="1Z1", reference="UPS-77"
    ),
    RefundUnconfirmed: RefundUnconfirmed(
        tenant="acme", order_id="o-1", refund_id="r1", amount=5000, currency="USD"
    ),
    RefundFailed: RefundFailed(
        tenant="acme",
        order_id="o-1",
        refund_id="r1",
        reason="GatewayRefused: charge already refunded",
        amount=5000,
        currency="USD",
    ),
    ReconciliationBreaks: ReconciliationBreaks(
        tenant="acme",
        day="2026-11-20",
        report="reports/acme/reconciliation/2026/11/20/report.html",
        breaks=(
            BreakLine(
                break_id="brk-1",
                break_class="duplicate_payment",
                amount=3000,
                currency="USD",
                explanation="o-dup was paid twice",
            ),
        ),
    ),
    CallCustomer: CallCustomer(
        tenant="acme",
        order_id="o-1",
        call_by="2026-11-22T09:00:00+00:00",
        phone="+31 20 555 0100",
        customer_name="Maria Garcia",
        reasons=("IP in NG",),
        score=80,
        order=ORDER,
    ),
    AuthorisationEnding: AuthorisationEnding(
        tenant="acme",
        order_id="o-1",
        authorisation_ends_at="2026-11-27T09:00:00+00:00",
        review_ends_at="2026-11-28T09:00:00+00:00",
        order=ORDER,
    ),
    RefundFailedAtGateway: RefundFailedAtGateway(
        tenant="acme",
        order_id="o-1",
        refund_id="r1",
        gateway_refund_id="re_1",
        payment_id="pi_1",
        amount=5000,
        currency="USD",
        reason="expired_or_canceled_card",
    ),
    ReturnToInspect: ReturnToInspect(tenant="acme", order_id="o-1", return_id="ret-1"),
    BankFileProblem: BankFileProblem(
        tenant="acme",
        file="bank-statements/acme/a.csv",
        lines_stored=9,
        quarantined=1,
        examples=("line 4: amount '7.0O' is not a number",),
    ),
    QueryCaseDue: QueryCaseDue(
        tenant="acme",
        case_id="qc-1",
        question="Where is payout po_9?",
        asked_by="reconciliation",
        due_at="2026-12-02 09:00 UTC",
        overdue=True,
        reminder=2,
        payout_id="po_9",
    ),
    UnknownVendor: UnknownVendor(
        tenant="acme",
        order_id="o-1",
        line_id="l2",
        vendor_id="v-new",
        amount=2490,
        currency="EUR",
    ),
    VendorNotTold: VendorNotTold(
        tenant="acme",
        order_id="o-1",
        vendor_id="v-a",
        news="order",
        reason="mail server down",
    ),
    ConnectReversalFailed: ConnectReversalFailed(
        tenant="acme",
        order_id="o-1",
        event_id="r1",
        vendor_id="v-c",
        transfer_id="tr_1",
        amount=4500,
        currency="EUR",
        reason="400: Insufficient funds in the destination account to reverse this transfer",
    ),
    VendorLinesHeld: VendorLinesHeld(
        tenant="acme",
        order_id="o-1",
        lines=("l2 (not_delivered: 1Z9 lost)",),
    ),
    ReconciliationFailed: ReconciliationFailed(
        tenant="acme",
        day="2026-11-20",
        error="ValidationError",
        cause="1 validation error for PayoutState",
    ),
}
# Kinds about no tenant: the operations topic only, mailed to nobody.
OPERATIONS_ONLY: dict[type[Notice], Notice] = {
    ReconciliationTickIncomplete: ReconciliationTickIncomplete(
        tick="2026-11-21T05:05:00+00:00", reconciled=99, failed=("acme:2026-11-20",)
    ),
}


def alerts(tenant: TenantSettings = ACME) -> tuple[FakeAlerts, FakeMailer]:
    mailer = FakeMailer()
    return FakeAlerts(FakeTenants(tenant), mailer), mailer


def test_every_kind_of_notice_has_a_sample() -> None:
    """A kind added without a sample here is a kind nobody has read."""
    assert set(Notice.__subclasses__()) == set(SAMPLES) | set(OPERATIONS_ONLY)


@pytest.mark.parametrize("notice", OPERATIONS_ONLY.values(), ids=lambda n: n.kind)
def test_a_notice_about_no_tenant_is_published_for_operations_and_mailed_to_nobody(
    notice: Notice,
) -> None:
    fake, mailer = alerts()
    fake.send(notice)
    (request,) = fake.published
    assert request["Message"].splitlines()[0] == notice.headline
    attributes = {k: v["StringValue"] for k, v in request["MessageAttributes"].items()}
    assert "tenant" not in attributes and attributes["severity"] == "critical"
    assert mailer.sent == []


@pytest.mark.parametrize("notice", SAMPLES.values(), ids=lambda n: n.kind)
def test_sns_carries_a_human_line_and_the_fields_to_filter_on(notice: Notice) -> None:
    fake, _ = alerts()
    fake.send(notice)
    (request,) = fake.published
    body = request["Message"]
    assert body.splitlines()[0] == notice.headline
    assert not body.lstrip().startswith(("{", "["))  # people read it, not a parser
    assert request["Subject"] == notice.headline[:100] and "\n" not in request["Subject"]
    attributes = {k: v["StringValue"] for k, v in request["MessageAttributes"].items()}
    assert attributes["kind"] == notice.kind
    assert attributes["tenant"] == "acme"
    assert attributes["severity"] == str(notice.severity)
    assert attributes["team"] == str(notice.team)
    if notice.order_id:
        assert attributes["order_id"] == notice.order_id and notice.order_id in body
    for action in notice.actions():
        if action.command:
            assert action.command in body
        if action.path:
            assert f"{action.method} {API}{action.path}" in body


@pytest.mark.parametrize("notice", SAMPLES.values(), ids=lambda n: n.kind)
def test_the_e_mail_goes_to_the_right_team_from_operations_in_the_tenants_colours(
    notice: Notice,
) -> None:
    fake, mailer = alerts()
    fake.send(notice)
    (mail,) = mailer.sent
    team = {Team.OPERATIONS: ACME.alert_emails, Team.FINANCE: ACME.finance_emails}
    assert mail.to == team[notice.team]
    assert mail.sender == DEFAULT_OPS_SENDER != ACME.customer_sender
    assert "#0b6e4f" in mail.html and "Acme Outdoor" in mail.subject
    assert (notice.order_id or notice.headline) in mail.text
    assert "<" not in mail.text.replace("<=", "")
    for action in notice.actions():
        if action.command:
            assert action.command in mail.text and action.command in mail.html


def test_notices_with_a_template_of_their_own_use_it() -> None:
    kinds = {}
    for notice in SAMPLES.values():
        fake, mailer = alerts()
        fake.send(notice)
        kinds[notice.kind] = mailer.sent[0].kind
    assert kinds == {
        "potential_fraud": "review_needed",
        "not_dispatched": "not_dispatched",
        "delivery_problem": "delivery_exception_ops",
        "refund_unconfirmed": "refund_stuck",
        "refund_failed": "team_notice",
        "reconciliation_breaks": "team_notice",
        "bank_file_problem": "team_notice",
        "unknown_vendor": "team_notice",
        "vendor_not_told": "team_notice",
        "call_customer": "team_notice",
        "authorisation_ending": "team_notice",
        "return_to_inspect": "team_notice",
        "order_not_delivered": "team_notice",
        "claim_withdrawn": "team_notice",
        "refund_failed_at_gateway": "team_notice",
        "dispute_opened": "dispute_opened",
        "dispute_deadline": "team_notice",
        "dispute_ratio": "team_notice",
        "early_fraud_warning": "team_notice",
        "query_case_due": "team_notice",
        "connect_reversal_failed": "team_notice",
        "vendor_lines_held": "team_notice",
        "reconciliation_failed": "team_notice",
    }


def test_a_template_missing_what_it_needs_falls_back_to_the_generic_notice() -> None:
    """A review held before the order was readable: no lines, no total."""
    bare = SAMPLES[PotentialFraud].model_copy(update={"order": None})
    email = render_notice(bare, ACME, ("ops@acme.example",), sender=DEFAULT_OPS_SENDER)
    assert email.kind == "team_notice"
    assert "https://api.example/links/acme/o-1/approve?sig=a" in email.html


def test_each_notice_goes_out_once_however_often_the_step_runs() -> None:
    fake, mailer = alerts()
    for _ in range(3):
        fake.send(SAMPLES[NotDispatched])
    assert len(fake.published) == 1 and len(mailer.sent) == 1
    # Another order's notice is another notice.
    fake.send(SAMPLES[NotDispatched].model_copy(update={"order_id": "o-2"}))
    assert len(fake.published) == 2 and len(mailer.sent) == 2


def test_a_channel_that_failed_is_tried_again_and_only_that_one() -> None:
    fake, mailer = alerts()
    mailer.fail = True
    fake.send(SAMPLES[RefundFailed])  # never raises: the refund's record still ends failed
    assert len(fake.published) == 1 and mailer.sent == []
    mailer.fail = False
    fake.send(SAMPLES[RefundFailed])
    assert len(fake.published) == 1 and len(mailer.sent) == 1

    fake, mailer = alerts()
    fake.fail_publish = True
    fake.send(SAMPLES[RefundFailed])
    assert fake.published == [] and len(mailer.sent) == 1
    fake.fail_publish = False
    fake.send(SAMPLES[RefundFailed])
    assert len(fake.published) == 1 and len(mailer.sent) == 1


def test_finance_notices_go_to_operations_when_a_shop_has_no_finance_list() -> None:
    fake, mailer = alerts(ACME.model_copy(update={"finance_emails": ()}))
    fake.send(SAMPLES[ReconciliationBreaks])
    assert mailer.sent[0].to == ACME.alert_emails


def test_a_notice_about_no_tenant_is_published_without_one_and_mailed_to_nobody() -> None:
    fake, mailer = alerts()
    fake.send(BankFileProblem(tenant=None, file="bank-statements/x/a.csv", rejected=True))
    (request,) = fake.published
    assert "tenant" not in request["MessageAttributes"]
    assert request["Message"].startswith("Bank file rejected: bank-statements/x/a.csv")
    assert mailer.sent == []


def test_break_ids_are_an_array_attribute_subscribers_can_match() -> None:
    fake, _ = alerts()
    fake.send(SAMPLES[ReconciliationBreaks])
    ids = fake.published[0]["MessageAttributes"]["break_ids"]
    assert ids["DataType"] == "String.Array" and json.loads(ids["StringValue"]) == ["brk-1"]


def test_the_operations_sender_is_named_and_must_be_an_address() -> None:
    assert ops_sender_of("noc@ecomops.example") == "Ecom OPS <noc@ecomops.example>"
    assert ops_sender_of("NOC <noc@ecomops.example>") == "NOC <noc@ecomops.example>"
    assert ops_sender_of(None) == DEFAULT_OPS_SENDER
    with pytest.raises(ValueError, match="no e-mail address"):
        ops_sender_of("Ecom OPS")


def test_each_parcels_problem_is_a_notice_of_its_own() -> None:
    fake, mailer = alerts()
    first = SAMPLES[DeliveryProblem]
    fake.send(first)
    fake.send(first.model_copy(update={"tracking_code": "1Z2"}))
    fake.send(first.model_copy(update={"problem": "damaged"}))
    fake.send(first)
    assert len(fake.published) == 3 and len(mailer.sent) == 3


def test_the_sns_subject_is_plain_ascii_and_a_huge_day_lists_the_first_ids() -> None:
    fake, _ = alerts()
    fake.send(SAMPLES[NotDispatched].model_copy(update={"order_id": "Ø-1"}))
    assert fake.published[0]["Subject"].isascii()
    many = tuple(BreakLine(break_id=f"brk-{i}", break_class="missing_payout") for i in range(1000))
    fake.send(ReconciliationBreaks(tenant="acme", day="2026-11-21", breaks=many))
    ids = fake.published[1]["MessageAttributes"]["break_ids"]["StringValue"]
    assert len(json.loads(ids)) == 100
    assert "990 more in the report" in fake.published[1]["Message"]


def test_the_dispatch_notice_names_the_vendors_to_chase() -> None:
    fake, mailer = alerts()
    fake.send(SAMPLES[NotDispatched])
    assert "Vendors: Summit" in mailer.sent[0].text
