"""Parcel journeys and the tracking webhooks three aggregators send about them.

A ``Journey`` is the ground truth: checkpoints with strictly increasing times, in one
carrier-neutral vocabulary (``shared.events.ShipmentStatus`` values), ending delivered,
available for pickup, failed, returned to sender, or not at all (lost: the last scan is in
transit); an ``attempted`` journey fails its first delivery attempt and delivers the next day, a
``found`` one is declared lost by the carrier and delivered after all. Each provider spells an
attempt and a loss its own way (EasyPost ``out_for_delivery``/``delivery_exception`` and
``failure``/``lost``; AfterShip ``AttemptFail`` and ``Exception_013``; Shippo
``delivery_attempted`` and ``package_lost``). Each checkpoint becomes one webhook, as the
aggregator would send it:

- EasyPost: an ``Event`` (``description: "tracker.updated"``) whose ``result`` is the
  ``Tracker`` with every ``tracking_details`` entry so far; ``X-Hmac-Signature``.
- AfterShip: ``{"event": "tracking_update", "event_id", "is_tracking_first_tag", "ts", "msg"}``
  with the tracking object (``tag``/``subtag``, ``order_id``, ``checkpoints``);
  ``aftership-hmac-sha256``.
- Shippo: ``{"event": "track_updated", "test": true, "data": …}`` with ``tracking_status``,
  ``tracking_history`` and ``metadata: "order_id=<id>"``; the tenant's token in the URL and,
  when the tenant has a secret, ``X-Shippo-Signature``.

EasyPost trackers carry no order reference; the shop's fulfilment event links the tracking
code to the order (see ``shop.order_fulfilled``).
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from local.sandboxes.delivery import Delivery, Signer, webhook_url
from shared.signing import sign_aftership, sign_easypost, sign_shippo

JSON = dict[str, Any]


class Provider(StrEnum):
    EASYPOST = "easypost"
    AFTERSHIP = "aftership"
    SHIPPO = "shippo"


class Outcome(StrEnum):
    DELIVERED = "delivered"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    FAILURE = "failure"
    RETURN_TO_SENDER = "return_to_sender"
    LOST = "lost"
    ATTEMPTED = "attempted"  # a failed attempt, delivered the next day
    FOUND = "found"  # declared lost by the carrier, delivered after all


@dataclass(frozen=True)
class Place:
    city: str
    state: str | None
    country: str
    zip: str


@dataclass(frozen=True)
class Checkpoint:
    status: str  # carrier-neutral: pre_transit, in_transit, out_for_delivery, delivered, …
    detail: str  # EasyPost's status_detail vocabulary
    message: str
    at: datetime
    place: Place


@dataclass(frozen=True)
class Courier:
    easypost: str
    aftership: str
    shippo: str
    service: str


COURIERS: Mapping[str, Courier] = {
    "usps": Courier("USPS", "usps", "usps", "Priority Mail"),
    "ups": Courier("UPS", "ups", "ups", "UPS Ground"),
    "fedex": Courier("FedEx", "fedex", "fedex", "FEDEX_GROUND"),
    "dhl": Courier("DHLExpress", "dhl", "dhl_express", "EXPRESS WORLDWIDE"),
}


@dataclass(frozen=True)
class Journey:
    provider: Provider
    courier: str  # a COURIERS key
    tracking_code: str
    order_id: str
    outcome: Outcome
    origin: Place
    destination: Place
    checkpoints: tuple[Checkpoint, ...]
    tracker_id: str
    shipment_id: str
    est_delivery: datetime
    signed_by: str | None = None

    @property
    def final_status(self) -> str:
        return self.checkpoints[-1].status

    @property
    def carrier_name(self) -> str:
        """The courier as this journey's provider spells it."""
        return str(getattr(COURIERS[self.courier], self.provider.value))


@dataclass(frozen=True)
class CarrierSecrets:
    easypost: str
    aftership: str
    shippo_token: str
    shippo_secret: str | None = None


