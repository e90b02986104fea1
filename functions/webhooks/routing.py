"""Domain events to and from JSON (parked events, replays)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from shared.events import DomainEvent

_ADAPTER: TypeAdapter[Any] = TypeAdapter(DomainEvent)


def event_from_json(document: dict[str, Any]) -> Any:
    return _ADAPTER.validate_python(document)
