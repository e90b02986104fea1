"""What people are told when something needs them: one typed model per kind of notice.

A notice is read twice. On SNS its body is a short human line and a few lines of detail, and
its message attributes carry the structured fields (tenant, kind, severity, team, order,
refund, breaks) that subscribers filter on. By e-mail it is rendered with the tenant's branding
for the team it is about (``Team``: the client's operations people, ``alert_emails``, or its
finance people, ``finance_emails``), from the operations sender. ``shared.alerts`` sends both.

Adding a kind is one subclass here: a ``kind`` literal, its fields, ``headline`` and, if it
says more than the ids, ``details``; ``actions`` names the operator API route and ``ecomops``
command that act on it (the ids-based defaults often suffice). ``email`` names a dedicated
template (``shared.notify.render.EmailKind``) when one exists; otherwise the e-mail is the
generic team notice. The kernel's domain: no AWS, no clock.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.money import Money

MAX_ATTRIBUTE_IDS = 100

# From: of notices where the deployment names no operations sender (the local stack, tests).
DEFAULT_OPS_SENDER = "Ecom OPS <ops@ecomops.example>"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Team(StrEnum):
    """Whose inbox a notice belongs in (SNS subscribers filter on it as ``team``)."""

    OPERATIONS = "operations"  # the client's operations people: ``alert_emails``
    FINANCE = "finance"  # its finance people: ``finance_emails``


class Action(BaseModel):
    """One way to act on a notice: an operator API route and/or an ``ecomops`` command."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    label: str
    method: Literal["GET", "POST", "PUT", "DELETE"] = "GET"
    # Relative to the deployment's API (``/ops/tenants/…``); the sender makes it absolute.
    path: str | None = None
    command: str | None = None
    # A ready link (a signed one-click approve/reject link).
    url: str | None = None


class Notice(BaseModel):
    """The fields every notice has; a kind adds its own."""

    # Validators built on the first notice: a step that raises none never pays for them.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kind: str
    # None: not about one tenant (a bank file whose tenant is unknown): the operations topic only.
    tenant: str | None
    severity: Severity = Severity.WARNING
    order_id: str | None = None
    refund_id: str | None = None
    break_ids: tuple[str, ...] = ()
    # What the e-mail may show about the order (``functions.orders.domain.order_context``):
    # never published on SNS, never part of the identity.
    order: Mapping[str, Any] | None = Field(default=None, exclude=True, repr=False)

    team: ClassVar[Team] = Team.OPERATIONS
    # A dedicated e-mail template (an EmailKind value), or None for the generic team notice.
    email: ClassVar[str | None] = None

    @property
    def headline(self) -> str:
        raise NotImplementedError

    def details(self) -> list[tuple[str, str]]:
        """(label, value) lines after the headline, in the order people read them."""
        return []

    def email_context(self) -> dict[str, Any]:
        """What the ``email`` template needs beyond the order's context."""
        return {}

    def actions(self) -> list[Action]:
        if self.tenant and self.order_id:
            return [
                Action(
                    label="Look at the order",
                    path=f"/ops/tenants/{self.tenant}/orders/{self.order_id}",
                    command=f"ecomops orders show --tenant {self.tenant} {self.order_id}",
                )
            ]
        return []

    @property
    def identity(self) -> str:
        """What makes two notices the same one (each is sent at most once per identity)."""
        ids = [self.kind, self.tenant or "-", self.order_id or "-", self.refund_id or "-"]
        return "|".join(ids + sorted(self.break_ids))

    # -- how it reads ------------------------------------------------------------------------

    def all_details(self) -> list[tuple[str, str]]:
        ids = [("Tenant", self.tenant), ("Order", self.order_id), ("Refund", self.refund_id)]
        return [(k, v) for k, v in ids if v] + self.details()

    def message(self, api_url: str | None = None) -> str:
        """The SNS body: the headline, the details, then how to act."""
        lines = [self.headline, ""]
        lines += [f"{label}: {value}" for label, value in self.all_details()]
        for action in self.actions():
            lines.append("")
            lines.append(f"{action.label}:")
            if action.url:
                lines.append(f"  {action.url}")
            if action.path:
                lines.append(f"  {action.method} {absolute(api_url, action.path)}")
            if action.command:
                lines.append(f"  {action.command}")
        return "\n".join(lines).strip() + "\n"

    def attributes(self) -> dict[str, str | list[str]]:
        """The structured fields SNS subscribers filter on (no empty values: SNS refuses them)."""
        fields: dict[str, str | list[str] | None] = {
            "kind": self.kind,
            "tenant": self.tenant,
            "severity": str(self.severity),
            "team": str(self.team),
            "order_id": self.order_id,
            "refund_id": self.refund_id,
            # Enough to match on; the whole list is in the report (SNS caps a message's size).
            "break_ids": list(self.break_ids[:MAX_ATTRIBUTE_IDS]) or None,
        }
        return {k: v for k, v in fields.items() if v}


