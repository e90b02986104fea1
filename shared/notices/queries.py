"""The query desk's notice: an open query case is due."""

from typing import ClassVar, Literal

from shared.notices import Action, Notice, Team


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
