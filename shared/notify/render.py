"""Rendering of customer and client-team e-mails from Jinja templates.

Every kind has a pydantic context model (so the lifecycle learns at once, with the field's
name, what it forgot to pass), an HTML template extending ``base.html`` and a text template
extending ``base.txt``. Branding (colour, display name, logo, support address) comes from the
tenant; amounts are formatted with babel from integer minor units, never through floats; times
are shown in the tenant's time zone.
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from email.utils import make_msgid, parseaddr
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_timezone_gmt
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from shared.clock import SYSTEM_CLOCK
from shared.money import Money
from shared.money_text import locale_named
from shared.refund_causes import RefundCause, customer_sentence
from shared.tenants import TenantSettings

DEFAULT_LOCALE = "en_US"
DEFAULT_COLOR = "#1f4e79"
TEMPLATES = Path(__file__).resolve().parent / "templates"
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")


class EmailKind(StrEnum):
    # to customers
    ORDER_CONFIRMATION = "order_confirmation"
    PAYMENT_VERIFICATION = "payment_verification"
    ORDER_SHIPPED = "order_shipped"
    ORDER_DELIVERED = "order_delivered"
    DELIVERY_PROBLEM = "delivery_problem"
    ORDER_CANCELLED = "order_cancelled"
    REFUND_ISSUED = "refund_issued"
    RETURN_OPENED = "return_opened"
    RETURN_INSPECTED = "return_inspected"
    ORDER_HISTORY = "order_history"
    # to the client's team and operations
    REVIEW_NEEDED = "review_needed"
    NOT_DISPATCHED = "not_dispatched"
    REFUND_STUCK = "refund_stuck"
    DELIVERY_EXCEPTION_OPS = "delivery_exception_ops"
    DISPUTE_OPENED = "dispute_opened"
    # any other notice (``shared.notices``): its headline, details and actions
    TEAM_NOTICE = "team_notice"
    # routine notices held for the hour or the day, in one e-mail (``shared.alerts``)
    TEAM_DIGEST = "team_digest"


TEAM_KINDS = frozenset(
    {
        EmailKind.REVIEW_NEEDED,
        EmailKind.NOT_DISPATCHED,
        EmailKind.REFUND_STUCK,
        EmailKind.DELIVERY_EXCEPTION_OPS,
        EmailKind.DISPUTE_OPENED,
        EmailKind.TEAM_NOTICE,
        EmailKind.TEAM_DIGEST,
    }
)


class ContextError(ValueError):
    """The context given for a kind lacks or mangles fields; the message names them."""


# -- context models --------------------------------------------------------------------------


def _web_url(value: str) -> str:
    # URLs reach href attributes; escaping stops markup, not a javascript: scheme.
    if not value.lower().startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


WebUrl = Annotated[str, AfterValidator(_web_url)]


class _Model(BaseModel):
    # Lenient about extra keys: the lifecycle builds one context per order and passes it to
    # several kinds; what a kind does not show it ignores.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Line(_Model):
    name: str
    quantity: int = Field(ge=1)
    unit_price: Money
    vendor: str | None = None
    sku: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _vendor_id(cls, data: Any) -> Any:
        # Accept the domain's LineItem shape (``vendor_id``) as it is.
        if isinstance(data, Mapping) and "vendor" not in data and "vendor_id" in data:
            return {**data, "vendor": data["vendor_id"]}
        return data

    @property
    def amount(self) -> Money:
        return Money.of(self.unit_price.amount * self.quantity, self.unit_price.currency)


# Countries that write "City, ST 12345" rather than "12345 City".
_CITY_FIRST = frozenset({"US", "CA", "AU", "GB", "IE", "NZ"})


class Address(_Model):
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None

    @property
    def lines(self) -> list[str]:
        if (self.country or "").upper() in _CITY_FIRST:
            region = " ".join(p for p in (self.state, self.postal_code) if p)
            place = ", ".join(p for p in (self.city, region) if p)
        else:
            place = " ".join(p for p in (self.postal_code, self.city) if p)
            place = ", ".join(p for p in (place, self.state) if p)
        return [p for p in (self.name, self.line1, self.line2, place, self.country_name) if p]

    @property
    def country_name(self) -> str | None:
        if not self.country:
            return None
        return str(locale_named(DEFAULT_LOCALE).territories.get(self.country.upper(), self.country))


def _same_currency(amounts: Iterable[Money | None]) -> None:
    currencies = {m.currency for m in amounts if m is not None}
    if len(currencies) > 1:
        raise ValueError(f"amounts mix currencies: {', '.join(sorted(currencies))}")


class _Context(_Model):
    customer_name: str | None = None
    customer_email: str | None = None


class _OrderContext(_Context):
    order_id: str = Field(min_length=1)
    placed_at: datetime | None = None
    lines: tuple[Line, ...] = ()
    shipping: Money | None = None
    tax: Money | None = None
    discount: Money | None = None
    total: Money | None = None
    shipping_address: Address | None = None
    order_url: WebUrl | None = None

    @model_validator(mode="after")
    def _one_currency(self) -> _OrderContext:
        _same_currency(
            [self.total, self.shipping, self.tax, self.discount]
            + [line.unit_price for line in self.lines]
        )
        return self

    @property
    def subtotal(self) -> Money | None:
        if not self.lines:
            return None
        total = Money.zero(self.lines[0].unit_price.currency)
        for line in self.lines:
            total = total + line.amount
        return total


class OrderConfirmation(_OrderContext):
    lines: tuple[Line, ...] = Field(min_length=1)
    total: Money


class PaymentVerification(_OrderContext):
    days: int = Field(ge=1, description="days the customer has to get in touch")
    contact_email: str | None = None
    contact_phone: str | None = None


class OrderShipped(_OrderContext):
    carrier: str
    tracking_code: str
    tracking_url: WebUrl | None = None
    estimated_delivery: date | None = None


class OrderDelivered(_OrderContext):
    delivered_at: datetime | None = None
    return_window_days: int | None = Field(default=None, ge=0)


class DeliveryProblem(_OrderContext):
    problem: Literal["lost", "returned_to_sender", "failed_attempt", "damaged", "delayed"]
    carrier: str | None = None
    tracking_code: str | None = None
    tracking_url: WebUrl | None = None
    next_update_days: int | None = Field(default=None, ge=1)
    # The carrier's own words for what happened ("Business closed", "Customs clearance").
    carrier_says: str | None = None

    _WORDING: ClassVar[dict[str, tuple[str, str]]] = {
        "lost": (
            "Your parcel seems to be lost: we're on it",
            "The carrier has lost track of the parcel with your order.",
        ),
        "returned_to_sender": (
            "Your parcel is on its way back to us",
            "The carrier is returning the parcel with your order to us instead of delivering it.",
        ),
        "failed_attempt": (
            "The carrier couldn't deliver your parcel",
            "The carrier tried to deliver the parcel with your order but could not complete it.",
        ),
        "damaged": (
            "Your parcel was damaged in transit",
            "The carrier reported that the parcel with your order was damaged on the way.",
        ),
        "delayed": (
            "Your parcel is delayed",
            "The parcel with your order is taking longer than expected to reach you.",
        ),
    }

    @property
    def keeps_going(self) -> bool:
        """An attempt or a delay: the parcel is still on its way, nothing is lost."""
        return self.problem in ("failed_attempt", "delayed")

    @property
    def headline(self) -> str:
        return self._WORDING[self.problem][0]

    @property
    def explanation(self) -> str:
        return self._WORDING[self.problem][1]


class OrderCancelled(_OrderContext):
    reason: str | None = None
    refund: Money | None = None


class RefundLine(_Model):
    name: str
    quantity: int | None = Field(default=None, ge=1)
    amount: Money


class RefundIssued(_OrderContext):
    refund: Money | None = None
    refund_lines: tuple[RefundLine, ...] = ()
    # Why the money comes back: the customer reads its sentence (shared.refund_causes), never
    # the gateway's reason.
    cause: RefundCause | None = None
    arrival_days: str = "5\u201310"  # business days

    @model_validator(mode="after")
    def _amount(self) -> RefundIssued:
        if self.refund is None and not self.refund_lines:
            raise ValueError("refund or refund_lines is required")
        _same_currency([self.refund, *(line.amount for line in self.refund_lines)])
        lines_sum = sum(line.amount.amount for line in self.refund_lines)
        if self.refund is not None and self.refund_lines and self.refund.amount != lines_sum:
            raise ValueError("refund differs from the sum of refund_lines")
        return self

    @property
    def explanation(self) -> str | None:
        return customer_sentence(self.cause) if self.cause is not None else None

    @property
    def refund_total(self) -> Money:
        if self.refund is not None:
            return self.refund
        first = self.refund_lines[0].amount
        return Money.of(sum(line.amount.amount for line in self.refund_lines), first.currency)


class ReturnOpened(_OrderContext):
    return_id: str | None = None
    return_by: date | None = None
    return_address: Address | None = None
    label_url: WebUrl | None = None
    instructions: tuple[str, ...] = ()
    return_lines: tuple[Line, ...] = ()

    @property
    def steps(self) -> tuple[str, ...]:
        if self.instructions:
            return self.instructions
        label = (
            "Print the return label below and stick it on the parcel."
            if self.label_url
            else "Write your order number on the parcel and address it as shown below."
        )
        return (
            "Pack the items securely, in their original packaging if you still have it.",
            label,
            "Drop the parcel off at any post office or carrier point and keep the receipt.",
        )


class HistoryEntry(_Model):
    order_id: str
    placed_at: datetime
    status: str
    total: Money
    url: WebUrl | None = None


class OrderHistory(_Context):
    orders: tuple[HistoryEntry, ...]


class TeamAction(_Model):
    """How a team acts on what it is told: a link to open, an API request, a CLI command."""

    label: str
    url: WebUrl | None = None
    request: str | None = None  # "POST https://…/refunds": not a link, a call to make
    command: str | None = None


class _ForTeam(_Model):
    to_act: tuple[TeamAction, ...] = ()


class ReviewNeeded(_ForTeam, _OrderContext):
    lines: tuple[Line, ...] = Field(min_length=1)
    total: Money
    reasons: tuple[str, ...] = Field(min_length=1)
    approve_url: WebUrl
    reject_url: WebUrl
    risk_score: float | None = None
    customer_ip: str | None = None
    payment_method: str | None = None
    expires_at: datetime | None = None
    console_url: WebUrl | None = None


class NotDispatched(_ForTeam, _OrderContext):
    days: int = Field(ge=1)
    vendors: tuple[str, ...] = ()
    console_url: WebUrl | None = None


class RefundStuck(_ForTeam, _OrderContext):
    refund: Money
    refund_id: str | None = None
    gateway: str | None = None
    requested_at: datetime | None = None
    waited_hours: int | None = Field(default=None, ge=1)
    console_url: WebUrl | None = None


class DeliveryExceptionOps(_ForTeam, _OrderContext):
    status: str
    carrier: str | None = None
    tracking_code: str | None = None
    tracking_url: WebUrl | None = None
    detail: str | None = None
    occurred_at: datetime | None = None
    console_url: WebUrl | None = None


class DisputeOpened(_ForTeam, _Context):
    """A chargeback (or an inquiry) on one of the shop's charges: the chargeback desk's case."""

    dispute_id: str = Field(min_length=1)
    case_kind: Literal["chargeback", "inquiry"] = "chargeback"
    amount: Money
    reason: str | None = None
    network_reason_code: str | None = None
    card_brand: str | None = None
    # The evidence deadline as the team reads it (the tenant's time zone), already worded.
    due_by_local: str | None = None
    suggestion: str | None = None
    flagged: str | None = None
    order_id: str | None = None
    console_url: WebUrl | None = None


class TeamNotice(_ForTeam, _Context):
    """A notice with no template of its own: what it says, line by line."""

    heading: str = Field(min_length=1)
    label: str = "Team alert"
    severity: Literal["info", "warning", "critical"] = "warning"
    details: tuple[tuple[str, str], ...] = ()
    order_id: str | None = None


class DigestLine(_Model):
    """One notice in a digest (``shared.alerts.digest_line``)."""

    kind: str
    label: str
    severity: Literal["info", "warning", "critical"] = "warning"
    headline: str = Field(min_length=1)
    order_id: str | None = None
    details: tuple[tuple[str, str], ...] = ()
    to_act: tuple[TeamAction, ...] = ()
    held_at: datetime


class TeamDigest(_Context):
    """A team's routine notices of an hour or a day, oldest first, grouped by kind."""

    period: Literal["hour", "day"]
    since: datetime
    until: datetime
    lines: tuple[DigestLine, ...] = Field(min_length=1)

    def by_kind(self) -> list[tuple[str, list[DigestLine]]]:
        groups: dict[str, list[DigestLine]] = {}
        for line in self.lines:
            groups.setdefault(line.label, []).append(line)
        return sorted(groups.items(), key=lambda group: (-len(group[1]), group[0]))


