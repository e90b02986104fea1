"""What the orders context and its state machines agree on: action names, each step's input and
output, and what a waiting task is resumed with.

``infra/constructs/orders.py`` and ``refunds.py`` build their states from these (action names
from the enums, result paths and the fields their Choice states test through ``path``), and the
steps functions parse their events with them. A renamed action or field therefore fails
synthesis or a unit test, never a workflow at run time.
"""

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.order_aggregate import CancelReason
from shared.refund_causes import RefundCause

# The lifecycle's cancellation reasons, as the state machine names them; why a refund is made.
__all__ = ["CancelReason", "RefundCause"]


class _Shape(BaseModel):
    # Step Functions passes exactly what the state machine built; anything else is a bug.
    # Validators are built on first use: a steps function parses one or two shapes per call,
    # and building all of them at import would lengthen every cold start.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def path(result_path: str, model: type[BaseModel], field: str) -> str:
    """``$.screening.decision``: a field of a step's output where the state machine keeps it.
    Raises at synthesis if the model has no such field."""
    if field not in model.model_fields:
        raise KeyError(f"{model.__name__} has no field {field!r}")
    return f"{result_path}.{field}"


# -- the order lifecycle -------------------------------------------------------------------------


class LifecycleAction(StrEnum):
    SCREEN = "screen"
    SCREEN_AND_WAIT = "screen_and_wait"
    HOLD = "hold"
    DECIDE = "decide"
    WAIT = "wait"
    STAGE = "stage"
    CANCEL = "cancel"
    CAPTURE = "capture"
    RELEASE = "release"
    MOVEMENT = "movement"
    REVIEW_CHECKPOINT = "review_checkpoint"


class Stage(StrEnum):
    """Where an order's lifecycle is (the ``WORKFLOW`` record, the stage index)."""

    POTENTIAL_FRAUD = "potential_fraud"
    AWAITING_PAYMENT = "awaiting_payment"
    CONFIRMED = "confirmed"
    AWAITING_SHIPMENT = "awaiting_shipment"
    NOT_DISPATCHED = "not_dispatched"
    SHIPPED = "shipped"
    AWAITING_DELIVERY = "awaiting_delivery"
    DELIVERED = "delivered"
    DELIVERY_PROBLEM = "delivery_problem"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    # The return window passed with a chargeback open or lost: vendor funds not released.
    FUNDS_HELD = "funds_held"


class WaitKind(StrEnum):
    PAYMENT = "payment"
    SHIPMENT = "shipment"
    DELIVERY = "delivery"


