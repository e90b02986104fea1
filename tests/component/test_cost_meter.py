"""The cost meter counts, on moto, the write units a planted set of writes costs, and times the
calls an invocation makes (AWS on moto, the Stripe sandbox, the carrier, the local mailer) and
charges them to it."""

from __future__ import annotations

import math
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from local.costs.lambda_time import by_function, load_latencies, modelled_ms
from local.costs.meter import Meter
from local.lambda_shim import Dispatcher, FunctionSpec
from shared import aws
from tests.component.conftest import TABLE

PROBE = FunctionSpec(
    name="probe",
    arn="arn:aws:lambda:us-east-1:123456789012:function:probe",
    handler="functions._cost_meter_probe.handler",
    environment={},
    memory_mb=512,
    timeout_s=30,
)


@pytest.fixture
def meter(aws_env: dict[str, Any]) -> Iterator[Meter]:
    metered = Meter()
    metered.meter_dynamodb_writes()
    metered.meter_clients()
    try:
        yield metered
    finally:
        metered.uninstall()


def test_writes_and_reads_are_counted_as_dynamodb_bills_them(meter: Meter) -> None:
    ddb = aws.client("dynamodb")
    blob = {"S": "x" * 1500}
    # 2 units on the table, 2 on ByStatus (its keys are there, "body" is projected)
    ddb.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "T#a"},
            "SK": {"S": "1"},
            "GSI2PK": {"S": "s"},
            "GSI2SK": {"S": "1"},
            "body": blob,
        },
    )
    # 2 units on the table, 1 on ByStatus: the index keeps the keys, not the aggregate
    ddb.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "T#a"},
            "SK": {"S": "2"},
            "GSI2PK": {"S": "s"},
            "GSI2SK": {"S": "2"},
            "state_z": {"B": b"x" * 1500},
        },
    )
    # the larger image (2 units); ByStatus rewritten with the smaller projection (2 units)
    ddb.update_item(
        TableName=TABLE,
        Key={"PK": {"S": "T#a"}, "SK": {"S": "1"}},
        UpdateExpression="REMOVE body",
    )
    # a failed condition still costs the table its unit
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
        ddb.put_item(
            TableName=TABLE,
            Item={"PK": {"S": "T#a"}, "SK": {"S": "1"}},
            ConditionExpression="attribute_not_exists(PK)",
        )
    # a transaction pays double: 2 items of under 1 KB
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "T#a"}, "SK": {"S": f"t{i}"}}}}
            for i in range(2)
        ]
    )
    ddb.get_item(TableName=TABLE, Key={"PK": {"S": "T#a"}, "SK": {"S": "1"}})

    counts = meter.snapshot()
    assert counts.write_units[("", "table")] == 2 + 2 + 2 + 1 + 2 * 2
    assert counts.write_units[("", "ByStatus")] == 2 + 1 + 2
    assert counts.read_units == 0.5
    assert counts.requests[("dynamodb", "PutItem")] == 3
    assert counts.requests[("dynamodb", "TransactWriteItems")] == 1


@pytest.fixture
def probe() -> Iterator[list[Callable[[], None]]]:
    """A function whose handler runs what the test puts in the list; the real dispatcher runs
    it as the local stack does."""
    work: list[Callable[[], None]] = []
    module = types.ModuleType("functions._cost_meter_probe")

    def handler(event: Any, context: Any) -> None:
        for step in work:
            step()

    module.handler = handler  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        yield work
    finally:
        del sys.modules[module.__name__]


