"""Normalisers: every webhook source's payload in, domain events out.

``normalise`` is the one entry point the processor calls for a stored raw event. It never does
I/O: payloads are plain dicts, and everything a normaliser needs is in the payload or in the
arguments. The provider modules are imported lazily so that a processor handling only carrier
events never pays for parsing code it does not run.

Outcomes:

* a list of domain events (usually one), each with ``source_event_id`` set to the stored
  provider event id, suffixed ``#1``, ``#2`` … in emission order when one payload yields several;
* ``Ignored``: a known source sent an event type we keep but do not act on;
* ``Malformed``: a type we act on lacks what it must carry (the message says what).

The small helpers below are shared by the provider modules; they turn "missing or wrong type"
into ``None`` (for optional fields) or into ``Malformed`` naming the field (for required ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from shared.events import DomainEvent, Ignored, Malformed, Source
from shared.money import Money

__all__ = ["Context", "Ignored", "Malformed", "normalise", "stamp_source_event_ids"]


def normalise(
    source: Source,
    tenant: str,
    payload: dict[str, Any],
    *,
    event_id: str,
    received_at: datetime,
) -> list[DomainEvent]:
    """Turn one stored webhook payload into domain events.

    ``received_at`` is when the ingress stored the payload. It is carried in the ``Context`` for
    diagnostics only and deliberately never becomes ``occurred_at``: ordering within an
    aggregate must follow the provider's clock, not our delivery order (retries arrive days
    late). Only the payload — what the source signed — decides the events: no unsigned header
    (Shopify's ``X-Shopify-Topic`` among them) is consulted.
    """
    if not isinstance(payload, dict):
        raise Malformed(f"{source} payload is {type(payload).__name__}, not a JSON object")
    if not event_id:
        raise Malformed(f"{source} payload has no provider event id")
    ctx = Context(tenant=tenant, source=Source(source), event_id=event_id, received_at=received_at)
    try:
        events = _dispatch(ctx, payload)
    except ValidationError as exc:
        # A field the provider sent passed our parsing but not the event model (say, a
        # currency that is not three letters): that is the payload's fault, not ours.
        raise Malformed(f"{source} payload does not make a valid event: {_summary(exc)}") from exc
    return stamp_source_event_ids(events, event_id)


def _dispatch(ctx: Context, payload: dict[str, Any]) -> list[DomainEvent]:
    match ctx.source:
        case Source.STRIPE:
            from functions.webhooks.domain.normalise import stripe

            return stripe.normalise_stripe(payload, ctx)
        case Source.EASYPOST:
            from functions.webhooks.domain.normalise import carriers

            return carriers.normalise_easypost(payload, ctx)
        case Source.AFTERSHIP:
            from functions.webhooks.domain.normalise import carriers

            return carriers.normalise_aftership(payload, ctx)
        case Source.SHIPPO:
            from functions.webhooks.domain.normalise import carriers

            return carriers.normalise_shippo(payload, ctx)
        case Source.SHOP:
            from functions.webhooks.domain.normalise import shop

            return shop.normalise_shop(payload, ctx)
        case Source.SHOPIFY:
            from functions.webhooks.domain.normalise import shop

            return shop.normalise_shopify(payload, ctx)
    raise Malformed(f"no normaliser for source {ctx.source!r}")  # pragma: no cover


def stamp_source_event_ids(events: list[DomainEvent], event_id: str) -> list[DomainEvent]:
    """One event keeps the provider id; several get ``#1``, ``#2`` … in emission order.

    Every event must have its own deduplication key downstream, and the suffix must not depend
    on anything but the payload, so that a replay produces the very same keys.
    """
    if len(events) == 1:
        return [events[0].model_copy(update={"source_event_id": event_id})]
    return [
        event.model_copy(update={"source_event_id": f"{event_id}#{index}"})
        for index, event in enumerate(events, start=1)
    ]


def _summary(exc: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}"
        for error in exc.errors()[:3]
    ]
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


@dataclass(frozen=True, slots=True)
class Context:
    """What every event needs besides the payload: who, from where, under which id."""

    tenant: str
    source: Source
    event_id: str
    received_at: datetime

    def common(self, occurred_at: datetime) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "source": self.source,
            "source_event_id": self.event_id,
            "occurred_at": occurred_at,
        }


# --- field helpers shared by the provider modules ----------------------------------------------


def as_obj(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def need_obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is missing or not an object")
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def text(value: Any) -> str | None:
    """A non-blank string, or an integer id as a string; anything else is absent.

    Providers send ``""`` and ``null`` interchangeably for "no value", and some send numeric
    ids (Shopify), which we always store as strings.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int):
        return str(value)
    return None


def need_text(value: Any, what: str) -> str:
    found = text(value)
    if found is None:
        raise Malformed(f"{what} is missing")
    return found


def ref_id(value: Any) -> str | None:
    """An id that may come as a plain string or as an expanded object with ``id``."""
    if isinstance(value, dict):
        return text(value.get("id"))
    return text(value)


def integer(value: Any) -> int | None:
    # bool is an int subclass; a JSON true is never an amount.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def need_int(value: Any, what: str) -> int:
    found = integer(value)
    if found is None:
        raise Malformed(f"{what} is missing or not an integer")
    return found


def unix_time(value: Any) -> datetime | None:
    seconds = integer(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        # Out of the platform's range: as unusable as a missing value, and never retryable.
        return None


def need_unix_time(value: Any, what: str) -> datetime:
    found = unix_time(value)
    if found is None:
        raise Malformed(f"{what} is missing or not a unix timestamp")
    return found


def iso_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp in UTC; offsets are honoured, a missing offset means UTC.

    Carriers pass checkpoint times through as the carrier gave them, sometimes without an
    offset. Reading those as UTC is wrong by at most a time zone, which is better than dropping
    the checkpoint. Everything is converted to UTC so that stored ISO strings sort in time
    order.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        # Unparseable, or an offset that pushes it past year 1 or 9999.
        return None


def need_iso_time(value: Any, what: str) -> datetime:
    found = iso_time(value)
    if found is None:
        raise Malformed(f"{what} is missing or not an ISO 8601 timestamp")
    return found


_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


def need_currency(value: Any, what: str) -> str:
    found = text(value)
    if found is None or not _CURRENCY.fullmatch(found):
        raise Malformed(f"{what} is missing or not an ISO 4217 code")
    return found.upper()


def minor_money(value: Any, currency: str, what: str) -> Money:
    """Integer minor units (Stripe's way) as ``Money``."""
    return Money.of(need_int(value, what), currency)


def decimal_money(value: Any, currency: str, what: str) -> Money:
    """A decimal string (shops' way) as ``Money``, refusing floats and excess decimals."""
    if not isinstance(value, str):
        raise Malformed(f"{what} is missing or not a decimal string")
    try:
        return Money.from_decimal(value.strip(), currency)
    except ValueError as exc:
        raise Malformed(f"{what}: {exc}") from None
