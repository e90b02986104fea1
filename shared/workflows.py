"""The Step Functions adapter: start a workflow once per identity, resume a waiting task or
tell it it is still alive.

An execution's name is its identity: Step Functions refuses a second execution of one name,
which makes "start once" free. Names allow 80 characters of ``[A-Za-z0-9_-]``, and tenants and
order ids are longer and freer than that, so a name is a readable prefix plus a hash of the
whole identity: two different orders (``X.1``, ``X_1``, ``X/1``) or refunds never share one.
A start that finds the name taken checks that the execution there is the same identity.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from shared import aws

NAME_LIMIT = 80
# 128 bits of SHA-256 over the whole identity, in hex: collisions are out of reach.
_HASH_CHARS = 32
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class ExecutionIdentityClash(RuntimeError):
    """An execution of this name exists for another identity (never expected: a hash clash or
    a hand-made execution). Refused loudly rather than taken for this one."""


def identity_of(*parts: str) -> str:
    """The identity a name is made from: the parts, unambiguous whatever they contain."""
    return json.dumps(list(parts), ensure_ascii=False, separators=(",", ":"))


def execution_name(*parts: str) -> str:
    """``acme--o-1--<hash>`` for ``("acme", "o-1")``: readable prefix, injective by the hash."""
    if not parts or not all(parts):
        raise ValueError("an execution is named from non-empty parts")
    digest = hashlib.sha256(identity_of(*parts).encode()).hexdigest()[:_HASH_CHARS]
    readable = _UNSAFE.sub("_", "--".join(parts))
    room = NAME_LIMIT - _HASH_CHARS - 1
    return f"{readable[:room]}-{digest}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:") + ":" + name


def start_once(
    state_machine_arn: str,
    name: str,
    document: dict[str, Any],
    identity: Sequence[str] | None = None,
) -> bool:
    """Start the execution unless one of this name exists; False if it did.

    Step Functions answers a repeated start with the very same input while the first is still
    running as a success (its own idempotency), so True means "started, or already running
    with this input": callers that must tell the first request from its repeats claim it in
    the table first (refund requests do). ``identity`` (the parts the name was made from) is
    written into the input as ``_identity``; when the name is taken, the existing execution's
    must be the same."""
    client = aws.client("stepfunctions")
    if identity is not None:
        document = {**document, "_identity": list(identity)}
    try:
        client.start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(document, default=str)
        )
    except client.exceptions.ExecutionAlreadyExists:
        if identity is not None:
            _check_same(client, execution_arn(state_machine_arn, name), list(identity))
        return False
    return True


def _check_same(client: Any, arn: str, identity: list[str]) -> None:
    existing = json.loads(client.describe_execution(executionArn=arn).get("input") or "{}")
    if existing.get("_identity") != identity:
        raise ExecutionIdentityClash(
            f"execution {arn.rsplit(':', 1)[-1]} belongs to {existing.get('_identity')!r}, "
            f"not {identity!r}"
        )


def resume(token: str, output: dict[str, Any]) -> bool:
    """Complete a waiting task; False if the task is gone (timed out, already resumed)."""
    return _to_task(
        lambda client: client.send_task_success(taskToken=token, output=json.dumps(output))
    )


def fail(token: str, error: str, cause: str) -> bool:
    """Fail a waiting task with ``error`` (its state's Catch takes it from there); False if the
    task is gone (timed out, already answered)."""
    return _to_task(
        lambda client: client.send_task_failure(taskToken=token, error=error, cause=cause)
    )


def heartbeat(token: str) -> bool:
    """Send a waiting task's heartbeat; False if the task is gone (its heartbeat limit passed,
    it was resumed, its execution ended): the wait it kept alive is over, which the caller
    expects now and then."""
    return _to_task(lambda client: client.send_task_heartbeat(taskToken=token))


def _to_task(send: Callable[[Any], object]) -> bool:
    """Send something to a waiting task by its token; False if the task is gone."""
    client = aws.client("stepfunctions")
    try:
        send(client)
    except (
        client.exceptions.TaskTimedOut,
        client.exceptions.InvalidToken,
        client.exceptions.TaskDoesNotExist,
    ):
        return False
    return True
