"""The clock-travel guard itself: destinations, and a session that really runs elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cli.toolchain import ROOT
from tests.travel import destination

NOW = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("+365d", NOW + timedelta(days=365)),
        ("-30d", NOW - timedelta(days=30)),
        ("+12h", NOW + timedelta(hours=12)),
        ("-90m", NOW - timedelta(minutes=90)),
        ("2028-02-28T23:59:00+00:00", datetime(2028, 2, 28, 23, 59, tzinfo=UTC)),
        ("2028-02-28T23:59:00Z", datetime(2028, 2, 28, 23, 59, tzinfo=UTC)),
        # More than a year ahead: 29 February 2028 is 451 days away.
        ("leap-day", datetime(2028, 2, 28, 23, 59, tzinfo=UTC)),
        # Amsterdam left summer time at 01:00 UTC on 25 October 2026, 41 days before NOW.
        ("dst-back:Europe/Amsterdam", datetime(2026, 10, 25, 0, 59, tzinfo=UTC)),
        ("dst-back:America/New_York", datetime(2026, 11, 1, 5, 59, tzinfo=UTC)),
    ],
)
def test_destinations(spec: str, expected: datetime) -> None:
    assert destination(spec, NOW) == expected


def test_the_edges_are_found_from_whatever_today_is() -> None:
    # On 1 May 2026 Amsterdam's latest change a month back is the spring one (29 March).
    may = datetime(2026, 5, 1, tzinfo=UTC)
    assert destination("dst-back:Europe/Amsterdam", may) == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    # From 2 March 2027 a year on is 1 March 2028, past that leap day: the next is in 2032.
    assert destination("leap-day", datetime(2027, 3, 2, tzinfo=UTC)) == datetime(
        2032, 2, 28, 23, 59, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "spec", ["365d", "dst-back:Mars/Olympus", "+1y", "tomorrow", "2028-02-28T23:59:00"]
)
def test_a_destination_that_says_nothing_clear_is_refused(spec: str) -> None:
    with pytest.raises(pytest.UsageError):
        destination(spec, NOW)


def test_a_travelled_session_sees_the_moved_clock_everywhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest('pytest_plugins = ["tests.travel"]')
    pytester.makepyfile(
        """
        import threading
        import time
        from datetime import UTC, datetime

        from shared.clock import SYSTEM_CLOCK

        def test_moved():
            seen = []
            thread = threading.Thread(target=lambda: seen.append(time.time()))
            thread.start()
            thread.join()
            assert SYSTEM_CLOCK.now().year == 2031
            assert datetime.fromtimestamp(seen[0], UTC).year == 2031
        """
    )
    result = pytester.runpytest_subprocess(
        "--travel=2031-06-01T00:00:00+00:00", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["clock travelled to 2031-06-01T00:00:00+00:00*"])
