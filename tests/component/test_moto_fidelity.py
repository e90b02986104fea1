"""The local runtime's corrections of moto (local/moto_fidelity.py), each shown against moto."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.moto_fidelity import (
    tokens_ignore_starting_executions,
    transactions_copy_what_they_write,
    waits_hear_their_stop,
)
from tests.component.conftest import create_table

ROLE = "arn:aws:iam::123456789012:role/steps"


@pytest.fixture
def held_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Executions that stay "starting" (no environment yet) until the event is set, as a
    worker thread still parsing a long definition does on a loaded machine."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    release = threading.Event()
    parse = ExecutionWorker._get_evaluation_entrypoint

    def slow_parse(self: Any) -> Any:
        release.wait(10)
        return parse(self)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", slow_parse)
    yield release
    release.set()


def test_a_token_is_answered_while_another_execution_is_still_starting(
    held_start: threading.Event,
) -> None:
    tokens_ignore_starting_executions()
    with mock_aws(
        config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    ):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="starting",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=ROLE,
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        # An unknown token is refused as AWS refuses it, not with moto's internal error.
        with pytest.raises(sfn.exceptions.InvalidToken):
            sfn.send_task_success(taskToken="not-a-token", output="{}")
        held_start.set()


@contextmanager
def _a_napping_execution() -> Iterator[tuple[Any, str]]:
    """Step Functions on moto (executions run) and an execution of a 30-second Wait."""
    with mock_aws(
        config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    ):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="napping",
            definition=json.dumps(
                {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 30, "End": True}}}
            ),
            roleArn=ROLE,
        )["stateMachineArn"]
        yield sfn, sfn.start_execution(stateMachineArn=machine)["executionArn"]


def _aborted_within(sfn: Any, execution: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the stopped execution kept running"
        time.sleep(0.05)
    assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"


def test_an_execution_stopped_while_it_starts_is_aborted(held_start: threading.Event) -> None:
    tokens_ignore_starting_executions()
    waits_hear_their_stop()
    with _a_napping_execution() as (sfn, execution):
        threading.Timer(0.3, held_start.set).start()
        sfn.stop_execution(executionArn=execution)
        # The stop is taken at once; the execution's thread then winds down.
        _aborted_within(sfn, execution, 10)


def test_a_wait_stopped_before_it_began_to_wait_ends_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stop lands while the Wait state works out how long to wait: moto's wake-up pulse
    comes before anyone waits for it, and its Wait slept all 30 s (a full clock pass once
    failed on it under load). The execution ends ABORTED at once instead."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.seconds import Seconds

    waits_hear_their_stop()
    computing, stopped = threading.Event(), threading.Event()
    seconds = Seconds._get_wait_seconds

    def slow_to_compute(self: Any, env: Any) -> int:
        computing.set()
        stopped.wait(10)
        return int(seconds(self, env))

    monkeypatch.setattr(Seconds, "_get_wait_seconds", slow_to_compute)
    with _a_napping_execution() as (sfn, execution):
        assert computing.wait(10)
        sfn.stop_execution(executionArn=execution)
        stopped.set()
        _aborted_within(sfn, execution, 5)


def _streamed_table() -> Any:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb, "txn")  # the stack's table, its stream included
    return ddb


def _stream_records() -> list[str]:
    # moto's decorator routes the streams endpoint to DynamoDB itself: read its shard.
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends["123456789012"]["us-east-1"].tables["txn"].stream_shard
    assert shard is not None
    return [record.record["eventName"] for record in shard.items]


def _key(sk: str) -> dict[str, Any]:
    return {"PK": {"S": "money"}, "SK": {"S": sk}}


def test_a_failed_transaction_leaves_its_items_and_stream_as_they_were_without_copying_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.dynamodb.models.table import Table

    transactions_copy_what_they_write()

    def refuse(self: Any, memo: Any) -> Any:
        raise AssertionError("a transaction copied the whole table")

    monkeypatch.setattr(Table, "__deepcopy__", refuse, raising=False)
    with mock_aws():
        ddb = _streamed_table()
        ddb.put_item(TableName="txn", Item={**_key("held"), "amount": {"N": "5000"}})
        ddb.put_item(TableName="txn", Item={**_key("gone"), "note": {"S": "stays"}})
        ddb.put_item(TableName="txn", Item=_key("guard"))
        # Every write applies before the last condition fails: moto writes as it goes.
        with pytest.raises(ddb.exceptions.TransactionCanceledException):
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "txn", "Item": {**_key("new"), "n": {"N": "1"}}}},
                    {
                        "Update": {
                            "TableName": "txn",
                            "Key": _key("held"),
                            "UpdateExpression": "SET amount = :a",
                            "ExpressionAttributeValues": {":a": {"N": "2000"}},
                        }
                    },
                    {"Delete": {"TableName": "txn", "Key": _key("gone")}},
                    {
                        "ConditionCheck": {
                            "TableName": "txn",
                            "Key": _key("guard"),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        assert "Item" not in ddb.get_item(TableName="txn", Key=_key("new"))
        assert ddb.get_item(TableName="txn", Key=_key("held"))["Item"]["amount"] == {"N": "5000"}
        assert ddb.get_item(TableName="txn", Key=_key("gone"))["Item"]["note"] == {"S": "stays"}
        assert _stream_records() == ["INSERT", "INSERT", "INSERT"]

        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "txn", "Item": {**_key("new"), "n": {"N": "1"}}}},
                {"Delete": {"TableName": "txn", "Key": _key("gone")}},
            ]
        )
        assert ddb.get_item(TableName="txn", Key=_key("new"))["Item"]["n"] == {"N": "1"}
        assert "Item" not in ddb.get_item(TableName="txn", Key=_key("gone"))
        assert _stream_records() == ["INSERT", "INSERT", "INSERT", "INSERT", "REMOVE"]
