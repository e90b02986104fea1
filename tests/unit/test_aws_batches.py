"""``shared.aws.batch_write``: 25 requests a call, what DynamoDB hands back unprocessed sent
again, and with a bound on the sends, what is left returned."""

from __future__ import annotations

from typing import Any

import pytest

from shared import aws


class _Throttling:
    """A client that leaves the last request of every call unprocessed ``times`` times."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls: list[int] = []

    def batch_write_item(self, RequestItems: dict[str, list[Any]]) -> dict[str, Any]:
        (requests,) = RequestItems.values()
        self.calls.append(len(requests))
        if self.times:
            self.times -= 1
            return {"UnprocessedItems": {"t": requests[-1:]}}
        return {"UnprocessedItems": {}}


def _requests(n: int) -> list[dict[str, Any]]:
    return [{"DeleteRequest": {"Key": {"PK": {"S": str(i)}}}} for i in range(n)]


def test_sends_25_at_a_time_and_again_what_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = _Throttling(times=2)
    monkeypatch.setattr(aws, "client", lambda service: ddb)
    assert aws.batch_write("t", _requests(30)) == []
    assert ddb.calls == [25, 1, 1, 5]


def test_with_a_bound_what_is_left_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = _Throttling(times=10)
    monkeypatch.setattr(aws, "client", lambda service: ddb)
    left = aws.batch_write("t", _requests(3), attempts=2)
    assert left == _requests(3)[-1:]
    assert ddb.calls == [3, 1]
