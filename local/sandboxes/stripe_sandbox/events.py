"""Events: what the outbox holds (``events()``, ``drain_events()`` for ``stripe_events``) and the
API's retrieve and list (``type``, ``types[]``, ``charge.*``)."""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import Account, Ctx, copy_json
from local.sandboxes.stripe_sandbox.errors import JSON, invalid


class Events(Account):
    """Reading the event outbox ``Account._emit`` appends to."""

    def events(self) -> list[JSON]:
        """Every event emitted so far, oldest first (copies)."""
        with self._lock:
            return [copy_json(e) for e in self._events]

    def drain_events(self) -> list[JSON]:
        """The events emitted since the last drain, oldest first."""
        with self._lock:
            fresh = self._events[self._drained :]
            self._drained = len(self._events)
            return [copy_json(e) for e in fresh]

    def _event_retrieve(self, ctx: Ctx, p: JSON, event_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("event", event_id)

    def _event_list(self, ctx: Ctx, p: JSON) -> JSON:
        wanted = p.get("types")
        single = self._text(p, "type")
        patterns = [single] if single else []
        if wanted is not None:
            if not isinstance(wanted, list):
                raise invalid("Invalid array", param="types")
            patterns += [str(w) for w in wanted]

        def matches(event: JSON) -> bool:
            if not patterns:
                return True
            kind = str(event["type"])
            return any(
                kind == pat or (pat.endswith(".*") and kind.startswith(pat[:-1]))
                for pat in patterns
            )

        return self._list(
            "event",
            "/v1/events",
            p,
            {},
            accepted=frozenset({"type", "types", "delivery_success"}),
            predicate=matches,
        )
