"""The bank sandbox: payouts the gateway sandbox paid out land on a day's statement, planted
anomalies are there as planted, every format it writes parses back and checks out, and the
same seed gives the same files."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest

from functions.reconcile.domain.bank import parse
from local.sandboxes.bank import (
    BankSandbox,
    Entry,
    Statement,
    iter_camt053,
    write_bai2,
    write_mt940,
)
from local.sandboxes.stripe_sandbox import DAY, StripeSandbox

ARRIVAL = date(2026, 3, 4)
FORMATS = ("camt053", "mt940", "bai2", "csv")


def gateway_payouts(currency: str = "eur", count: int = 4) -> list[dict[str, Any]]:
    """Real payout objects from the gateway sandbox: a few payments, then one payout per
    batch of payments, all arriving on ARRIVAL."""
    start = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    gateway = StripeSandbox(seed=5, clock=lambda: start)
    arrival = int(datetime.combine(ARRIVAL, datetime.min.time(), UTC).timestamp())
    payouts = []
    for n in range(count):
        for amount in (4_900, 12_500 + n):
            answer = gateway.request(
                "POST",
                "/v1/payment_intents",
                {
                    "amount": amount,
                    "currency": currency,
                    "confirm": "true",
                    "payment_method": "pm_card_visa",
                },
            )
            assert answer.status == 200, answer.body
        payout = gateway.pay_out(currency, arrival, as_of=gateway.now() + 10 * DAY)
        assert payout is not None
        payouts.append(payout)
    return payouts


def test_payouts_are_credited_with_their_ids_and_traces() -> None:
    payouts = gateway_payouts()
    day = BankSandbox(tenant="acme", seed=1, noise=4).day(ARRIVAL, payouts)
    assert day.anomalies == []
    assert sorted(day.settled) == sorted(p["id"] for p in payouts)
    (statement,) = day.statements
    assert statement.currency == "EUR"
    assert len(statement.entries) == len(payouts) + 4
    parsed = parse(day.write("camt053"), tenant="acme", file="day.xml")
    credits = {line.end_to_end_id: line for line in parsed.lines if line.end_to_end_id}
    for payout in payouts:
        line = credits[payout["id"]]
        assert (line.direction, line.amount, line.currency) == ("credit", payout["amount"], "EUR")
        assert line.trace_id == payout["trace_id"]["value"]
        assert payout["id"] in line.remittance
        assert line.booking_date == ARRIVAL


def test_planted_anomalies() -> None:
    payouts = gateway_payouts(count=6)
    ids = [p["id"] for p in payouts]
    plan = {
        ids[0]: "short",
        ids[1]: "excess",
        ids[2]: "missing",
        ids[3]: "duplicate",
        ids[4]: "stripe_only",
    }
    bank = BankSandbox(tenant="acme", seed=2, noise=8)
    day = bank.day(ARRIVAL, payouts, anomalies=plan, unknown_credits=2)  # type: ignore[arg-type]
    kinds = Counter(a.kind for a in day.anomalies)
    assert kinds == {
        "short": 1,
        "excess": 1,
        "missing": 1,
        "duplicate": 1,
        "stripe_only": 1,
        "unknown_credit": 2,
    }
    assert day.settled == [ids[5]]
    by_kind = {a.kind: a for a in day.anomalies if a.payout_id}
    assert by_kind["short"].booked < by_kind["short"].expected
    assert by_kind["excess"].booked > by_kind["excess"].expected
    assert by_kind["missing"].booked == 0
    assert by_kind["duplicate"].booked == 2 * by_kind["duplicate"].expected
    lines = parse(day.write("camt053"), tenant="acme", file="day.xml").lines
    named = Counter(line.end_to_end_id for line in lines)
    assert ids[2] not in named
    assert named[ids[3]] == 2
    assert named[ids[0]] == named[ids[1]] == 1
    short = next(line for line in lines if line.end_to_end_id == ids[0])
    assert short.amount == by_kind["short"].booked
    stripe_only = [line for line in lines if line.remittance == "STRIPE"]
    assert len(stripe_only) == 1
    assert stripe_only[0].trace_id is None and stripe_only[0].end_to_end_id is None
    assert stripe_only[0].amount == by_kind["stripe_only"].expected
    unknown = [a.booked for a in day.anomalies if a.kind == "unknown_credit"]
    assert all(any(line.amount == amount for line in lines) for amount in unknown)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_parses_back_and_checks_out(fmt: str) -> None:
    payouts = gateway_payouts() + gateway_payouts("usd", 2)
    bank = BankSandbox(tenant="acme", seed=3)
    day = bank.day(ARRIVAL, payouts, anomaly_rate=0.5, unknown_credits=1)
    parsed = parse(day.write(fmt), tenant="acme", file=f"day.{fmt}")
    assert parsed.format == fmt
    assert parsed.quarantined == []
    assert {s.currency for s in parsed.statements} == {"EUR", "USD"}
    assert all(s.control_ok is not False for s in parsed.statements)
    written = sum(len(s.entries) for s in day.statements)
    assert len(parsed.lines) == written
    for statement in day.statements:
        credits = sum(e.amount for e in statement.entries if e.direction == "credit")
        assert parsed.totals()[statement.currency]["credit"] == credits
    if fmt != "csv":
        assert all(s.control_ok for s in parsed.statements)


def test_same_seed_same_files_and_balances_carry_over() -> None:
    payouts = gateway_payouts()
    first = BankSandbox(tenant="acme", seed=9).day(ARRIVAL, payouts, anomaly_rate=0.5)
    again = BankSandbox(tenant="acme", seed=9).day(ARRIVAL, payouts, anomaly_rate=0.5)
    for fmt in FORMATS:
        assert first.write(fmt) == again.write(fmt)
    other = BankSandbox(tenant="acme", seed=10).day(ARRIVAL, payouts, anomaly_rate=0.5)
    assert other.write("camt053") != first.write("camt053")
    bank = BankSandbox(tenant="acme", seed=9)
    monday = bank.day(ARRIVAL, payouts)
    tuesday = bank.day(date(2026, 3, 5), [], currencies=["EUR"])
    assert tuesday.statements[0].opening_balance == monday.statements[0].closing_balance
    assert monday.statements[0].statement_id != tuesday.statements[0].statement_id


def test_payouts_arriving_another_day_or_failed_are_not_booked() -> None:
    payouts = gateway_payouts(count=2)
    failed = {**payouts[1], "status": "failed"}
    day = BankSandbox(tenant="acme").day(date(2026, 3, 5), [payouts[0], failed])
    assert day.statements == [] and day.settled == []
    day = BankSandbox(tenant="acme").day(ARRIVAL, [payouts[0], failed])
    assert day.settled == [payouts[0]["id"]]


def test_writers_refuse_what_the_format_cannot_hold() -> None:
    entry = Entry(100, "credit", ARRIVAL, bank_ref="A,B")
    with pytest.raises(ValueError, match="BAI2"):
        write_bai2([Statement("1", "USD", "S", 0, [entry])])
    with pytest.raises(ValueError, match="16 characters"):
        write_mt940([Statement("DE01", "EUR", "S" * 17, 0, [])])
    with pytest.raises(ValueError, match="positive"):
        write_mt940([Statement("DE01", "EUR", "S", 0, [Entry(0, "credit", ARRIVAL)])])
    with pytest.raises(ValueError, match="versions"):
        list(iter_camt053([], version=5))


def test_mt940_spells_out_what_swift_cannot_carry() -> None:
    entry = Entry(
        100,
        "credit",
        ARRIVAL,
        counterparty="M\u00fcller & S\u00f6hne",
        remittance="po_1 \u00e9t\u00e9?",
    )
    parsed = parse(write_mt940([Statement("DE01", "EUR", "S", 0, [entry])]), tenant="a", file="f")
    (line,) = parsed.lines
    assert line.counterparty == "Mueller . Soehne"
    assert line.remittance == "po.1 ete."