class ReturnInspected(_OrderContext):
    """What the shop decided about the items sent back: accept, partial or reject."""

    return_id: str
    outcome: Literal["accept", "partial", "reject"]
    reason: str | None = None
    refund: Money | None = None


CONTEXTS: dict[EmailKind, type[_Context]] = {
    EmailKind.ORDER_CONFIRMATION: OrderConfirmation,
    EmailKind.PAYMENT_VERIFICATION: PaymentVerification,
    EmailKind.ORDER_SHIPPED: OrderShipped,
    EmailKind.ORDER_DELIVERED: OrderDelivered,
    EmailKind.DELIVERY_PROBLEM: DeliveryProblem,
    EmailKind.ORDER_CANCELLED: OrderCancelled,
    EmailKind.REFUND_ISSUED: RefundIssued,
    EmailKind.RETURN_OPENED: ReturnOpened,
    EmailKind.RETURN_INSPECTED: ReturnInspected,
    EmailKind.ORDER_HISTORY: OrderHistory,
    EmailKind.REVIEW_NEEDED: ReviewNeeded,
    EmailKind.NOT_DISPATCHED: NotDispatched,
    EmailKind.REFUND_STUCK: RefundStuck,
    EmailKind.DELIVERY_EXCEPTION_OPS: DeliveryExceptionOps,
    EmailKind.DISPUTE_OPENED: DisputeOpened,
    EmailKind.TEAM_NOTICE: TeamNotice,
    EmailKind.TEAM_DIGEST: TeamDigest,
}


