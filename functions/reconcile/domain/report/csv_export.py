"""The report's CSV (``report_csv``): one row per break, per settlement (a payout paired with
the bank line that paid it) and per payout explanation, in that order; a column
(``CSV_COLUMNS``) that means nothing for a row's type is empty. Amounts are integers of minor
units unless the name says otherwise.

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
from collections.abc import Iterable, Sequence

from functions.reconcile.domain.actions import ActionTaken
from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.engine import CarryResult, ReconResult
from functions.reconcile.domain.explain import PayoutExplanation
from functions.reconcile.domain.report.context import dated_breaks, report_order
from functions.reconcile.domain.report.words import SETTLEMENT_METHODS

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
        "amount_decimal": money(amount, currency).decimal_text(),
        "amount_formatted": money(amount, currency).format(grouping=True),
    }


def _payout_line(payout: PayoutExplanation) -> str:
    currency = payout.currency
    parts = [
        f"{label} {money(amount, currency).format(grouping=True, signed=True)}"
        + (f" ({count})" if count else "")
        for label, count, amount in payout.components
        if count or amount
    ]
    verdict = (
        "the payout equals the net of its transactions"
        if payout.difference == 0
        else "the payout differs from the net by "
        + money(payout.difference, currency).format(grouping=True, signed=True)
    )
    return (
        f"{', '.join(parts) or 'no balance transactions'} = net "
        f"{money(payout.net, currency).format(grouping=True)}; {verdict}"
    )


def _csv_rows(
    result: ReconResult, actions: Sequence[ActionTaken], carried: CarryResult | None
) -> Iterable[dict[str, object]]:
    base = {"tenant": result.tenant, "day": result.day.isoformat()}
    taken: dict[str, list[ActionTaken]] = defaultdict(list)
    for done in actions:
        taken[done.break_id].append(done)
    breaks, status = dated_breaks(result, carried)
    breaks.sort(key=report_order)
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
                    f"{r.charge_id} {money(r.amount, r.currency).format(grouping=True)} "
                    f"key={r.idempotency_key}"
                    for r in (suggested.refunds if suggested else ())
                )
            ),
            "actions_taken": _text(
                "; ".join(
                    f"{a.status} {a.charge_id} {money(a.amount, a.currency).format(grouping=True)}"
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
                f"{money(match.payout_amount, match.currency).format(grouping=True)} arriving "
                f"{match.arrival_date.isoformat()} was paid by the bank credit of "
                f"{money(match.bank_amount, match.currency).format(grouping=True)} booked "
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
