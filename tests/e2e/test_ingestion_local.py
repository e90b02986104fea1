"""Ingestion on the local stack: store first, the stream processor, the DLQ and replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from functions.webhooks.composition import replay_dead_letters
from functions.webhooks.use_cases import process as processing
from functions.webhooks.use_cases.process import Dependencies
from functions.webhooks.use_cases.replay import replay_since
from shared.order_store import OrderStore
from shared.raw_events import RawEventStore
from tests.e2e.helpers import post_shop, shop_order, tenant_file

pytestmark = pytest.mark.local


def _deps(stack: Any) -> Dependencies:
    from shared.raw_events import RawEventStore
    from shared.settlement_store import SettlementStore

    table = stack.deployment.outputs["TableName"]
    return Dependencies(
        raw_events=RawEventStore(table, stack.deployment.outputs["ArchiveBucket"]),
        orders=OrderStore(table),
        settlements=SettlementStore(table),
        gateway_for=_no_gateway,
    )


def _no_gateway(tenant: str) -> Any:
    raise AssertionError("these events never reach the gateway")


def events_on_timeline(store: OrderStore, tenant: str, order_id: str) -> list[dict[str, Any]]:
    """The events' entries (the order's lifecycle adds its e-mails to the timeline too)."""
    return [e for e in store.timeline(tenant, order_id) if e["source"] != "notify"]


def _dead_letters(stack: Any) -> int:
    attributes = stack.client("sqs").get_queue_attributes(
        QueueUrl=stack.deployment.outputs["DeadLetterQueue"],
        AttributeNames=["ApproximateNumberOfMessages"],
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def test_poison_event_goes_to_the_dlq_the_rest_of_its_batch_applies_and_replay_heals(
    local_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = "dlq-test"
    local_stack.install_tenants(tenant_file(tmp_path, tenant))
    store = OrderStore(local_stack.deployment.outputs["TableName"])
    real = processing.normalise  # type: ignore[attr-defined]

    def buggy(source: Any, tenant_id: str, payload: Any, **kwargs: Any) -> Any:
        if kwargs["event_id"] == "evt-poison":
            raise RuntimeError("a normaliser bug, fixed in the next release")
        return real(source, tenant_id, payload, **kwargs)

    monkeypatch.setattr(processing, "normalise", buggy)
    assert _dead_letters(local_stack) == 0
    local_stack.streams.pause()  # let the six events form one batch
    ids = ["o-1", "o-2", "o-poison", "o-3", "o-4", "o-5"]
    for order_id in ids:
        event_id = "evt-poison" if order_id == "o-poison" else f"evt-{order_id}"
        status, answer = post_shop(local_stack.base_url, tenant, shop_order(order_id, event_id))
        assert status == 200, answer
    local_stack.streams.resume()
    local_stack.wait_idle(60)

    for order_id in ids:
        state, version = store.load(tenant, order_id)
        assert (version > 0) == (order_id != "o-poison"), order_id
    assert _dead_letters(local_stack) == 1

    monkeypatch.setattr(processing, "normalise", real)  # the fix is deployed
    report = replay_dead_letters(
        local_stack.deployment.outputs["DeadLetterQueue"],
        local_stack.deployment.outputs["TableName"],
        _deps(local_stack),
    )
    assert report.failures == []
    assert report.outcomes["applied"] == 1 and report.messages_deleted == 1
    assert _dead_letters(local_stack) == 0
    state, version = store.load(tenant, "o-poison")
    assert version == 1 and state.status() == "pending_payment"

    # Replaying everything again changes nothing: one timeline entry per event.
    again = replay_since(tenant, "shop", "2000-01-01", _deps(local_stack))
    assert again.outcomes["applied"] == len(ids) and again.failures == []
    for order_id in ids:
        assert len(events_on_timeline(store, tenant, order_id)) == 1
        assert store.load(tenant, order_id)[1] == 1


def test_duplicate_delivery_is_acknowledged_and_stored_once(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "dup-test"
    local_stack.install_tenants(tenant_file(tmp_path, tenant))
    document = shop_order("o-dup", "evt-dup")
    first = post_shop(local_stack.base_url, tenant, document)
    second = post_shop(local_stack.base_url, tenant, document)
    assert first == (200, {"received": True, "event_id": "evt-dup", "duplicate": False})
    assert second[1]["duplicate"] is True
    local_stack.wait_idle(30)
    store = OrderStore(local_stack.deployment.outputs["TableName"])
    raw = RawEventStore(local_stack.deployment.outputs["TableName"]).get(tenant, "shop", "evt-dup")
    assert raw is not None and raw.status == "received"  # applied, and left as stored
    assert len(events_on_timeline(store, tenant, "o-dup")) == 1


def install_scenario_tenant(stack: Any, tmp_path: Path, tenant: str, scenario: Any) -> None:
    """A tenant whose secrets are the ones the scenario's sandboxes sign with."""
    import json

    path = tmp_path / f"{tenant}-scenario.json"
    path.write_text(
        json.dumps(
            {
                "tenants": [
                    {
                        "settings": {
                            "id": tenant,
                            "name": f"Tenant {tenant}",
                            "currency": "USD",
                            "customer_sender": f"orders@{tenant}.example",
                        },
                        "secrets": scenario.config.secrets.tenant_secret_document(),
                    }
                ]
            }
        )
    )
    stack.install_tenants(path)
