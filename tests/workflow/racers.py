"""Races between separate processes on the local stack (``test_money_safety_local``,
``test_returns_local``).

Each racer is its own Python process, started with ``python -m tests.workflow.racers JOB``
(``JOB`` is JSON: the act, its arguments and the environment the functions read). It imports
and builds its ports, says ``ready`` on stdout, waits for a line on stdin, then acts and prints
its outcome as one JSON line. The test releases them together by writing to every racer once
all are ready.

Plain processes and pipes, not ``multiprocessing``: its barrier and queue are semaphores that
its resource-tracker process watches, and when that tracker died under a pytest worker the next
race failed with a ``BrokenPipeError`` before any racer had acted.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
READY = "ready"


def _prepare(job: dict[str, Any]) -> Callable[[], Any]:
    from functions.orders import contracts as c
    from functions.orders.composition import ports_with
    from functions.orders.domain import NotRefundable
    from functions.orders.use_cases.refunds import prepare

    ports = ports_with(table_name=job["env"]["TABLE_NAME"])
    step = c.PrepareInput(
        tenant=job["tenant"],
        order_id="o-1",
        refund_id=job["refund_id"],
        action=c.RefundAction.PREPARE,
        amount=job["amount"],
    )

    def act() -> Any:
        try:
            prepared = prepare(ports, step)
        except NotRefundable as refused:
            return [job["refund_id"], "refused", str(refused)]
        return [job["refund_id"], "reserved", prepared.amount]

    return act


def _request(job: dict[str, Any]) -> Callable[[], Any]:
    from functions.orders.composition import ports_with
    from functions.orders.use_cases.operations import request_refund

    ports = ports_with(table_name=job["env"]["TABLE_NAME"], refund_machine=job["machine"])

    def act() -> Any:
        answer = request_refund(ports, job["tenant"], "o-1", amount=1000, refund_id="same")
        return answer["started"]

    return act


def _open_return(job: dict[str, Any]) -> Callable[[], Any]:
    from datetime import datetime

    from functions.orders.composition import ports_with
    from functions.orders.errors import ReturnRefused
    from functions.orders.use_cases import returns
    from tests.clocks import FixedClock

    ports = ports_with(
        clock=FixedClock(datetime.fromisoformat(job["now"])), table_name=job["env"]["TABLE_NAME"]
    )

    def act() -> Any:
        try:
            opened = returns.open_return(ports, job["tenant"], "o-1", [{"line_id": "l1"}], "race")
        except ReturnRefused as refused:
            return ["refused", refused.line]
        return ["opened", opened["lines"]]

    return act


ACTS: dict[str, Callable[[dict[str, Any]], Callable[[], Any]]] = {
    "prepare": _prepare,
    "request": _request,
    "return": _open_return,
}


def main(argv: list[str]) -> None:
    # stdout carries the race's two lines only: whatever the functions print or log goes to
    # stderr, which the test shows if a racer fails.
    said, sys.stdout = sys.stdout, sys.stderr
    job = json.loads(argv[1])
    os.environ.update(job["env"])
    act = ACTS[job["act"]](job)
    print(READY, file=said, flush=True)
    sys.stdin.readline()
    print(json.dumps(act()), file=said, flush=True)


def race(jobs: list[dict[str, Any]], ready_within_s: float = 120.0) -> list[Any]:
    """Start a racer per job, release them together once all are ready; their outcomes, in
    the order of ``jobs``. A racer that dies or is not ready in time fails the race, with
    what it wrote on stderr."""
    # What a racer logs goes to a file, not a pipe: a pipe nobody reads until the end would
    # stop a racer that logs more than it holds, before it is ready.
    with contextlib.ExitStack() as files:
        logs = [files.enter_context(tempfile.TemporaryFile()) for _ in jobs]
        racers = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.workflow.racers", json.dumps(job)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
            for job, log in zip(jobs, logs, strict=True)
        ]
        try:
            _all_ready(racers, logs, time.monotonic() + ready_within_s)
            for racer in racers:
                assert racer.stdin is not None
                racer.stdin.write("go\n")
                racer.stdin.flush()
            outcomes = []
            for racer, log in zip(racers, logs, strict=True):
                out, _ = racer.communicate(timeout=120)
                if racer.returncode != 0:
                    raise AssertionError(f"a racer failed ({racer.returncode}):\n{_logged(log)}")
                outcomes.append(json.loads(out))
            return outcomes
        finally:
            for racer in racers:
                if racer.poll() is None:
                    racer.kill()
                    racer.communicate()


def _logged(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode("utf-8", "replace")


def _all_ready(
    racers: list[subprocess.Popen[str]], logs: Sequence[IO[bytes]], deadline: float
) -> None:
    waiting = selectors.DefaultSelector()
    for racer, log in zip(racers, logs, strict=True):
        assert racer.stdout is not None
        waiting.register(racer.stdout, selectors.EVENT_READ, (racer, log))
    try:
        while waiting.get_map():
            left = deadline - time.monotonic()
            events = waiting.select(timeout=max(0.0, left))
            if not events:
                raise AssertionError("racers not ready in time")
            for key, _ in events:
                racer, log = key.data
                line = key.fileobj.readline()  # type: ignore[union-attr]
                if line.strip() != READY:
                    racer.kill()
                    racer.communicate()
                    raise AssertionError(f"a racer died before the race:\n{line}{_logged(log)}")
                waiting.unregister(key.fileobj)
    finally:
        waiting.close()


if __name__ == "__main__":
    main(sys.argv)
