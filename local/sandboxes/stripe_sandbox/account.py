"""The account every resource lives in: its clock, objects, ids, rendering, the event outbox
and list pagination. State lives in memory behind one lock (held by the caller: a request, or a
sandbox-only control)."""

from __future__ import annotations

import json
import random
import string
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from local.sandboxes.stripe_sandbox.errors import JSON, StripeAPIError, invalid
from local.sandboxes.stripe_sandbox.params import ParamChecks
from shared.money import exponent

Clock = Callable[[], float]

DAY = 86_400
MAX_EVENTS = 500_000
MAX_OBJECTS = 500_000
ALNUM = string.ascii_letters + string.digits
_LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "expand", "created"})


@dataclass
class Ctx:
    """Who caused a state change, as its events say: the request and its idempotency key (both
    None for sandbox-only controls)."""

    request_id: str | None
    idempotency_key: str | None


def copy_json(value: JSON) -> JSON:
    copied: JSON = json.loads(json.dumps(value))
    return copied


def money_text(amount: int, currency: str) -> str:
    digits = exponent(currency)
    major = abs(amount) / (10**digits)
    sign = "-" if amount < 0 else ""
    symbol = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}.get(currency.lower(), "")
    return f"{sign}{symbol}{major:,.{digits}f}" + ("" if symbol else f" {currency.upper()}")


class Account(ParamChecks):
    """The state every resource shares, and the helpers that read and change it."""

    api_version: str
    availability_days: int
    _rng: random.Random
    _clock: Clock
    _frozen: float | None
    _offset: float
    _lock: threading.RLock
    _objects: dict[str, JSON]
    _order: dict[str, list[str]]
    _events: list[JSON]
    _drained: int

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> int:
        with self._lock:
            current = self._frozen if self._frozen is not None else self._clock() + self._offset
            return int(current)

    def set_time(self, timestamp: float | None) -> None:
        """Freeze the sandbox's clock at ``timestamp`` (unix seconds); ``None`` lets it run."""
        with self._lock:
            self._frozen = timestamp
            self._offset = 0.0

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    # -- storage and rendering --------------------------------------------------------------

    def get(self, object_id: str) -> JSON:
        """Any object by id, as the API would render it (KeyError if unknown)."""
        with self._lock:
            return self._render(self._objects[object_id])

    def _id(self, prefix: str, length: int = 24) -> str:
        return f"{prefix}_{''.join(self._rng.choices(ALNUM, k=length))}"

    def _store(self, kind: str, obj: JSON) -> JSON:
        if len(self._objects) >= MAX_OBJECTS:
            raise StripeAPIError(500, "api_error", "The sandbox is full.")
        self._objects[obj["id"]] = obj
        self._order.setdefault(kind, []).append(obj["id"])
        return obj

    def _fetch(self, kind: str, object_id: str, *, param: str | None = None) -> JSON:
        obj = self._objects.get(object_id)
        if obj is None or obj.get("object") != kind:
            if param:
                raise invalid(
                    f"No such {kind}: '{object_id}'", code="resource_missing", param=param
                )
            raise invalid(
                f"No such {kind}: '{object_id}'", code="resource_missing", param="id", status=404
            )
        return obj

    def _render(self, obj: JSON) -> JSON:
        copied = copy_json(obj)
        now = self.now()

        def refresh(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("object") == "balance_transaction":
                    node["status"] = "available" if node["available_on"] <= now else "pending"
                for value in node.values():
                    refresh(value)
            elif isinstance(node, list):
                for value in node:
                    refresh(value)

        refresh(copied)
        return copied

    def _emit(self, ctx: Ctx, type_: str, obj: JSON, previous: JSON | None = None) -> None:
        if len(self._events) >= MAX_EVENTS:
            raise StripeAPIError(500, "api_error", "The sandbox's event outbox is full.")
        data: JSON = {"object": self._render(obj)}
        if previous is not None:
            data["previous_attributes"] = copy_json(previous)
        event: JSON = {
            "id": self._id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": type_,
        }
        self._events.append(event)
        self._objects[event["id"]] = event
        self._order.setdefault("event", []).append(event["id"])

    # -- lists --------------------------------------------------------------------------------

    def _list(
        self,
        kind: str,
        url: str,
        p: JSON,
        filters: Mapping[str, str],
        *,
        accepted: frozenset[str] = frozenset(),
        predicate: Callable[[JSON], bool] | None = None,
    ) -> JSON:
        self._allow(p, _LIST_PARAMS | frozenset(filters) | accepted)
        limit = self._int(p, "limit") or 10
        if limit > 100:
            raise invalid(
                "This value must be less than or equal to 100.",
                code="parameter_invalid_integer",
                param="limit",
            )
        created = p.get("created")
        items = [self._objects[i] for i in reversed(self._order.get(kind, []))]

        def keep(obj: JSON) -> bool:
            for param, attr in filters.items():
                wanted = p.get(param)
                if wanted not in (None, "") and obj.get(attr) != wanted:
                    return False
            if created is not None and not self._in_range(obj["created"], created):
                return False
            return predicate is None or predicate(obj)

        items = [obj for obj in items if keep(obj)]
        after = self._text(p, "starting_after")
        before = self._text(p, "ending_before")
        if after:
            index = self._index(items, after, "starting_after")
            items = items[index + 1 :]
            page, has_more = items[:limit], len(items) > limit
        elif before:
            index = self._index(items, before, "ending_before")
            page, has_more = items[max(0, index - limit) : index], index > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": page, "has_more": has_more, "url": url}

    @staticmethod
    def _index(items: list[JSON], object_id: str, param: str) -> int:
        for index, obj in enumerate(items):
            if obj["id"] == object_id:
                return index
        raise invalid(f"No such object: '{object_id}'", code="resource_missing", param=param)

    @staticmethod
    def _in_range(value: int, bound: Any) -> bool:
        if isinstance(bound, str):
            return value == int(bound)
        if not isinstance(bound, dict):
            raise invalid("Invalid created filter", param="created")
        checks: dict[str, Callable[[int, int], bool]] = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        for op, raw in bound.items():
            if op not in checks or not str(raw).lstrip("-").isdigit():
                raise invalid(f"Invalid created filter: {op}", param=f"created[{op}]")
            if not checks[op](value, int(raw)):
                return False
        return True
