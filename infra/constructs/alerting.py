"""Where trouble is reported: client-team and operations topics, the dead-letter queue and the
alarm on its depth, and a rule per state machine for its failed, timed-out and aborted
executions."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.config import StackConfig

# Step Functions' status events on the default bus (free: AWS services' events cost nothing).
EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"
ENDED_BADLY = ("FAILED", "TIMED_OUT")


class Alerting(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig, key: kms.IKey
    ) -> None:
        super().__init__(scope, construct_id)
        # The deployment's one customer-managed key (the table's): a key of their own for the
        # topics and the dead letters cost $1 a month and separated nothing that IAM does
        # not. A key policy lets a principal use the key, not read the table: that takes the
        # table's own permissions, which these services do not have.
        self.key = key
        # CloudWatch alarms and EventBridge rules publish to the encrypted ops topic.
        for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
            self.key.grant_encrypt_decrypt(iam.ServicePrincipal(service))
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

    def tell_of_executions(self, machine: sfn.StateMachine, *, aborts: bool = True) -> events.Rule:
        """Operations hear of each execution of ``machine`` that failed, timed out or (when
        ``aborts``) was aborted: one message per execution, naming it, from Step Functions'
        own status events. A rule costs nothing; an alarm for each outcome of each machine
        cost $0.10 a month and said only that some execution had ended so within 5 minutes.
        A machine whose executions are stopped as part of the work (the lifecycle, stopped to
        cancel its order) passes ``aborts=False``: its stops are on the order's timeline."""
        name = machine.node.path.replace("/", " ")
        statuses = [*ENDED_BADLY, *(["ABORTED"] if aborts else [])]
        detail = events.EventField.from_path
        rule = events.Rule(
            machine,
            "EndedBadly",
            description=f"Executions of {name} that ended {', '.join(statuses)}",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=[EXECUTION_STATUS_CHANGE],
                detail={"stateMachineArn": [machine.state_machine_arn], "status": statuses},
            ),
        )
        rule.add_target(
            targets.SnsTopic(
                self.ops_alerts,
                message=events.RuleTargetInput.from_text(
                    f"An execution of {name} ended {detail('$.detail.status')}: "
                    f"{detail('$.detail.name')}. See why with `aws stepfunctions "
                    f"get-execution-history --execution-arn {detail('$.detail.executionArn')} "
                    "--reverse-order --max-items 5`; `ecomops orders show` tells an order's "
                    "story."
                ),
            )
        )
        return rule
