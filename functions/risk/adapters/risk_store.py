"""A tenant's screening rules and lists in the single table, kept as immutable versions
(``ports.RiskStorePort``; was ``shared/risk_store.py`` while other contexts reached it).

``T#<t>#RISK`` holds one item per version:

- ``RULES#<category>#V#<n>``: the ruleset for a business category (``*``: every category
  without its own), with who saved it and when;
- ``LISTS#V#<n>``: the tenant's block and allow lists after a change, with the change itself.

Each save is one conditional put of version n+1, so two operators editing at once cannot both
win, and the version items are the audit trail: who, when, before (version n) and after
(version n+1) — written in the same put as the change, so a change is never unaudited.
The current version is the newest item; rolling back is saving an older body again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from functions.risk.domain.errors import VersionConflict
from functions.risk.domain.versions import StoredVersion
from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock


def risk_pk(tenant: str) -> str:
    return keys.risk_pk(tenant)


def _rules_prefix(category: str) -> str:
    return f"RULES#{category}#V#"


_LISTS_PREFIX = "LISTS#V#"


class RiskStore:
    def __init__(self, table_name: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table_name = table_name
        self.clock = clock

    def _query(
        self, tenant: str, prefix: str, newest_first: bool, limit: int | None
    ) -> Iterator[dict[str, Any]]:
        args: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
            "ExpressionAttributeValues": {":pk": {"S": risk_pk(tenant)}, ":p": {"S": prefix}},
            "ScanIndexForward": not newest_first,
            "ConsistentRead": True,
        }
        if limit:
            args["Limit"] = limit
        client = aws.client("dynamodb")
        while True:
            page = client.query(**args)
            yield from page.get("Items", [])
            if limit or "LastEvaluatedKey" not in page:
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @staticmethod
    def _version(item: dict[str, Any]) -> StoredVersion:
        return StoredVersion(
            subject=item["subject"]["S"],
            version=int(item["version"]["N"]),
            body=json.loads(item["body"]["S"]),
            saved_by=item["saved_by"]["S"],
            saved_at=item["saved_at"]["S"],
            change=json.loads(item.get("change", {}).get("S", "{}")),
        )

    def _put(
        self,
        tenant: str,
        sk: str,
        subject: str,
        version: int,
        body: dict[str, Any],
        who: str,
        change: dict[str, Any],
    ) -> StoredVersion:
        saved_at = self.clock.now().isoformat(timespec="milliseconds")
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item={
                    "PK": {"S": risk_pk(tenant)},
                    "SK": {"S": sk},
                    "kind": {"S": "risk-config"},
                    "tenant": {"S": tenant},
                    "subject": {"S": subject},
                    "version": {"N": str(version)},
                    "body": {"S": json.dumps(body, sort_keys=True)},
                    "saved_by": {"S": who},
                    "saved_at": {"S": saved_at},
                    "change": {"S": json.dumps(change, sort_keys=True)},
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException as error:
            raise VersionConflict(
                f"{subject} of {tenant} changed meanwhile (version {version} exists); "
                "read it again and re-apply your change"
            ) from error
        return StoredVersion(subject, version, body, who, saved_at, change)

    # -- rules -----------------------------------------------------------------------------

    def latest_rules(self, tenant: str, category: str) -> StoredVersion | None:
        items = list(self._query(tenant, _rules_prefix(category), newest_first=True, limit=1))
        return self._version(items[0]) if items else None

    def rules_versions(self, tenant: str, category: str) -> list[StoredVersion]:
        return [self._version(i) for i in self._query(tenant, _rules_prefix(category), False, None)]

    def rules_categories(self, tenant: str) -> list[str]:
        categories = {
            i["subject"]["S"].removeprefix("rules:")
            for i in self._query(tenant, "RULES#", newest_first=False, limit=None)
        }
        return sorted(categories)

    def put_rules(
        self, tenant: str, category: str, version: int, body: dict[str, Any], who: str
    ) -> StoredVersion:
        return self._put(
            tenant,
            f"{_rules_prefix(category)}{version:06d}",
            f"rules:{category}",
            version,
            body,
            who,
            {"version": version},
        )

    # -- lists -----------------------------------------------------------------------------

    def latest_lists(self, tenant: str) -> StoredVersion | None:
        items = list(self._query(tenant, _LISTS_PREFIX, newest_first=True, limit=1))
        return self._version(items[0]) if items else None

    def put_lists(
        self, tenant: str, version: int, body: dict[str, Any], who: str, change: dict[str, Any]
    ) -> StoredVersion:
        return self._put(
            tenant, f"{_LISTS_PREFIX}{version:06d}", "lists", version, body, who, change
        )

    # -- audit -----------------------------------------------------------------------------

    def history(self, tenant: str) -> list[StoredVersion]:
        """Every version of every subject, oldest first."""
        versions = [
            self._version(item)
            for prefix in ("RULES#", _LISTS_PREFIX)
            for item in self._query(tenant, prefix, False, None)
        ]
        return sorted(versions, key=lambda v: (v.saved_at, v.subject, v.version))
