"""Every tenant is listed, however many: the hourly reconciliation tick lists the tenants due
from ``TenantDirectory.all()``, and a tenant left off the first 1 MB page would never be
reconciled."""

from __future__ import annotations

from typing import Any

from shared.tenants import TenantDirectory, TenantSettings
from tests.component.conftest import TABLE


def test_all_tenants_are_read_over_every_page(aws_env: dict[str, Any]) -> None:
    directory = TenantDirectory(TABLE)
    # Long names make each settings item ~4 KB: 400 of them are more than one 1 MB page.
    ids = [f"t{n:03d}" for n in range(400)]
    for tenant in ids:
        directory.save(
            TenantSettings(
                id=tenant,
                name=f"Tenant {tenant} " + "x" * 3500,
                currency="EUR",
                customer_sender=f"orders@{tenant}.example",
            )
        )
    first_page = aws_env["ddb"].query(
        TableName=TABLE,
        IndexName="ByStatus",
        KeyConditionExpression="GSI2PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "TENANTS"}},
    )
    assert "LastEvaluatedKey" in first_page and len(first_page["Items"]) < len(ids)
    assert sorted(t.id for t in directory.all()) == ids
