"""Metering the demo's business day: what the stack did, turned into priced usage.

``DayMeter`` is the demo's observer: it starts counting once the stack is up and, before the
stack stops, reads what the day left behind (execution histories, the table, the buckets) to
count state transitions and stored bytes. ``usage()`` gives the day as ``bill.Usage``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local.costs.bill import ITEM_OVERHEAD_BYTES, Stored, Usage, in_table_class
from local.costs.lambda_time import LatencyTable, by_function, load_latencies
from local.costs.meter import Counts, Meter
from local.costs.sizes import Index, stored_size
from shared import keys
from shared.clock import SYSTEM_CLOCK

# Functions Step Functions calls: their invocations join the execution's trace; every other
# invocation of an actively traced function (API requests, stream batches, schedules) starts a
# trace of its own.
STEP_FUNCTIONS = ("Steps", "SelfCheck")
# Lambda writes START, END and REPORT lines for every call of a function at its default system
# log level (INFO); at WARN, only for a call that fails.
PLATFORM_LOG_BYTES_PER_INVOCATION = 330
# A state machine logs the history events its level takes, one JSON line each (id, type, the
# previous event's id, the time, the execution's ARN, details without execution data): about
# 400 bytes, assumed from the format's fields, as no size is published.
WORKFLOW_LOG_BYTES_PER_EVENT = 400
# Step Functions' log levels: ERROR takes every event of an error (a task failed or timed out,
# the execution failed, timed out or was aborted), FATAL only the execution's own end so.
FATAL_EVENTS = frozenset({"ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"})
ERROR_ENDINGS = ("Failed", "TimedOut", "Aborted")


def logged_by_level(level: str, event_type: str) -> bool:
    """Whether a state machine logging at ``level`` writes a history event of ``event_type``."""
    if level == "ALL":
        return True
    if level == "ERROR":
        return event_type.endswith(ERROR_ENDINGS)
    if level == "FATAL":
        return event_type in FATAL_EVENTS
    return False


# The e-mail kind of a team's digest (``shared.notify.render.EmailKind.TEAM_DIGEST``), and the
# most one team gets in a month: one an hour.
DIGEST_KIND = "team_digest"
DIGESTS_A_TEAM_MONTH = 24 * 30
SECONDS_PER_DAY = 86_400
# The lifecycle's last state when an order went the whole way (infra/constructs/orders.py).
HAPPY_PATH_END = "ReleaseFunds"


@dataclass
class DayReadings:
    counts: Counts
    orders: int
    executions: Counter[str] = field(default_factory=Counter)
    transitions: Counter[str] = field(default_factory=Counter)
    stored_table: list[Stored] = field(default_factory=list)
    stored_s3: list[Stored] = field(default_factory=list)
    # Bytes in the table (items, their index copies and overhead) by the sort key's first part.
    stored_by_item: Counter[str] = field(default_factory=Counter)
    kms_keys: int = 0
    alarms: int = 0
    log_retention_days: int = 30
    emails: int = 0
    # The day's e-mails by kind (the outbox file's name begins with it).
    emails_by_kind: Counter[str] = field(default_factory=Counter)
    # The teams that got a digest of routine notices (their recipient lists): each gets one
    # every hour at most, however many orders the hour had.
    digest_teams: int = 0
    # The fewest different states an order's lifecycle entered that day to reach the end of
    # the happy path (delivered, the return window over, the vendors' funds released): a state
    # entered more than once by one execution counts once, as the mission's shape needs it once.
    happy_path_states: int | None = None
    traced_functions: set[str] = field(default_factory=set)
    # The table's class (the template's TableClass): what its requests and storage are priced as.
    table_class: str = "STANDARD"
    # Functions whose Lambda lines for each call (START, END, REPORT) are left out: their
    # system log level is WARN (the template's LoggingConfig).
    without_call_reports: set[str] = field(default_factory=set)
    # The lines the state machines' own log groups took (at each machine's level), in bytes.
    workflow_log_bytes: int = 0


class DayMeter:
    def __init__(self, tenants: int = 10, show_logs: bool = True) -> None:
        self.meter = Meter()
        self.tenants = tenants
        self.show_logs = show_logs
        self._logs: Any = None
        self._baseline: Counts | None = None
        self._mail_before: set[Path] = set()
        self.readings: DayReadings | None = None

    def started(self, stack: Any) -> None:
        self.meter.meter_dynamodb_writes()
        self.meter.meter_clients()
        self.meter.meter_calls_out()
        self.meter.meter_runtime(stack)
        self._logs = self.meter.counting_logs(pass_on=self.show_logs)
        self._logs.__enter__()
        self._baseline = self.meter.snapshot()
        self._mail_before = _outbox(stack)

    def finished(self, stack: Any) -> None:
        assert self._baseline is not None
        counts = self.meter.snapshot().minus(self._baseline)
        self._logs.__exit__(None, None, None)
        self.meter.uninstall()
        self.readings = read_day(stack, counts)
        # The local stack's mailer writes each e-mail to a file where SES would send it.
        sent = _outbox(stack) - self._mail_before
        # SES bills each recipient of a message as an e-mail.
        self.readings.emails_by_kind = Counter()
        digested: set[str] = set()  # each team's recipient list
        for path in sent:
            kind, headers = email_kind(path.name), _headers(path)
            self.readings.emails_by_kind[kind] += _recipient_count(headers)
            if kind == DIGEST_KIND:
                digested.add(str(headers.get("To", "")))
        self.readings.emails = sum(self.readings.emails_by_kind.values())
        self.readings.digest_teams = len(digested)

    def usage(self) -> Usage:
        assert self.readings is not None, "the day has not been metered"
        return usage_of(self.readings, self.tenants)


def read_day(stack: Any, counts: Counts) -> DayReadings:
    outputs = stack.deployment.outputs
    sfn = stack.client("stepfunctions")
    readings = DayReadings(counts=counts, orders=0)
    machines = {"lifecycle": "LifecycleStateMachine", "refunds": "RefundStateMachine"}
    levels = _log_levels(stack)
    for name, output in machines.items():
        machine = outputs[output]
        level = levels.get(machine, "OFF")
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
            for execution in page["executions"]:
                taken, last, states, logged = _transitions(sfn, execution["executionArn"], level)
                readings.executions[name] += 1
                readings.transitions[name] += taken
                readings.workflow_log_bytes += logged * WORKFLOW_LOG_BYTES_PER_EVENT
                if name == "lifecycle" and last == HAPPY_PATH_END:
                    fewest = readings.happy_path_states
                    readings.happy_path_states = states if fewest is None else min(fewest, states)
    now = SYSTEM_CLOCK.now().timestamp()  # TTLs are epoch seconds from the stores' clock
    table_items, orders = _table(stack, outputs["TableName"], now, readings.stored_by_item)
    readings.stored_table = table_items
    readings.orders = orders
    readings.stored_s3 = _buckets(
        stack, [outputs[k] for k in ("ArchiveBucket", "ReportsBucket", "BankStatementsBucket")]
    )
    functions = {
        stack.deployment.physical[lid]: resource["Properties"]
        for lid, resource in stack.deployment.template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function" and lid in stack.deployment.physical
    }
    readings.traced_functions = {
        name for name, p in functions.items() if p.get("TracingConfig", {}).get("Mode") == "Active"
    }
    readings.without_call_reports = {
        name
        for name, p in functions.items()
        if p.get("LoggingConfig", {}).get("SystemLogLevel") == "WARN"
    }
    (table,) = [
        r
        for r in stack.deployment.template["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    ]
    readings.table_class = table["Properties"].get("TableClass", "STANDARD")
    # From the template: moto need not create a resource for it to be billed.
    kinds = Counter(stack.deployment.types.values())
    readings.kms_keys = kinds["AWS::KMS::Key"]
    readings.alarms = kinds["AWS::CloudWatch::Alarm"]
    return readings


def _outbox(stack: Any) -> set[Path]:
    return set(stack.mail_dir.rglob("*.eml"))


def _headers(path: Path) -> Message:
    from email.parser import BytesHeaderParser

    with path.open("rb") as mail:
        return BytesHeaderParser().parse(mail)


def _recipient_count(headers: Message) -> int:
    from email.utils import getaddresses

    fields = [v for name in ("To", "Cc", "Bcc") for v in headers.get_all(name, [])]
    return max(1, len([a for _, a in getaddresses(fields) if a]))


def recipients_of(path: Path) -> int:
    """How many addresses an outbox file was sent to (To, Cc and Bcc): what SES bills."""
    return _recipient_count(_headers(path))


def email_kind(file_name: str) -> str:
    """``order_shipped-<order>-<hash>.eml`` → ``order_shipped``."""
    return file_name.split("-", 1)[0].removesuffix(".eml")


def _log_levels(stack: Any) -> dict[str, str]:
    """Each state machine's log level (by ARN), from the template."""
    resources = stack.deployment.template["Resources"]
    return {
        arn: str(resources[lid]["Properties"].get("LoggingConfiguration", {}).get("Level", "OFF"))
        for lid, arn in stack.deployment.of_type("AWS::StepFunctions::StateMachine").items()
    }


