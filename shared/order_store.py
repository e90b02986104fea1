"""Orders in the table: the aggregate item, its timeline, gateway references and parked events.

Keys (all under the tenant):
- ``T#<t>#ORDER#<order>`` / ``ORDER``: the aggregate (``state`` JSON, ``version``, projections);
- ``T#<t>#ORDER#<order>`` / ``TL#<occurred>#<source>#<event id>``: one timeline entry per event;
- ``T#<t>#REF#<kind>:<id>`` / ``REF``: a payment, charge or tracking code → its order;
- ``T#<t>#PARK#<kind>:<id>`` / ``EVT#<event id>``: an event waiting for its order to be known;
- ``T#<t>#ORDER#<order>`` / ``FIND#<kind>#<key>``: a phone, card, tracking code or shop order
  number the order is found by (``shared.order_lookup``), written once when it first appears.

An event is applied by one conditional write of the aggregate (only at the version it was read
at), which also records the event among the aggregate's applied events; the timeline entry
follows. An event already among the applied ones is a duplicate; a moved version means
someone applied another event first: read again and retry. (No TransactWriteItems: one
conditional write is cheaper, and atomic enough when the dedupe set lives on the item it
guards.) Aggregates this process wrote are cached for the next update: a stale copy fails the
version condition and is read again, so the cache saves reads without ever deciding anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.order_aggregate import OrderState, Outcome, TimelineEntry
from shared.order_lookup import LookupEntry, lookup_entries
from shared.packed import packed_attribute, unpacked
from shared.retention import Retention, table_retention

LINK_CACHE_SIZE = 100_000
STATE_CACHE_SIZE = 10_000


def order_pk(tenant: str, order_id: str) -> str:
    return keys.order_pk(tenant, order_id)


def timeline_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A timeline item as plain values (its keys too), with what its sort key holds spelled
    out. An e-mail's entry keeps the message id it was sent as (its key names the e-mail's
    kind); entries written before the key stopped being repeated carry every field themselves,
    and the event they applied, which is left out."""
    at_iso, source, event_id = keys.timeline_parts(item["SK"]["S"])
    found = {"occurred_at": at_iso, "source": source, "event_id": event_id}
    found.update(
        (k, next(iter(v.values()))) for k, v in item.items() if k not in ("event", "event_z")
    )
    return found


# What a reader of the aggregate projects: the text form and the packed one.
STATE_PROJECTION = "#s, state_z"
STATE_NAMES = {"#s": "state"}


def order_state_of(item: dict[str, Any]) -> OrderState:
    """The aggregate an order item holds, packed or as text (every reader goes through here)."""
    data = unpacked(item, "state")
    if data is None:
        raise ValueError(f"item {item.get('PK')} holds no order state")
    return OrderState.model_validate_json(data)


# What an index query of orders asks for: the keys, to read the aggregate by.
ORDER_KEYS_PROJECTION = "PK, SK"


def states_found(table_name: str, found: Iterable[dict[str, Any]]) -> Iterator[OrderState]:
    """The aggregates of the order items an index query ``found``, read from the table by key,
    in the order found (a page at a time). The indexes keep the keys and a few small
    attributes, not the aggregate (``shared.keys.Index.projected``); items found that are not
    orders (a lookup entry, a stage) are skipped, and so is an order gone meanwhile."""
    page: list[dict[str, Any]] = []
    for item in found:
        if item.get("SK", {}).get("S") == keys.ORDER_SK:
            page.append({"PK": item["PK"], "SK": item["SK"]})
            if len(page) == 100:
                yield from _states_of(table_name, page)
                page = []
    yield from _states_of(table_name, page)


def _states_of(table_name: str, wanted: list[dict[str, Any]]) -> Iterator[OrderState]:
    projection = f"PK, SK, {STATE_PROJECTION}"
    for item in aws.batch_get_in_order(table_name, wanted, projection, STATE_NAMES):
        yield order_state_of(item)


def applied_identity(sort_key: str) -> bytes:
    """How the order item records an event as applied: the SHA-256 of the event's whole
    timeline key (time, source and event id), 32 bytes where the key is 60 to 80 characters.
    The item is rewritten with every event, so the set's size is paid on every write."""
    return hashlib.sha256(sort_key.encode("utf-8")).digest()


def applied_identities(item: Mapping[str, Any]) -> frozenset[bytes]:
    """The applied set of an order item as the SDK reads it: digests (``BS``), or the timeline
    keys themselves (``SS``) as items written before 2026-12-06 keep them, digested here."""
    value = item.get("applied") or {}
    if "SS" in value:
        return frozenset(applied_identity(key) for key in value["SS"])
    return frozenset(value.get("BS", []))


@dataclass(frozen=True)
class _Cached:
    state: OrderState
    version: int
    applied: frozenset[bytes]


