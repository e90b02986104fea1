"""The order lifecycle: a Standard state machine per order, and the Lambda its steps call.

Every wait (review, dispatch, delivery, return window) comes from the execution's input, which
the processor computes from the tenant's settings and the deployment's time scale, so tests and
the local stack run a whole lifecycle in seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Duration
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from functions.orders import contracts as c
from infra.config import StackConfig
from infra.constructs.data import DataStore
from infra.constructs.lambdas import LambdaToolkit
from infra.constructs.tenant_secrets import API_AND_LINKS
from infra.constructs.workflow import (
    Step,
    acknowledge_steps_grants,
    answer_own_tokens,
    grant_steps,
    standard_state_machine,
    step_factory,
)

# How long an order's execution may last, all its waits included.
LIFECYCLE_TIMEOUT = Duration.days(120)

ORDER = {
    "tenant": sfn.JsonPath.string_at("$.tenant"),
    "order_id": sfn.JsonPath.string_at("$.order_id"),
}


WaitFor = Callable[..., tasks.LambdaInvoke]


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
            handler="functions.orders.handlers.lifecycle.handler",
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
            call_reports=False,  # five or more calls an order
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
            name: str,
            payload: dict[str, object],
            timeout: str | Duration,
            result_path: str,
            heartbeat_path: str | None = None,
        ) -> tasks.LambdaInvoke:
            return tasks.LambdaInvoke(
                self,
                name,
                lambda_function=self.steps,
                integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                payload=sfn.TaskInput.from_object(
                    {**ORDER, **payload, "task_token": sfn.JsonPath.task_token}
                ),
                task_timeout=(
                    sfn.Timeout.at(timeout)
                    if isinstance(timeout, str)
                    else sfn.Timeout.duration(timeout)
                ),
                heartbeat_timeout=sfn.Timeout.at(heartbeat_path) if heartbeat_path else None,
                result_path=result_path,
            )

        def waits(field: str) -> str:
            return c.path("$.waits", c.Waits, field)

        def cancel(name: str, reason: c.CancelReason) -> sfn.IChainable:
            # The cancelling step ends the execution: no Succeed state after it to pay for.
            return step(name, {"action": c.LifecycleAction.CANCEL, "reason": reason})

        review = self._review_hold(step, wait_for, cancel)
        shipment_wait = {"action": c.LifecycleAction.WAIT, "wait": c.WaitKind.SHIPMENT}
        # Each stage is recorded by the step that then waits for what comes next (one state).
        confirm = wait_for(
            "ConfirmAndWaitForShipment",
            {**shipment_wait, "stage": c.Stage.CONFIRMED},
            waits("dispatch_s"),
            c.SHIPMENT_RESULT,
        )
        not_dispatched = wait_for(
            "NotDispatchedAndWaitForShipment",
            {**shipment_wait, "stage": c.Stage.NOT_DISPATCHED},
            waits("delivery_s"),
            c.SHIPMENT_RESULT,
        )
        shipped = self._delivery(step, wait_for, waits)
        confirm.add_catch(not_dispatched, errors=["States.Timeout"], result_path="$.error")
        not_dispatched.add_catch(
            sfn.Succeed(self, "NeverShipped", comment="ops were alerted"),
            errors=["States.Timeout"],
            result_path="$.error",
        )
        confirm.next(shipped)
        not_dispatched.next(shipped)

        capture = step("Capture", {"action": c.LifecycleAction.CAPTURE})
        # The gateway's authorization may arrive after the order: wait for it a little.
        capture.add_retry(
            errors=["PaymentNotAuthorizedYet"],
            interval=Duration.seconds(1),
            backoff_rate=2,
            max_attempts=5,
        )
        capture.add_catch(
            cancel("CancelNotAuthorized", c.CancelReason.PAYMENT_NOT_AUTHORIZED),
            errors=["PaymentNotAuthorizedYet", "GatewayRefused"],
            result_path="$.error",
        )
        capture.next(confirm)
        capture_mode = c.path("$", c.LifecycleInput, "capture_mode")
        cancel_unpaid = cancel("CancelUnpaid", c.CancelReason.PAYMENT_NOT_RECEIVED)
        # Automatic capture confirms only a paid order. An accepted order waits for its payment
        # in the screening's own state (the step parks the token and resumes it at once if the
        # payment is in; the processor answers it with the screening when the payment comes)
        # and goes on to be confirmed. Any other decision, or manual capture, fails the task at
        # once with its route (``ScreeningRoute``), which a catch takes: no Choice on any
        # order's path, as the delivery wait's problem is routed. An order unpaid at the
        # tenant's payment timeout is cancelled, as after a review.
        screen = wait_for(
            "ScreenAndWaitForPayment",
            {
                "action": c.LifecycleAction.SCREEN_AND_WAIT,
                "capture_mode": sfn.JsonPath.string_at(capture_mode),
                "route": "errors",
            },
            waits("payment_s"),
            c.SCREENING_RESULT,
        )
        screen.add_catch(cancel_unpaid, errors=["States.Timeout"], result_path="$.error")
        wait_payment = self._wait_for_payment(wait_for, waits, cancel_unpaid).next(confirm)
        manual_capture = sfn.Condition.and_(
            sfn.Condition.is_present(capture_mode),
            sfn.Condition.string_equals(capture_mode, "manual"),
        )
        approved = sfn.Condition.string_equals(
            c.path(c.REVIEW_RESULT, c.ReviewOutcome, "decision"), c.ReviewDecision.APPROVE
        )
        # One Choice after the review routes by its decision and the capture mode together
        # (ordered rules): no second Choice for the capture mode.
        reviewed = review.next(
            sfn.Choice(self, "ReviewDecision")
            .when(sfn.Condition.and_(approved, manual_capture), capture)
            .when(approved, wait_payment)
            .otherwise(cancel("CancelRejected", c.CancelReason.REJECTED_IN_REVIEW))
        )
        routes: list[tuple[c.ScreeningRoute, sfn.IChainable]] = [
            (
                c.ScreeningRoute.BLOCKED,
                cancel("CancelBlocked", c.CancelReason.BLOCKED_BY_SCREENING),
            ),
            (c.ScreeningRoute.REVIEW, reviewed),
            (c.ScreeningRoute.CAPTURE, capture),
        ]
        for route, then in routes:
            # The cause (the screening's result as JSON) is kept where the result would be.
            screen.add_catch(then, errors=[route], result_path=c.SCREENING_RESULT)
        definition = screen.next(confirm)

        self.state_machine = standard_state_machine(
            self, definition, timeout=LIFECYCLE_TIMEOUT, steps_id="OrdersLifecycleSteps"
        )
        acknowledge_steps_grants(self.steps)
        answer_own_tokens(self, self.steps, self.state_machine)

    def _review_hold(
        self,
        step: Step,
        wait_for: WaitFor,
        cancel: Callable[[str, c.CancelReason], sfn.IChainable],
    ) -> sfn.Chain:
        """The review waits in stretches: a checkpoint does what has come due (the call task,
        the authorisation window's alert) and sets how long the next stretch lasts; a stretch
        that times out comes back to it, and once the review's time is up it cancels. Three
        states per stretch and at most three stretches, where a parallel timer branch would
        cost states on every review and could not end when the decision came."""
        checkpoint = step(
            "ReviewCheckpoint",
            {"action": c.LifecycleAction.REVIEW_CHECKPOINT},
            c.REVIEW_PLAN_RESULT,
        )
        hold = wait_for(
            "HoldForReview",
            {"action": c.LifecycleAction.HOLD},
            c.path(c.REVIEW_PLAN_RESULT, c.ReviewPlan, "next_s"),
            c.REVIEW_RESULT,
        )
        hold.add_catch(checkpoint, errors=["States.Timeout"], result_path="$.error")
        checkpoint.next(
            sfn.Choice(self, "ReviewTimeLeft")
            .when(
                sfn.Condition.boolean_equals(
                    c.path(c.REVIEW_PLAN_RESULT, c.ReviewPlan, "expired"), True
                ),
                cancel("CancelReviewTimedOut", c.CancelReason.REVIEW_TIMED_OUT),
            )
            .otherwise(hold)
        )
        return sfn.Chain.custom(checkpoint, [hold], hold)

    def _wait_for_payment(
        self, wait_for: WaitFor, waits: Callable[[str], str], cancel_unpaid: sfn.IChainable
    ) -> tasks.LambdaInvoke:
        """Automatic capture after an approved review: confirm only a paid order. The step
        parks its token and resumes at once if the payment is already in; the processor
        resumes it when the payment succeeds; an order unpaid at the tenant's payment timeout
        is cancelled."""
        wait_payment = wait_for(
            "WaitForPayment",
            {"action": c.LifecycleAction.WAIT, "wait": c.WaitKind.PAYMENT},
            waits("payment_s"),
            c.PAYMENT_RESULT,
        )
        wait_payment.add_catch(cancel_unpaid, errors=["States.Timeout"], result_path="$.error")
        return wait_payment

    def _delivery(
        self,
        step: Step,
        wait_for: WaitFor,
        waits: Callable[[str], str],
    ) -> sfn.IChainable:
        """From shipped to closed: wait until every parcel is settled (the processor resumes
        the wait with each parcel's end); while parcels move, keep waiting; when none moved
        for the tenant's limit, claims open for the stalled parcels and the order waits for
        them (or a late delivery) a while longer before an operator decides.

        The wait stays one state however long the parcels travel: its heartbeat limit is the
        tenant's no-movement limit, and the processor sends the parked token a heartbeat
        whenever a carrier's scan shows a parcel moved (an API call, not a transition). A
        limit passed with no heartbeat fails the task with a heartbeat timeout, and the catch
        of ``States.Timeout`` (which covers ``States.HeartbeatTimeout`` on AWS, and is the
        name moto gives it) goes straight into the claims."""
        stage = c.LifecycleAction.STAGE
        # The processor answers these waits with success only when every parcel is delivered
        # (on to ``Delivered``), any other end with the task failure ``DELIVERY_PROBLEM``,
        # whose catch takes the problem path: no Choice between the wait and either path.
        delivery_wait: dict[str, object] = {
            "action": c.LifecycleAction.WAIT,
            "wait": c.WaitKind.DELIVERY,
            "answer": c.WaitAnswer.DELIVERED_OR_PROBLEM,
        }
        # The whole wait's bound is the execution's own: a parcel that keeps moving keeps the
        # order waiting as long as the lifecycle may last, as it did when the wait was timed
        # in no-movement stretches. No tenant wait is that long (``delivery_timeout_days``,
        # 14 by default, would cut a moving parcel short).
        shipped = wait_for(
            "ShippedAndWaitForDelivery",
            {**delivery_wait, "stage": c.Stage.SHIPPED},
            LIFECYCLE_TIMEOUT,
            c.DELIVERY_RESULT,
            heartbeat_path=waits("no_movement_s"),
        )
        wait_claims = wait_for(
            "NoMovementAndWaitForClaims",
            {**delivery_wait, "stage": c.Stage.DELIVERY_PROBLEM, "shipment": "no_movement"},
            waits("claims_s"),
            c.DELIVERY_RESULT,
        )
        # The caught failure ({Error, Cause}) is kept where the outcome would have been; its
        # cause is the outcome (parcels, shipment) as JSON, which the step reads.
        problem = step(
            "DeliveryProblem",
            {
                "action": stage,
                "stage": c.Stage.DELIVERY_PROBLEM,
                "cause": sfn.JsonPath.string_at(f"{c.DELIVERY_RESULT}.Cause"),
            },
            c.PROBLEM_RESULT,
        )
        # The parcels that did arrive: their lines' vendors are paid after the return window.
        partly_delivered = sfn.Wait(
            self,
            "ReturnWindowDelivered",
            time=sfn.WaitTime.seconds_path(waits("return_window_s")),
        )
        release_delivered = step(
            "ReleaseDeliveredFunds", {"action": c.LifecycleAction.RELEASE, "delivered_only": True}
        )
        # Delivered, and the return window sat out in the same state, as each stage before it
        # waits in its own: the step records the stage (the customer's e-mail) and answers
        # nothing, so the task's timeout is the window. Its end goes on to the release, and so
        # would an answer, were one ever sent (none is).
        delivered = wait_for(
            "DeliveredAndReturnWindow",
            {"action": stage, "stage": c.Stage.DELIVERED},
            waits("return_window_s"),
            sfn.JsonPath.DISCARD,
        )
        # The release closes the order and ends the execution (no Succeed state after it).
        release = step("ReleaseFunds", {"action": c.LifecycleAction.RELEASE})
        exception = sfn.Succeed(
            self, "DeliveryException", comment="an operator decides refund or reship"
        )
        delivered.add_catch(release, errors=["States.Timeout"], result_path="$.error")
        delivered.next(release)
        problem.next(
            sfn.Choice(self, "AnyDelivered")
            .when(
                sfn.Condition.number_greater_than(
                    c.path(c.PROBLEM_RESULT, c.ProblemResult, "delivered_lines"), 0
                ),
                # An operator decides for the rest after the release, as below.
                partly_delivered.next(release_delivered),
            )
            .otherwise(exception)
        )
        for wait in (shipped, wait_claims):
            wait.add_catch(problem, errors=[c.DELIVERY_PROBLEM], result_path=c.DELIVERY_RESULT)
            wait.next(delivered)
        shipped.add_catch(wait_claims, errors=["States.Timeout"], result_path="$.error")
        wait_claims.add_catch(exception, errors=["States.Timeout"], result_path="$.error")
        return shipped

    def start_refunds(self, state_machine: sfn.IStateMachine) -> None:
        """Cancellations of paid orders start the refund workflow."""
        self.steps.add_environment("REFUND_STATE_MACHINE", state_machine.state_machine_arn)
        state_machine.grant_start_execution(self.steps)
