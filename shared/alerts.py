"""Alerts to people: the client team of a tenant, or our own operations team (SNS topics).

One publisher for every context. An alert never stops the work that raised it: a failure to
publish is logged and swallowed. The tenant travels as a message attribute, which the client
topic's e-mail subscriptions filter on (each client team sees only its own shop).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from shared.observability import logger


class Alerts(Protocol):
    def alert(self, tenant: str | None, subject: str, details: Mapping[str, Any]) -> None:
        """Tell the people behind this topic; never raises."""
        ...


class SnsAlerts:
    def __init__(self, topic_arn: str | None) -> None:
        self.topic_arn = topic_arn

    def alert(self, tenant: str | None, subject: str, details: Mapping[str, Any]) -> None:
        if not self.topic_arn:
            logger.warning("alert with no topic to send it to", extra={"subject": subject})
            return
        from shared import aws

        request: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            # SNS subjects: at most 100 characters, no line breaks.
            "Subject": " ".join(subject.split())[:100],
            "Message": json.dumps(dict(details), default=str, indent=1),
        }
        if tenant:
            request["MessageAttributes"] = {"tenant": {"DataType": "String", "StringValue": tenant}}
        try:
            aws.client("sns").publish(**request)
        except Exception as error:  # an alert must never stop what raised it
            logger.exception("alert failed", extra={"subject": subject, "error": str(error)})
