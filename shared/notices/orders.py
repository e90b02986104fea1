"""The orders context's notices: screening, dispatch, delivery, refunds, reviews, returns."""

from typing import Any, ClassVar, Literal

from pydantic import Field

from shared.notices import Action, Notice, Severity, money_line


class PotentialFraud(Notice):
    """Screening held the order: the client team approves or rejects it."""

    kind: Literal["potential_fraud"] = "potential_fraud"
    order_id: str
    reasons: tuple[str, ...] = ()
    risk_score: float | None = None
    approve_url: str | None = None
    reject_url: str | None = None

    email: ClassVar[str | None] = "review_needed"

    @property
    def headline(self) -> str:
        return f"Potential fraud: order {self.order_id} is held for review"

    def details(self) -> list[tuple[str, str]]:
        rows = [("Reasons", "; ".join(self.reasons) or "held for review")]
        if self.risk_score is not None:
            rows.append(("Risk score", f"{self.risk_score:g}"))
        return rows

    def actions(self) -> list[Action]:
        path = f"/ops/tenants/{self.tenant}/orders/{self.order_id}/review"
        decide = [
            Action(label="Approve", url=self.approve_url) if self.approve_url else None,
            Action(label="Reject", url=self.reject_url) if self.reject_url else None,
            Action(
                label="Decide through the operator API, or see the review queue",
                method="POST",
                path=path,
                command=f"ecomops risk queue --tenant {self.tenant}",
            ),
        ]
        return [a for a in decide if a is not None]

    def email_context(self) -> dict[str, Any]:
        return {
            "reasons": self.reasons or ("held for review",),
            "risk_score": self.risk_score,
            "approve_url": self.approve_url,
            "reject_url": self.reject_url,
        }


class NotDispatched(Notice):
    kind: Literal["not_dispatched"] = "not_dispatched"
    routine: ClassVar[bool] = True
    order_id: str
    days: int = Field(ge=1)

    email: ClassVar[str | None] = "not_dispatched"

    @property
    def headline(self) -> str:
        plural = "s" if self.days != 1 else ""
        return f"Order {self.order_id} not dispatched after {self.days} day{plural}"

    def details(self) -> list[tuple[str, str]]:
        return [("What to do", "check with the warehouse or vendor; tell the customer if late")]

    def email_context(self) -> dict[str, Any]:
        # Who to chase: the vendors of the order's lines.
        lines = (self.order or {}).get("lines") or []
        vendors = sorted({str(line["vendor"]) for line in lines if line.get("vendor")})
        return {"days": self.days, "vendors": vendors}


def _claims_actions(tenant: str | None, order_id: str | None) -> list[Action]:
    return [
        Action(
            label="See the order's carrier claims, record the carrier's answer",
            path=f"/ops/tenants/{tenant}/orders/{order_id}/claims",
            command=f"ecomops orders claims --tenant {tenant} {order_id}",
        )
    ]


class DeliveryProblem(Notice):
    """One parcel's trouble the client team acts on: an exception, a loss or damage (a claim
    filed), a return to the shop."""

    kind: Literal["delivery_problem"] = "delivery_problem"
    routine: ClassVar[bool] = True
    order_id: str
    problem: str = "unknown"
    carrier: str | None = None
    tracking_code: str | None = None
    lines: tuple[str, ...] = ()
    what_next: str | None = None
    # What makes a repeat a new notice: the carrier scan it is about.
    occurrence: str | None = None

    email: ClassVar[str | None] = "delivery_exception_ops"

    @property
    def identity(self) -> str:
        # Each parcel's problem is its own notice (an order may ship in several parcels).
        parts = (self.tracking_code or "-", self.problem, self.occurrence or "-")
        return "|".join((super().identity, *parts))

    @property
    def headline(self) -> str:
        problem = self.problem.replace("_", " ")
        parcel = f", parcel {self.tracking_code}" if self.tracking_code else ""
        return f"Delivery problem: order {self.order_id}{parcel}: {problem}"

    def details(self) -> list[tuple[str, str]]:
        rows = [
            ("Carrier", self.carrier),
            ("Tracking number", self.tracking_code),
            ("Lines", ", ".join(self.lines)),
            ("What to do", self.what_next),
        ]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [*super().actions(), *_claims_actions(self.tenant, self.order_id)]

    def email_context(self) -> dict[str, Any]:
        return {
            "status": self.problem,
            "carrier": self.carrier,
            "tracking_code": self.tracking_code,
            "detail": self.what_next,
        }


