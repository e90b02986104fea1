"""What the order lifecycle keeps beside the aggregate: its stage, screening and waits.

- ``T#<t>#ORDER#<order>`` / ``WORKFLOW``: the lifecycle stage (potential_fraud, confirmed, …);
- ``T#<t>#ORDER#<order>`` / ``SCREENING``: the last screening result;
- ``T#<t>#ORDER#<order>`` / ``REVIEW``: a review hold: when it began, the call task for the
  client team and the calls' outcomes, when the authorisation window's alert went out;
- ``T#<t>#ORDER#<order>`` / ``WAIT#<kind>``: a Step Functions task token waiting for a fact
  (shipment, delivery, review decision), and how its state wants the answer (``answer``, absent
  for the tokens of older definitions); the processor redeems it when the fact arrives;
- ``T#<t>#ORDER#<order>`` / ``RELEASE``: funds releasable to the vendors (the ledger's input);
- ``T#<t>#ORDER#<order>`` / ``CLAIM#<parcel>``: a carrier claim for one parcel, versioned (every
  change is one conditional write on the version it read, and appends who and when to its
  history); open ones are listed by the ``T#<t>#CLAIMS#open`` index;
- ``T#<t>#ORDER#<order>`` / ``MOVEMENT``: the parcels' scans when the delivery wait began (what
  the movement check of executions on the definitions before the heartbeat compares with).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.order_changes import OrderChanges
from shared.order_store import order_pk
from shared.retention import Retention, table_retention

# The orders contracts' ``Stage.CANCELLED`` (the kernel does not import a context).
CANCELLED_STAGE = "cancelled"


class LifecycleStore:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        self.clock = clock
        # Beside the order, kept as long as it (the released funds are the vendor ledger's).
        self.retention = retention or table_retention(table_name, clock)

    def _put(self, tenant: str, order_id: str, sk: str, fields: dict[str, Any]) -> None:
        item = {
            "PK": {"S": order_pk(tenant, order_id)},
            "SK": {"S": sk},
            "tenant": {"S": tenant},
            "order_id": {"S": order_id},
            "updated_at": {"S": self.clock.now().isoformat()},
            **self.retention.attribute(tenant),
        }
        item.update(
            {
                k: {"S": v if isinstance(v, str) else json.dumps(v, default=str)}
                for k, v in fields.items()
            }
        )
        aws.client("dynamodb").put_item(TableName=self.table_name, Item=item)

    def _get(self, tenant: str, order_id: str, sk: str) -> dict[str, str] | None:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table_name,
                ConsistentRead=True,
                Key={"PK": {"S": order_pk(tenant, order_id)}, "SK": {"S": sk}},
            )
            .get("Item")
        )
        return {k: v["S"] for k, v in item.items() if "S" in v} if item else None

    def set_stage(self, tenant: str, order_id: str, stage: str, detail: str = "") -> None:
        # Indexed by stage so operators can list the review queue, stuck orders and the like.
        self._put(
            tenant,
            order_id,
            "WORKFLOW",
            {
                "kind": "workflow",
                "stage": stage,
                "detail": detail,
                "GSI2PK": keys.stage_index(tenant, stage),
                "GSI2SK": order_id,
            },
        )
        if stage == CANCELLED_STAGE:
            # Whoever cancelled (shop, operator, screening, review), the daily reconciliation
            # checks the refund every day of the tenant's cancellation window.
            today = self.clock.now().astimezone(UTC).date()
            changes = OrderChanges(self.table_name, self.clock, self.retention)
            changes.note_cancelled(tenant, order_id, today)

    def in_stage(self, tenant: str, stage: str) -> list[dict[str, str]]:
        paginator = aws.client("dynamodb").get_paginator("query")
        found = []
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.stage_index(tenant, stage)}},
        ):
            found += [{k: v["S"] for k, v in item.items() if "S" in v} for item in page["Items"]]
        return found

    def stage(self, tenant: str, order_id: str) -> str | None:
        item = self._get(tenant, order_id, "WORKFLOW")
        return item["stage"] if item else None

    def save_screening(self, tenant: str, order_id: str, screening: dict[str, Any]) -> None:
        self._put(tenant, order_id, "SCREENING", {"kind": "screening", "result": screening})

    def screening(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        item = self._get(tenant, order_id, "SCREENING")
        return json.loads(item["result"]) if item else None

    def put_wait(
        self, tenant: str, order_id: str, wait: str, token: str, answer: str | None = None
    ) -> None:
        """Park a token; ``answer`` says how the waiting state wants to be answered (kept with
        the token, read back by ``take_parked``)."""
        fields = {"kind": "wait", "wait": wait, "token": token}
        if answer is not None:
            fields["answer"] = answer
        self._put(tenant, order_id, f"WAIT#{wait}", fields)

    def take_wait(self, tenant: str, order_id: str, wait: str) -> str | None:
        """Remove and return the waiting token (only one caller gets it)."""
        taken = self.take_parked(tenant, order_id, wait)
        return taken[0] if taken else None

    def take_parked(self, tenant: str, order_id: str, wait: str) -> tuple[str, str | None] | None:
        """Remove and return the waiting token and how it wants its answer (None: parked
        without saying); only one caller gets it."""
        answer = aws.client("dynamodb").delete_item(
            TableName=self.table_name,
            Key={"PK": {"S": order_pk(tenant, order_id)}, "SK": {"S": f"WAIT#{wait}"}},
            ReturnValues="ALL_OLD",
        )
        old = answer.get("Attributes")
        if not old:
            return None
        return old["token"]["S"], old["answer"]["S"] if "answer" in old else None

    def waiting(self, tenant: str, order_id: str) -> set[str]:
        """The waits whose tokens are parked now: one consistent read of the order's ``WAIT#``
        items, so an event redeems only what is there (a delete of an absent item is billed a
        write unit all the same)."""
        return set(self.parked(tenant, order_id))

    def parked(self, tenant: str, order_id: str) -> dict[str, str]:
        """The tokens parked now, by wait (``waiting``'s read, the tokens with it: a read is
        billed by the items' size, whatever it projects), left in place."""
        pages = (
            aws.client("dynamodb")
            .get_paginator("query")
            .paginate(
                TableName=self.table_name,
                ConsistentRead=True,
                KeyConditionExpression="PK = :pk AND begins_with(SK, :w)",
                ExpressionAttributeValues={
                    ":pk": {"S": order_pk(tenant, order_id)},
                    ":w": {"S": "WAIT#"},
                },
                ProjectionExpression="SK, #token",
                ExpressionAttributeNames={"#token": "token"},
            )
        )
        return {
            i["SK"]["S"].removeprefix("WAIT#"): i["token"]["S"]
            for page in pages
            for i in page["Items"]
        }

    def _claim_item(self, tenant: str, order_id: str, claim: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "PK": {"S": order_pk(tenant, order_id)},
            "SK": {"S": keys.claim_sk(claim["tracking_code"])},
            "tenant": {"S": tenant},
            "order_id": {"S": order_id},
            "kind": {"S": "carrier_claim"},
            "updated_at": {"S": self.clock.now().isoformat()},
            "version": {"N": str(claim["version"])},
            "claim": {"S": json.dumps(claim, default=str)},
        }
        if claim["status"] in ("filed", "accepted"):
            item["GSI2PK"] = {"S": keys.open_claims_index(tenant)}
            item["GSI2SK"] = {"S": f"{order_id}#{claim['tracking_code']}"}
        return item

    def open_claim(self, tenant: str, order_id: str, claim: dict[str, Any]) -> bool:
        """A carrier claim for one parcel, once: False when the parcel has one already."""
        ddb = aws.client("dynamodb")
        try:
            ddb.put_item(
                TableName=self.table_name,
                Item=self._claim_item(tenant, order_id, claim),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def save_claim(
        self, tenant: str, order_id: str, claim: dict[str, Any], expected_version: int
    ) -> bool:
        """The claim's next version, only over ``expected_version``: False when someone else
        changed it first (read it again)."""
        ddb = aws.client("dynamodb")
        try:
            ddb.put_item(
                TableName=self.table_name,
                Item=self._claim_item(tenant, order_id, claim),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(expected_version)}},
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def claims(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        answer = aws.client("dynamodb").query(
            TableName=self.table_name,
            ConsistentRead=True,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(tenant, order_id)},
                ":p": {"S": keys.claim_sk("")},
            },
        )
        return [json.loads(item["claim"]["S"]) for item in answer["Items"]]

    def open_claims(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's claims still waiting for the carrier (filed or accepted)."""
        paginator = aws.client("dynamodb").get_paginator("query")
        found = []
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName=keys.BY_STATUS,
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.open_claims_index(tenant)}},
        ):
            found += [
                {"order_id": item["order_id"]["S"], **json.loads(item["claim"]["S"])}
                for item in page["Items"]
            ]
        return found

    def save_movement(self, tenant: str, order_id: str, fingerprint: str) -> None:
        self._put(
            tenant, order_id, keys.MOVEMENT_SK, {"kind": "movement", "fingerprint": fingerprint}
        )

    def movement(self, tenant: str, order_id: str) -> str | None:
        item = self._get(tenant, order_id, keys.MOVEMENT_SK)
        return item["fingerprint"] if item else None

    def release_funds(self, tenant: str, order_id: str, lines: list[dict[str, Any]]) -> None:
        self._put(tenant, order_id, "RELEASE", {"kind": "funds_releasable", "lines": lines})

    # -- a review hold ---------------------------------------------------------------------------

    def _update_review(
        self, tenant: str, order_id: str, expression: str, values: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        return dict(
            aws.client("dynamodb").update_item(
                TableName=self.table_name,
                Key={"PK": {"S": order_pk(tenant, order_id)}, "SK": {"S": keys.REVIEW_SK}},
                UpdateExpression=expression,
                ExpressionAttributeValues=values,
                **extra,
            )
        )

    def start_review(self, tenant: str, order_id: str, at: datetime) -> datetime:
        """When the order's review hold began: ``at`` the first time, the same time after."""
        answer = self._update_review(
            tenant,
            order_id,
            "SET held_at = if_not_exists(held_at, :at), tenant = :t, order_id = :o, kind = :k",
            {
                ":at": {"S": at.isoformat()},
                ":t": {"S": tenant},
                ":o": {"S": order_id},
                ":k": {"S": "review"},
            },
            ReturnValues="ALL_NEW",
        )
        return datetime.fromisoformat(answer["Attributes"]["held_at"]["S"])

    def _set_once(self, tenant: str, order_id: str, field: str, value: str) -> bool:
        try:
            self._update_review(
                tenant,
                order_id,
                f"SET {field} = :v",
                {":v": {"S": value}},
                ConditionExpression=f"attribute_not_exists({field})",
            )
        except aws.client("dynamodb").exceptions.ConditionalCheckFailedException:
            return False
        return True

    def open_call_task(self, tenant: str, order_id: str, task: dict[str, Any]) -> bool:
        """The review's call task, made once: False when it exists already."""
        return self._set_once(tenant, order_id, "call_task", json.dumps(task, default=str))

    def mark_window_alerted(self, tenant: str, order_id: str, at: datetime) -> bool:
        """The authorisation window's alert, once per review: False when it went out already."""
        return self._set_once(tenant, order_id, "window_alerted_at", at.isoformat())

    def add_call_outcome(self, tenant: str, order_id: str, outcome: dict[str, Any]) -> None:
        self._update_review(
            tenant,
            order_id,
            "SET outcomes = list_append(if_not_exists(outcomes, :none), :one)",
            {":none": {"L": []}, ":one": {"L": [{"S": json.dumps(outcome, default=str)}]}},
        )

    def review(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        """The review hold: ``held_at``, ``call_task`` (with its ``outcomes``) and
        ``window_alerted_at``, or None before the order was held."""
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table_name,
                ConsistentRead=True,
                Key={"PK": {"S": order_pk(tenant, order_id)}, "SK": {"S": keys.REVIEW_SK}},
            )
            .get("Item")
        )
        if not item:
            return None
        return {
            "held_at": item["held_at"]["S"] if "held_at" in item else None,
            "call_task": json.loads(item["call_task"]["S"]) if "call_task" in item else None,
            "outcomes": [json.loads(o["S"]) for o in item.get("outcomes", {}).get("L", [])],
            "window_alerted_at": item.get("window_alerted_at", {}).get("S"),
        }
