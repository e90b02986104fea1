"""Payouts ↔ bank: which bank credit settled which payout, and what is left.

Candidates are the credits that look like a gateway settlement. Payouts pair with them by
identity (payout id, trace id, a descriptor no other payout shares), then by currency and
amount within the date window, then leftovers as short or excess payments; what remains is a
missing settlement (past the grace days) or an unknown bank credit. Every pairing is one to
one and found through dicts and bisect over booking dates, never by comparing pairs.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable
from operator import attrgetter

from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.bank.model import BankLine
from functions.reconcile.domain.engine.day import DayRun
from functions.reconcile.domain.engine.results import SettlementMatch
from functions.reconcile.domain.model import (
    PAYOUT_FAILED_AFTER_PAID,
    PAYOUT_PAID,
    PAYOUT_PENDING,
    BreakClass,
    PayoutRecord,
    SuggestedAction,
)

_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9_\-]*")


def _norm(text: str) -> str:
    return " ".join(_TOKEN.findall(text.upper()))


_EXPECTED_IN_BANK = frozenset({PAYOUT_PAID, PAYOUT_FAILED_AFTER_PAID, PAYOUT_PENDING})


class Pairing:
    """One-to-one pairing of payouts (by index) with bank lines (by index)."""

    def __init__(self, payout_days: list[int], line_days: list[int], window: int) -> None:
        self.payout_count = len(payout_days)
        self.line_count = len(line_days)
        self.payout_days = payout_days
        self.line_days = line_days
        self.window = window
        self.line_of: dict[int, int] = {}
        self.payout_of: dict[int, int] = {}
        self.method: dict[int, str] = {}

    def pair(self, i: int, j: int, method: str) -> None:
        self.line_of[i], self.payout_of[j] = j, i
        self.method[i] = method

    def free_payouts(self) -> list[int]:
        return [i for i in range(self.payout_count) if i not in self.line_of]

    def free_lines(self) -> list[int]:
        return [j for j in range(self.line_count) if j not in self.payout_of]

    def in_window(self, i: int, group: list[int] | None) -> list[tuple[int, int]]:
        """(date distance, line) for the lines of ``group`` (sorted by booking date) booked
        within the window around payout ``i``'s arrival date."""
        if not group:
            return []
        when, day_of = self.payout_days[i], self.line_days.__getitem__
        lo = bisect.bisect_left(group, when - self.window, key=day_of)
        hi = bisect.bisect_right(group, when + self.window, key=day_of)
        return [(abs(day_of(j) - when), j) for j in group[lo:hi]]

    def greedy(
        self,
        ranked: list[tuple[int, int, str, str, int, int]],
        method: Callable[[int, int], str],
    ) -> None:
        """Best-ranked pair first; a payout or a line already paired is skipped."""
        for *_, i, j in sorted(ranked):
            if i not in self.line_of and j not in self.payout_of:
                self.pair(i, j, method(i, j))


def settlement_candidates(run: DayRun) -> list[BankLine]:
    """Bank credits that look like a gateway settlement: a trace id, or a settlement pattern
    in the counterparty or remittance. Other credits (a customer's bank transfer, interest)
    and debits are not ours to explain: they are only counted."""
    patterns = run.config.settlement_patterns
    looks_like_settlement = (
        re.compile("|".join(map(re.escape, patterns)), re.IGNORECASE).search if patterns else None
    )
    ledger = run.ledger
    lines: list[BankLine] = []
    for line in run.inputs.bank_lines:
        if line.tenant != run.tenant:
            raise ValueError(f"bank line of tenant {line.tenant} in {run.tenant}'s day")
        if line.direction != "credit":
            ledger.add("bank_debits.all", line.currency, 1, line.amount)
        elif line.trace_id or (
            looks_like_settlement is not None
            and (
                looks_like_settlement(line.remittance)
                or looks_like_settlement(line.counterparty or "")
            )
        ):
            lines.append(line)
        else:
            ledger.add("bank.not_settlement", line.currency, 1, line.amount)
    return lines


