"""E-mail rendering: every kind, escaping, money and dates per tenant, MIME, mailers."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from shared.money import Money
from shared.notify.mailers import FileMailer, SesMailer, message_id_for
from shared.notify.render import ContextError, EmailKind, RenderedEmail, format_money, render
from shared.tenants import Branding, TenantSettings

PLACED = datetime(2026, 3, 2, 14, 37, tzinfo=UTC)

TENANT = TenantSettings(
    id="northwind",
    name="Northwind Outfitters",
    currency="USD",
    timezone="America/New_York",
    customer_sender="orders@northwind.example",
    branding=Branding(
        display_name="Northwind",
        primary_color="#1f4e79",
        support_email="help@northwind.example",
    ),
)


def usd(amount: int) -> Money:
    return Money.of(amount, "USD")


ORDER: dict[str, Any] = {
    "order_id": "NW-1",
    "customer_name": "Maria Garcia",
    "customer_email": "maria@example.com",
    "placed_at": PLACED,
    "lines": [
        {"name": "Trail Jacket", "quantity": 1, "unit_price": usd(18900), "vendor_id": "ven_a"},
        {"name": "Socks", "quantity": 2, "unit_price": {"amount": 2450, "currency": "USD"}},
    ],
    "total": usd(23800),
    "shipping_address": {"name": "Maria Garcia", "line1": "1 Pine St", "city": "Seattle"},
}

TRACKING = {"carrier": "UPS", "tracking_code": "1Z999", "tracking_url": "https://ups.example/1Z"}

CONTEXTS: dict[EmailKind, dict[str, Any]] = {
    EmailKind.ORDER_CONFIRMATION: ORDER,
    EmailKind.PAYMENT_VERIFICATION: {**ORDER, "days": 3},
    EmailKind.ORDER_SHIPPED: {**ORDER, **TRACKING, "estimated_delivery": date(2026, 3, 6)},
    EmailKind.ORDER_DELIVERED: {**ORDER, "delivered_at": PLACED},
    EmailKind.DELIVERY_PROBLEM: {**ORDER, **TRACKING, "problem": "lost"},
    EmailKind.ORDER_CANCELLED: {**ORDER, "refund": usd(23800)},
    EmailKind.REFUND_ISSUED: {**ORDER, "refund": usd(4900)},
    EmailKind.RETURN_OPENED: {**ORDER, "return_id": "RMA-7"},
    EmailKind.RETURN_INSPECTED: {
        **ORDER,
        "return_id": "RMA-7",
        "outcome": "partial",
        "reason": "one pair worn",
        "refund": {"amount": 1000, "currency": "USD"},
    },
    EmailKind.ORDER_HISTORY: {
        "customer_name": "Maria Garcia",
        "orders": [
            {"order_id": "NW-1", "placed_at": PLACED, "status": "shipped", "total": usd(23800)},
            {"order_id": "NW-0", "placed_at": PLACED, "status": "refunded", "total": usd(990)},
        ],
    },
    EmailKind.REVIEW_NEEDED: {
        **ORDER,
        "reasons": ["Billing and shipping countries differ"],
        "approve_url": "https://api.example/links/approve?t=a",
        "reject_url": "https://api.example/links/reject?t=r",
    },
    EmailKind.NOT_DISPATCHED: {**ORDER, "days": 5},
    EmailKind.REFUND_STUCK: {**ORDER, "refund": usd(4900), "refund_id": "re_1"},
    EmailKind.DELIVERY_EXCEPTION_OPS: {**ORDER, **TRACKING, "status": "return_to_sender"},
    EmailKind.DISPUTE_OPENED: {
        "dispute_id": "dp_1",
        "order_id": "NW-1",
        "amount": {"amount": 4900, "currency": "USD"},
        "reason": "product_not_received",
        "due_by_local": "Mon 09 Mar 2026 23:59 EST",
        "suggestion": "fight: the carrier scanned the parcel as delivered",
    },
    EmailKind.TEAM_NOTICE: {
        "heading": "Refund for order NW-1 failed",
        "details": [("Order", "NW-1"), ("Reason", "card expired")],
        "order_id": "NW-1",
    },
    EmailKind.TEAM_DIGEST: {
        "period": "hour",
        "since": PLACED,
        "until": PLACED + timedelta(hours=1),
        "lines": [
            {
                "kind": "not_dispatched",
                "label": "Not dispatched",
                "headline": "Order NW-1 not dispatched after 3 days",
                "order_id": "NW-1",
                "details": [("What to do", "check with the warehouse")],
                "to_act": [{"label": "Look at the order", "command": "ecomops orders show NW-1"}],
                "held_at": PLACED + timedelta(minutes=20),
            }
        ],
    },
}

SUBJECTS = {
    EmailKind.ORDER_CONFIRMATION: "Your Northwind order NW-1 is confirmed",
    EmailKind.PAYMENT_VERIFICATION: "A quick check on your Northwind order NW-1",
    EmailKind.ORDER_SHIPPED: "Your order NW-1 is on its way",
    EmailKind.ORDER_DELIVERED: "Your order NW-1 has been delivered",
    EmailKind.DELIVERY_PROBLEM: "An update on the delivery of your order NW-1",
    EmailKind.ORDER_CANCELLED: "Your order NW-1 has been cancelled",
    EmailKind.REFUND_ISSUED: "Your refund of $49.00 for order NW-1",
    EmailKind.RETURN_OPENED: "Your return for order NW-1: next steps",
    EmailKind.RETURN_INSPECTED: "We've checked the items you returned from order NW-1",
    EmailKind.ORDER_HISTORY: "Your orders with Northwind",
    EmailKind.REVIEW_NEEDED: "[Northwind] Review needed: order NW-1 ($238.00)",
    EmailKind.NOT_DISPATCHED: "[Northwind] Order NW-1 not dispatched after 5 days",
    EmailKind.REFUND_STUCK: "[Northwind] Refund of $49.00 for NW-1 not confirmed",
    EmailKind.DELIVERY_EXCEPTION_OPS: (
        "[Northwind] Delivery exception on order NW-1: Return to sender"
    ),
    EmailKind.DISPUTE_OPENED: (
        "[Northwind] Chargeback on order NW-1: $49.00, evidence due Mon 09 Mar 2026 23:59 EST"
    ),
    EmailKind.TEAM_NOTICE: "[Northwind] Refund for order NW-1 failed",
    EmailKind.TEAM_DIGEST: "[Northwind] 1 notice to follow up from the last hour",
}


def test_every_kind_has_a_sample() -> None:
    assert set(CONTEXTS) == set(EmailKind) == set(SUBJECTS)


@pytest.mark.parametrize("kind", list(EmailKind))
def test_every_kind_renders_html_and_text(kind: EmailKind) -> None:
    mail = render(kind, CONTEXTS[kind], TENANT, ["maria@example.com"])
    assert mail.kind is kind
    assert mail.subject == SUBJECTS[kind]
    assert mail.html.startswith("<!DOCTYPE html>")
    assert "#1f4e79" in mail.html  # the tenant's colour bar
    assert "Northwind" in mail.html and "Northwind" in mail.text
    assert "NW-1" in mail.html and "NW-1" in mail.text
    assert "<" not in mail.text.replace("<=", "")  # plain text carries no markup
    assert "\n\n\n" not in mail.text
    assert mail.to == ("maria@example.com",)
    assert mail.sender == "Northwind <orders@northwind.example>"
    assert mail.tenant == "northwind"


def test_amounts_and_lines_appear_in_both_parts() -> None:
    mail = render(EmailKind.ORDER_CONFIRMATION, ORDER, TENANT, ["m@example.com"])
    for part in (mail.html, mail.text):
        assert "Trail Jacket" in part and "$189.00" in part
        assert "$49.00" in part  # two at $24.50
        assert "$238.00" in part


def test_refund_per_line_adds_up() -> None:
    context = {
        **ORDER,
        "refund_lines": [
            {"name": "Trail Jacket", "quantity": 1, "amount": usd(18900)},
            {"name": "Socks", "amount": usd(2450)},
        ],
    }
    mail = render(EmailKind.REFUND_ISSUED, context, TENANT, ["m@example.com"])
    assert mail.subject == "Your refund of $213.50 for order NW-1"
    assert "$189.00" in mail.html and "$24.50" in mail.html and "$213.50" in mail.text


def test_review_needed_has_both_decision_links_and_reasons() -> None:
    mail = render(
        EmailKind.REVIEW_NEEDED, CONTEXTS[EmailKind.REVIEW_NEEDED], TENANT, ["ops@x.example"]
    )
    assert 'href="https://api.example/links/approve?t=a"' in mail.html
    assert 'href="https://api.example/links/reject?t=r"' in mail.html
    assert "Approve" in mail.html and "Reject" in mail.html
    assert "Billing and shipping countries differ" in mail.text
    assert "ven_a" in mail.html  # the team sees vendors
    assert mail.reply_to is None


def test_payment_verification_is_polite_and_never_says_fraud() -> None:
    mail = render(
        EmailKind.PAYMENT_VERIFICATION,
        CONTEXTS[EmailKind.PAYMENT_VERIFICATION],
        TENANT,
        ["m@example.com"],
    )
    for part in (mail.subject, mail.html, mail.text):
        assert "fraud" not in part.lower()
    assert "minor issue" in mail.text and "within 3 days" in mail.text
    assert "help@northwind.example" in mail.html
    assert mail.reply_to == "help@northwind.example"


def test_hostile_input_is_escaped_in_html() -> None:
    hostile = '<script>alert("x")</script>'
    context = {
        **CONTEXTS[EmailKind.REVIEW_NEEDED],
        "customer_name": hostile,
        "reasons": [f"<img src=x onerror=alert(1)> {hostile}"],
        "lines": [{"name": hostile, "quantity": 1, "unit_price": usd(23800)}],
    }
    mail = render(EmailKind.REVIEW_NEEDED, context, TENANT, ["ops@x.example"])
    assert "<script>" not in mail.html and "<img src=x" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert hostile in mail.text  # plain text is not HTML: shown as typed


def test_a_javascript_url_is_refused() -> None:
    context = {**CONTEXTS[EmailKind.ORDER_SHIPPED], "tracking_url": "javascript:alert(1)"}
    with pytest.raises(ContextError, match="tracking_url"):
        render(EmailKind.ORDER_SHIPPED, context, TENANT, ["m@example.com"])


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (123450, "USD", "$1,234.50"),
        (-1999, "USD", "-$19.99"),
        (0, "USD", "$0.00"),
        (1500, "JPY", "¥1,500"),
        (1250, "KWD", "KWD\u00a01.250"),
        (1234567, "KWD", "KWD\u00a01,234.567"),
        (1250, "IQD", "IQD\u00a01.250"),  # CLDR rounds IQD to 0 digits; minor units must show
    ],
)
def test_money_formatting(amount: int, currency: str, expected: str) -> None:
    assert format_money(Money.of(amount, currency)) == expected
    assert format_money({"amount": amount, "currency": currency}) == expected


def test_money_formatting_follows_the_locale() -> None:
    assert format_money(Money.of(123450, "EUR"), "de_DE") == "1.234,50\u00a0€"


def test_money_filter_refuses_floats() -> None:
    with pytest.raises(ValueError, match="integer"):
        format_money({"amount": 12.5, "currency": "USD"})


def test_amounts_in_jpy_and_kwd_tenants() -> None:
    jpy = TENANT.model_copy(update={"id": "sakura", "currency": "JPY", "timezone": "Asia/Tokyo"})
    context = {
        **ORDER,
        "lines": [{"name": "Tea", "quantity": 3, "unit_price": Money.of(1200, "JPY")}],
        "total": Money.of(3600, "JPY"),
    }
    mail = render(EmailKind.ORDER_CONFIRMATION, context, jpy, ["y@example.com"])
    assert "¥1,200" in mail.html and "¥3,600" in mail.html
    assert "11:37\u202fPM JST" in mail.text or "11:37 PM JST" in mail.text

    context = {
        **ORDER,
        "lines": [{"name": "Oud", "quantity": 2, "unit_price": Money.of(12750, "KWD")}],
        "total": Money.of(25500, "KWD"),
    }
    mail = render(EmailKind.ORDER_CONFIRMATION, context, TENANT, ["f@example.com"])
    assert "KWD\u00a025.500" in mail.text


def test_times_are_shown_in_the_tenant_zone() -> None:
    mail = render(EmailKind.ORDER_CONFIRMATION, ORDER, TENANT, ["m@example.com"])
    assert "Mar 2, 2026" in mail.text and "9:37" in mail.text and "EST" in mail.text


def test_a_missing_field_is_named() -> None:
    context = dict(CONTEXTS[EmailKind.PAYMENT_VERIFICATION])
    del context["days"]
    with pytest.raises(ContextError, match=r"payment_verification e-mail: missing field 'days'"):
        render(EmailKind.PAYMENT_VERIFICATION, context, TENANT, ["m@example.com"])

    with pytest.raises(ContextError) as raised:
        render(EmailKind.ORDER_SHIPPED, ORDER, TENANT, ["m@example.com"])
    assert "'carrier'" in str(raised.value) and "'tracking_code'" in str(raised.value)

    with pytest.raises(ContextError, match=r"missing field 'lines\.0\.unit_price'"):
        render(
            EmailKind.ORDER_CONFIRMATION,
            {**ORDER, "lines": [{"name": "x", "quantity": 1}]},
            TENANT,
            ["m@example.com"],
        )


def test_inconsistent_amounts_are_refused() -> None:
    with pytest.raises(ContextError, match="mix currencies"):
        render(
            EmailKind.ORDER_CONFIRMATION,
            {**ORDER, "total": Money.of(100, "EUR")},
            TENANT,
            ["m@example.com"],
        )
    with pytest.raises(ContextError, match="differs from the sum"):
        render(
            EmailKind.REFUND_ISSUED,
            {**ORDER, "refund": usd(1), "refund_lines": [{"name": "x", "amount": usd(2)}]},
            TENANT,
            ["m@example.com"],
        )


def test_recipients_are_required() -> None:
    with pytest.raises(ValueError, match="recipient"):
        render(EmailKind.ORDER_CONFIRMATION, ORDER, TENANT, [])
    with pytest.raises(TypeError):
        render(EmailKind.ORDER_CONFIRMATION, ORDER, TENANT, "m@example.com")


def test_branding_light_colour_logo_and_named_sender() -> None:
    tenant = TENANT.model_copy(
        update={
            "customer_sender": "Sakura Tea <shop@sakura.example>",
            "branding": Branding(
                display_name="Sakura",
                primary_color="#f9c9d4",
                logo_url="https://cdn.sakura.example/logo.png",
            ),
        }
    )
    mail = render(EmailKind.ORDER_CONFIRMATION, ORDER, tenant, ["m@example.com"])
    assert "color:#111827" in mail.html.split("<h1")[0]  # dark text on a light bar
    assert '<img src="https://cdn.sakura.example/logo.png"' in mail.html
    assert mail.sender == "Sakura Tea <shop@sakura.example>"
    assert mail.reply_to is None  # no support address configured

    plain = TENANT.model_copy(update={"branding": None})
    mail = render(EmailKind.ORDER_CONFIRMATION, ORDER, plain, ["m@example.com"])
    assert "Northwind Outfitters" in mail.html


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_mime_has_both_parts_and_headers() -> None:
    mail = render(EmailKind.ORDER_SHIPPED, CONTEXTS[EmailKind.ORDER_SHIPPED], TENANT, ["a@x.io"])
    message = mail.to_mime()
    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/html"]

    parsed = _parse(mail.to_eml(message_id="<fixed@northwind.example>"))
    assert parsed["Subject"] == mail.subject
    assert parsed["From"] == "Northwind <orders@northwind.example>"
    assert parsed["To"] == "a@x.io"
    assert parsed["Reply-To"] == "help@northwind.example"
    assert parsed["Message-ID"] == "<fixed@northwind.example>"
    assert parsed["X-EcomOps-Kind"] == "order_shipped"
    assert parsed["Date"] is not None
    html = parsed.get_body(preferencelist=("html",))
    text = parsed.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    # On the wire lines end in CRLF, as SMTP wants.
    assert html.get_content().replace("\r\n", "\n") == mail.html
    assert text.get_content().replace("\r\n", "\n") == mail.text


def test_non_ascii_subject_and_names_survive_mime() -> None:
    tenant = TENANT.model_copy(
        update={"branding": Branding(display_name="Café Ñandú", primary_color="#333333")}
    )
    context = {**ORDER, "customer_name": "Zoë Ωmega"}
    mail = render(EmailKind.ORDER_CONFIRMATION, context, tenant, ["z@example.com"])
    parsed = _parse(mail.to_eml())
    assert parsed["Subject"] == "Your Café Ñandú order NW-1 is confirmed"
    assert "Café Ñandú" in str(parsed["From"])
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None and "Zoë Ωmega" in body.get_content()


def _mail(kind: EmailKind = EmailKind.ORDER_CONFIRMATION) -> RenderedEmail:
    return render(kind, CONTEXTS[kind], TENANT, ["m@example.com"])


def test_file_mailer_is_idempotent_per_key(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / "outbox")
    mail = _mail()
    first = mailer.send(mail, "northwind:NW-1:order_confirmation")
    again = mailer.send(mail, "northwind:NW-1:order_confirmation")
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert first == again
    assert len(files) == 1
    assert files[0].name.startswith("order_confirmation-NW-1-")
    assert f"<{first}>" == message_id_for(mail, "northwind:NW-1:order_confirmation")

    other = mailer.send(mail, "northwind:NW-1:order_confirmation:resend")
    assert other != first
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2
    assert not list((tmp_path / "outbox").glob("*.tmp"))


def test_file_mailer_numbers_mail_without_an_order(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path)
    mailer.send(_mail(EmailKind.ORDER_HISTORY), "history:maria:2026-03")
    (path,) = tmp_path.glob("order_history-*.eml")
    assert path.name.startswith("order_history-1-")
    parsed = _parse(path.read_bytes())
    assert parsed["X-EcomOps-Kind"] == "order_history"


class _FakeSes:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def send_email(self, **request: Any) -> dict[str, str]:
        self.calls.append(request)
        return {"MessageId": f"ses-{len(self.calls)}"}


def test_ses_mailer_sends_raw_mime(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared import aws

    fake = _FakeSes()
    monkeypatch.setattr(aws, "client", lambda service: fake if service == "sesv2" else None)
    mail = _mail(EmailKind.ORDER_SHIPPED)
    assert SesMailer(configuration_set="ecomops").send(mail, "k1") == "ses-1"
    (request,) = fake.calls
    assert request["FromEmailAddress"] == "orders@northwind.example"
    assert request["Destination"] == {"ToAddresses": ["m@example.com"]}
    assert request["ReplyToAddresses"] == ["help@northwind.example"]
    assert request["ConfigurationSetName"] == "ecomops"
    assert {"Name": "kind", "Value": "order_shipped"} in request["EmailTags"]
    raw = _parse(request["Content"]["Raw"]["Data"])
    assert raw["Message-ID"] == message_id_for(mail, "k1")
    assert raw["Subject"] == mail.subject
