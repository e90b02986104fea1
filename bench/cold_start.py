"""Cold-start import cost of every Lambda handler module, next to ``import boto3`` alone.

A handler's import path is its cold start. Each handler is imported in a fresh interpreter
in alternating pairs with ``import boto3`` (A B A B …), and its figure is the median of the
pair ratios: both halves of a pair see the same moment of the machine, so the ratio holds on a
noisy machine (timing the baseline once, before all handlers, let the ratio drift with the
load). Handlers are found by reading ``functions/`` for a module-level ``handler``.

An import made lazy is paid on the request that needs it, so the import alone could flatter a
handler: the cold start as a whole is measured too, for the operator API (the worst handler
before its routes' modules loaded on use). A fresh interpreter imports it and answers its most
common request (GET of an order) from a moto server, paired with a fresh ``import boto3`` that
makes its DynamoDB client and reads one item from the same server: ``first_call_ratio``; and
for the lifecycle steps function (the worst import), its import and the screening every
execution starts with (tenant settings, order state, the rule engine, records read and
written) against the same baseline: ``lifecycle_first_call_ratio``. The table says, for each
handler, whether its import loads botocore: one that does not (its composition builds every
adapter on the first request) pays botocore on that request instead.

Lambda mounts the code and the layer read-only, so bytecode the build did not write is written
nowhere: each cold start compiles every module it reads from them. The build writes it when it
has the runtime's Python (``infra/packaging.runtime_python``), and the figures above assume it
did (the probes' caches are warm, as the runtime's own boto3 and standard library are). The
"without bytecode" column times each handler as a build without that Python ships it:
``source_only_worst_ratio``.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import os
import platform
import socket
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import (
    ROOT,
    import_probe,
    paired_import_ratio,
    paired_ratio,
    result_line,
    run_ms,
    use_interpreter,
)


def handler_modules() -> list[str]:
    found = []
    for path in sorted((ROOT / "functions").rglob("*.py")):
        tree = ast.parse(path.read_text())
        if any(
            isinstance(node, ast.FunctionDef | ast.Assign) and _defines_handler(node)
            for node in tree.body
        ):
            found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def _defines_handler(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef):
        return node.name == "handler"
    assert isinstance(node, ast.Assign)
    return any(isinstance(t, ast.Name) and t.id == "handler" for t in node.targets)


TABLE = "bench-cold-start"
TENANT = "bench"
ORDER = "o-cold-1"

_HANDLER_CALL = """
import time, importlib, json
t = time.perf_counter()
module = importlib.import_module({module!r})
class Context:
    function_name = {function!r}
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + {function!r}
    aws_request_id = "cold-start"
answer = module.handler(json.loads({event!r}), Context())
elapsed = (time.perf_counter() - t) * 1000
assert {check}, answer
print(elapsed)
"""


def operator_probe() -> str:
    """A fresh interpreter's operator API: import, then a GET of the seeded order (200)."""
    return _HANDLER_CALL.format(
        module="functions.api.handlers.operator",
        function="operator",
        event=json.dumps(_get_order_event()),
        check='answer["statusCode"] == 200',
    )


def lifecycle_probe() -> str:
    """A fresh interpreter's lifecycle steps function: import, then the screening step."""
    return _HANDLER_CALL.format(
        module="functions.orders.handlers.lifecycle",
        function="lifecycle-steps",
        event=json.dumps(_SCREEN_STEP),
        check='answer["decision"] in ("allow", "review", "block")',
    )


_BOTO3_CALL = """
import time
t = time.perf_counter()
import boto3
item = boto3.client("dynamodb").get_item(TableName={table!r}, Key={key!r})
elapsed = (time.perf_counter() - t) * 1000
print(elapsed)
"""


