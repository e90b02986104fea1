"""The ledger store's writes on moto: an event's entries over all its vendors go in one
transaction (DynamoDB's 100 items allowing), and when one vendor's item was written meanwhile
each vendor's is written on its own — every entry and balance move still exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.payouts.adapters.ledger_store import DynamoLedger
from functions.payouts.domain.ledger import Entry, Ledger
from functions.payouts.domain.postings import Context, FeeBearer, OrderLine, Rate, allocate, sale
from tests.component.conftest import TABLE

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
CTX = Context("acme", "EUR", "o-1")


def _sale(vendors: int) -> list[Entry]:
    lines = allocate(
        [OrderLine(f"l{n}", f"v-{n:03d}", 1, 1000 + n, sku=f"S{n}") for n in range(vendors)]
        + [OrderLine("lx", None, 1, 700, named_vendor="v-new")],
        discount=0,
        shipping=0,
        tax=0,
        gateway_fee=0,
        rates={f"l{n}": Rate(1000) for n in range(vendors)},
        fees_borne_by=FeeBearer.PLATFORM,
    )
    return [e for e in (sale(CTX, "paid", line, AT) for line in lines) if e is not None]


def _same_balances(store: DynamoLedger, entries: list[Entry], vendors: int) -> None:
    reference = Ledger("acme")
    reference.post_all(entries)
    for n in range(vendors):
        vendor = f"v-{n:03d}"
        assert store.balances("acme", vendor) == {
            (currency, account.book): amount
            for (currency, account), amount in reference.balances().items()
            if account.holder == vendor
        }


def test_an_events_entries_over_its_vendors_are_one_transaction(aws_env: Any) -> None:
    store = DynamoLedger(TABLE)
    entries = _sale(3)
    assert store.post("acme", entries) == 4
    # three vendors' items and the unknown one's (suspense: no balance of its own), in one
    assert (store.requests, store.writes) == (1, 4 + 3)
    assert store.post("acme", entries) == 0
    assert (store.requests, store.writes) == (1, 7)
    _same_balances(store, entries, 3)


def test_an_event_over_more_than_a_transaction_holds_is_written_in_several(
    aws_env: Any,
) -> None:
    store = DynamoLedger(TABLE)
    entries = _sale(60)  # 61 entries items and 60 balances: 121 items
    assert store.post("acme", entries) == 61
    assert store.requests == 2
    assert store.writes == 121
    assert store.post("acme", entries) == 0
    _same_balances(store, entries, 60)


def test_one_vendors_item_written_meanwhile_the_others_are_still_written_once(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DynamoLedger(TABLE)
    entries = _sale(3)
    # Another writer posts v-001's part of the event between this one's read and its write.
    assert store.post("acme", [e for e in entries if e.ref("vendor") == "v-001"]) == 1
    monkeypatch.setattr(store, "posted", lambda *args: [])  # the read saw nothing yet
    assert store.post("acme", entries) == 3  # the whole refused, then each vendor's alone
    monkeypatch.undo()
    assert store.post("acme", entries) == 0
    _same_balances(store, entries, 3)
