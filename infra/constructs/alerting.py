"""Where trouble is reported: client-team and operations topics, the dead-letter queue, alarms
(the queue's depth; every state machine's failed, timed-out and aborted executions)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.config import StackConfig


class Alerting(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "AlertsKey",
            description="ecomops alert topics and dead-letter queue",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch alarms publish to the encrypted ops topic.
        self.key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        # What client teams act on (potential fraud, breaks, disputes); messages carry the tenant
        # as an attribute so each client team can subscribe with a filter policy.
        self.client_alerts = sns.Topic(
            self,
            "ClientAlerts",
            display_name="Ecom OPS client alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        # What the managed-services team acts on: dead letters, stuck workflows, failed jobs.
        self.ops_alerts = sns.Topic(
            self,
            "OpsAlerts",
            display_name="Ecom OPS operations alerts",
            master_key=self.key,
            enforce_ssl=True,
        )
        for email in config.alert_emails:
            self.ops_alerts.add_subscription(subscriptions.EmailSubscription(email))
        for tenant in config.tenants:
            for email in tenant.alert_emails:
                self.client_alerts.add_subscription(
                    subscriptions.EmailSubscription(
                        email,
                        filter_policy={
                            "tenant": sns.SubscriptionFilter.string_filter(allowlist=[tenant.id])
                        },
                    )
                )

        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        NagSuppressions.add_resource_suppressions(
            self.dead_letters,
            [{"id": "AwsSolutions-SQS3", "reason": "This queue is the dead-letter queue."}],
        )
        depth = self.dead_letters.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        )
        self.dead_letter_alarm = cloudwatch.Alarm(
            self,
            "DeadLettersAlarm",
            alarm_description="Events failed processing after retries; replay with "
            "`ecomops events replay --from-dlq` once the cause is fixed.",
            metric=depth,
            threshold=config.dlq_alarm_threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dead_letter_alarm.add_alarm_action(cw_actions.SnsAction(self.ops_alerts))

    def alarm_on_executions(self, machine: sfn.StateMachine) -> list[cloudwatch.Alarm]:
        """Operations hear of every execution of ``machine`` that failed, timed out or was
        aborted (an operator's stop included: someone should know why)."""
        name = machine.node.path.replace("/", " ")
        # metric → (its builder, what happened, list-executions' --status-filter)
        metrics = {
            "ExecutionsFailed": (machine.metric_failed, "failed", "FAILED"),
            "ExecutionsTimedOut": (machine.metric_timed_out, "timed out", "TIMED_OUT"),
            "ExecutionsAborted": (machine.metric_aborted, "were aborted", "ABORTED"),
        }
        alarms = []
        for metric_name, (metric, what, status) in metrics.items():
            alarm = cloudwatch.Alarm(
                machine,
                f"{metric_name}Alarm",
                alarm_description=f"Executions of {name} {what}: list them with `aws "
                "stepfunctions list-executions --state-machine-arn <arn> --status-filter "
                f"{status}`; `ecomops orders show` tells the order's story.",
                metric=metric(period=Duration.minutes(5), statistic="Sum"),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(self.ops_alerts))
            alarms.append(alarm)
        return alarms