# -- formatting ------------------------------------------------------------------------------


def _as_money(value: Any) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, Mapping):
        return Money.model_validate(dict(value))
    raise TypeError(f"money filter takes Money or {{amount, currency}}, not {type(value)!r}")


def format_money(value: Money | Mapping[str, Any], locale: str = DEFAULT_LOCALE) -> str:
    """What customers read: ``Money.localized`` (the locale's pattern, exact minor digits)."""
    return _as_money(value).localized(locale)


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    # A naive time from our own stores is UTC by convention.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)


def format_when(value: datetime, tz: ZoneInfo, locale: str = DEFAULT_LOCALE) -> str:
    """``Mar 1, 2026, 7:00 AM EST`` in the tenant's zone."""
    local = _local(value, tz)
    zone = local.tzname() or ""
    if not zone.isalpha():  # "+03" says less than "GMT+03:00"
        zone = get_timezone_gmt(local, width="long", locale=locale)
    day = format_date(local, "medium", locale=locale)
    return f"{day}, {format_time(local, 'short', locale=locale)} {zone}"


def format_day(value: date | datetime, tz: ZoneInfo, locale: str = DEFAULT_LOCALE) -> str:
    if isinstance(value, datetime):
        value = _local(value, tz).date()
    return format_date(value, "medium", locale=locale)


