"""Vendors in the single table as immutable versions (``ports.VendorStore``).

``T#<t>#VENDOR#<vendor>`` / ``V#<n>`` one item per version, with who saved it, when and which
fields changed; each save is one conditional put of version n+1, so two operators saving at
once cannot both win, and the versions are the audit trail (the risk rules' pattern). GSI2
``T#<t>#VENDORS`` / ``<vendor>#<n>`` lists a tenant's vendors.
"""

from __future__ import annotations

import json
from typing import Any

from functions.payouts.adapters.dynamo import query_all
from functions.payouts.domain.vendors import VendorVersion, VersionConflict
from shared import aws, keys


class DynamoVendors:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @staticmethod
    def _read(item: dict[str, Any]) -> VendorVersion:
        return VendorVersion.model_validate_json(item["body"]["S"])

    def latest(self, tenant: str, vendor_id: str) -> VendorVersion | None:
        page = aws.client("dynamodb").query(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :v)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.vendor_pk(tenant, vendor_id)},
                ":v": {"S": keys.VENDOR_VERSIONS},
            },
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = page.get("Items", [])
        return self._read(items[0]) if items else None

    def versions(self, tenant: str, vendor_id: str) -> list[VendorVersion]:
        items = query_all(
            self.table_name,
            {
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :v)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": keys.vendor_pk(tenant, vendor_id)},
                    ":v": {"S": keys.VENDOR_VERSIONS},
                },
                "ConsistentRead": True,
            },
        )
        return [self._read(item) for item in items]

    def put(self, tenant: str, version: VendorVersion) -> None:
        vendor_id = version.vendor.vendor_id
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item={
                    "PK": {"S": keys.vendor_pk(tenant, vendor_id)},
                    "SK": {"S": keys.vendor_version_sk(version.version)},
                    "GSI2PK": {"S": keys.vendors_index(tenant)},
                    "GSI2SK": {"S": keys.vendors_index_sk(vendor_id, version.version)},
                    "kind": {"S": "vendor"},
                    "tenant": {"S": tenant},
                    "vendor_id": {"S": vendor_id},
                    "version": {"N": str(version.version)},
                    "saved_by": {"S": version.saved_by},
                    "saved_at": {"S": version.saved_at.isoformat()},
                    "changed": {"S": json.dumps(list(version.changed))},
                    "body": {"S": version.model_dump_json()},
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException as error:
            raise VersionConflict(
                f"vendor {vendor_id} of {tenant} changed meanwhile (version {version.version} "
                "exists); read it again and re-apply your change"
            ) from error

    def current(self, tenant: str) -> list[VendorVersion]:
        newest: dict[str, VendorVersion] = {}
        items = query_all(
            self.table_name,
            {
                "IndexName": keys.BY_STATUS,
                "KeyConditionExpression": "GSI2PK = :p",
                "ExpressionAttributeValues": {":p": {"S": keys.vendors_index(tenant)}},
            },
        )
        for item in items:  # by vendor, then version: the last one of each wins
            version = self._read(item)
            newest[version.vendor.vendor_id] = version
        return list(newest.values())
