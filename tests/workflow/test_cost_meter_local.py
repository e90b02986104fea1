"""The cost meter on the local stack: an order's happy path, each invocation's calls out timed
and charged to it, and every call the path makes has a latency to model it with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.costs.lambda_time import by_function, load_latencies
from local.costs.meter import Meter
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    finished,
    fulfil,
    make_tenant,
    place_paid,
    wait_for_mail,
    wait_for_stage,
)

pytestmark = pytest.mark.local


def test_the_happy_paths_invocations_are_timed_with_their_own_calls(
    local_stack: Any, tmp_path: Path
) -> None:
    meter = Meter()
    meter.meter_clients()
    meter.meter_calls_out()
    meter.meter_runtime(local_stack)
    try:
        make_tenant(local_stack, tmp_path, "cost-happy")
        place_paid(local_stack, "cost-happy", "o-1")
        wait_for_stage(local_stack, "cost-happy", "o-1", "awaiting_shipment")
        fulfil(local_stack, "cost-happy", "o-1", "1ZCOST")
        wait_for_stage(local_stack, "cost-happy", "o-1", "awaiting_delivery")
        carrier_update(local_stack, "cost-happy", "1ZCOST", "delivered", 30)
        assert finished(local_stack, "cost-happy", "o-1")["status"] == "SUCCEEDED"
        wait_for_mail(local_stack, "cost-happy", "o-1", "order_delivered")
    finally:
        meter.uninstall()

    timed = meter.snapshot().invocation_times
    # every call the path made has a latency (a call without one would be refused here)
    times = by_function(timed, load_latencies())
    assert times and all(t.modelled_gb_s > 0 for t in times.values())

    def calls_of(logical_id: str) -> set[tuple[str, str]]:
        return {c for t in timed if logical_id in t.function for c in t.calls}

    # the front door stores the webhook; the processor applies it and starts or resumes the
    # execution; the lifecycle's steps send the e-mails (the .eml files standing in for SES)
    assert ("dynamodb", "PutItem") in calls_of("IngestionIngress")
    assert not {c for c in calls_of("IngestionIngress") if c[0] in ("stepfunctions", "sesv2")}
    assert ("stepfunctions", "StartExecution") in calls_of("IngestionProcessor")
    assert ("sesv2", "SendEmail") in calls_of("OrdersLifecycleSteps")
    assert ("sesv2", "SendEmail") not in calls_of("IngestionProcessor")
    for invocation in timed:
        assert 0 <= invocation.call_ms <= invocation.wall_ms, invocation
        assert invocation.calls or invocation.call_ms == 0, invocation
    assert sum(t.call_ms for t in timed) > 0
