from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from functions.api.handlers.selfcheck import SelfCheckInput, proof_for, record_selfcheck


class FakeProofs:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put(self, item: dict[str, Any]) -> None:
        self.items.append(item)


def test_proof_depends_on_the_run_and_the_salt() -> None:
    assert proof_for("a") != proof_for("b")
    assert len(proof_for("a")) == 64


def test_record_writes_one_proof_item() -> None:
    table = FakeProofs()
    item = record_selfcheck("run-1", table, "fn")
    assert table.items == [item]
    assert item["PK"] == "SYSTEM#selfcheck#run-1" and item["proof"] == proof_for("run-1")


@pytest.mark.parametrize("bad", ["", "has space", "x" * 200, "semi;colon"])
def test_bad_run_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        SelfCheckInput.model_validate({"run_id": bad})