def absolute(api_url: str | None, path: str) -> str:
    return f"{api_url.rstrip('/')}{path}" if api_url else path


def _money(amount: int | None, currency: str | None) -> str | None:
    if amount is None or not currency:
        return None
    return Money.of(amount, currency).format(grouping=True)


# -- the kinds -------------------------------------------------------------------------------


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
        amount = _money(self.amount, self.currency)
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
        amount = _money(self.amount, self.currency)
        what = f"Refund of {amount}" if amount else f"Refund {self.refund_id}"
        return f"{what} for order {self.order_id} failed: the customer has not been paid back"

    def details(self) -> list[tuple[str, str]]:
        amount = _money(self.amount, self.currency)
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
        amount = _money(self.amount, self.currency) or "the refund"
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


class BreakLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    break_id: str
    break_class: str
    amount: int | None = None
    currency: str | None = None
    explanation: str | None = None


class ReconciliationBreaks(Notice):
    """New top-priority breaks in a day's reconciliation: finance's business."""

    kind: Literal["reconciliation_breaks"] = "reconciliation_breaks"
    severity: Severity = Severity.CRITICAL
    tenant: str
    day: str
    breaks: tuple[BreakLine, ...] = Field(min_length=1)
    report: str | None = None

    team: ClassVar[Team] = Team.FINANCE

    @model_validator(mode="after")
    def _ids(self) -> "ReconciliationBreaks":
        # Subscribers filter on ``break_ids``: always the breaks the notice is about.
        object.__setattr__(self, "break_ids", tuple(b.break_id for b in self.breaks))
        return self

    @property
    def headline(self) -> str:
        count = len(self.breaks)
        return f"Reconciliation {self.day}: {count} new top-priority break{'s' * (count != 1)}"

    @property
    def identity(self) -> str:
        return f"{self.kind}|{self.tenant}|{self.day}"

    def details(self) -> list[tuple[str, str]]:
        rows = [("Report", self.report)] if self.report else []
        for b in self.breaks[:10]:
            amount = _money(b.amount, b.currency)
            text = " ".join(p for p in (b.break_class, amount, b.explanation) if p)
            rows.append((b.break_id, text))
        if len(self.breaks) > 10:
            rows.append(("More", f"{len(self.breaks) - 10} more in the report"))
        return rows

    def actions(self) -> list[Action]:
        return [
            Action(
                label="Look at the open breaks",
                path=f"/ops/tenants/{self.tenant}/reconciliation/breaks",
                command=f"ecomops reconcile breaks --tenant {self.tenant}",
            )
        ]


class BankFileProblem(Notice):
    """A bank statement file rejected, or stored with quarantined lines or failed controls."""

    kind: Literal["bank_file_problem"] = "bank_file_problem"
    file: str
    rejected: bool = False
    reason: str | None = None
    lines_stored: int | None = None
    quarantined: int = 0
    failed_controls: int = 0
    # The first quarantined lines: "line <n>: <reason>".
    examples: tuple[str, ...] = ()

    team: ClassVar[Team] = Team.FINANCE

    @property
    def headline(self) -> str:
        if self.rejected:
            return f"Bank file rejected: {self.file}"
        return (
            f"Bank file {self.file}: {self.quarantined} lines quarantined, "
            f"{self.failed_controls} control checks failed"
        )

    @property
    def identity(self) -> str:
        return f"{self.kind}|{self.tenant or '-'}|{self.file}|{self.rejected}"

    def details(self) -> list[tuple[str, str]]:
        rows = [("Reason", self.reason)]
        if not self.rejected:
            rows.append(("Lines stored", str(self.lines_stored or 0)))
        rows += [("Quarantined", example) for example in self.examples[:5]]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        if not self.tenant:
            return []
        return [
            Action(
                label="See the files received and their quarantined lines",
                path=f"/ops/tenants/{self.tenant}/reconciliation/bank-files",
                command=f"ecomops bank files --tenant {self.tenant}",
            )
        ]