def payouts_and_bank(run: DayRun) -> None:
    config = run.config
    tol = config.amount_tolerance
    candidates = settlement_candidates(run)
    # A statement loaded twice gives the same line ids: one credit, not two. Indexed in
    # line-id order, so that the file's order cannot change a tie-break.
    unique_lines = {line.line_id: line for line in candidates}
    line_ids = sorted(unique_lines)
    lines = [unique_lines[line_id] for line_id in line_ids]
    del unique_lines, candidates
    line_days = [line.booking_date.toordinal() for line in lines]
    expected = sorted(
        (p for p in run.inputs.payouts if p.status in _EXPECTED_IN_BANK and p.amount > 0),
        key=attrgetter("payout_id"),
    )
    payout_days = [p.arrival_date.toordinal() for p in expected]
    match = Pairing(payout_days, line_days, config.date_window_days)

    # 1. By identity: the payout id, its trace id, or a descriptor no other payout shares.
    for i, j in identity_claims(run, expected, lines, line_days, payout_days, line_ids):
        diff = lines[j].amount - expected[i].amount
        match.pair(i, j, "id" if abs(diff) <= tol else "short" if diff < 0 else "excess")

    # 2. By currency and amount, one to one, nearest booking date first.
    by_amount: dict[tuple[str, int], list[int]] = defaultdict(list)
    for j in match.free_lines():
        by_amount[(lines[j].currency, lines[j].amount)].append(j)
    for group in by_amount.values():
        group.sort(key=line_days.__getitem__)
    ranked: list[tuple[int, int, str, str, int, int]] = []
    for i in match.free_payouts():
        payout = expected[i]
        for dist, j in match.in_window(i, by_amount.get((payout.currency, payout.amount))):
            ranked.append((dist, 0, payout.payout_id, line_ids[j], i, j))
    match.greedy(ranked, lambda i, j: "amount")

    # 3. Leftovers of one currency within the window pair as a short or an excess payment:
    # closest amount first, then closest date, then ids; only when the amounts differ by at
    # most ``pairing_max_difference_bp`` of the payout (else they are unrelated).
    by_currency: dict[str, list[int]] = defaultdict(list)
    for j in match.free_lines():
        by_currency[lines[j].currency].append(j)
    for group in by_currency.values():
        group.sort(key=line_days.__getitem__)
    ranked = []
    limit = config.pairing_max_difference_bp
    for i in match.free_payouts():
        payout = expected[i]
        for dist, j in match.in_window(i, by_currency.get(payout.currency)):
            diff = abs(lines[j].amount - payout.amount)
            if diff * 10_000 <= limit * payout.amount:
                ranked.append((diff, dist, payout.payout_id, line_ids[j], i, j))

    def leftover(i: int, j: int) -> str:
        diff = lines[j].amount - expected[i].amount
        return "amount" if abs(diff) <= tol else "short" if diff < 0 else "excess"

    match.greedy(ranked, leftover)

    # 4. What each pairing and each leftover means; every payout lands in one category.
    ledger = run.ledger
    day = run.day.toordinal()
    for i, payout in enumerate(expected):
        paired = match.line_of.get(i)
        if paired is not None:
            settled(run, payout, lines[paired], line_ids[paired], match.method[i])
        if payout.status == PAYOUT_FAILED_AFTER_PAID:
            ledger.add("payouts.failed_after_paid", payout.currency, 1, payout.amount)
            failed_after_paid(run, payout, lines[paired] if paired is not None else None)
        elif paired is not None:
            continue
        elif payout.status == PAYOUT_PENDING:
            ledger.add("payouts.pending", payout.currency, 1, payout.amount)
        elif day - payout_days[i] > config.grace_days:
            ledger.add("payouts.missing", payout.currency, 1, payout.amount)
            missing_settlement(run, payout, day - payout_days[i])
        else:
            ledger.add("payouts.awaiting_settlement", payout.currency, 1, payout.amount)
    expected_ids = {p.payout_id for p in expected}
    for payout in run.inputs.payouts:
        if payout.payout_id not in expected_ids:
            ledger.add("payouts.not_expected", payout.currency, 1, payout.amount)
    for j in match.free_lines():
        unknown_credit(run, lines[j], line_ids[j])


def identity_claims(
    run: DayRun,
    expected: list[PayoutRecord],
    lines: list[BankLine],
    line_days: list[int],
    payout_days: list[int],
    line_ids: list[str],
) -> list[tuple[int, int]]:
    """(payout, line) pairs named by an id the bank shows. A line naming two payouts names
    none; a payout named by two lines takes the nearest by date (then line id)."""
    index: dict[str, int] = {}
    descriptors: dict[tuple[str, ...], list[int]] = defaultdict(list)
    generic = {_norm(p) for p in run.config.settlement_patterns}
    for i, payout in enumerate(expected):
        index[payout.payout_id.upper()] = i
        if payout.trace_id:
            index[payout.trace_id.upper()] = i
        if payout.statement_descriptor:
            named = tuple(_TOKEN.findall(payout.statement_descriptor.upper()))
            # "STRIPE" alone names every payout, so it names none.
            if named and " ".join(named) not in generic:
                descriptors[named].append(i)
    unique = {named: hits[0] for named, hits in descriptors.items() if len(hits) == 1}
    lengths = sorted({len(named) for named in unique})
    claims: dict[int, list[int]] = defaultdict(list)
    for j, line in enumerate(lines):
        hit = index.get(line.trace_id.upper()) if line.trace_id else None
        if hit is None:
            refs = (
                line.end_to_end_id,
                line.customer_ref,
                line.bank_ref,
                line.counterparty,
                line.remittance,
            )
            words = _TOKEN.findall(" ".join(filter(None, refs)).upper())
            hits = {index[w] for w in words if w in index}
            for n in lengths:
                for k in range(len(words) - n + 1):
                    found = unique.get(tuple(words[k : k + n]))
                    if found is not None:
                        hits.add(found)
            if len(hits) == 1:
                (hit,) = hits
        if hit is not None and expected[hit].currency == line.currency:
            claims[hit].append(j)
    return [
        (
            i,
            min(claimants, key=lambda j: (abs(line_days[j] - payout_days[i]), line_ids[j])),
        )
        for i, claimants in sorted(claims.items())
    ]