def _transitions(sfn: Any, execution_arn: str, level: str) -> tuple[int, str | None, int, int]:
    """State transitions Step Functions bills (every state entered, and every retry), the last
    state entered, how many different states were entered, and how many events the machine's
    log level wrote to its log group."""
    entered = retried = logged = 0
    last = None
    states: set[str] = set()
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        scheduled_in_state = 0
        for event in page["events"]:
            kind = event["type"]
            logged += logged_by_level(level, kind)
            if kind.endswith("StateEntered"):
                entered += 1
                scheduled_in_state = 0
                last = event["stateEnteredEventDetails"]["name"]
                states.add(last)
            elif kind in ("LambdaFunctionScheduled", "TaskScheduled"):
                scheduled_in_state += 1
                retried += scheduled_in_state > 1
    return entered + retried, last, len(states), logged


def _table(stack: Any, table: str, now: float, by_item: Counter[str]) -> tuple[list[Stored], int]:
    ddb = stack.client("dynamodb")
    description = ddb.describe_table(TableName=table)["Table"]
    table_keys = tuple(k["AttributeName"] for k in description["KeySchema"])
    indexes = [
        Index(
            name=i["IndexName"],
            keys=tuple(k["AttributeName"] for k in i["KeySchema"]),
            projection=i["Projection"]["ProjectionType"],
            table_keys=table_keys,
            include=tuple(i["Projection"].get("NonKeyAttributes", [])),
        )
        for i in description.get("GlobalSecondaryIndexes", [])
    ]
    stored: list[Stored] = []
    orders = 0
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            orders += item.get("SK", {}).get("S") == keys.ORDER_SK
            ttl = item.get(keys.TABLE.ttl_attribute, {}).get("N")
            kept = None if ttl is None else max(0.0, (float(ttl) - now) / SECONDS_PER_DAY)
            size = stored_size(item, indexes, ITEM_OVERHEAD_BYTES)
            what = str(item.get("SK", {}).get("S", "")).split("#", 1)[0] or "?"
            by_item[what] += size.with_indexes
            stored.append(Stored("dynamodb_storage_gb_month", size.with_indexes, kept, what))
            stored.append(Stored("dynamodb_pitr_gb_month", size.table, kept, what))
    return stored, orders


