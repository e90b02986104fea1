"""``--travel``: run the session with the machine's clock moved, to keep the suite date-proof.

Code reads "now" from ``shared.clock``, and tests that build facts on fixed dates inject the
clock they mean. This option is the guard that keeps it so: it moves the clock every library
sees as well (``datetime.now``, ``time.time``, in every thread: the local stack's moto server,
the sandboxes' signatures, Step Functions' timestamps), with time-machine, and lets it tick on
from there. A test that quietly depends on how today relates to a date written in it fails
under one of the destinations.

A destination is ``+365d`` / ``-30d`` / ``+12h`` (relative to now), an ISO 8601 instant with
its offset (``2028-02-28T23:59:00+00:00``), or an edge found from today so that the guard never
goes stale: ``leap-day`` (a minute before the first 29 February at least a year ahead) and
``dst-back:ZONE`` (a minute before the latest change of ZONE's offset at least 30 days back).
The clock starts there and ticks, so a session that starts a minute before midnight crosses into
29 February while it runs.

Several destinations, comma-separated, are run at once by pytest-xdist with ``--dist each``
(every worker runs every test): worker ``gwN`` travels to the N-th destination. ``make test``
runs the component and workflow tests that way (see the Makefile).

Durations (timeouts, sleeps, ``time.monotonic``, ``time.perf_counter``) are not moved.
"""

from __future__ import annotations

import calendar
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

_RELATIVE = re.compile(r"^([+-])(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def destination(spec: str, now: datetime) -> datetime:
    """Where ``spec`` sends a clock that reads ``now``."""
    spec = spec.strip()
    if spec == "leap-day":
        return _before_leap_day(now)
    if spec.startswith("dst-back:"):
        return _before_offset_change(spec.removeprefix("dst-back:"), now)
    relative = _RELATIVE.fullmatch(spec)
    if relative:
        sign, amount, unit = relative.groups()
        shift = timedelta(**{_UNITS[unit]: int(amount)})
        return now + shift if sign == "+" else now - shift
    try:
        instant = datetime.fromisoformat(spec.replace("Z", "+00:00"))
    except ValueError:
        raise pytest.UsageError(
            f"--travel {spec!r}: expected +Nd/-Nd/+Nh/+Nm or an ISO 8601 instant"
        ) from None
    if instant.tzinfo is None:
        raise pytest.UsageError(f"--travel {spec!r}: an instant needs its UTC offset")
    return instant


def _before_leap_day(now: datetime) -> datetime:
    year_on = now.astimezone(UTC) + timedelta(days=365)
    year = year_on.year
    while not calendar.isleap(year) or datetime(year, 2, 29, tzinfo=UTC) < year_on:
        year += 1
    return datetime(year, 2, 28, 23, 59, tzinfo=UTC)


def _before_offset_change(zone_name: str, now: datetime) -> datetime:
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise pytest.UsageError(f"--travel dst-back:{zone_name}: no such time zone") from None
    # Hour by hour back from a month ago (at most two years), then minute by minute within it.
    at = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=30)
    for _ in range(2 * 366 * 24):
        earlier = at - timedelta(hours=1)
        if earlier.astimezone(zone).utcoffset() != at.astimezone(zone).utcoffset():
            change = next(
                minute
                for step in range(1, 61)
                if (minute := earlier + timedelta(minutes=step)).astimezone(zone).utcoffset()
                == at.astimezone(zone).utcoffset()
            )
            return change - timedelta(minutes=1)
        at = earlier
    raise pytest.UsageError(f"--travel dst-back:{zone_name}: the zone has not changed its offset")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--travel",
        default="",
        metavar="DEST[,DEST…]",
        help="run with the clock moved: +365d, -30d or an ISO instant (ticks on from there); "
        "several, comma-separated, one per xdist worker with --dist each",
    )


def _specs(config: pytest.Config) -> list[str]:
    return [s for s in str(config.getoption("travel") or "").split(",") if s.strip()]


def _worker_index() -> int | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else None


def _my_spec(config: pytest.Config) -> str | None:
    specs = _specs(config)
    if not specs:
        return None
    index = _worker_index()
    if len(specs) == 1:
        return specs[0]
    if index is None:
        # The controller of an xdist run (or a plain run, refused in pytest_configure).
        return None
    return specs[index % len(specs)]


def pytest_configure(config: pytest.Config) -> None:
    specs = _specs(config)
    if not specs:
        return
    for spec in specs:
        destination(spec, datetime.now(UTC))  # refuse a bad spec before anything runs
    if len(specs) > 1 and _worker_index() is None:
        workers = getattr(config.option, "numprocesses", None)
        dist = getattr(config.option, "dist", "no")
        if workers != len(specs) or dist != "each":
            raise pytest.UsageError(
                f"--travel with {len(specs)} destinations needs -n {len(specs)} --dist each"
            )
        return
    mine = _my_spec(config)
    if mine is None:
        return
    import time_machine

    spec = mine
    start = destination(spec, datetime.now(UTC))
    traveller = time_machine.travel(start, tick=True)
    traveller.start()
    config.stash[_TRAVELLER] = traveller
    config.stash[_SPEC] = f"{spec} (from {start.isoformat(timespec='seconds')})"


_TRAVELLER = pytest.StashKey[Any]()
_SPEC = pytest.StashKey[str]()


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> list[str]:
    specs = _specs(config)
    if not specs:
        return []
    if len(specs) == 1:
        return [f"clock travelled to {config.stash.get(_SPEC, specs[0])}"]
    return ["clock travels per worker: " + ", ".join(f"gw{i} → {s}" for i, s in enumerate(specs))]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    spec = item.config.stash.get(_SPEC, None)
    if spec is not None:
        report = outcome.get_result()
        if report.failed:
            report.sections.append(("clock", f"this session's clock travelled to {spec}"))
