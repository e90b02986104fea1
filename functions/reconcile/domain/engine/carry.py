"""Breaks across days: today's against those still open, and which earlier breaks today's
inputs can judge at all."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from functions.reconcile.domain.engine.results import CarryResult, break_order
from functions.reconcile.domain.model import Break, DayInputs


def carry_forward(previous_open: list[Break], today: list[Break], as_of: date) -> CarryResult:
    """Today's breaks against the ones still open before today.

    A break whose id is in both stays open with the earlier ``first_seen`` and its age in days
    (today's amounts and explanation, which may have moved); one only today is opened; one only
    before is closed (resolved). ``today`` must come from a run whose inputs covered the keys of
    ``previous_open`` (the store passes only those in today's scope), or a break out of scope
    would read as resolved.
    """
    before = {brk.break_id: brk for brk in previous_open}
    seen: set[str] = set()
    opened: list[Break] = []
    still_open: list[Break] = []
    for brk in today:
        if brk.break_id in seen:
            continue
        seen.add(brk.break_id)
        earlier = before.get(brk.break_id)
        if earlier is None:
            opened.append(replace(brk, age_days=max(0, (as_of - brk.first_seen).days)))
        else:
            first = min(earlier.first_seen, brk.first_seen)
            still_open.append(replace(brk, first_seen=first, age_days=(as_of - first).days))
    closed = [brk for brk in before.values() if brk.break_id not in seen]
    return CarryResult(
        opened=sorted(opened, key=break_order),
        still_open=sorted(still_open, key=break_order),
        closed=sorted(closed, key=break_order),
    )


def split_by_scope(previous: list[Break], inputs: DayInputs) -> tuple[list[Break], list[Break]]:
    """Earlier breaks whose every key today's inputs hold (so their absence today means
    resolved), and the others. The key sets are built once per run, not per break."""
    if not previous:
        return [], []
    loaded = {
        "order_id": {o.order_id for o in inputs.orders}
        | {c.order_id or "" for c in inputs.charges},
        "payment_id": {c.payment_id for c in inputs.charges},
        "charge_id": {c.charge_id for c in inputs.charges},
        "payout_id": {p.payout_id for p in inputs.payouts},
        "line_id": {line.line_id for line in inputs.bank_lines},
        "dispute_id": {d.dispute_id for d in inputs.disputes},
    }
    in_scope: list[Break] = []
    out_of_scope: list[Break] = []
    for brk in previous:
        held = all(value in loaded[name] for name, value in brk.keys if name in loaded)
        (in_scope if held else out_of_scope).append(brk)
    return in_scope, out_of_scope
