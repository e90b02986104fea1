"""Compact item storage for one moto table, for the benches that load millions of items.

moto (5.x) keeps every item as Python objects: an ``Item``, a ``DynamoType`` per attribute
(each with its own ``__dict__``), a dict per partition keyed by ``DynamoType`` keys. The
fan-out bench's items (an order with its packed aggregate, its change note, a balance
transaction) cost ~4.7 KB each that way: 3 million items would need ~15 GB.

``compact_table(table)`` replaces the table's ``items`` (moto's ``defaultdict(dict)`` of
partitions) with ``CompactItems``: per item one ``bytes`` — the item's wire JSON (what moto
answers with), deflated against a dictionary learnt from the table's first items — in a dict
per partition keyed by the plain range key string. An item is decoded into a fresh moto
``Item`` whenever moto reads it, and encoded again whenever moto writes it; moto's own code
still does everything else (conditions, updates, key conditions, sorting, pages, filters,
projections). Because each read hands out a fresh ``Item``, the one place where moto changes a
stored item in place, ``DynamoDBBackend.update_item``, is wrapped to store the item again when
it returns. moto's registry of every model object it builds (``instances_tracked``) no longer
keeps items: it would keep every decoded one alive.

It also keeps, for each global secondary index's hash key, which items hold each value, so a
query of an index reads only those (``local.moto_index`` uses it), updated on every write
instead of rebuilt from the whole table.

``load(raw)`` writes an item straight from its wire JSON (no ``Item`` built, no validation, no
stream record): the bench's bulk load of a day that stands for data already processed.

Limits: tables whose hash and range keys are strings (the project's single table); items are
read back as moto builds them from a request (binary values as bytes).
Opt-in (the fan-out bench installs it); the tests and the local stack keep moto's own storage,
and ``tests/component/test_moto_compact.py`` runs the same calls against both and compares.
"""

from __future__ import annotations

import base64
import functools
import json
import sys
import threading
import zlib
from collections.abc import Iterator
from typing import Any

# A stored blob starts with one byte naming its form.
_RAW = b"r"  # the JSON as it is (the first items, before the dictionary is learnt)
_DEFLATED = b"z"  # raw deflate against the store's dictionary
_LEARN_FROM = 32 * 1024  # bytes of JSON seen before the dictionary is fixed (deflate's window)
_CACHED_LISTS = 8  # decoded candidate lists kept for consecutive pages of the same query


