"""DynamoDB stream event source mappings, driven the way Lambda drives them.

moto would call the function synchronously inside the writer's PutItem (and drop the records on
failure). Here each mapping in the template gets a poller thread that reads the stream with
GetRecords and delivers batches asynchronously: filter criteria, batch size, partial batch
responses (``ReportBatchItemFailures``), bisection on error, bounded retries, and the on-failure
destination (an SQS message with the batch's stream coordinates, as Lambda sends it).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from local import template as tpl
from local.lambda_shim import FunctionError
from shared.clock import SYSTEM_CLOCK

if TYPE_CHECKING:
    from local.stack import LocalStack

IDLE_SLEEP_S = 0.05
_PAGE = 1000  # records one GetRecords returns at most


def matches(pattern: Any, value: Any) -> bool:
    """Lambda/EventBridge filter pattern matching (exact values, prefix, exists, anything-but)."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(_matches_field(p, value.get(k), k in value) for k, p in pattern.items())
    return bool(pattern == value)


def _matches_field(pattern: Any, value: Any, present: bool) -> bool:
    if isinstance(pattern, dict):
        return present and matches(pattern, value)
    if isinstance(pattern, list):
        return any(_matches_one(option, value, present) for option in pattern)
    return bool(pattern == value)


def _matches_one(option: Any, value: Any, present: bool) -> bool:
    if isinstance(option, dict):
        if "exists" in option:
            return present is bool(option["exists"])
        if "prefix" in option:
            return isinstance(value, str) and value.startswith(option["prefix"])
        if "anything-but" in option:
            excluded = option["anything-but"]
            excluded = excluded if isinstance(excluded, list) else [excluded]
            return present and value not in excluded
        raise ValueError(f"filter operator {option} is not supported locally")
    return present and option == value


