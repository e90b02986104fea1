"""The cost meter's model: item sizes and units as DynamoDB bills them, the bill of a planted
day whose figures are worked out by hand here, and Lambda's billed duration modelled from a
planted invocation."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

from local.costs.bill import Stored, Usage, Volume, load_prices, per_1000_orders
from local.costs.lambda_time import (
    InvocationTime,
    Latency,
    LatencyTable,
    by_function,
    load_latencies,
    measured_ms,
    modelled_ms,
)
from local.costs.sizes import Index, item_size, read_units, write_cost

INDEX = Index("ByStatus", keys=("GSI2PK", "GSI2SK"), projection="ALL", table_keys=("PK", "SK"))
KEYS_ONLY = Index(
    "Refs", keys=("GSI3PK", "GSI3SK"), projection="KEYS_ONLY", table_keys=("PK", "SK")
)


def s(text: str) -> dict[str, str]:
    return {"S": text}


def test_sizes_follow_dynamodbs_rules() -> None:
    # names and string bytes; a number is about a byte per two significant digits, plus one
    assert item_size({"PK": s("T#a"), "n": {"N": "12345"}}) == 2 + 3 + 1 + 4
    assert item_size({"b": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    # a map: 3 bytes, plus one per element, its keys and values
    assert item_size({"m": {"M": {"k": s("vv")}}}) == 1 + 3 + 1 + 1 + 2
    assert item_size({"l": {"L": [s("a"), s("bc")]}}) == 1 + 3 + (1 + 1) + (1 + 2)
    assert item_size({"é": s("ü")}) == 2 + 2  # UTF-8 bytes, not characters


def big(n: int, **extra: dict[str, str]) -> dict[str, object]:
    return {"PK": s("p"), "SK": s("s"), "blob": s("x" * n), **extra}


def test_a_write_pays_for_the_larger_image_and_each_index_it_touches() -> None:
    plain = write_cost(None, big(1500), [INDEX])
    assert (plain.table, plain.indexes) == (2, {})  # not in the index: the table only
    indexed = write_cost(None, big(1500, GSI2PK=s("a"), GSI2SK=s("1")), [INDEX])
    assert (indexed.table, indexed.indexes) == (2, {"ByStatus": 2})
    shrunk = write_cost(big(3000), big(10), [INDEX])
    assert shrunk.table == 3  # the larger of before and after
    moved = write_cost(
        big(10, GSI2PK=s("a"), GSI2SK=s("1")), big(10, GSI2PK=s("b"), GSI2SK=s("1")), [INDEX]
    )
    assert moved.indexes == {"ByStatus": 2}  # out of one key, into another
    untouched = write_cost(
        big(10, GSI3PK=s("a"), GSI3SK=s("1")), big(900, GSI3PK=s("a"), GSI3SK=s("1")), [KEYS_ONLY]
    )
    assert untouched.indexes == {}  # a keys-only index whose keys did not change
    assert write_cost(None, big(10), [], transactional=True).table == 2


def test_reads_cost_a_unit_per_started_4kb_half_when_eventually_consistent() -> None:
    assert read_units(4096, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(100, consistent=False) == 0.5
    assert read_units(0, consistent=False) == 0.5
    assert read_units(5000, consistent=True, transactional=True) == 4


def test_a_planted_day_prices_to_the_figures_worked_out_by_hand() -> None:
    prices = load_prices()
    usage = Usage(orders=100)
    usage.add("dynamodb_write_unit", 40_000)  # 400 units an order
    usage.add("stepfunctions_transition", 1_200)
    usage.add("ses_email", 300)
    usage.stored.append(Stored("dynamodb_storage_gb_month", 100 * 1024 * 1024, kept_days=None))
    usage.stored.append(Stored("s3_storage_gb_month", 100 * 1024 * 1024, kept_days=45))
    usage.monthly["kms_key_month"] = 3
    volume = Volume(tenants=10, orders_per_tenant_month=3000)

    first = per_1000_orders(usage, prices, month=1, volume=volume)
    # traffic per 1,000 orders: 400,000 WRU at $0.625/M, 12,000 transitions at $0.025/1000,
    # 3,000 e-mails at $0.10/1000
    assert first.per_1000_traffic["dynamodb_write_unit"] == pytest.approx(0.25)
    assert first.per_1000_traffic["stepfunctions_transition"] == pytest.approx(0.30)
    assert first.per_1000_traffic["ses_email"] == pytest.approx(0.30)
    # storage: 1 MiB an order; 30,000 orders a month → 30,000 MiB after month 1
    gb_month_1 = 30_000 / 1024
    assert first.per_1000_storage["dynamodb_storage_gb_month"] == pytest.approx(
        gb_month_1 * 0.25 / 30
    )
    # three keys at $1 a month over 30 thousand orders
    assert first.per_1000_fixed["kms_key_month"] == pytest.approx(3 / 30)

    twelfth = per_1000_orders(usage, prices, month=12, volume=volume)
    assert twelfth.per_1000_storage["dynamodb_storage_gb_month"] == pytest.approx(
        12 * gb_month_1 * 0.25 / 30
    )
    # what is kept 45 days stops growing after the second month
    assert twelfth.per_1000_storage["s3_storage_gb_month"] == pytest.approx(
        1.5 * gb_month_1 * 0.023 / 30
    )
    assert twelfth.total > first.total


def test_what_is_kept_for_good_keeps_growing_in_later_months_and_each_kind_is_priced_apart() -> (
    None
):
    """An item kind kept for good costs seven times at month 84 what it costs at month 12; one
    kept 45 days costs the same; the later months' line says so."""
    from local.costs.bill import storage_by_what
    from local.costs.report import later_lines

    prices = load_prices()
    usage = Usage(orders=100)
    usage.stored.append(Stored("dynamodb_storage_gb_month", 100 * 1024 * 1024, None, "TL"))
    usage.stored.append(Stored("dynamodb_pitr_gb_month", 50 * 1024 * 1024, None, "TL"))
    usage.stored.append(Stored("dynamodb_storage_gb_month", 100 * 1024 * 1024, 45, "RAW"))
    volume = Volume(tenants=10, orders_per_tenant_month=3000)
    gb_month_1 = 30_000 / 1024  # 1 MiB an order, 30,000 orders a month

    at_12 = storage_by_what(usage, prices, 12, volume)
    assert at_12["TL"] == pytest.approx(12 * gb_month_1 * (0.25 + 0.5 * 0.20) / 30)
    assert at_12["RAW"] == pytest.approx(1.5 * gb_month_1 * 0.25 / 30)
    at_84 = storage_by_what(usage, prices, 84, volume)
    assert at_84["TL"] == pytest.approx(7 * at_12["TL"])
    assert at_84["RAW"] == pytest.approx(at_12["RAW"])
    (line,) = later_lines(usage, volume, months=(84,))
    assert f"month 84 {at_84['TL'] + at_84['RAW']:.3f}" in line


