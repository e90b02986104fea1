"""Gateway payouts and their balance transactions in the table (``shared.keys``: payouts).

On ``payout.paid`` and ``payout.reconciliation_completed`` the processor fetches the payout's
balance transactions through the gateway and files them here by ``reporting_category``;
reconciliation reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.events import PayoutFailed, PayoutPaid
from shared.retention import TTL_ATTRIBUTE, Retention, table_retention
from shared.settlements import BalanceTransaction, PayoutState, apply_payout, summarise


class SettlementStore:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        self.clock = clock
        # Payouts and their balance transactions are kept the tenant's retention period.
        self.retention = retention or table_retention(table_name, clock)

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
                ":ttl": {"N": str(self.retention.expires_at(event.tenant))},
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
                        "GSI2SK = :gsi_sk, #ttl = :ttl ADD applied :applied"
                    ),
                    ConditionExpression=condition,
                    ExpressionAttributeNames={
                        "#status": "status",
                        "#state": "state",
                        "#ttl": TTL_ATTRIBUTE,
                    },
                    ExpressionAttributeValues=values,
                )
            except ddb.exceptions.ConditionalCheckFailedException:
                continue
            return "applied"
        raise RuntimeError(f"payout {event.payout_id} kept changing while applying an event")

    def file_balance_transactions(
        self, tenant: str, payout_id: str, transactions: Iterable[BalanceTransaction]
    ) -> dict[str, dict[str, int]]:
        """Store every balance transaction of a payout; return the per-category sums."""
        ddb = aws.client("dynamodb")
        pk = self.pk(tenant, payout_id)
        transactions = list(transactions)
        keep = self.retention.attribute(tenant)
        aws.batch_write(
            self.table_name,
            [
                {
                    "PutRequest": {
                        "Item": {
                            "PK": {"S": pk},
                            "SK": {"S": f"BT#{txn.reporting_category or txn.type}#{txn.id}"},
                            "kind": {"S": "balance_transaction"},
                            "txn": {"S": txn.model_dump_json()},
                            **keep,
                        }
                    }
                }
                for txn in transactions
            ],
        )
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
                **keep,
            },
        )
        return totals

    # -- reading ---------------------------------------------------------------------------------

    def payout(self, tenant: str, payout_id: str) -> PayoutState | None:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table_name,
                Key={"PK": {"S": self.pk(tenant, payout_id)}, "SK": {"S": "PAYOUT"}},
                ProjectionExpression="#s",
                ExpressionAttributeNames={"#s": "state"},
            )
            .get("Item")
        )
        return PayoutState.model_validate_json(item["state"]["S"]) if item else None

    def transactions(self, tenant: str, payout_id: str) -> list[BalanceTransaction]:
        """The balance transactions filed for a payout (none for one not yet paid, or one the
        gateway cannot tie transactions to: a manual or instant payout)."""
        return [
            BalanceTransaction.model_validate_json(item["txn"]["S"])
            for item in self._items(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :bt)",
                ExpressionAttributeValues={
                    ":pk": {"S": self.pk(tenant, payout_id)},
                    ":bt": {"S": "BT#"},
                },
            )
        ]

    def arriving(self, tenant: str, first: date, last: date) -> list[PayoutState]:
        """Payouts arriving from ``first`` to ``last`` (the payouts index, one key range)."""
        return [
            PayoutState.model_validate_json(item["state"]["S"])
            for item in self._items(
                IndexName=keys.BY_STATUS,
                KeyConditionExpression="GSI2PK = :pk AND GSI2SK BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.payouts_index(tenant)},
                    ":a": {"S": first.isoformat()},
                    ":b": {"S": f"{last.isoformat()}~"},
                },
            )
        ]

    def _items(self, **query: Any) -> Iterator[dict[str, Any]]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(TableName=self.table_name, **query):
            yield from page["Items"]