ORIGINS = (
    Place("Orlando", "FL", "US", "32809"),
    Place("Reno", "NV", "US", "89502"),
    Place("Columbus", "OH", "US", "43215"),
)
HUBS = (
    Place("Memphis", "TN", "US", "38118"),
    Place("Louisville", "KY", "US", "40209"),
    Place("Indianapolis", "IN", "US", "46241"),
    Place("Dallas", "TX", "US", "75261"),
    Place("Leipzig", None, "DE", "04435"),
    Place("East Midlands", None, "GB", "DE74 2SA"),
)
_ISO3 = {"US": "USA", "GB": "GBR", "DE": "DEU", "FR": "FRA", "NL": "NLD", "CA": "CAN",
         "AU": "AUS", "BR": "BRA", "NG": "NGA", "JP": "JPN"}  # fmt: skip
_COUNTRY_NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany",
                  "FR": "France", "NL": "Netherlands", "CA": "Canada", "AU": "Australia",
                  "BR": "Brazil", "NG": "Nigeria", "JP": "Japan"}  # fmt: skip


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choices("0123456789", k=n))


def tracking_code(rng: random.Random, courier: str) -> str:
    if courier == "usps":
        return "9400" + _digits(rng, 18)
    if courier == "ups":
        return "1Z" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPRSTUVWXYZ", k=16))
    if courier == "fedex":
        return _digits(rng, 12)
    return _digits(rng, 10)


def plan_journey(
    rng: random.Random,
    *,
    order_id: str,
    provider: Provider,
    shipped_at: datetime,
    destination: Place,
    outcome: Outcome = Outcome.DELIVERED,
    courier: str | None = None,
    hops: int | None = None,
    recipient: str | None = None,
) -> Journey:
    """A parcel's checkpoints from label to outcome; ``hops`` in-transit scans (3 to 6)."""
    courier = courier or rng.choice(sorted(COURIERS))
    origin = rng.choice(ORIGINS)
    hops = hops if hops is not None else rng.randint(3, 6)
    at = shipped_at
    points: list[Checkpoint] = []

    def add(status: str, detail: str, message: str, place: Place, low_h: float = 1.0,
            high_h: float = 14.0) -> None:  # fmt: skip
        nonlocal at
        if points:
            at = at + timedelta(hours=rng.uniform(low_h, high_h))
        points.append(Checkpoint(status, detail, message, at.replace(microsecond=0), place))

    add("pre_transit", "label_created", "Shipping label created", origin)
    add("in_transit", "arrived_at_facility", "Picked up", origin, 2, 20)
    route = rng.sample(HUBS[:4], k=min(hops - 1, 4))
    for hub in route:
        add("in_transit", "arrived_at_facility", "Arrived at facility", hub)
        add("in_transit", "departed_facility", "Departed facility", hub, 0.5, 6)
    local = Place(destination.city, destination.state, destination.country, destination.zip)
    if outcome is Outcome.LOST:
        add("in_transit", "in_transit", "In transit to next facility", local)
    elif outcome is Outcome.RETURN_TO_SENDER:
        add("out_for_delivery", "out_for_delivery", "Out for delivery", local)
        add("in_transit", "return", "Delivery refused; returning to sender", local, 3, 10)
        add("in_transit", "return", "In transit back to sender", rng.choice(HUBS[:4]), 12, 30)
        add("return_to_sender", "return", "Returned to sender", origin, 12, 40)
    elif outcome is Outcome.AVAILABLE_FOR_PICKUP:
        add("available_for_pickup", "arrived_at_pickup_location",
            "Available for pickup at a nearby access point", local, 4, 12)  # fmt: skip
    elif outcome is Outcome.FAILURE:
        add("out_for_delivery", "out_for_delivery", "Out for delivery", local)
        add("failure", "damaged", "Package damaged; delivery not possible", local, 2, 8)
    elif outcome is Outcome.ATTEMPTED:
        add("out_for_delivery", "out_for_delivery", "Out for delivery", local)
        add("attempt_failed", "delivery_exception",
            "Delivery attempted; recipient not available", local, 2, 6)  # fmt: skip
        add("out_for_delivery", "out_for_delivery", "Out for delivery", local, 16, 20)
        add("delivered", "arrived_at_destination", "Delivered, front door", local, 1, 6)
    elif outcome is Outcome.FOUND:
        add("lost", "lost", "Package lost; the carrier is investigating", local, 24, 48)
        add("delivered", "arrived_at_destination", "Delivered, front door", local, 24, 72)
    else:
        add("out_for_delivery", "out_for_delivery", "Out for delivery", local)
        add("delivered", "arrived_at_destination", "Delivered, front door", local, 1, 6)
    return Journey(
        provider=provider,
        courier=courier,
        tracking_code=tracking_code(rng, courier),
        order_id=order_id,
        outcome=outcome,
        origin=origin,
        destination=destination,
        checkpoints=tuple(points),
        tracker_id=f"trk_{rng.getrandbits(128):032x}",
        shipment_id=f"shp_{rng.getrandbits(128):032x}",
        est_delivery=(shipped_at + timedelta(days=rng.randint(3, 5))).replace(
            hour=0, minute=0, second=0, microsecond=0
        ),
        signed_by=recipient.upper() if recipient and points[-1].status == "delivered" else None,
    )


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# -- EasyPost -----------------------------------------------------------------------------------


