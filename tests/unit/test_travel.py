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
    ],
)
def test_destinations(spec: str, expected: datetime) -> None:
    assert destination(spec, NOW) == expected


@pytest.mark.parametrize("spec", ["365d", "+1y", "tomorrow", "2028-02-28T23:59:00"])
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
