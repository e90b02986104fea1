"""Customer history for screening, kept in the table as timed facts per customer.

``T#<t>#CUSTHIST#<hash of customer key>`` / ``<UTC time>#<kind>#<ref>``: one item per order,
refund, chargeback and fraud decision (a block, or a reviewer's rejection). The sort key starts
with the time the fact happened, so "what was known before this order" is one key-range query,
and a fact learned late (a chargeback weeks after the order) is seen by orders placed after it
happened, never by earlier ones. Writes are idempotent puts: re-recording is harmless.

Which time each fact carries (the rule is in ``shared.clock``):

- an order: its ``occurred_at`` (when the shop says it was placed);
- a refund: when the gateway says it was created; a chargeback: when the dispute was opened;
- a fraud decision: when we took it (the lifecycle's clock at the block or the rejection),
  never earlier than the order it judges.

A screening reads strictly before the screened order's ``occurred_at``, so replayed traffic
files every reported fact where it belongs, and a decision taken during a replay (dated at the
replay) is seen by no order that was placed before it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.risk.customers import CustomerHistory, HistoryEvent, customer_key
from shared import aws, keys
from shared.order_aggregate import OrderState

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def history_pk(tenant: str, who: str) -> str:
    return keys.customer_history_pk(tenant, who)


def _at(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_TIME_FORMAT)


class DynamoHistory:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def record(
        self, tenant: str, who: str, at: datetime, kind: HistoryEvent, ref: str, amount: int = 0
    ) -> None:
        if not who:
            return
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": history_pk(tenant, who)},
                "SK": {"S": f"{_at(at)}#{kind}#{ref}"},
                "kind": {"S": "customer-history"},
                "tenant": {"S": tenant},
                "fact": {"S": kind},
                "ref": {"S": ref},
                "amount": {"N": str(amount)},
            },
        )

    def history(self, tenant: str, customer_key: str, before: datetime) -> CustomerHistory:
        orders = amount = refunds = chargebacks = fraud = 0
        seen: set[tuple[str, str]] = set()
        client = aws.client("dynamodb")
        args: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND SK < :before",
            "ExpressionAttributeValues": {
                ":pk": {"S": history_pk(tenant, customer_key)},
                ":before": {"S": _at(before)},
            },
            "ProjectionExpression": "fact, #r, amount",
            "ExpressionAttributeNames": {"#r": "ref"},
        }
        while True:
            page = client.query(**args)
            for item in page.get("Items", []):
                fact, ref = item["fact"]["S"], item["ref"]["S"]
                # One fact per reference, even if it was recorded at two times (a replayed
                # event with a corrected timestamp).
                if (fact, ref) in seen:
                    continue
                seen.add((fact, ref))
                if fact == "order":
                    orders += 1
                    amount += int(item["amount"]["N"])
                elif fact == "refund":
                    refunds += 1
                elif fact == "chargeback":
                    chargebacks += 1
                elif fact == "fraud_decision":
                    fraud += 1
            if "LastEvaluatedKey" not in page:
                break
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return CustomerHistory(orders, amount, refunds, chargebacks, fraud)

    def record_outcomes(self, state: OrderState) -> int:
        """Refunds and chargebacks of an order, filed under its customer (idempotent)."""
        order = state.order
        if order is None:
            return 0
        who = customer_key(order)
        written = 0
        for payment in state.payments.values():
            for refund_id, refund in payment.refunds.items():
                if refund.status.value in ("succeeded", "pending"):
                    at = refund.status.at or order.occurred_at
                    self.record(order.tenant, who, at, "refund", refund_id, refund.amount)
                    written += 1
        for dispute in state.disputes.values():
            at = dispute.opened_at or order.occurred_at
            self.record(order.tenant, who, at, "chargeback", dispute.dispute_id)
            written += 1
        return written
