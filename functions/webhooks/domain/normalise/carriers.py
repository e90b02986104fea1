"""Carrier tracking webhooks (EasyPost, AfterShip, Shippo) → ``ShipmentUpdated``.

Every provider's vocabulary is mapped into ``ShipmentStatus``; a value we do not know becomes
``unknown`` rather than an error, because carriers add statuses without notice and a tracking
update must never block an order.

``occurred_at`` is the time of the latest tracking detail (checkpoint, history entry), taken as
the *maximum* timestamp rather than the last list entry: details only accumulate, so the maximum
never moves backwards for one shipment, even when a provider lists them out of order. Without
details, the provider's own updated/created time is used.

Mappings (every provider's codes into the vocabulary of ``ShipmentStatus``, which keeps an
attempt that failed and a delay apart from an exception, a loss and damage):

* EasyPost ``status`` is already our vocabulary, refined by ``status_detail``: ``lost`` → lost,
  ``damaged`` → damaged; ``delayed``/``weather_delay``/``missorted``/``held`` (on a parcel still
  moving or failed) → delayed; ``delivery_exception`` on a parcel out for delivery or failed →
  attempt_failed (the carrier tried); ``refused``/``address_correction``/``transit_exception``
  → exception. ``error`` (the tracker could not be queried — bad code, carrier outage) says
  nothing about the parcel and becomes ``unknown``.
* AfterShip ``tag``: Pending/InfoReceived → pre_transit, InTransit → in_transit,
  OutForDelivery → out_for_delivery, AvailableForPickup → available_for_pickup,
  Delivered → delivered, AttemptFail → attempt_failed ("will try to deliver again"),
  Exception → exception, Expired → unknown. Exception subtags: 004/005/016/017 (delayed:
  customs, external factors, processing, weather) → delayed; 012 (damaged) → damaged; 013
  (lost) → lost; 010/011 (returning/returned to sender) → return_to_sender; 020 (shipment
  cancelled) → cancelled; ``return_to_sender: true`` on the tracking also → return_to_sender.
* Shippo ``status``: PRE_TRANSIT → pre_transit, TRANSIT → in_transit, DELIVERED → delivered,
  RETURNED → return_to_sender, FAILURE → failure, UNKNOWN → unknown; the substatus refines
  TRANSIT and FAILURE: ``out_for_delivery``, ``pickup_available``; ``delivery_attempted``,
  ``notice_left``, ``location_inaccessible`` → attempt_failed; ``delayed``,
  ``package_held``, ``reschedule_delivery``, ``delivery_rescheduled`` → delayed;
  ``package_damaged`` → damaged; ``package_lost``, ``package_disposed`` → lost;
  ``return_to_sender``, ``package_returned`` → return_to_sender; ``address_issue``,
  ``contact_carrier``, ``package_undeliverable`` → exception.

Order references: EasyPost trackers carry none (only ``shipment_id``); AfterShip has
``order_id`` (falling back to ``order_number``); Shippo has a free-text ``metadata`` string,
read by the convention in ``shippo_order_id``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from functions.webhooks.domain.normalise import (
    Context,
    as_list,
    as_obj,
    iso_time,
    need_obj,
    need_text,
    text,
    unix_time,
)
from shared.events import DomainEvent, Ignored, Malformed, ShipmentStatus, ShipmentUpdated, Source

__all__ = [
    "easypost_status",
    "normalise_aftership",
    "normalise_easypost",
    "normalise_shippo",
    "shipment_from_easypost_tracker",
    "shippo_order_id",
]


def _latest(entries: Iterable[tuple[datetime | None, Any]]) -> tuple[datetime | None, Any]:
    """The entry with the greatest time; on ties the later one in the list wins."""
    best: tuple[datetime | None, Any] = (None, None)
    for when, entry in entries:
        if when is not None and (best[0] is None or when >= best[0]):
            best = (when, entry)
    return best


def _place(*parts: Any) -> str | None:
    found = [value for part in parts if (value := text(part))]
    return ", ".join(found) or None


# --- EasyPost -----------------------------------------------------------------------------------

_EASYPOST_STATUS = {
    "pre_transit": ShipmentStatus.PRE_TRANSIT,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "delivered": ShipmentStatus.DELIVERED,
    "available_for_pickup": ShipmentStatus.AVAILABLE_FOR_PICKUP,
    "return_to_sender": ShipmentStatus.RETURN_TO_SENDER,
    "failure": ShipmentStatus.FAILURE,
    "cancelled": ShipmentStatus.CANCELLED,
    "error": ShipmentStatus.UNKNOWN,
    "unknown": ShipmentStatus.UNKNOWN,
}
_EASYPOST_TRACKER_EVENTS = {"tracker.created", "tracker.updated"}
# What ``status_detail`` says beyond the status, for a parcel not delivered or returned.
_EASYPOST_DETAIL = {
    "lost": ShipmentStatus.LOST,
    "damaged": ShipmentStatus.DAMAGED,
    "delayed": ShipmentStatus.DELAYED,
    "weather_delay": ShipmentStatus.DELAYED,
    "missorted": ShipmentStatus.DELAYED,
    "held": ShipmentStatus.DELAYED,
    "refused": ShipmentStatus.EXCEPTION,
    "address_correction": ShipmentStatus.EXCEPTION,
    "transit_exception": ShipmentStatus.EXCEPTION,
}
_EASYPOST_REFINED = frozenset(
    {
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.FAILURE,
        ShipmentStatus.UNKNOWN,
    }
)


def easypost_status(status: str, detail: str | None) -> ShipmentStatus:
    """The vocabulary's word for an EasyPost ``status`` and ``status_detail``."""
    coarse = _EASYPOST_STATUS.get(status.lower(), ShipmentStatus.UNKNOWN)
    if coarse not in _EASYPOST_REFINED or detail is None:
        return coarse
    detail = detail.lower()
    if detail == "delivery_exception" and coarse in (
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.FAILURE,
    ):
        return ShipmentStatus.ATTEMPT_FAILED
    if coarse is ShipmentStatus.UNKNOWN and status.lower() == "error":
        return coarse
    return _EASYPOST_DETAIL.get(detail, coarse)


