"""The table stream consumer's partial batch responses (functions/webhooks/handlers/processor.py):
every record is tried, the failed ones are reported by sequence number so Lambda retries from
the first of them, and a batch that failed whole fails the invocation."""

from typing import Any

import pytest

from functions.webhooks.handlers import processor


class _Context:
    function_name = "processor"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:processor"
    aws_request_id = "test"


def _batch(*sequences: str) -> dict[str, Any]:
    return {
        "Records": [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": s}} for s in sequences]
    }


@pytest.fixture
def tried(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def record(record: dict[str, Any]) -> None:
        sequence = record["dynamodb"]["SequenceNumber"]
        seen.append(sequence)
        if sequence.startswith("bad"):
            raise RuntimeError(f"cannot apply {sequence}")

    monkeypatch.setattr(processor, "_record", record)
    return seen


def test_the_failed_records_are_reported_and_the_others_applied(tried: list[str]) -> None:
    answer = processor.handler(_batch("1", "bad-2", "3", "bad-4"), _Context())

    assert tried == ["1", "bad-2", "3", "bad-4"]
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": "bad-2"}, {"itemIdentifier": "bad-4"}]
    }


def test_a_batch_applied_whole_reports_no_failure(tried: list[str]) -> None:
    assert processor.handler(_batch("1", "2"), _Context()) == {"batchItemFailures": []}
    assert tried == ["1", "2"]


def test_a_batch_that_failed_whole_fails_the_invocation(tried: list[str]) -> None:
    with pytest.raises(processor.BatchFailed, match="all 2 records failed"):
        processor.handler(_batch("bad-1", "bad-2"), _Context())
    assert tried == ["bad-1", "bad-2"]
