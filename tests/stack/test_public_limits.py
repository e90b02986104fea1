"""What anyone on the internet can make us run is capped (security review, defect 10): the
public functions have reserved concurrency, and each public route its own throttle."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.stack


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        res["Properties"]["Handler"]: res["Properties"]
        for res in template["Resources"].values()
        if res["Type"] == "AWS::Lambda::Function" and "Handler" in res["Properties"]
    }


def test_the_public_functions_have_reserved_concurrency(template: dict[str, Any]) -> None:
    functions = _functions(template)
    assert (
        functions["functions.webhooks.handlers.ingress.handler"]["ReservedConcurrentExecutions"]
        == 100
    )
    assert functions["functions.api.handlers.links.handler"]["ReservedConcurrentExecutions"] == 10
    payout_links = functions["functions.api.handlers.payout_links.handler"]
    assert payout_links["ReservedConcurrentExecutions"] == 10
    # The rest share the account's unreserved pool (which keeps at least 100).
    assert (
        "ReservedConcurrentExecutions"
        not in functions["functions.webhooks.handlers.processor.handler"]
    )


def test_every_public_route_has_a_throttle_of_its_own(template: dict[str, Any]) -> None:
    (stage,) = [
        res["Properties"]
        for res in template["Resources"].values()
        if res["Type"] == "AWS::ApiGatewayV2::Stage"
    ]
    settings = stage["RouteSettings"]
    public = {
        "POST /webhooks/{tenant}/stripe",
        "POST /webhooks/{tenant}/carriers/{carrier}",
        "POST /webhooks/{tenant}/shop",
        "POST /webhooks/{tenant}/shopify",
        "GET /links/{tenant}/{order_id}/{decision}",
        "POST /links/{tenant}/{order_id}/{decision}",
        "GET /links/{tenant}/payouts/{cycle_id}/{mark}",
        "POST /links/{tenant}/payouts/{cycle_id}/{mark}",
        "GET /links/{tenant}/payouts/{cycle_id}/{currency}/{vendor_id}/{mark}",
        "POST /links/{tenant}/payouts/{cycle_id}/{currency}/{vendor_id}/{mark}",
    }
    assert set(settings) == public
    for route in public:
        assert settings[route]["ThrottlingRateLimit"] > 0
        assert settings[route]["ThrottlingBurstLimit"] > 0
    assert settings["POST /links/{tenant}/{order_id}/{decision}"]["ThrottlingRateLimit"] == 10
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 1000
