"""Carrier normalisers: every sample under shared/samples/carriers, plus hand-written edges."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.webhooks.domain.normalise import normalise
from functions.webhooks.domain.normalise.carriers import (
    shipment_from_easypost_tracker,
    shippo_order_id,
)
from shared.events import DomainEvent, Ignored, Malformed, ShipmentStatus, ShipmentUpdated, Source
from tests.hostile import assert_only_documented_failures
from tests.samples import SAMPLES, load_sample, sample_names

CARRIERS = SAMPLES / "carriers"
TENANT = "acme"
EVENT_ID = "carrier-evt-1"
RECEIVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


SAMPLE_NAMES = sample_names(CARRIERS, "carrier")


def load(name: str) -> dict[str, Any]:
    return load_sample(CARRIERS, name)


def run(source: Source, payload: dict[str, Any]) -> list[DomainEvent]:
    return normalise(source, TENANT, payload, event_id=EVENT_ID, received_at=RECEIVED)


def one(events: list[DomainEvent]) -> ShipmentUpdated:
    assert len(events) == 1, events
    event = events[0]
    assert isinstance(event, ShipmentUpdated)
    assert (event.tenant, event.source_event_id) == (TENANT, EVENT_ID)
    return event


def ts(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def aftership_webhook(tracking: dict[str, Any], event: str = "tracking_update") -> dict[str, Any]:
    """The webhook envelope around a tracking object, as AfterShip POSTs it."""
    return {
        "event": event,
        "event_id": "6c5e1a3e-0000-4000-8000-000000000001",
        "is_tracking_first_tag": False,
        "msg": tracking,
        "ts": 1_534_482_646,
    }


# --- every sample file ----------------------------------------------------------------------------

CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {}


def check(name: str) -> Callable[[Callable[[dict[str, Any]], None]], Callable[..., None]]:
    def register(fn: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
        CHECKS[name] = fn
        return fn

    return register


def assert_tracker(event: ShipmentUpdated, tracker: dict[str, Any]) -> None:
    details = tracker["tracking_details"]
    assert event.source is Source.EASYPOST
    assert event.tracking_code == tracker["tracking_code"]
    assert event.carrier == tracker["carrier"]
    assert event.status == ShipmentStatus(tracker["status"])
    assert event.occurred_at == max(ts(d["datetime"]) for d in details)
    assert event.estimated_delivery == ts(tracker["est_delivery_date"])
    assert event.tracking_url == tracker["public_url"]
    assert event.shipment_id == tracker["shipment_id"]
    assert event.order_id is None  # EasyPost trackers carry no order reference


@check("easypost/event-body.json")
def _easypost_event_body(doc: dict[str, Any]) -> None:
    tracker = doc["result"]
    event = one(run(Source.EASYPOST, doc))
    assert_tracker(event, tracker)
    assert event.status is ShipmentStatus.IN_TRANSIT
    assert event.status_detail == tracker["status_detail"]
    last = tracker["tracking_details"][-1]["tracking_location"]
    assert event.location == f"{last['city']}, {last['state']}, {last['country']}"


@check("easypost/tracking-webhook.json")
def _easypost_tracking_webhook(doc: dict[str, Any]) -> None:
    tracker = doc["result"]
    event = one(run(Source.EASYPOST, doc))
    assert_tracker(event, tracker)
    assert event.status is ShipmentStatus.DELIVERED
    # No status_detail on this tracker: the wording comes from the detail that delivered it,
    # even though this sample lists an out-for-delivery scan with a later time.
    delivered = [d for d in tracker["tracking_details"] if d["status"] == "delivered"][-1]
    assert event.status_detail == delivered["message"]
    assert event.location == "SAN FRANCISCO, CA, US"


@check("easypost/trackers-retrieve.json")
def _easypost_bare_tracker(doc: dict[str, Any]) -> None:
    with pytest.raises(Malformed, match="'Tracker' object, not an Event"):
        run(Source.EASYPOST, doc)
    event = shipment_from_easypost_tracker(
        doc, tenant=TENANT, event_id=EVENT_ID, received_at=RECEIVED
    )
    assert_tracker(event, doc)
    assert event.status is ShipmentStatus.PRE_TRANSIT
    assert event.status_detail == doc["status_detail"]
    assert event.location == "HOUSTON, TX"


@check("aftership/GetTrackingResult.json")
def _aftership(doc: dict[str, Any]) -> None:
    tracking = doc["data"]["tracking"]
    event = one(run(Source.AFTERSHIP, aftership_webhook(tracking)))
    assert event.source is Source.AFTERSHIP
    assert event.tracking_code == tracking["tracking_number"]
    assert event.carrier == tracking["slug"]
    assert event.status is ShipmentStatus.DELIVERED  # tag "Delivered"
    assert event.status_detail == tracking["subtag_message"]
    latest = max(tracking["checkpoints"], key=lambda c: ts(c["checkpoint_time"]))
    assert event.occurred_at == ts(latest["checkpoint_time"])
    assert event.occurred_at.utcoffset() is not None and event.occurred_at.tzinfo is UTC
    assert event.location == latest["location"]
    assert event.order_id is None  # order_id and order_number are null in the sample
    assert event.tracking_url == tracking["courier_tracking_link"]
    assert event.estimated_delivery == ts(tracking["latest_estimated_delivery"]["datetime"])


def assert_shippo(event: ShipmentUpdated, doc: dict[str, Any]) -> None:
    data = doc["data"]
    status = data["tracking_status"]
    assert event.source is Source.SHIPPO
    assert event.tracking_code == data["tracking_number"]
    assert event.carrier == data["carrier"]
    assert event.occurred_at == max(
        ts(entry["status_date"]) for entry in [*data["tracking_history"], status]
    )
    assert event.status_detail == status["substatus"]["code"]
    assert event.shipment_id == data.get("transaction")


@check("shippo/track_updated.delivered.json")
def _shippo_delivered(doc: dict[str, Any]) -> None:
    event = one(run(Source.SHIPPO, doc))
    assert_shippo(event, doc)
    assert event.status is ShipmentStatus.DELIVERED
    assert doc["data"]["metadata"] == "Order 000123"
    assert event.order_id == "000123"
    assert event.location == "Las Vegas, NV, US"
    assert event.estimated_delivery == ts(doc["data"]["eta"])


@check("shippo/track_updated.pre_transit.json")
def _shippo_pre_transit(doc: dict[str, Any]) -> None:
    event = one(run(Source.SHIPPO, doc))
    assert_shippo(event, doc)
    assert event.status is ShipmentStatus.PRE_TRANSIT
    assert (event.order_id, event.location) == (None, None)


@check("shippo/track_updated.accepted.json")
def _shippo_accepted(doc: dict[str, Any]) -> None:
    event = one(run(Source.SHIPPO, doc))
    assert_shippo(event, doc)
    assert event.status is ShipmentStatus.IN_TRANSIT  # TRANSIT / package_accepted


def test_every_sample_has_expectations() -> None:
    assert sorted(CHECKS) == SAMPLE_NAMES


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample(name: str) -> None:
    if name not in CHECKS:
        pytest.fail(f"sample {name} has no expectations in this test")
    CHECKS[name](load(name))


# --- EasyPost edges -------------------------------------------------------------------------------


def easypost_event(**tracker_overrides: Any) -> dict[str, Any]:
    doc = copy.deepcopy(load("easypost/event-body.json"))
    doc["result"].update(tracker_overrides)
    return doc


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("pre_transit", ShipmentStatus.PRE_TRANSIT),
        ("in_transit", ShipmentStatus.IN_TRANSIT),
        ("out_for_delivery", ShipmentStatus.OUT_FOR_DELIVERY),
        ("delivered", ShipmentStatus.DELIVERED),
        ("available_for_pickup", ShipmentStatus.AVAILABLE_FOR_PICKUP),
        ("return_to_sender", ShipmentStatus.RETURN_TO_SENDER),
        ("failure", ShipmentStatus.FAILURE),
        ("cancelled", ShipmentStatus.CANCELLED),
        ("error", ShipmentStatus.UNKNOWN),
        ("unknown", ShipmentStatus.UNKNOWN),
        ("teleported", ShipmentStatus.UNKNOWN),
    ],
)
def test_easypost_statuses(raw: str, expected: ShipmentStatus) -> None:
    event = easypost_event(status=raw, status_detail=None, tracking_details=[])
    assert one(run(Source.EASYPOST, event)).status is expected


@pytest.mark.parametrize(
    ("raw", "detail", "expected"),
    [
        ("failure", "lost", ShipmentStatus.LOST),
        ("failure", "damaged", ShipmentStatus.DAMAGED),
        ("in_transit", "weather_delay", ShipmentStatus.DELAYED),
        ("in_transit", "delayed", ShipmentStatus.DELAYED),
        ("out_for_delivery", "delivery_exception", ShipmentStatus.ATTEMPT_FAILED),
        ("failure", "delivery_exception", ShipmentStatus.ATTEMPT_FAILED),
        ("failure", "refused", ShipmentStatus.EXCEPTION),
        ("failure", "unknown", ShipmentStatus.FAILURE),
        ("in_transit", "arrived_at_facility", ShipmentStatus.IN_TRANSIT),
        # A detail never overrides an outcome.
        ("delivered", "lost", ShipmentStatus.DELIVERED),
        ("return_to_sender", "damaged", ShipmentStatus.RETURN_TO_SENDER),
        ("error", "lost", ShipmentStatus.UNKNOWN),
    ],
)
def test_easypost_status_detail_refines(raw: str, detail: str, expected: ShipmentStatus) -> None:
    event = easypost_event(status=raw, status_detail=detail, tracking_details=[])
    assert one(run(Source.EASYPOST, event)).status is expected


def test_easypost_without_details_uses_the_event_time() -> None:
    event = one(run(Source.EASYPOST, easypost_event(tracking_details=[], shipment_id="shp_1")))
    assert event.occurred_at == datetime(2024, 8, 2, 19, 26, 52, tzinfo=UTC)
    assert (event.shipment_id, event.location) == ("shp_1", None)


def test_easypost_non_tracker_events_and_malformed_ones() -> None:
    with pytest.raises(Ignored, match=r"'batch\.created'"):
        run(Source.EASYPOST, {"object": "Event", "description": "batch.created", "result": {}})
    with pytest.raises(Malformed, match="result is missing"):
        run(Source.EASYPOST, {"object": "Event", "description": "tracker.updated"})
    with pytest.raises(Malformed, match="tracking_code is missing"):
        run(Source.EASYPOST, easypost_event(tracking_code=None))
    with pytest.raises(Malformed, match="status is missing"):
        run(Source.EASYPOST, easypost_event(status=""))


# --- AfterShip edges ------------------------------------------------------------------------------


def tracking(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "trk-1",
        "tracking_number": "1Z0000000000000001",
        "slug": "ups",
        "tag": "InTransit",
        "subtag": "InTransit_001",
        "subtag_message": "In Transit",
        "order_id": None,
        "order_number": "#1001",
        "updated_at": "2025-05-01T10:00:00+00:00",
        "return_to_sender": False,
        "checkpoints": [],
    }
    obj.update(overrides)
    return obj


@pytest.mark.parametrize(
    ("tag", "subtag", "expected"),
    [
        ("Pending", "Pending_001", ShipmentStatus.PRE_TRANSIT),
        ("InfoReceived", "InfoReceived_001", ShipmentStatus.PRE_TRANSIT),
        ("InTransit", "InTransit_007", ShipmentStatus.IN_TRANSIT),
        ("OutForDelivery", "OutForDelivery_001", ShipmentStatus.OUT_FOR_DELIVERY),
        ("AvailableForPickup", "AvailableForPickup_001", ShipmentStatus.AVAILABLE_FOR_PICKUP),
        ("Delivered", "Delivered_002", ShipmentStatus.DELIVERED),
        # An attempt that failed and a delay are not a loss (issue 13.1).
        ("AttemptFail", "AttemptFail_001", ShipmentStatus.ATTEMPT_FAILED),
        ("AttemptFail", "AttemptFail_003", ShipmentStatus.ATTEMPT_FAILED),
        ("Exception", "Exception_004", ShipmentStatus.DELAYED),
        ("Exception", "Exception_005", ShipmentStatus.DELAYED),
        ("Exception", "Exception_017", ShipmentStatus.DELAYED),
        ("Exception", "Exception_013", ShipmentStatus.LOST),
        ("Exception", "Exception_012", ShipmentStatus.DAMAGED),
        ("Exception", "Exception_003", ShipmentStatus.EXCEPTION),
        ("Exception", "Exception_001", ShipmentStatus.EXCEPTION),
        ("Exception", None, ShipmentStatus.EXCEPTION),
        # A subtag only refines its own tag.
        ("InTransit", "Exception_013", ShipmentStatus.IN_TRANSIT),
        ("Exception", "Exception_010", ShipmentStatus.RETURN_TO_SENDER),
        ("Exception", "Exception_011", ShipmentStatus.RETURN_TO_SENDER),
        ("Exception", "Exception_020", ShipmentStatus.CANCELLED),
        ("Expired", "Expired_001", ShipmentStatus.UNKNOWN),
        ("SomethingNew", None, ShipmentStatus.UNKNOWN),
    ],
)
def test_aftership_tags(tag: str, subtag: str | None, expected: ShipmentStatus) -> None:
    payload = aftership_webhook(tracking(tag=tag, subtag=subtag))
    assert one(run(Source.AFTERSHIP, payload)).status is expected


def test_aftership_return_flag_order_number_and_naive_checkpoint_times() -> None:
    checkpoints = [
        {"checkpoint_time": "2025-05-02T08:00:00", "city": "Leeds", "country_name": "UK"},
        {"checkpoint_time": "2025-05-01T09:00:00+02:00", "location": "Paris FR"},
    ]
    payload = aftership_webhook(
        tracking(tag="Delivered", return_to_sender=True, checkpoints=checkpoints)
    )
    event = one(run(Source.AFTERSHIP, payload))
    assert event.status is ShipmentStatus.RETURN_TO_SENDER
    assert event.order_id == "#1001"  # order_number when order_id is empty
    assert event.occurred_at == datetime(2025, 5, 2, 8, 0, tzinfo=UTC)  # no offset → UTC
    assert event.location == "Leeds, UK"


def test_aftership_without_checkpoints_uses_updated_at_and_order_id_wins() -> None:
    event = one(run(Source.AFTERSHIP, aftership_webhook(tracking(order_id="ord-9"))))
    assert event.occurred_at == datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    assert (event.order_id, event.location) == ("ord-9", None)


def test_aftership_envelope_problems() -> None:
    with pytest.raises(Ignored, match="'tracking_deleted'"):
        run(Source.AFTERSHIP, aftership_webhook(tracking(), event="tracking_deleted"))
    with pytest.raises(Malformed, match="webhook envelope"):
        run(Source.AFTERSHIP, load("aftership/GetTrackingResult.json"))  # the API response
    with pytest.raises(Malformed, match="msg is missing"):
        run(Source.AFTERSHIP, {"event": "tracking_update", "ts": 1})
    with pytest.raises(Malformed, match="tracking_number is missing"):
        run(Source.AFTERSHIP, aftership_webhook(tracking(tracking_number="")))


# --- Shippo edges ---------------------------------------------------------------------------------


def shippo(status: str, substatus: str | None = None, **data: Any) -> dict[str, Any]:
    current: dict[str, Any] = {
        "status": status,
        "status_date": "2025-05-03T12:00:00Z",
        "status_details": "Carrier says so",
        "substatus": None if substatus is None else {"code": substatus, "text": "t"},
    }
    body: dict[str, Any] = {
        "carrier": "usps",
        "tracking_number": "9400000000000000000000",
        "tracking_status": current,
        "tracking_history": [],
    }
    body.update(data)
    return {"event": "track_updated", "test": True, "data": body}


@pytest.mark.parametrize(
    ("status", "substatus", "expected"),
    [
        ("PRE_TRANSIT", "information_received", ShipmentStatus.PRE_TRANSIT),
        ("TRANSIT", "package_departed", ShipmentStatus.IN_TRANSIT),
        ("TRANSIT", "out_for_delivery", ShipmentStatus.OUT_FOR_DELIVERY),
        ("TRANSIT", "pickup_available", ShipmentStatus.AVAILABLE_FOR_PICKUP),
        ("DELIVERED", "delivered", ShipmentStatus.DELIVERED),
        ("RETURNED", "return_to_sender", ShipmentStatus.RETURN_TO_SENDER),
        ("FAILURE", "package_lost", ShipmentStatus.LOST),
        ("FAILURE", "package_damaged", ShipmentStatus.DAMAGED),
        ("FAILURE", "package_undeliverable", ShipmentStatus.EXCEPTION),
        ("FAILURE", None, ShipmentStatus.FAILURE),
        ("TRANSIT", "delivery_attempted", ShipmentStatus.ATTEMPT_FAILED),
        ("TRANSIT", "notice_left", ShipmentStatus.ATTEMPT_FAILED),
        ("TRANSIT", "delayed", ShipmentStatus.DELAYED),
        ("TRANSIT", "package_held", ShipmentStatus.DELAYED),
        ("DELIVERED", "package_lost", ShipmentStatus.DELIVERED),
        ("UNKNOWN", None, ShipmentStatus.UNKNOWN),
        ("LOST_IN_SPACE", None, ShipmentStatus.UNKNOWN),
    ],
)
def test_shippo_statuses(status: str, substatus: str | None, expected: ShipmentStatus) -> None:
    assert one(run(Source.SHIPPO, shippo(status, substatus))).status is expected


def test_shippo_without_substatus_keeps_the_carrier_wording() -> None:
    event = one(run(Source.SHIPPO, shippo("TRANSIT", metadata=None)))
    assert (event.status_detail, event.order_id) == ("Carrier says so", None)


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ("order_id=ord-77", "ord-77"),
        ("tenant=acme;order_id=ord-77;box=2", "ord-77"),
        ("ref 5, ORDER_ID: A-1", "A-1"),
        ('{"order_id": "ord-json", "x": 1}', "ord-json"),
        ('{"order_id": 1001}', "1001"),
        ("Order 000123", "000123"),
        ("Order #1001", "1001"),
        ("order no. 55", "55"),
        ("Gift for grandma", None),
        ("Orders 1, 2 and 3", None),
        ("{not json", None),
        ("", None),
        (None, None),
        (42, None),  # a bare number is not a reference by any rule above
    ],
)
def test_shippo_order_reference_convention(metadata: object, expected: str | None) -> None:
    assert shippo_order_id(metadata) == expected


def test_shippo_problems() -> None:
    with pytest.raises(Ignored, match="'transaction_created'"):
        run(Source.SHIPPO, {"event": "transaction_created", "data": {}})
    with pytest.raises(Malformed, match="no 'event'"):
        run(Source.SHIPPO, {"data": {}})
    broken = shippo("TRANSIT")
    del broken["data"]["tracking_status"]
    with pytest.raises(Malformed, match="tracking_status is missing"):
        run(Source.SHIPPO, broken)
    undated = shippo("TRANSIT")
    undated["data"]["tracking_status"]["status_date"] = None
    with pytest.raises(Malformed, match="no status_date or object_updated"):
        run(Source.SHIPPO, undated)


# --- hostile input --------------------------------------------------------------------------------

HOSTILE_CASES: list[tuple[str, Source, dict[str, Any]]] = [
    ("easypost/event-body.json", Source.EASYPOST, load("easypost/event-body.json")),
    ("easypost/tracking-webhook.json", Source.EASYPOST, load("easypost/tracking-webhook.json")),
    (
        "aftership/GetTrackingResult.json",
        Source.AFTERSHIP,
        aftership_webhook(load("aftership/GetTrackingResult.json")["data"]["tracking"]),
    ),
    *[(name, Source.SHIPPO, load(name)) for name in SAMPLE_NAMES if name.startswith("shippo/")],
]


@pytest.mark.parametrize(
    ("label", "source", "doc"), HOSTILE_CASES, ids=[label for label, _, _ in HOSTILE_CASES]
)
def test_hostile_mutations_of_samples_fail_cleanly(
    label: str, source: Source, doc: dict[str, Any]
) -> None:
    assert_only_documented_failures(label, doc, lambda payload: run(source, payload))


def test_bare_tracker_helper_fails_cleanly_too() -> None:
    doc = load("easypost/trackers-retrieve.json")
    assert_only_documented_failures(
        "trackers-retrieve.json",
        doc,
        lambda tracker: shipment_from_easypost_tracker(
            tracker, tenant=TENANT, event_id=EVENT_ID, received_at=RECEIVED
        ),
    )


def test_out_of_range_detail_times_are_skipped() -> None:
    doc = easypost_event()
    doc["result"]["tracking_details"][-1]["datetime"] = "9999-12-31T23:59:59-23:59"
    event = one(run(Source.EASYPOST, doc))
    assert event.occurred_at == datetime(2024, 8, 2, 18, 35, 20, tzinfo=UTC)


# --- the carrier sandbox's attempts and losses, through each provider's normaliser --------------


@pytest.mark.parametrize("provider", ["easypost", "aftership", "shippo"])
@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        ("attempted", ["attempt_failed", "out_for_delivery", "delivered"]),
        ("found", ["lost", "delivered"]),
    ],
)
def test_sandbox_attempts_and_losses_normalise_alike(
    provider: str, outcome: str, expected: list[str]
) -> None:
    import random

    from local.sandboxes import carriers as sandbox

    rng = random.Random(7)
    journey = sandbox.plan_journey(
        rng,
        order_id="o-1",
        provider=sandbox.Provider(provider),
        shipped_at=RECEIVED,
        destination=sandbox.HUBS[0],
        outcome=sandbox.Outcome(outcome),
    )
    statuses = []
    for upto in range(len(journey.checkpoints)):
        if provider == "easypost":
            payload = sandbox.easypost_event(journey, upto, event_id=f"e{upto}", user_id="u")
        elif provider == "aftership":
            payload = sandbox.aftership_event(journey, upto, event_id=f"e{upto}", tracking_id="t")
        else:
            payload = sandbox.shippo_event(journey, upto)
        statuses.append(str(one(run(Source(provider), payload)).status))
    assert statuses[-len(expected) :] == expected