class OrderStore:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        self.clock = clock
        # The aggregate, its timeline and its references are financial records: each write
        # keeps them the tenant's retention period from now (shared.retention).
        self.retention = retention or table_retention(table_name, clock)
        self._links: dict[tuple[str, str], str] = {}
        self._cache: dict[tuple[str, str], _Cached] = {}

    @property
    def _ddb(self) -> Any:
        return aws.client("dynamodb")

    # -- aggregate -----------------------------------------------------------------------------

    def load(self, tenant: str, order_id: str) -> tuple[OrderState, int]:
        """The aggregate as stored now, and its version."""
        cached = self._read(tenant, order_id)
        return cached.state.model_copy(deep=True), cached.version

    def load_for_update(self, tenant: str, order_id: str) -> tuple[OrderState, int]:
        """The aggregate and its version, from this process's cache when it has it.

        A cached copy may be stale (another container applied an event since); the commit's
        version condition then fails, the entry is dropped, and the caller reads again."""
        cached = self._cache.get((tenant, order_id))
        if cached is None:
            cached = self._read(tenant, order_id)
        return cached.state.model_copy(deep=True), cached.version

    def _read(self, tenant: str, order_id: str) -> _Cached:
        answer = self._ddb.get_item(
            TableName=self.table_name,
            ConsistentRead=True,
            Key={"PK": {"S": order_pk(tenant, order_id)}, "SK": {"S": "ORDER"}},
            ProjectionExpression=f"{STATE_PROJECTION}, version, applied",
            ExpressionAttributeNames=STATE_NAMES,
        )
        item = answer.get("Item")
        if item is None:
            cached = _Cached(OrderState(tenant=tenant, order_id=order_id), 0, frozenset())
        else:
            cached = _Cached(
                order_state_of(item),
                int(item["version"]["N"]),
                applied_identities(item),
            )
        self._keep(tenant, order_id, cached)
        return cached

    def _keep(self, tenant: str, order_id: str, cached: _Cached) -> None:
        if len(self._cache) >= STATE_CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[(tenant, order_id)] = cached

    def commit(self, state: OrderState, expected_version: int, entry: TimelineEntry) -> Outcome:
        """Write the aggregate at ``expected_version`` with ``entry`` among its applied events,
        then the timeline entry.

        The aggregate's conditional write decides: the set of applied events lives on the
        aggregate item itself, so "applied" and "recorded as applied" cannot part. The timeline
        entry has a deterministic key and is written after, for duplicates too, so a pass
        interrupted between the two writes is completed by the next delivery.
        """
        key = (state.tenant, state.order_id)
        known = self._cache.get(key)
        if known is None or known.version != expected_version:
            known = self._read(*key)
            if known.version != expected_version:
                return "conflict"
        identity = applied_identity(entry.sort_key)
        if identity in known.applied:
            self._put_timeline(state.tenant, state.order_id, entry)
            # A pass cut short after the aggregate's write left its lookup entries unwritten:
            # the redelivery writes them (the same puts again, at worst).
            self._put_lookups(known.state, lookup_entries(known.state))
            return "duplicate"
        applied = known.applied | {identity}
        item = self._item(state, expected_version + 1, applied)
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if expected_version == 0
            else {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}},
            }
        )
        try:
            self._ddb.put_item(TableName=self.table_name, Item=item, **condition)
        except self._ddb.exceptions.ConditionalCheckFailedException:
            self._cache.pop(key, None)
            return "conflict"
        self._keep(*key, _Cached(state.model_copy(deep=True), expected_version + 1, applied))
        self._put_timeline(state.tenant, state.order_id, entry)
        self._put_lookups(state, lookup_entries(state) - lookup_entries(known.state))
        return "applied"

    def _put_lookups(self, state: OrderState, entries: Iterable[LookupEntry]) -> None:
        """One item per identifier new to the order, on the ``ByCustomer`` index
        (``shared.order_lookup``): support finds the order by it with one query."""
        placed = state.placed_at()
        since = (placed or self.clock.now()).astimezone(UTC).isoformat()
        for found in sorted(entries, key=lambda e: (e.kind, e.key, e.bin or "")):
            sort = f"{since}#{state.order_id}"
            item: dict[str, Any] = {
                "PK": {"S": order_pk(state.tenant, state.order_id)},
                "SK": {"S": keys.lookup_sk(found.kind, found.key)},
                "kind": {"S": "lookup"},
                "tenant": {"S": state.tenant},
                "order_id": {"S": state.order_id},
                "lookup": {"S": found.kind},
                "GSI1PK": {"S": keys.lookup_index(state.tenant, found.kind, found.key)},
                "GSI1SK": {"S": f"{found.bin}#{sort}" if found.bin else f"-#{sort}"},
                **self.retention.attribute(state.tenant),
            }
            if found.bin:
                item["bin"] = {"S": found.bin}
            self._ddb.put_item(TableName=self.table_name, Item=item)

    def _item(self, state: OrderState, version: int, applied: frozenset[bytes]) -> dict[str, Any]:
        now = self.clock.now().isoformat(timespec="milliseconds")
        status = state.status()
        placed = state.placed_at()
        since = placed.astimezone(UTC).isoformat() if placed else now
        item: dict[str, Any] = {
            "PK": {"S": order_pk(state.tenant, state.order_id)},
            "SK": {"S": "ORDER"},
            "kind": {"S": "order"},
            "tenant": {"S": state.tenant},
            "order_id": {"S": state.order_id},
            "status": {"S": status},
            "version": {"N": str(version)},
            "applied": {"BS": sorted(applied)},
            # Not ``updated_at``: that name is projected into the status index (for the stage
            # items), and a value that changes with every event would rewrite the order's
            # index entry with every event, its status unchanged.
            "changed_at": {"S": now},
            "paid": {"N": str(state.paid())},
            "refunded": {"N": str(state.refunded())},
            "GSI2PK": {"S": keys.status_index(state.tenant, status)},
            "GSI2SK": {"S": f"{since}#{state.order_id}"},
            **self.retention.attribute(state.tenant),
        }
        # The aggregate is most of the item, rewritten with every event (and projected into
        # the status and customer indexes): packed when that is smaller.
        name, value, _ = packed_attribute(
            "state", state.model_dump_json(exclude_none=True).encode()
        )
        item[name] = value
        if state.currency:
            item["currency"] = {"S": state.currency}
        order = state.placed.value if state.placed else None
        if order:
            item["total"] = {"N": str(order["total"]["amount"])}
            item["placed_at"] = {"S": since}
            email = (order.get("customer") or {}).get("email")
            if email:
                item["customer_email"] = {"S": email.lower()}
                item["GSI1PK"] = {"S": keys.customer_index(state.tenant, email)}
                item["GSI1SK"] = {"S": f"{since}#{state.order_id}"}
        return item

    def note(self, tenant: str, order_id: str, entry: TimelineEntry) -> None:
        """Something people did about the order (a call's outcome) on its timeline, beside the
        events; the aggregate does not change."""
        self._put_timeline(tenant, order_id, entry)

    def _put_timeline(self, tenant: str, order_id: str, entry: TimelineEntry) -> None:
        # Kept as long as the order, written once per event: only what the sort key does not
        # already say (its time, source and event id; the partition names tenant and order).
        self._ddb.put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": order_pk(tenant, order_id)},
                "SK": {"S": entry.sort_key},
                "kind": {"S": "timeline"},
                "event_kind": {"S": entry.kind},
                "summary": {"S": entry.summary},
                **self.retention.attribute(tenant),
            },
        )

    def timeline(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        """The order's story, oldest first: each entry's time, source, event id, kind and
        summary."""
        return [timeline_fields(item) for item in self._query(order_pk(tenant, order_id), "TL#")]

    # -- references and parked events ----------------------------------------------------------

    def resolve(self, tenant: str, ref: str) -> str | None:
        # A reference, once linked, never moves: what this process has seen it can trust.
        known = self._links.get((tenant, ref))
        if known is not None:
            return known
        answer = self._ddb.get_item(
            TableName=self.table_name,
            ConsistentRead=True,
            Key={"PK": {"S": keys.reference_pk(tenant, ref)}, "SK": {"S": "REF"}},
        )
        item = answer.get("Item")
        if item is None:
            return None
        return self._remember(tenant, ref, item["order_id"]["S"])

    def _remember(self, tenant: str, ref: str, order_id: str) -> str:
        if len(self._links) >= LINK_CACHE_SIZE:
            self._links.pop(next(iter(self._links)))
        self._links[(tenant, ref)] = order_id
        return order_id

    def link(self, tenant: str, ref: str, order_id: str) -> tuple[str, bool]:
        """Point ``ref`` at ``order_id`` unless it already points somewhere.

        Returns the order the reference belongs to and whether this call linked it."""
        known = self._links.get((tenant, ref))
        if known is not None:
            return known, False
        try:
            self._ddb.put_item(
                TableName=self.table_name,
                Item={
                    "PK": {"S": keys.reference_pk(tenant, ref)},
                    "SK": {"S": "REF"},
                    "kind": {"S": "ref"},
                    "order_id": {"S": order_id},
                    **self.retention.attribute(tenant),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            return self.resolve(tenant, ref) or order_id, False
        return self._remember(tenant, ref, order_id), True

    def park(self, tenant: str, ref: str, event_id: str, event: dict[str, Any]) -> None:
        self._ddb.put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": keys.parked_pk(tenant, ref)},
                "SK": {"S": f"EVT#{event_id}"},
                "kind": {"S": "parked"},
                "event": {"S": json.dumps(event, default=str)},
                "parked_at": {"S": self.clock.now().isoformat()},
            },
        )

    def parked(self, tenant: str, ref: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            (item["SK"]["S"].removeprefix("EVT#"), json.loads(item["event"]["S"]))
            for item in self._query(keys.parked_pk(tenant, ref), "EVT#", consistent=True)
        ]

    def unpark(self, tenant: str, ref: str, event_id: str) -> None:
        self._ddb.delete_item(
            TableName=self.table_name,
            Key={"PK": {"S": keys.parked_pk(tenant, ref)}, "SK": {"S": f"EVT#{event_id}"}},
        )

    def _query(self, pk: str, prefix: str, consistent: bool = False) -> Iterator[dict[str, Any]]:
        paginator = self._ddb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            ConsistentRead=consistent,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={":pk": {"S": pk}, ":p": {"S": prefix}},
        ):
            yield from page["Items"]
