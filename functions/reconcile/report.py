"""The daily reconciliation report: what one tenant's day matched, what broke, what was done.

Built from the engine's ``ReconResult`` (never from the raw records again), the carry-forward of
yesterday's open breaks, and the refunds the daily run attempted:

- ``report_context``: every figure the report shows, as plain JSON-ready values (money as
  ``{"amount": minor units, "currency": ISO code}``, dates as ISO strings), so that the same
  dict feeds the templates and ``summary.json``;
- ``render_report``: the e-mail to the tenant's finance list (subject, HTML, text);
- ``report_csv``: every line, for the spreadsheet;
- ``report_summary``: the headline part of the context, for ``summary.json``;
- ``report_key``: where each of the three lands in S3.

An e-mail with ten thousand breaks is read by nobody, so ``render_report`` shows the first
``max_breaks`` breaks (P1 first) and ``max_payouts`` payouts (the troubled first) and says how
many more the CSV holds. The CSV always holds everything.

CSV columns (``CSV_COLUMNS``), one row per break, per settlement (a payout paired with the bank
line that paid it) and per payout explanation, in that order; a column that means nothing for a
row's type is empty. Amounts are integers of minor units unless the name says otherwise.

- ``record_type``: ``break``, ``settlement`` or ``payout``
- ``tenant``, ``day``: the tenant id and the reconciled day (ISO)
- ``record_id``: the break id; the payout id for settlements and payouts
- ``priority``: break: P1 (act today), P2 (explain this week), P3 (bookkeeping)
- ``break_class``: break: the engine's class (``duplicate_payment``, ``short_payment``, …)
- ``status``: break: ``new``, ``still_open`` (carried from an earlier day) or ``open`` (no
  carry-forward given); settlement: how it was paired (``id``, ``amount``, ``short``,
  ``excess``); payout: the gateway's payout status
- ``currency``: ISO 4217
- ``amount``: break: the money at stake; settlement and payout: the payout's amount
- ``amount_decimal``: ``amount`` in major units with the currency's exact digits (``12.500``)
- ``amount_formatted``: ``amount`` for people (``KWD 12.500``)
- ``expected``: break: what one side said (minor units), where a comparison was made
- ``actual``: break: what the other side said
- ``first_seen``: break: the day it was first found (ISO)
- ``age_days``: break: days since ``first_seen``
- ``order_id``: the order named, if any
- ``charge_ids``: charges named, space-separated
- ``dispute_id``: the dispute named, if any
- ``payout_id``: the payout named, if any
- ``line_id``: the bank line named (settlement and payout rows: the line that paid it)
- ``keys``: break: every key involved, ``name=value`` separated by ``; ``
- ``explanation``: one line for people: why it broke, how it was paired, what it is made of
- ``suggested_action``: break: what to do, in words
- ``refund_instructions``: break: each suggested refund as ``charge amount key=idempotency-key``
- ``actions_taken``: break: what the daily run did about it (``status charge amount: detail``)
- ``arrival_date``: settlement and payout: the day the gateway said the money arrives
- ``booking_date``: settlement and payout: the day the bank booked it
- ``bank_amount``: settlement and payout: what the bank line shows
- ``transaction_count``: payout: the balance transactions it swept
- ``gross_charges``: payout: charges in it (signed contribution to the payout, as are the next)
- ``fees``: payout: processing and gateway fees
- ``refunds``: payout: refunds taken out of it
- ``disputes``: payout: disputed amounts taken out of it
- ``dispute_reversals``: payout: disputes won and given back
- ``dispute_fees``: payout: the gateway's dispute fees
- ``adjustments``: payout: every other category (reserves, transfers, tax, …)
- ``net``: payout: the transactions' own net
- ``difference``: payout: payout amount less ``net`` (0 when fully explained); settlement: bank
  amount less payout amount
- ``unknown_charge_count``: payout: charges it settled that we hold no record of

Text cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``)
get a leading apostrophe: bank remittance text and shop order ids are outside input.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from functions.reconcile.engine import CarryResult, ReconResult, SettlementMatch
from functions.reconcile.explain import PayoutExplanation, format_money
from functions.reconcile.model import PAYOUT_PAID, PAYOUT_PENDING, Break, BreakClass, Priority
from shared.money import exponent
from shared.notify.render import DEFAULT_LOCALE, brand_of, render_pair
from shared.tenants import TenantSettings

TEMPLATE = "reconciliation_report"
MAX_BREAKS_SHOWN = 150
MAX_PAYOUTS_SHOWN = 20

Json = dict[str, Any]

# -- what the daily run did ------------------------------------------------------------------

ActionStatus = Literal[
    "refunded",
    "requested",
    "dry_run",
    "skipped_switch_off",
    "skipped_over_max",
    "already_done",
    "failed",
]

# (label, tone): the tone picks the badge colour, the label is what finance reads.
ACTION_STATUSES: dict[str, tuple[str, str]] = {
    "refunded": ("Refunded", "good"),
    "requested": ("Requested, awaiting the gateway", "info"),
    "dry_run": ("Dry run: not sent", "muted"),
    "skipped_switch_off": ("Skipped: automatic refunds are off", "muted"),
    "skipped_over_max": ("Skipped: above the automatic limit", "warn"),
    "already_done": ("Already refunded earlier", "muted"),
    "failed": ("Failed", "bad"),
}


@dataclass(frozen=True, slots=True)
class ActionTaken:
    """One suggested refund and what the daily run did with it (``detail``: the gateway's
    refund id, its error, or why it was skipped)."""

    break_id: str
    kind: Literal["refund"]
    payment_id: str
    charge_id: str
    amount: int
    currency: str
    status: ActionStatus
    detail: str = ""


# -- words -----------------------------------------------------------------------------------

CLASS_LABELS: dict[BreakClass, str] = {
    BreakClass.DUPLICATE_PAYMENT: "Duplicate payment",
    BreakClass.CHARGED_ORDER_NOT_COMPLETED: "Charged, no completed order",
    BreakClass.COMPLETED_NOT_PAID: "Completed, never paid",
    BreakClass.AMOUNT_MISMATCH: "Amount mismatch",
    BreakClass.CANCELLED_NOT_REFUNDED: "Cancelled, not refunded",
    BreakClass.REFUNDED_STILL_ACTIVE: "Refunded, order still active",
    BreakClass.DISPUTE_WITHOUT_CASE: "Dispute without a case",
    BreakClass.SHORT_PAYMENT: "Short payment",
    BreakClass.EXCESS_PAYMENT: "Excess payment",
    BreakClass.MISSING_SETTLEMENT: "Missing settlement",
    BreakClass.UNKNOWN_BANK_CREDIT: "Unknown bank credit",
    BreakClass.PAYOUT_FAILED_AFTER_PAID: "Payout failed after paid",
    BreakClass.PAYOUT_COMPOSITION_MISMATCH: "Payout composition mismatch",
}

PRIORITY_LABELS: dict[Priority, str] = {
    Priority.P1: "Act today: money lost or at risk",
    Priority.P2: "Explain this week: money unexplained",
    Priority.P3: "Bookkeeping",
}

ACTION_KIND_LABELS = {
    "refund": "Refund",
    "cancel_order": "Cancel the order",
    "open_dispute_case": "Open a chargeback case",
    "chase_settlement": "Chase the settlement",
}

SETTLEMENT_METHODS = {
    "id": "matched by reference",
    "amount": "matched by amount and date",
    "short": "paired, short",
    "excess": "paired, excess",
}

Bucket = Literal["matched", "broken", "waiting", "other"]
BUCKETS: tuple[Bucket, ...] = ("matched", "broken", "waiting", "other")


@dataclass(frozen=True, slots=True)
class _Figure:
    """One kind of record in ``ReconResult.matches`` (categories ``{prefix}.{name}``) and how
    its categories read: matched, broken, waiting for money that is not due yet, or neither."""

    prefix: str
    label: str
    buckets: Mapping[str, Bucket]
    waiting: str
    other: str


_FIGURES = (
    _Figure(
        "orders",
        "Orders",
        {
            "matched": "matched",
            "with_break": "broken",
            "awaiting_payment": "waiting",
            "closed": "other",
        },
        waiting="awaiting payment",
        other="cancelled or failed",
    ),
    _Figure(
        "charges",
        "Charges captured",
        {
            "matched": "matched",
            "refunded": "other",
            "order_not_completed": "broken",
            "cancelled_not_refunded": "broken",
            "duplicate": "broken",
            "mismatched": "broken",
        },
        waiting="",
        other="refunded",
    ),
    _Figure(
        "payouts",
        "Payouts",
        {
            "matched_by_id": "matched",
            "matched_by_amount": "matched",
            "short": "broken",
            "excess": "broken",
            "missing": "broken",
            "failed_after_paid": "broken",
            "pending": "waiting",
            "awaiting_settlement": "waiting",
            "not_expected": "other",
        },
        waiting="not in the bank yet",
        other="never sent",
    ),
    _Figure(
        "bank",
        "Bank credits",
        {
            "matched_by_id": "matched",
            "matched_by_amount": "matched",
            "short": "broken",
            "excess": "broken",
            "unknown": "broken",
            "not_settlement": "other",
        },
        waiting="",
        other="not gateway money",
    ),
)


# -- small helpers ---------------------------------------------------------------------------


def _money(amount: int, currency: str) -> Json:
    return {"amount": amount, "currency": currency}


def _amounts(sums: Mapping[str, int]) -> list[Json]:
    return [_money(amount, currency) for currency, amount in sorted(sums.items()) if currency]


def _shares(values: Sequence[int]) -> list[int]:
    """Whole percentages of ``values`` adding up to exactly 100 (largest remainder), and at
    least 1 for any non-zero value so that a single broken euro still shows on the bar."""
    total = sum(values)
    if total <= 0:
        return [0] * len(values)
    raw = [v * 100 / total for v in values]
    shares = [max(1, int(r)) if v else 0 for v, r in zip(values, raw, strict=True)]
    order = sorted(range(len(values)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    i = 0
    while sum(shares) < 100:
        if values[order[i % len(order)]]:
            shares[order[i % len(order)]] += 1
        i += 1
    while sum(shares) > 100:
        biggest = max(range(len(shares)), key=shares.__getitem__)
        shares[biggest] -= 1
    return shares


def _matched_share(matched: int, broken: int) -> str | None:
    """Matched as a share of what had to match (matched plus broken), as ``99.3``: waiting
    and closed records are not failures. Rounded down, so a day with a break never reads 100."""
    due = matched + broken
    if due <= 0:
        return None
    tenths = 1000 * matched // due
    return str(tenths // 10) if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}"


def _decimal(amount: int, currency: str) -> str:
    digits = exponent(currency)
    return f"{Decimal(amount).scaleb(-digits):.{digits}f}"


def _break_order(brk: Break) -> tuple[str, str, int, int, str]:
    # Oldest and largest first within a class: what has waited longest is read first.
    return (brk.priority.value, brk.break_class.value, -brk.age_days, -brk.amount, brk.break_id)


def class_label(break_class: BreakClass | str) -> str:
    try:
        return CLASS_LABELS[BreakClass(break_class)]
    except ValueError:
        return str(break_class).replace("_", " ").capitalize()


# -- the context -----------------------------------------------------------------------------


def _dated(result: ReconResult, carried: CarryResult | None) -> tuple[list[Break], dict[str, str]]:
    """Today's breaks with their ages from the carry-forward, and each one's status."""
    if carried is None:
        return list(result.breaks), {brk.break_id: "open" for brk in result.breaks}
    aged = {brk.break_id: brk for brk in (*carried.opened, *carried.still_open)}
    status = {brk.break_id: "new" for brk in carried.opened}
    status.update({brk.break_id: "still_open" for brk in carried.still_open})
    breaks: list[Break] = []
    seen: set[str] = set()
    for brk in result.breaks:
        if brk.break_id in seen:
            continue
        seen.add(brk.break_id)
        breaks.append(aged.get(brk.break_id, brk))
        status.setdefault(brk.break_id, "new")
    return breaks, status


def _action_row(action: ActionTaken, classes: Mapping[str, BreakClass]) -> Json:
    label, tone = ACTION_STATUSES.get(action.status, (action.status, "muted"))
    found = classes.get(action.break_id)
    return {
        "break_id": action.break_id,
        "break_class": found.value if found else None,
        "class_label": class_label(found) if found else "Closed or unknown break",
        "kind": action.kind,
        "payment_id": action.payment_id,
        "charge_id": action.charge_id,
        "amount": _money(action.amount, action.currency),
        "status": action.status,
        "status_label": label,
        "tone": tone,
        "detail": action.detail,
    }


def _break_row(
    brk: Break, status: str, day: date, taken: Sequence[Json], closed: bool = False
) -> Json:
    currency = brk.currency or ""
    action = brk.suggested_action
    age = (day - brk.first_seen).days if closed else brk.age_days
    return {
        "break_id": brk.break_id,
        "break_class": brk.break_class.value,
        "class_label": class_label(brk.break_class),
        "priority": brk.priority.value,
        "status": status,
        "currency": brk.currency,
        "amount": _money(brk.amount, currency) if currency else None,
        "expected": (
            _money(brk.expected, currency) if currency and brk.expected is not None else None
        ),
        "actual": _money(brk.actual, currency) if currency and brk.actual is not None else None,
        "first_seen": brk.first_seen.isoformat(),
        "age_days": max(0, age),
        "explanation": brk.explanation,
        "keys": [{"name": name, "value": value} for name, value in brk.keys],
        "action": (
            {
                "kind": action.kind,
                "label": ACTION_KIND_LABELS.get(action.kind, action.kind),
                "description": action.description,
                "refunds": [
                    {
                        "payment_id": r.payment_id,
                        "charge_id": r.charge_id,
                        "amount": _money(r.amount, r.currency),
                        "idempotency_key": r.idempotency_key,
                    }
                    for r in action.refunds
                ],
            }
            if action is not None
            else None
        ),
        "taken": list(taken),
    }


def _figures(result: ReconResult) -> list[Json]:
    """Per currency, each kind's count and amount split into matched, broken, waiting, other;
    and the refunds the day's payouts carried."""
    per: dict[str, dict[str, dict[Bucket, list[int]]]] = defaultdict(
        lambda: defaultdict(lambda: {b: [0, 0] for b in BUCKETS})
    )
    for category, by_currency in result.matches.items():
        prefix, _, name = category.partition(".")
        figure = next((f for f in _FIGURES if f.prefix == prefix), None)
        if figure is None:
            continue
        bucket = figure.buckets.get(name, "other")
        for currency, tally in by_currency.items():
            if not currency:
                continue
            row = per[currency][prefix][bucket]
            row[0] += tally.count
            row[1] += tally.amount
    refunds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for payout in result.payouts:
        if payout.refund_count or payout.refunds:
            refunds[payout.currency][0] += payout.refund_count
            refunds[payout.currency][1] -= payout.refunds  # shown as money returned, positive

    out: list[Json] = []
    for currency in sorted(per.keys() | refunds.keys()):
        rows: list[Json] = []
        for figure in _FIGURES:
            split = per[currency][figure.prefix]
            labels = {
                "matched": "matched",
                "broken": "broken",
                "waiting": figure.waiting,
                "other": figure.other,
            }
            amounts = [max(0, split[b][1]) for b in BUCKETS]
            shares = _shares(amounts)
            count = sum(split[b][0] for b in BUCKETS)
            amount = sum(split[b][1] for b in BUCKETS)
            rows.append(
                {
                    "kind": figure.prefix,
                    "label": figure.label,
                    "count": count,
                    "amount": _money(amount, currency),
                    "matched": {
                        "count": split["matched"][0],
                        "amount": _money(split["matched"][1], currency),
                    },
                    "broken": {
                        "count": split["broken"][0],
                        "amount": _money(split["broken"][1], currency),
                    },
                    "parts": [
                        {
                            "bucket": bucket,
                            "label": labels[bucket],
                            "count": split[bucket][0],
                            "amount": _money(split[bucket][1], currency),
                            "share": share,
                        }
                        for bucket, share in zip(BUCKETS, shares, strict=True)
                        if split[bucket][0] or split[bucket][1]
                    ],
                    "matched_share": _matched_share(amounts[0], amounts[1]),
                }
            )
        refund_count, refunded = refunds.get(currency, [0, 0])
        out.append(
            {
                "currency": currency,
                "rows": rows,
                "refunds": {"count": refund_count, "amount": _money(refunded, currency)},
            }
        )
    return out


