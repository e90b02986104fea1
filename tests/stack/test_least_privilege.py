"""Tenants' secrets in the template: each function may read only the parts it uses.

The public functions (ingress: webhooks, links: signed review links) must never be able to read
a tenant's gateway API key; no role may read tenants' secrets from Secrets Manager any more.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.stack

PARAMETERS = (
    "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/ecomops/dev/tenants/"
)

INGRESS = "functions.webhooks.handlers.ingress.handler"
LINKS = "functions.api.handlers.links.handler"
PAYOUT_LINKS = "functions.api.handlers.payout_links.handler"
# What each function reads of tenants' secrets; every other function reads none.
EXPECTED_PARTS = {
    INGRESS: {"webhooks"},
    LINKS: {"links"},
    "functions.webhooks.handlers.processor.handler": {"api"},
    "functions.orders.handlers.lifecycle.handler": {"api", "links"},
    "functions.orders.handlers.refunds.handler": {"api"},
    "functions.api.handlers.operator.handler": {"api"},
    # The finance e-mail's payout links: the cycle signs them, their function verifies them;
    # the cycle also makes Stripe Connect transfers with the tenant's API key.
    "functions.payouts.handlers.cycles.handler": {"links", "api"},
    PAYOUT_LINKS: {"links"},
}


def _render(value: Any) -> str:
    """A policy resource as one string, references as ``<Logical.Attr>`` / ``<AWS::Region>``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, items = value["Fn::Join"]
        return str(separator).join(_render(item) for item in items)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{'.'.join(value['Fn::GetAtt'])}>"
    return repr(value)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every Allow statement of every role (policies attached and inline), with its role."""
    found: list[tuple[str, dict[str, Any]]] = []
    resources = template["Resources"]
    for lid, resource in resources.items():
        if resource["Type"] == "AWS::IAM::Policy":
            roles = [r["Ref"] for r in resource["Properties"].get("Roles", [])]
            documents = [resource["Properties"]["PolicyDocument"]]
        elif resource["Type"] == "AWS::IAM::Role":
            roles = [lid]
            documents = [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                if statement.get("Effect") == "Allow":
                    found.extend((role, statement) for role in roles)
    return found


def _role_of(template: dict[str, Any], handler: str) -> str:
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function" and (
            resource["Properties"].get("Handler") == handler
        ):
            return str(resource["Properties"]["Role"]["Fn::GetAtt"][0])
    raise AssertionError(f"no function with handler {handler}")


def _ssm_grants(template: dict[str, Any], role: str) -> tuple[set[str], set[str]]:
    """The SSM actions a role is allowed and the resources they are allowed on."""
    actions: set[str] = set()
    resources: set[str] = set()
    for owner, statement in _statements(template):
        acts = {a for a in _listed(statement["Action"]) if a.lower().startswith("ssm:")}
        if owner == role and acts:
            actions |= acts
            resources |= {_render(r) for r in _listed(statement["Resource"])}
    return actions, resources


def test_the_ingress_reads_only_webhook_secrets(template: dict[str, Any]) -> None:
    actions, resources = _ssm_grants(template, _role_of(template, INGRESS))
    assert actions == {"ssm:GetParameters"}
    assert resources == {f"{PARAMETERS}*/webhooks"}


def test_the_links_function_reads_only_link_signing_keys(template: dict[str, Any]) -> None:
    actions, resources = _ssm_grants(template, _role_of(template, LINKS))
    assert actions == {"ssm:GetParameters"}
    assert resources == {f"{PARAMETERS}*/links"}


@pytest.mark.parametrize(
    ("handler", "part"),
    [(INGRESS, "webhooks"), (LINKS, "links"), (PAYOUT_LINKS, "links")],
)
def test_no_public_function_can_read_api_keys(
    template: dict[str, Any], handler: str, part: str
) -> None:
    """Whatever the statement (not only SSM ones): nothing names the api part or the whole
    prefix, and no action is a wildcard that would reach them."""
    role = _role_of(template, handler)
    for owner, statement in _statements(template):
        if owner != role:
            continue
        for resource in map(_render, _listed(statement["Resource"])):
            assert not resource.endswith("/api"), (handler, resource)
            if "/tenants/" in resource:
                assert resource == f"{PARAMETERS}*/{part}", (handler, resource)
        for action in map(str.lower, _listed(statement["Action"])):
            assert action not in {"*", "ssm:*", "ssm:get*"}, (handler, action)
            assert not action.startswith("secretsmanager:"), (handler, action)


def test_every_function_reads_exactly_the_parts_it_uses(template: dict[str, Any]) -> None:
    seen = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        handler = resource["Properties"].get("Handler", "")
        role = resource["Properties"]["Role"]["Fn::GetAtt"][0]
        actions, resources = _ssm_grants(template, role)
        parts = set()
        for arn in resources:
            assert arn.startswith(f"{PARAMETERS}*/"), (handler, arn)
            parts.add(arn.removeprefix(f"{PARAMETERS}*/"))
        assert actions <= {"ssm:GetParameters"}, (handler, actions)
        seen[handler] = parts
    for handler, parts in seen.items():
        assert parts == EXPECTED_PARTS.get(handler, set()), handler
    assert set(EXPECTED_PARTS) <= set(seen)


def test_no_role_reads_tenants_secrets_from_secrets_manager(template: dict[str, Any]) -> None:
    for role, statement in _statements(template):
        actions = [a.lower() for a in _listed(statement["Action"])]
        if not any(a.startswith("secretsmanager:") or a == "*" for a in actions):
            continue
        for resource in map(_render, _listed(statement["Resource"])):
            assert "tenants" not in resource, (role, actions, resource)
            assert resource != "*", (role, actions, resource)


def test_functions_are_told_the_parameters_prefix(template: dict[str, Any]) -> None:
    for handler in EXPECTED_PARTS:
        (function,) = [
            r
            for r in template["Resources"].values()
            if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == handler
        ]
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["TENANT_SECRET_PREFIX"] == "/ecomops/dev/tenants/", handler


def test_the_payout_links_function_cannot_delete_or_scan_the_table(
    template: dict[str, Any],
) -> None:
    """Public: it marks a cycle's lines and posts ledger entries, nothing more."""
    role = _role_of(template, PAYOUT_LINKS)
    actions = {
        action
        for owner, statement in _statements(template)
        if owner == role
        for action in _listed(statement["Action"])
        if action.startswith("dynamodb:")
    }
    assert actions == {
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:UpdateItem",
        "dynamodb:ConditionCheckItem",
    }
