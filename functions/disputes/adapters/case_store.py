"""Dispute cases in the table: one item per dispute (``keys.dispute_case``), the whole case as
JSON beside the attributes the indexes need; every save one conditional write on the version
it read."""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from functions.disputes.domain.case import CaseKind, DisputeCase
from functions.disputes.domain.evidence import SentEmail
from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.order_aggregate import OrderState, OrderStatus
from shared.order_store import ORDER_KEYS_PROJECTION, OrderStore, states_found
from shared.retention import Retention, table_retention


def _query(table: str, **args: Any) -> Iterator[dict[str, Any]]:
    paginator = aws.client("dynamodb").get_paginator("query")
    for page in paginator.paginate(TableName=table, **args):
        yield from page["Items"]


def _item(table: str, key: tuple[str, str]) -> dict[str, Any] | None:
    """One item by its key, read consistently."""
    pk, sk = key
    answer = aws.client("dynamodb").get_item(
        TableName=table, ConsistentRead=True, Key={"PK": {"S": pk}, "SK": {"S": sk}}
    )
    item: dict[str, Any] | None = answer.get("Item")
    return item


class DynamoCaseStore:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        # A case is a financial record: kept as long as the tenant keeps those.
        self.retention = retention or table_retention(table_name, clock)

    def _item(self, case: DisputeCase) -> dict[str, Any]:
        pk, sk = keys.dispute_case(case.tenant, case.dispute_id)
        due = case.evidence_due_by.isoformat() if case.evidence_due_by else None
        return {
            "PK": {"S": pk},
            "SK": {"S": sk},
            "kind": {"S": "dispute_case"},
            "tenant": {"S": case.tenant},
            "dispute_id": {"S": case.dispute_id},
            "version": {"N": str(case.version)},
            "case": {"S": case.model_dump_json()},
            "GSI2PK": {
                "S": keys.dispute_cases_index(case.tenant, "open" if case.is_open else "closed")
            },
            "GSI2SK": {"S": keys.dispute_deadline_sort(due, case.dispute_id)},
            "GSI1PK": {
                "S": keys.dispute_month_index(case.tenant, case.opened_at.strftime("%Y-%m"))
            },
            "GSI1SK": {"S": f"{case.card_brand or 'unknown'}#{case.dispute_id}"},
            **self.retention.attribute(case.tenant),
        }

    def get(self, tenant: str, dispute_id: str) -> DisputeCase | None:
        item = _item(self.table_name, keys.dispute_case(tenant, dispute_id))
        return DisputeCase.model_validate_json(item["case"]["S"]) if item else None

    def save(self, case: DisputeCase, expected_version: int) -> bool:
        ddb = aws.client("dynamodb")
        condition: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(PK)"}
            if expected_version == 0
            else {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            }
        )
        try:
            ddb.put_item(TableName=self.table_name, Item=self._item(case), **condition)
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _query(self, **args: Any) -> Iterator[dict[str, Any]]:
        return _query(self.table_name, **args)

    def cases(self, tenant: str, status: str) -> Iterator[DisputeCase]:
        for item in self._query(
            IndexName=keys.BY_STATUS,
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.dispute_cases_index(tenant, status)}},
        ):
            yield DisputeCase.model_validate_json(item["case"]["S"])

    def opened_in(self, tenant: str, month: str) -> Iterator[DisputeCase]:
        """Cases whose dispute opened in ``month`` (``YYYY-MM``)."""
        for item in self._query(
            IndexName=keys.BY_CUSTOMER,
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.dispute_month_index(tenant, month)}},
        ):
            yield DisputeCase.model_validate_json(item["case"]["S"])

    def having_case(self, tenant: str, dispute_ids: Iterable[str]) -> set[str]:
        wanted = []
        for dispute_id in dict.fromkeys(dispute_ids):
            pk, sk = keys.dispute_case(tenant, dispute_id)
            wanted.append({"PK": {"S": pk}, "SK": {"S": sk}})
        return {
            item["dispute_id"]["S"]
            for item in aws.batch_get(self.table_name, wanted, projection="dispute_id")
        }


class StoredOrders:
    """The orders' aggregates as the processor wrote them (read only)."""

    def __init__(self, table_name: str, store: OrderStore | None = None) -> None:
        # The processor passes its own store: the aggregate it just wrote is in its cache.
        self.store = store or OrderStore(table_name)

    def load(self, tenant: str, order_id: str) -> OrderState | None:
        state, version = self.store.load(tenant, order_id)
        return state if version else None

    def resolve(self, tenant: str, ref: str) -> str | None:
        return self.store.resolve(tenant, ref)