def _payout_row(
    payout: PayoutExplanation,
    settlement: SettlementMatch | None,
    naming: Sequence[Break],
) -> Json:
    currency = payout.currency
    components = [
        {"label": label, "count": count, "amount": _money(amount, currency)}
        for label, count, amount in payout.components
        if count or amount
    ]
    settled = (
        {
            "line_id": settlement.line_id,
            "method": settlement.method,
            "method_label": SETTLEMENT_METHODS.get(settlement.method, settlement.method),
            "booking_date": settlement.booking_date.isoformat(),
            "bank_amount": _money(settlement.bank_amount, currency),
            "difference": _money(settlement.bank_amount - settlement.payout_amount, currency),
        }
        if settlement is not None
        else None
    )
    if settlement is not None:
        bank_state = "settled"
    elif any(
        brk.break_class in (BreakClass.MISSING_SETTLEMENT, BreakClass.PAYOUT_FAILED_AFTER_PAID)
        for brk in naming
    ):
        bank_state = "missing"
    elif payout.status == PAYOUT_PAID:
        bank_state = "awaiting"  # within the grace days: not a break yet
    elif payout.status == PAYOUT_PENDING:
        bank_state = "pending"
    else:
        bank_state = "not_sent"
    return {
        "payout_id": payout.payout_id,
        "status": payout.status,
        "bank_state": bank_state,
        "currency": currency,
        "arrival_date": payout.arrival_date.isoformat(),
        "amount": _money(payout.payout_amount, currency),
        "transaction_count": payout.transaction_count,
        "components": components,
        "net": _money(payout.net, currency),
        "difference": _money(payout.difference, currency),
        "explained": payout.difference == 0,
        "consistent": payout.consistent,
        "inconsistency": _money(payout.net - payout.components_total, currency),
        "unknown_charge_count": payout.unknown_charge_count,
        "unknown_charge_ids": list(payout.unknown_charge_ids),
        "settlement": settled,
        "breaks": [
            {"break_id": brk.break_id, "class_label": class_label(brk.break_class)}
            for brk in naming
        ],
        "troubled": bool(naming) or payout.difference != 0 or payout.unknown_charge_count > 0,
    }


