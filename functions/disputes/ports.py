"""What the chargeback desk's use cases need from outside, as protocols; ``composition`` wires
the adapters in, tests wire fakes (``tests/disputes_fakes.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from functions.disputes.domain.case import DisputeCase
    from shared.order_aggregate import OrderState


class CaseStore(Protocol):
    def get(self, tenant: str, dispute_id: str) -> DisputeCase | None:
        """The case as stored (its ``version`` the one a save must find), or None."""
        ...

    def save(self, case: DisputeCase, expected_version: int) -> bool:
        """Store ``case`` (whose version is ``expected_version + 1``) with one conditional write:
        False when the stored version is not ``expected_version`` (0: no case yet)."""
        ...

    def cases(self, tenant: str, status: str) -> Iterable[DisputeCase]:
        """The tenant's ``open`` or ``closed`` cases, by evidence deadline."""
        ...

    def having_case(self, tenant: str, dispute_ids: Iterable[str]) -> set[str]:
        """Which of these disputes have a case."""
        ...


class OrderReader(Protocol):
    def load(self, tenant: str, order_id: str) -> OrderState | None:
        """The order's aggregate, or None when no event has made it."""
        ...


@dataclass
class Ports:
    cases: CaseStore
    orders: OrderReader
    clock: Clock = SYSTEM_CLOCK
