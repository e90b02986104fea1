"""Counting what the local stack does, as AWS would bill it.

- DynamoDB writes are sized on moto's side of the wire: the item before and after each write
  (held under the same lock that makes moto's writes atomic) gives the table's and every
  index's write units (``sizes.write_cost``).
- Every request our code makes (any service) and what DynamoDB reads return are seen on the
  client side, through hooks on the clients ``shared.aws`` hands out.
- Lambda invocations and their durations come from the local runtime's dispatcher; API
  requests from its HTTP front door; log bytes from what the functions print.
- The time an invocation spends inside calls out is timed where the call is made and charged to
  the invocation the thread is running (``lambda_shim.running_invocation``): AWS requests through
  the same client hooks, and the local stand-ins for what is not AWS — the Stripe library's HTTP
  client (the Stripe sandbox), the carrier client (the carrier sandbox), the .eml mailer (SES).
  ``lambda_time`` turns that into Lambda's billed duration.

The harness's own calls (deploying, reading results) go through other clients, and what it
writes is left out by reading the meter (``snapshot``) before and after the day.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from local.costs.lambda_time import InvocationTime
from local.costs.sizes import Index, item_size, read_units, write_cost
from local.lambda_shim import Dispatcher, Invocation, running_invocation

_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")


@dataclass
class Counts:
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (function, "table" or the index name): the function is the one the local runtime was
    # running when the write arrived (it runs one at a time), "" for writes from outside one.
    write_units: Counter[tuple[str, str]] = field(default_factory=Counter)
    # The same units by what was written: the item's sort key up to its first "#" (ORDER, TL,
    # WAIT, RAW …) and where ("table" or the index), which records the bill goes to.
    write_units_by_item: Counter[tuple[str, str]] = field(default_factory=Counter)
    read_units: float = 0.0
    invocations: Counter[str] = field(default_factory=Counter)
    # Each invocation as run, from which ``lambda_time`` works out Lambda's duration both ways
    # (as timed in-process, and as modelled: what is billed).
    invocation_times: list[InvocationTime] = field(default_factory=list)
    api_requests: int = 0
    log_bytes: int = 0
    # Custom metrics (CloudWatch bills each name and set of dimension values a month): from the
    # embedded-metric-format lines the functions print.
    metrics: set[tuple[str, str, tuple[tuple[str, str], ...]]] = field(default_factory=set)

    def minus(self, earlier: Counts) -> Counts:
        return Counts(
            requests=self.requests - earlier.requests,
            write_units=self.write_units - earlier.write_units,
            write_units_by_item=self.write_units_by_item - earlier.write_units_by_item,
            read_units=self.read_units - earlier.read_units,
            invocations=self.invocations - earlier.invocations,
            # Appended to, never changed: what came after the earlier reading.
            invocation_times=self.invocation_times[len(earlier.invocation_times) :],
            api_requests=self.api_requests - earlier.api_requests,
            log_bytes=self.log_bytes - earlier.log_bytes,
            metrics=self.metrics - earlier.metrics,
        )


class _CountingStream(io.TextIOBase):
    """Stands in for stdout while metering: counts the bytes, passes the text on."""

    def __init__(self, inner: Any, count: Callable[[str], None], pass_on: bool) -> None:
        self.inner = inner
        self.count = count
        self.pass_on = pass_on

    def write(self, text: str) -> int:
        self.count(text)
        return int(self.inner.write(text)) if self.pass_on else len(text)

    def flush(self) -> None:
        self.inner.flush()


class Meter:
    def __init__(self) -> None:
        self.counts = Counts()
        self._lock = threading.Lock()
        self._undo: list[Callable[[], None]] = []
        self._clock = _CallClock()

    def snapshot(self) -> Counts:
        with self._lock:
            return Counts(
                requests=Counter(self.counts.requests),
                write_units=Counter(self.counts.write_units),
                write_units_by_item=Counter(self.counts.write_units_by_item),
                read_units=self.counts.read_units,
                invocations=Counter(self.counts.invocations),
                invocation_times=list(self.counts.invocation_times),
                api_requests=self.counts.api_requests,
                log_bytes=self.counts.log_bytes,
                metrics=set(self.counts.metrics),
            )

    # --- DynamoDB writes, on moto's side --------------------------------------------------

    def meter_dynamodb_writes(self) -> None:
        from moto.dynamodb.responses import DynamoHandler

        from local.moto_fidelity import _lock as write_lock

        meter = self

        for name in _WRITES:
            original = getattr(DynamoHandler, name)

            @functools.wraps(original)
            def metered(handler: Any, _original: Any = original, _name: str = name) -> Any:
                with write_lock:
                    writes = list(_writes_of(_name, handler.body))
                    tables = {w[0] for w in writes}
                    schema = {t: _schema(handler.dynamodb_backend, t) for t in tables}
                    before = [
                        _current(handler.dynamodb_backend, t, k, schema[t]) for t, k, _ in writes
                    ]
                    try:
                        return _original(handler)
                    finally:
                        for (table, key, transactional), old in zip(writes, before, strict=True):
                            new = _current(handler.dynamodb_backend, table, key, schema[table])
                            cost = write_cost(old, new, schema[table][1], transactional)
                            function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
                            with meter._lock:
                                meter.counts.write_units[(function, "table")] += cost.table
                                for index, units in cost.indexes.items():
                                    meter.counts.write_units[(function, index)] += units
                                kind = _item_kind(key)
                                meter.counts.write_units_by_item[(kind, "table")] += cost.table
                                for index, units in cost.indexes.items():
                                    meter.counts.write_units_by_item[(kind, index)] += units

            setattr(DynamoHandler, name, metered)
            self._undo.append(functools.partial(setattr, DynamoHandler, name, original))

    # --- our code's requests, on the client side -----------------------------------------

    def meter_clients(self) -> None:
        from shared import aws

        original, original_table = aws.client, aws.dynamodb_table
        meter = self

        @functools.cache
        def metered(service: str) -> Any:
            client = original(service)
            meter._hook(client)
            return client

        @functools.cache
        def metered_table(name: str) -> Any:
            table = original_table(name)
            meter._hook(table.meta.client)
            return table

        aws.client = metered
        aws.dynamodb_table = metered_table
        self._undo.append(functools.partial(setattr, aws, "client", original))
        self._undo.append(functools.partial(setattr, aws, "dynamodb_table", original_table))

    def _hook(self, client: Any) -> None:
        # The time inside a call: from its first attempt's send to its last attempt's answer
        # (retries' waits included), leaving out the client's own work (building, signing and
        # parsing requests), which Lambda runs on the function's share of CPU.
        hooks = [
            ("after-call", self._after_call),
            ("before-call", self._clock.opened),
            ("before-send", self._clock.sent),
            ("before-parse", self._clock.answered),
            ("response-received", self._clock.answered),
            ("after-call", self._clock.closed),
            ("after-call-error", self._clock.closed),
        ]
        events = client.meta.events
        for event, handler in hooks:
            if event == "before-send":
                # Ahead of moto's in-process mock (a before-send handler that answers the
                # request itself), or its work would fall before the clock starts.
                events.register_first(event, handler)
            else:
                events.register(event, handler)
            # Clients outlive the meter (``shared.aws`` caches them): a later meter must not
            # find this one's hooks still counting.
            self._undo.append(functools.partial(events.unregister, event, handler))

    def _after_call(self, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        operation = model.name
        units = _read_units(operation, parsed, model) if service == "dynamodb" else 0.0
        with self._lock:
            self.counts.requests[(service, operation)] += 1
            self.counts.read_units += units

    # --- calls out that are not AWS's, and the local mailer --------------------------------

    def meter_calls_out(self) -> None:
        """Time what a function waits for outside AWS (Stripe, the carrier) and the .eml files
        the local stack writes where SES would be called, each as one call of its service."""
        from stripe._http_client import HTTPClient

        from functions.orders.adapters.return_labels import EasyPostReturnLabels
        from shared.notify.mailers import FileMailer

        # One Stripe API call, its retries included (the library's own loop; pinned version).
        self._time_method(
            HTTPClient,
            "_request_with_retries_internal",
            "stripe",
            lambda method, *_: method.upper(),
        )
        self._time_method(
            EasyPostReturnLabels, "_call", "carrier", lambda _, method, *__: method.upper()
        )
        self._time_method(FileMailer, "send", "sesv2", lambda *_: "SendEmail")

    def _time_method(
        self, owner: type, name: str, service: str, operation: Callable[..., str]
    ) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(instance: Any, *args: Any, **kwargs: Any) -> Any:
            with charged(service, operation(*args)):
                return original(instance, *args, **kwargs)

        setattr(owner, name, timed)
        self._undo.append(functools.partial(setattr, owner, name, original))

    # --- the local runtime ---------------------------------------------------------------

    def meter_runtime(self, stack: Any) -> None:
        from local.http_api import HttpFrontDoor

        meter = self
        self.meter_dispatcher(stack.dispatcher)

        original = HttpFrontDoor._call

        @functools.wraps(original)
        def call(door: Any, route: Any, event: Any) -> Any:
            with meter._lock:
                meter.counts.api_requests += 1
            return original(door, route, event)

        HttpFrontDoor._call = call  # type: ignore[method-assign,assignment]
        self._undo.append(functools.partial(setattr, HttpFrontDoor, "_call", original))

    def meter_dispatcher(self, dispatcher: Dispatcher) -> None:
        def invoked(invocation: Invocation) -> None:
            timed = InvocationTime(
                function=invocation.function,
                memory_mb=invocation.memory_mb,
                wall_ms=invocation.duration_ms,
                call_ms=invocation.call_ms,
                calls=dict(invocation.calls),
                cpu_ms=invocation.cpu_ms,
            )
            with self._lock:
                self.counts.invocations[invocation.function] += 1
                self.counts.invocation_times.append(timed)

        dispatcher.listeners.append(invoked)
        self._undo.append(lambda: dispatcher.listeners.remove(invoked))

    @contextmanager
    def counting_logs(self, pass_on: bool = True) -> Iterator[None]:
        """Count what is printed meanwhile (the functions' log lines and metrics), passing it
        on unless told not to. Loggers made before (Powertools keeps the stream it was given)
        are pointed at the counter too."""

        def count(text: str) -> None:
            found = _emf_metrics(text) if '"_aws"' in text else set()
            with self._lock:
                self.counts.log_bytes += len(text.encode())
                self.counts.metrics |= found

        saved = sys.stdout
        counter = _CountingStream(saved, count, pass_on)
        swapped = []
        for handler in _stream_handlers():
            if handler.stream in (saved, sys.__stdout__):
                swapped.append((handler, handler.setStream(counter)))
        sys.stdout = counter
        try:
            yield
        finally:
            sys.stdout = saved
            for handler, stream in swapped:
                handler.setStream(stream)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()


@dataclass
class _OpenCall:
    service: str
    operation: str
    attempts: int = 0
    sent: float | None = None  # the first attempt's send
    answered: float | None = None  # the last attempt's answer


class _CallClock:
    """Times the AWS requests made on a thread running an invocation and charges each to it:
    the attempts (each a round trip Lambda would wait for) and the wall time from the first
    attempt's send to the last attempt's answer. A request is made on one thread, start to end,
    so what is open is kept per thread."""

    def __init__(self) -> None:
        self._open = threading.local()

    def opened(self, model: Any, **_: Any) -> None:
        if running_invocation() is not None:
            self._open.call = _OpenCall(model.service_model.service_name, model.name)

    def sent(self, **_: Any) -> None:
        call: _OpenCall | None = getattr(self._open, "call", None)
        if call is not None:
            call.attempts += 1
            call.sent = call.sent or time.perf_counter()
            call.answered = None

    def answered(self, **_: Any) -> None:
        call: _OpenCall | None = getattr(self._open, "call", None)
        if call is not None and call.sent is not None and call.answered is None:
            call.answered = time.perf_counter()

    def closed(self, **_: Any) -> None:
        call: _OpenCall | None = getattr(self._open, "call", None)
        self._open.call = None
        invocation = running_invocation()
        if call is None or invocation is None or call.sent is None:
            return
        invocation.calls[(call.service, call.operation)] += call.attempts
        invocation.call_ms += ((call.answered or time.perf_counter()) - call.sent) * 1000


@contextmanager
def charged(service: str, operation: str) -> Iterator[None]:
    """Charge the time inside the block to the invocation this thread runs, as one call."""
    invocation = running_invocation()
    if invocation is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        invocation.calls[(service, operation)] += 1
        invocation.call_ms += (time.perf_counter() - started) * 1000


def _item_kind(key: dict[str, Any]) -> str:
    sort_key = key.get("SK", {}).get("S", "")
    return str(sort_key).split("#", 1)[0] or "?"


def _writes_of(operation: str, body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(table, item or key, transactional) for every item a write request touches."""
    if operation == "put_item":
        yield body["TableName"], body["Item"], False
    elif operation in ("update_item", "delete_item"):
        yield body["TableName"], body["Key"], False
    elif operation == "batch_write_item":
        for table, requests in body["RequestItems"].items():
            for request in requests:
                if "PutRequest" in request:
                    yield table, request["PutRequest"]["Item"], False
                else:
                    yield table, request["DeleteRequest"]["Key"], False
    else:
        for entry in body["TransactItems"]:
            spec = next(iter(entry.values()))
            yield spec["TableName"], spec.get("Item") or spec["Key"], True


def _schema(backend: Any, table_name: str) -> tuple[tuple[str, ...], list[Index]]:
    table = backend.get_table(table_name)
    keys = tuple(k["AttributeName"] for k in table.schema)
    indexes = [
        Index(
            name=index.name,
            keys=tuple(index.schema_key_attrs),
            projection=index.projection.get("ProjectionType", "ALL"),
            table_keys=keys,
            include=tuple(index.projection.get("NonKeyAttributes", [])),
        )
        for index in table.global_indexes
    ]
    return keys, indexes


def _current(
    backend: Any, table: str, item_or_key: dict[str, Any], schema: tuple[tuple[str, ...], Any]
) -> dict[str, Any] | None:
    key = {k: item_or_key[k] for k in schema[0] if k in item_or_key}
    try:
        found = backend.get_item(table, key)
    except Exception:
        return None
    return found.to_json()["Attributes"] if found else None


def _read_units(operation: str, parsed: dict[str, Any], model: Any) -> float:
    """Read units of a DynamoDB read from what it returned (projections make it a floor)."""
    if operation == "GetItem":
        return read_units(item_size(parsed.get("Item")), consistent=False) if parsed else 0.0
    if operation in ("Query", "Scan"):
        return read_units(sum(item_size(i) for i in parsed.get("Items", [])), consistent=False)
    if operation == "BatchGetItem":
        return sum(
            read_units(item_size(item), consistent=False)
            for items in parsed.get("Responses", {}).values()
            for item in items
        )
    if operation == "TransactGetItems":
        return sum(
            read_units(item_size(r.get("Item")), consistent=True, transactional=True)
            for r in parsed.get("Responses", [])
        )
    return 0.0


def _emf_metrics(text: str) -> set[tuple[str, str, tuple[tuple[str, str], ...]]]:
    found = set()
    for line in text.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        for directive in document["_aws"].get("CloudWatchMetrics", []):
            for dimensions in directive.get("Dimensions", []):
                values = tuple(sorted((d, str(document.get(d))) for d in dimensions))
                for metric in directive.get("Metrics", []):
                    found.add((directive.get("Namespace", ""), metric["Name"], values))
    return found


def _stream_handlers() -> list[logging.StreamHandler[Any]]:
    loggers = [logging.getLogger()] + [
        entry
        for entry in logging.Logger.manager.loggerDict.values()
        if isinstance(entry, logging.Logger)
    ]
    return [
        handler
        for entry in loggers
        for handler in entry.handlers
        if isinstance(handler, logging.StreamHandler)
    ]