def test_a_day_on_the_infrequent_access_table_class_pays_more_a_request_and_less_to_store() -> None:
    """Standard-IA: requests at 125 % of Standard's price, storage at 40 %, continuous backups
    the same; what is not DynamoDB's is untouched; an unknown class is refused."""
    from local.costs.bill import in_table_class

    prices = load_prices()
    usage = Usage(orders=100)
    usage.add("dynamodb_write_unit", 40_000)
    usage.add("dynamodb_read_unit", 8_000)
    usage.add("ses_email", 300)
    usage.stored.append(Stored("dynamodb_storage_gb_month", 100 * 1024 * 1024, None, "TL"))
    usage.stored.append(Stored("dynamodb_pitr_gb_month", 50 * 1024 * 1024, None, "TL"))
    volume = Volume(tenants=10, orders_per_tenant_month=3000)

    standard = per_1000_orders(usage, prices, month=12, volume=volume)
    ia = per_1000_orders(in_table_class(usage, "STANDARD_INFREQUENT_ACCESS"), prices, 12, volume)
    assert ia.per_1000_traffic["dynamodb_write_unit_ia"] == pytest.approx(
        1.25 * standard.per_1000_traffic["dynamodb_write_unit"]
    )
    assert ia.per_1000_traffic["dynamodb_read_unit_ia"] == pytest.approx(
        1.25 * standard.per_1000_traffic["dynamodb_read_unit"]
    )
    assert ia.per_1000_storage["dynamodb_storage_gb_month_ia"] == pytest.approx(
        0.4 * standard.per_1000_storage["dynamodb_storage_gb_month"]
    )
    assert ia.per_1000_storage["dynamodb_pitr_gb_month"] == pytest.approx(
        standard.per_1000_storage["dynamodb_pitr_gb_month"]
    )
    assert ia.per_1000_traffic["ses_email"] == standard.per_1000_traffic["ses_email"]
    assert in_table_class(usage, "STANDARD") is usage
    with pytest.raises(ValueError, match="no such table class"):
        in_table_class(usage, "GLACIER")


