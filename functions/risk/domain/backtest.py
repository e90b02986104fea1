"""Backtest: what a ruleset would have decided on past orders whose outcome is now known.

Orders are replayed in the order they were placed. Each order's signals come from velocity
counters and customer histories kept in memory (``velocity.VelocityTally``,
``customers.CustomerTimeline``) that hold only what had happened before it: earlier orders are
recorded after they are screened, and an outcome (a chargeback, a refund) becomes visible only
from the moment it happened. Signals are computed once per order and both rulesets — the
candidate and the baseline — are evaluated on the same attributes.

A decision of ``block`` or ``review`` "flags" an order: a flagged fraud is caught, a flagged
fine order is a false positive.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from functions.risk.domain.customers import CustomerHistory, CustomerTimeline, customer_key
from functions.risk.domain.rules import CompiledRuleset, Decision, evaluate, load_ruleset
from functions.risk.domain.signals import SignalConfig, compute, velocity_keys
from functions.risk.domain.velocity import VelocityTally
from shared.event_parts import Card, OrderPlaced
from shared.order_aggregate import FRAUD_CANCELLATIONS, OrderState

Label = Literal["fraud_chargeback", "refunded_fraud", "fine"]
FRAUD_LABELS: frozenset[str] = frozenset({"fraud_chargeback", "refunded_fraud"})


class LabeledOrder(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    order: OrderPlaced
    card: Card | None = None
    label: Label = "fine"
    outcome_at: datetime | None = None
    refunded: bool = False
    # What screening or a reviewer decided then; "block"/"rejected" feed fraud decisions.
    decision_then: str | None = None

    @property
    def is_fraud(self) -> bool:
        return self.label in FRAUD_LABELS


def label(
    state: OrderState, stage: dict[str, str] | None, screening: dict[str, Any] | None
) -> LabeledOrder | None:
    """A stored order labelled by what happened to it afterwards (None without the order):

    - ``fraud_chargeback``: a dispute with reason ``fraudulent`` (from when it was opened);
    - ``refunded_fraud``: cancelled because screening blocked it or a reviewer rejected it
      (the lifecycle's cancellation reason, from when it was cancelled);
    - ``fine``: everything else.

    The card is the one the gateway reported on the order's payment; ``decision_then`` is what
    screening decided, or ``rejected`` when a reviewer did."""
    order = state.order
    if order is None:
        return None
    card = None
    for payment in sorted(state.payments.values(), key=lambda p: p.payment_id):
        if payment.card is not None:
            card = Card.model_validate(payment.card.value)
            break
    fraud_disputes = [d for d in state.disputes.values() if d.reason == "fraudulent"]
    decision_then = (screening or {}).get("decision")
    stage = stage or {}
    cancelled_for = stage.get("detail") if stage.get("stage") == "cancelled" else None
    if cancelled_for == "rejected_in_review":
        decision_then = "rejected"
    if fraud_disputes:
        first = min(fraud_disputes, key=lambda d: d.opened_at or order.occurred_at)
        return LabeledOrder(
            order=order,
            card=card,
            label="fraud_chargeback",
            outcome_at=first.opened_at or order.occurred_at,
            decision_then=decision_then,
        )
    if cancelled_for in FRAUD_CANCELLATIONS:
        when = stage.get("updated_at")
        return LabeledOrder(
            order=order,
            card=card,
            label="refunded_fraud",
            outcome_at=datetime.fromisoformat(when) if when else order.occurred_at,
            refunded=state.refunded() > 0,
            decision_then=decision_then,
        )
    return LabeledOrder(
        order=order, card=card, refunded=state.refunded() > 0, decision_then=decision_then
    )


@dataclass(frozen=True)
class StoredOrder:
    """An order as the table keeps it, with what the lifecycle recorded about it: its stage
    (``WORKFLOW``) and its screening (``SCREENING``), each None if there is none."""

    state: OrderState
    stage: dict[str, str] | None = None
    screening: dict[str, Any] | None = None


def label_all(stored: Iterable[StoredOrder]) -> list[LabeledOrder]:
    """Every stored order that has an order, labelled."""
    labeled = (label(s.state, s.stage, s.screening) for s in stored)
    return [entry for entry in labeled if entry is not None]


def replay(
    orders: Iterable[LabeledOrder], config: SignalConfig
) -> Iterator[tuple[LabeledOrder, dict[str, Any]]]:
    """Each order with its attributes as they were when it was placed."""
    velocity = VelocityTally()
    history = CustomerTimeline()
    timeline = sorted(orders, key=lambda o: (o.order.occurred_at, o.order.order_id))
    for labeled in timeline:
        order = labeled.order
        who = customer_key(order)
        past = history.history(order.tenant, who, order.occurred_at) if who else CustomerHistory()
        counts = velocity.observe(
            order.tenant,
            order.order_id,
            velocity_keys(order, labeled.card),
            order.occurred_at,
            order.total.amount,
        )
        yield labeled, compute(order, config, counts, past, labeled.card)
        if not who:
            continue
        history.add(order.tenant, who, order.occurred_at, "order", order.total.amount)
        if labeled.decision_then in {"block", "rejected"}:
            history.add(order.tenant, who, order.occurred_at, "fraud_decision")
        outcome_at = labeled.outcome_at or order.occurred_at
        if labeled.label == "fraud_chargeback":
            history.add(order.tenant, who, outcome_at, "chargeback")
        if labeled.refunded or labeled.label == "refunded_fraud":
            history.add(order.tenant, who, outcome_at, "refund")


@dataclass(frozen=True)
class Change:
    order_id: str
    label: Label
    baseline: str
    candidate: str
    reasons: tuple[str, ...]


@dataclass
class Score:
    flagged_fraud: int = 0
    flagged_fine: int = 0
    fraud: int = 0
    fine: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    caught_by_rule: Counter[str] = field(default_factory=Counter)
    false_positives_by_rule: Counter[str] = field(default_factory=Counter)

    def add(self, labeled: LabeledOrder, decision: Decision) -> None:
        self.decisions[decision.decision] += 1
        flagged = decision.decision != "allow"
        if labeled.is_fraud:
            self.fraud += 1
            self.flagged_fraud += flagged
            if flagged:
                for match in decision.matched:
                    self.caught_by_rule[match.rule_id] += 1
        else:
            self.fine += 1
            self.flagged_fine += flagged
            if flagged:
                for match in decision.matched:
                    self.false_positives_by_rule[match.rule_id] += 1

    @property
    def precision(self) -> float:
        flagged = self.flagged_fraud + self.flagged_fine
        return self.flagged_fraud / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        return self.flagged_fraud / self.fraud if self.fraud else 0.0


@dataclass
class BacktestReport:
    ruleset_version: str
    baseline_version: str | None
    orders: int
    candidate: Score
    baseline: Score | None
    changes: list[Change]


def backtest(
    orders: Iterable[LabeledOrder],
    candidate: CompiledRuleset,
    config: SignalConfig,
    baseline: CompiledRuleset | None = None,
    since: datetime | None = None,
) -> BacktestReport:
    """``since`` limits what is scored, not what is replayed: earlier orders still build the
    velocity and history that later ones are screened with."""
    scored = Score()
    base_score = Score() if baseline else None
    changes: list[Change] = []
    count = 0
    for labeled, attributes in replay(orders, config):
        if since is not None and labeled.order.occurred_at < since:
            continue
        count += 1
        decision = evaluate(candidate, attributes)
        scored.add(labeled, decision)
        if baseline is not None and base_score is not None:
            before = evaluate(baseline, attributes)
            base_score.add(labeled, before)
            if before.decision != decision.decision:
                changes.append(
                    Change(
                        labeled.order.order_id,
                        labeled.label,
                        before.decision,
                        decision.decision,
                        decision.reasons or before.reasons,
                    )
                )
    return BacktestReport(
        candidate.version,
        baseline.version if baseline else None,
        count,
        scored,
        base_score,
        changes,
    )


def _score_lines(name: str, score: Score) -> list[str]:
    return [
        f"{name}: fraud caught {score.flagged_fraud}/{score.fraud}, "
        f"false positives {score.flagged_fine}/{score.fine}, "
        f"precision {score.precision:.3f}, recall {score.recall:.3f}, "
        f"decisions {dict(sorted(score.decisions.items()))}",
    ]


def format_report(report: BacktestReport, max_changes: int = 20) -> str:
    lines = [f"orders scored: {report.orders}"]
    lines += _score_lines(f"candidate {report.ruleset_version}", report.candidate)
    if report.candidate.caught_by_rule:
        lines.append(f"  fraud caught per rule: {dict(report.candidate.caught_by_rule)}")
    if report.candidate.false_positives_by_rule:
        fps = dict(report.candidate.false_positives_by_rule)
        lines.append(f"  false positives per rule: {fps}")
    if report.baseline is not None:
        lines += _score_lines(f"baseline  {report.baseline_version}", report.baseline)
        lines.append(f"decisions that change: {len(report.changes)}")
        for change in report.changes[:max_changes]:
            why = "; ".join(change.reasons) or "-"
            lines.append(
                f"  {change.order_id} ({change.label}): {change.baseline} -> {change.candidate}"
                f"  {why}"
            )
        if len(report.changes) > max_changes:
            lines.append(f"  … and {len(report.changes) - max_changes} more")
    return "\n".join(lines)


def read_history(path: str | Path) -> list[LabeledOrder]:
    """JSON lines, one ``LabeledOrder`` each (what ``history_gen`` writes)."""
    with Path(path).open() as lines:
        return [LabeledOrder.model_validate_json(line) for line in lines if line.strip()]


def write_history(path: str | Path, orders: Iterable[LabeledOrder]) -> None:
    with Path(path).open("w") as out:
        for labeled in orders:
            out.write(labeled.model_dump_json(exclude_defaults=True) + "\n")


def backtest_file(
    rules: str | Path,
    history: str | Path | Iterable[LabeledOrder],
    baseline: str | Path | None = None,
    config: SignalConfig | dict[str, Any] | None = None,
    since: datetime | None = None,
) -> BacktestReport:
    """Entry point for ``ecomops risk backtest``: raises ``RulesetInvalid`` for a bad file."""
    candidate = load_ruleset(rules)
    base = load_ruleset(baseline) if baseline is not None else None
    orders = read_history(history) if isinstance(history, str | Path) else list(history)
    settings = config if isinstance(config, SignalConfig) else SignalConfig(**(config or {}))
    return backtest(orders, candidate, settings, base, since)


def report_json(report: BacktestReport) -> str:
    def score(s: Score | None) -> dict[str, Any] | None:
        if s is None:
            return None
        return {
            "fraud": s.fraud,
            "fine": s.fine,
            "caught": s.flagged_fraud,
            "false_positives": s.flagged_fine,
            "precision": round(s.precision, 4),
            "recall": round(s.recall, 4),
            "decisions": dict(s.decisions),
        }

    return json.dumps(
        {
            "ruleset_version": report.ruleset_version,
            "baseline_version": report.baseline_version,
            "orders": report.orders,
            "candidate": score(report.candidate),
            "baseline": score(report.baseline),
            "changes": [c.__dict__ for c in report.changes],
        },
        default=list,
    )