def _ep_location(place: Place) -> JSON:
    return {
        "object": "TrackingLocation",
        "city": place.city.upper(),
        "state": place.state,
        "country": place.country,
        "zip": place.zip,
    }


# Neutral statuses EasyPost has no status for: its status and status_detail for them.
_EASYPOST_SPELLING = {
    "attempt_failed": ("out_for_delivery", "delivery_exception"),
    "lost": ("failure", "lost"),
}


def _ep_status(point: Checkpoint) -> tuple[str, str]:
    return _EASYPOST_SPELLING.get(point.status, (point.status, point.detail))


def easypost_event(journey: Journey, upto: int, *, event_id: str, user_id: str) -> JSON:
    """The ``tracker.updated`` Event for the journey as of checkpoint ``upto`` (0-based)."""
    seen = journey.checkpoints[: upto + 1]
    latest = seen[-1]
    previous = _ep_status(seen[-2])[0] if len(seen) > 1 else None
    latest_status, latest_detail = _ep_status(latest)
    courier = COURIERS[journey.courier]
    final = latest.status in ("delivered", "return_to_sender", "failure")
    tracker = {
        "id": journey.tracker_id,
        "object": "Tracker",
        "mode": "test",
        "tracking_code": journey.tracking_code,
        "status": latest_status,
        "status_detail": latest_detail,
        "created_at": _z(journey.checkpoints[0].at),
        "updated_at": _z(latest.at),
        "signed_by": journey.signed_by if latest.status == "delivered" else None,
        "weight": 17.6,
        "est_delivery_date": _z(journey.est_delivery),
        "shipment_id": journey.shipment_id,
        "carrier": courier.easypost,
        "tracking_details": [
            {
                "object": "TrackingDetail",
                "message": point.message,
                "description": point.message,
                "status": _ep_status(point)[0],
                "status_detail": _ep_status(point)[1],
                "datetime": _z(point.at),
                "source": courier.easypost,
                "carrier_code": None,
                "tracking_location": _ep_location(point.place),
            }
            for point in seen
        ],
        "carrier_detail": {
            "object": "CarrierDetail",
            "service": courier.service,
            "container_type": None,
            "est_delivery_date_local": journey.est_delivery.date().isoformat(),
            "est_delivery_time_local": None,
            "origin_location": f"{journey.origin.city.upper()} {journey.origin.state or ''} "
            f"{journey.origin.country}".replace("  ", " "),
            "origin_tracking_location": _ep_location(journey.origin),
            "destination_location": f"{journey.destination.city.upper()} "
            f"{journey.destination.country}",
            "destination_tracking_location": None,
            "guaranteed_delivery_date": None,
            "alternate_identifier": None,
            "initial_delivery_attempt": None,
        },
        "finalized": final,
        "is_return": latest.detail == "return",
        "public_url": f"https://track.easypost.com/{journey.tracker_id[4:20]}",
        "fees": [],
    }
    return {
        "id": event_id,
        "object": "Event",
        "mode": "test",
        "description": "tracker.updated",
        "previous_attributes": (
            {"status": previous} if previous not in (None, latest_status) else {}
        ),
        "created_at": _z(latest.at),
        "updated_at": _z(latest.at),
        "pending_urls": [],
        "completed_urls": [],
        "user_id": user_id,
        "status": "pending",
        "result": tracker,
    }


