"""What a screening decided, in the shape the order lifecycle stores on the order
(``SCREENING``): decision, score, reasons for the client team, every attribute it looked at and
the ruleset version. Built by ``rules.Decision.to_screening``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Screening(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Literal["allow", "review", "block"]
    score: int
    reasons: tuple[str, ...]
    signals: dict[str, str | int | bool | None]
    ruleset_version: str
