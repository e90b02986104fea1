"""Daily three-way reconciliation: bank files parsed on arrival, an hourly tick that reconciles
each tenant's yesterday at its local run hour, reports to S3 and the tenant's team.

A million-order day fits one function (docs/reconciliation.md, bench/reconcile.py); larger
tenants would fan out by order-id ranges with a Distributed Map, described there.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra import nag
from infra.constructs.alerting import Alerting
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit, grant_send_email, hourly
from infra.constructs.storage import Storage

BANK_PREFIX = "bank-statements/"


class Reconciliation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        toolkit: LambdaToolkit,
        data: DataStore,
        storage: Storage,
        alerting: Alerting,
        refund_state_machine: sfn.IStateMachine,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bank_intake = toolkit.function(
            self,
            "BankIntake",
            handler="functions.reconcile.handlers.bank_intake.handler",
            service="reconciliation",
            description="Parses bank statement files dropped in S3 into normalised lines",
            environment={
                "TABLE_NAME": data.table.table_name,
                "OPS_ALERTS_TOPIC": alerting.ops_alerts.topic_arn,
            },
            memory_mb=2048,
            timeout=Duration.minutes(5),
        )
        data.table.grant_read_write_data(self.bank_intake)
        storage.bank_statements.grant_read(self.bank_intake, f"{BANK_PREFIX}*")
        alerting.ops_alerts.grant_publish(self.bank_intake)
        storage.bank_statements.add_event_notification(
            s3.EventType.OBJECT_CREATED,
            s3n.LambdaDestination(self.bank_intake),
            s3.NotificationKeyFilter(prefix=BANK_PREFIX),
        )
        # CDK configures bucket notifications through its own singleton function.
        stack = Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                NagSuppressions.add_resource_suppressions(
                    child,
                    [
                        NagPackSuppression(
                            id="AwsSolutions-IAM4",
                            reason="CDK's bucket-notification custom resource handler runs only "
                            "at deploy time with the basic execution role CDK gives it.",
                            applies_to=[
                                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                                "AWSLambdaBasicExecutionRole"
                            ],
                        ),
                        NagPackSuppression(
                            id="AwsSolutions-IAM5",
                            reason="CDK's bucket-notification handler may set the notification "
                            "configuration of the bucket it manages; CDK writes its policy.",
                        ),
                    ],
                    apply_to_children=True,
                )

        self.daily = toolkit.function(
            self,
            "Daily",
            handler="functions.reconcile.handlers.daily.handler",
            service="reconciliation",
            description="Reconciles orders, payments, payouts and bank lines per tenant and day",
            environment={
                "TABLE_NAME": data.table.table_name,
                "REPORTS_BUCKET": storage.reports.bucket_name,
                "REFUND_STATE_MACHINE": refund_state_machine.state_machine_arn,
                "CLIENT_ALERTS_TOPIC": alerting.client_alerts.topic_arn,
            },
            # A million-order day needs ~1.2 GB of records in memory (bench/reconcile.py); the
            # headroom also buys CPU, which Lambda allots in proportion to memory.
            memory_mb=4096,
            timeout=Duration.minutes(15),
        )
        data.table.grant_read_write_data(self.daily)
        storage.reports.grant_put(self.daily, "reports/*")
        refund_state_machine.grant_start_execution(self.daily)
        alerting.client_alerts.grant_publish(self.daily)
        grant_send_email(self.daily)
        # Every hour: each tenant is reconciled when its local clock reaches its run hour, so
        # one schedule serves every time zone and tenants are added without a deploy.
        self.hourly = hourly(
            self,
            self.daily,
            "Reconcile yesterday for tenants whose local run hour it is",
            minute=5,
        )

        for fn in (self.bank_intake, self.daily):
            assert fn.role is not None
            nag.acknowledge_table_grant(fn.role)
            nag.acknowledge_kms_grant(fn.role, "the table, the buckets and the topics")
            NagSuppressions.add_resource_suppressions(
                fn.role,
                [
                    NagPackSuppression(
                        id="AwsSolutions-IAM5",
                        reason="Bucket grants are limited to one prefix (bank-statements/ to "
                        "read, reports/ to write), with the object-level actions CDK's grants "
                        "name.",
                        applies_to=[
                            {
                                "regex": "/^Resource::<StorageBankStatements.*\\.Arn>"
                                "/bank-statements/\\*$/g"
                            },
                            {"regex": "/^Resource::<StorageReports.*\\.Arn>/reports/\\*$/g"},
                            "Action::s3:GetObject*",
                            "Action::s3:GetBucket*",
                            "Action::s3:List*",
                            "Action::s3:Abort*",
                        ],
                    )
                ],
                apply_to_children=True,
            )