def normalise_easypost(payload: dict[str, Any], ctx: Context) -> list[DomainEvent]:
    kind = text(payload.get("object"))
    if kind != "Event":
        raise Malformed(f"easypost webhook is a {kind!r} object, not an Event")
    description = need_text(payload.get("description"), "easypost event description")
    if description not in _EASYPOST_TRACKER_EVENTS:
        raise Ignored(f"easypost event {description!r} is stored but not acted on")
    tracker = need_obj(payload.get("result"), f"easypost {description}: result")
    if tracker.get("object") != "Tracker":
        raise Malformed(f"easypost {description}: result is not a Tracker")
    fallback = iso_time(payload.get("updated_at")) or iso_time(payload.get("created_at"))
    return [_easypost_tracker(tracker, ctx, fallback)]


def shipment_from_easypost_tracker(
    tracker: dict[str, Any], *, tenant: str, event_id: str, received_at: datetime
) -> ShipmentUpdated:
    """A bare EasyPost Tracker (as ``GET /trackers/:id`` returns it) as a ``ShipmentUpdated``.

    For polling and backfills, where there is no webhook envelope around the tracker.
    """
    if not isinstance(tracker, dict) or tracker.get("object") != "Tracker":
        raise Malformed("easypost object is not a Tracker")
    ctx = Context(tenant=tenant, source=Source.EASYPOST, event_id=event_id, received_at=received_at)
    return _easypost_tracker(tracker, ctx, None)


def _easypost_tracker(
    tracker: dict[str, Any], ctx: Context, fallback: datetime | None
) -> ShipmentUpdated:
    where = "easypost tracker"
    raw_status = need_text(tracker.get("status"), f"{where}: status")
    details = [d for d in as_list(tracker.get("tracking_details")) if isinstance(d, dict)]
    when, latest = _latest((iso_time(d.get("datetime")), d) for d in details)
    occurred_at = (
        when
        or fallback
        or iso_time(tracker.get("updated_at"))
        or iso_time(tracker.get("created_at"))
    )
    if occurred_at is None:
        raise Malformed(f"{where}: no tracking detail, updated_at or created_at time")
    # The detail that explains the current status (for its place and wording) is the latest
    # one with that status, which need not be the latest detail overall.
    _, current = _latest(
        (iso_time(d.get("datetime")), d) for d in details if d.get("status") == raw_status
    )
    current = current or latest
    location = as_obj(current.get("tracking_location")) if current else None
    detail = text(tracker.get("status_detail")) or (
        text(current.get("status_detail")) if current else None
    )
    return ShipmentUpdated(
        **ctx.common(occurred_at),
        carrier=text(tracker.get("carrier")),
        tracking_code=need_text(tracker.get("tracking_code"), f"{where}: tracking_code"),
        status=easypost_status(raw_status, detail),
        status_detail=detail or (text(current.get("message")) if current else None),
        order_id=None,
        shipment_id=text(tracker.get("shipment_id")),
        location=_place(location.get("city"), location.get("state"), location.get("country"))
        if location
        else None,
        estimated_delivery=iso_time(tracker.get("est_delivery_date")),
        tracking_url=text(tracker.get("public_url")),
    )


