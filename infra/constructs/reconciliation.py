"""Daily three-way reconciliation: bank files parsed on arrival, an hourly tick that reconciles
each tenant's yesterday at its local run hour, reports to S3 and the tenant's team.

The tick is a Standard state machine that fans out across tenants: a step lists the tenants
due, a Map runs the daily function once per tenant (bounded concurrency, retried, a failure
caught and told to the tenant's finance people while the others go on), a step sums up.
A million-order day fits one function (docs/reconciliation.md, bench/reconcile.py); larger
tenants would fan out by order-id ranges with a Distributed Map, described there.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra import nag
from infra.constructs.alerting import Alerting
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit, grant_send_email, hourly
from infra.constructs.storage import Storage
from infra.constructs.workflow import standard_state_machine

BANK_PREFIX = "bank-statements/"

# Tenants reconciled at once by one tick. Each run reads its tenant's day from the table at
# full speed; ten at once keep the table's reads and the account's Lambda concurrency to a
# share the webhooks never feel (the numbers: docs/reconciliation.md, "Fanned out").
MAX_CONCURRENT_TENANTS = 10
# A tenant's run that failed is tried again (a throttled read, a timeout) before its finance
# people are told: Step Functions waits RETRY_INTERVAL, then three times that.
RETRY_INTERVAL = Duration.seconds(2)
RETRY_ATTEMPTS = 2


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
        self.tick = toolkit.function(
            self,
            "Tick",
            handler="functions.reconcile.handlers.tick.handler",
            service="reconciliation",
            description="The hourly tick's steps: tenants due, a tenant's failure told, summary",
            environment={
                "TABLE_NAME": data.table.table_name,
                "CLIENT_ALERTS_TOPIC": alerting.client_alerts.topic_arn,
                "OPS_ALERTS_TOPIC": alerting.ops_alerts.topic_arn,
            },
            memory_mb=512,
            timeout=Duration.minutes(5),
        )
        data.table.grant_read_write_data(self.tick)
        alerting.client_alerts.grant_publish(self.tick)
        alerting.ops_alerts.grant_publish(self.tick)
        grant_send_email(self.tick)
        self.fanout = ReconciliationFanout(self, "Fanout", tick=self.tick, daily=self.daily)
        # Every hour: each tenant is reconciled when its local clock reaches its run hour, so
        # one schedule serves every time zone and tenants are added without a deploy.
        self.hourly = hourly(
            self,
            self.fanout.state_machine,
            "Reconcile yesterday for tenants whose local run hour it is",
            minute=5,
        )

        for fn in (self.bank_intake, self.daily, self.tick):
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


class ReconciliationFanout(Construct):
    """The hourly tick: ListDue → Map (one reconciliation per tenant) → Summary → reminders.

    Standard, not Express: a tick of many tenants runs longer than Express's five minutes, and
    a tick costs about four transitions plus one per tenant due (docs/reconciliation.md).
    An inline Map: one tick's tenants are far below its 40 concurrent iterations and the
    execution history's 25,000 events; a Distributed Map is the step beyond (same page)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tick: lambda_.IFunction,
        daily: lambda_.IFunction,
        max_concurrency: int = MAX_CONCURRENT_TENANTS,
    ) -> None:
        super().__init__(scope, construct_id)

        def tick_step(
            name: str, payload: dict[str, object], result_path: str
        ) -> tasks.LambdaInvoke:
            step = tasks.LambdaInvoke(
                self,
                name,
                lambda_function=tick,
                payload_response_only=True,
                payload=sfn.TaskInput.from_object(payload),
                result_path=result_path,
                retry_on_service_exceptions=True,
            )
            step.add_retry(
                errors=["States.ALL"],
                interval=RETRY_INTERVAL,
                backoff_rate=3,
                max_attempts=RETRY_ATTEMPTS,
            )
            return step

        list_due = tick_step(
            "ListDue", {"action": "due", "time": sfn.JsonPath.string_at("$.time")}, "$.run"
        )
        reconcile = tasks.LambdaInvoke(
            self,
            "ReconcileTenant",
            lambda_function=daily,
            payload_response_only=True,
            payload=sfn.TaskInput.from_object(
                {
                    "tenant": sfn.JsonPath.string_at("$.tenant"),
                    "day": sfn.JsonPath.string_at("$.day"),
                }
            ),
            # Only what the summary counts: the whole summary is in S3 and the table, and the
            # Map's results of every tenant must stay within a state's 256 KB.
            result_selector={
                "tenant": sfn.JsonPath.string_at("$.tenant"),
                "day": sfn.JsonPath.string_at("$.day"),
                "outcome": "reconciled",
                "breaks_open": sfn.JsonPath.number_at("$.breaks_open"),
            },
            retry_on_service_exceptions=True,
        )
        reconcile.add_retry(
            errors=["States.ALL"],
            interval=RETRY_INTERVAL,
            backoff_rate=3,
            max_attempts=RETRY_ATTEMPTS,
        )
        told = tick_step(
            "TellFinance",
            {
                "action": "failed",
                "tenant": sfn.JsonPath.string_at("$.tenant"),
                "day": sfn.JsonPath.string_at("$.day"),
                "error": sfn.JsonPath.object_at("$.error"),
            },
            "$",
        )
        reconcile.add_catch(told, errors=["States.ALL"], result_path="$.error")
        each_tenant = sfn.Map(
            self,
            "EachTenant",
            items_path="$.run.due",
            item_selector={
                "tenant": sfn.JsonPath.string_at("$$.Map.Item.Value.tenant"),
                "day": sfn.JsonPath.string_at("$$.Map.Item.Value.day"),
            },
            max_concurrency=max_concurrency,
            result_path="$.outcomes",
        )
        each_tenant.item_processor(reconcile)
        summary = tick_step(
            "Summary",
            {
                "action": "summary",
                "tick": sfn.JsonPath.string_at("$.run.tick"),
                "outcomes": sfn.JsonPath.list_at("$.outcomes"),
            },
            "$.summary",
        )
        remind = tick_step(
            "RemindQueryCases",
            {"action": "remind", "tick": sfn.JsonPath.string_at("$.run.tick")},
            "$.reminders",
        )
        definition = list_due.next(each_tenant).next(summary).next(remind)
        self.state_machine = standard_state_machine(
            self, definition, timeout=Duration.hours(6), steps_id="Reconciliation"
        )
