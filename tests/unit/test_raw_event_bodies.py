"""A raw body is kept byte for byte, compressed where that makes the item smaller, and read
back the same from the SDK's item and from a stream record's JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.packed import PACK_FROM, packed_attribute
from shared.raw_events import RawEvent, RawEventStore


def item_of(body: bytes, as_stream_json: bool = False) -> dict[str, Any]:
    attribute, value, _ = packed_attribute("body", body)
    if as_stream_json and "B" in value:
        value = {"B": base64.b64encode(value["B"]).decode()}
    return {"event_id": {"S": "e"}, attribute: value}


def read_back(item: dict[str, Any]) -> bytes:
    return RawEventStore("unused").body_of(RawEvent.from_item(item))


def test_a_webhook_sized_body_is_kept_compressed_and_read_back_exactly() -> None:
    body = json.dumps(
        {
            "data": {"object": {"id": "ch_1", "metadata": {"order_id": "o-1"}}},
            "lines": [{"sku": f"SKU-{i}", "name": "Boots", "quantity": 1} for i in range(60)],
        }
    ).encode()
    attribute, _, size = packed_attribute("body", body)
    assert attribute == "body_z" and size < len(body) / 3
    assert read_back(item_of(body)) == body
    assert read_back(item_of(body, as_stream_json=True)) == body


def test_a_small_body_stays_text() -> None:
    body = b'{"id": "evt_1"}'
    assert len(body) < PACK_FROM
    assert item_of(body) == {"event_id": {"S": "e"}, "body": {"S": body.decode()}}
    assert read_back(item_of(body)) == body


@given(st.text(min_size=0, max_size=3000))
def test_any_body_reads_back_byte_for_byte(text: str) -> None:
    body = text.encode()
    assert read_back(item_of(body)) == body
    assert read_back(item_of(body, as_stream_json=True)) == body
