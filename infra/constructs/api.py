"""The HTTP API: webhooks (signature-authenticated), operator routes, health."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.config import StackConfig

# Fields API Gateway writes per request; the tenant is in the path, so it is in routeKey/path.
_ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
    "latencyMs": "$context.responseLatency",
}


class HttpApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        self.api = apigw.HttpApi(
            self,
            "Api",
            api_name=f"ecomops-{config.stage}",
            description="Ecom OPS webhooks and operator API",
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        stage = self.api.default_stage
        assert stage is not None
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn,
            format=json.dumps(_ACCESS_LOG_FORMAT),
        )
        cfn_stage.default_route_settings = apigw.CfnStage.RouteSettingsProperty(
            throttling_burst_limit=500,
            throttling_rate_limit=1000,
        )
        self._cfn_stage = cfn_stage
        self._route_settings: dict[str, dict[str, int]] = {}

    @property
    def url(self) -> str:
        url = self.api.url
        assert url is not None
        return url

    def add_public_route(
        self,
        path: str,
        methods: Sequence[apigw.HttpMethod],
        function: lambda_.IFunction,
        *,
        why_public: str,
        throttle: tuple[int, int] | None = None,
    ) -> None:
        """A route without an API Gateway authorizer; ``why_public`` says what protects it,
        ``throttle`` (requests per second, burst) caps it apart from every other route."""
        if throttle is not None:
            rate, burst = throttle
            for method in methods:
                # RouteSettings is plain JSON to CloudFormation: its keys as CloudFormation
                # spells them.
                self._route_settings[f"{method.value} {path}"] = {
                    "ThrottlingRateLimit": rate,
                    "ThrottlingBurstLimit": burst,
                }
            self._cfn_stage.route_settings = dict(self._route_settings)
        routes = self.api.add_routes(
            path=path,
            methods=list(methods),
            integration=integrations.HttpLambdaIntegration(
                f"{function.node.id}Integration",
                function,
            ),
        )
        for route in routes:
            NagSuppressions.add_resource_suppressions(
                route,
                [{"id": "AwsSolutions-APIG4", "reason": why_public}],
                apply_to_children=True,
            )
