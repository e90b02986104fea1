"""What the teams are told on the local stack: an SQS queue subscribed to an alerts topic, with
the filter policy a team's subscription would have, read back as (body, attributes)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any


class TopicInbox:
    """An SQS queue subscribed (raw delivery) to the client or operations alerts topic."""

    def __init__(
        self, stack: Any, *, topic: str = "Client", filter_policy: dict[str, Any] | None = None
    ) -> None:
        deployment = stack.deployment
        arn = next(
            physical
            for lid, physical in deployment.physical.items()
            if deployment.types.get(lid) == "AWS::SNS::Topic" and topic in lid
        )
        self.sqs = stack.client("sqs")
        self.url = self.sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attributes = {"RawMessageDelivery": "true"}
        if filter_policy:
            attributes["FilterPolicy"] = json.dumps(filter_policy)
        stack.client("sns").subscribe(
            TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes
        )

    def read(self) -> list[dict[str, Any]]:
        """What arrived so far: each the message attributes' values plus ``message`` (the body)."""
        found: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                return found
            for message in batch:
                attributes = {
                    name: value["StringValue"]
                    for name, value in message.get("MessageAttributes", {}).items()
                }
                found.append({**attributes, "message": message["Body"]})

    def messages(self, tenant: str) -> list[dict[str, Any]]:
        return [m for m in self.read() if m.get("tenant") == tenant]

    def wait_for(self, tenant: str, kind: str, timeout_s: float = 30) -> dict[str, Any]:
        (found,) = self.wait_for_each(tenant, kind, 1, timeout_s)
        return found

    def wait_for_each(
        self, tenant: str, kind: str, count: int, timeout_s: float = 30
    ) -> list[dict[str, Any]]:
        """The tenant's notices of ``kind`` once ``count`` of them came (never more)."""
        deadline = time.monotonic() + timeout_s
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen += self.messages(tenant)
            matching = [m for m in seen if m.get("kind") == kind]
            if len(matching) >= count:
                assert len(matching) == count, matching
                return matching
            time.sleep(0.2)
        raise AssertionError(f"no {kind} notice for {tenant}; saw {[m.get('kind') for m in seen]}")
