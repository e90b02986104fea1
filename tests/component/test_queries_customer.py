"""Customers' questions answered on moto from planted orders: each kind with the case it is
about and a case where nothing is wrong (one charge only; a refund already succeeded with its
ARN; a failed attempt with no later success)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.reports.queries.adapters.orders import TableOrderIndex
from functions.reports.queries.domain.customer import Finding, Question
from functions.reports.queries.use_cases.customer import answer_customer_question
from tests.component.conftest import TABLE
from tests.component.queries_orders import (
    TENANT,
    authorised,
    cancelled,
    failed,
    paid,
    placed,
    refunded,
)

# A Friday morning; the questions are asked days later.
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def ask(order_id: str, question: Question, now: datetime) -> Any:
    return answer_customer_question(TableOrderIndex(TABLE), TENANT, order_id, question, now)


# -- charged twice -------------------------------------------------------------------------------


def test_two_charges_on_one_order(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    paid("1001", "pi_b", 2500, T0 + 2 * MIN)
    answer = ask("1001", Question.CHARGED_TWICE, T0 + timedelta(days=1))
    assert answer.finding is Finding.CHARGED_TWICE
    assert "charged 2 times, EUR 50.00 in all for an order of EUR 25.00" in answer.answer
    assert answer.action.startswith("Refund payment pi_b (EUR 25.00)")
    assert any("pi_a" in line for line in answer.evidence)


def test_two_orders_of_the_same_amount_minutes_apart(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    placed("1002", T0 + 4 * MIN)
    paid("1002", "pi_b", 2500, T0 + 5 * MIN)
    placed("1003", T0 + timedelta(hours=3))  # the same customer, hours later: not a twin
    paid("1003", "pi_c", 2500, T0 + timedelta(hours=3))
    answer = ask("1001", Question.CHARGED_TWICE, T0 + timedelta(days=1))
    assert answer.finding is Finding.DOUBLE_ORDER
    assert "2 orders of EUR 25.00 within 4 minutes (1001, 1002)" in answer.answer
    assert "cancel order 1002" in answer.action and "1003" not in answer.text()


def test_an_authorisation_next_to_its_capture_is_one_charge(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    authorised("1001", "pi_a", 2500, T0 + MIN)
    paid("1001", "pi_a", 2500, T0 + timedelta(hours=20))
    answer = ask("1001", Question.CHARGED_TWICE, T0 + timedelta(days=1))
    assert answer.finding is Finding.HOLD_AND_CAPTURE
    assert "No: one charge of EUR 25.00" in answer.answer
    assert "authorisation hold (2026-11-20 10:01 UTC)" in answer.answer


def test_a_hold_on_a_cancelled_order_and_when_it_drops(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    authorised("1001", "pi_A3x", 2500, T0 + MIN)
    cancelled("1001", T0 + timedelta(hours=1))
    answer = ask("1001", Question.CHARGED_TWICE, T0 + timedelta(days=1))
    assert answer.finding is Finding.HOLD_ON_CANCELLED
    assert (
        "not a charge" in answer.answer and "lapses by itself 2026-11-27 10:01 UTC" in answer.answer
    )
    assert answer.action == "Void payment pi_A3x now so the hold drops at once."


def test_one_charge_only(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    placed("2001", T0 + 2 * MIN, email="someone.else@example.com", phone=None)
    paid("2001", "pi_x", 2500, T0 + 3 * MIN, card=None)  # same amount, another customer
    answer = ask("1001", Question.CHARGED_TWICE, T0 + timedelta(days=1))
    assert answer.finding is Finding.ONE_CHARGE
    assert (
        answer.answer
        == "No: order 1001 was charged once, EUR 25.00 2026-11-20 10:01 UTC (payment pi_a)."
    )


# -- where is my refund --------------------------------------------------------------------------


def test_a_refund_that_failed_and_why(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    refunded("1001", "pi_a", "re_1", 2500, T0 + timedelta(days=1))
    refunded(
        "1001",
        "pi_a",
        "re_1",
        2500,
        T0 + timedelta(days=4),
        status="failed",
        created_at=T0 + timedelta(days=1),
        failure_reason="expired_or_canceled_card",
    )
    answer = ask("1001", Question.REFUND_NOT_RECEIVED, T0 + timedelta(days=5))
    assert answer.finding is Finding.REFUND_FAILED
    assert "failed 2026-11-24 10:00 UTC: the card has expired or was closed" in answer.answer
    assert answer.action.startswith("Pay the customer back another way")


def test_a_refund_later_than_the_usual_ten_business_days(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    refunded("1001", "pi_a", "re_1", 2500, T0, destination_type="refund")  # Friday
    answer = ask("1001", Question.REFUND_NOT_RECEIVED, T0 + timedelta(days=17))  # Monday week+1
    assert answer.finding is Finding.REFUND_OVERDUE
    assert "11 business days ago" in answer.answer
    assert answer.action.startswith("Open a query case with the gateway")


def test_a_pending_refund(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    refunded("1001", "pi_a", "re_1", 1000, T0 + timedelta(hours=2), status="pending")
    answer = ask("1001", Question.REFUND_NOT_RECEIVED, T0 + timedelta(days=1))
    assert answer.finding is Finding.REFUND_PENDING
    assert "EUR 10.00" in answer.answer and "pending at the gateway" in answer.answer


def test_a_reversal_shows_no_credit_line(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    refunded("1001", "pi_a", "re_1", 2500, T0 + timedelta(hours=2), destination_type="reversal")
    answer = ask("1001", Question.REFUND_NOT_RECEIVED, T0 + timedelta(days=3))
    assert answer.finding is Finding.REFUND_REVERSED
    assert "no credit line appears" in answer.answer


def test_a_refund_already_succeeded_with_its_arn(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    refunded("1001", "pi_a", "re_1", 2500, T0 + timedelta(hours=2), status="pending")
    refunded(
        "1001",
        "pi_a",
        "re_1",
        2500,
        T0 + timedelta(days=1),
        created_at=T0 + timedelta(hours=2),
        destination_type="refund",
        network_reference="74987006123456789012345",
    )
    answer = ask("1001", Question.REFUND_NOT_RECEIVED, T0 + timedelta(days=4))  # Tuesday
    assert answer.finding is Finding.REFUND_ON_ITS_WAY
    assert "succeeded 2026-11-21 10:00 UTC, 2 business days ago" in answer.answer
    assert "(ARN) is 74987006123456789012345" in answer.answer
    assert answer.action.startswith("Give the customer the reference 74987006123456789012345")


def test_no_refund_at_all(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + MIN)
    answer = ask("1001", Question.REFUND_NOT_RECEIVED, T0 + timedelta(days=1))
    assert answer.finding is Finding.NO_REFUND


# -- failed but charged --------------------------------------------------------------------------


def test_a_failed_attempt_then_the_one_that_succeeded(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    failed("1001", "pi_a", 2500, T0 + MIN, code="card_declined")
    paid("1001", "pi_b", 2500, T0 + 3 * MIN)
    answer = ask("1001", Question.FAILED_BUT_CHARGED, T0 + timedelta(days=1))
    assert answer.finding is Finding.CHARGED_AFTER_FAILED
    assert "attempt 1 (pi_a) failed 2026-11-20 10:01 UTC (card_declined)" in answer.answer
    assert (
        "attempt 2 (pi_b) succeeded 2026-11-20 10:03 UTC for EUR 25.00, and order 1001 exists"
        in (answer.answer)
    )


def test_a_charge_whose_order_never_came(aws_env: dict[str, Any]) -> None:
    paid("1001", "pi_a", 2500, T0 + MIN)  # the gateway names order 1001; the shop never sent it
    answer = ask("1001", Question.FAILED_BUT_CHARGED, T0 + timedelta(days=1))
    assert answer.finding is Finding.CHARGE_WITHOUT_ORDER
    assert "refund payment pi_a" in answer.action


def test_an_authorisation_not_captured_and_when_it_is_released(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    failed("1001", "pi_a", 2500, T0 + MIN)
    authorised("1001", "pi_b", 2500, T0 + 2 * MIN)
    answer = ask("1001", Question.FAILED_BUT_CHARGED, T0 + timedelta(days=1))
    assert answer.finding is Finding.HOLD_NOT_CAPTURED
    assert answer.answer.startswith("No charge: attempt 1 (pi_a) failed 2026-11-20 10:01 UTC")
    assert "never captured and lapses by itself 2026-11-27 10:02 UTC" in answer.answer


def test_the_customer_paid_a_second_order_instead(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    failed("1001", "pi_a", 2500, T0 + MIN)
    placed("1002", T0 + 5 * MIN)
    paid("1002", "pi_b", 2500, T0 + 6 * MIN)
    answer = ask("1001", Question.FAILED_BUT_CHARGED, T0 + timedelta(days=1))
    assert answer.finding is Finding.CHARGED_ON_ANOTHER_ORDER
    assert "charged for order 1002" in answer.answer


def test_a_failed_attempt_with_no_later_success(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    failed("1001", "pi_a", 2500, T0 + MIN, code="insufficient_funds")
    answer = ask("1001", Question.FAILED_BUT_CHARGED, T0 + timedelta(days=1))
    assert answer.finding is Finding.NOTHING_CHARGED
    assert "attempt 1 (pi_a) failed 2026-11-20 10:01 UTC (insufficient_funds)" in answer.answer
    assert "no later attempt succeeded" in answer.answer


@pytest.mark.parametrize("question", list(Question))
def test_an_unknown_order_is_nothing_found(aws_env: dict[str, Any], question: Question) -> None:
    answer = ask("#9999", question, T0)
    assert answer.finding is Finding.ORDER_NOT_FOUND
    assert answer.answer == "Nothing found: we hold no order or payment 9999 for tenant acme."