def test_a_quantity_without_a_price_is_refused() -> None:
    usage = Usage(orders=1)
    usage.add("carrier_pigeon", 1)
    with pytest.raises(KeyError, match="carrier_pigeon"):
        per_1000_orders(usage, load_prices(), month=1)


def test_log_bytes_and_custom_metrics_are_counted_from_what_functions_print() -> None:
    import json
    import logging

    from local.costs.meter import Meter

    made_before = logging.getLogger("cost-meter-test")
    handler = logging.StreamHandler(sys.stdout)
    made_before.addHandler(handler)
    made_before.setLevel(logging.INFO)
    meter = Meter()
    emf = {
        "_aws": {
            "CloudWatchMetrics": [
                {
                    "Namespace": "EcomOps",
                    "Dimensions": [["tenant"]],
                    "Metrics": [{"Name": "Orders"}],
                }
            ]
        },
        "tenant": "acme",
        "Orders": 1,
    }
    try:
        with meter.counting_logs(pass_on=False):
            made_before.info("x" * 99)  # 100 bytes with the newline
            print(json.dumps(emf))
    finally:
        made_before.removeHandler(handler)
    counts = meter.snapshot()
    assert counts.log_bytes == 100 + len(json.dumps(emf)) + 1
    assert counts.metrics == {("EcomOps", "Orders", (("tenant", "acme"),))}


def test_a_workflows_log_lines_are_the_history_events_its_level_takes() -> None:
    """A lifecycle that sat out its return window and a refund whose task failed once: at
    ERROR only the timeout and the failure are written, at FATAL neither (the executions
    succeeded), at ALL every event. The lines join the functions' as logs ingested."""
    from local.costs.day import (
        PLATFORM_LOG_BYTES_PER_INVOCATION,
        WORKFLOW_LOG_BYTES_PER_EVENT,
        DayReadings,
        logged_by_level,
        usage_of,
    )
    from local.costs.meter import Counts

    history = [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskTimedOut",
        "TaskStateExited",
        "TaskStateEntered",
        "TaskFailed",
        "TaskSucceeded",
        "ExecutionSucceeded",
    ]
    taken = {
        level: [kind for kind in history if logged_by_level(level, kind)]
        for level in ("ALL", "ERROR", "FATAL", "OFF")
    }
    assert taken == {
        "ALL": history,
        "ERROR": ["TaskTimedOut", "TaskFailed"],
        "FATAL": [],
        "OFF": [],
    }
    assert logged_by_level("FATAL", "ExecutionAborted")
    assert logged_by_level("ERROR", "ExecutionTimedOut")

    counts = Counts()
    counts.log_bytes = 1_000
    readings = DayReadings(counts=counts, orders=1, workflow_log_bytes=2 * 400)
    usage = usage_of(readings, tenants=10)
    assert WORKFLOW_LOG_BYTES_PER_EVENT == 400
    assert usage.quantities["logs_ingest_gb"] * 1024**3 == pytest.approx(1_000 + 800)
    assert PLATFORM_LOG_BYTES_PER_INVOCATION > 0  # no invocations here: none of it counted


