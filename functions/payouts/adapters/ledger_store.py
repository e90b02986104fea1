"""The vendor ledger in the single table (``ports.LedgerStore``).

One item holds one event's entries for one vendor (as the shop named it) or for the platform:
``T#<t>#VLEDGER#<holder>`` / ``E#<hash of the event>#<hash of the entries' keys>``. Posting
reads what the event wrote for the holder before (one query of the event's prefix), leaves out
the entries whose keys are there, and writes the rest as one item with a condition that it
does not exist, in one transaction with the holder's cached balances (``T#<t>#VBAL#<holder>`` /
``<currency>``, one number per book, moved with ADD): an entry is written once and the balances
move once with it, whatever retries and replays, and an event may post more of its lines later
(a release of the delivered lines, then of the rest). GSI2 (``T#<t>#VLEDGER#<holder>`` /
``<occurred>#<hash>``) reads a holder's entries by time.

Two different writers posting overlapping entries of one event at the same instant could both
pass the read; the lifecycle runs one step of an order at a time, and a retry posts the same
entries (the same item, refused by its condition), so that does not arise from our flows.

The platform's balances are not cached: every sale would update that one item (a hot key and
conflicting transactions); they are summed from the entries when a report needs them.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from functions.payouts.adapters.dynamo import query_all
from functions.payouts.domain.ledger import PLATFORM, Account, Book, Entry, EntryKind, Posting
from shared import aws, keys
from shared.retention import Retention


def home(item: Entry) -> str:
    """Where an entry is filed: the vendor it is about (the shop's id, known or not), else the
    platform."""
    return item.ref("vendor") or PLATFORM


def group_prefix(currency: str, order_id: str, event_id: str, kind: str) -> str:
    """What every item of one event's entries (for one holder) begins with: a hash over the
    whole identity, so no id's characters can make two events share it."""
    return keys.digest(json.dumps([currency, order_id, event_id, kind], ensure_ascii=False))


def set_hash(entry_keys: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(sorted(entry_keys)).encode()).hexdigest()


def _encode(item: Entry) -> dict[str, Any]:
    return {
        "k": item.kind.value,
        "e": item.event_id,
        "l": item.line,
        "t": item.occurred_at.isoformat(),
        "o": item.order_id,
        "r": item.reason,
        "a": item.actor,
        "f": dict(item.refs),
        "p": [[p.account.holder, p.account.book.value, p.amount] for p in item.postings],
    }


def _decode(tenant: str, currency: str, raw: dict[str, Any]) -> Entry:
    return Entry(
        tenant,
        currency,
        EntryKind(raw["k"]),
        raw["e"],
        raw["l"],
        datetime.fromisoformat(raw["t"]),
        tuple(Posting(Account(h, Book(b)), int(n)) for h, b, n in raw["p"]),
        order_id=raw["o"],
        reason=raw["r"],
        actor=raw["a"],
        refs=raw["f"],
    )


# DynamoDB's limit of items in one transaction.
MAX_TRANSACTION_ITEMS = 100

_Group = tuple[str, str, str, str, str]  # holder, currency, order, event, kind


class DynamoLedger:
    def __init__(self, table_name: str, retention: Retention | None = None) -> None:
        self.table_name = table_name
        self.retention = retention
        self.writes = 0  # items written (entries' groups and balances), for the bench
        self.requests = 0  # write requests (transactions), for the bench

    def post(self, tenant: str, entries: Sequence[Entry]) -> int:
        """Every holder's entries of the call (an event: an order's sale over its vendors) in
        one transaction with the balances they move, when DynamoDB's 100 items allow; else,
        or when one holder's item was written before (a retry that got half way cannot, but a
        replay of part of an event can), one transaction per holder as each stands."""
        groups: dict[_Group, list[Entry]] = defaultdict(list)
        for item in entries:
            if item.tenant != tenant:
                raise ValueError(f"an entry of {item.tenant} posted for {tenant}")
            groups[(home(item), item.currency, item.order_id, item.event_id, item.kind)].append(
                item
            )
        fresh: dict[_Group, list[Entry]] = {}
        for group, items in groups.items():
            written = {e.key for e in self.posted(tenant, *group)}
            new = list({e.key: e for e in items if e.key not in written}.values())
            if new:
                fresh[group] = new
        added = 0
        for batch in _batches(fresh):
            if len(batch) > 1 and self._write(tenant, {g: fresh[g] for g in batch}):
                added += sum(len(fresh[g]) for g in batch)
                continue
            # One holder at a time: each group's item is written once, whatever the others.
            for group in batch:
                if self._write(tenant, {group: fresh[group]}):
                    added += len(fresh[group])
        return added

    def posted(
        self, tenant: str, holder: str, currency: str, order_id: str, event_id: str, kind: str
    ) -> list[Entry]:
        """The entries one event posted for a holder (a sale's lines, say), as written."""
        prefix = keys.vendor_ledger_sk(group_prefix(currency, order_id, event_id, kind), "")
        found: list[Entry] = []
        for item in query_all(
            self.table_name,
            {
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": keys.vendor_ledger_pk(tenant, holder)},
                    ":p": {"S": prefix},
                },
                "ConsistentRead": True,
            },
        ):
            found.extend(_decode(tenant, currency, raw) for raw in json.loads(item["entries"]["S"]))
        return found

    def _write(self, tenant: str, groups: dict[_Group, list[Entry]]) -> bool:
        """One item per group for its entries not written before, named by their keys, in one
        transaction with the balances they move (one update per balance item); False when one
        of the items was written before (a retry or a replay: nothing of this call is)."""
        moves: dict[tuple[str, str], dict[Book, int]] = defaultdict(lambda: defaultdict(int))
        writes: list[dict[str, Any]] = []
        ttl = self.retention.attribute(tenant) if self.retention else {}
        for (holder, currency, order_id, event_id, kind), items in groups.items():
            for item in items:
                for account, amount in item.moves():
                    if account.holder != PLATFORM:
                        moves[(account.holder, currency)][account.book] += amount
            pk = keys.vendor_ledger_pk(tenant, holder)
            key = set_hash([e.key for e in items])
            occurred = min(i.occurred_at for i in items).isoformat()
            writes.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            "PK": {"S": pk},
                            "SK": {
                                "S": keys.vendor_ledger_sk(
                                    group_prefix(currency, order_id, event_id, kind), key
                                )
                            },
                            "GSI2PK": {"S": pk},
                            "GSI2SK": {"S": keys.vendor_ledger_time_sk(occurred, key)},
                            "kind": {"S": "vendor_ledger"},
                            "tenant": {"S": tenant},
                            "currency": {"S": currency},
                            "entries": {"S": json.dumps([_encode(i) for i in items])},
                            **ttl,
                        },
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        for (vendor, currency), books in sorted(moves.items()):
            moved = {book: n for book, n in books.items() if n}
            if moved:
                writes.append(self._balance_update(tenant, vendor, currency, moved))
        client = aws.client("dynamodb")
        try:
            client.transact_write_items(TransactItems=writes)
        except client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False  # written before: a retry or a replay adds nothing
            raise
        self.writes += len(writes)
        self.requests += 1
        return True

    def _balance_update(
        self, tenant: str, vendor: str, currency: str, moved: dict[Book, int]
    ) -> dict[str, Any]:
        pk_b, sk_b = keys.vendor_balance(tenant, vendor, currency)
        names = {f"#{b.value}": b.value for b in moved}
        values: dict[str, Any] = {f":{b.value}": {"N": str(n)} for b, n in moved.items()}
        values[":one"] = {"N": "1"}
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {"PK": {"S": pk_b}, "SK": {"S": sk_b}},
                "UpdateExpression": "ADD "
                + ", ".join(f"#{b.value} :{b.value}" for b in moved)
                + ", #moves :one",
                "ExpressionAttributeNames": {**names, "#moves": "moves"},
                "ExpressionAttributeValues": values,
            }
        }

    def balances(self, tenant: str, holder: str) -> dict[tuple[str, Book], int]:
        if holder == PLATFORM:
            raise ValueError("the platform's balances are not cached: sum its entries")
        pk, _ = keys.vendor_balance(tenant, holder, "")
        found: dict[tuple[str, Book], int] = {}
        for item in query_all(
            self.table_name,
            {
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": pk}},
                "ConsistentRead": True,
            },
        ):
            for book in Book:
                value = int(item.get(book.value, {}).get("N", "0"))
                if value:
                    found[(item["SK"]["S"], book)] = value
        return found

    def entries(
        self,
        tenant: str,
        holder: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Entry]:
        pk = keys.vendor_ledger_pk(tenant, holder)
        low = since.isoformat() if since else "0"
        high = until.isoformat() if until else "~"
        found: list[Entry] = []
        for item in query_all(
            self.table_name,
            {
                "IndexName": keys.BY_STATUS,
                "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK BETWEEN :low AND :high",
                "ExpressionAttributeValues": {
                    ":pk": {"S": pk},
                    ":low": {"S": low},
                    ":high": {"S": high},
                },
            },
        ):
            currency = item["currency"]["S"]
            for raw in json.loads(item["entries"]["S"]):
                entry = _decode(tenant, currency, raw)
                if (since is None or entry.occurred_at >= since) and (
                    until is None or entry.occurred_at < until
                ):
                    found.append(entry)
        return sorted(found, key=lambda e: (e.occurred_at, e.key))


def _items_of(group: _Group, items: Sequence[Entry]) -> set[tuple[str, ...]]:
    """The table items a group's write touches: its entries item and its balance items."""
    currency = group[1]
    touched: set[tuple[str, ...]] = {("entries", *group)}
    for item in items:
        for account, amount in item.moves():
            if account.holder != PLATFORM and amount:
                touched.add(("balance", account.holder, currency))
    return touched


def _batches(groups: dict[_Group, list[Entry]]) -> list[list[_Group]]:
    """The groups packed in order into transactions of at most ``MAX_TRANSACTION_ITEMS``
    items (a balance item moved by two groups counts once: its moves are added up)."""
    batches: list[list[_Group]] = []
    touched: set[tuple[str, ...]] = set()
    for group, items in groups.items():
        mine = _items_of(group, items)
        if batches and len(touched | mine) <= MAX_TRANSACTION_ITEMS:
            batches[-1].append(group)
            touched |= mine
        else:
            batches.append([group])
            touched = set(mine)
    return batches
