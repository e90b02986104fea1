"""Tenants' settings and their versions in the single table (``ports.TenantRecordsPort``).

``TENANT#<t>`` holds ``CONFIG`` (the settings in force, what every function reads through
``shared.tenants.TenantDirectory``, with their version, who and when), ``CONFIG#V#<n>`` (each
saved version, immutable) and ``SECRETS#V#<n>`` (each change of the secrets: which fields, who,
when). A save is one transaction: put version n+1 if absent, and put ``CONFIG`` if it is still
at version n (absent, for a new tenant) — so two operators cannot both win, and the settings in
force are never without their version.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from functions.tenants.domain import (
    Current,
    TenantExists,
    Version,
    VersionConflict,
    chronological,
)
from shared import aws, keys
from shared.tenants import TenantDirectory, TenantSettings, config_key


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _version_key(version: Version) -> dict[str, dict[str, str]]:
    prefix = (
        keys.TENANT_SETTINGS_VERSIONS
        if version.subject == "settings"
        else keys.TENANT_SECRETS_VERSIONS
    )
    return _key(*keys.tenant_version(version.tenant, prefix, version.version))


def _version_item(version: Version) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_version_key(version),
        "kind": {"S": "tenant-version"},
        "tenant": {"S": version.tenant},
        "subject": {"S": version.subject},
        "version": {"N": str(version.version)},
        "saved_by": {"S": version.saved_by},
        "saved_at": {"S": version.saved_at.isoformat(timespec="milliseconds")},
        "change": {"S": json.dumps(version.change, sort_keys=True)},
    }
    if version.settings is not None:
        item["settings"] = {"S": version.settings.model_dump_json()}
    return item


class DynamoTenantRecords:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def current(self, tenant: str) -> Current | None:
        answer = aws.client("dynamodb").get_item(
            TableName=self.table_name, Key=config_key(tenant), ConsistentRead=True
        )
        item = answer.get("Item")
        return _current(item) if item else None

    def all(self) -> list[Current]:
        # The directory's index of tenants; each read again for its version.
        found = [self.current(s.id) for s in TenantDirectory(self.table_name).all()]
        return [c for c in found if c is not None]

    def save_settings(self, version: Version, replaces: int | None) -> None:
        assert version.settings is not None
        settings = version.settings
        config: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": {
                **config_key(settings.id),
                "kind": {"S": "tenant"},
                "settings": {"S": settings.model_dump_json()},
                "GSI2PK": {"S": keys.TENANTS_INDEX},
                "GSI2SK": {"S": settings.id},
                "version": {"N": str(version.version)},
                "saved_by": {"S": version.saved_by},
                "saved_at": {"S": version.saved_at.isoformat(timespec="milliseconds")},
            },
        }
        if replaces is None:
            config["ConditionExpression"] = "attribute_not_exists(PK)"
        elif replaces == 0:  # written before versions were kept (a tenants file)
            config["ConditionExpression"] = "attribute_exists(PK) AND attribute_not_exists(version)"
        else:
            config["ConditionExpression"] = "version = :replaces"
            config["ExpressionAttributeValues"] = {":replaces": {"N": str(replaces)}}
        client = aws.client("dynamodb")
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": _version_item(version),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {"Put": config},
                ]
            )
        except client.exceptions.TransactionCanceledException as error:
            if replaces is None:
                raise TenantExists(
                    f"tenant {settings.id!r} exists already: change it with "
                    "`ecomops tenants update`"
                ) from error
            raise VersionConflict(
                f"tenant {settings.id!r} changed meanwhile (version {version.version} exists "
                "or the settings in force moved): look again and re-apply your change"
            ) from error

    def record_secrets_change(self, version: Version) -> None:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item=_version_item(version),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException as error:
            raise VersionConflict(
                f"secrets of {version.tenant!r} changed meanwhile (change {version.version} "
                "is recorded): look again (`ecomops tenants show --history`)"
            ) from error

    def versions(self, tenant: str) -> list[Version]:
        pk, _ = keys.tenant_config(tenant)
        found: list[Version] = []
        for prefix in (keys.TENANT_SETTINGS_VERSIONS, keys.TENANT_SECRETS_VERSIONS):
            args: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :p)",
                "ExpressionAttributeValues": {":pk": {"S": pk}, ":p": {"S": prefix}},
                "ConsistentRead": True,
            }
            client = aws.client("dynamodb")
            while True:
                page = client.query(**args)
                found += [_version(item) for item in page.get("Items", [])]
                if "LastEvaluatedKey" not in page:
                    break
                args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return chronological(found)


def _current(item: dict[str, Any]) -> Current:
    return Current(
        settings=TenantSettings.model_validate_json(item["settings"]["S"]),
        version=int(item["version"]["N"]) if "version" in item else 0,
        saved_by=item.get("saved_by", {}).get("S", ""),
        saved_at=datetime.fromisoformat(item["saved_at"]["S"]) if "saved_at" in item else None,
    )


def _version(item: dict[str, Any]) -> Version:
    return Version(
        tenant=item["tenant"]["S"],
        subject=item["subject"]["S"],
        version=int(item["version"]["N"]),
        saved_by=item["saved_by"]["S"],
        saved_at=datetime.fromisoformat(item["saved_at"]["S"]),
        change=json.loads(item["change"]["S"]),
        settings=(
            TenantSettings.model_validate_json(item["settings"]["S"])
            if "settings" in item
            else None
        ),
    )
