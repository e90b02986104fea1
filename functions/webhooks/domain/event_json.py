"""A domain event back from its JSON form: events parked under a reference are stored as JSON
(``model_dump(mode="json")``) and read back through the ``DomainEvent`` union when the
reference is linked. (Was ``routing.py``: it decodes events, it routes nothing.)"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from shared.events import DomainEvent

_ADAPTER: TypeAdapter[Any] = TypeAdapter(DomainEvent)


def event_from_json(document: dict[str, Any]) -> Any:
    return _ADAPTER.validate_python(document)
