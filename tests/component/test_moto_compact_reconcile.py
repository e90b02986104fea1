"""The daily reconciliation's component tests again, on the benches' compact moto storage
(``local.moto_compact``) with indexed queries (``local.moto_index``): what the fan-out bench
measures must be the reconciliation that these tests prove on plain moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.models import dynamodb_backends

from local.moto_compact import CompactItems, compact_table
from local.moto_index import index_queries, restore_queries
from tests.component.conftest import TABLE
from tests.component.test_reconcile_daily import (  # the same tests, collected here again
    day,
    test_a_bank_file_is_stored_once_however_often_it_is_dropped,
    test_refunds_wait_for_the_switch_and_respect_the_maximum,
    test_the_daily_handler_reconciles_the_day_it_is_given_reports_mails_and_alerts,
    test_the_daily_handler_refuses_a_tenant_without_settings,
    test_the_day_names_each_break_refunds_once_and_closes_what_resolved,
    test_the_intake_handler_stores_a_dropped_file_and_alerts_the_operators_on_a_bad_one,
)

__all__ = [
    "day",
    "test_a_bank_file_is_stored_once_however_often_it_is_dropped",
    "test_refunds_wait_for_the_switch_and_respect_the_maximum",
    "test_the_daily_handler_reconciles_the_day_it_is_given_reports_mails_and_alerts",
    "test_the_daily_handler_refuses_a_tenant_without_settings",
    "test_the_day_names_each_break_refunds_once_and_closes_what_resolved",
    "test_the_intake_handler_stores_a_dropped_file_and_alerts_the_operators_on_a_bad_one",
]


@pytest.fixture(autouse=True)
def compact_storage(aws_env: dict[str, Any]) -> Iterator[CompactItems]:
    table = dynamodb_backends["123456789012"]["us-east-1"].get_table(TABLE)
    store = compact_table(table, learn_from=2048)  # most items deflated, even in a small day
    index_queries()
    try:
        yield store
    finally:
        restore_queries()
    # The tests ran on the compact storage, and it was written to.
    items: Any = table.items
    assert items is store
    assert store.item_count() > 0
