"""Finance's and auditors' questions about money received.

"How did the bank arrive at this net amount?": the reconciliation's own explanation of the
payout (its components add up to the net) with what it leaves summed up: the fees by type
(Stripe's ``fee_details``: the gateway's fee, application fees, VAT on fees), the conversions
(``exchange_rate``), reserves and other adjustments by category, and the bank line the payout
was paired with.

"Have I been paid for days X to Y?": per tenant-local day, what we captured and refunded (our
orders), what the gateway swept of that day (gross, refunds, fees, net), which payouts carried
it and whether each arrived in the bank, what is pending and when it is expected, what is
missing; a range reaching past the records kept says what it covers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.money import Money
from shared.order_aggregate import OrderState
from shared.settlements import BalanceTransaction, PayoutState, SettledPayout, summarise

_CHARGES = frozenset({"charge", "payment"})
_REFUNDS = frozenset({"refund", "payment_refund", "refund_failure"})
_RESERVES = ("reserve", "risk_reserved")
_KNOWN = frozenset(
    {*_CHARGES, *_REFUNDS, "fee", "payout", "dispute", "dispute_reversal", "charge_failure"}
)


def _money(amount: int, currency: str, *, signed: bool = False) -> str:
    return Money.of(amount, currency).format(grouping=True, signed=signed)


# -- a payout's explanation ----------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutAnswer:
    tenant: str
    payout: PayoutState
    settled: SettledPayout | None
    fees_by_type: tuple[tuple[str, int], ...]
    conversions: tuple[tuple[str, int, int], ...]  # (rate, transactions, gross converted)
    reserves: tuple[tuple[str, int, int], ...]  # (category, count, signed amount)
    other_adjustments: tuple[tuple[str, int, int], ...]
    transaction_count: int

    @property
    def currency(self) -> str:
        return self.payout.currency or "EUR"

    def bank_said(self) -> str:
        settled = self.settled
        if self.transaction_count == 0:
            gateway = (
                "no balance transactions are filed for it: a manual or instant payout, which the "
                "gateway cannot tie to the transactions it paid out"
            )
        else:
            gateway = ""
        if settled is None:
            bank = "not looked up (reconciliation has not seen this payout's days)"
        elif settled.bank_line_id:
            bank = (
                f"arrived in the bank {settled.bank_booking_date}: line {settled.bank_line_id}, "
                f"{_money(settled.bank_amount or 0, self.currency)} "
                f"(matched by {settled.matched_by})"
            )
        elif settled.missing:
            bank = "missing: no bank line after the grace days (reconciliation: missing_settlement)"
        else:
            bank = "not in the bank yet"
        return bank + (f"; {gateway}" if gateway else "")

    def text(self) -> str:
        currency = self.currency
        lines = []
        if self.settled is not None:
            lines.append(self.settled.explanation)
        else:
            lines.append(
                f"Payout {self.payout.payout_id} of {_money(self.payout.amount, currency)}, "
                f"arriving {self.payout.arrival_date.date() if self.payout.arrival_date else '?'} "
                f"({self.payout.status})"
            )
        if self.fees_by_type:
            lines.append("  fees by type:")
            lines += [
                f"    {kind:<30} {_money(-amount, currency, signed=True):>20}"
                for kind, amount in self.fees_by_type
            ]
        for rate, count, gross in self.conversions:
            lines.append(
                f"  converted at {rate}: {count} transaction(s), {_money(gross, currency)} "
                "in the payout's currency"
            )
        for title, rows in (
            ("reserves", self.reserves),
            ("other adjustments", self.other_adjustments),
        ):
            if rows:
                lines.append(f"  {title}:")
                lines += [
                    f"    {category:<22}{count:>6} x {_money(amount, currency, signed=True):>20}"
                    for category, count, amount in rows
                ]
        lines.append(f"  bank: {self.bank_said()}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        settled = self.settled
        return {
            "payout_id": self.payout.payout_id,
            "currency": self.currency,
            "amount": self.payout.amount,
            "status": self.payout.status,
            "arrival_date": self.payout.arrival_date.date().isoformat()
            if self.payout.arrival_date
            else None,
            "components": [
                {"label": label, "count": count, "amount": amount}
                for label, count, amount in (settled.components if settled else ())
            ],
            "fees_by_type": dict(self.fees_by_type),
            "conversions": [
                {"rate": rate, "transactions": count, "amount": gross}
                for rate, count, gross in self.conversions
            ],
            "reserves": [{"category": c, "count": n, "amount": a} for c, n, a in self.reserves],
            "adjustments": [
                {"category": c, "count": n, "amount": a} for c, n, a in self.other_adjustments
            ],
            "bank": {
                "line_id": settled.bank_line_id if settled else None,
                "booking_date": settled.bank_booking_date.isoformat()
                if settled and settled.bank_booking_date
                else None,
                "amount": settled.bank_amount if settled else None,
                "matched_by": settled.matched_by if settled else None,
                "missing": settled.missing if settled else False,
            },
            "text": self.text(),
        }


def explain_payout(
    tenant: str,
    payout: PayoutState,
    transactions: Sequence[BalanceTransaction],
    settled: SettledPayout | None,
) -> PayoutAnswer:
    swept = [t for t in transactions if (t.reporting_category or t.type) != "payout"]
    fees: dict[str, int] = defaultdict(int)
    for txn in swept:
        detailed = sum(d.amount.amount for d in txn.fee_details)
        for detail in txn.fee_details:
            fees[detail.type] += detail.amount.amount
        if txn.fee.amount != detailed:
            fees["not itemised by the gateway"] += txn.fee.amount - detailed
    rates: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for txn in swept:
        if txn.exchange_rate:
            rates[txn.exchange_rate][0] += 1
            rates[txn.exchange_rate][1] += txn.amount.amount
    reserves: list[tuple[str, int, int]] = []
    others: list[tuple[str, int, int]] = []
    for category, row in sorted(summarise(swept).items()):
        if category in _KNOWN:
            continue
        entry = (category, row["count"], row["amount"])
        (reserves if any(r in category for r in _RESERVES) else others).append(entry)
    return PayoutAnswer(
        tenant=tenant,
        payout=payout,
        settled=settled,
        fees_by_type=tuple(sorted((k, v) for k, v in fees.items() if v)),
        conversions=tuple((rate, n, gross) for rate, (n, gross) in sorted(rates.items())),
        reserves=tuple(reserves),
        other_adjustments=tuple(others),
        transaction_count=len(swept),
    )


# -- have I been paid for these days -------------------------------------------------------------


@dataclass
class DayFigures:
    """One currency of one tenant-local day."""

    captured: int = 0
    captured_count: int = 0
    refunded: int = 0
    gateway_gross: int = 0
    gateway_refunds: int = 0
    gateway_fees: int = 0
    gateway_net: int = 0
    not_paid_out: int = 0
    not_paid_out_count: int = 0


@dataclass
class PaidDay:
    day: date
    figures: dict[str, DayFigures] = field(default_factory=dict)
    payouts: list[str] = field(default_factory=list)  # payout ids, in arrival order
    covered: bool = True


@dataclass(frozen=True)
class PayoutStanding:
    payout_id: str
    currency: str
    amount: int
    arrival: date | None
    status: str
    bank: str  # in words: arrived (when, which line), not yet, missing, pending (expected when)
    arrived: bool
    missing: bool


@dataclass(frozen=True)
class PaidAnswer:
    tenant: str
    first: date
    last: date
    kept_from: date
    days: tuple[PaidDay, ...]
    payouts: tuple[PayoutStanding, ...]

    def _standing(self, payout_id: str) -> PayoutStanding | None:
        return next((p for p in self.payouts if p.payout_id == payout_id), None)

    def text(self) -> str:
        lines = [f"Paid for {self.first} to {self.last} (tenant {self.tenant}, its local days):"]
        if self.first < self.kept_from:
            lines.append(
                f"  records are kept from {self.kept_from}: the days before it are not covered"
            )
        for day in self.days:
            if not day.covered:
                continue
            if not day.figures:
                lines.append(f"  {day.day}: nothing captured, nothing swept")
                continue
            for currency, f in sorted(day.figures.items()):
                lines.append(
                    f"  {day.day} {currency}: captured {_money(f.captured, currency)} "
                    f"({f.captured_count}), refunded {_money(f.refunded, currency)}; gateway: "
                    f"gross {_money(f.gateway_gross, currency)}, refunds "
                    f"{_money(f.gateway_refunds, currency, signed=True)}, fees "
                    f"{_money(-f.gateway_fees, currency, signed=True)}, net "
                    f"{_money(f.gateway_net, currency)}"
                )
                if f.not_paid_out:
                    lines.append(
                        f"    pending: {_money(f.not_paid_out, currency)} "
                        f"({f.not_paid_out_count} charge(s)) in no payout yet: expected in a "
                        "coming payout, on the account's payout schedule"
                    )
            for payout_id in day.payouts:
                standing = self._standing(payout_id)
                if standing is not None:
                    lines.append(f"    carried by payout {payout_id}: {standing.bank}")
        missing = [p for p in self.payouts if p.missing]
        if missing:
            lines.append("Missing: " + ", ".join(f"{p.payout_id} ({p.bank})" for p in missing))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "covered_from": max(self.first, self.kept_from).isoformat(),
            "days": [
                {
                    "day": d.day.isoformat(),
                    "covered": d.covered,
                    "figures": {c: vars(f) for c, f in sorted(d.figures.items())},
                    "payouts": d.payouts,
                }
                for d in self.days
            ],
            "payouts": [
                {
                    "payout_id": p.payout_id,
                    "currency": p.currency,
                    "amount": p.amount,
                    "arrival": p.arrival.isoformat() if p.arrival else None,
                    "status": p.status,
                    "bank": p.bank,
                    "arrived": p.arrived,
                    "missing": p.missing,
                }
                for p in self.payouts
            ],
            "text": self.text(),
        }


def _local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def paid_for_days(
    tenant: str,
    first: date,
    last: date,
    *,
    timezone: str,
    today: date,
    kept_from: date,
    orders: Iterable[OrderState],
    payouts: Iterable[tuple[PayoutState, Sequence[BalanceTransaction]]],
    settled: Mapping[str, SettledPayout],
) -> PaidAnswer:
    """Per local day of ``first``..``last``: what our orders captured and refunded, what the
    gateway swept of that day and in which payouts, and where each payout stands in the bank."""
    zone = ZoneInfo(timezone)
    days = {
        date.fromordinal(n): PaidDay(date.fromordinal(n), covered=date.fromordinal(n) >= kept_from)
        for n in range(first.toordinal(), last.toordinal() + 1)
    }
    swept_charges: set[str] = set()
    standings = []
    for payout, transactions in payouts:
        for txn in transactions:
            category = txn.reporting_category or txn.type
            if category == "payout":
                continue
            if category in _CHARGES and txn.source_id:
                swept_charges.add(txn.source_id)
            day = days.get(_local_day(txn.created, zone))
            if day is None:
                continue
            figures = day.figures.setdefault(txn.amount.currency, DayFigures())
            if category in _CHARGES:
                figures.gateway_gross += txn.amount.amount
            elif category in _REFUNDS:
                figures.gateway_refunds += txn.amount.amount
            figures.gateway_fees += txn.fee.amount
            figures.gateway_net += txn.net.amount
            if payout.payout_id not in day.payouts:
                day.payouts.append(payout.payout_id)
        standings.append(
            _standing(payout, settled.get(payout.payout_id), today, bool(transactions))
        )
    for state in orders:
        for payment in state.payments.values():
            if payment.succeeded_at:
                day = days.get(_local_day(payment.succeeded_at, zone))
                if day is not None:
                    figures = day.figures.setdefault(payment.currency, DayFigures())
                    figures.captured += payment.settled_amount
                    figures.captured_count += 1
                    if not swept_charges.intersection(payment.charge_ids or [payment.payment_id]):
                        figures.not_paid_out += payment.settled_amount
                        figures.not_paid_out_count += 1
            for refund in payment.refunds.values():
                if refund.status.value == "succeeded":
                    day = days.get(_local_day(refund.status.at, zone))
                    if day is not None:
                        day.figures.setdefault(
                            payment.currency, DayFigures()
                        ).refunded += refund.amount
    order = {p.payout_id: (p.arrival or date.max, p.payout_id) for p in standings}
    for day in days.values():
        day.payouts.sort(key=lambda pid: order.get(pid, (date.max, pid)))
    return PaidAnswer(
        tenant=tenant,
        first=first,
        last=last,
        kept_from=kept_from,
        days=tuple(days[d] for d in sorted(days)),
        payouts=tuple(sorted(standings, key=lambda p: (p.arrival or date.max, p.payout_id))),
    )


def _standing(
    payout: PayoutState, settled: SettledPayout | None, today: date, has_transactions: bool
) -> PayoutStanding:
    currency = payout.currency or "EUR"
    arrival = payout.arrival_date.date() if payout.arrival_date else None
    status = payout.status
    arrived = bool(settled and settled.bank_line_id)
    missing = bool(settled and settled.missing)
    if arrived and settled is not None:
        bank = f"arrived in the bank {settled.bank_booking_date} (line {settled.bank_line_id})"
    elif missing:
        bank = f"paid for {arrival} but not in the bank after the grace days: missing"
    elif status == "pending":
        bank = f"pending at the gateway, expected {arrival}"
    elif status == "failed":
        bank = "failed at the gateway: the money stays in the gateway balance"
    elif status == "failed_after_paid":
        bank = "taken back by the gateway after it was paid"
    elif arrival and arrival > today:
        bank = f"paid by the gateway, expected in the bank {arrival}"
    else:
        bank = f"paid by the gateway for {arrival}, not in the bank yet"
    if not has_transactions and status != "pending":
        bank += " (a manual or instant payout: the gateway cannot tie transactions to it)"
    return PayoutStanding(
        payout.payout_id,
        currency,
        payout.amount,
        arrival,
        status,
        f"{_money(payout.amount, currency)}, {bank}",
        arrived,
        missing,
    )
