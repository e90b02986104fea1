"""The chargeback desk's hourly tick on moto (issue 15, item 4): the handler reminds the client
team of evidence due within 5, 2 and 1 days (SNS and a rendered e-mail), once per threshold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.disputes.adapters.case_store import DynamoCaseStore
from functions.disputes.handlers.tick import handler
from functions.disputes.use_cases.cases import record_dispute_event
from shared.tenants import TenantDirectory
from tests.component.conftest import TABLE
from tests.disputes_fakes import dispute_event, ports, tenant

DUE = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)


class LambdaContext:
    function_name = "disputes-tick"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:disputes-tick"
    aws_request_id = "req-1"


def test_the_tick_reminds_once_per_threshold(
    aws_env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = boto3.client("sns").create_topic(Name="client-alerts")["TopicArn"]
    monkeypatch.setenv("CLIENT_ALERTS_TOPIC", topic)
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    TenantDirectory(TABLE).save(tenant())
    store = DynamoCaseStore(TABLE)
    p = ports()
    p.cases = store
    record_dispute_event(p, dispute_event(due_by=DUE), "o-1")

    def tick(at: datetime) -> list[dict[str, Any]]:
        answer = handler({"time": at.isoformat()}, LambdaContext())
        return list(answer["reminded"])

    assert tick(DUE - timedelta(days=6)) == []
    assert tick(DUE - timedelta(days=4, hours=23)) == [
        {"tenant": "acme", "dispute_id": "dp_1", "days_before": 5}
    ]
    assert tick(DUE - timedelta(days=4, hours=22)) == []
    case = store.get("acme", "dp_1")
    assert case is not None and case.reminders_sent == [5]
    (mail,) = tmp_path.rglob("*.eml")
    text = mail.read_text()
    assert "Dispute evidence due in 5 days" in text
    assert "Tue 01 Dec 2026 00:59 CET" in text
