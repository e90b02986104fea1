"""Evidence assembled from our records (issue 15, item 2): Stripe's fields from a delivered
order, the e-mails we sent, the tenant's policies, a duplicate's other charge, Visa CE 3.0 at
its day boundaries, the PDF packet read back, and Stripe's limits refused with the field and
the size."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader

from functions.disputes.domain.case import DisputeCase
from functions.disputes.domain.evidence import (
    MAX_FILE_BYTES,
    EvidenceDraft,
    EvidenceFile,
    EvidenceRefused,
    SentEmail,
    limit_problems,
)
from functions.disputes.ports import Ports
from functions.disputes.use_cases.cases import record_dispute_event
from functions.disputes.use_cases.evidence import draft_evidence, render_files
from shared.events import (
    Address,
    Card,
    Customer,
    LineItem,
    OrderFulfilled,
    OrderPlaced,
    PaymentSucceeded,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.money import Money
from shared.order_aggregate import OrderState, apply
from tests.disputes_fakes import OPENED_AT, FakeFindings, dispute_event, ports, tenant

HOME = Address(
    name="Ann Smith", line1="1 High St", postal_code="1011 AB", city="Amsterdam", country="NL"
)
OFFICE = Address(line1="9 Dam", postal_code="1012 JS", city="Amsterdam", country="NL")
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Safari/605.1.15"


def order(
    order_id: str,
    at: datetime,
    *,
    email: str = "ann@example.com",
    ip: str | None = "81.2.69.142",
    user_agent: str | None = UA,
    ship_to: Address | None = HOME,
    fingerprint: str = "fp_ann_visa",
    delivered: bool = True,
    shipped: bool = True,
    charges: tuple[str, ...] = (),
) -> OrderState:
    def ev(event_id: str) -> dict[str, object]:
        return {"tenant": "acme", "source_event_id": f"{order_id}-{event_id}", "order_id": order_id}

    state = OrderState(tenant="acme", order_id=order_id)
    state = apply(
        state,
        OrderPlaced(
            **ev("placed"),
            source=Source.SHOP,
            occurred_at=at,
            currency="EUR",
            total=Money.of(4000, "EUR"),
            lines=(
                LineItem(
                    line_id="l1",
                    sku="LMP-1",
                    name="Brass lamp",
                    quantity=2,
                    unit_price=Money.of(2000, "EUR"),
                    vendor_id="v1",
                ),
            ),
            customer=Customer(email=email, name="Ann Smith", ip=ip, user_agent=user_agent),
            billing_address=HOME,
            shipping_address=ship_to,
        ),
    )
    for n, charge in enumerate(charges or (f"ch_{order_id}",)):
        state = apply(
            state,
            PaymentSucceeded(
                **ev(f"paid{n}"),
                source=Source.STRIPE,
                occurred_at=at + timedelta(minutes=1 + n),
                payment_id=f"pi_{charge}",
                charge_id=charge,
                amount=Money.of(4000, "EUR"),
                amount_captured=Money.of(4000, "EUR"),
                card=Card(fingerprint=fingerprint, brand="visa", last4="4242"),
            ),
        )
    if not shipped:
        return state
    state = apply(
        state,
        OrderFulfilled(
            **ev("fulfilled"),
            source=Source.SHOP,
            occurred_at=at + timedelta(days=1),
            tracking_code=f"1Z{order_id.upper()}",
            carrier="UPS",
        ),
    )
    if delivered:
        state = apply(
            state,
            ShipmentUpdated(
                **ev("delivered"),
                source=Source.EASYPOST,
                occurred_at=at + timedelta(days=3, hours=5),
                tracking_code=f"1Z{order_id.upper()}",
                carrier="UPS",
                status=ShipmentStatus.DELIVERED,
                location="Amsterdam",
            ),
        )
    return state


DISPUTED_AT = OPENED_AT - timedelta(days=20)
EMAILS = {
    "o-1": [
        SentEmail(
            kind="order_confirmation", at=DISPUTED_AT + timedelta(minutes=2), message_id="m-1"
        ),
        SentEmail(kind="shipped", at=DISPUTED_AT + timedelta(days=1), message_id="m-2"),
        SentEmail(kind="delivered", at=DISPUTED_AT + timedelta(days=3), status="failed"),
    ]
}
POLICIES = {
    "refund_policy_disclosure": "Refunds within 14 days, shown at checkout.",
    "cancellation_policy_disclosure": "Cancel before shipping at no cost.",
}


def drafted(
    *states: OrderState, reason: str = "product_not_received", code: str = "13.1"
) -> tuple[Ports, DisputeCase, EvidenceDraft]:
    p = ports(*states, emails=EMAILS, settings=tenant(**POLICIES))
    record_dispute_event(
        p, dispute_event(charge_id="ch_o-1", reason=reason, network_code=code), "o-1"
    )
    case = draft_evidence(p, "acme", "dp_1")
    return p, case, EvidenceDraft.model_validate(case.evidence)


def test_evidence_fields_are_filled_from_a_delivered_order() -> None:
    _, case, draft = drafted(order("o-1", DISPUTED_AT))
    f = draft.fields
    assert (f["customer_name"], f["customer_email_address"], f["customer_purchase_ip"]) == (
        "Ann Smith",
        "ann@example.com",
        "81.2.69.142",
    )
    assert (
        f["billing_address"]
        == f["shipping_address"]
        == ("Ann Smith, 1 High St, 1011 AB Amsterdam, NL")
    )
    assert (f["shipping_carrier"], f["shipping_tracking_number"]) == ("UPS", "1ZO-1")
    assert f["shipping_date"] == (DISPUTED_AT + timedelta(days=1)).date().isoformat()
    delivered = (DISPUTED_AT + timedelta(days=3, hours=5)).strftime("%Y-%m-%d %H:%M UTC")
    assert f"Delivery scan: {delivered} delivered (1ZO-1)" in f["uncategorized_text"]
    assert f["product_description"] == "2 x Brass lamp (SKU LMP-1) at EUR 20.00"
    assert f["refund_policy_disclosure"] == POLICIES["refund_policy_disclosure"]
    assert f["cancellation_policy_disclosure"] == POLICIES["cancellation_policy_disclosure"]
    # The receipt is the confirmation; the communication every e-mail that went out.
    assert "Message id: m-1" in draft.files["receipt"][0].lines
    (communication,) = draft.files["customer_communication"]
    assert [line.split()[3] for line in communication.lines] == ["order_confirmation", "shipped"]
    assert set(draft.rendered) == {
        "receipt",
        "customer_communication",
        "shipping_documentation",
        "uncategorized_file",
    }
    assert draft.missing == []
    assert case.state == "collecting"
    assert case.timeline[-1].what == "evidence drafted"


def test_what_is_missing_is_listed_with_the_reason() -> None:
    p = ports(order("o-1", DISPUTED_AT, ip=None, delivered=False))
    record_dispute_event(p, dispute_event(charge_id="ch_o-1"), "o-1")
    draft = EvidenceDraft.model_validate(draft_evidence(p, "acme", "dp_1").evidence)
    assert "customer_purchase_ip" not in draft.fields
    assert any(m.startswith("customer_purchase_ip:") for m in draft.missing)
    assert "delivery scan: no parcel was scanned as delivered" in draft.missing
    assert any(m.startswith("receipt:") for m in draft.missing)
    assert any(m.startswith("refund_policy_disclosure:") for m in draft.missing)


def test_a_duplicate_dispute_names_the_other_charge_and_what_reconciliation_found() -> None:
    state = order("o-1", DISPUTED_AT, charges=("ch_o-1", "ch_o-1b"))
    p = ports(state, emails=EMAILS, settings=tenant(**POLICIES))
    assert isinstance(p.findings, FakeFindings)
    p.findings.explanations["o-1"] = ["o-1 was paid twice: ch_o-1b refunded in full."]
    record_dispute_event(
        p, dispute_event(charge_id="ch_o-1", reason="duplicate", network_code="12.6.1"), "o-1"
    )
    draft = EvidenceDraft.model_validate(draft_evidence(p, "acme", "dp_1").evidence)
    assert draft.fields["duplicate_charge_id"] == "ch_o-1b"
    explanation = draft.fields["duplicate_charge_explanation"]
    assert "two payments for the same order o-1" in explanation
    assert explanation.endswith(
        "Our daily reconciliation found: o-1 was paid twice: ch_o-1b refunded in full."
    )


def test_ce3_picks_exactly_the_qualifying_earlier_payments() -> None:
    """119 and 366 days are outside Visa's window, 120 and 365 inside; a disputed payment, one
    by another card and one sharing only the e-mail do not count."""
    disputed = order("o-1", DISPUTED_AT)
    earlier = [
        order(f"o-{days}", DISPUTED_AT - timedelta(days=days)) for days in (119, 120, 365, 366)
    ]
    other_card = order("o-card", DISPUTED_AT - timedelta(days=200), fingerprint="fp_other")
    one_match = order(
        "o-one",
        DISPUTED_AT - timedelta(days=200),
        ip="10.0.0.1",
        user_agent="curl/8",
        ship_to=OFFICE,
    )
    was_disputed = order("o-disp", DISPUTED_AT - timedelta(days=200))
    was_disputed = apply(
        was_disputed, dispute_event(charge_id="ch_o-disp", event_id="evt_old", order_id="o-disp")
    )
    _, _, draft = drafted(
        disputed, *earlier, other_card, one_match, was_disputed, reason="fraudulent", code="10.4"
    )
    assert sorted(p.days_before for p in draft.ce3_qualifying) == [120, 365]
    assert {p.order_id for p in draft.ce3_qualifying} == {"o-120", "o-365"}
    assert all(
        p.matched == ["ip", "device", "email", "shipping_address"] for p in draft.ce3_qualifying
    )
    ce3 = draft.enhanced["visa_compelling_evidence_3"]
    assert [t["charge"] for t in ce3["prior_undisputed_transactions"]] == ["ch_o-120", "ch_o-365"]
    assert ce3["disputed_transaction"]["customer_purchase_ip"] == "81.2.69.142"
    assert ce3["disputed_transaction"]["shipping_address"]["postal_code"] == "1011 AB"


def test_ce3_needs_two_payments() -> None:
    _, _, draft = drafted(
        order("o-1", DISPUTED_AT),
        order("o-150", DISPUTED_AT - timedelta(days=150)),
        reason="fraudulent",
        code="10.4",
    )
    assert [p.order_id for p in draft.ce3_qualifying] == ["o-150"]
    assert draft.enhanced == {}
    assert any(m.startswith("CE 3.0: 1 earlier") for m in draft.missing)


def test_the_packet_pdf_holds_the_tracking_number_and_the_delivery_scan() -> None:
    p, case, draft = drafted(order("o-1", DISPUTED_AT))
    files = render_files(p, case, draft)
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(files["uncategorized_file"])).pages
    )
    delivered = (DISPUTED_AT + timedelta(days=3, hours=5)).strftime("%Y-%m-%d %H:%M UTC")
    assert "1ZO-1" in text
    assert f"Delivery scan: {delivered} delivered" in text
    assert "confirmation" in text and "Receipt" in text
    assert draft.rendered["uncategorized_file"].size == len(files["uncategorized_file"])
    # The same draft renders the same bytes.
    assert render_files(p, case, draft) == files


def test_stripe_limits_are_refused_with_the_field_and_the_size() -> None:
    problems = limit_problems(
        {"uncategorized_text": "x" * 149_000, "product_description": "y" * 2_000, "nonsense": "z"},
        [
            EvidenceFile(
                field="receipt",
                name="receipt.pdf",
                content_type="application/pdf",
                size=MAX_FILE_BYTES + 1,
            ),
            EvidenceFile(
                field="shipping_documentation", name="scan.gif", content_type="image/gif", size=10
            ),
        ],
    )
    assert problems == [
        "nonsense: not one of Stripe's text evidence fields",
        "text fields hold 151,001 characters, over Stripe's 150,000 "
        "(longest: uncategorized_text 149,000, product_description 2,000, nonsense 1)",
        "receipt (receipt.pdf): 5,242,881 bytes, over Stripe's 5,242,880 (5 MB)",
        "shipping_documentation (scan.gif): image/gif is not PDF, JPEG or PNG",
    ]
    assert limit_problems({"uncategorized_text": "x" * 150_000}, []) == []


def test_a_draft_over_the_limits_is_refused_and_leaves_the_case_as_it_was() -> None:
    p = ports(
        order("o-1", DISPUTED_AT),
        settings=tenant(refund_policy_disclosure="r" * 20_000),
    )
    record_dispute_event(p, dispute_event(charge_id="ch_o-1"), "o-1")
    before = p.cases.get("acme", "dp_1")
    assert before is not None
    grown = before.model_copy(
        update={
            "evidence": {"fields": {"uncategorized_text": "u" * 140_000}},
            "edited_fields": ["uncategorized_text"],
            "version": 2,
        }
    )
    assert p.cases.save(grown, 1)
    with pytest.raises(EvidenceRefused, match="over Stripe's 150,000"):
        draft_evidence(p, "acme", "dp_1")
    after = p.cases.get("acme", "dp_1")
    assert after is not None and after.version == 2 and after.state == "new"
