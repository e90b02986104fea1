"""Customers' questions to support, answered from the order's own facts.

Each answer is what support can say in plain words, the evidence it rests on (payments, refunds,
times, references) and one suggested action. Nothing here reads a clock: "now" is passed in.

- **Charged twice?** Two charges on one order; two orders of the same amount by the same
  customer or card minutes apart; an authorisation hold seen next to its capture (one charge);
  a hold on a cancelled order, and when it drops.
- **Where is my refund?** Each refund's status and times, refund or reversal, the card
  network's reference (ARN) when the gateway has it, business days since it succeeded against
  the usual 5 to 10; failed refunds and why.
- **It failed but I was charged?** Which attempt succeeded, whether the order exists, an
  authorisation not captured and when it is released.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.money import Money
from shared.order_aggregate import OrderState, PaymentFacts, RefundFacts

# Two orders of the same amount by the same customer or card this close are one order twice.
DOUBLE_ORDER_WINDOW = timedelta(minutes=15)
# A card authorisation Stripe holds for an online payment before it lapses by itself.
AUTHORISATION_DAYS = 7
# What card networks usually take to show a refund on the customer's statement.
REFUND_BUSINESS_DAYS = (5, 10)

# Stripe's refund ``failure_reason`` values, in words a customer understands.
REFUND_FAILURES = {
    "lost_or_stolen_card": "the card was reported lost or stolen",
    "expired_or_canceled_card": "the card has expired or was closed",
    "charge_for_pending_refund_disputed": "the customer disputed the charge meanwhile",
    "insufficient_funds": "the shop's balance could not cover it",
    "declined": "the card issuer declined the credit",
    "merchant_request": "the shop cancelled it",
    "unknown": "the card network gave no reason",
}


class Question(StrEnum):
    CHARGED_TWICE = "charged_twice"
    REFUND_NOT_RECEIVED = "refund_not_received"
    FAILED_BUT_CHARGED = "failed_but_charged"


class Finding(StrEnum):
    ORDER_NOT_FOUND = "order_not_found"
    CHARGED_TWICE = "charged_twice"
    DOUBLE_ORDER = "double_order"
    HOLD_ON_CANCELLED = "hold_on_cancelled"
    HOLD_AND_CAPTURE = "hold_and_capture"
    ONE_CHARGE = "one_charge"
    NOTHING_CHARGED = "nothing_charged"
    NO_REFUND = "no_refund"
    REFUND_FAILED = "refund_failed"
    REFUND_PENDING = "refund_pending"
    REFUND_REVERSED = "refund_reversed"
    REFUND_ON_ITS_WAY = "refund_on_its_way"
    REFUND_OVERDUE = "refund_overdue"
    CHARGE_WITHOUT_ORDER = "charge_without_order"
    CHARGED_AFTER_FAILED = "charged_after_failed"
    CHARGED_ON_ANOTHER_ORDER = "charged_on_another_order"
    HOLD_NOT_CAPTURED = "hold_not_captured"
    HOLD_RELEASED = "hold_released"


@dataclass(frozen=True)
class Answer:
    question: Question
    order_id: str
    finding: Finding
    answer: str
    evidence: tuple[str, ...]
    action: str

    def text(self) -> str:
        lines = [self.answer, "Evidence:"]
        lines += [f"  - {line}" for line in self.evidence] or ["  (none)"]
        lines.append(f"Suggested action: {self.action}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question.value,
            "order_id": self.order_id,
            "finding": self.finding.value,
            "answer": self.answer,
            "evidence": list(self.evidence),
            "action": self.action,
            "text": self.text(),
        }


def not_found(question: Question, tenant: str, order_id: str) -> Answer:
    return Answer(
        question,
        order_id,
        Finding.ORDER_NOT_FOUND,
        f"Nothing found: we hold no order or payment {order_id} for tenant {tenant}.",
        (f"searched: order id {order_id} in tenant {tenant}",),
        "Find the order by the customer's e-mail, phone, card or tracking number first.",
    )


# -- words ---------------------------------------------------------------------------------------


def when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "an unknown time"


def _day(at: datetime | date) -> str:
    return at.strftime("%a %Y-%m-%d")


def _money(amount: int, currency: str) -> str:
    return Money.of(amount, currency).format(grouping=True)


def business_days_between(start: date, end: date) -> int:
    """Monday-to-Friday days after ``start`` up to and including ``end`` (bank holidays are not
    known here, so this can only overstate how long the customer has waited by a day or two)."""
    if end <= start:
        return 0
    days = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        days += day.weekday() < 5
    return days


def add_business_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        days -= day.weekday() < 5
    return day


def _voided(payment: PaymentFacts) -> bool:
    return payment.failure is not None and payment.failure.value == "canceled"


def _first_seen(payment: PaymentFacts) -> datetime:
    times = [t for t in (payment.authorized_at, payment.succeeded_at, payment.failed_at) if t]
    return min(times) if times else datetime.min.replace(tzinfo=UTC)


def _payment_line(payment: PaymentFacts) -> str:
    card = payment.card.value if payment.card else {}
    on_card = (
        f" on card {card.get('brand', '')} ending {card['last4']}" if card.get("last4") else ""
    )
    amount = _money(payment.amount or payment.captured, payment.currency)
    if payment.succeeded_at:
        captured = _money(payment.settled_amount, payment.currency)
        held = f", authorised {when(payment.authorized_at)}" if payment.authorized_at else ""
        return (
            f"payment {payment.payment_id}{on_card}: charged {captured} "
            f"{when(payment.succeeded_at)}{held}"
        )
    if payment.authorized_at and _voided(payment):
        return (
            f"payment {payment.payment_id}{on_card}: hold of {amount} placed "
            f"{when(payment.authorized_at)}, released {when(payment.failed_at)}"
        )
    if payment.authorized_at:
        return (
            f"payment {payment.payment_id}{on_card}: hold of {amount} placed "
            f"{when(payment.authorized_at)}, not captured"
        )
    if payment.failed_at:
        code = payment.failure.value if payment.failure else "failed"
        return (
            f"payment {payment.payment_id}{on_card}: {amount} failed ({code}) "
            f"{when(payment.failed_at)}"
        )
    return f"payment {payment.payment_id}{on_card}: {amount} started, no outcome yet"


def _order_line(state: OrderState) -> str:
    order = state.order
    if order is None:
        return f"order {state.order_id}: the shop has not sent it (payments only)"
    return (
        f"order {state.order_id}: {order.total.format(grouping=True)} placed "
        f"{when(order.occurred_at)}, status {state.status().value}"
        + (f", cancelled {when(state.cancelled_at)}" if state.cancelled_at else "")
    )


def _payments(state: OrderState) -> list[PaymentFacts]:
    return sorted(state.payments.values(), key=lambda p: (_first_seen(p), p.payment_id))


def _evidence(state: OrderState) -> list[str]:
    return [_order_line(state), *(_payment_line(p) for p in _payments(state))]


# -- charged twice -------------------------------------------------------------------------------


def _same_payer(a: OrderState, b: OrderState) -> bool:
    def who(state: OrderState) -> tuple[set[str], set[str]]:
        order = state.order
        emails = {order.customer.email.strip().lower()} if order and order.customer.email else set()
        cards = {
            str(
                p.card.value.get("fingerprint")
                or f"{p.card.value.get('bin')}/{p.card.value.get('last4')}"
            )
            for p in state.payments.values()
            if p.card
        }
        return emails, cards

    (emails_a, cards_a), (emails_b, cards_b) = who(a), who(b)
    return bool(emails_a & emails_b or cards_a & cards_b)


def double_orders(state: OrderState, others: Sequence[OrderState]) -> list[OrderState]:
    """Other paid orders of the same amount and currency by the same customer or card placed
    within ``DOUBLE_ORDER_WINDOW`` of this one."""
    order, placed = state.order, state.placed_at()
    if order is None or placed is None or not state.successful_payments():
        return []
    twins = []
    for other in others:
        theirs, at = other.order, other.placed_at()
        if other.order_id == state.order_id or theirs is None or at is None:
            continue
        if (
            theirs.total == order.total
            and abs(at - placed) <= DOUBLE_ORDER_WINDOW
            and other.successful_payments()
            and _same_payer(state, other)
        ):
            twins.append(other)
    return sorted(twins, key=lambda o: (o.placed_at(), o.order_id))


def charged_twice(state: OrderState, others: Sequence[OrderState], now: datetime) -> Answer:
    q, oid = Question.CHARGED_TWICE, state.order_id
    currency = state.currency or "EUR"
    charged = sorted(
        (p for p in state.successful_payments() if p.currency == currency),
        key=lambda p: (p.succeeded_at, p.payment_id),
    )
    evidence = _evidence(state)
    order = state.order
    total = order.total.amount if order else None
    paid = sum(p.settled_amount for p in charged)
    if len(charged) >= 2 and (total is None or paid > total):
        keep = next((p for p in charged if p.settled_amount == total), charged[0])
        extra = [p for p in charged if p is not keep]
        back = [p for p in extra if p.refunded >= p.settled_amount]
        answer = (
            f"Yes: order {oid} was charged {len(charged)} times, {_money(paid, currency)} in all"
            + (f" for an order of {_money(total, currency)}." if total is not None else ".")
        )
        if len(back) == len(extra):
            action = (
                "Tell the customer the extra charge was already refunded "
                + ", ".join(f"(payment {p.payment_id})" for p in back)
                + "; ask 'where is my refund?' for its status and reference."
            )
        else:
            owed = [p for p in extra if p not in back]
            action = (
                "Refund "
                + ", ".join(
                    f"payment {p.payment_id} ({_money(p.settled_amount - p.refunded, currency)})"
                    for p in owed
                )
                + f", the extra charge; keep payment {keep.payment_id}."
            )
        return Answer(q, oid, Finding.CHARGED_TWICE, answer, tuple(evidence), action)
    holds = [p for p in _payments(state) if p.authorized_at and not p.succeeded_at]
    if state.cancelled_at and holds:
        return _hold_answer(q, state, holds, evidence, now, Finding.HOLD_ON_CANCELLED)
    twins = double_orders(state, others)
    if twins:
        evidence += [_order_line(t) for t in twins]
        evidence += [_payment_line(p) for t in twins for p in t.successful_payments()]
        latest = max([state, *twins], key=lambda o: (o.placed_at() or now, o.order_id))
        ids = [oid, *(t.order_id for t in twins)]
        gap = max(abs((t.placed_at() or now) - (state.placed_at() or now)) for t in twins)
        answer = (
            f"Probably: the customer placed {len(twins) + 1} orders of "
            f"{order.total.format(grouping=True) if order else '?'} within "
            f"{int(gap.total_seconds() // 60)} minutes ({', '.join(ids)}), "
            f"each charged once: {len(twins) + 1} charges for what may be one purchase."
        )
        action = (
            "Ask the customer whether they meant to order twice; if not, cancel order "
            f"{latest.order_id} and refund it."
        )
        return Answer(q, oid, Finding.DOUBLE_ORDER, answer, tuple(evidence), action)
    captured = [
        p
        for p in charged
        if p.authorized_at and p.succeeded_at and p.succeeded_at > p.authorized_at
    ]
    if len(charged) == 1 and captured:
        payment = captured[0]
        answer = (
            f"No: one charge of {_money(payment.settled_amount, currency)}. The bank first showed "
            f"the authorisation hold ({when(payment.authorized_at)}) and then its capture "
            f"({when(payment.succeeded_at)}): the same money, seen twice while it settles."
        )
        drops = add_business_days(payment.succeeded_at.date(), 3) if payment.succeeded_at else None
        action = (
            "Tell the customer the pending line is the hold for the same payment; it disappears "
            f"as the charge posts, usually by {_day(drops) if drops else 'a few days'}."
        )
        return Answer(q, oid, Finding.HOLD_AND_CAPTURE, answer, tuple(evidence), action)
    if holds:
        return _hold_answer(q, state, holds, evidence, now, Finding.HOLD_NOT_CAPTURED)
    if charged:
        answer = (
            f"No: order {oid} was charged once, "
            + "; ".join(
                f"{_money(p.settled_amount, currency)} {when(p.succeeded_at)} "
                f"(payment {p.payment_id})"
                for p in charged
            )
            + "."
        )
        action = (
            "Tell the customer there was one charge; if their statement shows two, ask for both "
            "lines (date, amount, description) and open a query case."
        )
        return Answer(q, oid, Finding.ONE_CHARGE, answer, tuple(evidence), action)
    return Answer(
        q,
        oid,
        Finding.NOTHING_CHARGED,
        f"No: nothing was charged for order {oid}.",
        tuple(evidence),
        "Tell the customer no money was taken for this order.",
    )


def _hold_answer(
    q: Question,
    state: OrderState,
    holds: list[PaymentFacts],
    evidence: list[str],
    now: datetime,
    finding: Finding,
    before: str = "",
) -> Answer:
    parts, actions = [], []
    for hold in holds:
        amount = _money(hold.amount, hold.currency)
        if _voided(hold):
            parts.append(
                f"a hold of {amount} (payment {hold.payment_id}, {when(hold.authorized_at)}) that "
                f"was released {when(hold.failed_at)}; the bank drops it within a few days"
            )
            if hold.failed_at:
                drop = add_business_days(hold.failed_at.date(), 5)
                actions.append(f"tell the customer the hold of {amount} drops by {_day(drop)}")
            continue
        lapses = (hold.authorized_at or now) + timedelta(days=AUTHORISATION_DAYS)
        parts.append(
            f"a hold of {amount} (payment {hold.payment_id}, {when(hold.authorized_at)}), not a "
            f"charge: it was never captured and lapses by itself {when(lapses)}"
        )
        if state.cancelled_at:
            actions.append(f"void payment {hold.payment_id} now so the hold drops at once")
        else:
            actions.append(
                f"tell the customer the hold becomes the charge when the order is confirmed, or "
                f"drops {when(lapses)}"
            )
    status = (
        f"order {state.order_id} was cancelled {when(state.cancelled_at)}"
        if state.cancelled_at
        else f"order {state.order_id} is {state.status().value}"
    )
    answer = f"No charge: {before}{status}; what the customer sees is " + "; and ".join(parts) + "."
    action = "; ".join(actions)
    action = action[:1].upper() + action[1:] + "."  # ids keep their case
    if finding is Finding.HOLD_NOT_CAPTURED and all(_voided(h) for h in holds):
        finding = Finding.HOLD_RELEASED
    return Answer(q, state.order_id, finding, answer, tuple(evidence), action)


# -- where is my refund --------------------------------------------------------------------------


def _refund_line(payment: PaymentFacts, refund_id: str, refund: RefundFacts, now: datetime) -> str:
    amount = _money(refund.amount, payment.currency)
    kind = refund.destination_type.value if refund.destination_type else "refund"
    line = (
        f"refund {refund_id} of {amount} on payment {payment.payment_id}: {refund.status.value} "
        f"since {when(refund.status.at)}, created {when(refund.created_at)}, as a {kind}"
    )
    if refund.network_reference:
        line += f", card network reference (ARN) {refund.network_reference.value}"
    if refund.failure_reason:
        reason = refund.failure_reason.value
        line += f", failed because {REFUND_FAILURES.get(reason, reason)} ({reason})"
    if refund.status.value == "succeeded":
        line += f", {business_days_between(refund.status.at.date(), now.date())} business days ago"
    return line


def refund_not_received(state: OrderState, now: datetime) -> Answer:
    q, oid = Question.REFUND_NOT_RECEIVED, state.order_id
    refunds = sorted(
        (
            (refund.created_at or refund.status.at, rid, payment, refund)
            for payment in state.payments.values()
            for rid, refund in payment.refunds.items()
        ),
        key=lambda r: (r[0], r[1]),
    )
    evidence = _evidence(state) + [_refund_line(p, rid, r, now) for _, rid, p, r in refunds]
    if not refunds:
        reported = sum(
            p.reported_refunded.value for p in state.payments.values() if p.reported_refunded
        )
        if reported:
            currency = state.currency or "EUR"
            return Answer(
                q,
                oid,
                Finding.REFUND_ON_ITS_WAY,
                f"The gateway reports {_money(reported, currency)} refunded on order {oid}, "
                "without the refunds one by one (an old API version): no dates or reference.",
                tuple(evidence),
                "Open a query case with the gateway for the refund's date and network "
                "reference (ARN).",
            )
        return Answer(
            q,
            oid,
            Finding.NO_REFUND,
            f"No refund has been made on order {oid}.",
            tuple(evidence),
            "Check why no refund was started (a return not yet received, a cancellation not "
            "confirmed) and start it if it is owed.",
        )
    # A refund that failed and was not made good by a later refund is what the customer lacks.
    latest_success = max(
        (at for at, _, _, r in refunds if r.status.value == "succeeded"), default=None
    )
    failed = [
        (at, rid, p, r)
        for at, rid, p, r in refunds
        if r.failed and (latest_success is None or latest_success <= at)
    ]
    if failed:
        at, _, payment, refund = failed[-1]
        reason = refund.failure_reason.value if refund.failure_reason else "unknown"
        answer = (
            f"The refund of {_money(refund.amount, payment.currency)} on order {oid} "
            f"{refund.status.value} {when(refund.status.at)}: "
            f"{REFUND_FAILURES.get(reason, reason)}. "
            "The money came back to the shop; the customer has not received it."
        )
        action = (
            "Pay the customer back another way (a refund to another card, or a bank transfer); "
            "reconciliation lists it as a refund_failed break."
        )
        return Answer(q, oid, Finding.REFUND_FAILED, answer, tuple(evidence), action)
    open_ = [(at, rid, p, r) for at, rid, p, r in refunds if r.status.value != "succeeded"]
    if open_:
        at, _, payment, refund = open_[-1]
        answer = (
            f"The refund of {_money(refund.amount, payment.currency)} on order {oid} was started "
            f"{when(at)} and is {refund.status.value} at the gateway: not yet sent to the card."
        )
        action = (
            "Tell the customer it is on its way; if it is still not succeeded by "
            f"{_day(add_business_days(at.date(), 2))}, open a query case with the gateway."
        )
        return Answer(q, oid, Finding.REFUND_PENDING, answer, tuple(evidence), action)
    _, _, payment, refund = refunds[-1]
    amount = _money(refund.amount, payment.currency)
    done = refund.status.at
    elapsed = business_days_between(done.date(), now.date())
    low, high = REFUND_BUSINESS_DAYS
    arn = refund.network_reference.value if refund.network_reference else None
    if refund.destination_type and refund.destination_type.value == "reversal":
        answer = (
            f"The payment on order {oid} was reversed {when(done)} ({amount}): the hold was "
            "released before it settled, so no credit line appears; the original charge "
            "disappears from the statement instead."
        )
        action = "Tell the customer to look for the original charge having gone, not for a credit."
        return Answer(q, oid, Finding.REFUND_REVERSED, answer, tuple(evidence), action)
    said = (
        f"The refund of {amount} on order {oid} succeeded {when(done)}, {elapsed} business "
        f"days ago; card refunds usually take {low} to {high} business days to show"
    )
    if arn:
        said += f". Its card network reference (ARN) is {arn}"
    if elapsed <= high:
        due = add_business_days(done.date(), high)
        action = (
            f"Give the customer the reference {arn}: their bank can find the credit with it."
            if arn
            else f"Tell the customer to allow until {_day(due)} for the credit to show."
        )
        return Answer(q, oid, Finding.REFUND_ON_ITS_WAY, said + ".", tuple(evidence), action)
    action = (
        f"Give the customer the reference {arn} and ask them to have their bank trace the credit."
        if arn
        else "Open a query case with the gateway for the refund's network reference (ARN)."
    )
    return Answer(
        q,
        oid,
        Finding.REFUND_OVERDUE,
        said + f": later than the usual {high}.",
        tuple(evidence),
        action,
    )


# -- it failed but I was charged -----------------------------------------------------------------


def failed_but_charged(state: OrderState, others: Sequence[OrderState], now: datetime) -> Answer:
    q, oid = Question.FAILED_BUT_CHARGED, state.order_id
    payments = _payments(state)
    evidence = _evidence(state)
    declined = [p for p in payments if p.failed_at and not p.succeeded_at and not p.authorized_at]
    charged = [p for p in payments if p.succeeded_at]
    tried = ", ".join(
        f"attempt {n} ({p.payment_id}) failed {when(p.failed_at)}"
        + (f" ({p.failure.value})" if p.failure else "")
        for n, p in enumerate(declined, start=1)
    )
    if charged and state.order is None:
        payment = charged[0]
        answer = (
            f"Yes: payment {payment.payment_id} of "
            f"{_money(payment.settled_amount, payment.currency)} "
            f"succeeded {when(payment.succeeded_at)}, but the shop never sent us order {oid}."
        )
        action = (
            f"Ask the shop whether order {oid} exists; if it does not, refund payment "
            f"{payment.payment_id}."
        )
        return Answer(q, oid, Finding.CHARGE_WITHOUT_ORDER, answer, tuple(evidence), action)
    if charged:
        payment = charged[0]
        attempt = len([p for p in payments if _first_seen(p) <= _first_seen(payment)])
        answer = (
            (f"Charged once: {tried}; " if tried else "Charged once: ")
            + f"attempt {attempt} ({payment.payment_id}) succeeded {when(payment.succeeded_at)} "
            f"for {_money(payment.settled_amount, payment.currency)}, and order {oid} exists "
            f"({state.status().value})."
        )
        action = (
            "Tell the customer the failed attempt took nothing; the charge is the attempt that "
            f"succeeded, and it pays order {oid}."
        )
        finding = Finding.CHARGED_AFTER_FAILED if declined else Finding.ONE_CHARGE
        return Answer(q, oid, finding, answer, tuple(evidence), action)
    holds = [p for p in payments if p.authorized_at]
    if holds:
        before = f"{tried}; " if tried else ""
        return _hold_answer(q, state, holds, evidence, now, Finding.HOLD_NOT_CAPTURED, before)
    failed_at = max((p.failed_at for p in declined if p.failed_at), default=None)
    later = [
        o
        for o in others
        if o.order_id != oid
        and _same_payer(state, o)
        and any(
            p.succeeded_at and (failed_at is None or p.succeeded_at >= failed_at)
            for p in o.successful_payments()
        )
    ]
    if later:
        other = min(later, key=lambda o: (o.placed_at() or now, o.order_id))
        evidence += [_order_line(other), *(_payment_line(p) for p in other.successful_payments())]
        answer = (
            f"Not for this order: {tried or 'no attempt succeeded'} on order {oid}; the "
            f"customer then ordered again and was charged for order {other.order_id}."
        )
        action = (
            f"Tell the customer the charge they see is for order {other.order_id}, placed "
            f"{when(other.placed_at())}; order {oid} took nothing."
        )
        return Answer(q, oid, Finding.CHARGED_ON_ANOTHER_ORDER, answer, tuple(evidence), action)
    answer = (
        f"No: nothing was taken for order {oid}: "
        + (tried if tried else "no payment attempt reached us")
        + ", and no later attempt succeeded."
    )
    action = (
        "Tell the customer nothing was charged (a declined attempt takes no money); they can "
        "pay again, or ask their bank about any line they see."
    )
    return Answer(q, oid, Finding.NOTHING_CHARGED, answer, tuple(evidence), action)