# --- AfterShip ----------------------------------------------------------------------------------

_AFTERSHIP_TAG = {
    "pending": ShipmentStatus.PRE_TRANSIT,
    "inforeceived": ShipmentStatus.PRE_TRANSIT,
    "intransit": ShipmentStatus.IN_TRANSIT,
    "outfordelivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "availableforpickup": ShipmentStatus.AVAILABLE_FOR_PICKUP,
    "delivered": ShipmentStatus.DELIVERED,
    "attemptfail": ShipmentStatus.ATTEMPT_FAILED,
    "exception": ShipmentStatus.EXCEPTION,
    "expired": ShipmentStatus.UNKNOWN,
}
# Exception subtags that say more than "exception".
_AFTERSHIP_SUBTAG = {
    "exception_004": ShipmentStatus.DELAYED,  # customs clearance
    "exception_005": ShipmentStatus.DELAYED,  # external factors
    "exception_016": ShipmentStatus.DELAYED,  # processing issue
    "exception_017": ShipmentStatus.DELAYED,  # extreme weather
    "exception_010": ShipmentStatus.RETURN_TO_SENDER,
    "exception_011": ShipmentStatus.RETURN_TO_SENDER,
    "exception_012": ShipmentStatus.DAMAGED,
    "exception_013": ShipmentStatus.LOST,
    "exception_020": ShipmentStatus.CANCELLED,
}


def normalise_aftership(payload: dict[str, Any], ctx: Context) -> list[DomainEvent]:
    event = text(payload.get("event"))
    if event is None:
        raise Malformed("aftership webhook has no 'event'; is it a webhook envelope?")
    if event != "tracking_update":
        raise Ignored(f"aftership event {event!r} is stored but not acted on")
    msg = need_obj(payload.get("msg"), "aftership tracking_update: msg")
    where = "aftership tracking_update: msg"
    checkpoints = [c for c in as_list(msg.get("checkpoints")) if isinstance(c, dict)]
    when, latest = _latest((iso_time(c.get("checkpoint_time")), c) for c in checkpoints)
    occurred_at = (
        when
        or iso_time(msg.get("updated_at"))
        or iso_time(msg.get("last_updated_at"))
        or unix_time(payload.get("ts"))
    )
    if occurred_at is None:
        raise Malformed(f"{where}: no checkpoint time, updated_at or ts")
    tag = need_text(msg.get("tag"), f"{where}.tag")
    subtag = text(msg.get("subtag"))
    status = _AFTERSHIP_TAG.get(tag.lower(), ShipmentStatus.UNKNOWN)
    if status is ShipmentStatus.EXCEPTION and subtag and subtag.lower() in _AFTERSHIP_SUBTAG:
        status = _AFTERSHIP_SUBTAG[subtag.lower()]
    if msg.get("return_to_sender") is True:
        status = ShipmentStatus.RETURN_TO_SENDER
    estimate = as_obj(msg.get("latest_estimated_delivery")) or {}
    return [
        ShipmentUpdated(
            **ctx.common(occurred_at),
            carrier=text(msg.get("slug")),
            tracking_code=need_text(msg.get("tracking_number"), f"{where}.tracking_number"),
            status=status,
            status_detail=text(msg.get("subtag_message")) or subtag,
            order_id=text(msg.get("order_id")) or text(msg.get("order_number")),
            shipment_id=None,
            location=(
                text(latest.get("location"))
                or _place(latest.get("city"), latest.get("state"), latest.get("country_name"))
            )
            if latest
            else None,
            estimated_delivery=iso_time(estimate.get("datetime"))
            or iso_time(msg.get("expected_delivery")),
            tracking_url=text(msg.get("courier_tracking_link"))
            or text(msg.get("aftership_tracking_url")),
        )
    ]


# --- Shippo -------------------------------------------------------------------------------------