class Decision(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Waits(_Shape):
    """The lifecycle's waits in seconds: the tenant's days on the deployment's time scale. (A
    review's stretches are set as it goes: ``ReviewPlan``.)"""

    # Automatic capture: how long a confirmation waits for the payment before cancelling.
    payment_s: int = Field(ge=1)
    dispatch_s: int = Field(ge=1)
    delivery_s: int = Field(ge=1)
    return_window_s: int = Field(ge=1)
    # Delivery: how long no parcel may move before its claim opens, then how long the claims
    # (or a late delivery) may take before an operator is left to decide.
    no_movement_s: int = Field(default=10 * 86_400, ge=1)
    claims_s: int = Field(default=30 * 86_400, ge=1)


class LifecycleInput(_Shape):
    """An execution's input (one per order)."""

    tenant: str
    order_id: str
    capture_mode: Literal["automatic", "manual"] = "automatic"
    waits: Waits
    identity: list[str] = Field(alias="_identity", default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class OrderStep(_Shape):
    tenant: str
    order_id: str


class ScreenInput(OrderStep):
    action: Literal[LifecycleAction.SCREEN]


class ScreenResult(_Shape):
    decision: Decision
    score: int
    reasons: list[str]
    ruleset_version: str | None = None


class ScreenAndWaitInput(OrderStep):
    """Screen, then (accepted, automatic capture) wait for the payment in the same state: the
    token is answered with the screening's ``ScreenResult`` at once, or once the order is paid.
    ``Screen`` (``ScreenInput``) stays for the executions started on the definitions before."""

    action: Literal[LifecycleAction.SCREEN_AND_WAIT]
    task_token: str
    capture_mode: Literal["automatic", "manual"] = "automatic"
    # How an answer given at once routes: ``errors`` fails the task with the route's error
    # (``ScreeningRoute``), which the state's catches take, so no Choice follows it; the
    # definitions before answered with the result for their ``RiskDecision`` Choice.
    route: Literal["choice", "errors"] = "choice"


class ScreeningRoute(StrEnum):
    """The errors a screening's wait fails with when the order does not go straight on to be
    confirmed (an accepted order with automatic capture does, once paid): blocked, held for
    review, or accepted to be captured by hand. The cause is the ``ScreenResult`` as JSON."""

    BLOCKED = "ScreenedBlocked"
    REVIEW = "ScreenedForReview"
    CAPTURE = "ScreenedCaptureManually"


class HoldInput(OrderStep):
    action: Literal[LifecycleAction.HOLD]
    task_token: str


class DecideInput(OrderStep):
    action: Literal[LifecycleAction.DECIDE]
    decision: ReviewDecision
    by: str = "operator"


# The stages a step records just before it parks its token (``WaitInput.stage``).
StageBeforeWait = Literal[
    Stage.CONFIRMED, Stage.NOT_DISPATCHED, Stage.SHIPPED, Stage.DELIVERY_PROBLEM
]


class WaitAnswer(StrEnum):
    """How a parked wait wants the processor's answer, stored with its token. A wait parked by
    an older definition names none and gets ``OUTCOME``: a Standard execution finishes on the
    definition it started with, so every answer stays while such tokens may be parked."""

    # SendTaskSuccess with the ``WaitOutcome`` (every wait of the definitions before).
    OUTCOME = "outcome"
    # The payment wait parked by the screening: SendTaskSuccess with the saved screening's
    # ``ScreenResult`` (the Choice after it reads the decision).
    SCREENING = "screening"
    # The delivery waits: SendTaskSuccess (the ``WaitOutcome``) only when every parcel is
    # delivered; any other end is SendTaskFailure ``DELIVERY_PROBLEM``, the outcome its cause.
    DELIVERED_OR_PROBLEM = "delivered_or_problem"


# The error a delivery wait fails with when a parcel was not delivered (``DELIVERED_OR_PROBLEM``).
DELIVERY_PROBLEM = "DeliveryProblem"


class WaitInput(OrderStep):
    action: Literal[LifecycleAction.WAIT]
    wait: WaitKind
    task_token: str
    answer: WaitAnswer = WaitAnswer.OUTCOME
    # The stage the order reaches as it starts waiting (its e-mail or alert, as ``StageInput``
    # does): recording it and parking the token is one state, not two. A wait that only goes
    # on waiting names none, so nothing is redone (``KeepWaitingForDelivery`` of the
    # definitions before the delivery wait's heartbeat, whose executions may still run).
    stage: StageBeforeWait | None = None
    shipment: str | None = None


class StageInput(OrderStep):
    action: Literal[LifecycleAction.STAGE]
    stage: Literal[
        Stage.CONFIRMED,
        Stage.NOT_DISPATCHED,
        Stage.SHIPPED,
        Stage.DELIVERED,
        Stage.DELIVERY_PROBLEM,
    ]
    detail: str = ""
    # The carrier's word for the problem (``failure``, ``return_to_sender``, ``no_movement``).
    shipment: str | None = None
    # A delivery wait's failure cause (``DELIVERY_PROBLEM``): the ``WaitOutcome`` as JSON,
    # whose ``shipment`` names the problem (the definitions before passed ``shipment``).
    cause: str | None = None
    # A stage whose state then sits out a time (``DeliveredAndReturnWindow``: the return
    # window) carries its token; nothing answers it, the task's timeout ends the wait.
    task_token: str | None = None


class CancelInput(OrderStep):
    action: Literal[LifecycleAction.CANCEL]
    reason: CancelReason


class CaptureInput(OrderStep):
    action: Literal[LifecycleAction.CAPTURE]


class ReleaseInput(OrderStep):
    action: Literal[LifecycleAction.RELEASE]
    # An order settled with a parcel not delivered: release only the delivered parcels' lines
    # and leave the stage as it is (an operator decides for the rest).
    delivered_only: bool = False


class ProblemResult(_Shape):
    """What the delivery-problem step found: how many lines did arrive."""

    stage: str
    delivered_lines: int = 0


class MovementInput(OrderStep):
    """The delivery wait timed out: did any undelivered parcel move since it began? Asked only
    by executions of the definitions that timed the wait in stretches (``CheckMovement``); the
    current one is kept alive by heartbeats instead (a Standard execution finishes on the
    definition it started with, so the action stays while those may run: 120 days)."""

    action: Literal[LifecycleAction.MOVEMENT]


class MovementResult(_Shape):
    moved: bool


class ReviewCheckpointInput(OrderStep):
    action: Literal[LifecycleAction.REVIEW_CHECKPOINT]


class ReviewPlan(_Shape):
    """Where a review hold stands: over (its timeout has passed), or how long the next hold
    lasts, up to the next point where something is due (the call task, the authorisation
    window's alert) or the review's end."""

    expired: bool
    next_s: int = Field(ge=1)


LIFECYCLE_INPUTS: dict[LifecycleAction, type[OrderStep]] = {
    LifecycleAction.SCREEN: ScreenInput,
    LifecycleAction.SCREEN_AND_WAIT: ScreenAndWaitInput,
    LifecycleAction.HOLD: HoldInput,
    LifecycleAction.DECIDE: DecideInput,
    LifecycleAction.WAIT: WaitInput,
    LifecycleAction.STAGE: StageInput,
    LifecycleAction.CANCEL: CancelInput,
    LifecycleAction.CAPTURE: CaptureInput,
    LifecycleAction.RELEASE: ReleaseInput,
    LifecycleAction.MOVEMENT: MovementInput,
    LifecycleAction.REVIEW_CHECKPOINT: ReviewCheckpointInput,
}


class ReviewOutcome(_Shape):
    """What resumes the review wait."""

    decision: ReviewDecision
    by: str


class WaitOutcomeKind(StrEnum):
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    PROBLEM = "problem"


class ParcelOutcome(_Shape):
    """Where one parcel ended when the delivery wait is resumed."""

    tracking_code: str
    state: str
    claim: str | None = None


class WaitOutcome(_Shape):
    """What resumes a payment, shipment or delivery wait. The delivery wait is resumed once
    every parcel is settled (delivered, returned, or its claim decided), with each parcel's
    end."""

    outcome: WaitOutcomeKind
    shipment: str | None = None
    parcels: list[ParcelOutcome] = Field(default_factory=list)


# Where the lifecycle keeps each step's result in its state.
SCREENING_RESULT = "$.screening"
REVIEW_PLAN_RESULT = "$.review_plan"
REVIEW_RESULT = "$.review"
PAYMENT_RESULT = "$.payment"
SHIPMENT_RESULT = "$.shipment"
DELIVERY_RESULT = "$.delivery"
MOVEMENT_RESULT = "$.movement"
PROBLEM_RESULT = "$.problem"

# -- the refund workflow -------------------------------------------------------------------------


class RefundAction(StrEnum):
    PREPARE = "prepare"
    SUBMIT = "submit"
    WAIT = "wait"
    COMPLETE = "complete"
    UNCONFIRMED = "unconfirmed"
    FAIL = "fail"
    COVERED = "covered"


class RefundWaits(_Shape):
    confirm_s: int = Field(ge=1)


# What an operator's refund reason (the operator API's words, Stripe's) stands for; executions
# started before refunds carried their cause passed such a reason and finish with its cause.
OPERATOR_REFUND_CAUSES: dict[str, RefundCause] = {
    "requested_by_customer": RefundCause.CUSTOMER_REQUEST,
    "duplicate": RefundCause.DUPLICATE_CHARGE,
    "fraudulent": RefundCause.FRAUD_REPORTED,
}


class _Caused(_Shape):
    """A refund step that knows why the money goes back (``shared.refund_causes``)."""

    cause: RefundCause = RefundCause.CUSTOMER_REQUEST

    @model_validator(mode="before")
    @classmethod
    def _legacy_reason(cls, data: Any) -> Any:
        if isinstance(data, dict) and "reason" in data and "cause" not in data:
            data = dict(data)
            data["cause"] = OPERATOR_REFUND_CAUSES.get(str(data.pop("reason")), data.get("cause"))
        return data


class RefundLine(_Shape):
    line_id: str
    quantity: int | None = Field(default=None, ge=1)


class RefundInput(_Caused):
    """A refund execution's input (one per refund request)."""

    tenant: str
    order_id: str
    refund_id: str
    amount: int | None = None
    lines: list[RefundLine] | None = None
    payment_id: str | None = None
    waits: RefundWaits
    identity: list[str] = Field(alias="_identity", default_factory=list)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


class RefundStep(_Shape):
    tenant: str
    order_id: str
    refund_id: str


class Prepared(_Shape):
    payment_id: str
    amount: int
    currency: str


class Submitted(_Shape):
    gateway_refund_id: str
    status: str | None = None


class PrepareInput(RefundStep, _Caused):
    action: Literal[RefundAction.PREPARE]
    amount: int | None = None
    lines: list[RefundLine] | None = None
    payment_id: str | None = None


class SubmitInput(RefundStep, _Caused):
    action: Literal[RefundAction.SUBMIT]
    prepared: Prepared


class RefundWaitInput(RefundStep):
    action: Literal[RefundAction.WAIT]
    task_token: str
    submitted: Submitted


class CompleteInput(RefundStep, _Caused):
    action: Literal[RefundAction.COMPLETE]
    prepared: Prepared


class UnconfirmedInput(RefundStep):
    action: Literal[RefundAction.UNCONFIRMED]
    # What was reserved: the amount the client team is told is not confirmed.
    prepared: Prepared | None = None


class FailInput(RefundStep):
    action: Literal[RefundAction.FAIL]
    step: Literal["prepare", "submit"]
    prepared: Prepared | None = None
    # Step Functions' caught error: {"Error": …, "Cause": …}.
    error: dict[str, Any] = Field(default_factory=dict)


class CoveredInput(RefundStep):
    action: Literal[RefundAction.COVERED]
    prepared: Prepared | None = None
    # Step Functions' caught error: {"Error": "RefundCovered", "Cause": …}.
    error: dict[str, Any] = Field(default_factory=dict)


REFUND_INPUTS: dict[RefundAction, type[RefundStep]] = {
    RefundAction.PREPARE: PrepareInput,
    RefundAction.SUBMIT: SubmitInput,
    RefundAction.WAIT: RefundWaitInput,
    RefundAction.COMPLETE: CompleteInput,
    RefundAction.UNCONFIRMED: UnconfirmedInput,
    RefundAction.FAIL: FailInput,
    RefundAction.COVERED: CoveredInput,
}

PREPARED_RESULT = "$.prepared"
SUBMITTED_RESULT = "$.submitted"
CONFIRMATION_RESULT = "$.confirmation"
