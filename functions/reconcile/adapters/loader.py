"""Building one tenant's day for the engine from the table, by key ranges.

What "the day" reads:

- orders placed on the day (tenant time zone): one range query per status on the status index
  (``T#<t>#STATUS#<s>`` / placed time); every order with payments but no order yet
  (``awaiting_order``, whatever its date: a charge without an order stays a break until
  resolved); every order changed on the day (``shared.order_changes``, written by the
  processor: a cancellation, a second charge, a refund that failed on an older order); every
  order cancelled within the tenant's cancellation window up to the day (the day's
  cancellations, ``shared.order_changes``), so each cancellation is checked for its refund;
  and every order named by a break still open from earlier days, so a break that resolved
  meanwhile is seen resolved;
- the payments, refunds and disputes of those orders (they live on the order aggregate);
- payouts arriving from ``day - grace - window`` to ``day + window`` (``T#<t>#PAYOUTS`` by
  arrival date) and those named by open breaks, with their balance transactions;
- bank lines booked in the same window (``adapters.bank_store``).

What the stored aggregates mean to the engine is decided in ``domain.aggregates`` (the
mapping the docstrings of ``domain.model`` describe); this module only reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from functions.reconcile.adapters.bank_store import BankStore
from functions.reconcile.domain.aggregates import (
    balance_txn_record,
    order_record,
    payment_records,
    payout_record,
)
from functions.reconcile.domain.model import BalanceTxnRecord, Break, DayInputs
from functions.reconcile.ports import LoadWindow
from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.order_aggregate import ORDER_STATUSES, OrderState
from shared.order_changes import OrderChanges, utc_days
from shared.order_store import (
    ORDER_KEYS_PROJECTION,
    STATE_NAMES,
    STATE_PROJECTION,
    order_pk,
    order_state_of,
    states_found,
)
from shared.settlements import BalanceTransaction, PayoutState


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, zone)
    end = datetime.combine(day + timedelta(days=1), time.min, zone)
    return start.astimezone(UTC), end.astimezone(UTC)


# The chargeback desk's lookup: (tenant, dispute ids) → the ids it holds a case for.
CaseLookup = Callable[[str, Iterable[str]], set[str]]


class DayLoader:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, cases: CaseLookup | None = None
    ) -> None:
        self.table_name = table_name
        self.cases = cases
        self.bank = BankStore(table_name, clock)
        self.changes = OrderChanges(table_name)

    def _query(self, **args: Any) -> Iterator[dict[str, Any]]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(TableName=self.table_name, **args):
            yield from page["Items"]

    def _states_placed(self, tenant: str, start: datetime, end: datetime) -> Iterator[OrderState]:
        for status in ORDER_STATUSES:
            pk = keys.status_index(tenant, status)
            if status == "awaiting_order":
                condition = "GSI2PK = :pk"
                values: dict[str, Any] = {":pk": {"S": pk}}
            else:
                condition = "GSI2PK = :pk AND GSI2SK BETWEEN :a AND :b"
                values = {
                    ":pk": {"S": pk},
                    ":a": {"S": start.isoformat()},
                    ":b": {"S": (end - timedelta(microseconds=1)).isoformat() + "#~"},
                }
            found = self._query(
                IndexName="ByStatus",
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ProjectionExpression=ORDER_KEYS_PROJECTION,
            )
            yield from states_found(self.table_name, found)

    def _states_by_id(self, tenant: str, order_ids: Iterable[str]) -> Iterator[OrderState]:
        wanted = [{"PK": {"S": order_pk(tenant, o)}, "SK": {"S": "ORDER"}} for o in order_ids]
        for item in aws.batch_get(self.table_name, wanted, STATE_PROJECTION, STATE_NAMES):
            yield order_state_of(item)

    def _stages(self, tenant: str, order_ids: list[str]) -> dict[str, str]:
        wanted = [{"PK": {"S": order_pk(tenant, o)}, "SK": {"S": "WORKFLOW"}} for o in order_ids]
        return {
            item["order_id"]["S"]: item["stage"]["S"]
            for item in aws.batch_get(self.table_name, wanted, "order_id, stage")
        }

    def _payouts(
        self, tenant: str, first: date, last: date, extra_ids: Iterable[str]
    ) -> list[PayoutState]:
        found: dict[str, PayoutState] = {}
        for item in self._query(
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk AND GSI2SK BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":pk": {"S": keys.payouts_index(tenant)},
                ":a": {"S": first.isoformat()},
                ":b": {"S": f"{last.isoformat()}~"},
            },
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "state"},
        ):
            state = PayoutState.model_validate_json(item["state"]["S"])
            found[state.payout_id] = state
        wanted = [
            {"PK": {"S": keys.payout_pk(tenant, payout_id)}, "SK": {"S": "PAYOUT"}}
            for payout_id in sorted(set(extra_ids) - set(found))
        ]
        for item in aws.batch_get(self.table_name, wanted, "#s", {"#s": "state"}):
            state = PayoutState.model_validate_json(item["state"]["S"])
            found[state.payout_id] = state
        return list(found.values())

    def _balance_txns(self, tenant: str, payout_id: str) -> Iterator[BalanceTxnRecord]:
        for item in self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :bt)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.payout_pk(tenant, payout_id)},
                ":bt": {"S": "BT#"},
            },
        ):
            txn = BalanceTransaction.model_validate(json.loads(item["txn"]["S"]))
            yield balance_txn_record(payout_id, txn)

    def load(
        self,
        tenant: str,
        day: date,
        timezone: str,
        window: LoadWindow,
        open_breaks: Iterable[Break] = (),
    ) -> DayInputs:
        start, end = day_bounds(day, timezone)
        states: dict[str, OrderState] = {}
        for state in self._states_placed(tenant, start, end):
            states[state.order_id] = state
        named_orders = set(self.changes.changed_on(tenant, utc_days(start, end)))
        since = start - timedelta(days=window.cancellation_window_days)
        named_orders |= set(self.changes.cancelled_on(tenant, utc_days(since, end)))
        named_payouts = set()
        for brk in open_breaks:
            if (order_id := brk.key("order_id")) is not None:
                named_orders.add(order_id)
            if (payout_id := brk.key("payout_id")) is not None:
                named_payouts.add(payout_id)
        for state in self._states_by_id(tenant, named_orders - set(states)):
            states[state.order_id] = state
        stages = self._stages(tenant, list(states))
        with_case = (
            self.cases(tenant, [d for s in states.values() for d in s.disputes])
            if self.cases is not None
            else None
        )
        orders, charges, refunds, disputes = [], [], [], []
        for state in states.values():
            if (record := order_record(state, stages.get(state.order_id))) is not None:
                orders.append(record)
            c, r, d = payment_records(state, with_case)
            charges += c
            refunds += r
            disputes += d
        payout_side = self._payout_side(tenant, day, window, named_payouts)
        return replace(
            payout_side, orders=orders, charges=charges, refunds=refunds, disputes=disputes
        )

    def load_payout_side(self, tenant: str, day: date, window: LoadWindow) -> DayInputs:
        return self._payout_side(tenant, day, window, ())

    def _payout_side(
        self, tenant: str, day: date, window: LoadWindow, named_payouts: Iterable[str]
    ) -> DayInputs:
        first = day - timedelta(days=window.grace_days + window.date_window_days)
        last = day + timedelta(days=window.date_window_days)
        payouts, txns = [], []
        for payout_state in self._payouts(tenant, first, last, named_payouts):
            if (payout := payout_record(payout_state)) is not None:
                payouts.append(payout)
                txns += list(self._balance_txns(tenant, payout.payout_id))
        lines = list(self.bank.lines_between(tenant, first, last))
        return DayInputs(
            tenant=tenant, day=day, payouts=payouts, balance_txns=txns, bank_lines=lines
        )