def test_aws_calls_in_an_invocation_are_timed_and_charged_to_it(
    meter: Meter, probe: list[Callable[[], None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.responses import DynamoHandler

    # moto slower than DynamoDB, as on the local stack: 50 ms a GetItem, all inside the call
    original = DynamoHandler.get_item

    def slow_get_item(handler: Any) -> Any:
        time.sleep(0.05)
        return original(handler)

    monkeypatch.setattr(DynamoHandler, "get_item", slow_get_item)
    key = {"PK": {"S": "T#a"}, "SK": {"S": "1"}}

    def work() -> None:
        ddb = aws.client("dynamodb")
        ddb.put_item(TableName=TABLE, Item=key)
        ddb.get_item(TableName=TABLE, Key=key)
        ddb.get_item(TableName=TABLE, Key=key)
        ddb.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "T#a"}},
        )
        time.sleep(0.03)  # the function's own time, outside any call

    probe.append(work)
    dispatcher = Dispatcher()
    meter.meter_dispatcher(dispatcher)
    dispatcher.invoke(PROBE, {})
    aws.client("dynamodb").get_item(TableName=TABLE, Key=key)  # outside any invocation

    counts = meter.snapshot()
    (timed,) = counts.invocation_times
    assert timed.function == "probe" and timed.memory_mb == 512
    assert timed.calls == {
        ("dynamodb", "PutItem"): 1,
        ("dynamodb", "GetItem"): 2,
        ("dynamodb", "Query"): 1,
    }
    assert counts.requests[("dynamodb", "GetItem")] == 3  # counted, though not charged
    assert 100 <= timed.call_ms < timed.wall_ms
    assert 30 <= timed.own_ms < timed.wall_ms - 100
    # billed: the own time at 512 MB's share of a vCPU, plus 5 ms per item and 10 per query
    table = load_latencies()
    assert modelled_ms(timed, table) == math.ceil(timed.own_ms * 1769 / 512 + 3 * 5 + 10)
    measured = by_function(counts.invocation_times, table)["probe"].measured_gb_s
    assert measured == pytest.approx(math.ceil(timed.wall_ms) / 1000 / 2)


def test_stripe_the_carrier_and_the_local_mailer_are_timed_as_their_calls(
    meter: Meter, probe: list[Callable[[], None]], tmp_path: Path
) -> None:
    from functions.orders.adapters.return_labels import EasyPostReturnLabels
    from functions.orders.errors import ReturnRefused
    from local.sandboxes.stripe_sandbox import StripeSandbox
    from local.stack import free_port
    from shared.gateway import StripeGateway
    from shared.notify.mailers import FileMailer
    from shared.notify.render import RenderedEmail

    meter.meter_calls_out()
    sandbox = StripeSandbox(seed=7)
    sandbox.start()
    email = RenderedEmail(
        kind="order_shipped",
        subject="Shipped",
        html="<p>on its way</p>",
        text="on its way",
        to=("customer@example.com",),
        sender="Shop <shop@example.com>",
        reply_to=None,
        order_id="o1",
    )

    def work() -> None:
        stripe = StripeGateway("sk_test_meter", api_base=sandbox.base_url, max_network_retries=0)
        stripe.client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa"}
        )
        FileMailer(tmp_path).send(email, "acme:o1:order_shipped")
        # Nobody listens on the port: the carrier cannot be reached, and that is a call too.
        labels = EasyPostReturnLabels(cast(Any, None), base_url=f"http://127.0.0.1:{free_port()}")
        with pytest.raises(ReturnRefused):
            labels._call("key", "POST", "/v2/shipments", {})

    probe.append(work)
    dispatcher = Dispatcher()
    meter.meter_dispatcher(dispatcher)
    try:
        dispatcher.invoke(PROBE, {})
    finally:
        sandbox.stop()

    (timed,) = meter.snapshot().invocation_times
    assert timed.calls == {("stripe", "POST"): 1, ("sesv2", "SendEmail"): 1, ("carrier", "POST"): 1}
    assert 0 < timed.call_ms < timed.wall_ms
    assert len(list(tmp_path.glob("order_shipped-*.eml"))) == 1
    # each has a latency (none refused): 500 + 50 + 1000 ms waited, plus the own time
    modelled = by_function([timed], load_latencies())["probe"].modelled_ms
    assert modelled == math.ceil(timed.own_ms * 1769 / 512 + 500 + 50 + 1000)