_SHIPPO_STATUS = {
    "PRE_TRANSIT": ShipmentStatus.PRE_TRANSIT,
    "TRANSIT": ShipmentStatus.IN_TRANSIT,
    "DELIVERED": ShipmentStatus.DELIVERED,
    "RETURNED": ShipmentStatus.RETURN_TO_SENDER,
    "FAILURE": ShipmentStatus.FAILURE,
    "UNKNOWN": ShipmentStatus.UNKNOWN,
}
# Substatuses that name one of our statuses more precisely than Shippo's coarse TRANSIT and
# FAILURE.
_SHIPPO_SUBSTATUS = {
    "out_for_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "pickup_available": ShipmentStatus.AVAILABLE_FOR_PICKUP,
    "delivery_attempted": ShipmentStatus.ATTEMPT_FAILED,
    "notice_left": ShipmentStatus.ATTEMPT_FAILED,
    "location_inaccessible": ShipmentStatus.ATTEMPT_FAILED,
    "delayed": ShipmentStatus.DELAYED,
    "package_held": ShipmentStatus.DELAYED,
    "reschedule_delivery": ShipmentStatus.DELAYED,
    "delivery_rescheduled": ShipmentStatus.DELAYED,
    "package_damaged": ShipmentStatus.DAMAGED,
    "package_lost": ShipmentStatus.LOST,
    "package_disposed": ShipmentStatus.LOST,
    "return_to_sender": ShipmentStatus.RETURN_TO_SENDER,
    "package_returned": ShipmentStatus.RETURN_TO_SENDER,
    "address_issue": ShipmentStatus.EXCEPTION,
    "contact_carrier": ShipmentStatus.EXCEPTION,
    "package_undeliverable": ShipmentStatus.EXCEPTION,
}
_SHIPPO_REFINED = frozenset({ShipmentStatus.IN_TRANSIT, ShipmentStatus.FAILURE})


def normalise_shippo(payload: dict[str, Any], ctx: Context) -> list[DomainEvent]:
    event = text(payload.get("event"))
    if event is None:
        raise Malformed("shippo webhook has no 'event'")
    if event != "track_updated":
        raise Ignored(f"shippo event {event!r} is stored but not acted on")
    where = "shippo track_updated: data"
    data = need_obj(payload.get("data"), where)
    current = need_obj(data.get("tracking_status"), f"{where}.tracking_status")
    history = [h for h in as_list(data.get("tracking_history")) if isinstance(h, dict)]
    when, _ = _latest((iso_time(h.get("status_date")), h) for h in [*history, current])
    occurred_at = (
        when or iso_time(current.get("object_updated")) or iso_time(current.get("object_created"))
    )
    if occurred_at is None:
        raise Malformed(f"{where}.tracking_status: no status_date or object_updated")
    raw_status = need_text(current.get("status"), f"{where}.tracking_status.status")
    substatus = text((as_obj(current.get("substatus")) or {}).get("code"))
    status = _SHIPPO_STATUS.get(raw_status.upper(), ShipmentStatus.UNKNOWN)
    if status in _SHIPPO_REFINED and substatus in _SHIPPO_SUBSTATUS:
        status = _SHIPPO_SUBSTATUS[substatus]
    location = as_obj(current.get("location")) or {}
    return [
        ShipmentUpdated(
            **ctx.common(occurred_at),
            carrier=text(data.get("carrier")),
            tracking_code=need_text(data.get("tracking_number"), f"{where}.tracking_number"),
            status=status,
            status_detail=substatus or text(current.get("status_details")),
            order_id=shippo_order_id(data.get("metadata")),
            shipment_id=text(data.get("transaction")),
            location=_place(location.get("city"), location.get("state"), location.get("country")),
            estimated_delivery=iso_time(data.get("eta")),
            tracking_url=text(data.get("tracking_url_provider")),
        )
    ]


_KEY_VALUE = re.compile(r"(?:^|[\s;,&])order_id\s*[=:]\s*\"?([^\s;,&\"]+)", re.IGNORECASE)
_ORDER_LABEL = re.compile(
    r"^\s*order\s*(?:no\.?|number)?\s*#?\s*([A-Za-z0-9][\w.-]*)\s*$", re.IGNORECASE
)


def shippo_order_id(metadata: Any) -> str | None:
    """Our order id from Shippo's free-text ``metadata`` (set when the label was bought).

    The convention, in order of precedence:

    1. a JSON object with ``order_id`` — ``{"order_id": "1001"}``;
    2. a key-value pair ``order_id=<id>`` (or ``order_id: <id>``) anywhere in the text, with
       other pairs separated by ``;``, ``,``, ``&`` or spaces — what we write when we buy labels;
    3. the whole text being ``Order <id>`` / ``Order #<id>`` — what Shippo's own shop
       integrations write (``"Order 000123"`` → ``"000123"``; leading zeros are kept, ids are
       strings).

    Anything else yields ``None``: metadata is free text, and an unreadable reference must not
    fail the tracking update.
    """
    raw = text(metadata)
    if raw is None:
        return None
    if raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return text(parsed.get("order_id"))
    if match := _KEY_VALUE.search(raw):
        return match.group(1)
    if match := _ORDER_LABEL.match(raw):
        return match.group(1)
    return None