# -- AfterShip ----------------------------------------------------------------------------------

_IN_TRANSIT_SUBTAGS = {
    "arrived_at_facility": ("InTransit_003", "Arrival scan"),
    "departed_facility": ("InTransit_007", "Departure Scan"),
    "in_transit": ("InTransit_001", "In Transit"),
    "return": ("InTransit_001", "In Transit"),
}


def aftership_tag(point: Checkpoint, first_pickup: bool = False) -> tuple[str, str, str]:
    """(tag, subtag, subtag_message) for a checkpoint."""
    if point.status == "pre_transit":
        return "InfoReceived", "InfoReceived_001", "Info Received"
    if point.status == "in_transit":
        if first_pickup:
            return "InTransit", "InTransit_002", "Acceptance scan"
        subtag, message = _IN_TRANSIT_SUBTAGS.get(point.detail, ("InTransit_001", "In Transit"))
        return "InTransit", subtag, message
    if point.status == "out_for_delivery":
        return "OutForDelivery", "OutForDelivery_001", "Out for Delivery"
    if point.status == "delivered":
        return "Delivered", "Delivered_001", "Delivered"
    if point.status == "available_for_pickup":
        return "AvailableForPickup", "AvailableForPickup_001", "Available for pickup"
    if point.status == "return_to_sender":
        return "Exception", "Exception_011", "Returned to sender"
    if point.status == "attempt_failed":
        return "AttemptFail", "AttemptFail_002", "Recipient not available"
    if point.status == "lost":
        return "Exception", "Exception_013", "Shipment lost"
    return "Exception", "Exception_001", "Exception"


