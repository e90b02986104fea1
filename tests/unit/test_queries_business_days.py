"""Business days, as "where is my refund?" counts them against the usual 5 to 10."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from functions.reports.queries.domain.customer import add_business_days, business_days_between


def test_a_weekend_is_not_counted() -> None:
    friday = date(2026, 11, 20)
    assert business_days_between(friday, friday + timedelta(days=3)) == 1  # Monday
    assert business_days_between(friday, friday + timedelta(days=2)) == 0  # Sunday
    assert add_business_days(friday, 1) == date(2026, 11, 23)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 60))
def test_adding_then_counting_gives_the_days_back(start: date, days: int) -> None:
    end = add_business_days(start, days)
    assert business_days_between(start, end) == days
    assert end.weekday() < 5 or days == 0
