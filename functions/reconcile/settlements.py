"""Gateway payouts (settlements) and the balance transactions each one swept.

Payout events merge order-free like orders do (paid and failed are facts with times; the
status is the latest by the gateway's time, and "failed after being paid" stays visible). On
``payout.paid`` and ``payout.reconciliation_completed`` the payout's balance transactions are
fetched through the gateway API and filed by ``reporting_category`` for reconciliation.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from functions.webhooks.normalise.stripe import BalanceTransaction, balance_transaction_from_stripe
from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.events import PayoutFailed, PayoutPaid


class PayoutState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    payout_id: str
    currency: str | None = None
    amount: int = 0
    arrival_date: datetime | None = None
    statement_descriptor: str | None = None
    paid_at: datetime | None = None
    failed_at: datetime | None = None
    failure_code: str | None = None
    reconciliation_completed: bool = False

    @property
    def status(self) -> str:
        if self.failed_at and (self.paid_at is None or self.failed_at >= self.paid_at):
            return "failed_after_paid" if self.paid_at else "failed"
        return "paid" if self.paid_at else "pending"


def apply_payout(state: PayoutState, event: PayoutPaid | PayoutFailed) -> PayoutState:
    new = state.model_copy(deep=True)
    new.currency = event.amount.currency
    new.amount = max(new.amount, event.amount.amount)
    new.arrival_date = max(filter(None, (new.arrival_date, event.arrival_date)), default=None)
    new.statement_descriptor = new.statement_descriptor or event.statement_descriptor
    if isinstance(event, PayoutPaid):
        new.paid_at = min(filter(None, (new.paid_at, event.occurred_at)))
        new.reconciliation_completed |= event.reconciliation_completed
    else:
        new.failed_at = max(filter(None, (new.failed_at, event.occurred_at)))
        new.failure_code = event.failure_code or new.failure_code
    return new


def summarise(transactions: Iterable[BalanceTransaction]) -> dict[str, dict[str, int]]:
    """Per reporting category: count, gross amount, fees and net, in minor units."""
    totals: dict[str, dict[str, int]] = defaultdict(
        lambda: {"count": 0, "amount": 0, "fee": 0, "net": 0}
    )
    for txn in transactions:
        row = totals[txn.reporting_category or txn.type]
        row["count"] += 1
        row["amount"] += txn.amount.amount
        row["fee"] += txn.fee.amount
        row["net"] += txn.net.amount
    return dict(totals)


class GatewayPort(Protocol):
    def balance_transactions_for_payout(self, payout_id: str) -> Iterable[dict[str, Any]]: ...


class SettlementStore:
    def __init__(self, table_name: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table_name = table_name
        self.clock = clock

    def pk(self, tenant: str, payout_id: str) -> str:
        return keys.payout_pk(tenant, payout_id)

    def apply(self, event: PayoutPaid | PayoutFailed, attempts: int = 25) -> str:
        """Merge a payout event once: the payout item records the events it has applied."""
        ddb = aws.client("dynamodb")
        key = {"PK": {"S": self.pk(event.tenant, event.payout_id)}, "SK": {"S": "PAYOUT"}}
        for _ in range(attempts):
            item = ddb.get_item(TableName=self.table_name, ConsistentRead=True, Key=key).get("Item")
            if item and event.source_event_id in item.get("applied", {}).get("SS", []):
                return "duplicate"
            version = int(item["version"]["N"]) if item else 0
            state = (
                PayoutState.model_validate_json(item["state"]["S"])
                if item
                else PayoutState(tenant=event.tenant, payout_id=event.payout_id)
            )
            new = apply_payout(state, event)
            values: dict[str, Any] = {
                ":kind": {"S": "payout"},
                ":tenant": {"S": event.tenant},
                ":payout": {"S": event.payout_id},
                ":status": {"S": new.status},
                ":amount": {"N": str(new.amount)},
                ":currency": {"S": new.currency or ""},
                ":version": {"N": str(version + 1)},
                ":state": {"S": new.model_dump_json()},
                ":gsi_pk": {"S": keys.payouts_index(event.tenant)},
                ":gsi_sk": {
                    "S": f"{(new.arrival_date or event.occurred_at).isoformat()}#{event.payout_id}"
                },
                ":applied": {"SS": [event.source_event_id]},
            }
            if version:
                condition = "version = :expected"
                values[":expected"] = {"N": str(version)}
            else:
                condition = "attribute_not_exists(PK)"
            try:
                ddb.update_item(
                    TableName=self.table_name,
                    Key=key,
                    UpdateExpression=(
                        "SET kind = :kind, tenant = :tenant, payout_id = :payout, "
                        "#status = :status, amount = :amount, currency = :currency, "
                        "version = :version, #state = :state, GSI2PK = :gsi_pk, "
                        "GSI2SK = :gsi_sk ADD applied :applied"
                    ),
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#status": "status", "#state": "state"},
                    ExpressionAttributeValues=values,
                )
            except ddb.exceptions.ConditionalCheckFailedException:
                continue
            return "applied"
        raise RuntimeError(f"payout {event.payout_id} kept changing while applying an event")

    def file_balance_transactions(
        self, tenant: str, payout_id: str, gateway: GatewayPort
    ) -> dict[str, dict[str, int]]:
        """Fetch and store every balance transaction of a payout; return the per-category sums."""
        ddb = aws.client("dynamodb")
        pk = self.pk(tenant, payout_id)
        transactions = [
            balance_transaction_from_stripe(raw, payout_id=payout_id)
            for raw in gateway.balance_transactions_for_payout(payout_id)
        ]
        for start in range(0, len(transactions), 25):
            requests = [
                {
                    "PutRequest": {
                        "Item": {
                            "PK": {"S": pk},
                            "SK": {"S": f"BT#{txn.reporting_category or txn.type}#{txn.id}"},
                            "kind": {"S": "balance_transaction"},
                            "txn": {"S": txn.model_dump_json()},
                        }
                    }
                }
                for txn in transactions[start : start + 25]
            ]
            pending: dict[str, Any] = {self.table_name: requests}
            while pending:
                answer = ddb.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
        totals = summarise(transactions)
        ddb.put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": pk},
                "SK": {"S": "SUMMARY"},
                "kind": {"S": "payout_summary"},
                "categories": {"S": json.dumps(totals, sort_keys=True)},
                "transactions": {"N": str(len(transactions))},
                "net": {
                    "N": str(
                        sum(
                            t.net.amount
                            for t in transactions
                            if (t.reporting_category or t.type) != "payout"
                        )
                    )
                },
                "filed_at": {"S": self.clock.now().isoformat()},
            },
        )
        return totals