class QueryCaseDue(Notice):
    """A query case (a question the records could not answer) is still open: a reminder to
    finance, one per reminder the case is due."""

    kind: Literal["query_case_due"] = "query_case_due"
    case_id: str
    question: str
    asked_by: str
    due_at: str
    overdue: bool = False
    reminder: int = 1
    payout_id: str | None = None
    bank_line_id: str | None = None

    team: ClassVar[Team] = Team.FINANCE

    @property
    def headline(self) -> str:
        state = "overdue" if self.overdue else "open"
        return f"Query case {self.case_id} is {state}: {self.question}"

    @property
    def identity(self) -> str:
        return f"{self.kind}|{self.tenant or '-'}|{self.case_id}|{self.reminder}"

    def details(self) -> list[tuple[str, str]]:
        rows = [
            ("Asked by", self.asked_by),
            ("Due", self.due_at),
            ("Payout", self.payout_id),
            ("Bank line", self.bank_line_id),
            ("Reminder", str(self.reminder)),
        ]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [
            Action(
                label="Answer or close the case",
                method="POST",
                path=f"/ops/tenants/{self.tenant}/queries/cases/{self.case_id}/close",
                command=f"ecomops queries cases --tenant {self.tenant}",
            )
        ]


# -- the chargeback desk (functions/disputes) -----------------------------------------------


class _DisputeNotice(BaseModel):
    """What every notice about one dispute case says (a mixin: each kind is a ``Notice``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    tenant: str | None
    order_id: str | None = None
    dispute_id: str
    amount: int
    currency: str
    reason: str | None = None
    network_reason_code: str | None = None
    card_brand: str | None = None
    # The evidence deadline as the client team reads it: in the tenant's time zone.
    due_by_local: str | None = None

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.dispute_id}"  # type: ignore[misc]

    def _what(self) -> str:
        money = _money(self.amount, self.currency) or ""
        return f"{money} ({self.reason or 'no reason given'})"

    def details(self) -> list[tuple[str, str]]:
        rows = [
            ("Dispute", self.dispute_id),
            ("Amount", _money(self.amount, self.currency)),
            ("Reason", self.reason),
            ("Network reason code", self.network_reason_code),
            ("Card", self.card_brand),
            ("Evidence due", self.due_by_local),
        ]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [
            Action(
                label="Look at the case, its evidence and timeline",
                path=f"/ops/tenants/{self.tenant}/disputes/{self.dispute_id}",
                command=f"ecomops disputes show --tenant {self.tenant} {self.dispute_id}",
            ),
            *super().actions(),  # type: ignore[misc]
        ]


class DisputeCaseOpened(_DisputeNotice, Notice):
    """A chargeback (or an inquiry) arrived: a case is open and its evidence deadline runs."""

    kind: Literal["dispute_opened"] = "dispute_opened"
    severity: Severity = Severity.CRITICAL
    case_kind: str = "chargeback"
    suggestion: str | None = None
    flagged: str | None = None

    email: ClassVar[str | None] = "dispute_opened"

    def email_context(self) -> dict[str, Any]:
        return {
            "dispute_id": self.dispute_id,
            "case_kind": self.case_kind,
            "amount": {"amount": self.amount, "currency": self.currency},
            "reason": self.reason,
            "network_reason_code": self.network_reason_code,
            "card_brand": self.card_brand,
            "due_by_local": self.due_by_local,
            "suggestion": self.suggestion,
            "flagged": self.flagged,
        }

    @property
    def headline(self) -> str:
        what = "Inquiry" if self.case_kind == "inquiry" else "Chargeback"
        due = f", evidence due {self.due_by_local}" if self.due_by_local else ""
        on = f"order {self.order_id}" if self.order_id else "a charge we hold no order for"
        return f"{what} opened on {on}: {self._what()}{due}"

    def details(self) -> list[tuple[str, str]]:
        rows = [("Suggestion", self.suggestion), ("Flagged", self.flagged)]
        return super().details() + [(k, v) for k, v in rows if v]


class DisputeDeadlineReminder(_DisputeNotice, Notice):
    """A case's evidence is not submitted and its deadline is near (5, 2 and 1 days before)."""

    kind: Literal["dispute_deadline"] = "dispute_deadline"
    days_before: int
    state: str = "new"

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.days_before}d"

    @property
    def headline(self) -> str:
        days = "1 day" if self.days_before == 1 else f"{self.days_before} days"
        return (
            f"Dispute evidence due in {days}: {self.dispute_id} on order "
            f"{self.order_id or '-'}, {self._what()}, not submitted ({self.state})"
        )