@contextmanager
def moto_server() -> Iterator[dict[str, str]]:
    """A moto server on loopback with the table and one paid order: the environment that
    points a fresh interpreter's clients at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": TABLE,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    saved = dict(os.environ)
    os.environ.update(env)  # this bench process seeds the table through the project's store
    try:
        _seed()
        yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()


def _seed() -> None:
    import boto3

    from functions.webhooks.use_cases.apply import route
    from shared import aws
    from shared.events import Customer, LineItem, OrderPlaced, PaymentSucceeded, Source
    from shared.money import Money
    from shared.order_store import OrderStore
    from shared.tenants import TenantDirectory, TenantSettings
    from tests.component.conftest import create_table

    aws.reset()
    create_table(boto3.client("dynamodb"), TABLE)
    TenantDirectory(TABLE).save(
        TenantSettings(
            id=TENANT, name="Bench", currency="EUR", customer_sender="shop@bench.example"
        )
    )
    placed = datetime(2026, 11, 23, 10, tzinfo=UTC)
    total = Money(amount=2500, currency="EUR")
    store = OrderStore(TABLE)
    for event in (
        OrderPlaced(
            tenant=TENANT,
            source=Source.SHOP,
            source_event_id=f"{ORDER}-placed",
            occurred_at=placed,
            order_id=ORDER,
            currency="EUR",
            total=total,
            lines=(
                LineItem(line_id="l1", name="Mug", quantity=1, unit_price=total, vendor_id="v1"),
            ),
            customer=Customer(email="bob@example.com", name="Bob"),
        ),
        PaymentSucceeded(
            tenant=TENANT,
            source=Source.STRIPE,
            source_event_id=f"{ORDER}-paid",
            occurred_at=placed,
            order_id=ORDER,
            payment_id=f"pi_{ORDER}",
            charge_id=f"ch_{ORDER}",
            amount=total,
        ),
    ):
        route(event, store)
    aws.reset()


def _get_order_event() -> dict[str, Any]:
    path = f"/ops/tenants/{TENANT}/orders/{ORDER}"
    route_key = "GET /ops/tenants/{tenant}/orders/{order_id}"
    claims = {"sub": "u-bench", "email": "bench@ecomops.example", "ecomops:tenants": TENANT}
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example.invalid"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.invalid",
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1"},
            "requestId": "cold-start",
            "routeKey": route_key,
            "stage": "$default",
            "timeEpoch": 0,
            "authorizer": {"jwt": {"claims": claims, "scopes": None}},
        },
        "pathParameters": {"tenant": TENANT, "order_id": ORDER},
        "isBase64Encoded": False,
    }


# The screening every execution starts with: it reads the tenant's settings and the order's
# state, loads the rule engine, screens the order, keeps the customer's history and the
# screening, and answers with an output contract (no e-mail, no payment gateway). The current
# definition's first step, ``screen_and_wait``, screens the same way and then parks the payment
# wait, but screens once per order: repeated here, it would screen on the first run only.
_SCREEN_STEP = {"action": "screen", "tenant": TENANT, "order_id": ORDER}


def first_calls() -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """Whole cold starts against ``import boto3`` making its client and one DynamoDB read (the
    median of the pair ratios, the median ms of each): the operator API's import and first GET
    of an order, and the lifecycle steps function's import and first step."""
    from shared import keys

    with moto_server() as env:
        # The order's item (found or not, one read costs the same).
        key = {
            keys.TABLE.partition_key: {"S": keys.order_pk(TENANT, ORDER)},
            keys.TABLE.sort_key: {"S": "ORDER"},
        }
        baseline = _BOTO3_CALL.format(table=TABLE, key=key)
        operator = paired_ratio(operator_probe(), baseline, env)
        lifecycle = paired_ratio(lifecycle_probe(), baseline, env)
        return operator, lifecycle


# What Lambda's Python runtime brings compiled: the standard library, and the boto3 it ships
# with its dependencies. The code asset and the layer carry bytecode only when they were built
# with the runtime's Python (``infra/packaging.runtime_python``); without it, every module read
# from them is compiled from source in each cold start, since Lambda's mounts are read-only.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")

# Before the clock starts, a probe is made to ignore the bytecode of every module but those:
# how a deployment built without the runtime's Python starts.
_SOURCE_ONLY = """
import os, sys, importlib._bootstrap_external as _external
_cached = _external.cache_from_source
_stdlib = os.path.dirname(os.__file__) + os.sep
_runtime = tuple(
    os.sep + "site-packages" + os.sep + name + tail
    for name in {packages!r}
    for tail in (os.sep, ".py")
)
def _source_only(path, debug_override=None, *, optimization=None):
    shipped_compiled = (
        path.startswith(_stdlib) and os.sep + "site-packages" + os.sep not in path
    ) or any(part in path for part in _runtime)
    if shipped_compiled:
        return _cached(path, debug_override, optimization=optimization)
    return os.path.join(os.sep, "nonexistent-bytecode", path.lstrip(os.sep) + "c")
sys.dont_write_bytecode = True
_external.cache_from_source = _source_only
"""


