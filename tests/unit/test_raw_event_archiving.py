"""Raw webhooks leave the table and live on in the archive, over fakes: which hours the archiver
writes and from where it goes on, replays of a window partly beyond the table, processing
that leaves what it applied as stored, and the front door's expiry from the tenant's period.
The same on moto: tests/component/test_raw_event_archive.py."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.webhooks.adapters.intake import check_stripe_header
from functions.webhooks.domain.archiving import (
    MOST_PER_RUN,
    SETTLE,
    archive_window,
    hour_of,
    table_keeps_since,
)
from functions.webhooks.domain.intake import WebhookRequest
from functions.webhooks.use_cases.accept import IntakeDependencies, accept
from functions.webhooks.use_cases.archive import archive_ended_hours
from functions.webhooks.use_cases.process import Dependencies, process
from functions.webhooks.use_cases.replay import replay_since
from shared import signing
from shared.raw_events import RawEvent, RawEventStore
from shared.retention import (
    RAW_TABLE_LONGEST_DAYS,
    RAW_TABLE_SHORTEST_DAYS,
    raw_event_expiry,
    raw_table_days,
    received_instant,
)
from tests.clocks import FixedClock
from tests.e2e.helpers import shop_order
from tests.fakes import InMemoryOrders
from tests.unit.test_webhooks_use_cases import (
    Gateway,
    Intake,
    Lifecycle,
    Secrets,
    Settlements,
    Tenants,
)

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


def raw(event_id: str, at: datetime, source: str = "shop", tenant: str = "acme") -> RawEvent:
    return RawEvent(
        tenant=tenant,
        source=source,
        event_id=event_id,
        event_type="order.created",
        received_at=at.isoformat(timespec="microseconds"),
        status="received",
        body=json.dumps(shop_order(f"o-{event_id}", event_id)),
        archive_key=None,
        hints=None,
    )


# -- which hours -------------------------------------------------------------------------------


def test_the_first_run_starts_at_the_oldest_events_hour_and_stops_at_the_last_settled_hour() -> (
    None
):
    oldest = datetime(2026, 11, 23, 7, 59, 59, tzinfo=UTC)
    assert archive_window(NOW, None, oldest) == (
        datetime(2026, 11, 23, 7, tzinfo=UTC),
        datetime(2026, 11, 23, 10, tzinfo=UTC),
    )
    # 10:05: the hour 9-10 ended five minutes ago, within SETTLE: not yet.
    early = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)
    assert early - SETTLE < datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert archive_window(early, None, oldest) == (
        datetime(2026, 11, 23, 7, tzinfo=UTC),
        datetime(2026, 11, 23, 9, tzinfo=UTC),
    )


def test_later_runs_go_on_from_the_checkpoint_and_nothing_is_due_twice() -> None:
    through = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert archive_window(NOW, through, None) == (through, datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert archive_window(NOW, datetime(2026, 11, 23, 10, tzinfo=UTC), None) is None
    assert archive_window(NOW, None, None) is None  # a tenant with nothing stored yet


def test_a_long_backlog_is_archived_a_month_per_run() -> None:
    start, end = archive_window(NOW, None, NOW - timedelta(days=400)) or (NOW, NOW)
    assert end - start == MOST_PER_RUN and start == hour_of(NOW - timedelta(days=400))


def test_the_table_surely_keeps_the_shortest_period_a_tenant_may_set() -> None:
    assert table_keeps_since(NOW) == NOW - timedelta(days=RAW_TABLE_SHORTEST_DAYS)


def test_a_tenants_period_is_held_within_its_bounds_and_counted_from_receipt() -> None:
    assert raw_table_days(1) == RAW_TABLE_SHORTEST_DAYS
    assert raw_table_days(10_000) == RAW_TABLE_LONGEST_DAYS
    assert raw_table_days(35) == 35
    # Across the night the clocks go back in Amsterdam: a day is 86,400 s of UTC all the same.
    received = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert raw_event_expiry(received, 35) == int(received.timestamp()) + 35 * 86_400
    assert received_instant("2026-11-23T00:00") == datetime(2026, 11, 23, tzinfo=UTC)


# -- the archiver ------------------------------------------------------------------------------


class Archive:
    """``RawEventArchive`` in dicts: the table's events, the archive's objects, checkpoints."""

    def __init__(self, *events: RawEvent) -> None:
        self.table = list(events)
        self.objects: dict[tuple[str, str, datetime], list[str]] = {}
        self.through: dict[str, datetime] = {}
        self.failing: set[str] = set()

    def archived_through(self, tenant: str) -> datetime | None:
        return self.through.get(tenant)

    def mark_archived_through(self, tenant: str, through: datetime) -> None:
        self.through[tenant] = through

    def _of(self, tenant: str, source: str) -> list[RawEvent]:
        return sorted(
            (e for e in self.table if (e.tenant, e.source) == (tenant, source)),
            key=lambda e: e.received_at,
        )

    def oldest_received(self, tenant: str, source: str) -> datetime | None:
        events = self._of(tenant, source)
        return received_instant(events[0].received_at) if events else None

    def received_between(
        self, tenant: str, source: str, start: datetime, end: datetime
    ) -> Iterable[RawEvent]:
        if tenant in self.failing:
            raise ConnectionError("throttled")
        return [
            e for e in self._of(tenant, source) if start <= received_instant(e.received_at) < end
        ]

    def archive_hour(self, tenant: str, source: str, hour: datetime, events: list[Any]) -> bool:
        if (tenant, source, hour) in self.objects:
            return False
        self.objects[(tenant, source, hour)] = [e.event_id for e in events]
        return True


def test_each_ended_hour_of_each_source_becomes_one_object_and_the_checkpoint_moves() -> None:
    h7, h8 = datetime(2026, 11, 23, 7, tzinfo=UTC), datetime(2026, 11, 23, 8, tzinfo=UTC)
    archive = Archive(
        raw("a", h7 + timedelta(minutes=1)),
        raw("b", h7 + timedelta(minutes=59)),
        raw("c", h8 + timedelta(minutes=3), source="stripe"),
        raw("d", h8 + timedelta(minutes=4)),
        raw("late", NOW - timedelta(minutes=1)),  # its hour has not ended: next run
        raw("x", h7, tenant="other"),
    )
    clock = FixedClock(NOW)
    report = archive_ended_hours(["acme", "other"], archive, clock)
    assert archive.objects == {
        ("acme", "shop", h7): ["a", "b"],
        ("acme", "shop", h8): ["d"],
        ("acme", "stripe", h8): ["c"],
        ("other", "shop", h7): ["x"],
    }
    assert (report.objects_written, report.events, report.failures) == (4, 5, [])
    assert archive.through == {
        "acme": datetime(2026, 11, 23, 10, tzinfo=UTC),
        "other": datetime(2026, 11, 23, 10, tzinfo=UTC),
    }
    clock.advance(timedelta(hours=1))
    again = archive_ended_hours(["acme", "other"], archive, clock)
    assert archive.objects[("acme", "shop", datetime(2026, 11, 23, 10, tzinfo=UTC))] == ["late"]
    assert (again.objects_written, again.events) == (1, 1)


def test_quiet_hours_move_the_checkpoint_only_once_they_add_up_to_a_day() -> None:
    h7 = datetime(2026, 11, 23, 7, tzinfo=UTC)
    archive = Archive(raw("a", h7))
    clock = FixedClock(NOW)
    archive_ended_hours(["acme"], archive, clock)
    assert archive.through["acme"] == datetime(2026, 11, 23, 10, tzinfo=UTC)
    clock.advance(timedelta(hours=5))  # five hours without a webhook: no checkpoint written
    archive_ended_hours(["acme"], archive, clock)
    assert archive.through["acme"] == datetime(2026, 11, 23, 10, tzinfo=UTC)
    archive.table.append(raw("b", datetime(2026, 11, 23, 13, 30, tzinfo=UTC)))
    clock.advance(timedelta(hours=1))
    archive_ended_hours(["acme"], archive, clock)  # the quiet hours are asked again: "b" found
    assert archive.objects[("acme", "shop", datetime(2026, 11, 23, 13, tzinfo=UTC))] == ["b"]
    assert archive.through["acme"] == datetime(2026, 11, 23, 16, tzinfo=UTC)
    clock.advance(timedelta(days=1))
    archive_ended_hours(["acme"], archive, clock)
    assert archive.through["acme"] == datetime(2026, 11, 24, 16, tzinfo=UTC)


def test_one_tenants_failure_leaves_its_checkpoint_and_the_next_run_catches_up() -> None:
    h7 = datetime(2026, 11, 23, 7, tzinfo=UTC)
    archive = Archive(raw("a", h7), raw("b", h7, tenant="other"))
    archive.failing.add("acme")
    clock = FixedClock(NOW)
    report = archive_ended_hours(["acme", "other"], archive, clock)
    assert [tenant for tenant, _ in report.failures] == ["acme"]
    assert "acme" not in archive.through and ("other", "shop", h7) in archive.objects
    archive.failing.clear()
    clock.advance(timedelta(hours=3))
    archive_ended_hours(["acme", "other"], archive, clock)
    assert archive.objects[("acme", "shop", h7)] == ["a"]


def test_an_hour_found_archived_already_is_left_as_it_is() -> None:
    h7 = datetime(2026, 11, 23, 7, tzinfo=UTC)
    archive = Archive(raw("a", h7), raw("b", h7 + timedelta(minutes=5)))
    archive.objects[("acme", "shop", h7)] = ["a", "b"]  # a run that failed before its checkpoint
    report = archive_ended_hours(["acme"], archive, FixedClock(NOW))
    assert (report.objects_written, report.objects_found) == (0, 1)
    assert archive.through["acme"] == datetime(2026, 11, 23, 10, tzinfo=UTC)


# -- replays and processing --------------------------------------------------------------------


class Stored:
    """``RawEventStore`` with a table part and an archive part (either may hold an event)."""

    def __init__(self, table: list[RawEvent], archive: list[RawEvent]) -> None:
        self.table, self.archive = table, archive
        self.marks: dict[str, tuple[str, str | None]] = {}
        self.archive_reads: list[tuple[datetime, datetime]] = []

    def body_of(self, event: RawEvent) -> bytes:
        return (event.body or "").encode()

    def mark(self, event: RawEvent, status: str, detail: str | None = None) -> None:
        self.marks[event.event_id] = (status, detail)

    def since(self, tenant: str, source: str, since: str) -> Iterator[RawEvent]:
        # As the index compares: receive times as text.
        yield from (e for e in self.table if e.received_at >= since)

    def archived(
        self, tenant: str, source: str, since: datetime, before: datetime
    ) -> Iterator[RawEvent]:
        self.archive_reads.append((since, before))
        yield from (e for e in self.archive if since <= received_instant(e.received_at) < before)


def deps_of(store: Stored, now: datetime) -> Dependencies:
    return Dependencies(
        store,
        InMemoryOrders(),
        Settlements(),
        lambda t: Gateway(),
        Lifecycle(),
        clock=FixedClock(now),
    )


def test_a_window_partly_beyond_the_table_is_replayed_from_the_archive_each_event_once() -> None:
    now = NOW + timedelta(days=60)
    old = raw("old", NOW)  # only in the archive now
    kept = raw("kept", now - timedelta(days=20))  # in both: the tenant keeps 35 days
    new = raw("new", now - timedelta(hours=1))  # only in the table: its hour not archived yet
    store = Stored(table=[kept, new], archive=[old, kept])
    deps = deps_of(store, now)
    report = replay_since("acme", "shop", (NOW - timedelta(days=1)).isoformat(), deps)
    assert report.outcomes == Counter({"applied": 3}) and report.failures == []
    assert store.archive_reads == [(NOW - timedelta(days=1), table_keeps_since(now))]
    for event_id in ("old", "kept", "new"):
        assert deps.orders.load_for_update("acme", f"o-{event_id}")[1] == 1
    again = replay_since("acme", "shop", (NOW - timedelta(days=1)).isoformat(), deps)
    assert again.outcomes == Counter({"applied": 3})
    for event_id in ("old", "kept", "new"):  # applied once: a replay changes nothing
        assert deps.orders.load_for_update("acme", f"o-{event_id}")[1] == 1


def test_a_since_with_an_offset_is_the_same_instant_in_utc() -> None:
    at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    store = Stored(table=[raw("before", at - timedelta(seconds=1)), raw("at", at)], archive=[])
    report = replay_since("acme", "shop", "2026-11-23T10:30:00+01:00", deps_of(store, NOW))
    assert report.outcomes == Counter({"applied": 1})


def test_a_window_the_table_surely_holds_does_not_read_the_archive() -> None:
    store = Stored(table=[raw("a", NOW - timedelta(days=2))], archive=[])
    report = replay_since(
        "acme", "shop", (NOW - timedelta(days=3)).isoformat(), deps_of(store, NOW)
    )
    assert report.outcomes == Counter({"applied": 1}) and store.archive_reads == []


def test_processing_leaves_an_applied_event_as_stored_and_marks_what_it_cannot_use() -> None:
    order = raw("evt-1", NOW)
    ignored = RawEvent(
        "acme",
        "stripe",
        "evt_cus",
        "customer.created",
        NOW.isoformat(),
        "received",
        json.dumps(
            {
                "id": "evt_cus",
                "object": "event",
                "type": "customer.created",
                "created": 1,
                "data": {"object": {}},
            }
        ),
        None,
        None,
    )
    store = Stored(table=[order, ignored], archive=[])
    deps = deps_of(store, NOW)
    assert process(order, deps) == "applied" and store.marks == {}
    assert process(ignored, deps) == "ignored"
    assert store.marks["evt_cus"][0] == "ignored"


# -- the front door ----------------------------------------------------------------------------


class Days:
    def __init__(self, days: int) -> None:
        self.asked: list[str] = []
        self._days = days

    def days(self, tenant: str) -> int:
        self.asked.append(tenant)
        return self._days


@pytest.mark.parametrize("days", [None, 20])
def test_the_front_door_stores_each_webhook_with_the_tenants_period(days: int | None) -> None:
    store = Intake()
    period = Days(days) if days is not None else None
    body = json.dumps(shop_order("o-1", "evt-1")).encode()
    signed = signing.sign_shop(body, "shop_old", int(NOW.timestamp()))
    headers = {"content-type": "application/json", **{k.lower(): v for k, v in signed.items()}}
    deps = IntakeDependencies(
        Secrets(),
        store,
        check_stripe_header,
        Tenants(("USD",)),
        FixedClock(NOW),
        raw_event_days=period,
    )
    answer = accept(WebhookRequest("acme", "shop", body, headers), deps)
    assert answer.status == 200
    (item,) = store.items.values()
    assert item["keep_days"] == days
    assert period is None or period.asked == ["acme"]


@given(st.binary(max_size=2000))
def test_an_archive_line_gives_back_the_body_byte_for_byte(body: bytes) -> None:
    event = raw("evt-1", NOW)
    line = json.loads(json.dumps(event.archive_line(body), sort_keys=True))
    back = RawEvent.from_archive_line(line)
    assert RawEventStore("unused").body_of(back) == body
    assert (back.event_id, back.received_at, back.status) == (
        event.event_id,
        event.received_at,
        "received",
    )
