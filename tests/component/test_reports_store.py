"""The reports' adapters on moto: the planted orders stored as the processor stores them (the
aggregate, its screening, a change note per day of each fact), tallied through the change
index, the tallies stored compressed and read back by range, and the week published to S3 and
mailed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

from functions.reports.composition import ReportsSettings, reports_ports
from functions.reports.domain.periods import PeriodKind
from functions.reports.use_cases.summary import business_summary, publish
from shared.lifecycle_store import LifecycleStore
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
        entry = TimelineEntry(order.times[0], "shop", f"e-{order.order_id}", "OrderPlaced", "", {})
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

    week = business_summary(ports, TENANT.id, PeriodKind.WEEKLY, date(2026, 10, 21))
    eur = {f.key: f.current for f in week.sections[0].figures}
    general = {f.key: f.current for f in week.figures}
    assert (eur["orders"], eur["net"], eur["total"], eur["returns"]) == (2, 5500, 6600, 1000)
    assert (general["placed"], general["screening_block"], general["review_rejected"]) == (5, 1, 1)

    # Both weeks' days are stored, compressed, and read back equal.
    stored = ports.tallies.between(TENANT.id, date(2026, 10, 12), date(2026, 10, 25))
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
