"""The reports' adapters on moto: the planted orders stored as the processor stores them (the
aggregate, its screening, a change note per day of each fact), tallied through the change
index, the tallies stored compressed and read back by range, and the week published to S3 and
mailed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest

from functions.reports.composition import ReportsSettings, reports_ports
from functions.reports.domain.periods import PeriodKind
from functions.reports.use_cases.history_mail import TooSoon, mail_order_history
from functions.reports.use_cases.summary import business_summary, publish
from shared.alerts import digest_line
from shared.lifecycle_store import LifecycleStore
from shared.notice_digest import DynamoNoticeDigest
from shared.notices.orders import NotDispatched
from shared.order_aggregate import TimelineEntry
from shared.order_changes import OrderChanges
from shared.order_store import OrderStore
from shared.tenants import TenantDirectory
from tests.clocks import FixedClock
from tests.component.conftest import TABLE
from tests.unit.test_reports_summary import TENANT, planted

NOW = datetime(2026, 11, 9, 12, tzinfo=UTC)


def store_planted(clock: FixedClock) -> None:
    orders, changes, lifecycle = (
        OrderStore(TABLE, clock),
        OrderChanges(TABLE),
        LifecycleStore(TABLE, clock),
    )
    for order in planted():
        entry = TimelineEntry(order.times[0], "shop", f"e-{order.order_id}", "OrderPlaced", "")
        assert orders.commit(order.state, 0, entry) == "applied"
        changes.note(TENANT.id, order.order_id, sorted({t.date() for t in order.times}))
        if order.screening:
            lifecycle.save_screening(TENANT.id, order.order_id, {"decision": order.screening})


def test_the_week_from_the_table_matches_the_planted_figures(
    aws_env: dict[str, Any], tmp_path: Path
) -> None:
    clock = FixedClock(NOW)
    TenantDirectory(TABLE).save(TENANT)
    store_planted(clock)
    aws_env["s3"].create_bucket(Bucket="reports-test")
    settings = ReportsSettings(
        table_name=TABLE, reports_bucket="reports-test", mail_dir=str(tmp_path)
    )
    ports = reports_ports(settings, clock)

    # The aggregates are stored packed (shared.packed): the reader unpacks them.
    stored_order = aws_env["ddb"].get_item(
        TableName=TABLE, Key={"PK": {"S": "T#multi-shop#ORDER#A"}, "SK": {"S": "ORDER"}}
    )["Item"]
    assert "state_z" in stored_order and "state" not in stored_order
    week = business_summary(ports, TENANT.id, PeriodKind.WEEKLY, date(2026, 10, 21))
    eur = {f.key: f.current for f in week.sections[0].figures}
    general = {f.key: f.current for f in week.figures}
    assert (eur["orders"], eur["net"], eur["total"], eur["returns"]) == (2, 5500, 6600, 1000)
    assert (general["placed"], general["screening_block"], general["review_rejected"]) == (5, 1, 1)

    # Both weeks' days are stored, compressed, and read back equal.
    stored = dict(ports.tallies.between(TENANT.id, date(2026, 10, 12), date(2026, 10, 25)))
    assert len(stored) == 14
    item = aws_env["ddb"].get_item(
        TableName=TABLE, Key={"PK": {"S": "T#multi-shop#REPORTDAY"}, "SK": {"S": "2026-10-19"}}
    )["Item"]
    assert "B" in item["tally"] and "expires_at" in item
    assert business_summary(ports, TENANT.id, PeriodKind.WEEKLY, date(2026, 10, 21)) == week

    published = publish(ports, TENANT, week)
    body = aws_env["s3"].get_object(Bucket="reports-test", Key=published["json"])["Body"].read()
    assert json.loads(body)["period"]["label"].startswith("2026-W43")
    mails = list(tmp_path.glob("*.eml"))
    assert len(mails) == 1
    message = message_from_bytes(mails[0].read_bytes())
    assert message["To"] == "finance@example.com"
    assert "Weekly summary 2026-W43" in message["Subject"]


def test_history_mail_to_the_orders_address_rate_limited_and_on_the_timeline(
    aws_env: dict[str, Any], tmp_path: Path
) -> None:
    clock = FixedClock(NOW)
    TenantDirectory(TABLE).save(TENANT)
    store_planted(clock)
    settings = ReportsSettings(table_name=TABLE, mail_dir=str(tmp_path))
    ports = reports_ports(settings, clock)
    answer = mail_order_history(ports, TENANT.id, "A", by="op@example.com")
    assert answer["orders"] == 8  # the customer index: every order with ann@example.com
    (mail,) = tmp_path.glob("order_history-*.eml")
    message = message_from_bytes(mail.read_bytes())
    assert message["To"] == "ann@example.com"
    with pytest.raises(TooSoon):
        mail_order_history(ports, TENANT.id, "A", by="op@example.com")
    clock.advance(timedelta(hours=24))
    mail_order_history(ports, TENANT.id, "A", by="op@example.com")
    timeline = OrderStore(TABLE, clock).timeline(TENANT.id, "A")
    mailed = [e for e in timeline if e["event_kind"] == "OrderHistoryMailed"]
    assert len(mailed) == 2 and "asked by op@example.com" in mailed[0]["summary"]


def test_refund_requests_and_claims_are_read_beside_the_order(aws_env: dict[str, Any]) -> None:
    from functions.reports.adapters.orders import DynamoOrderReader

    clock = FixedClock(NOW)
    store_planted(clock)
    ddb = aws_env["ddb"]
    ddb.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "T#multi-shop#ORDER#P"},
            "SK": {"S": "REFUND#ret-1"},
            "status": {"S": "completed"},
            "gateway_refund_id": {"S": "re_P"},
            "request": {"S": '{"cause": "return"}'},
        },
    )
    LifecycleStore(TABLE, clock).open_claim(
        TENANT.id, "B", {"tracking_code": "B1", "status": "filed", "version": 1}
    )
    reader = DynamoOrderReader(TABLE)
    (request,) = reader.refund_requests(TENANT.id, "P")
    assert (request["refund_id"], request["request"]) == ("ret-1", {"cause": "return"})
    assert [c["tracking_code"] for c in reader.claims(TENANT.id, "B")] == ["B1"]
    assert reader.order(TENANT.id, "nope") is None


def test_the_hourly_tick_publishes_the_tenants_whose_hour_it_is(
    aws_env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.reports.handlers import tick

    TenantDirectory(TABLE).save(TENANT)
    store_planted(FixedClock(NOW))
    aws_env["s3"].create_bucket(Bucket="reports-test")
    for name, value in {"REPORTS_BUCKET": "reports-test", "MAIL_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    context = type(
        "Context",
        (),
        {
            "function_name": "reports",
            "memory_limit_in_mb": 1024,
            "invoked_function_arn": "arn",
            "aws_request_id": "r1",
        },
    )()
    # A late order, held at 04:30 UTC for the operations team's hourly digest.
    shop = TENANT.model_copy(update={"alert_emails": ("ops@multi-shop.example",)})
    TenantDirectory(TABLE).save(shop)
    late = NotDispatched(tenant=shop.id, order_id="o-9", days=3)
    DynamoNoticeDigest(TABLE, FixedClock(datetime(2026, 10, 26, 4, 30, tzinfo=UTC))).hold(
        late, digest_line(late)
    )
    # 06:20 UTC on Monday 26 October is 07:20 in Amsterdam: the tenant's hour has come.
    quiet = tick.handler({"time": "2026-10-26T05:20:00Z"}, context)
    (digest,) = quiet["digests"]
    assert quiet["ticked"] == [] and (digest["team"], digest["notices"]) == ("operations", 1)
    (mail,) = tmp_path.glob("team_digest-*.eml")
    assert "Order o-9 not dispatched after 3 days" in mail.read_text()
    answer = tick.handler({"time": "2026-10-26T06:20:00Z"}, context)
    (done,) = answer["ticked"]
    assert [p["kind"] for p in done["published"]] == ["daily", "weekly"]
    listed = aws_env["s3"].list_objects_v2(Bucket="reports-test", Prefix="reports/multi-shop/")
    assert len(listed["Contents"]) == 6
    on_demand = tick.handler(
        {
            "tenant": "multi-shop",
            "kind": "monthly",
            "day": "2026-10-01",
            "time": "2026-11-09T12:00:00Z",
        },
        context,
    )
    assert on_demand["published"][0]["html"].endswith("monthly/2026-10/summary.html")


def test_a_summary_is_mailed_once_per_period_whatever_the_retries(aws_env: dict[str, Any]) -> None:
    from functions.reports.adapters.delivery import TeamMailer
    from shared.notify.render import RenderedEmail
    from shared.retention import table_retention

    TenantDirectory(TABLE).save(TENANT)

    class CountingMailer:
        def __init__(self) -> None:
            self.sent: list[str] = []
            self.fail = True

        def send(self, email: RenderedEmail, idempotency_key: str) -> str:
            if self.fail:
                self.fail = False
                raise ConnectionError("SES timed out")
            self.sent.append(idempotency_key)
            return f"m{len(self.sent)}"

    counting = CountingMailer()
    mailer = TeamMailer(counting, None, TABLE, table_retention(TABLE, FixedClock(NOW)))
    to = ("finance@example.com",)
    key = "multi-shop:summary:weekly:2026-W43"
    # The first send fails: its claim is given back, so the retry sends.
    assert mailer.email(TENANT, to, "s", "<p>h</p>", "t", key) is None
    assert mailer.email(TENANT, to, "s", "<p>h</p>", "t", key) == "m1"
    # Retried ticks and re-runs send nothing more; another period goes.
    assert mailer.email(TENANT, to, "s", "<p>h</p>", "t", key) is None
    assert mailer.email(TENANT, to, "s", "<p>h</p>", "t", key.replace("W43", "W44")) == "m2"
    assert counting.sent == [key, key.replace("W43", "W44")]
