"""Evidence assembled from what we hold, under Stripe's evidence field names.

From the order (customer, purchase IP, addresses, lines), its parcels (carrier, tracking
number, shipping date, the delivery scan), the e-mails we sent it (the confirmation is the
receipt; every e-mail with its time is the customer communication), the tenant's policy
disclosures, the order's other charges for a ``duplicate`` dispute, and for a Visa 10.4
dispute Compelling Evidence 3.0: two earlier undisputed payments by the same card, 120 to 365
days before, sharing at least two of IP, device, e-mail and shipping address with the disputed
one. What could not be filled is listed with the reason, so the operator knows what to add.

The files (receipt, customer communication, shipping documentation and the whole packet) are
sections of text rendered as PDF by an adapter; their size is checked against Stripe's limits
together with the text fields (``limit_problems``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.disputes.errors import EvidenceRefused
from shared.events import Address, OrderPlaced
from shared.money import Money
from shared.order_aggregate import OrderState

__all__ = ["EvidenceRefused"]

# Stripe's dispute evidence: the text fields and the file fields (a file upload's id each).
TEXT_FIELDS = frozenset(
    {
        "access_activity_log",
        "billing_address",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_tracking_number",
        "uncategorized_text",
    }
)
FILE_FIELDS = frozenset(
    {
        "cancellation_policy",
        "customer_communication",
        "customer_signature",
        "duplicate_charge_documentation",
        "receipt",
        "refund_policy",
        "service_documentation",
        "shipping_documentation",
        "uncategorized_file",
    }
)
# Stripe's limits on what one dispute's evidence may carry.
MAX_TEXT_CHARACTERS = 150_000
MAX_FILE_BYTES = 5 * 1024 * 1024
FILE_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})

# Visa Compelling Evidence 3.0: earlier payments "more than 119 and fewer than 366 calendar
# days" before the disputed one, and at least two of these elements shared with it.
CE3_MIN_DAYS = 120
CE3_MAX_DAYS = 365
CE3_ELEMENTS = ("ip", "device", "email", "shipping_address")
CE3_MIN_MATCHES = 2
# The orders context sends the confirmation under this kind (its notification log).
CONFIRMATION_EMAIL = "order_confirmation"


class SentEmail(BaseModel):
    """One e-mail the order was sent (the orders context's notification log)."""

    model_config = ConfigDict(frozen=True)

    kind: str
    at: datetime
    status: str = "sent"
    message_id: str | None = None


class PacketSection(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    lines: list[str]


class EvidenceFile(BaseModel):
    """A rendered file: what the limits are checked on."""

    model_config = ConfigDict(frozen=True)

    field: str
    name: str
    content_type: str
    size: int


class PriorPayment(BaseModel):
    """One earlier payment by the same card, as CE 3.0 weighs it."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    charge_id: str
    at: datetime
    days_before: int
    matched: list[str]
    product_description: str | None = None


class EvidenceDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The order the draft was made from (None: the charge was unknown then).
    order_id: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    enhanced: dict[str, Any] = Field(default_factory=dict)
    # The files' content, by Stripe file field: sections of the evidence packet.
    files: dict[str, list[PacketSection]] = Field(default_factory=dict)
    rendered: dict[str, EvidenceFile] = Field(default_factory=dict)
    ce3_qualifying: list[PriorPayment] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Policies:
    refund_policy_disclosure: str | None = None
    cancellation_policy_disclosure: str | None = None


# -- text of our records --------------------------------------------------------------------------


def address_text(address: Address | None) -> str | None:
    if address is None:
        return None
    parts = [
        address.name,
        address.line1,
        address.line2,
        " ".join(p for p in (address.postal_code, address.city) if p) or None,
        address.state,
        address.country,
    ]
    found = [p.strip() for p in parts if p and p.strip()]
    return ", ".join(found) or None


def _address_key(address: Address | None) -> str | None:
    """An address as CE 3.0 compares it: case and spacing ignored, the name left out."""
    if address is None:
        return None
    parts = (address.line1, address.line2, address.postal_code, address.city, address.country)
    key = "|".join(" ".join((p or "").lower().split()) for p in parts)
    return key if key.strip("|") else None


def product_description(order: OrderPlaced) -> str:
    return "; ".join(
        f"{line.quantity} x {line.name}"
        + (f" (SKU {line.sku})" if line.sku else "")
        + f" at {line.unit_price.format()}"
        for line in order.lines
    )


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


# -- CE 3.0 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardPayment:
    """A succeeded card payment with what CE 3.0 compares."""

    order_id: str
    charge_id: str
    at: datetime
    fingerprint: str | None
    disputed: bool
    elements: dict[str, str | None]
    product_description: str | None


def card_payments(state: OrderState) -> list[CardPayment]:
    order = state.order
    found = []
    disputed_charges = {d.charge_id for d in state.disputes.values()}
    for payment in state.payments.values():
        if payment.succeeded_at is None or not payment.charge_ids:
            continue
        card = payment.card.value if payment.card else {}
        customer = order.customer if order else None
        found.append(
            CardPayment(
                order_id=state.order_id,
                charge_id=payment.charge_ids[-1],
                at=payment.succeeded_at,
                fingerprint=card.get("fingerprint"),
                disputed=bool(disputed_charges & set(payment.charge_ids)),
                elements={
                    "ip": customer.ip if customer else None,
                    "device": customer.user_agent if customer else None,
                    "email": (customer.email or "").strip().lower() or None if customer else None,
                    "shipping_address": _address_key(order.shipping_address) if order else None,
                },
                product_description=product_description(order) if order else None,
            )
        )
    return found


def ce3_qualifying(disputed: CardPayment, earlier: Iterable[CardPayment]) -> list[PriorPayment]:
    """Every earlier payment that qualifies under CE 3.0, best first (most shared elements,
    then the most recent): same card, undisputed, 120 to 365 calendar days before, at least
    two elements shared."""
    found = []
    for payment in earlier:
        if payment.charge_id == disputed.charge_id or payment.disputed:
            continue
        if not disputed.fingerprint or payment.fingerprint != disputed.fingerprint:
            continue
        days = (disputed.at.date() - payment.at.date()).days
        if not CE3_MIN_DAYS <= days <= CE3_MAX_DAYS:
            continue
        matched = [
            name
            for name in CE3_ELEMENTS
            if disputed.elements.get(name)
            and disputed.elements.get(name) == payment.elements.get(name)
        ]
        if len(matched) < CE3_MIN_MATCHES:
            continue
        found.append(
            PriorPayment(
                order_id=payment.order_id,
                charge_id=payment.charge_id,
                at=payment.at,
                days_before=days,
                matched=matched,
                product_description=payment.product_description,
            )
        )
    return sorted(found, key=lambda p: (-len(p.matched), -p.at.timestamp(), p.charge_id))


def _stripe_address(address: Address | None) -> dict[str, str]:
    if address is None:
        return {}
    return {
        k: v
        for k, v in {
            "line1": address.line1,
            "line2": address.line2,
            "city": address.city,
            "state": address.state,
            "postal_code": address.postal_code,
            "country": address.country,
        }.items()
        if v
    }


def _ce3_enhanced(
    order: OrderPlaced, chosen: Sequence[PriorPayment], earlier: dict[str, OrderState]
) -> dict[str, Any]:
    def transaction(o: OrderPlaced) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "customer_email_address": o.customer.email,
            "customer_purchase_ip": o.customer.ip,
            "product_description": product_description(o),
            "shipping_address": _stripe_address(o.shipping_address),
        }
        return {k: v for k, v in fields.items() if v}

    priors = []
    for prior in chosen:
        state = earlier.get(prior.order_id)
        placed = state.order if state else None
        priors.append({"charge": prior.charge_id, **(transaction(placed) if placed else {})})
    return {
        "visa_compelling_evidence_3": {
            "disputed_transaction": {
                **transaction(order),
                "merchandise_or_services": "merchandise",
            },
            "prior_undisputed_transactions": priors,
        }
    }


# -- assembling -----------------------------------------------------------------------------------


def assemble(
    *,
    reason: str | None,
    card_brand: str | None,
    network_reason_code: str | None,
    charge_id: str,
    state: OrderState | None,
    emails: Sequence[SentEmail],
    policies: Policies,
    earlier: Sequence[OrderState] = (),
    reconciliation: Sequence[str] = (),
) -> EvidenceDraft:
    """The evidence our records support, for one dispute."""
    draft = EvidenceDraft(order_id=state.order_id if state else None)
    order = state.order if state else None
    if state is None or order is None:
        draft.missing.append("the order: no event of ours named this charge, nothing to draw on")
        _policies(draft, policies)
        return draft
    fields = draft.fields
    customer = order.customer
    _put(draft, "customer_name", customer.name, "the customer's name: the shop did not send it")
    _put(draft, "customer_email_address", customer.email, "the customer's e-mail")
    _put(draft, "customer_purchase_ip", customer.ip, "the purchase IP: the shop did not send it")
    _put(draft, "billing_address", address_text(order.billing_address), "the billing address")
    _put(draft, "shipping_address", address_text(order.shipping_address), "the shipping address")
    fields["product_description"] = product_description(order)
    _shipping(draft, state)
    _policies(draft, policies)
    _emails(draft, order, emails)
    if reason == "duplicate":
        _duplicate(draft, state, charge_id, reconciliation)
    if (card_brand or "").lower() == "visa" and network_reason_code == "10.4":
        _ce3(draft, state, charge_id, earlier)
    draft.files["uncategorized_file"] = [
        PacketSection(title=f"Evidence packet: order {order.order_id}", lines=_overview(order)),
        *(
            s
            for f in ("receipt", "shipping_documentation", "customer_communication")
            for s in draft.files.get(f, [])
        ),
    ]
    return draft


def _put(draft: EvidenceDraft, field: str, value: str | None, what: str) -> None:
    if value:
        draft.fields[field] = value
    else:
        draft.missing.append(f"{field}: {what} is not in our records")


def _overview(order: OrderPlaced) -> list[str]:
    return [
        f"Order {order.order_id} placed {_when(order.occurred_at)} for {order.total.format()}",
        f"Customer: {order.customer.name or '-'} <{order.customer.email or '-'}>",
        f"Purchase IP: {order.customer.ip or '-'}",
    ]


def _shipping(draft: EvidenceDraft, state: OrderState) -> None:
    parcels = sorted(state.shipments.values(), key=lambda p: (p.first_seen_at, p.tracking_code))
    if not parcels:
        draft.missing.append("shipping: the order has no parcel (not shipped)")
        return
    carriers = sorted({p.carrier for p in parcels if p.carrier})
    if carriers:
        draft.fields["shipping_carrier"] = ", ".join(carriers)
    draft.fields["shipping_tracking_number"] = ", ".join(p.tracking_code for p in parcels)
    shipped = [p.fulfilled_at or p.first_seen_at for p in parcels]
    draft.fields["shipping_date"] = min(shipped).date().isoformat()
    lines: list[str] = []
    delivered = []
    for parcel in parcels:
        lines.append(
            f"Parcel {parcel.tracking_code} ({parcel.carrier or 'carrier unknown'}), "
            f"shipped {_when(parcel.fulfilled_at or parcel.first_seen_at)}"
        )
        for notice in sorted(parcel.notices.values(), key=lambda n: n.at):
            lines.append(f"  {_when(notice.at)}  {notice.status}  {notice.detail or ''}".rstrip())
        if parcel.delivered_at is not None:
            scan = f"Delivery scan: {_when(parcel.delivered_at)} delivered ({parcel.tracking_code})"
            lines.append(f"  {scan}")
            delivered.append(scan)
        else:
            lines.append(f"  not delivered: last status {parcel.state}")
    if delivered:
        draft.fields["uncategorized_text"] = (
            "The carrier scanned every parcel as delivered. " + " ".join(delivered)
            if len(delivered) == len(parcels)
            else "Delivered in part. " + " ".join(delivered)
        )
    else:
        draft.missing.append("delivery scan: no parcel was scanned as delivered")
    draft.files["shipping_documentation"] = [PacketSection(title="Carrier timeline", lines=lines)]


def _policies(draft: EvidenceDraft, policies: Policies) -> None:
    for field in ("refund_policy_disclosure", "cancellation_policy_disclosure"):
        value = getattr(policies, field)
        if value:
            draft.fields[field] = value
        else:
            draft.missing.append(f"{field}: the tenant's settings (disputes.{field}) have none")


def _emails(draft: EvidenceDraft, order: OrderPlaced, emails: Sequence[SentEmail]) -> None:
    sent = sorted((e for e in emails if e.status == "sent"), key=lambda e: (e.at, e.kind))
    confirmation = next((e for e in sent if e.kind == CONFIRMATION_EMAIL), None)
    if confirmation is not None:
        draft.files["receipt"] = [
            PacketSection(
                title="Receipt: the order confirmation we e-mailed",
                lines=[
                    f"Sent {_when(confirmation.at)} to {order.customer.email or '-'}",
                    f"Message id: {confirmation.message_id or '-'}",
                    *(
                        f"{line.quantity} x {line.name} at {line.unit_price.format()}"
                        for line in order.lines
                    ),
                    f"Total {order.total.format()}",
                ],
            )
        ]
    else:
        draft.missing.append("receipt: no confirmation e-mail was sent for this order")
    if sent:
        draft.files["customer_communication"] = [
            PacketSection(
                title="E-mails we sent the customer",
                lines=[
                    f"{_when(e.at)}  {e.kind}  to {order.customer.email or '-'}"
                    + (f"  (message {e.message_id})" if e.message_id else "")
                    for e in sent
                ],
            )
        ]
    else:
        draft.missing.append("customer_communication: no e-mail was sent to the customer")


def _duplicate(
    draft: EvidenceDraft, state: OrderState, charge_id: str, reconciliation: Sequence[str]
) -> None:
    others = [
        (p, p.charge_ids[-1])
        for p in state.payments.values()
        if p.succeeded_at is not None and p.charge_ids and charge_id not in p.charge_ids
    ]
    if not others:
        draft.missing.append("duplicate_charge_id: the order has no other succeeded charge")
        return
    payment, other = others[0]
    draft.fields["duplicate_charge_id"] = other
    refunded = Money.of(payment.refunded, payment.currency) if payment.refunded else None
    draft.fields["duplicate_charge_explanation"] = (
        f"Charge {charge_id} and charge {other} are two payments for the same order "
        f"{state.order_id}, not one payment taken twice"
        + (f"; {refunded.format()} of {other} was refunded" if refunded else "")
        + "."
        + (" Our daily reconciliation found: " + " ".join(reconciliation) if reconciliation else "")
    )


def _ce3(
    draft: EvidenceDraft, state: OrderState, charge_id: str, earlier: Sequence[OrderState]
) -> None:
    order = state.order
    assert order is not None
    disputed = next((p for p in card_payments(state) if p.charge_id == charge_id), None)
    if disputed is None or not disputed.fingerprint:
        draft.missing.append("CE 3.0: the disputed payment's card fingerprint is not known")
        return
    history = [p for s in earlier if s.order_id != state.order_id for p in card_payments(s)]
    qualifying = ce3_qualifying(disputed, history)
    draft.ce3_qualifying = qualifying
    if len(qualifying) < 2:
        draft.missing.append(
            f"CE 3.0: {len(qualifying)} earlier undisputed payment(s) by this card 120-365 days "
            "before share two elements; Visa needs two"
        )
        return
    chosen = qualifying[:2]
    draft.enhanced = _ce3_enhanced(order, chosen, {s.order_id: s for s in earlier})


# -- limits ---------------------------------------------------------------------------------------


def text_characters(fields: dict[str, str]) -> int:
    return sum(len(v) for v in fields.values())


def limit_problems(fields: dict[str, str], files: Iterable[EvidenceFile]) -> list[str]:
    """Every way the evidence breaks Stripe's rules: unknown fields, the 150,000 characters
    over all text fields, a file's type or its 5 MB."""
    problems = [
        f"{name}: not one of Stripe's text evidence fields"
        for name in sorted(fields)
        if name not in TEXT_FIELDS
    ]
    total = text_characters(fields)
    if total > MAX_TEXT_CHARACTERS:
        longest = sorted(fields.items(), key=lambda kv: -len(kv[1]))[:3]
        problems.append(
            f"text fields hold {total:,} characters, over Stripe's {MAX_TEXT_CHARACTERS:,} "
            "(longest: " + ", ".join(f"{k} {len(v):,}" for k, v in longest) + ")"
        )
    for file in files:
        if file.field not in FILE_FIELDS:
            problems.append(f"{file.field}: not one of Stripe's file evidence fields")
        if file.content_type not in FILE_TYPES:
            problems.append(
                f"{file.field} ({file.name}): {file.content_type} is not PDF, JPEG or PNG"
            )
        if file.size > MAX_FILE_BYTES:
            problems.append(
                f"{file.field} ({file.name}): {file.size:,} bytes, over Stripe's "
                f"{MAX_FILE_BYTES:,} (5 MB)"
            )
    return problems