def test_lambdas_lines_for_each_call_are_counted_only_where_the_function_keeps_them() -> None:
    """Ten calls of a function at the default system log level write START, END and REPORT
    each; thirty calls of one at WARN write none."""
    from local.costs.day import PLATFORM_LOG_BYTES_PER_INVOCATION, DayReadings, usage_of
    from local.costs.meter import Counts

    counts = Counts()
    counts.invocations.update({"reports": 10, "ingress": 30})
    readings = DayReadings(counts=counts, orders=1, without_call_reports={"ingress"})
    usage = usage_of(readings, tenants=10)
    assert usage.quantities["logs_ingest_gb"] * 1024**3 == pytest.approx(
        10 * PLATFORM_LOG_BYTES_PER_INVOCATION
    )


def test_the_days_e_mails_are_billed_as_ses_sends() -> None:
    from local.costs.day import DayReadings, usage_of
    from local.costs.meter import Counts

    usage = usage_of(DayReadings(counts=Counts(), orders=10, emails=32), tenants=10)
    assert usage.quantities["ses_email"] == 32


def test_a_teams_digest_is_priced_as_one_an_hour_every_hour_at_every_tenant() -> None:
    """10 orders sent 30 e-mails, 2 of them digests to two teams: 28 scale with the orders;
    the digests are priced per month, 2 teams x 10 tenants x 24 a day x 30 days, whatever
    the orders, and are not part of the floor's fixed costs."""
    from local.costs.day import DayReadings, usage_of
    from local.costs.meter import Counts
    from local.costs.report import floor_of

    readings = DayReadings(
        counts=Counts(),
        orders=10,
        emails=30,
        emails_by_kind=Counter({"team_digest": 2, "order_shipped": 28}),
        digest_teams=2,
    )
    usage = usage_of(readings, tenants=10)
    assert usage.quantities["ses_email"] == 28
    assert usage.monthly["ses_email"] == 2 * 10 * 24 * 30
    volume = Volume(tenants=10, orders_per_tenant_month=3000)
    month12 = per_1000_orders(usage, load_prices(), month=12, volume=volume)
    # $1.44 a month of digests over 30 thousand orders.
    assert month12.per_1000_fixed["ses_email"] == pytest.approx(0.10 * 14_400 / 1000 / 30)
    floor = floor_of(usage, volume, readings.emails_by_kind, happy_path_states=7)
    assert floor.fixed == pytest.approx(0.0)


def test_an_e_mail_is_billed_once_per_recipient(tmp_path: Path) -> None:
    """SES counts each address a message goes to: To, Cc and Bcc together."""
    from local.costs.day import recipients_of

    one = tmp_path / "order_shipped-o-1-abc.eml"
    one.write_bytes(b"To: ada@example.com\r\nSubject: shipped\r\n\r\nbody\r\n")
    three = tmp_path / "team_notice-o-2-def.eml"
    three.write_bytes(
        b"To: Ops <ops@shop.example>, finance@shop.example\r\n"
        b"Cc: lead@shop.example\r\nSubject: notice\r\n\r\nbody\r\n"
    )
    assert recipients_of(one) == 1
    assert recipients_of(three) == 3


def test_an_outbox_files_name_gives_its_kind_and_the_kind_its_audience() -> None:
    from local.costs.day import email_kind
    from local.costs.report import audience

    assert email_kind("order_shipped-5148316726571-229984f14fdd.eml") == "order_shipped"
    assert email_kind("vendor_statement-282.eml") == "vendor_statement"
    assert [audience(k) for k in ("order_shipped", "payment_verification", "refund_issued")] == [
        "customers"
    ] * 3
    assert [audience(k) for k in ("vendor_order", "vendor_statement")] == ["vendors"] * 2
    assert [
        audience(k)
        for k in ("not_dispatched", "review_needed", "team_notice", "team_digest", "payout_report")
    ] == ["teams"] * 5


