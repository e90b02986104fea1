"""Who may read which part of tenants' secrets (SSM SecureString parameters, per tenant and use).

Each tenant has three parameters, ``<prefix><tenant>/webhooks``, ``/links`` and ``/api``
(``shared/tenant_secrets.py``). A function is granted ``ssm:GetParameters`` on exactly the
parts it uses, for every tenant (``<prefix>*/<part>``): tenants are added by putting their
parameters, without a deploy, so the tenant is the one wildcard, always inside one part.

The parameters are encrypted with the AWS-managed key ``aws/ssm``, whose key policy lets any
principal of the account decrypt through SSM (``kms:ViaService`` ssm, ``kms:CallerAccount``):
the roles need no ``kms:Decrypt``. A customer-managed key would need it here, on that key.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from infra import nag
from infra.config import StackConfig
from shared.tenant_secrets import PARTS

# Public functions: the front door verifies webhooks, the links function verifies links.
WEBHOOKS = ("webhooks",)
LINKS = ("links",)
# Calls the gateway on a tenant's behalf (processor, refund steps).
API = ("api",)
# The lifecycle steps call the gateway and sign the review links they e-mail.
API_AND_LINKS = ("api", "links")


def _parts(parts: Iterable[str]) -> tuple[str, ...]:
    given = tuple(parts)
    if not given or any(p not in PARTS for p in given):
        raise ValueError(f"parts must be some of {PARTS}, not {given!r}")
    return tuple(dict.fromkeys(given))


def tenant_secrets_statement(
    stack: Stack, config: StackConfig, parts: Iterable[str]
) -> iam.PolicyStatement:
    prefix = config.tenant_secret_prefix
    # A parameter's ARN is "parameter" followed by its (slash-led) name.
    assert prefix.startswith("/") and prefix.endswith("/"), prefix
    return iam.PolicyStatement(
        actions=["ssm:GetParameters"],
        resources=[
            f"arn:{stack.partition}:ssm:{stack.region}:{stack.account}:parameter{prefix}*/{part}"
            for part in _parts(parts)
        ],
    )


def grant_tenant_secrets(fn: lambda_.Function, config: StackConfig, parts: Iterable[str]) -> None:
    """Let ``fn`` read ``parts`` of every tenant's secrets, and acknowledge the tenant wildcard
    for those parts only."""
    chosen = _parts(parts)
    fn.add_to_role_policy(tenant_secrets_statement(Stack.of(fn), config, chosen))
    assert fn.role is not None
    nag.acknowledge_tenant_secrets(fn.role, config.tenant_secret_prefix, chosen)