def _humanize(value: str) -> str:
    return value.replace("_", " ").capitalize()


@pass_context
def _money_filter(context: Context, value: Money | Mapping[str, Any]) -> str:
    return format_money(value, context["locale"])


@pass_context
def _when_filter(context: Context, value: datetime) -> str:
    return format_when(value, context["tz"], context["locale"])


@pass_context
def _day_filter(context: Context, value: date | datetime) -> str:
    return format_day(value, context["tz"], context["locale"])


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the code; no stat() per render
    )
    # Zone and locale differ per tenant: the filters read them from the render's variables,
    # so one environment (and its compiled-template cache) serves every tenant.
    env.filters.update(money=_money_filter, when=_when_filter, day=_day_filter, humanize=_humanize)
    return env


# -- branding and subjects -------------------------------------------------------------------


@dataclass(frozen=True)
class Brand:
    display_name: str
    color: str
    on_color: str  # text colour readable on ``color``
    logo_url: str | None
    support_email: str | None


def _readable_on(color: str) -> str:
    red, green, blue = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    # White text needs a contrast of at least 4.5:1 (WCAG AA); otherwise go dark.
    return "#ffffff" if (1.05 / (luminance + 0.05)) >= 4.5 else "#111827"


def brand_of(tenant: TenantSettings) -> Brand:
    branding = tenant.branding
    color = branding.primary_color if branding else DEFAULT_COLOR
    logo = branding.logo_url if branding else None
    return Brand(
        display_name=branding.display_name if branding else tenant.name,
        color=color,
        on_color=_readable_on(color),
        logo_url=logo if logo and logo.lower().startswith("https://") else None,
        support_email=branding.support_email if branding else None,
    )


