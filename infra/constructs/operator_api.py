"""The operator API (JWT-authorized, tenant-scoped in the function) and the signed-link route.

``/ops/…`` routes sit behind an HTTP API JWT authorizer: API Gateway checks the token's
signature, issuer, audience and expiry; the function checks the tenant claim against the path.
``/links/…`` is public: the HMAC-signed, single-use token in the link is the credential, as the
e-mail that carries it cannot carry a bearer token.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra import nag
from infra.config import StackConfig
from infra.constructs.api import HttpApi
from infra.constructs.data import DataStore
from infra.constructs.disputes import DISPUTE_ROUTES
from infra.constructs.lambdas import LambdaToolkit
from infra.constructs.payouts import PAYOUT_ROUTES
from infra.constructs.queries import QUERY_ROUTES
from infra.constructs.reports import REPORT_ROUTES
from infra.constructs.tenant_secrets import API, LINKS, grant_tenant_secrets

ORDER_PATH = "/ops/tenants/{tenant}/orders/{order_id}"
OPERATOR_ROUTES: tuple[tuple[str, apigw.HttpMethod], ...] = (
    (ORDER_PATH, apigw.HttpMethod.GET),
    (f"{ORDER_PATH}/cancel", apigw.HttpMethod.POST),
    (f"{ORDER_PATH}/refunds", apigw.HttpMethod.POST),
    (f"{ORDER_PATH}/returns", apigw.HttpMethod.POST),
    (f"{ORDER_PATH}/returns", apigw.HttpMethod.GET),
    (f"{ORDER_PATH}/returns/{{return_id}}/inspection", apigw.HttpMethod.POST),
    (f"{ORDER_PATH}/review", apigw.HttpMethod.POST),
    (f"{ORDER_PATH}/claims", apigw.HttpMethod.GET),
    (f"{ORDER_PATH}/claims/{{parcel}}", apigw.HttpMethod.POST),
    ("/ops/tenants/{tenant}/claims", apigw.HttpMethod.GET),
    ("/ops/tenants/{tenant}/reviews", apigw.HttpMethod.GET),
    ("/ops/tenants/{tenant}/risk/rules/{category}", apigw.HttpMethod.GET),
    ("/ops/tenants/{tenant}/risk/rules/{category}", apigw.HttpMethod.PUT),
    ("/ops/tenants/{tenant}/risk/lists", apigw.HttpMethod.GET),
    ("/ops/tenants/{tenant}/risk/lists", apigw.HttpMethod.POST),
    ("/ops/tenants/{tenant}/risk/audit", apigw.HttpMethod.GET),
    ("/ops/tenants/{tenant}/reconciliation/breaks", apigw.HttpMethod.GET),
    ("/ops/tenants/{tenant}/reconciliation/bank-files", apigw.HttpMethod.GET),
    *DISPUTE_ROUTES,
)
LINK_PATH = "/links/{tenant}/{order_id}/{decision}"

_EXECUTIONS_REASON = (
    "Executions of the order lifecycle state machine (one per order) are only known by name at "
    "run time: <lifecycle>:* names those, nothing else (a cancellation stops one)."
)


class OperatorApi(Construct):
    """``issuer`` / ``audience`` override ``config.operator_jwt_issuer`` / ``_audience`` when
    given (None / empty: the configured ones)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        toolkit: LambdaToolkit,
        api: HttpApi,
        data: DataStore,
        lifecycle_state_machine: sfn.IStateMachine,
        refund_state_machine: sfn.IStateMachine,
        issuer: str | None = None,
        audience: list[str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        table = data.table
        self.operator = toolkit.function(
            self,
            "Operator",
            handler="functions.api.handlers.operator.handler",
            service="operator-api",
            description="Operator API: view, cancel, refund, return, review (tenant-scoped)",
            environment={
                "TABLE_NAME": table.table_name,
                "TENANT_SECRET_PREFIX": config.tenant_secret_prefix,
                "LIFECYCLE_STATE_MACHINE": lifecycle_state_machine.state_machine_arn,
                "REFUND_STATE_MACHINE": refund_state_machine.state_machine_arn,
                "LIFECYCLE_SECONDS_PER_DAY": str(config.lifecycle_seconds_per_day),
            },
            memory_mb=512,
            timeout=Duration.seconds(20),
        )
        # Cancel and returns write the order's items; views read the timeline and indexes.
        table.grant_read_write_data(self.operator)
        refund_state_machine.grant_start_execution(self.operator)
        # A review decision completes the lifecycle's waiting task; a cancellation stops it.
        lifecycle_state_machine.grant_task_response(self.operator)
        lifecycle_state_machine.grant_execution(self.operator, "states:StopExecution")
        # A return buys its label from the tenant's carrier account (the api part's key).
        grant_tenant_secrets(self.operator, config, API)

        self.links = toolkit.function(
            self,
            "Links",
            handler="functions.api.handlers.links.handler",
            service="operator-links",
            description="Signed one-click review links: confirm page (GET), decision (POST)",
            environment={
                "TABLE_NAME": table.table_name,
                "TENANT_SECRET_PREFIX": config.tenant_secret_prefix,
            },
            memory_mb=256,
            timeout=Duration.seconds(10),
            reserved_concurrency=config.links_concurrency,
        )
        # Spend a link's nonce (conditional put), see whether it is spent (get), and take the
        # review's task token (delete): nothing else in the table.
        self.links.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
                resources=[table.table_arn],
            )
        )
        data.key.grant_encrypt_decrypt(self.links)
        # Public: it reads only the link signing keys, never webhook secrets or API keys.
        grant_tenant_secrets(self.links, config, LINKS)
        lifecycle_state_machine.grant_task_response(self.links)

        authorizer = authorizers.HttpJwtAuthorizer(
            "OperatorJwt",
            issuer or config.operator_jwt_issuer,
            jwt_audience=audience or list(config.operator_jwt_audience),
        )
        integration = integrations.HttpLambdaIntegration("OperatorIntegration", self.operator)
        for path, method in (*OPERATOR_ROUTES, *QUERY_ROUTES, *REPORT_ROUTES, *PAYOUT_ROUTES):
            api.api.add_routes(
                path=path, methods=[method], integration=integration, authorizer=authorizer
            )
        api.add_public_route(
            LINK_PATH,
            [apigw.HttpMethod.GET, apigw.HttpMethod.POST],
            self.links,
            throttle=(config.links_rate, config.links_burst),
            why_public="Review links are opened from an e-mail, which cannot carry a bearer "
            "token: each request is authenticated by the link's HMAC-signed token (tenant, "
            "order, decision, expiry) against the tenant's signing keys, and spent once.",
        )

        assert self.operator.role is not None
        assert self.links.role is not None
        nag.acknowledge_table_grant(self.operator.role)
        nag.acknowledge_kms_grant(self.links.role, "the table")
        NagSuppressions.add_resource_suppressions(
            self.operator.role,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason=_EXECUTIONS_REASON,
                    applies_to=[
                        {
                            "regex": "/^Resource::arn:<AWS::Partition>:states:.*:execution:.*"
                            "OrdersLifecycleStateMachine.*:\\*$/g"
                        }
                    ],
                )
            ],
            apply_to_children=True,
        )
