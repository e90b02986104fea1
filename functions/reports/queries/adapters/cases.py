"""Query cases in the table: ``T#<t>#QCASE#<case>`` / ``CASE``, listed by status on the
``ByStatus`` index (open ones by when they are due). Opening is one conditional put (the same
case opened twice is one case); every change is a conditional put at the version read."""

from __future__ import annotations

from typing import Any

from functions.reports.queries.domain.cases import CaseStatus, QueryCase
from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.retention import Retention, table_retention


class CaseChanged(RuntimeError):
    """Someone changed the case since it was read."""


class TableCases:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        # Cases are kept as long as the financial records they are about.
        self.retention = retention or table_retention(table_name, clock)

    @property
    def _ddb(self) -> Any:
        return aws.client("dynamodb")

    def _item(self, case: QueryCase) -> dict[str, Any]:
        pk, sk = keys.query_case_pk(case.tenant, case.case_id)
        return {
            "PK": {"S": pk},
            "SK": {"S": sk},
            "kind": {"S": "query_case"},
            "tenant": {"S": case.tenant},
            "case_id": {"S": case.case_id},
            "status": {"S": case.status.value},
            "version": {"N": str(case.version)},
            "case": {"S": case.model_dump_json()},
            "GSI2PK": {"S": keys.query_cases_index(case.tenant, case.status.value)},
            "GSI2SK": {"S": f"{case.due_at.isoformat()}#{case.case_id}"},
            **self.retention.attribute(case.tenant),
        }

    def open(self, case: QueryCase) -> tuple[QueryCase, bool]:
        """The case stored, and whether this call opened it (else it was open already)."""
        try:
            self._ddb.put_item(
                TableName=self.table_name,
                Item=self._item(case),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except self._ddb.exceptions.ConditionalCheckFailedException:
            existing = self.get(case.tenant, case.case_id)
            if existing is None:  # deleted in between: nothing else removes cases
                raise
            return existing, False
        return case, True

    def get(self, tenant: str, case_id: str) -> QueryCase | None:
        pk, sk = keys.query_case_pk(tenant, case_id)
        item = self._ddb.get_item(
            TableName=self.table_name,
            Key={"PK": {"S": pk}, "SK": {"S": sk}},
            ConsistentRead=True,
        ).get("Item")
        return QueryCase.model_validate_json(item["case"]["S"]) if item else None

    def listed(self, tenant: str, status: CaseStatus) -> list[QueryCase]:
        cases = []
        paginator = self._ddb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName=keys.BY_STATUS,
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.query_cases_index(tenant, status.value)}},
        ):
            cases += [QueryCase.model_validate_json(i["case"]["S"]) for i in page["Items"]]
        return cases

    def save(self, case: QueryCase) -> None:
        """Write ``case`` over the version before it."""
        try:
            self._ddb.put_item(
                TableName=self.table_name,
                Item=self._item(case),
                ConditionExpression="version = :before",
                ExpressionAttributeValues={":before": {"N": str(case.version - 1)}},
            )
        except self._ddb.exceptions.ConditionalCheckFailedException as exc:
            raise CaseChanged(f"case {case.case_id} changed meanwhile: read it again") from exc