def aftership_event(journey: Journey, upto: int, *, event_id: str, tracking_id: str) -> JSON:
    seen = journey.checkpoints[: upto + 1]
    latest = seen[-1]
    tags = [aftership_tag(p, first_pickup=i == 1) for i, p in enumerate(seen)]
    tag, subtag, subtag_message = tags[-1]
    courier = COURIERS[journey.courier]
    delivered = latest.status == "delivered"
    final = latest.status in ("delivered", "return_to_sender", "failure")
    tracking = {
        "id": tracking_id,
        "created_at": _offset(seen[0].at),
        "updated_at": _offset(latest.at),
        "last_updated_at": _offset(latest.at),
        "tracking_number": journey.tracking_code,
        "slug": courier.aftership,
        "active": not final,
        "android": [],
        "custom_fields": None,
        "customer_name": journey.signed_by.title() if journey.signed_by else None,
        "delivery_time": (latest.at - seen[0].at).days if delivered else None,
        "destination_country_iso3": _ISO3.get(journey.destination.country),
        "courier_destination_country_iso3": _ISO3.get(journey.destination.country),
        "emails": [],
        "expected_delivery": journey.est_delivery.date().isoformat(),
        "ios": [],
        "note": None,
        "order_id": journey.order_id,
        "order_id_path": None,
        "order_date": None,
        "order_number": journey.order_id,
        "origin_country_iso3": _ISO3.get(journey.origin.country),
        "shipment_package_count": 1,
        "shipment_pickup_date": _offset(seen[1].at) if len(seen) > 1 else None,
        "shipment_delivery_date": _offset(latest.at) if delivered else None,
        "shipment_type": courier.service,
        "shipment_weight": 0.5,
        "shipment_weight_unit": "kg",
        "signed_by": journey.signed_by if delivered else None,
        "smses": [],
        "source": "api",
        "tag": tag,
        "subtag": subtag,
        "subtag_message": subtag_message,
        "title": journey.tracking_code,
        "tracked_count": upto + 1,
        "last_mile_tracking_supported": None,
        "language": None,
        "unique_token": "deprecated",
        "checkpoints": [
            {
                "slug": courier.aftership,
                "city": point.place.city,
                "created_at": _offset(point.at),
                "location": f"{point.place.city.upper()} {point.place.country}",
                "country_name": _COUNTRY_NAMES.get(point.place.country),
                "message": point.message,
                "country_iso3": _ISO3.get(point.place.country),
                "tag": point_tag[0],
                "subtag": point_tag[1],
                "subtag_message": point_tag[2],
                "checkpoint_time": _offset(point.at),
                "coordinates": [],
                "state": point.place.state,
                "zip": point.place.zip,
                "raw_tag": point.detail.upper(),
            }
            for point, point_tag in zip(seen, tags, strict=True)
        ],
        "subscribed_smses": [],
        "subscribed_emails": [],
        "return_to_sender": latest.status == "return_to_sender",
        "tracking_account_number": None,
        "tracking_origin_country": None,
        "tracking_destination_country": None,
        "tracking_key": None,
        "tracking_postal_code": None,
        "tracking_ship_date": None,
        "tracking_state": None,
        "order_promised_delivery_date": None,
        "delivery_type": "pickup_at_courier" if latest.status == "available_for_pickup" else None,
        "pickup_location": None,
        "pickup_note": None,
        "courier_tracking_link": None,
        "courier_redirect_link": None,
        "first_attempted_at": _offset(latest.at) if delivered else None,
        "aftership_estimated_delivery_date": None,
        "order_tags": None,
        "destination_raw_location": None,
        "shipment_tags": [],
        "next_couriers": [],
        "transit_time": (latest.at - seen[0].at).days if delivered else None,
    }
    return {
        "event": "tracking_update",
        "event_id": event_id,
        "is_tracking_first_tag": all(t[0] != tag for t in tags[:-1]),
        "ts": int(latest.at.timestamp()),
        "msg": tracking,
    }


# -- Shippo -------------------------------------------------------------------------------------

_SHIPPO = {
    "pre_transit": ("PRE_TRANSIT", "information_received",
                    "Information about the package received."),
    "in_transit": ("TRANSIT", "package_arrived", "The package arrived at a carrier facility."),
    "out_for_delivery": ("TRANSIT", "out_for_delivery", "The package is out for delivery."),
    "delivered": ("DELIVERED", "delivered", "The package has been delivered."),
    "available_for_pickup": ("TRANSIT", "pickup_available",
                             "The package is available for pickup."),
    "return_to_sender": ("RETURNED", "return_to_sender",
                         "The package has been returned to the sender."),
    "failure": ("FAILURE", "package_damaged", "The package was damaged."),
    "attempt_failed": ("TRANSIT", "delivery_attempted",
                       "Delivery was attempted; the carrier will try again."),
    "lost": ("FAILURE", "package_lost", "The package was lost."),
}  # fmt: skip


def _shippo_status(journey: Journey, point: Checkpoint, index: int) -> JSON:
    status, code, text = _SHIPPO[point.status]
    if point.status == "in_transit" and index == 1:
        code, text = "package_accepted", "Package has been accepted into the carrier network."
    elif point.detail == "departed_facility":
        code, text = "package_departed", "The package departed a carrier facility."
    location = {
        "city": point.place.city,
        "state": point.place.state,
        "zip": point.place.zip,
        "country": point.place.country,
    }
    return {
        "object_created": _z(point.at),
        "object_updated": _z(point.at),
        "object_id": f"{journey.tracker_id[4:20]}{index:04d}",
        "status": status,
        "substatus": {
            "code": code,
            "text": text,
            "action_required": status in ("FAILURE", "RETURNED"),
        },
        "status_details": point.message,
        "status_date": _z(point.at),
        "location": location,
    }