class NotificationLog:
    """The e-mails an order was sent: the orders context's ``NOTIFY#<kind>`` items (read only)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def sent_for(self, tenant: str, order_id: str) -> list[SentEmail]:
        answer = aws.client("dynamodb").query(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :n)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.order_pk(tenant, order_id)},
                ":n": {"S": keys.notify_sk("")},
            },
        )
        return [
            SentEmail(
                kind=item["SK"]["S"].removeprefix(keys.notify_sk("")),
                at=datetime.fromisoformat(item["at"]["S"]),
                status=item["status"]["S"],
                message_id=item.get("message_id", {}).get("S") or None,
            )
            for item in answer["Items"]
        ]


class CustomerOrders:
    """A customer's orders by e-mail (the orders' ``ByCustomer`` index), read only."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def of_customer(self, tenant: str, email: str) -> Iterator[OrderState]:
        found = _query(
            self.table_name,
            IndexName=keys.BY_CUSTOMER,
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.customer_index(tenant, email)}},
            ProjectionExpression=ORDER_KEYS_PROJECTION,
        )
        yield from states_found(self.table_name, found)


class TableRatioCounts:
    """``RatioCounts`` from the table: chargebacks from the cases (by the month they opened),
    card payments from the orders' aggregates (placed from ten days before the month to its
    end, counted by the day their payment succeeded), fraud reports from the early fraud
    warnings the desk keeps."""

    def __init__(self, table_name: str, cases: DynamoCaseStore) -> None:
        self.table_name = table_name
        self.cases_store = cases

    def chargebacks(self, tenant: str, month: date) -> dict[str, int]:
        counts: dict[str, int] = {}
        for case in self.cases_store.opened_in(tenant, month.strftime("%Y-%m")):
            if case.kind == CaseKind.CHARGEBACK:
                brand = (case.card_brand or "unknown").lower()
                counts[brand] = counts.get(brand, 0) + 1
        return counts

    def fraud_reports(self, tenant: str, month: date) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in _query(
            self.table_name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={
                ":pk": {"S": keys.fraud_warnings_month(tenant, month.strftime("%Y-%m"))}
            },
        ):
            brand = item.get("brand", {}).get("S") or "unknown"
            counts[brand] = counts.get(brand, 0) + 1
        return counts

    def settled(self, tenant: str, month: date) -> dict[str, int]:
        start = datetime.combine(month, time.min, UTC)
        end = datetime.combine(
            month + timedelta(days=calendar.monthrange(month.year, month.month)[1]), time.min, UTC
        )
        counts: dict[str, int] = {}
        for status in OrderStatus:
            found = _query(
                self.table_name,
                IndexName=keys.BY_STATUS,
                KeyConditionExpression="GSI2PK = :pk AND GSI2SK BETWEEN :a AND :b",
                ExpressionAttributeValues={
                    ":pk": {"S": keys.status_index(tenant, status)},
                    ":a": {"S": (start - timedelta(days=10)).isoformat()},
                    ":b": {"S": end.isoformat() + "#~"},
                },
                ProjectionExpression=ORDER_KEYS_PROJECTION,
            )
            for state in states_found(self.table_name, found):
                for payment in state.payments.values():
                    at = payment.succeeded_at
                    if at is None or not start <= at < end or payment.card is None:
                        continue
                    brand = str(payment.card.value.get("brand") or "unknown").lower()
                    counts[brand] = counts.get(brand, 0) + 1
        return counts


class FraudWarnings:
    """Early fraud warnings by month (``keys.fraud_warnings_month``), each put once."""

    def __init__(self, table_name: str, retention: Retention) -> None:
        self.table_name = table_name
        self.retention = retention

    def record(self, tenant: str, warning_id: str, month: str, fields: dict[str, str]) -> bool:
        ddb = aws.client("dynamodb")
        try:
            ddb.put_item(
                TableName=self.table_name,
                Item={
                    "PK": {"S": keys.fraud_warnings_month(tenant, month)},
                    "SK": {"S": warning_id},
                    "kind": {"S": "early_fraud_warning"},
                    "tenant": {"S": tenant},
                    **{k: {"S": v} for k, v in fields.items() if v},
                    **self.retention.attribute(tenant),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True


class DeskActions:
    """Effects of the desk done once (``keys.dispute_action``)."""

    def __init__(self, table_name: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table_name = table_name
        self.clock = clock

    def done(self, tenant: str, key: str) -> bool:
        return _item(self.table_name, keys.dispute_action(tenant, key)) is not None

    def record(self, tenant: str, key: str, detail: str) -> None:
        pk, sk = keys.dispute_action(tenant, key)
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": pk},
                "SK": {"S": sk},
                "kind": {"S": "dispute_action"},
                "key": {"S": key},
                "detail": {"S": detail},
                "at": {"S": self.clock.now().isoformat()},
            },
        )


class ReconciliationBreaks:
    """``ReconciliationFindings`` from the reconciliation's stored breaks (the key map's break
    indexes; the break's JSON read for its class, keys and explanation only)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def duplicate_payment(self, tenant: str, order_id: str) -> list[str]:
        found = []
        for status in ("open", "closed"):
            for item in _query(
                self.table_name,
                IndexName=keys.BY_STATUS,
                KeyConditionExpression="GSI2PK = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.breaks_index(tenant, status)}},
                ProjectionExpression="#b",
                ExpressionAttributeNames={"#b": "break"},
            ):
                found_break = json.loads(item["break"]["S"])
                if found_break.get("break_class") != "duplicate_payment":
                    continue
                if ["order_id", order_id] in found_break.get("keys", []):
                    found.append(str(found_break.get("explanation") or ""))
        return [f for f in found if f]