def _buckets(stack: Any, buckets: list[str]) -> list[Stored]:
    s3 = stack.client("s3")
    stored = []
    for bucket in buckets:
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
            days = [r["Expiration"]["Days"] for r in rules if "Days" in r.get("Expiration", {})]
        except ClientError:  # no lifecycle rules: kept for good
            days = []
        total = sum(
            obj["Size"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for obj in page.get("Contents", [])
        )
        stored.append(Stored("s3_storage_gb_month", total, float(max(days)) if days else None))
    return stored


def usage_of(
    readings: DayReadings,
    tenants: int,
    latencies: LatencyTable | None = None,
    table_class: str | None = None,
) -> Usage:
    """What the day uses, priced for the table's class (or for ``table_class``, to compare)."""
    return in_table_class(
        _usage_of(readings, tenants, latencies), table_class or readings.table_class
    )


def _usage_of(readings: DayReadings, tenants: int, latencies: LatencyTable | None) -> Usage:
    counts = readings.counts
    usage = Usage(orders=max(1, readings.orders))
    requests = counts.requests
    usage.add("dynamodb_write_unit", sum(counts.write_units.values()))
    usage.add("dynamodb_read_unit", counts.read_units)
    invocations = sum(counts.invocations.values())
    usage.add("lambda_request", invocations)
    # Billed as modelled (docs/cost.md): the in-process wall time is printed beside it.
    times = by_function(counts.invocation_times, latencies or load_latencies())
    usage.add("lambda_gb_second_arm", sum(t.modelled_gb_s for t in times.values()))
    usage.add("stepfunctions_transition", sum(readings.transitions.values()))
    usage.add("http_api_request", counts.api_requests)
    # A team's digest of routine notices goes out once an hour at most whatever the orders,
    # so it is priced per month, not scaled with them: every hour of every day, for each team
    # that had one today, at each tenant (the most an hourly digest can send).
    digests = readings.emails_by_kind.get(DIGEST_KIND, 0)
    if readings.digest_teams:
        usage.monthly["ses_email"] = readings.digest_teams * tenants * DIGESTS_A_TEAM_MONTH
    usage.add(
        "ses_email",
        # The local stack's mailer writes each e-mail where SES would send it.
        readings.emails
        - digests
        + sum(
            n for (service, op), n in requests.items() if service.startswith("ses") and "Send" in op
        ),
    )
    usage.add(
        "sns_publish",
        sum(n for (svc, op), n in requests.items() if svc == "sns" and op.startswith("Publish")),
    )
    usage.add("sqs_request", sum(n for (svc, _), n in requests.items() if svc == "sqs"))
    usage.add(
        "s3_put",
        sum(
            n
            for (svc, op), n in requests.items()
            if svc == "s3" and op.startswith(("Put", "Copy", "List"))
        ),
    )
    usage.add(
        "s3_get",
        sum(
            n for (svc, op), n in requests.items() if svc == "s3" and op.startswith(("Get", "Head"))
        ),
    )
    # SecureString reads decrypt with KMS; other KMS calls are our own.
    usage.add(
        "kms_request",
        sum(n for (svc, _), n in requests.items() if svc == "kms")
        + sum(
            n for (svc, op), n in requests.items() if svc == "ssm" and op.startswith("GetParameter")
        ),
    )
    log_bytes = (
        counts.log_bytes
        + PLATFORM_LOG_BYTES_PER_INVOCATION
        * sum(n for f, n in counts.invocations.items() if f not in readings.without_call_reports)
        + readings.workflow_log_bytes
    )
    usage.add("logs_ingest_gb", log_bytes / 1024**3)
    roots = sum(
        n
        for function, n in counts.invocations.items()
        if function in readings.traced_functions and not any(s in function for s in STEP_FUNCTIONS)
    ) + sum(readings.executions.values())
    usage.add("xray_trace_recorded", roots)
    usage.stored.extend(readings.stored_table)
    usage.stored.extend(readings.stored_s3)
    usage.stored.append(
        Stored("logs_storage_gb_month", log_bytes, float(readings.log_retention_days))
    )
    usage.monthly["kms_key_month"] = readings.kms_keys
    usage.monthly["cloudwatch_alarm_month"] = readings.alarms
    per_tenant = {m for m in counts.metrics if any(d == "tenant" for d, _ in m[2])}
    usage.monthly["cloudwatch_custom_metric_month"] = (
        len(counts.metrics - per_tenant) + len(per_tenant) * tenants
    )
    return usage
