"""The signed links of the instruction to finance (mark a payout cycle, or one vendor's line of
it, paid or failed): a public function of its own beside the review links, on two public routes
of the HTTP API. Its own function because it writes what the review links never may: the
cycle's lines and the vendor ledger (a failed line's money goes back as a new entry)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra import nag
from infra.config import StackConfig
from infra.constructs.api import HttpApi
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit
from infra.constructs.tenant_secrets import LINKS, grant_tenant_secrets

PAYOUT_LINK_PATHS = (
    "/links/{tenant}/payouts/{cycle_id}/{mark}",
    "/links/{tenant}/payouts/{cycle_id}/{currency}/{vendor_id}/{mark}",
)


class PayoutLinks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        toolkit: LambdaToolkit,
        api: HttpApi,
        data: DataStore,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = toolkit.function(
            self,
            "PayoutLinks",
            handler="functions.api.handlers.payout_links.handler",
            service="payout-links",
            description="Signed payout links of the finance e-mail: confirm page (GET), mark "
            "paid or failed (POST)",
            environment={
                "TABLE_NAME": data.table.table_name,
                "TENANT_SECRET_PREFIX": config.tenant_secret_prefix,
            },
            memory_mb=512,
            timeout=Duration.seconds(20),
            reserved_concurrency=config.links_concurrency,
        )
        # Public: only what marking needs — the cycle and its lines (get, query, conditional
        # put; the whole cycle's answer writes its lines in batches), the vendor ledger's entry
        # and balance (one transaction of a put and an update), the spent links (conditional
        # put, get). No scan, no delete, no index.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "dynamodb:GetItem",
                    "dynamodb:Query",
                    "dynamodb:PutItem",
                    "dynamodb:BatchWriteItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:ConditionCheckItem",
                ],
                resources=[data.table.table_arn],
            )
        )
        data.key.grant_encrypt_decrypt(self.function)
        grant_tenant_secrets(self.function, config, LINKS)
        for path in PAYOUT_LINK_PATHS:
            api.add_public_route(
                path,
                [apigw.HttpMethod.GET, apigw.HttpMethod.POST],
                self.function,
                throttle=(config.links_rate, config.links_burst),
                why_public="Payout links are opened from the e-mail to finance, which cannot "
                "carry a bearer token: each request is authenticated by the link's HMAC-signed "
                "token (tenant, cycle or vendor line, answer, expiry) against the tenant's "
                "signing keys; the GET changes nothing, the POST answers once.",
            )
        role = self.function.role
        assert role is not None
        nag.acknowledge_kms_grant(role, "the table")
