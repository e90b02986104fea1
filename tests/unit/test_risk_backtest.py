from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from functions.risk.domain import history_gen
from functions.risk.domain.backtest import (
    LabeledOrder,
    backtest,
    backtest_file,
    format_report,
    replay,
    write_history,
)
from functions.risk.domain.rules import (
    DEFAULT_RULESET,
    compile_ruleset,
    default_ruleset,
    evaluate,
    load_ruleset_text,
)
from functions.risk.domain.signals import SignalConfig
from shared.risk_lists import ListSet

CONFIG = SignalConfig(block=ListSet(bins=(history_gen.PLANTED_BIN,)))
BASELINE = (
    "tenant: demo\nversion: base\nrules:\n"
    "  - {id: big, action: review, when: 'amount > 80000', reason: big}\n"
)


@pytest.fixture(scope="module")
def history() -> list[LabeledOrder]:
    return history_gen.generate(3000, seed=11)


def test_backtest_finds_the_planted_catches(history: list[LabeledOrder]) -> None:
    rules = default_ruleset()
    decisions = {
        labeled.order.order_id: evaluate(rules, attrs).decision
        for labeled, attrs in replay(history, CONFIG)
    }
    flagged: dict[str, list[bool]] = defaultdict(list)
    for pattern, order_id in history_gen.planted_ids(history):
        flagged[pattern].append(decisions[order_id] != "allow")
    assert all(flagged["blocked_bin"]) and all(flagged["geo_ring"])
    burst = flagged["card_testing"]
    assert sum(burst) >= len(burst) - 5  # caught once the card has been seen five times
    assert sum(flagged["disposable"]) >= 0.9 * len(flagged["disposable"])

    report = backtest(history, rules, CONFIG, compile_ruleset(load_ruleset_text(BASELINE)))
    assert report.orders == 3000
    assert report.candidate.recall > 0.8 and report.candidate.precision > 0.8
    assert report.baseline is not None and report.baseline.recall < 0.5
    assert report.changes and all(c.baseline != c.candidate for c in report.changes)
    text = format_report(report)
    assert "precision" in text and "decisions that change" in text


def test_signals_never_see_later_orders(history: list[LabeledOrder]) -> None:
    full = {o.order.order_id: attrs for o, attrs in replay(history, CONFIG)}
    for cut in (200, 1500, 2999):
        cutoff = history[cut].order.occurred_at
        # The past as it was known at the cut: no later orders, no outcomes yet to come.
        past = [
            o.model_copy(update={"label": "fine", "refunded": False, "outcome_at": None})
            if o.outcome_at is not None and o.outcome_at >= cutoff
            else o
            for o in history[: cut + 1]
        ]
        partial = {o.order.order_id: attrs for o, attrs in replay(past, CONFIG)}
        for order_id, attrs in partial.items():
            assert full[order_id] == attrs, order_id


def test_backtest_file_roundtrip(tmp_path: Path, history: list[LabeledOrder]) -> None:
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(yaml.safe_dump(DEFAULT_RULESET, sort_keys=False))
    base_path = tmp_path / "base.yaml"
    base_path.write_text(BASELINE)
    data = tmp_path / "history.jsonl"
    write_history(data, history[:500])
    report = backtest_file(
        rules_path, data, base_path, {"block": {"bins": [history_gen.PLANTED_BIN]}}
    )
    assert report.orders == 500
    assert report.ruleset_version == "default/1" and report.baseline_version == "demo/base"


def test_fifty_thousand_orders_the_backtest_reports_every_planted_pattern() -> None:
    history = history_gen.generate(50_000, seed=5)
    planted: dict[str, set[str]] = defaultdict(set)
    for pattern, order_id in history_gen.planted_ids(history):
        planted[pattern].add(order_id)
    assert set(planted) == {"card_testing", "geo_ring", "disposable", "blocked_bin"}
    rules = default_ruleset()

    report = backtest(history, rules, CONFIG)

    # Flagged by rule, whatever the order's label (some planted disposable e-mails are honest).
    flagged = report.candidate.caught_by_rule + report.candidate.false_positives_by_rule
    assert report.orders == 50_000
    # Each pattern is flagged by the rule written for it, once per planted order (card
    # testing: from the sixth use of the card in the hour).
    assert flagged["block-lists"] >= len(planted["blocked_bin"])
    assert flagged["review-geo-mismatch"] >= len(planted["geo_ring"])
    assert flagged["review-disposable-email"] >= len(planted["disposable"])
    assert flagged["block-card-testing"] >= len(planted["card_testing"]) - 10
    assert report.candidate.precision > 0.7
    assert report.candidate.recall > 0.75  # background fraud outside the patterns stays