class DisputeRatioWarning(Notice):
    """A card network's dispute ratio is projected at 50 % or 75 % of a programme's level."""

    kind: Literal["dispute_ratio"] = "dispute_ratio"
    programme: str
    brand: str
    month: str
    share_percent: int
    lines: tuple[str, ...]
    rate: str
    count: int
    denominator: int

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.programme}|{self.brand}|{self.month}|{self.share_percent}"

    @property
    def headline(self) -> str:
        return (
            f"{self.brand.capitalize()} dispute ratio for {self.month} projected at "
            f"{self.share_percent} % or more of {self.programme}'s threshold"
        )

    def details(self) -> list[tuple[str, str]]:
        return [
            ("So far", f"{self.count:,} of {self.denominator:,} ({self.rate})"),
            *(("Projection", line) for line in self.lines),
        ]

    def actions(self) -> list[Action]:
        return [
            Action(
                label="The monthly ratio report",
                path=f"/ops/tenants/{self.tenant}/disputes/ratios?month={self.month}",
                command=f"ecomops disputes ratios --tenant {self.tenant} --month {self.month}",
            )
        ]


class EarlyFraudWarningNotice(Notice):
    """The issuer reported a charge as fraud (Stripe's early fraud warning): what the desk did
    under the tenant's policy, and where to watch for the dispute that may follow."""

    kind: Literal["early_fraud_warning"] = "early_fraud_warning"
    severity: Severity = Severity.CRITICAL
    warning_id: str
    charge_id: str
    fraud_type: str | None = None
    outcome: str

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.warning_id}"

    @property
    def headline(self) -> str:
        on = f"order {self.order_id}" if self.order_id else f"charge {self.charge_id}"
        return f"Early fraud warning on {on}: {self.outcome}"

    def details(self) -> list[tuple[str, str]]:
        rows = [
            ("Warning", self.warning_id),
            ("Charge", self.charge_id),
            ("Fraud type", self.fraud_type),
        ]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Dispute cases (a chargeback often follows)",
                path=f"/ops/tenants/{self.tenant}/disputes",
                command=f"ecomops disputes list --tenant {self.tenant}",
            ),
        ]


# -- vendor payouts ------------------------------------------------------------------------------


class UnknownVendor(Notice):
    """An order line names a vendor the tenant has not set up: its money waits in the ledger's
    suspense account until an operator sets the vendor up or assigns the line."""

    kind: Literal["unknown_vendor"] = "unknown_vendor"
    order_id: str
    line_id: str
    vendor_id: str | None = None
    amount: int | None = None
    currency: str | None = None

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.line_id}"

    @property
    def headline(self) -> str:
        who = f"vendor {self.vendor_id!r}" if self.vendor_id else "no vendor"
        return f"Order {self.order_id} line {self.line_id}: {who} unknown, held in suspense"

    def details(self) -> list[tuple[str, str]]:
        rows = [("Line", self.line_id), ("Held", _money(self.amount, self.currency))]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Set the vendor up",
                method="PUT",
                path=f"/ops/tenants/{self.tenant}/payouts/vendors/{self.vendor_id or 'VENDOR'}",
                command=f"ecomops payouts vendor-save --tenant {self.tenant} VENDOR.json",
            ),
        ]


class VendorNotTold(Notice):
    """A vendor could not be e-mailed about its lines of an order (no address, or the mail
    failed): the order went on; someone tells the vendor what to ship, or not to."""

    kind: Literal["vendor_not_told"] = "vendor_not_told"
    order_id: str
    vendor_id: str
    # What the vendor was to be told: "order", "cancelled", or "refunded"/"returned" with the
    # refund's id.
    news: str
    reason: str

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.vendor_id}|{self.news}"

    @property
    def headline(self) -> str:
        return f"Order {self.order_id}: vendor {self.vendor_id} was not told ({self.news})"

    def details(self) -> list[tuple[str, str]]:
        return [("Vendor", self.vendor_id), ("News", self.news), ("Why", self.reason)]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="The vendor's e-mail addresses",
                path=f"/ops/tenants/{self.tenant}/payouts/vendors/{self.vendor_id}",
                command=f"ecomops payouts vendor --tenant {self.tenant} {self.vendor_id}",
            ),
        ]


