"""Reconciliation's notices: a day's breaks, a bank file it could not read, the hourly fan-out."""

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.notices import Action, Notice, Severity, Team, money_line


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
            amount = money_line(b.amount, b.currency)
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
