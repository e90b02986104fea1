"""Queries that read the partition they name, for the benches that load a big table into moto.

DynamoDB serves a ``Query`` from the partition its key names: its cost follows the items it
returns. moto (5.x) builds every query from the whole table, sorted: ``Table.all_items()``
sorts every item of the table by key (comparisons of ``DynamoType``), then the query filters
them. On a table of 200,000 items one ``Query`` returning nothing took 12.5 s (20,000 items:
1.1 s), so a bench of many tenants would measure moto's sort, and each tenant's time would
grow with the others' data.

``index_queries()`` gives moto's ``Table.query`` only the candidates: for a query of the table
itself, the items of the hash key's partition (moto keeps them by hash key already); for an
index, the items holding the index's hash key value, from a map rebuilt lazily after any write
(one pass over the table, a fraction of a second per 100,000 items). moto's own query code still
does everything else (key conditions, sorting, pages, filters, projections), so the answers are
the same. The local stack installs it (its table only grows over a test session or a demo),
and so does the fan-out bench; ``tests/component/test_moto_compact.py`` compares it with moto's
own query.
"""

from __future__ import annotations

import functools
import threading
from collections import defaultdict
from typing import Any

from local.moto_compact import CompactItems

_lock = threading.RLock()
# Bumped by every write: an index map older than this is rebuilt before it is used.
_generation = [0]
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
# What index_queries replaced, for restore_queries.
_originals: list[tuple[Any, str, Any]] = []
# The candidates of the query this thread is answering: (table, items).
_chosen = threading.local()


def index_queries() -> None:
    """Install (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_indexed", False):
        return
    _originals.append((Table, "query", Table.query))
    _originals.append((Table, "all_items", Table.all_items))
    every_item = Table.all_items

    def all_items(self: Any) -> Any:
        # moto's server answers on many threads, several of them querying one table at once:
        # each query's candidates are its own thread's.
        chosen = getattr(_chosen, "candidates", None)
        if chosen is not None and chosen[0] is self:
            return chosen[1]
        return every_item(self)

    Table.all_items = all_items  # type: ignore[method-assign]
    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)
        _originals.append((DynamoDBBackend, name, original))

        @functools.wraps(original)
        def counted(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            try:
                return _original(self, *args, **kwargs)
            finally:
                with _lock:
                    _generation[0] += 1

        setattr(DynamoDBBackend, name, counted)

    query = Table.query

    @functools.wraps(query)
    def indexed(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name")
        if index_name is None and len(args) >= 7:
            index_name = args[6]
        conditions = kwargs.get("hash_key_conditions")
        store = self.items if isinstance(self.items, CompactItems) else None
        if store is not None and index_name and conditions and conditions[0][0] in store.by_value:
            attribute, value = conditions[0]
            candidates = store.index_items(attribute, value.type, value.value)
        elif store is not None and not index_name and hash_key is not None:
            candidates = store.partition_items(str(hash_key.value))
        elif index_name:
            if not conditions:
                return query(self, hash_key, *args, **kwargs)
            attribute, value = conditions[0]
            candidates = _index_items(self, attribute).get((value.type, value.value), [])
        else:
            partition = self.items.get(hash_key) if hash_key is not None else None
            if partition is None:
                candidates = []
            elif self.range_key_attr:
                candidates = list(partition.values())
            else:
                candidates = [partition]
        # moto's query walks ``self.all_items()``: for this call, only the candidates.
        outer = getattr(_chosen, "candidates", None)
        _chosen.candidates = (self, candidates)
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            _chosen.candidates = outer

    indexed._indexed = True  # type: ignore[attr-defined]
    Table.query = indexed  # type: ignore[method-assign]


def installed() -> bool:
    """Whether ``index_queries`` is in place."""
    from moto.dynamodb.models.table import Table

    return bool(getattr(Table.query, "_indexed", False))


def restore_queries() -> None:
    """Undo ``index_queries`` (the tests that compare it with moto's own)."""
    while _originals:
        owner, name, original = _originals.pop()
        setattr(owner, name, original)


def _index_items(table: Any, attribute: str) -> dict[tuple[str, Any], list[Any]]:
    with _lock:
        generation = _generation[0]
        cached = getattr(table, "_bench_index", None)
        if cached is not None and cached[0] == generation and attribute in cached[1]:
            found: dict[tuple[str, Any], list[Any]] = cached[1][attribute]
            return found
        maps: dict[str, dict[tuple[str, Any], list[Any]]] = (
            cached[1] if cached is not None and cached[0] == generation else {}
        )
        by_value: dict[tuple[str, Any], list[Any]] = defaultdict(list)
        # Writers in other threads change the table meanwhile (they hold moto's write lock, not
        # this one): each dict is copied in one step (``list`` of a dict's values runs without
        # letting another thread in), never walked while it may grow.
        for partition in list(table.items.values()):
            items = list(partition.values()) if table.range_key_attr else [partition]
            for item in items:
                value = item.attrs.get(attribute)
                if value is not None:
                    by_value[(value.type, value.value)].append(item)
        maps[attribute] = dict(by_value)
        table._bench_index = (generation, maps)
        return maps[attribute]