def missing_settlement(run: DayRun, payout: PayoutRecord, overdue: int) -> None:
    run.add_break(
        BreakClass.MISSING_SETTLEMENT,
        (("payout_id", payout.payout_id),),
        currency=payout.currency,
        amount=payout.amount,
        expected=payout.amount,
        actual=0,
        action=SuggestedAction(
            kind="chase_settlement",
            description=f"Ask the gateway for the trace of payout {payout.payout_id} and the "
            "bank whether it arrived.",
        ),
        explanation=(
            f"Payout {payout.payout_id} of "
            f"{money(payout.amount, payout.currency).format(grouping=True)} was due "
            f"on {payout.arrival_date.isoformat()} ({overdue} days ago, grace "
            f"{run.config.grace_days}) and no bank credit matches it."
        ),
    )


def unknown_credit(run: DayRun, line: BankLine, line_id: str) -> None:
    run.ledger.add("bank.unknown", line.currency, 1, line.amount)
    refs = tuple(
        (name, value)
        for name, value in (
            ("trace_id", line.trace_id),
            ("end_to_end_id", line.end_to_end_id),
            ("bank_ref", line.bank_ref),
        )
        if value
    )
    shown = " ".join(filter(None, ((line.counterparty or "").strip(), line.remittance.strip())))
    run.add_break(
        BreakClass.UNKNOWN_BANK_CREDIT,
        (("line_id", line_id),),
        keys=refs,
        currency=line.currency,
        amount=line.amount,
        actual=line.amount,
        explanation=(
            f"Bank credit of {money(line.amount, line.currency).format(grouping=True)} booked "
            f"{line.booking_date.isoformat()} ({shown or 'no text'}; {line.source.file} line "
            f"{line.source.line_no}) looks like a gateway settlement but matches no payout."
        ),
    )


def settled(run: DayRun, payout: PayoutRecord, line: BankLine, line_id: str, method: str) -> None:
    ledger = run.ledger
    category = {"id": "matched_by_id", "amount": "matched_by_amount"}.get(method, method)
    if payout.status != PAYOUT_FAILED_AFTER_PAID:
        ledger.add(f"payouts.{category}", payout.currency, 1, payout.amount)
    ledger.add(f"bank.{category}", line.currency, 1, line.amount)
    run.settlements.append(
        SettlementMatch(
            payout_id=payout.payout_id,
            line_id=line_id,
            method=method,
            payout_amount=payout.amount,
            bank_amount=line.amount,
            currency=payout.currency,
            arrival_date=payout.arrival_date,
            booking_date=line.booking_date,
        )
    )
    if method not in ("short", "excess"):
        return
    diff = line.amount - payout.amount
    short = diff < 0
    run.add_break(
        BreakClass.SHORT_PAYMENT if short else BreakClass.EXCESS_PAYMENT,
        (("payout_id", payout.payout_id),),
        keys=(("line_id", line_id),),
        currency=payout.currency,
        amount=abs(diff),
        expected=payout.amount,
        actual=line.amount,
        explanation=(
            f"Payout {payout.payout_id} of "
            f"{money(payout.amount, payout.currency).format(grouping=True)} "
            f"(arriving {payout.arrival_date.isoformat()}) arrived as "
            f"{money(line.amount, line.currency).format(grouping=True)} on "
            f"{line.booking_date.isoformat()}: "
            f"{money(abs(diff), payout.currency).format(grouping=True)} "
            f"{'less' if short else 'more'} than paid out."
        ),
    )


def failed_after_paid(run: DayRun, payout: PayoutRecord, line: BankLine | None) -> None:
    seen = (
        f"the bank shows its credit on {line.booking_date.isoformat()}; expect the bank to "
        "return it (a debit) and the gateway to restore its balance"
        if line is not None
        else "no bank credit matches it"
    )
    run.add_break(
        BreakClass.PAYOUT_FAILED_AFTER_PAID,
        (("payout_id", payout.payout_id),),
        currency=payout.currency,
        amount=payout.amount,
        expected=payout.amount,
        actual=line.amount if line is not None else 0,
        action=SuggestedAction(
            kind="chase_settlement",
            description=f"Check the bank account details of payout {payout.payout_id} with "
            "the gateway and confirm the funds returned to the balance.",
        ),
        explanation=(
            f"Payout {payout.payout_id} of "
            f"{money(payout.amount, payout.currency).format(grouping=True)} failed "
            f"after the gateway reported it paid; {seen}."
        ),
    )