def test_the_floor_is_what_the_missions_shape_costs_worked_out_by_hand() -> None:
    """10 orders: 20 customer e-mails, 10 to vendors, 5 to the team (not in the floor), the
    shortest lifecycle 9 transitions; 2 keys and 10 alarms a month over 30,000 orders."""
    from local.costs.report import floor_of

    usage = Usage(orders=10)
    usage.add("ses_email", 35)
    usage.add("stepfunctions_transition", 120)
    usage.monthly["kms_key_month"] = 2
    usage.monthly["cloudwatch_alarm_month"] = 10
    floor = floor_of(
        usage,
        Volume(tenants=10, orders_per_tenant_month=3000),
        {"order_confirmation": 12, "order_shipped": 8, "vendor_order": 10, "not_dispatched": 5},
        happy_path_states=9,
    )
    assert floor.customer_emails == pytest.approx(0.10 * 2000 / 1000)  # 2,000 per 1,000 orders
    assert floor.vendor_emails == pytest.approx(0.10 * 1000 / 1000)
    assert floor.lifecycle == pytest.approx(0.025 * 9)
    assert floor.fixed == pytest.approx((2 * 1.00 + 10 * 0.10) / 30)  # $3 a month, 30 thousands
    assert floor.total == pytest.approx(0.2 + 0.1 + 0.225 + 0.1)


def _table() -> LatencyTable:
    def figure(ms: float) -> Latency:
        return Latency(ms, source="planted", read_on="2026-12-06", basis="planted")

    return LatencyTable(
        full_vcpu_mb=1769,
        latencies={
            ("dynamodb", "GetItem"): figure(5),
            ("dynamodb", "Query"): figure(10),
            ("stepfunctions", "SendTaskSuccess"): figure(30),
            ("stripe", "POST"): figure(500),
        },
    )


def test_a_planted_invocation_is_billed_the_duration_worked_out_by_hand() -> None:
    """512 MB, 400 ms in-process of which 300 ms inside 7 calls: the own 100 ms at 512/1769 of
    a core take 100 x 1769 / 512 = 345.51 ms; the calls wait 3 x 5 + 2 x 10 + 30 + 500 = 565
    ms; 910.51 ms is billed as 911 ms, 0.4448 GB-s (in-process: 400 ms, 0.2 GB-s)."""
    invocation = InvocationTime(
        function="processor",
        memory_mb=512,
        wall_ms=400.0,
        call_ms=300.0,
        calls={
            ("dynamodb", "GetItem"): 3,
            ("dynamodb", "Query"): 2,
            ("stepfunctions", "SendTaskSuccess"): 1,
            ("stripe", "POST"): 1,
        },
    )
    table = _table()
    assert table.cpu_share(512) == pytest.approx(3.455, abs=1e-3)
    assert modelled_ms(invocation, table) == 911
    assert measured_ms(invocation) == 400

    times = by_function([invocation, invocation], table)["processor"]
    assert times.invocations == 2
    assert times.modelled_gb_s == pytest.approx(2 * 0.911 * 512 / 1024)
    assert times.measured_gb_s == pytest.approx(2 * 0.400 * 512 / 1024)
    assert times.by_call[("dynamodb", "GetItem")] == 6


def test_more_memory_than_a_vcpu_runs_the_own_work_no_faster() -> None:
    big = InvocationTime("reconcile", 4096, wall_ms=50.2, call_ms=20.0, calls={})
    small = InvocationTime("reconcile", 128, wall_ms=50.2, call_ms=20.0, calls={})
    assert modelled_ms(big, _table()) == 31  # 30.2 ms on a core, rounded up
    assert modelled_ms(small, _table()) == 418  # 30.2 x 1769 / 128 = 417.4