def report_context(
    result: ReconResult,
    carried: CarryResult | None,
    actions: Sequence[ActionTaken],
    tenant: TenantSettings,
    *,
    max_breaks: int | None = None,
    max_payouts: int | None = None,
) -> Json:
    """Everything the report shows, JSON-ready. ``carried`` (today's breaks against those open
    before) gives ages, new versus still open, and the breaks closed today; without it every
    break reads as open and nothing as closed. ``max_breaks``/``max_payouts`` limit the lists
    (P1 first; troubled payouts first); the counts always cover everything."""
    if result.tenant != tenant.id:
        raise ValueError(f"result of tenant {result.tenant} reported as {tenant.id}")
    day = result.day
    breaks, status = _dated(result, carried)
    breaks.sort(key=_break_order)
    classes = {brk.break_id: brk.break_class for brk in breaks}
    if carried is not None:
        classes.update({brk.break_id: brk.break_class for brk in carried.closed})
    action_rows = [_action_row(action, classes) for action in actions]
    taken: dict[str, list[Json]] = defaultdict(list)
    for row in action_rows:
        taken[row["break_id"]].append(row)

    # Priorities, then classes, each with its count and money at stake per currency.
    priorities: list[Json] = []
    shown = 0
    limit = len(breaks) if max_breaks is None else max(0, max_breaks)
    for priority in Priority:
        in_priority = [brk for brk in breaks if brk.priority == priority]
        if not in_priority:
            continue
        groups: list[Json] = []
        for break_class in dict.fromkeys(brk.break_class for brk in in_priority):
            members = [brk for brk in in_priority if brk.break_class == break_class]
            sums: dict[str, int] = defaultdict(int)
            for brk in members:
                sums[brk.currency or ""] += brk.amount
            visible = members[: max(0, limit - shown)]
            shown += len(visible)
            groups.append(
                {
                    "break_class": break_class.value,
                    "label": class_label(break_class),
                    "count": len(members),
                    "amounts": _amounts(sums),
                    "breaks": [
                        _break_row(brk, status[brk.break_id], day, taken.get(brk.break_id, ()))
                        for brk in visible
                    ],
                    "hidden": len(members) - len(visible),
                }
            )
        priority_sums: dict[str, int] = defaultdict(int)
        for brk in in_priority:
            priority_sums[brk.currency or ""] += brk.amount
        priorities.append(
            {
                "priority": priority.value,
                "label": PRIORITY_LABELS[priority],
                "count": len(in_priority),
                "amounts": _amounts(priority_sums),
                "classes": groups,
            }
        )

    # Breaks by class, for the chart: bars as long as the count, coloured by priority.
    by_class: dict[BreakClass, list[Break]] = defaultdict(list)
    for brk in breaks:
        by_class[brk.break_class].append(brk)
    most = max((len(v) for v in by_class.values()), default=0)
    class_chart = []
    for break_class, members in by_class.items():
        sums = defaultdict(int)
        for brk in members:
            sums[brk.currency or ""] += brk.amount
        class_chart.append(
            {
                "break_class": break_class.value,
                "label": class_label(break_class),
                "priority": members[0].priority.value,
                "count": len(members),
                "amounts": _amounts(sums),
                "share": max(1, round(100 * len(members) / most)),
            }
        )

    # Payouts: the troubled ones first, then the latest.
    settlement_of = {s.payout_id: s for s in result.settlements}
    naming: dict[str, list[Break]] = defaultdict(list)
    for brk in breaks:
        payout_id = brk.key("payout_id")
        if payout_id is not None:
            naming[payout_id].append(brk)
    payouts = [
        _payout_row(p, settlement_of.get(p.payout_id), naming.get(p.payout_id, ()))
        for p in result.payouts
    ]
    payouts.sort(key=lambda p: p["payout_id"])
    payouts.sort(key=lambda p: p["arrival_date"], reverse=True)
    payouts.sort(key=lambda p: not p["troubled"])
    payout_limit = len(payouts) if max_payouts is None else max(0, max_payouts)

    closed = (
        [
            _break_row(brk, "closed", day, taken.get(brk.break_id, ()), closed=True)
            for brk in sorted(carried.closed, key=_break_order)
        ]
        if carried is not None
        else []
    )

    at_stake: dict[str, int] = defaultdict(int)
    p1_at_stake: dict[str, int] = defaultdict(int)
    for brk in breaks:
        at_stake[brk.currency or ""] += brk.amount
        if brk.priority == Priority.P1:
            p1_at_stake[brk.currency or ""] += brk.amount
    refunded: dict[str, int] = defaultdict(int)
    for action in actions:
        if action.status == "refunded":
            refunded[action.currency] += action.amount
    action_counts = [
        {
            "status": name,
            "label": label,
            "tone": tone,
            "count": sum(1 for a in actions if a.status == name),
        }
        for name, (label, tone) in ACTION_STATUSES.items()
        if any(a.status == name for a in actions)
    ]
    counts = {p.value: sum(1 for brk in breaks if brk.priority == p) for p in Priority}
    headline = {
        "open": len(breaks),
        "by_priority": counts,
        "new": sum(1 for s in status.values() if s == "new") if carried is not None else None,
        "still_open": (
            sum(1 for s in status.values() if s == "still_open") if carried is not None else None
        ),
        "closed": len(carried.closed) if carried is not None else None,
        "at_stake": _amounts(at_stake),
        "p1_at_stake": _amounts(p1_at_stake),
        "actions": len(actions),
        "refunded": _amounts(refunded),
        "refunds_failed": sum(1 for a in actions if a.status == "failed"),
        "payouts": len(result.payouts),
        "payouts_settled": len(result.settlements),
    }
    return {
        "tenant_id": tenant.id,
        "tenant_name": tenant.name,
        "day": day.isoformat(),
        "headline": headline,
        "figures": _figures(result),
        "class_chart": class_chart,
        "priorities": priorities,
        "breaks_shown": shown,
        "breaks_hidden": len(breaks) - shown,
        "actions": action_rows,
        "action_counts": action_counts,
        "payouts": payouts[:payout_limit],
        "payouts_hidden": max(0, len(payouts) - payout_limit),
        "closed": closed,
        "carried": carried is not None,
        "csv_key": report_key(tenant.id, day, "report.csv"),
    }


