"""Routine notices held in the table (``shared.notice_digest.DynamoNoticeDigest``) and the reports'
digest over moto: held by team and time, read up to a moment with one query, mailed by SES
from the operations sender once, then let go; the order's timeline says the notice was held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from functions.reports.adapters.delivery import TeamMailer
from functions.reports.use_cases.digest import Digests, send_digests
from shared import keys
from shared.alerts import Alerting, DynamoAlertLog
from shared.notice_digest import DynamoNoticeDigest
from shared.notices.orders import NotDispatched, RefundFailed, ReturnToInspect
from shared.notify.mailers import SesMailer
from shared.retention import table_retention
from shared.tenants import TenantDirectory
from tests.clocks import FixedClock
from tests.component.conftest import TABLE
from tests.component.test_alerting import ACME, OPS


def _held_items() -> list[dict[str, Any]]:
    pk, _ = keys.notice_held("acme", "", "")
    return boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
    )["Items"]


def test_held_notices_are_read_up_to_a_moment_with_their_team_and_let_go(
    aws_env: dict[str, Any],
) -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, 59, 59, 999000, tzinfo=UTC))
    digest = DynamoNoticeDigest(TABLE, clock)
    digest.hold(NotDispatched(tenant="acme", order_id="o-1", days=3), {"headline": "first"})
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # the hour's first instant: the next
    digest.hold(NotDispatched(tenant="acme", order_id="o-2", days=3), {"headline": "second"})
    ten = datetime(2026, 11, 23, 10, tzinfo=UTC)

    (first,) = digest.held("acme", ten)
    assert first.line == {"headline": "first"} and first.held_at < ten
    assert first.team == "operations"
    assert digest.held("globex", ten + timedelta(hours=1)) == []
    both = digest.held("acme", ten + timedelta(hours=1))
    assert [h.line["headline"] for h in both] == ["first", "second"]
    (item, _) = _held_items()
    # Gone from the table on its own if no digest ever carries it.
    assert int(item["expires_at"]["N"]) > int(ten.timestamp()) + 29 * 86_400

    digest.release("acme", both)
    assert _held_items() == []


def test_the_tick_mails_the_teams_held_notices_once_by_ses_and_lets_them_go(
    aws_env: dict[str, Any],
) -> None:
    TenantDirectory(TABLE).save(ACME)
    boto3.client("ses").verify_email_identity(EmailAddress="ops@ecomops.test")
    topic = boto3.client("sns").create_topic(Name="client-alerts")["TopicArn"]
    clock = FixedClock(datetime(2026, 11, 23, 9, 20, tzinfo=UTC))
    held = DynamoNoticeDigest(TABLE, clock)
    mailer = SesMailer(clock=clock)
    alerting = Alerting(
        topic,
        tenants=TenantDirectory(TABLE),
        mailer=mailer,
        log=DynamoAlertLog(TABLE, clock),
        ops_sender=OPS,
        api_url="https://api.ecomops.test",
        digest=held,
    )
    alerting.send(NotDispatched(tenant="acme", order_id="o-1", days=3))
    alerting.send(ReturnToInspect(tenant="acme", order_id="o-2", return_id="ret-1"))
    # A failed refund needs someone now: mailed at once.
    alerting.send(RefundFailed(tenant="acme", order_id="o-3", refund_id="r-1", reason="declined"))
    outbox = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert ["for order o-3 failed" in m.raw_data for m in outbox] == [True]

    ports = Digests(
        digest=held,
        mailer=TeamMailer(mailer, OPS, TABLE, table_retention(TABLE, clock)),
    )
    tick = datetime(2026, 11, 23, 10, 10, tzinfo=UTC)
    (sent,) = send_digests(ports, [ACME], tick)
    assert (sent["team"], sent["notices"]) == ("operations", 2)
    digest_mail = outbox[-1].raw_data
    assert "Subject: [Acme] 2 notices to follow up from the last hour" in digest_mail
    assert "To: ops@acme.example" in digest_mail and f"From: {OPS}" in digest_mail
    assert _held_items() == []
    # The tick run again (a retry) finds nothing held and sends nothing.
    assert send_digests(ports, [ACME], tick) == []
    assert len(outbox) == 2