class OrderNotDelivered(Notice):
    """Every parcel is settled and not all arrived: the team decides refund or reship for what
    did not."""

    kind: Literal["order_not_delivered"] = "order_not_delivered"
    routine: ClassVar[bool] = True
    order_id: str
    # One line per parcel: "<tracking>: <state>, lines …, claim <status>".
    parcels: tuple[str, ...] = ()

    @property
    def headline(self) -> str:
        return (
            f"Delivery problem: order {self.order_id}: "
            "decide a refund or a reshipment for what did not arrive"
        )

    def details(self) -> list[tuple[str, str]]:
        return [("Parcel", parcel) for parcel in self.parcels]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            *_claims_actions(self.tenant, self.order_id),
            Action(
                label="Refund the customer for what did not arrive",
                method="POST",
                path=f"/ops/tenants/{self.tenant}/orders/{self.order_id}/refunds",
            ),
        ]


class ClaimWithdrawn(Notice):
    """A parcel with an open carrier claim was delivered after all: the claim is withdrawn."""

    kind: Literal["claim_withdrawn"] = "claim_withdrawn"
    routine: ClassVar[bool] = True
    severity: Severity = Severity.INFO
    order_id: str
    tracking_code: str
    reference: str | None = None

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.tracking_code}"

    @property
    def headline(self) -> str:
        return f"Claim withdrawn, parcel delivered: order {self.order_id}"

    def details(self) -> list[tuple[str, str]]:
        rows = [
            ("Parcel", self.tracking_code),
            ("Carrier's claim reference", self.reference),
            ("What to do", "withdraw the claim with the carrier too"),
        ]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [*super().actions(), *_claims_actions(self.tenant, self.order_id)]


class RefundUnconfirmed(Notice):
    kind: Literal["refund_unconfirmed"] = "refund_unconfirmed"
    order_id: str
    refund_id: str
    amount: int | None = None
    currency: str | None = None

    email: ClassVar[str | None] = "refund_stuck"

    @property
    def headline(self) -> str:
        return f"Refund {self.refund_id} for order {self.order_id} not confirmed by the gateway"

    def details(self) -> list[tuple[str, str]]:
        amount = money_line(self.amount, self.currency)
        rows = [("Amount", amount)] if amount else []
        return [*rows, ("What to do", "check the refund in the gateway's dashboard")]

    def email_context(self) -> dict[str, Any]:
        refund = (
            {"amount": self.amount, "currency": self.currency}
            if self.amount is not None and self.currency
            else None
        )
        return {"refund": refund, "refund_id": self.refund_id}


class RefundFailed(Notice):
    kind: Literal["refund_failed"] = "refund_failed"
    severity: Severity = Severity.CRITICAL
    order_id: str
    refund_id: str
    reason: str
    amount: int | None = None
    currency: str | None = None

    @property
    def headline(self) -> str:
        amount = money_line(self.amount, self.currency)
        what = f"Refund of {amount}" if amount else f"Refund {self.refund_id}"
        return f"{what} for order {self.order_id} failed: the customer has not been paid back"

    def details(self) -> list[tuple[str, str]]:
        amount = money_line(self.amount, self.currency)
        rows = [("Amount", amount)] if amount else []
        return [*rows, ("Reason", self.reason)]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Request the refund again once the cause is fixed",
                method="POST",
                path=f"/ops/tenants/{self.tenant}/orders/{self.order_id}/refunds",
            ),
        ]


