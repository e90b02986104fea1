"""Where moto behaves unlike AWS in ways our code relies on, and the local runtime's fix.

DynamoDB applies each write atomically: a conditional write's condition and its effect are one
step, so two concurrent reservations of the same money cannot both pass. moto's server answers
requests on many threads and its DynamoDB backend checks a condition, then writes, with nothing
in between held: two concurrent conditional updates can both see the old item (seen here: two
refunds of 3000 both reserved on a 5000 payment). The local stack therefore runs moto's
DynamoDB writes one at a time, which is what DynamoDB guarantees per item.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()


def serialize_dynamodb_writes() -> None:
    """Make moto's DynamoDB writes atomic, as DynamoDB's are (idempotent to call again)."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_atomic", False):
            continue

        @functools.wraps(original)
        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return _original(self, *args, **kwargs)

        atomic._atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, atomic)