def _subject(kind: EmailKind, ctx: Any, brand: Brand, money: Any) -> str:
    name = brand.display_name
    match kind:
        case EmailKind.ORDER_CONFIRMATION:
            return f"Your {name} order {ctx.order_id} is confirmed"
        case EmailKind.PAYMENT_VERIFICATION:
            return f"A quick check on your {name} order {ctx.order_id}"
        case EmailKind.ORDER_SHIPPED:
            return f"Your order {ctx.order_id} is on its way"
        case EmailKind.ORDER_DELIVERED:
            return f"Your order {ctx.order_id} has been delivered"
        case EmailKind.DELIVERY_PROBLEM:
            return f"An update on the delivery of your order {ctx.order_id}"
        case EmailKind.ORDER_CANCELLED:
            return f"Your order {ctx.order_id} has been cancelled"
        case EmailKind.REFUND_ISSUED:
            return f"Your refund of {money(ctx.refund_total)} for order {ctx.order_id}"
        case EmailKind.RETURN_OPENED:
            return f"Your return for order {ctx.order_id}: next steps"
        case EmailKind.RETURN_INSPECTED:
            return f"We've checked the items you returned from order {ctx.order_id}"
        case EmailKind.ORDER_HISTORY:
            return f"Your orders with {name}"
        case EmailKind.REVIEW_NEEDED:
            return f"[{name}] Review needed: order {ctx.order_id} ({money(ctx.total)})"
        case EmailKind.NOT_DISPATCHED:
            days = f"{ctx.days} day{'s' if ctx.days != 1 else ''}"
            return f"[{name}] Order {ctx.order_id} not dispatched after {days}"
        case EmailKind.REFUND_STUCK:
            return f"[{name}] Refund of {money(ctx.refund)} for {ctx.order_id} not confirmed"
        case EmailKind.DELIVERY_EXCEPTION_OPS:
            return f"[{name}] Delivery exception on order {ctx.order_id}: {_humanize(ctx.status)}"
        case EmailKind.DISPUTE_OPENED:
            what = "Inquiry" if ctx.case_kind == "inquiry" else "Chargeback"
            on = f"order {ctx.order_id}" if ctx.order_id else "an unknown charge"
            due = f", evidence due {ctx.due_by_local}" if ctx.due_by_local else ""
            return f"[{name}] {what} on {on}: {money(ctx.amount)}{due}"
        case EmailKind.TEAM_NOTICE:
            return f"[{name}] {ctx.heading}"
        case EmailKind.TEAM_DIGEST:
            count = len(ctx.lines)
            what = f"{count} notice{'s' if count != 1 else ''} to follow up"
            return f"[{name}] {what} from the last {ctx.period}"


