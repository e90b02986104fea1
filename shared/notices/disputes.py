"""The chargeback desk's notices (functions/disputes)."""

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from shared.notices import Action, Notice, Severity, money_line


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
        money = money_line(self.amount, self.currency) or ""
        return f"{money} ({self.reason or 'no reason given'})"

    def details(self) -> list[tuple[str, str]]:
        rows = [
            ("Dispute", self.dispute_id),
            ("Amount", money_line(self.amount, self.currency)),
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
