"""JSON for what reconciliation stores: dates as ISO strings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def json_default(value: Any) -> Any:
    """Dates as ISO strings in the JSON documents the reconciliation stores."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__}")
