"""What people are told when something needs them: one typed model per kind of notice.

A notice is read twice. On SNS its body is a short human line and a few lines of detail, and
its message attributes carry the structured fields (tenant, kind, severity, team, order,
refund, breaks) that subscribers filter on. By e-mail it is rendered with the tenant's branding
for the team it is about (``Team``: the client's operations people, ``alert_emails``, or its
finance people, ``finance_emails``), from the operations sender. ``shared.alerts`` sends both.

Adding a kind is one subclass of ``Notice`` in the module of the context that raises it: a
``kind`` literal, its fields, ``headline`` and, if it says more than the ids, ``details``;
``actions`` names the operator API route and ``ecomops`` command that act on it (the ids-based
defaults often suffice). ``email`` names a dedicated template
(``shared.notify.render.EmailKind``) when one exists; otherwise the e-mail is the generic team
notice. The kernel's domain: no AWS, no clock.

The base is here; the kinds live beside it, one module per context that raises them
(``shared.notices.orders``, ``.payouts``, ``.disputes``, ``.reconcile``, ``.queries``), so a
function loads the kinds its own context raises and not every context's.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    # Follow-up work measured in hours, not minutes (a parcel late or in trouble, a return to
    # inspect): mailed in the team's digest with the others of its hour, unless the tenant
    # asks for it at once (``TenantSettings.notices``). SNS always has it at once. A new kind
    # goes out at once until someone decides it can wait
    # (``shared.tenants.ROUTINE_NOTICE_KINDS`` names them all).
    routine: ClassVar[bool] = False

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


def money_line(amount: int | None, currency: str | None) -> str | None:
    """An amount as the notices show it (digits grouped), or None when there is none."""
    if amount is None or not currency:
        return None
    return Money.of(amount, currency).format(grouping=True)
