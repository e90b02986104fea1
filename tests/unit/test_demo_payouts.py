"""The demo's marketplace: its vendors are what an operator could enter, and its tick lands just
after the next cut-off in the tenant's zone, summer time or not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.payouts.domain.vendors import check_vendor
from local.demo_payouts import next_cutoff_after, vendor_records
from local.sandboxes.shop import VENDORS


def test_every_demo_vendor_passes_the_checks_an_operator_entry_passes() -> None:
    vendors = [check_vendor(record) for record in vendor_records(VENDORS, "USD")]
    assert [v.vendor_id for v in vendors] == list(VENDORS)
    methods = {v.payout.method for v in vendors}
    assert methods == {"bank", "stripe_connect"}
    assert all(v.payout.currency == "USD" and v.minimum("USD") == 500 for v in vendors)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Before 06:00 in Amsterdam (CET, UTC+1): today's cut-off.
        (datetime(2026, 12, 5, 4, 0, tzinfo=UTC), datetime(2026, 12, 5, 5, 1, tzinfo=UTC)),
        # After it: tomorrow's.
        (datetime(2026, 12, 5, 19, 0, tzinfo=UTC), datetime(2026, 12, 6, 5, 1, tzinfo=UTC)),
        # The night summer time ends (25 Oct 2026): 06:00 CET is 05:00 UTC, not 04:00.
        (datetime(2026, 10, 24, 20, 0, tzinfo=UTC), datetime(2026, 10, 25, 5, 1, tzinfo=UTC)),
    ],
)
def test_the_tick_is_a_minute_after_the_next_cutoff_in_the_tenants_zone(
    now: datetime, expected: datetime
) -> None:
    assert next_cutoff_after(now, "Europe/Amsterdam", 6) == expected
