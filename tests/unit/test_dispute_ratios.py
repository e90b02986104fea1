"""The networks' ratios (issue 15, item 6) on a planted month: Visa VAMP and Mastercard ECP,
counts and rates, the month's end projected, warnings at 50 % and 75 % of a level, the
thresholds taken from the data by effective date and region."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from functions.disputes.domain.ratios import warning_level
from functions.disputes.ports import Ports
from functions.disputes.use_cases.ratios import monthly_ratios, warn_ratios
from shared.notices.disputes import DisputeRatioWarning
from tests.alerts_fakes import FakeAlerts
from tests.disputes_fakes import FakeCounts, ports, tenant

NOV = date(2026, 11, 1)
OCT = date(2026, 10, 1)


def planted(**settings: Any) -> Ports:
    p = ports(settings=tenant(**settings))
    counts = p.counts
    assert isinstance(counts, FakeCounts)
    counts.plant(NOV, "chargebacks", visa=600, mastercard=40, amex=3)
    counts.plant(NOV, "fraud_reports", visa=300)
    counts.plant(NOV, "settled", visa=40_000, mastercard=4_000, amex=900)
    counts.plant(OCT, "settled", visa=75_000, mastercard=5_000, amex=1_700)
    return p


def test_the_ratio_report_on_a_planted_month() -> None:
    # The 15th of a 30-day month: half of it counted.
    visa, mastercard = monthly_ratios(planted(), "acme", NOV, date(2026, 11, 15))
    assert (visa.programme, visa.brand, visa.count, visa.denominator) == (
        "visa_vamp",
        "visa",
        900,
        40_000,
    )
    assert visa.rate_bp == Decimal(225) and visa.rate_percent == "2.25 %"
    assert (visa.projected_count, visa.projected_denominator) == (1_800, 80_000)
    assert visa.effective_from == date(2026, 4, 1)
    (excessive,) = visa.levels
    assert (excessive.min_ratio_bp, excessive.min_count) == (150, 1_500)
    # 900 is under VAMP's 1,500 so far; the month's end is projected over both minimums.
    assert (excessive.reached, excessive.projected_reached) == (False, True)
    assert excessive.projected_share == 120
    # ECP: this month's chargebacks over last month's sales.
    assert (mastercard.count, mastercard.denominator) == (40, 5_000)
    assert mastercard.rate_percent == "0.80 %"
    assert (mastercard.projected_count, mastercard.projected_rate_percent) == (80, "1.60 %")
    excessive, high = mastercard.levels
    assert (excessive.level, excessive.projected_share) == ("excessive", 80)
    assert (high.level, high.projected_share) == ("high_excessive", 26)
    assert warning_level(mastercard, (50, 75)) == 75
    assert mastercard.warnings == (
        "Mastercard Excessive Chargeback Program, excessive (1.50 % and 100): projected at "
        "80 % by the month's end (80 of 5,000, 1.60 %)",
    )


def test_thresholds_follow_their_effective_dates_and_region() -> None:
    march = date(2026, 3, 1)
    p = planted()
    counts = p.counts
    assert isinstance(counts, FakeCounts)
    counts.plant(march, "settled", visa=10_000)
    counts.plant(march, "chargebacks", visa=100)
    (visa,) = monthly_ratios(p, "acme", march, date(2026, 3, 31))
    assert visa.effective_from == date(2025, 4, 1)
    assert visa.levels[0].min_ratio_bp == 220
    mena = planted(network_region="MENA")
    visa, _ = monthly_ratios(mena, "acme", NOV, date(2026, 11, 15))
    assert (visa.effective_from, visa.levels[0].min_ratio_bp) == (date(2025, 4, 1), 220)


def test_a_finished_month_is_not_projected() -> None:
    visa, _ = monthly_ratios(planted(), "acme", NOV, date(2026, 12, 3))
    assert (visa.projected_count, visa.projected_denominator) == (900, 40_000)


def test_the_team_is_warned_at_its_local_six_once() -> None:
    p = planted()
    alerts = p.alerts
    assert isinstance(alerts, FakeAlerts)
    # Amsterdam is UTC+1 in November: 06:00 there is 05:00 UTC.
    assert warn_ratios(p, datetime(2026, 11, 15, 6, tzinfo=UTC)) == []
    sent = warn_ratios(p, datetime(2026, 11, 15, 5, tzinfo=UTC))
    assert [(n.brand, n.share_percent) for n in sent] == [("visa", 75), ("mastercard", 75)]
    assert all(isinstance(n, DisputeRatioWarning) for n in sent)
    assert sent[0].headline == (
        "Visa dispute ratio for 2026-11 projected at 75 % or more of Visa Acquirer Monitoring "
        "Program (merchant)'s threshold"
    )
    published = len(alerts.published)
    warn_ratios(p, datetime(2026, 11, 15, 5, tzinfo=UTC))  # the tick retried
    assert len(alerts.published) == published
