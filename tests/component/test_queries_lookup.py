"""Finding a customer's orders on moto: by e-mail, phone, card (+ BIN), order id or number and
tracking number, each with one DynamoDB read and no scan, and nothing found said plainly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.reports.queries.adapters.orders import TableOrderIndex
from functions.reports.queries.use_cases.lookup import find_orders
from shared import aws
from shared.events import Card
from shared.order_lookup import Unsearchable
from tests.component.conftest import TABLE
from tests.component.queries_orders import TENANT, paid, placed, shipped

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MASTERCARD = Card(fingerprint="fp_mc", bin="555555", last4="4242", brand="mastercard")


@pytest.fixture
def reads(aws_env: dict[str, Any]) -> Iterator[Counter[str]]:
    """Every DynamoDB call the lookup makes, by operation name."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client = aws.client("dynamodb")
    client.meta.events.register("before-call.dynamodb", count)
    yield calls
    client.meta.events.unregister("before-call.dynamodb", count)


@pytest.fixture
def planted(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_1", 2500, T0 + timedelta(minutes=1))
    shipped("1001", "1z 999-aa1 0123456784", T0 + timedelta(days=1))
    placed("1002", T0 + timedelta(days=2), email="ann.smith@example.com", phone="+442079460958")
    paid("1002", "pi_2", 2500, T0 + timedelta(days=2), card=MASTERCARD)
    placed("2001", T0, email="bob@example.com", phone=None, number="#ACME-2001")


def _ids(result: Any) -> list[str]:
    return [hit.order_id for hit in result.hits]


@pytest.mark.parametrize(
    ("kind", "value", "extra", "expected"),
    [
        ("email", "  ANN.SMITH@example.COM ", {}, ["1002", "1001"]),
        ("phone", "020-7946-0958", {"country": "gb"}, ["1002", "1001"]),
        ("phone", "0044 20 7946 0958", {}, ["1002", "1001"]),
        ("card", "4242", {}, ["1002", "1001"]),
        ("card", "4242", {"bin_": "424242"}, ["1001"]),
        ("tracking", "1Z999AA10123456784", {}, ["1001"]),
        ("order", "#1001", {}, ["1001"]),
        ("number", " acme 2001 ", {}, ["2001"]),
    ],
)
def test_each_lookup_is_one_read_and_no_scan(
    planted: None, reads: Counter[str], kind: str, value: str, extra: Any, expected: list[str]
) -> None:
    reads.clear()
    result = find_orders(TableOrderIndex(TABLE), TENANT, kind, value, **extra)
    assert _ids(result) == expected
    # One read of the index or the order; a customer's orders found in the index are then
    # read whole in one batch (the index does not keep the aggregate).
    batch = 1 if kind == "email" else 0
    assert reads == Counter({"Query" if kind != "order" else "GetItem": 1, "BatchGetItem": batch})
    assert reads["Scan"] == 0, reads
    assert result.found and all(f"order {o}" in result.text() for o in expected)


def test_email_hits_carry_the_order_and_mask_the_address(planted: None) -> None:
    result = find_orders(TableOrderIndex(TABLE), TENANT, "email", "bob@example.com")
    assert _ids(result) == ["2001"]
    assert result.hits[0].state is not None and result.hits[0].state.order_id == "2001"
    assert "b***@example.com" in result.text() and "bob@" not in result.text()


def test_lookup_stays_in_its_tenant(planted: None) -> None:
    result = find_orders(TableOrderIndex(TABLE), "other", "email", "bob@example.com")
    assert not result.found


@pytest.mark.parametrize(
    ("kind", "value", "said"),
    [
        ("email", "nobody@example.com", "Nothing found: no order with e-mail n***@example.com"),
        ("phone", "+44 20 7946 0000", "no order with phone …0000"),
        ("card", "1111", "no order with card ending 1111"),
        ("tracking", "NOPE123", "no order with tracking number NOPE123"),
        ("order", "9999", "no order with order id 9999"),
        ("number", "#1001", "no order with order number #1001"),
    ],
)
def test_nothing_found_says_what_was_searched(
    planted: None, kind: str, value: str, said: str
) -> None:
    result = find_orders(TableOrderIndex(TABLE), TENANT, kind, value)
    assert not result.found
    assert said in result.text() and "tenant acme" in result.text()


@pytest.mark.parametrize(
    ("kind", "value", "extra", "reason"),
    [
        ("email", "not-an-address", {}, "is not an e-mail address"),
        ("phone", "020 7946 0958", {}, "no country code"),
        ("card", "42", {"bin_": "12"}, "must be 4 digits; BIN '12' must be"),
        ("iban", "x", {}, "unknown kind of lookup"),
    ],
)
def test_unsearchable_input_says_every_reason(
    kind: str, value: str, extra: Any, reason: str
) -> None:
    with pytest.raises(Unsearchable, match=reason):
        find_orders(TableOrderIndex(TABLE), TENANT, kind, value, **extra)


def test_more_orders_than_one_lookup_shows_says_so(aws_env: dict[str, Any]) -> None:
    for n in range(4):
        placed(f"o{n}", T0 + timedelta(hours=n), email="many@example.com")
    result = find_orders(TableOrderIndex(TABLE), TENANT, "email", "many@example.com", limit=3)
    assert _ids(result) == ["o3", "o2", "o1"] and result.more
    assert "the newest 3; there are more" in result.text()


def test_a_lookup_entry_is_written_once_per_identifier(aws_env: dict[str, Any]) -> None:
    placed("1001", T0)
    paid("1001", "pi_1", 2500, T0 + timedelta(minutes=1))
    writes: Counter[str] = Counter()

    def count(params: dict[str, Any], **_: Any) -> None:
        sort_key = params["Item"]["SK"]["S"]
        if sort_key.startswith("FIND#"):
            writes[sort_key.rsplit("#", 1)[0]] += 1

    client = aws.client("dynamodb")
    client.meta.events.register("provide-client-params.dynamodb.PutItem", count)
    try:
        shipped("1001", "TRACK1", T0 + timedelta(days=1))
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.PutItem", count)
    # one lookup entry, the new parcel's: not again the phone's or the card's
    assert writes == Counter({"FIND#tracking": 1}), writes