class _MappingPoller:
    def __init__(self, stack: LocalStack, mapping: tpl.StreamMapping) -> None:
        assert stack.deployment is not None
        self.stack = stack
        self.mapping = mapping
        self.function = stack.deployment.physical[mapping.function_logical_id]
        self.table = stack.deployment.physical[mapping.source_logical_id]
        self.patterns = [json.loads(p) for p in mapping.filter_patterns]
        self.pending: deque[dict[str, Any]] = deque()
        self.busy = False
        self.quiet_cycles = 0
        self.paused = threading.Event()
        self.errors: list[str] = []
        self.delivered = 0
        self.dead_lettered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"stream-{self.function}", daemon=True
        )
        self.stream_arn = ""
        # The stream as it was before the last fetch that read all there was (_stream_mark).
        self._fetched_to: tuple[Any, int, Any] | None = None

    def start(self) -> None:
        streams = self.stack.client("dynamodbstreams")
        table = self.stack.client("dynamodb").describe_table(TableName=self.table)["Table"]
        self.stream_arn = table["LatestStreamArn"]
        self._streams = streams
        self._iterators = {}
        self._last_sequence: dict[str, str] = {}
        for shard in streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ]:
            self._iterators[shard["ShardId"]] = streams.get_shard_iterator(
                StreamArn=self.stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType=self.mapping.starting_position,
            )["ShardIterator"]
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def idle(self) -> bool:
        return not self.pending and not self.busy

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.paused.is_set():
                self.quiet_cycles += 1  # held on purpose: nothing will be delivered
                self._stop.wait(IDLE_SLEEP_S)
                continue
            self.busy = True
            try:
                mark = self._stream_mark()
                if self.pending or not self._unchanged(mark):
                    # Taken before the fetch: what is written while it runs is fetched next time.
                    self._fetched_to = mark if self._fetch() else None
                if self.pending:
                    batch = [
                        self.pending.popleft()
                        for _ in range(min(self.mapping.batch_size, len(self.pending)))
                    ]
                    self._deliver(batch)
            except Exception as error:  # the poller must outlive anything one batch does
                self.errors.append(repr(error))
                print(f"stream poller for {self.function}: {error!r}", flush=True)
            finally:
                self.busy = False
            if not self.pending:
                # A whole fetch found nothing more: what was written before it began is in.
                self.quiet_cycles += 1
                self._stop.wait(IDLE_SLEEP_S)

    def _stream_mark(self) -> tuple[Any, int, Any]:
        """What the table's stream holds now: its shard, how many records, the last of them.

        The stack's moto runs in this process, so a poller looks at the stream there before it
        asks moto for records over HTTP: an idle stack's pollers otherwise ask twenty times a
        second each, which was a tenth of a test session's CPU. The last record itself is kept,
        not its id, so a record written after a rolled-back one is never mistaken for it.
        """
        from moto.dynamodb.models import dynamodb_backends

        from local.stack import ACCOUNT, REGION

        table = dynamodb_backends[ACCOUNT][REGION].tables.get(self.table)
        shard = table.stream_shard if table is not None else None
        records = shard.items if shard is not None else []
        return shard, len(records), records[-1] if records else None

    def _unchanged(self, mark: tuple[Any, int, Any]) -> bool:
        seen = self._fetched_to
        return seen is not None and seen[1] == mark[1] and seen[0] is mark[0] and seen[2] is mark[2]

    def _fetch(self) -> bool:
        """Read what the stream has; True when every shard gave less than a full page."""
        drained = True
        for shard_id, previous in list(self._iterators.items()):
            iterator = previous
            last = self._last_sequence.get(shard_id)
            if last is not None:
                # A fresh iterator from the last sequence number each time: an iterator holds
                # a stream object, and moto's own rollback of a failed transaction replaces it
                # (the local stack's rollback keeps it; the poller need not rely on that).
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=last,
                )["ShardIterator"]
            answer = self._streams.get_records(ShardIterator=iterator, Limit=_PAGE)
            drained = drained and len(answer["Records"]) < _PAGE
            self._iterators[shard_id] = answer["NextShardIterator"]
            for record in answer["Records"]:
                self._last_sequence[shard_id] = record["dynamodb"]["SequenceNumber"]
                record["eventSourceARN"] = self.stream_arn
                if not self.patterns or any(matches(p, record) for p in self.patterns):
                    self.pending.append(record)
        return drained

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        # Each chunk carries its own attempt count. A failure retries from the first failed
        # record; with bisection the retry is split in halves, so good records next to a poison
        # one are applied and only the poison one exhausts its retries into the destination.
        work: deque[tuple[list[dict[str, Any]], int]] = deque([(batch, 0)])
        while work and not self._stop.is_set():
            current, attempts = work.popleft()
            failed_from = self._invoke(current)
            if failed_from is None:
                self.delivered += len(current)
                continue
            self.delivered += failed_from
            retry, attempts = current[failed_from:], attempts + 1
            if self.mapping.bisect_on_error and len(retry) > 1:
                middle = len(retry) // 2
                work.extendleft([(retry[middle:], attempts), (retry[:middle], attempts)])
            elif 0 <= self.mapping.max_retries < attempts:
                self._dead_letter(retry, attempts)
            else:
                work.appendleft((retry, attempts))
            time.sleep(min(0.01 * attempts, 0.2))

    def _invoke(self, records: list[dict[str, Any]]) -> int | None:
        """Deliver; None when all succeeded, else the index the retry starts from."""
        try:
            result = self.stack.invoke(self.function, {"Records": records})
        except FunctionError as failure:
            print(
                f"stream batch of {len(records)} to {self.function} failed: {failure}", flush=True
            )
            return 0
        if not self.mapping.report_batch_item_failures or not isinstance(result, dict):
            return None
        failures = result.get("batchItemFailures") or []
        if not failures:
            return None
        # Lambda checkpoints at the lowest failed sequence number and retries from there.
        sequence = {r["dynamodb"]["SequenceNumber"]: i for i, r in enumerate(records)}
        positions = [sequence.get(f.get("itemIdentifier"), 0) for f in failures]
        return min(positions)

    def _dead_letter(self, records: list[dict[str, Any]], attempts: int) -> None:
        self.dead_lettered += len(records)
        queue = self.mapping.on_failure_queue_logical_id
        if queue is None:
            print(
                f"dropped {len(records)} records for {self.function}: no on-failure destination",
                flush=True,
            )
            return
        assert self.stack.deployment is not None
        queue_url = self.stack.deployment.physical[queue]
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        message = {
            "requestContext": {
                "requestId": f"local-{first['SequenceNumber']}",
                "functionArn": self.stack.function_arn(self.mapping.function_logical_id),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "version": "1.0",
            "timestamp": SYSTEM_CLOCK.now().isoformat(),
            "DDBStreamBatchInfo": {
                "shardId": next(iter(self._iterators), ""),
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": str(
                    first.get("ApproximateCreationDateTime", "")
                ),
                "approximateArrivalOfLastRecord": str(last.get("ApproximateCreationDateTime", "")),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
            # Lambda sends only the coordinates; the local runtime adds the keys so replay does
            # not depend on the stream's 24-hour retention.
            "keys": [r["dynamodb"].get("Keys") for r in records],
        }
        self.stack.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))


class StreamPoller:
    def __init__(self, stack: LocalStack) -> None:
        assert stack.deployment is not None
        self.pollers = [
            _MappingPoller(stack, m)
            for m in tpl.stream_mappings(stack.deployment.template)
            if m.source_kind == "dynamodb"
        ]

    def start(self) -> None:
        for poller in self.pollers:
            poller.start()

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()

    def pause(self) -> None:
        """Hold deliveries (records keep accumulating), e.g. to let a test build one batch."""
        for poller in self.pollers:
            poller.paused.set()

    def resume(self) -> None:
        for poller in self.pollers:
            poller.paused.clear()

    def wait_idle(self, timeout_s: float) -> None:
        """Return once every poller, in a fetch that began after this call, found nothing to
        deliver: on a loaded machine a poller may not have run since the caller's last write,
        and its "idle" from before would say nothing about it."""
        deadline = time.monotonic() + timeout_s
        start = [p.quiet_cycles for p in self.pollers]
        while time.monotonic() < deadline:
            if all(
                p.idle and p.quiet_cycles >= begun + 2
                for p, begun in zip(self.pollers, start, strict=True)
            ):
                return
            time.sleep(IDLE_SLEEP_S)
        raise TimeoutError(f"stream pollers still busy after {timeout_s}s")