def report_summary(context: Mapping[str, Any]) -> Json:
    """The headline part of a report context, for ``summary.json`` (no break lists: those are
    in the CSV)."""
    return {
        name: context[name]
        for name in ("tenant_id", "day", "headline", "figures", "class_chart", "action_counts")
    }


# -- the e-mail ------------------------------------------------------------------------------


def report_subject(context: Mapping[str, Any], tenant: TenantSettings) -> str:
    headline = context["headline"]
    what = (
        "all matched"
        if not headline["open"]
        else f"{headline['open']} open break{'s' if headline['open'] != 1 else ''}"
        f" ({headline['by_priority']['P1']} P1)"
    )
    return f"[{brand_of(tenant).display_name}] Reconciliation {context['day']}: {what}"


def render_report(
    result: ReconResult,
    carried: CarryResult | None,
    actions: Sequence[ActionTaken],
    tenant: TenantSettings,
    *,
    locale: str = DEFAULT_LOCALE,
    max_breaks: int = MAX_BREAKS_SHOWN,
    max_payouts: int = MAX_PAYOUTS_SHOWN,
) -> tuple[str, str, str]:
    """``(subject, html, text)`` of the day's report for the tenant's finance list."""
    context = report_context(
        result, carried, actions, tenant, max_breaks=max_breaks, max_payouts=max_payouts
    )
    subject = report_subject(context, tenant)
    html, text = render_pair(TEMPLATE, context, tenant, subject=subject, team=True, locale=locale)
    return subject, html, text