class CallCustomer(Notice):
    """A held order's review nears its timeout: the client team calls the customer first."""

    kind: Literal["call_customer"] = "call_customer"
    order_id: str
    call_by: str  # ISO time the review times out
    phone: str | None = None
    customer_name: str | None = None
    reasons: tuple[str, ...] = ()
    score: float | None = None

    @property
    def headline(self) -> str:
        return f"Call the customer before the review times out: order {self.order_id}"

    def details(self) -> list[tuple[str, str]]:
        rows = [
            ("Phone", self.phone or "none on the order: write to the customer"),
            ("Customer", self.customer_name),
            ("Call by", self.call_by),
            ("Held because", "; ".join(self.reasons)),
        ]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Record what came of the call",
                method="POST",
                path=f"/ops/tenants/{self.tenant}/orders/{self.order_id}/review/call",
                command=f"ecomops reviews call-outcome --tenant {self.tenant} {self.order_id} "
                "--outcome reached-confirmed|reached-declined|no-answer --note …",
            ),
        ]


class AuthorisationEnding(Notice):
    """A held order's card authorisation lapses soon: decide before a capture would fail."""

    kind: Literal["authorisation_ending"] = "authorisation_ending"
    severity: Severity = Severity.CRITICAL
    order_id: str
    authorisation_ends_at: str
    review_ends_at: str

    @property
    def headline(self) -> str:
        return f"Decide the review soon: the card authorisation of order {self.order_id} runs out"

    def details(self) -> list[tuple[str, str]]:
        return [
            ("Authorisation ends", self.authorisation_ends_at),
            ("Review ends", self.review_ends_at),
            ("Why", "a capture after the authorisation has lapsed fails: approve or reject first"),
        ]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Approve or reject",
                method="POST",
                path=f"/ops/tenants/{self.tenant}/orders/{self.order_id}/review",
                command=f"ecomops risk queue --tenant {self.tenant}",
            ),
        ]


class ReturnToInspect(Notice):
    """A return parcel is back and the tenant inspects returns before refunding."""

    kind: Literal["return_to_inspect"] = "return_to_inspect"
    routine: ClassVar[bool] = True
    order_id: str
    return_id: str

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.return_id}"

    @property
    def headline(self) -> str:
        return f"Return received, to inspect: order {self.order_id}"

    def details(self) -> list[tuple[str, str]]:
        return [("Return", self.return_id)]

    def actions(self) -> list[Action]:
        path = f"/ops/tenants/{self.tenant}/orders/{self.order_id}/returns"
        return [
            *super().actions(),
            Action(
                label="Record the inspection (accept, partial or reject)",
                method="POST",
                path=f"{path}/{self.return_id}/inspection",
                command=f"ecomops returns inspect --tenant {self.tenant} {self.order_id} "
                f"{self.return_id} --outcome accept|partial|reject",
            ),
        ]


class RefundFailedAtGateway(Notice):
    """A refund the gateway accepted failed or was canceled later (Stripe: refund.failed,
    refund.updated): the customer did not get the money back, and it is held again."""

    kind: Literal["refund_failed_at_gateway"] = "refund_failed_at_gateway"
    severity: Severity = Severity.CRITICAL
    order_id: str
    gateway_refund_id: str
    payment_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    status: str = "failed"
    reason: str | None = None

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.gateway_refund_id}"

    @property
    def headline(self) -> str:
        amount = money_line(self.amount, self.currency) or "the refund"
        return (
            f"Refund failed at the gateway: order {self.order_id}, the customer did not get "
            f"{amount} back"
        )

    def details(self) -> list[tuple[str, str]]:
        rows = [
            ("Gateway refund", self.gateway_refund_id),
            ("Payment", self.payment_id),
            ("Status", self.status),
            ("Reason", self.reason),
            ("What to do", "the money is held again: refund by another means or ask the customer"),
        ]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Request the refund again",
                method="POST",
                path=f"/ops/tenants/{self.tenant}/orders/{self.order_id}/refunds",
            ),
        ]
