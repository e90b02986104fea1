"""``make demo``: the local stack driven through what the product does, printed as it happens."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

Echo = Callable[[str], None]


def wait_for_execution(sfn: Any, execution_arn: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


def run_demo(outdir: Path, *, port: int, echo: Echo, start: Callable[..., Any]) -> bool:
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    echo("synthesizing the CDK app and deploying it into moto…")
    stack = start(port, synth=True, verbose=False)
    ok = True
    try:
        echo(
            f"local stack ready at {stack.base_url} in {time.monotonic() - t0:.1f}s "
            f"({len(stack.deployment.physical)} resources deployed)"
        )
        ok &= _health_round_trip(stack, outdir, echo)
        ok &= _selfcheck(stack, outdir, echo)
    finally:
        stack.stop()
    return ok


def _health_round_trip(stack: Any, outdir: Path, echo: Echo) -> bool:
    t = time.monotonic()
    with urllib.request.urlopen(f"{stack.base_url}/health", timeout=30) as answer:  # noqa: S310
        status, body = answer.status, json.loads(answer.read())
    took = (time.monotonic() - t) * 1000
    (outdir / "health.json").write_text(json.dumps(body, indent=2))
    echo(
        f"GET /health → {status} {body['status']} from {body['function']} "
        f"(code {body['version']}) in {took:.0f} ms"
    )
    return bool(status == 200 and body["status"] == "ok")


def _selfcheck(stack: Any, outdir: Path, echo: Echo) -> bool:
    from functions.api.selfcheck import proof_for

    sfn = stack.client("stepfunctions")
    (machine,) = [
        arn
        for lid, arn in stack.deployment.of_type("AWS::StepFunctions::StateMachine").items()
        if "SelfCheck" in lid
    ]
    run_id = f"demo-{uuid.uuid4().hex[:8]}"
    execution = sfn.start_execution(
        stateMachineArn=machine, name=run_id, input=json.dumps({"run_id": run_id})
    )
    described = wait_for_execution(sfn, execution["executionArn"])
    table = stack.deployment.outputs["TableName"]
    item = (
        stack.client("dynamodb")
        .get_item(
            TableName=table,
            Key={"PK": {"S": f"SYSTEM#selfcheck#{run_id}"}, "SK": {"S": "PROOF"}},
        )
        .get("Item")
    )
    proven = bool(item) and item["proof"]["S"] == proof_for(run_id)
    (outdir / "selfcheck.json").write_text(
        json.dumps(
            {
                "execution": described["executionArn"],
                "status": described["status"],
                "output": json.loads(described.get("output") or "null"),
                "item": item,
            },
            indent=2,
            default=str,
        )
    )
    echo(
        f"self-check workflow {run_id} → {described['status']}; proof item in {table}: "
        f"{'written by the real handler' if proven else 'MISSING'}"
    )
    return described["status"] == "SUCCEEDED" and proven
