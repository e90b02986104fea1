"""The report's context: every figure the report shows, as plain JSON-ready values (money as
``{"amount": minor units, "currency": ISO code}``, dates as ISO strings), so that the same dict
feeds the e-mail's templates (``rendering``) and ``summary.json`` (``report_summary``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from functions.reconcile.domain.actions import ActionTaken
from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.engine import CarryResult, ReconResult, SettlementMatch
from functions.reconcile.domain.explain import PayoutExplanation
from functions.reconcile.domain.model import (
    PAYOUT_PAID,
    PAYOUT_PENDING,
    Break,
    BreakClass,
    Priority,
)
from functions.reconcile.domain.report.location import report_key
from functions.reconcile.domain.report.words import (
    ACTION_KIND_LABELS,
    ACTION_STATUSES,
    PRIORITY_LABELS,
    SETTLEMENT_METHODS,
    class_label,
)
from shared.tenants import TenantSettings

Json = dict[str, Any]

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


def _amounts(sums: Mapping[str, int]) -> list[Json]:
    return [
        money(amount, currency).model_dump()
        for currency, amount in sorted(sums.items())
        if currency
    ]


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


def report_order(brk: Break) -> tuple[str, str, int, int, str]:
    # Oldest and largest first within a class: what has waited longest is read first.
    return (brk.priority.value, brk.break_class.value, -brk.age_days, -brk.amount, brk.break_id)


# -- the context -----------------------------------------------------------------------------


def dated_breaks(
    result: ReconResult, carried: CarryResult | None
) -> tuple[list[Break], dict[str, str]]:
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
        "amount": money(action.amount, action.currency).model_dump(),
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
        "amount": money(brk.amount, currency).model_dump() if currency else None,
        "expected": (
            money(brk.expected, currency).model_dump()
            if currency and brk.expected is not None
            else None
        ),
        "actual": money(brk.actual, currency).model_dump()
        if currency and brk.actual is not None
        else None,
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
                        "amount": money(r.amount, r.currency).model_dump(),
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
                    "amount": money(amount, currency).model_dump(),
                    "matched": {
                        "count": split["matched"][0],
                        "amount": money(split["matched"][1], currency).model_dump(),
                    },
                    "broken": {
                        "count": split["broken"][0],
                        "amount": money(split["broken"][1], currency).model_dump(),
                    },
                    "parts": [
                        {
                            "bucket": bucket,
                            "label": labels[bucket],
                            "count": split[bucket][0],
                            "amount": money(split[bucket][1], currency).model_dump(),
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
                "refunds": {
                    "count": refund_count,
                    "amount": money(refunded, currency).model_dump(),
                },
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
        {"label": label, "count": count, "amount": money(amount, currency).model_dump()}
        for label, count, amount in payout.components
        if count or amount
    ]
    settled = (
        {
            "line_id": settlement.line_id,
            "method": settlement.method,
            "method_label": SETTLEMENT_METHODS.get(settlement.method, settlement.method),
            "booking_date": settlement.booking_date.isoformat(),
            "bank_amount": money(settlement.bank_amount, currency).model_dump(),
            "difference": money(
                settlement.bank_amount - settlement.payout_amount, currency
            ).model_dump(),
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
        "amount": money(payout.payout_amount, currency).model_dump(),
        "transaction_count": payout.transaction_count,
        "components": components,
        "net": money(payout.net, currency).model_dump(),
        "difference": money(payout.difference, currency).model_dump(),
        "explained": payout.difference == 0,
        "consistent": payout.consistent,
        "inconsistency": money(payout.net - payout.components_total, currency).model_dump(),
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
    breaks, status = dated_breaks(result, carried)
    breaks.sort(key=report_order)
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
            for brk in sorted(carried.closed, key=report_order)
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