def shippo_event(journey: Journey, upto: int) -> JSON:
    seen = journey.checkpoints[: upto + 1]
    history = [_shippo_status(journey, point, i) for i, point in enumerate(seen)]
    courier = COURIERS[journey.courier]

    def address(place: Place) -> JSON:
        return {"city": place.city, "state": place.state, "zip": place.zip,
                "country": place.country}  # fmt: skip

    return {
        "event": "track_updated",
        "test": True,
        "data": {
            "address_from": address(journey.origin),
            "address_to": address(journey.destination),
            "carrier": courier.shippo,
            "eta": _z(journey.est_delivery),
            "original_eta": _z(journey.est_delivery),
            "messages": [],
            "metadata": f"order_id={journey.order_id}",
            "servicelevel": {"name": courier.service, "token": f"{courier.shippo}_standard"},
            "tracking_history": history,
            "tracking_number": journey.tracking_code,
            "tracking_status": history[-1],
            "transaction": journey.shipment_id[4:],
        },
    }


# -- deliveries ---------------------------------------------------------------------------------


def _signer_easypost(secret: str) -> Signer:
    def sign(body: bytes) -> dict[str, str]:
        return {"X-Hmac-Signature": sign_easypost(body, secret)}

    return sign


def _signer_aftership(secret: str) -> Signer:
    def sign(body: bytes) -> dict[str, str]:
        return {"aftership-hmac-sha256": sign_aftership(body, secret)}

    return sign


def _signer_shippo(secret: str | None) -> Signer:
    def sign(body: bytes) -> dict[str, str]:
        return {"X-Shippo-Signature": sign_shippo(body, secret)} if secret else {}

    return sign


def journey_deliveries(
    journey: Journey,
    *,
    rng: random.Random,
    base_url: str,
    tenant: str,
    secrets: CarrierSecrets,
    updates: Sequence[int] | None = None,
) -> list[Delivery]:
    """One webhook per checkpoint (or per index in ``updates``), each a distinct event."""
    indexes = list(range(len(journey.checkpoints))) if updates is None else list(updates)
    deliveries: list[Delivery] = []
    if journey.provider is Provider.EASYPOST:
        url = webhook_url(base_url, tenant, "carriers", "easypost")
        user_id = f"user_{rng.getrandbits(64):016x}"
        for index in indexes:
            event = easypost_event(
                journey, index, event_id=f"evt_{rng.getrandbits(128):032x}", user_id=user_id
            )
            deliveries.append(
                Delivery(
                    url=url,
                    headers={"Content-Type": "application/json", "User-Agent": "EasyPost/v2"},
                    body=_dump(event),
                    event_id=event["id"],
                    sign=_signer_easypost(secrets.easypost),
                    source="easypost",
                )
            )
    elif journey.provider is Provider.AFTERSHIP:
        url = webhook_url(base_url, tenant, "carriers", "aftership")
        tracking_id = f"{rng.getrandbits(96):024x}"
        for index in indexes:
            event_id = _uuid(rng)
            payload = aftership_event(journey, index, event_id=event_id, tracking_id=tracking_id)
            deliveries.append(
                Delivery(
                    url=url,
                    headers={"Content-Type": "application/json", "User-Agent": "AfterShip"},
                    body=_dump(payload),
                    event_id=event_id,
                    sign=_signer_aftership(secrets.aftership),
                    source="aftership",
                )
            )
    else:
        url = webhook_url(
            base_url, tenant, "carriers", "shippo", query={"token": secrets.shippo_token}
        )
        for index in indexes:
            payload = shippo_event(journey, index)
            deliveries.append(
                Delivery(
                    url=url,
                    headers={"Content-Type": "application/json", "User-Agent": "Shippo/1.0"},
                    body=_dump(payload),
                    # Shippo sends no event id; the status object's id is unique per update.
                    event_id=str(payload["data"]["tracking_status"]["object_id"]),
                    sign=_signer_shippo(secrets.shippo_secret),
                    source="shippo",
                )
            )
    return deliveries


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _dump(payload: JSON) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