# -- the CSV ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "record_type",
    "tenant",
    "day",
    "record_id",
    "priority",
    "break_class",
    "status",
    "currency",
    "amount",
    "amount_decimal",
    "amount_formatted",
    "expected",
    "actual",
    "first_seen",
    "age_days",
    "order_id",
    "charge_ids",
    "dispute_id",
    "payout_id",
    "line_id",
    "keys",
    "explanation",
    "suggested_action",
    "refund_instructions",
    "actions_taken",
    "arrival_date",
    "booking_date",
    "bank_amount",
    "transaction_count",
    "gross_charges",
    "fees",
    "refunds",
    "disputes",
    "dispute_reversals",
    "dispute_fees",
    "adjustments",
    "net",
    "difference",
    "unknown_charge_count",
)

_FORMULA_START = re.compile(r"^[=+\-@\t\r]")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if _FORMULA_START.match(value) else value


def _amount_cells(amount: int, currency: str | None) -> dict[str, object]:
    if not currency:
        return {"amount": amount}
    return {
        "amount": amount,
        "amount_decimal": _decimal(amount, currency),
        "amount_formatted": format_money(amount, currency),
    }


def _payout_line(payout: PayoutExplanation) -> str:
    money = payout.currency
    parts = [
        f"{label} {format_money(amount, money, signed=True)}" + (f" ({count})" if count else "")
        for label, count, amount in payout.components
        if count or amount
    ]
    verdict = (
        "the payout equals the net of its transactions"
        if payout.difference == 0
        else "the payout differs from the net by "
        + format_money(payout.difference, money, signed=True)
    )
    return (
        f"{', '.join(parts) or 'no balance transactions'} = net "
        f"{format_money(payout.net, money)}; {verdict}"
    )