# -- the rendered e-mail ---------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedEmail:
    # An EmailKind, or the name of a document sent as mail (the reconciliation report).
    kind: str
    subject: str
    html: str
    text: str
    to: tuple[str, ...]
    sender: str
    reply_to: str | None
    tenant: str | None = None
    order_id: str | None = None

    @property
    def sender_address(self) -> str:
        """The bare address of ``sender`` (what SES wants as FromEmailAddress)."""
        return parseaddr(self.sender)[1]

    def to_mime(
        self, *, message_id: str | None = None, date: datetime | None = None
    ) -> EmailMessage:
        """multipart/alternative, text first (clients show the last part they can render).

        ``message_id`` lets a mailer derive the id from its idempotency key, so that a resend
        carries the same Message-ID and receiving systems can fold duplicates.
        """
        message = EmailMessage(policy=email.policy.SMTP)
        message["Subject"] = self.subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        if self.reply_to:
            message["Reply-To"] = self.reply_to
        message["Date"] = rfc2822_date(date or SYSTEM_CLOCK.now())
        domain = self.sender_address.rpartition("@")[2] or None
        message["Message-ID"] = message_id or make_msgid(domain=domain)
        message["X-EcomOps-Kind"] = str(self.kind)
        if self.tenant:
            message["X-EcomOps-Tenant"] = self.tenant
        if self.order_id:
            message["X-EcomOps-Order"] = self.order_id
        message.set_content(self.text, subtype="plain", charset="utf-8")
        message.add_alternative(self.html, subtype="html", charset="utf-8")
        return message

    def to_eml(self, *, message_id: str | None = None, date: datetime | None = None) -> bytes:
        return self.to_mime(message_id=message_id, date=date).as_bytes()


def _sender(tenant: TenantSettings, brand: Brand, override: str | None) -> str:
    sender = override or tenant.customer_sender
    name, address = parseaddr(sender)
    if name or not address:
        return sender
    # A bare address reads as a stranger in the inbox; show the shop's name.
    return str(HeaderAddress(display_name=brand.display_name, addr_spec=address))


def validate_context(kind: EmailKind, context: Mapping[str, Any]) -> _Context:
    model = CONTEXTS[EmailKind(kind)]
    try:
        return model.model_validate(dict(context))
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"]) or "context"
            if item["type"] == "missing":
                problems.append(f"missing field {where!r}")
            else:
                problems.append(f"{where}: {item['msg']}")
        raise ContextError(f"{kind} e-mail: " + "; ".join(problems)) from None


def render_pair(
    template: str,
    variables: Mapping[str, Any],
    tenant: TenantSettings,
    *,
    subject: str,
    team: bool,
    locale: str = DEFAULT_LOCALE,
) -> tuple[str, str]:
    """``(html, text)`` of ``template``.html/.txt with the tenant's branding, zone and locale
    (the filters need them). ``render`` uses it for the e-mail kinds; documents that are not a
    kind (the reconciliation report) call it with a context of their own making."""
    brand = brand_of(tenant)
    full: dict[str, Any] = {
        **variables,
        "subject": subject,
        "brand": brand,
        "tenant": tenant,
        "team": team,
        "tz": ZoneInfo(tenant.timezone),
        "locale": locale,
    }
    env = _environment()
    html = env.get_template(f"{template}.html").render(full)
    # Optional sections leave blank runs behind; plain-text readers deserve tidy paragraphs.
    text = _BLANK_RUNS.sub("\n\n", env.get_template(f"{template}.txt").render(full)).strip()
    return html, text + "\n"


def render(
    kind: EmailKind,
    context: Mapping[str, Any],
    tenant: TenantSettings,
    to: Sequence[str],
    *,
    sender: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> RenderedEmail:
    """Render one e-mail of ``kind`` for ``tenant``; raises ``ContextError`` naming any field
    the context lacks. ``sender`` overrides the tenant's customer sender (e.g. for team mail)."""
    kind = EmailKind(kind)
    if isinstance(to, str):
        raise TypeError("to is a sequence of addresses, not one string")
    recipients = tuple(to)
    if not recipients:
        raise ValueError("an e-mail needs at least one recipient")
    ctx = validate_context(kind, context)
    brand = brand_of(tenant)
    subject = _subject(kind, ctx, brand, lambda value: format_money(value, locale))
    variables: dict[str, Any] = {name: getattr(ctx, name) for name in type(ctx).model_fields}
    variables.update(c=ctx, kind=str(kind))
    html, text = render_pair(
        str(kind), variables, tenant, subject=subject, team=kind in TEAM_KINDS, locale=locale
    )
    reply_to = brand.support_email if kind not in TEAM_KINDS else None
    return RenderedEmail(
        kind=kind,
        subject=subject,
        html=html,
        text=text,
        to=recipients,
        sender=_sender(tenant, brand, sender),
        reply_to=reply_to,
        tenant=tenant.id,
        order_id=getattr(ctx, "order_id", None),
    )
