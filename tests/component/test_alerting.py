"""``shared.alerts.Alerting`` over moto: SNS with a team's filter policy, SES from the operations
sender, and the table's record that makes each notice go out once per identity and channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from shared import keys
from shared.alerts import Alerting, DynamoAlertLog
from shared.notices.orders import NotDispatched, RefundFailed
from shared.notify.mailers import SesMailer
from shared.tenants import TenantDirectory, TenantSettings
from tests.clocks import FixedClock
from tests.component.conftest import TABLE

ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="USD",
    customer_sender="Acme <orders@acme.example>",
    alert_emails=("ops@acme.example",),
)
OPS = "Ecom OPS <ops@ecomops.test>"


def subscribed(topic: str, policy: dict[str, Any]) -> str:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName=f"team-{len(json.dumps(policy))}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    boto3.client("sns").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn["QueueArn"],
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(policy)},
    )
    return queue


def received(queue: str) -> list[dict[str, Any]]:
    answer = boto3.client("sqs").receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return [
        {
            "body": m["Body"],
            **{k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()},
        }
        for m in answer.get("Messages", [])
    ]


def sent_mail() -> list[Any]:
    """What moto's SES accepted (its backend keeps each raw message with its source)."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def test_a_notice_is_published_filtered_mailed_from_operations_and_never_twice(
    aws_env: dict[str, Any],
) -> None:
    TenantDirectory(TABLE).save(ACME)
    ses = boto3.client("ses")
    ses.verify_email_identity(EmailAddress="ops@ecomops.test")  # the operations sender only
    topic = boto3.client("sns").create_topic(Name="client-alerts")["TopicArn"]
    refunds_team = subscribed(topic, {"tenant": ["acme"], "kind": ["refund_failed"]})
    dispatch_team = subscribed(topic, {"tenant": ["acme"], "kind": ["not_dispatched"]})
    clock = FixedClock(datetime(2026, 11, 20, 9, tzinfo=UTC))
    alerting = Alerting(
        topic,
        tenants=TenantDirectory(TABLE),
        mailer=SesMailer(clock=clock),
        log=DynamoAlertLog(TABLE, clock),
        ops_sender=OPS,
        api_url="https://api.ecomops.test",
    )
    notice = RefundFailed(
        tenant="acme",
        order_id="o-1",
        refund_id="r1",
        reason="card expired",
        amount=500,
        currency="USD",
    )

    alerting.send(notice)
    alerting.send(notice)  # a retried step

    (message,) = received(refunds_team)
    assert message["body"].startswith(
        "Refund of USD 5.00 for order o-1 failed: the customer has not been paid back\n"
    )
    assert (message["kind"], message["order_id"], message["refund_id"]) == (
        "refund_failed",
        "o-1",
        "r1",
    )
    assert received(dispatch_team) == []
    pk, sk = keys.alert_sent("acme", notice.identity)
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": sk}}
    )["Item"]
    assert {"sns_message_id", "email_message_id"} <= set(item)
    assert item["notice"]["S"] == "refund_failed"
    (mail,) = sent_mail()
    assert mail.source == "ops@ecomops.test" and f"From: {OPS}" in mail.raw_data
    assert "Subject: [Acme] Refund of USD 5.00 for order o-1 failed" in mail.raw_data

    alerting.send(NotDispatched(tenant="acme", order_id="o-1", days=3))
    assert [m["kind"] for m in received(dispatch_team)] == ["not_dispatched"]
    assert [m.source for m in sent_mail()] == ["ops@ecomops.test"] * 2