def _csv_rows(
    result: ReconResult, actions: Sequence[ActionTaken], carried: CarryResult | None
) -> Iterable[dict[str, object]]:
    base = {"tenant": result.tenant, "day": result.day.isoformat()}
    taken: dict[str, list[ActionTaken]] = defaultdict(list)
    for done in actions:
        taken[done.break_id].append(done)
    breaks, status = _dated(result, carried)
    breaks.sort(key=_break_order)
    for brk in breaks:
        suggested = brk.suggested_action
        yield {
            **base,
            "record_type": "break",
            "record_id": brk.break_id,
            "priority": brk.priority.value,
            "break_class": brk.break_class.value,
            "status": status[brk.break_id],
            "currency": brk.currency or "",
            **_amount_cells(brk.amount, brk.currency),
            "expected": "" if brk.expected is None else brk.expected,
            "actual": "" if brk.actual is None else brk.actual,
            "first_seen": brk.first_seen.isoformat(),
            "age_days": brk.age_days,
            "order_id": _text(brk.key("order_id")),
            "charge_ids": _text(" ".join(v for k, v in brk.keys if k == "charge_id")),
            "dispute_id": _text(brk.key("dispute_id")),
            "payout_id": _text(brk.key("payout_id")),
            "line_id": _text(brk.key("line_id")),
            "keys": _text("; ".join(f"{k}={v}" for k, v in brk.keys)),
            "explanation": _text(brk.explanation),
            "suggested_action": _text(suggested.description if suggested else ""),
            "refund_instructions": _text(
                "; ".join(
                    f"{r.charge_id} {format_money(r.amount, r.currency)} key={r.idempotency_key}"
                    for r in (suggested.refunds if suggested else ())
                )
            ),
            "actions_taken": _text(
                "; ".join(
                    f"{a.status} {a.charge_id} {format_money(a.amount, a.currency)}"
                    + (f": {a.detail}" if a.detail else "")
                    for a in taken.get(brk.break_id, ())
                )
            ),
        }
    for match in result.settlements:
        yield {
            **base,
            "record_type": "settlement",
            "record_id": _text(match.payout_id),
            "status": match.method,
            "currency": match.currency,
            **_amount_cells(match.payout_amount, match.currency),
            "payout_id": _text(match.payout_id),
            "line_id": match.line_id,
            "explanation": _text(
                f"Payout {match.payout_id} of "
                f"{format_money(match.payout_amount, match.currency)} arriving "
                f"{match.arrival_date.isoformat()} was paid by the bank credit of "
                f"{format_money(match.bank_amount, match.currency)} booked "
                f"{match.booking_date.isoformat()} "
                f"({SETTLEMENT_METHODS.get(match.method, match.method)})."
            ),
            "arrival_date": match.arrival_date.isoformat(),
            "booking_date": match.booking_date.isoformat(),
            "bank_amount": match.bank_amount,
            "difference": match.bank_amount - match.payout_amount,
        }
    settlement_of = {s.payout_id: s for s in result.settlements}
    for payout in result.payouts:
        settled = settlement_of.get(payout.payout_id)
        yield {
            **base,
            "record_type": "payout",
            "record_id": _text(payout.payout_id),
            "status": payout.status,
            "currency": payout.currency,
            **_amount_cells(payout.payout_amount, payout.currency),
            "payout_id": _text(payout.payout_id),
            "line_id": settled.line_id if settled else "",
            "explanation": _text(_payout_line(payout)),
            "arrival_date": payout.arrival_date.isoformat(),
            "booking_date": settled.booking_date.isoformat() if settled else "",
            "bank_amount": settled.bank_amount if settled else "",
            "transaction_count": payout.transaction_count,
            "gross_charges": payout.gross_charges,
            "fees": payout.fees,
            "refunds": payout.refunds,
            "disputes": payout.disputes,
            "dispute_reversals": payout.dispute_reversals,
            "dispute_fees": payout.dispute_fees,
            "adjustments": payout.adjustments,
            "net": payout.net,
            "difference": payout.difference,
            "unknown_charge_count": payout.unknown_charge_count,
        }


def report_csv(
    result: ReconResult,
    actions: Sequence[ActionTaken],
    *,
    carried: CarryResult | None = None,
) -> str:
    """Every break, settlement and payout explanation of the day, one row each (columns in
    the module docstring). ``carried`` adds ages and new/still-open to the break rows."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(_csv_rows(result, actions, carried))
    return out.getvalue()


# -- where it lands --------------------------------------------------------------------------

ReportPart = Literal["report.html", "report.csv", "summary.json"]
_PARTS: frozenset[str] = frozenset({"report.html", "report.csv", "summary.json"})
# The tenant id pattern of ``TenantSettings``: nothing that could climb out of the prefix.
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")


def report_key(tenant: str | TenantSettings, day: date, part: ReportPart = "report.html") -> str:
    """``reports/{tenant}/reconciliation/{yyyy}/{mm}/{dd}/{part}``: one folder per day, so a
    re-run of the day overwrites its own report and nothing else."""
    tenant_id = tenant.id if isinstance(tenant, TenantSettings) else tenant
    if not _TENANT_ID.match(tenant_id):
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    if part not in _PARTS:
        raise ValueError(f"not a report part: {part!r}")
    return f"reports/{tenant_id}/reconciliation/{day:%Y/%m/%d}/{part}"