def test_a_call_without_a_latency_is_refused() -> None:
    invocation = InvocationTime(
        "fn", 512, wall_ms=10, call_ms=5, calls={("dynamodb", "Scan"): 1, ("kms", "Sign"): 2}
    )
    with pytest.raises(KeyError, match="dynamodb:Scan, kms:Sign"):
        by_function([invocation], _table())
    with pytest.raises(KeyError, match="no latency for dynamodb:Scan"):
        modelled_ms(invocation, _table())


def test_the_day_bills_lambda_as_modelled_not_as_timed_in_process() -> None:
    from local.costs.day import DayReadings, usage_of
    from local.costs.meter import Counts

    invocation = InvocationTime(
        "processor", 1769, wall_ms=1400.0, call_ms=1380.0, calls={("dynamodb", "GetItem"): 4}
    )
    # the 1,400 ms timed in-process stay beside the bill, not in it
    counts = Counts(invocation_times=[invocation])
    usage = usage_of(DayReadings(counts=counts, orders=1), tenants=10, latencies=_table())
    # 20 ms own work on a full vCPU + 4 x 5 ms: 40 ms
    assert usage.quantities["lambda_gb_second_arm"] == pytest.approx(0.040 * 1769 / 1024)


def test_the_latency_table_gives_each_figure_its_source_and_date() -> None:
    table = load_latencies()
    assert table.full_vcpu_mb == 1769
    assert table.of("dynamodb", "GetItem").ms < 10  # AWS's "single-digit milliseconds"
    for (service, operation), latency in table.latencies.items():
        assert latency.ms > 0, f"{service}:{operation}"
        assert latency.source.startswith("https://"), f"{service}:{operation}"
        assert latency.read_on and latency.basis, f"{service}:{operation}"
    with pytest.raises(KeyError, match="lambda:Invoke"):
        table.of("lambda", "Invoke")


def test_the_meter_prints_lambda_both_ways() -> None:
    from local.costs.report import lambda_lines

    invocation = InvocationTime(
        "EcomOps-ProcessorFnAB12CD34-XYZ",
        512,
        wall_ms=400.0,
        call_ms=300.0,
        calls={("dynamodb", "GetItem"): 3, ("stripe", "POST"): 1},
    )
    # two invocations over 2 orders: 0.2 GB-s an invocation in-process, 0.5 GB x 0.861 s
    # modelled (100 x 1769/512 + 15 + 500 = 860.5 ms); per 1,000 orders at $0.0000133334
    lines = lambda_lines(by_function([invocation] * 2, _table()), orders=2, latencies=_table())
    total = next(line for line in lines if "per 1,000 orders" in line)
    assert f"${200 * 0.0000133334:.4f}" in total  # $0.0027 as timed
    assert f"${430.5 * 0.0000133334:.4f}" in total  # $0.0057 as modelled
    assert any(line.strip().startswith("ProcessorFn ") for line in lines)
    assert any("dynamodb:GetItem" in line and "x 5 ms" in line for line in lines)


def test_continuous_backups_are_priced_on_the_tables_own_items_not_its_global_indexes() -> None:
    """DynamoDB prices point-in-time recovery on a table's data and its local secondary
    indexes; a global index's copy is stored (and billed as storage) but not backed up."""
    from local.costs.sizes import stored_size

    item = {
        "PK": s("T#acme#ORDER#o-1"),
        "SK": s("ORDER"),
        "GSI2PK": s("T#acme#STATUS#paid"),
        "GSI2SK": s("2026-03-02#o-1"),
        "status": s("paid"),
        "state": s("x" * 900),
    }
    include = Index(
        "ByStatus",
        keys=("GSI2PK", "GSI2SK"),
        projection="INCLUDE",
        table_keys=("PK", "SK"),
        include=("status",),
    )
    size = stored_size(item, [include, KEYS_ONLY], overhead=100)

    # PK 2+16, SK 2+5, GSI2PK 6+18, GSI2SK 6+14, status 6+4, state 5+900 = 984, +100
    assert size.table == 984 + 100
    # the index copy: the four keys and status (79 bytes), +100; the keys-only index does not
    # hold the item (no GSI3 keys)
    assert size.with_indexes == size.table + 79 + 100
