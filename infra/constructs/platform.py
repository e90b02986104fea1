"""Platform checks: the health route and the self-check state machine.

They prove a deployment (or the local stack) end to end: a request through the HTTP API to a
function and back, and a workflow whose task runs project code that writes to the table.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from cdk_nag import NagSuppressions
from constructs import Construct

from infra import nag
from infra.constructs.api import HttpApi
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit


class Platform(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        toolkit: LambdaToolkit,
        api: HttpApi,
        data: DataStore,
    ) -> None:
        super().__init__(scope, construct_id)
        self.health = toolkit.function(
            self,
            "Health",
            handler="functions.api.handlers.health.handler",
            service="platform",
            description="GET /health",
            memory_mb=256,
            timeout=Duration.seconds(5),
        )
        api.add_public_route(
            "/health",
            [apigw.HttpMethod.GET],
            self.health,
            why_public="Health check for load balancers and uptime monitors; returns no data.",
        )

        self.selfcheck = toolkit.function(
            self,
            "SelfCheck",
            handler="functions.api.handlers.selfcheck.handler",
            service="platform",
            description="Self-check task: writes a proof item to the table",
            environment={"TABLE_NAME": data.table.table_name},
            memory_mb=256,
            timeout=Duration.seconds(10),
        )
        data.table.grant_write_data(self.selfcheck)
        nag.acknowledge_table_grant(self.selfcheck.role)  # type: ignore[arg-type]

        record = tasks.LambdaInvoke(
            self,
            "RecordProof",
            lambda_function=self.selfcheck,
            payload_response_only=True,
            retry_on_service_exceptions=True,
        )
        log_group = logs.LogGroup(
            self,
            "SelfCheckFlowLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.selfcheck_flow = sfn.StateMachine(
            self,
            "SelfCheckFlow",
            definition_body=sfn.DefinitionBody.from_chainable(
                record.next(sfn.Succeed(self, "Done"))
            ),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.minutes(5),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
        )
        NagSuppressions.add_resource_suppressions(
            self.selfcheck_flow,
            [
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "Step Functions log delivery and X-Ray need '*'; the Lambda grant "
                    "covers the function's versions (<arn>:*), nothing else.",
                    "appliesTo": [
                        "Resource::*",
                        {"regex": "/^Resource::<.*SelfCheck.*\\.Arn>:\\*$/g"},
                    ],
                }
            ],
            apply_to_children=True,
        )

        # A daily canary: the same proof, on a schedule, so a broken deploy is seen before
        # the morning's reconciliation depends on it.
        self.daily_selfcheck = events.Rule(
            self,
            "DailySelfCheck",
            description="Run the self-check workflow every morning",
            schedule=events.Schedule.cron(minute="0", hour="4"),
        )
        self.daily_selfcheck.add_target(
            targets.SfnStateMachine(
                self.selfcheck_flow,
                input=events.RuleTargetInput.from_object({"run_id": events.EventField.event_id}),
            )
        )
