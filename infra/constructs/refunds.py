"""The refund workflow: prepare, submit to the gateway (retried with backoff), await the
gateway's confirmation (task token, with a timeout that alerts), complete and tell the customer."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from functions.orders import contracts as c
from infra.config import StackConfig
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit
from infra.constructs.tenant_secrets import API
from infra.constructs.workflow import (
    acknowledge_steps_grants,
    answer_own_tokens,
    grant_steps,
    standard_state_machine,
    step_factory,
)

REQUEST = {
    "tenant": sfn.JsonPath.string_at("$.tenant"),
    "order_id": sfn.JsonPath.string_at("$.order_id"),
    "refund_id": sfn.JsonPath.string_at("$.refund_id"),
}


class RefundWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        toolkit: LambdaToolkit,
        data: DataStore,
        client_alerts: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        self.steps = toolkit.function(
            self,
            "Steps",
            handler="functions.orders.handlers.refunds.handler",
            service="refunds",
            description="Refund workflow steps: prepare, submit, wait, complete",
            environment={
                "TABLE_NAME": data.table.table_name,
                "CLIENT_ALERTS_TOPIC": client_alerts.topic_arn,
                "TENANT_SECRET_PREFIX": config.tenant_secret_prefix,
            },
            memory_mb=512,
            timeout=Duration.seconds(30),
            call_reports=False,  # four or more calls a refund
        )
        grant_steps(
            self.steps,
            data=data,
            client_alerts=client_alerts,
            config=config,
            secret_parts=API,
        )
        step = step_factory(self, self.steps, REQUEST)

        def given(field: str) -> str:
            return c.path("$", c.RefundInput, field)

        prepare = step(
            "Prepare",
            {
                "action": c.RefundAction.PREPARE,
                "amount": sfn.JsonPath.string_at(given("amount")),
                "lines": sfn.JsonPath.string_at(given("lines")),
                "cause": sfn.JsonPath.string_at(given("cause")),
                "payment_id": sfn.JsonPath.string_at(given("payment_id")),
            },
            c.PREPARED_RESULT,
        )
        submit = step(
            "Submit",
            {
                "action": c.RefundAction.SUBMIT,
                "prepared": sfn.JsonPath.object_at(c.PREPARED_RESULT),
                "cause": sfn.JsonPath.string_at(given("cause")),
            },
            c.SUBMITTED_RESULT,
        )
        # 5xx and rate limits: back off and try again; the idempotency key makes it one refund.
        submit.add_retry(
            errors=["GatewayRetryable"],
            interval=Duration.seconds(1),
            backoff_rate=2,
            max_attempts=5,
        )
        wait = tasks.LambdaInvoke(
            self,
            "AwaitConfirmation",
            lambda_function=self.steps,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object(
                {
                    **REQUEST,
                    "action": c.RefundAction.WAIT,
                    "task_token": sfn.JsonPath.task_token,
                    "submitted": sfn.JsonPath.object_at(c.SUBMITTED_RESULT),
                }
            ),
            task_timeout=sfn.Timeout.at(c.path("$.waits", c.RefundWaits, "confirm_s")),
            result_path=c.CONFIRMATION_RESULT,
        )
        complete = step(
            "Complete",
            {
                "action": c.RefundAction.COMPLETE,
                "prepared": sfn.JsonPath.object_at(c.PREPARED_RESULT),
                "cause": sfn.JsonPath.string_at(given("cause")),
            },
        )
        unconfirmed = step(
            "Unconfirmed",
            {
                "action": c.RefundAction.UNCONFIRMED,
                "prepared": sfn.JsonPath.object_at(c.PREPARED_RESULT),
            },
        )
        # A refund that cannot happen ends ``failed`` on its record with the reason, gives its
        # reservation back and alerts the client team, then fails the execution (so the
        # failed-executions alarm sees it too).
        refused = step(
            "RecordNotRefundable",
            {
                "action": c.RefundAction.FAIL,
                "step": "prepare",
                "error": sfn.JsonPath.object_at("$.error"),
            },
        ).next(
            sfn.Fail(
                self,
                "NotRefundable",
                error="NotRefundable",
                cause="the amount exceeds what was captured and not yet refunded or reserved",
            )
        )
        gateway_refused = step(
            "RecordGatewayRefused",
            {
                "action": c.RefundAction.FAIL,
                "step": "submit",
                "prepared": sfn.JsonPath.object_at(c.PREPARED_RESULT),
                "error": sfn.JsonPath.object_at("$.error"),
            },
        ).next(
            sfn.Fail(
                self,
                "GatewayRefusedRefund",
                error="GatewayRefused",
                cause="the gateway refused the refund or never answered through every retry",
            )
        )
        # Refunds not made here gave the payment back in full before ours reached the
        # gateway: the request ends covered (its reservation released), nobody is told it
        # failed, and the execution succeeds.
        covered = step(
            "RecordCovered",
            {
                "action": c.RefundAction.COVERED,
                "prepared": sfn.JsonPath.object_at(c.PREPARED_RESULT),
                "error": sfn.JsonPath.object_at("$.error"),
            },
        )
        prepare.add_catch(refused, errors=["NotRefundable"], result_path="$.error")
        prepare.add_catch(refused, errors=["States.ALL"], result_path="$.error")
        submit.add_catch(covered, errors=["RefundCovered"], result_path="$.error")
        submit.add_catch(
            gateway_refused, errors=["GatewayRefused", "GatewayRetryable"], result_path="$.error"
        )
        submit.add_catch(gateway_refused, errors=["States.ALL"], result_path="$.error")
        wait.add_catch(unconfirmed, errors=["States.Timeout"], result_path="$.error")
        # Completing (or recording the refund unconfirmed) ends the execution: no Succeed state
        # after it to pay for. Submitting and waiting stay two states: as one, the wait's timer
        # would also run through the gateway call and its retries.
        definition = prepare.next(submit).next(wait).next(complete)

        self.state_machine = standard_state_machine(
            self, definition, timeout=Duration.days(30), steps_id="OrdersRefundsSteps"
        )
        acknowledge_steps_grants(self.steps)
        answer_own_tokens(self, self.steps, self.state_machine)