def source_only_probe(module: str) -> str:
    """``module``'s import, timed as a deployment without the runtime's bytecode starts."""
    return (
        _SOURCE_ONLY.format(packages=RUNTIME_PACKAGES)
        + "import time, importlib\n"
        + "t = time.perf_counter()\n"
        + f"importlib.import_module({module!r})\n"
        + "print((time.perf_counter() - t) * 1000)\n"
    )


_LOADS_BOTOCORE = (
    "import importlib, sys; importlib.import_module({module!r}); "
    "print(int('botocore.session' in sys.modules))"
)


def loads_botocore(module: str) -> bool:
    """Whether importing ``module`` loads botocore: a handler that loads it on its first
    request instead pays it there, so its import figure leaves it out."""
    return bool(run_ms(_LOADS_BOTOCORE.format(module=module)))


def _assets_built_here() -> str:
    from infra.packaging import LAMBDA_PYTHON, runtime_python

    python = runtime_python()
    if python is None:
        return f"without bytecode (no Python {LAMBDA_PYTHON} here)"
    return f"with Python {LAMBDA_PYTHON}'s bytecode ({python})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python",
        help="run the probes in this interpreter (one with the functions' packages: "
        "bench/runtime_python.py makes it), e.g. the Lambda runtime's Python version",
    )
    args = parser.parse_args()
    python = use_interpreter(args.python) if args.python else platform.python_version()
    print(f"probes run in Python {python}")
    rows = [(module, *paired_import_ratio(module, "boto3")) for module in handler_modules()]
    source_only = {
        module: paired_ratio(source_only_probe(module), import_probe("boto3"))
        for module, *_ in rows
    }
    width = max(len(m) for m, *_ in rows)
    print(
        f"{'module':{width}}  import_ms  boto3_ms  ratio (median of pairs)  "
        "without bytecode: ms  ratio  botocore at import"
    )
    for module, ratio, ms, base in rows:
        at_import = "yes" if loads_botocore(module) else "no (first request)"
        bare_ratio, bare_ms, _ = source_only[module]
        print(
            f"{module:{width}}  {ms:9.1f}  {base:8.1f}  {ratio:5.2f}                    "
            f"{bare_ms:19.1f}  {bare_ratio:5.2f}  {at_import}"
        )
    bare_module, (bare_worst, _, _) = max(source_only.items(), key=lambda item: item[1][0])
    print(
        "without bytecode: the code and layer as a build without the runtime's Python ships "
        "them (every module compiled in each cold start; the runtime's boto3 and standard "
        f"library compiled). This machine builds them {_assets_built_here()}."
    )
    worst_module, worst, _, _ = max(rows, key=lambda row: row[1])
    ingress = next(ratio for module, ratio, _, _ in rows if module.endswith(".ingress"))
    (call_ratio, call_ms, boto3_call_ms), (step_ratio, step_ms, boto3_step_ms) = first_calls()
    print(
        f"operator API import + first GET of an order: {call_ms:.1f} ms; "
        f"import boto3 + one get_item: {boto3_call_ms:.1f} ms; ratio {call_ratio:.2f}"
    )
    print(
        f"lifecycle steps import + first step (screen): {step_ms:.1f} ms; "
        f"import boto3 + one get_item: {boto3_step_ms:.1f} ms; ratio {step_ratio:.2f}"
    )
    print(
        result_line(
            worst_ratio=worst,
            worst_module=worst_module,
            ingress_ratio=ingress,
            first_call_ratio=call_ratio,
            lifecycle_first_call_ratio=step_ratio,
            boto3_import_ms=statistics.median(base for *_, base in rows),
            handlers=len(rows),
            python=python,
            source_only_worst_ratio=bare_worst,
            source_only_worst_module=bare_module,
        )
    )


if __name__ == "__main__":
    main()
