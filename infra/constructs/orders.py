"""The order lifecycle: a Standard state machine per order, and the Lambda its steps call.

Every wait (review, dispatch, delivery, return window) comes from the execution's input, which
the processor computes from the tenant's settings and the deployment's time scale, so tests and
the local stack run a whole lifecycle in seconds.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.config import StackConfig
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit
from infra.constructs.tenant_secrets import API_AND_LINKS
from infra.constructs.workflow import (
    acknowledge_steps_grants,
    grant_steps,
    standard_state_machine,
    step_factory,
)

ORDER = {
    "tenant": sfn.JsonPath.string_at("$.tenant"),
    "order_id": sfn.JsonPath.string_at("$.order_id"),
}


class OrderLifecycle(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        toolkit: LambdaToolkit,
        data: DataStore,
        client_alerts: sns.ITopic,
        api_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.steps = toolkit.function(
            self,
            "Steps",
            handler="functions.orders.lifecycle.handler",
            service="orders",
            description="Order lifecycle steps: screen, hold, wait, notify, cancel, release",
            environment={
                "TABLE_NAME": data.table.table_name,
                "CLIENT_ALERTS_TOPIC": client_alerts.topic_arn,
                "TENANT_SECRET_PREFIX": config.tenant_secret_prefix,
                "PUBLIC_API_URL": api_url,
                "LIFECYCLE_SECONDS_PER_DAY": str(config.lifecycle_seconds_per_day),
            },
            memory_mb=512,
            timeout=Duration.seconds(30),
        )
        grant_steps(
            self.steps,
            data=data,
            client_alerts=client_alerts,
            config=config,
            secret_parts=API_AND_LINKS,
        )
        step = step_factory(self, self.steps, ORDER)

        def wait_for(
            name: str, payload: dict[str, object], timeout_path: str, result_path: str
        ) -> tasks.LambdaInvoke:
            return tasks.LambdaInvoke(
                self,
                name,
                lambda_function=self.steps,
                integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                payload=sfn.TaskInput.from_object(
                    {**ORDER, **payload, "task_token": sfn.JsonPath.task_token}
                ),
                task_timeout=sfn.Timeout.at(timeout_path),
                result_path=result_path,
            )

        def cancel(name: str, reason: str) -> sfn.IChainable:
            return step(name, {"action": "cancel", "reason": reason}).next(
                sfn.Succeed(self, f"{name}Done", comment=f"cancelled: {reason}")
            )

        screen = step("Screen", {"action": "screen"}, "$.screening")
        hold = wait_for("HoldForReview", {"action": "hold"}, "$.waits.review_s", "$.review")
        hold.add_catch(
            cancel("CancelReviewTimedOut", "review_timed_out"),
            errors=["States.Timeout"],
            result_path="$.error",
        )
        confirm = step("Confirm", {"action": "stage", "stage": "confirmed"})
        wait_shipment = wait_for(
            "WaitForShipment",
            {"action": "wait", "wait": "shipment"},
            "$.waits.dispatch_s",
            "$.shipment",
        )
        not_dispatched = step("NotDispatched", {"action": "stage", "stage": "not_dispatched"})
        wait_shipment_late = wait_for(
            "WaitForLateShipment",
            {"action": "wait", "wait": "shipment"},
            "$.waits.delivery_s",
            "$.shipment",
        )
        shipped = step("Shipped", {"action": "stage", "stage": "shipped"})
        wait_delivery = wait_for(
            "WaitForDelivery",
            {"action": "wait", "wait": "delivery"},
            "$.waits.delivery_s",
            "$.delivery",
        )
        problem = step(
            "DeliveryProblem",
            {
                "action": "stage",
                "stage": "delivery_problem",
                "shipment": sfn.JsonPath.string_at("$.delivery.shipment"),
            },
        )
        no_movement = step(
            "NoMovement",
            {"action": "stage", "stage": "delivery_problem", "shipment": "no_movement"},
        )
        delivered = step("Delivered", {"action": "stage", "stage": "delivered"})
        return_window = sfn.Wait(
            self, "ReturnWindow", time=sfn.WaitTime.seconds_path("$.waits.return_window_s")
        )
        release = step("ReleaseFunds", {"action": "release"})
        closed = sfn.Succeed(self, "Closed")
        exception = sfn.Succeed(
            self, "DeliveryException", comment="an operator decides refund or reship"
        )
        not_shipped = sfn.Succeed(self, "NeverShipped", comment="ops were alerted")

        wait_shipment.add_catch(not_dispatched, errors=["States.Timeout"], result_path="$.error")
        not_dispatched.next(wait_shipment_late)
        wait_shipment_late.add_catch(not_shipped, errors=["States.Timeout"], result_path="$.error")
        wait_shipment_late.next(shipped)
        wait_delivery.add_catch(no_movement, errors=["States.Timeout"], result_path="$.error")
        no_movement.next(exception)
        problem.next(exception)

        after_screening = (
            confirm.next(wait_shipment)
            .next(shipped)
            .next(wait_delivery)
            .next(
                sfn.Choice(self, "DeliveryOutcome")
                .when(
                    sfn.Condition.string_equals("$.delivery.outcome", "delivered"),
                    delivered.next(return_window).next(release).next(closed),
                )
                .otherwise(problem)
            )
        )
        capture = step("Capture", {"action": "capture"})
        # The gateway's authorization may arrive after the order: wait for it a little.
        capture.add_retry(
            errors=["PaymentNotAuthorizedYet"],
            interval=Duration.seconds(1),
            backoff_rate=2,
            max_attempts=5,
        )
        capture.add_catch(
            cancel("CancelNotAuthorized", "payment_not_authorized"),
            errors=["PaymentNotAuthorizedYet", "GatewayRefused"],
            result_path="$.error",
        )
        capture.next(confirm)
        capture_mode = (
            sfn.Choice(self, "CaptureMode")
            .when(
                sfn.Condition.and_(
                    sfn.Condition.is_present("$.capture_mode"),
                    sfn.Condition.string_equals("$.capture_mode", "manual"),
                ),
                capture,
            )
            .otherwise(after_screening)
        )
        definition = screen.next(
            sfn.Choice(self, "RiskDecision")
            .when(
                sfn.Condition.string_equals("$.screening.decision", "block"),
                cancel("CancelBlocked", "blocked_by_screening"),
            )
            .when(
                sfn.Condition.string_equals("$.screening.decision", "review"),
                hold.next(
                    sfn.Choice(self, "ReviewDecision")
                    .when(sfn.Condition.string_equals("$.review.decision", "approve"), capture_mode)
                    .otherwise(cancel("CancelRejected", "rejected_in_review"))
                ),
            )
            .otherwise(capture_mode)
        )

        self.state_machine = standard_state_machine(
            self, definition, timeout=Duration.days(120), steps_id="OrdersLifecycleSteps"
        )
        acknowledge_steps_grants(self.steps)

    def start_refunds(self, state_machine: sfn.IStateMachine) -> None:
        """Cancellations of paid orders start the refund workflow."""
        self.steps.add_environment("REFUND_STATE_MACHINE", state_machine.state_machine_arn)
        state_machine.grant_start_execution(self.steps)