def _wire(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not a DynamoDB value")


def _binary(value: dict[str, Any]) -> dict[str, Any]:
    """Binary values back to bytes, as moto keeps them after parsing a request (JSON holds
    them as base64 text)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _binary(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_binary(v) for v in inner]}
    return value


def _wire_attrs(item: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = item.to_json()["Attributes"]
    return attrs


class CompactItems:
    """What moto's ``Table`` uses of ``self.items`` (a ``defaultdict(dict)`` of partitions):
    ``items[hash][range] = item``, ``items[hash][range]``, ``items[hash].pop(range)``,
    ``items.values()`` (each partition's ``values()`` and ``len``), ``len(items)``, deepcopy."""

    def __init__(
        self,
        hash_attr: str,
        range_attr: str,
        index_attrs: tuple[str, ...] = (),
        learn_from: int = _LEARN_FROM,
    ) -> None:
        self.learn_from = learn_from
        self.hash_attr = hash_attr
        self.range_attr = range_attr
        self.index_attrs = index_attrs
        self.rows: dict[str, dict[str, bytes]] = {}
        # attribute → (type, value) → the keys of the items holding it, in write order
        self.by_value: dict[str, dict[tuple[str, Any], dict[tuple[str, str], None]]] = {
            a: {} for a in index_attrs
        }
        self.generation = 0  # bumped by every write: cached decoded lists older are stale
        self._zdict: bytes | None = None
        self._sample: list[bytes] = []
        self._sampled = 0
        self._lists: dict[Any, tuple[int, list[Any]]] = {}
        self.lock = threading.RLock()

    # -- encoding -----------------------------------------------------------------------------

    def _encode(self, raw: dict[str, Any]) -> bytes:
        data = json.dumps(raw, separators=(",", ":"), default=_wire).encode()
        if self._zdict is None:
            self._sample.append(data)
            self._sampled += len(data)
            if self._sampled >= self.learn_from:
                # The most recent items last: deflate finds the closest matches cheapest.
                self._zdict = b"".join(self._sample)[-_LEARN_FROM:]
                self._sample = []
            return _RAW + data
        packer = zlib.compressobj(6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, self._zdict)
        return _DEFLATED + packer.compress(data) + packer.flush()

    def _decode_raw(self, blob: bytes) -> dict[str, Any]:
        if blob[:1] == _RAW:
            text = blob[1:]
        else:
            assert self._zdict is not None
            text = zlib.decompressobj(-15, self._zdict).decompress(blob[1:])
        raw: dict[str, Any] = json.loads(text)
        return raw

    def decode(self, blob: bytes) -> Any:
        """A fresh moto ``Item`` (built as moto builds one from a request, without re-checking
        the size: the item passed that check when it was written)."""
        from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

        raw = {name: _binary(value) for name, value in self._decode_raw(blob).items()}
        item: Any = object.__new__(Item)  # not BaseModel.__new__: see _untrack_items
        item.hash_key = DynamoType(raw[self.hash_attr])
        item.range_key = DynamoType(raw[self.range_attr])
        attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(attrs, {name: DynamoType(value) for name, value in raw.items()})
        item.attrs = attrs
        return item

    # -- writes -------------------------------------------------------------------------------

    def _key_of(self, raw: dict[str, Any], attr: str) -> str:
        value = raw[attr]
        if list(value) != ["S"]:
            raise ValueError(f"compact storage keeps string keys only; {attr} is {value}")
        return str(value["S"])

    def _unindex(self, key: tuple[str, str], blob: bytes) -> None:
        if not self.index_attrs:
            return
        raw = self._decode_raw(blob)
        for attr in self.index_attrs:
            value = raw.get(attr)
            if value is not None:
                ((kind, inner),) = value.items()
                bucket = self.by_value[attr].get((kind, _wire_key(inner)))
                if bucket is not None:
                    bucket.pop(key, None)

    def store_raw(self, raw: dict[str, Any]) -> None:
        """Write one item from its wire JSON (replacing the one with its key)."""
        hash_key = self._key_of(raw, self.hash_attr)
        range_key = sys.intern(self._key_of(raw, self.range_attr))
        blob = self._encode(raw)
        with self.lock:
            partition = self.rows.get(hash_key)
            if partition is None:
                partition = self.rows[hash_key] = {}
            key = (hash_key, range_key)
            old = partition.get(range_key)
            if old is not None:
                self._unindex(key, old)
            partition[range_key] = blob
            for attr in self.index_attrs:
                value = raw.get(attr)
                if value is not None:
                    ((kind, inner),) = value.items()
                    self.by_value[attr].setdefault((kind, _wire_key(inner)), {})[key] = None
            self.generation += 1

    load = store_raw

    def store(self, item: Any) -> None:
        self.store_raw(_wire_attrs(item))

    def remove(self, hash_key: str, range_key: str) -> bytes:
        with self.lock:
            partition = self.rows[hash_key]
            blob = partition.pop(range_key)
            if not partition:
                del self.rows[hash_key]
            self._unindex((hash_key, range_key), blob)
            self.generation += 1
            return blob

    # -- reads for local.moto_index -----------------------------------------------------------

    def _cached(self, cache_key: Any, keys: list[tuple[str, str]]) -> list[Any]:
        with self.lock:
            hit = self._lists.get(cache_key)
            if hit is not None and hit[0] == self.generation:
                return hit[1]
            generation = self.generation
            items = [self.decode(self.rows[h][r]) for h, r in keys]
            if len(self._lists) >= _CACHED_LISTS:
                self._lists.pop(next(iter(self._lists)))
            self._lists[cache_key] = (generation, items)
            return items

    def partition_items(self, hash_key: str) -> list[Any]:
        """The items of one partition (a query of the table)."""
        with self.lock:
            keys = [(hash_key, r) for r in self.rows.get(hash_key, {})]
        return self._cached(("table", hash_key), keys)

    def index_items(self, attr: str, kind: str, value: Any) -> list[Any]:
        """The items whose ``attr`` is ``{kind: value}`` (a query of an index by its hash key)."""
        with self.lock:
            keys = list(self.by_value[attr].get((kind, _wire_key(value)), {}))
        return self._cached((attr, kind, _wire_key(value)), keys)

    # -- the mapping moto's Table uses --------------------------------------------------------

    def __getitem__(self, hash_key: Any) -> _Partition:
        # defaultdict's behaviour, without keeping an empty partition for a read that misses.
        return _Partition(self, str(hash_key.value))

    def __contains__(self, hash_key: Any) -> bool:
        return str(hash_key.value) in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:
        from moto.dynamodb.models.dynamo_type import DynamoType

        for hash_key in list(self.rows):
            yield DynamoType({"S": hash_key})

    def keys(self) -> list[Any]:
        return list(self)

    def values(self) -> Iterator[_Partition]:
        for hash_key in list(self.rows):
            yield _Partition(self, hash_key)

    def items(self) -> Iterator[tuple[Any, _Partition]]:
        from moto.dynamodb.models.dynamo_type import DynamoType

        for hash_key in list(self.rows):
            yield DynamoType({"S": hash_key}), _Partition(self, hash_key)

    def get(self, hash_key: Any, default: Any = None) -> Any:
        if str(hash_key.value) in self.rows:
            return _Partition(self, str(hash_key.value))
        return default

    def __deepcopy__(self, memo: dict[int, Any]) -> CompactItems:
        # Blobs are immutable: a copy shares them (moto deep-copies a table to roll back a
        # failed transaction).
        with self.lock:
            twin = CompactItems(self.hash_attr, self.range_attr, self.index_attrs, self.learn_from)
            twin.rows = {h: dict(p) for h, p in self.rows.items()}
            twin.by_value = {
                a: {v: dict(keys) for v, keys in by.items()} for a, by in self.by_value.items()
            }
            twin._zdict = self._zdict
            twin._sample = list(self._sample)
            twin._sampled = self._sampled
            memo[id(self)] = twin
            return twin

    def item_count(self) -> int:
        return sum(len(p) for p in self.rows.values())


def _wire_key(value: Any) -> Any:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


class _Partition:
    """One partition as moto's Table uses it: ``{range DynamoType: Item}``."""

    __slots__ = ("_hash", "_store")

    def __init__(self, store: CompactItems, hash_key: str) -> None:
        self._store = store
        self._hash = hash_key

    def _rows(self) -> dict[str, bytes]:
        return self._store.rows.get(self._hash, {})

    def __getitem__(self, range_key: Any) -> Any:
        return self._store.decode(self._rows()[str(range_key.value)])

    def __setitem__(self, range_key: Any, item: Any) -> None:
        self._store.store(item)

    def pop(self, range_key: Any, *default: Any) -> Any:
        try:
            return self._store.decode(self._store.remove(self._hash, str(range_key.value)))
        except KeyError:
            if default:
                return default[0]
            raise

    def __contains__(self, range_key: Any) -> bool:
        return str(range_key.value) in self._rows()

    def __len__(self) -> int:
        return len(self._rows())

    def __iter__(self) -> Iterator[Any]:
        from moto.dynamodb.models.dynamo_type import DynamoType

        for range_key in list(self._rows()):
            yield DynamoType({"S": range_key})

    def keys(self) -> list[Any]:
        return list(self)

    def values(self) -> list[Any]:
        return [self._store.decode(blob) for blob in list(self._rows().values())]

    def items(self) -> list[tuple[Any, Any]]:
        return [(item.range_key, item) for item in self.values()]


def compact_table(table: Any, learn_from: int = _LEARN_FROM) -> CompactItems:
    """Move ``table``'s items into compact storage (idempotent); returns the store. Its
    dictionary is learnt from the first ``learn_from`` bytes of items written."""
    if isinstance(table.items, CompactItems):
        return table.items
    if table.range_key_attr is None or table.hash_key_type != "S" or table.range_key_type != "S":
        raise ValueError("compact storage keeps tables with a string hash and range key only")
    _install_update_write_back()
    _untrack_items()
    index_attrs = tuple(
        dict.fromkeys(
            key["AttributeName"]
            for index in table.global_indexes
            for key in index.schema
            if key["KeyType"] == "HASH"
        )
    )
    store = CompactItems(table.hash_key_attr, table.range_key_attr, index_attrs, learn_from)
    for partition in table.items.values():
        for item in partition.values():
            store.store(item)
    table.items = store
    return store


class _Untracked(list[Any]):
    """A registry that keeps nothing."""

    def append(self, instance: Any) -> None:
        pass


def _untrack_items() -> None:
    """moto's ``BaseModel.__new__`` appends every model object ever built to its class's
    ``instances_tracked`` (read only by moto's ``/moto-api/data.json``), so every ``Item`` moto
    builds — for each projected read, each query's answer over compact storage — would stay
    alive: ~100 MB more per 10,000-order tenant read. Items are not tracked any more."""
    from moto.dynamodb.models.dynamo_type import Item

    if not isinstance(Item.instances_tracked, _Untracked):  # type: ignore[attr-defined]
        Item.instances_tracked = _Untracked()  # type: ignore[attr-defined]


def _install_update_write_back() -> None:
    """``update_item`` changes the ``Item`` it read in place; a compact table handed out a
    copy, so the copy is stored again (also when moto's transactions call it)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend.update_item, "_compact", False):
        return
    original = DynamoDBBackend.update_item

    @functools.wraps(original)
    def update_item(self: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        table = self.get_table(table_name)
        if not isinstance(table.items, CompactItems):
            return original(self, table_name, *args, **kwargs)
        with table.items.lock:
            item = original(self, table_name, *args, **kwargs)
            table.items.store(item)
            return item

    update_item._compact = True  # type: ignore[attr-defined]
    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
