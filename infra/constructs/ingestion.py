"""Webhook ingestion: the signed front door, the stream processor behind it, and the hourly
archiver of raw webhooks (the table lets them go after the tenant's period)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra import nag
from infra.config import StackConfig
from infra.constructs.alerting import Alerting
from infra.constructs.api import HttpApi
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit, hourly
from infra.constructs.storage import Storage
from infra.constructs.tenant_secrets import API, WEBHOOKS, grant_tenant_secrets

WEBHOOK_PATHS = (
    "/webhooks/{tenant}/stripe",
    "/webhooks/{tenant}/carriers/{carrier}",
    "/webhooks/{tenant}/shop",
    "/webhooks/{tenant}/shopify",
)
RAW_EVENT_FILTER = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {"kind": {"S": ["raw_event"]}}},
}


class Ingestion(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        toolkit: LambdaToolkit,
        api: HttpApi,
        data: DataStore,
        storage: Storage,
        alerting: Alerting,
    ) -> None:
        super().__init__(scope, construct_id)
        env = {
            "TABLE_NAME": data.table.table_name,
            "ARCHIVE_BUCKET": storage.archive.bucket_name,
            "TENANT_SECRET_PREFIX": config.tenant_secret_prefix,
        }
        self.ingress = toolkit.function(
            self,
            "Ingress",
            handler="functions.webhooks.handlers.ingress.handler",
            service="ingestion",
            description="Webhook front door: verify, store first, answer",
            environment={**env, "MAX_BODY_BYTES": "1000000"},
            memory_mb=512,
            timeout=Duration.seconds(10),
            reserved_concurrency=config.ingress_concurrency,
            traced=False,  # ~21 calls an order, each its own trace: the log line says enough
            call_reports=False,
        )
        # The front door only stores: it may put and read raw events, and write the archive.
        self.ingress.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:PutItem", "dynamodb:GetItem"], resources=[data.table.table_arn]
            )
        )
        data.key.grant_encrypt_decrypt(self.ingress)
        storage.archive.grant_put(self.ingress, "raw/*")
        # Public: it reads only the webhook secrets it verifies with, never API keys.
        grant_tenant_secrets(self.ingress, config, WEBHOOKS)
        for path in WEBHOOK_PATHS:
            api.add_public_route(
                path,
                [apigw.HttpMethod.POST],
                self.ingress,
                throttle=(config.webhook_rate_per_route, config.webhook_burst_per_route),
                why_public="Webhook senders (Stripe, carriers, shops) cannot sign AWS requests; "
                "each request is authenticated by its source's HMAC signature against the "
                "tenant's secret before anything is stored.",
            )

        self.processor = toolkit.function(
            self,
            "Processor",
            handler="functions.webhooks.handlers.processor.handler",
            service="ingestion",
            description="Applies stored raw events to orders and payouts",
            environment=env,
            # A batch is mostly waiting on DynamoDB and Step Functions (about 60 ms of its own
            # work against 500 ms of calls, bench/cost.py): 1,024 MB bought CPU that the
            # waits left idle, at twice the GB-seconds. Its imports take about 50 MB.
            memory_mb=512,
            timeout=Duration.seconds(60),
            traced=False,  # a trace per stream batch; each record's log line names its event
            call_reports=False,
        )
        data.table.grant_read_write_data(self.processor)
        storage.archive.grant_read(self.processor, "raw/*")
        # The gateway's API key, to look up what an event names (never webhook secrets).
        grant_tenant_secrets(self.processor, config, API)
        self.processor.add_event_source(
            sources.DynamoEventSource(
                data.table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                bisect_batch_on_error=True,
                retry_attempts=4,
                report_batch_item_failures=True,
                max_record_age=Duration.days(1),
                on_failure=sources.SqsDlq(alerting.dead_letters),
                filters=[lambda_.FilterCriteria.filter(RAW_EVENT_FILTER)],
            )
        )
        alerting.key.grant_encrypt_decrypt(self.processor)

        # Hourly: each tenant's ended hours of raw webhooks, one object per hour and source,
        # to the archive before the table lets them go (docs/ingestion.md).
        self.archiver = toolkit.function(
            self,
            "Archiver",
            handler="functions.webhooks.handlers.archiver.handler",
            service="ingestion",
            description="Archives each ended hour of raw webhooks, per tenant and source",
            environment={
                "TABLE_NAME": data.table.table_name,
                "ARCHIVE_BUCKET": storage.archive.bucket_name,
            },
            timeout=Duration.minutes(15),
        )
        data.table.grant_read_data(self.archiver)
        storage.archive.grant_read(self.archiver, "raw/*")
        storage.archive.grant_put(self.archiver, "raw/*")
        self.hourly = hourly(
            self, self.archiver, "Archive each tenant's raw webhooks of the hours that ended", 12
        )
        # One failed run is caught up by the next; three in a row is an outage to look at
        # (the table keeps raw webhooks 14 days at the least).
        self.archiver_alarm = cloudwatch.Alarm(
            self,
            "ArchiverFailingAlarm",
            alarm_description="The raw webhook archiver failed three hours in a row: its logs "
            "name the tenants; raw webhooks leave the table after the tenant's "
            "retention.raw_event_days (14 at the least), archived or not.",
            metric=self.archiver.metric_errors(period=Duration.hours(1), statistic="Sum"),
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=3,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.archiver_alarm.add_alarm_action(cw_actions.SnsAction(alerting.ops_alerts))

        for fn in (self.ingress, self.processor, self.archiver):
            nag.acknowledge_table_grant(fn.role)  # type: ignore[arg-type]
            assert fn.role is not None
            NagSuppressions.add_resource_suppressions(
                fn.role,
                [
                    NagPackSuppression(
                        id="AwsSolutions-IAM5",
                        reason="Archive grants are limited to the raw/ prefix.",
                        applies_to=[
                            {"regex": "/^Resource::<StorageRawArchive.*\\.Arn>/raw/\\*$/g"},
                            "Action::s3:GetObject*",
                            "Action::s3:GetBucket*",
                            "Action::s3:List*",
                            "Action::s3:Abort*",
                            "Action::kms:ReEncrypt*",
                            "Action::kms:GenerateDataKey*",
                        ],
                    )
                ],
                apply_to_children=True,
            )

    def start_lifecycles(self, state_machine: sfn.IStateMachine, config: StackConfig) -> None:
        """The processor starts each order's lifecycle and resumes its waits."""
        self.processor.add_environment("LIFECYCLE_STATE_MACHINE", state_machine.state_machine_arn)
        self.processor.add_environment(
            "LIFECYCLE_SECONDS_PER_DAY", str(config.lifecycle_seconds_per_day)
        )
        state_machine.grant_start_execution(self.processor)
        state_machine.grant_task_response(self.processor)
        # A shop's cancellation before shipment stops the order's lifecycle.
        state_machine.grant_execution(self.processor, "states:StopExecution")
        assert self.processor.role is not None
        NagSuppressions.add_resource_suppressions(
            self.processor.role,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="Executions of the order lifecycle state machine (one per order) are "
                    "only known by name at run time: <lifecycle>:* names those, nothing else.",
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

    def alert_client_teams(self, client_alerts: sns.ITopic) -> None:
        """The processor tells a client team what the gateway reports after the fact: a refund
        it failed after taking it (the orders context, once per refund)."""
        self.processor.add_environment("CLIENT_ALERTS_TOPIC", client_alerts.topic_arn)
        client_alerts.grant_publish(self.processor)

    def start_refunds(self, state_machine: sfn.IStateMachine) -> None:
        """The processor resumes refund workflows when the gateway confirms a refund, and
        starts one when a shop cancels a paid order."""
        self.processor.add_environment("REFUND_STATE_MACHINE", state_machine.state_machine_arn)
        state_machine.grant_start_execution(self.processor)
        state_machine.grant_task_response(self.processor)