class ConnectReversalFailed(Notice):
    """Money taken back from a vendor after a Stripe Connect payout (a refund, a return, a
    chargeback it bears) could not be reversed from its transfer — its connected account's
    balance was too low, say. The vendor's negative balance is carried into the next cycles,
    which recover it before paying it anything; the team may ask the vendor meanwhile."""

    kind: Literal["connect_reversal_failed"] = "connect_reversal_failed"
    order_id: str
    event_id: str
    vendor_id: str
    transfer_id: str
    amount: int
    currency: str
    reason: str

    @property
    def identity(self) -> str:
        return f"{super().identity}|{self.event_id}|{self.vendor_id}|{self.currency}"

    @property
    def headline(self) -> str:
        return (
            f"Vendor {self.vendor_id}: {_money(self.amount, self.currency)} of order "
            f"{self.order_id} not reversed from its Stripe transfer; carried to its next payouts"
        )

    def details(self) -> list[tuple[str, str]]:
        return [
            ("Vendor", self.vendor_id),
            ("Transfer", self.transfer_id),
            ("Because of", self.event_id),
            ("Stripe said", self.reason),
        ]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="The vendor's balances",
                path=f"/ops/tenants/{self.tenant}/payouts/vendors/{self.vendor_id}/balances",
                command=f"ecomops payouts balances --tenant {self.tenant} {self.vendor_id}",
            ),
        ]


class VendorLinesHeld(Notice):
    """Order lines whose vendors are not paid until an operator decides (their parcel was not
    delivered, or the shop reshipped them): release or void each, with a reason."""

    kind: Literal["vendor_lines_held"] = "vendor_lines_held"
    order_id: str
    lines: tuple[str, ...]  # "l2 (not_delivered: 1Z9 lost)"

    @property
    def identity(self) -> str:
        return f"{super().identity}|{'|'.join(sorted(self.lines))}"

    @property
    def headline(self) -> str:
        return f"Order {self.order_id}: {len(self.lines)} line(s) held from the vendors"

    def details(self) -> list[tuple[str, str]]:
        return [("Held", "; ".join(self.lines))]

    def actions(self) -> list[Action]:
        return [
            *super().actions(),
            Action(
                label="Release or void the held lines",
                method="POST",
                path=f"/ops/tenants/{self.tenant}/payouts/holds/{self.order_id}/decision",
                command=(
                    f"ecomops payouts hold-decide --tenant {self.tenant} {self.order_id} "
                    "release|void --reason TEXT"
                ),
            ),
        ]


# -- the reconciliation fan-out (functions/reconcile, the hourly tick) ----------------------------


class ReconciliationFailed(Notice):
    """A tenant's daily reconciliation failed after its retries: no report, no breaks judged
    for the day until someone looks. The other tenants of the tick went on."""

    kind: Literal["reconciliation_failed"] = "reconciliation_failed"
    severity: Severity = Severity.CRITICAL
    tenant: str
    day: str
    error: str
    cause: str | None = None

    team: ClassVar[Team] = Team.FINANCE

    @property
    def headline(self) -> str:
        return f"Reconciliation {self.day} failed: {self.error}"

    @property
    def identity(self) -> str:
        return f"{self.kind}|{self.tenant}|{self.day}"

    def details(self) -> list[tuple[str, str]]:
        rows = [("Day", self.day), ("Error", self.error), ("Cause", self.cause)]
        return [(k, v) for k, v in rows if v]

    def actions(self) -> list[Action]:
        return [
            Action(
                label="Run the day again once the cause is fixed",
                command=f"ecomops reconcile run --tenant {self.tenant} --date {self.day}",
            )
        ]


class ReconciliationTickIncomplete(Notice):
    """Operations' view of an hourly tick in which some tenants' reconciliations failed (each
    tenant's finance people were told of theirs)."""

    kind: Literal["reconciliation_tick_incomplete"] = "reconciliation_tick_incomplete"
    severity: Severity = Severity.CRITICAL
    tenant: None = None
    tick: str
    reconciled: int
    failed: tuple[str, ...] = Field(min_length=1)

    @property
    def headline(self) -> str:
        count = len(self.failed)
        return (
            f"Reconciliation tick {self.tick}: {count} tenant{'s' * (count != 1)} failed, "
            f"{self.reconciled} reconciled"
        )

    @property
    def identity(self) -> str:
        return f"{self.kind}|{self.tick}"

    def details(self) -> list[tuple[str, str]]:
        rows = [("Failed", ", ".join(self.failed[:20]))]
        if len(self.failed) > 20:
            rows.append(("More", f"{len(self.failed) - 20} more"))
        return rows
