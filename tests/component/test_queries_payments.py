"""Finance's queries on moto: a payout explained (the reconciliation's components, fees by
type, FX, reserves, adjustments and the bank line it paired), and "have I been paid for these
days?" per tenant-local day, with what is pending and what is missing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from functions.reconcile.adapters.bank_store import BankStore
from functions.reconcile.composition import settled_payouts_reader
from functions.reconcile.domain.bank.model import BankLine, SourcePosition
from functions.reports.queries.adapters.orders import TableOrderIndex
from functions.reports.queries.use_cases.payments import (
    explain_payout_query,
    paid_for_days_query,
)
from shared.order_changes import OrderChanges
from shared.order_lookup import Unsearchable
from shared.settlement_store import SettlementStore
from shared.tenants import TenantDirectory, TenantSettings
from tests.component.conftest import TABLE
from tests.component.queries_orders import paid, payout, placed, txn

ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    timezone="Europe/Amsterdam",
    customer_sender="shop@acme.example",
    alert_emails=("ops@acme.example",),
)
D20 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
D21 = D20 + timedelta(days=1)
TODAY = date(2026, 12, 1)


@pytest.fixture
def planted(aws_env: dict[str, Any]) -> dict[str, int]:
    TenantDirectory(TABLE).save(ACME)
    placed("1001", D20)
    paid("1001", "pi_1", 2500, D20)
    placed("1002", D20 + timedelta(hours=1))
    paid("1002", "pi_2", 4000, D20 + timedelta(hours=1))
    placed("1003", D21)
    paid("1003", "pi_3", 1000, D21)  # in no payout yet
    placed("1004", D21 + timedelta(hours=1))
    paid("1004", "pi_4", 3000, D21 + timedelta(hours=1))
    # What the processor notes for each order an event changed (shared.order_changes).
    changes = OrderChanges(TABLE)
    for order_id, at in (("1001", D20), ("1002", D20), ("1003", D21), ("1004", D21)):
        changes.note("acme", order_id, [at.date()])
    po1 = payout(
        "po_1",
        [
            txn("txn_1", "charge", 2500, 100, D20, "ch_pi_1", (("stripe_fee", 83), ("tax", 17))),
            txn("txn_2", "charge", 4000, 150, D20, "ch_pi_2", (("stripe_fee", 150),), 0.92),
            txn("txn_3", "refund", -500, 0, D20, "re_1"),
            txn("txn_4", "dispute", -1000, 1500, D20, "dp_1", (("stripe_fee", 1500),)),
            txn("txn_5", "risk_reserved_funds", -200, 0, D20),
            txn("txn_6", "other_adjustment", -50, 0, D20),
        ],
        date(2026, 11, 23),
    )
    BankStore(TABLE).put_lines(
        [
            BankLine(
                tenant="acme",
                account="NL91ABNA0417164300",
                currency="EUR",
                amount=po1,
                direction="credit",
                booking_date=date(2026, 11, 23),
                value_date=date(2026, 11, 23),
                source=SourcePosition("stmt.csv", "0" * 64, "csv", 2, 0, "s1"),
                counterparty="STRIPE",
                remittance="STRIPE PAYOUT po_1",
            )
        ]
    )
    po2 = payout("po_2", [txn("txn_7", "charge", 3000, 120, D21, "ch_pi_4")], date(2026, 11, 26))
    return {"po_1": po1, "po_2": po2}


def _explain(payout_id: str) -> Any:
    return explain_payout_query(
        SettlementStore(TABLE), settled_payouts_reader(TABLE), ACME, payout_id, TODAY
    )


def test_a_payout_explained_with_fees_by_type_fx_reserves_and_its_bank_line(
    planted: dict[str, int],
) -> None:
    answer = _explain("po_1")
    assert answer is not None
    assert answer.settled is not None
    components = {label: amount for label, _, amount in answer.settled.components}
    assert components["gross charges"] == 6500
    assert components["fees"] == -250
    assert components["refunds"] == -500
    assert components["disputes"] == -1000 and components["dispute fees"] == -1500
    assert components["adjustments"] == -250
    assert sum(components.values()) == planted["po_1"]
    assert dict(answer.fees_by_type) == {"stripe_fee": 1733, "tax": 17}
    assert answer.conversions == (("0.92", 1, 4000),)
    assert answer.reserves == (("risk_reserved_funds", 1, -200),)
    assert answer.other_adjustments == (("other_adjustment", 1, -50),)
    text = answer.text()
    assert "the payout equals the net of its transactions" in text
    assert "arrived in the bank 2026-11-23" in text and "matched by" in text


def test_a_payout_that_never_reached_the_bank_is_missing(planted: dict[str, int]) -> None:
    answer = _explain("po_2")
    assert answer is not None and answer.settled is not None and answer.settled.missing
    assert "missing: no bank line after the grace days" in answer.text()


def test_an_unknown_payout_is_none(planted: dict[str, int]) -> None:
    assert _explain("po_nope") is None


def _paid(first: date, last: date) -> Any:
    return paid_for_days_query(
        SettlementStore(TABLE),
        settled_payouts_reader(TABLE),
        TableOrderIndex(TABLE),
        ACME,
        first,
        last,
        TODAY,
    )


def test_paid_for_days_per_local_day(planted: dict[str, int]) -> None:
    answer = _paid(date(2026, 11, 20), date(2026, 11, 21))
    d20, d21 = answer.days
    f20, f21 = d20.figures["EUR"], d21.figures["EUR"]
    assert (f20.captured, f20.captured_count, f20.gateway_gross) == (6500, 2, 6500)
    assert f20.gateway_refunds == -500 and f20.not_paid_out == 0 and d20.payouts == ["po_1"]
    assert (f21.captured, f21.captured_count, f21.gateway_gross) == (4000, 2, 3000)
    assert (f21.not_paid_out, f21.not_paid_out_count) == (1000, 1)
    standing = {p.payout_id: p for p in answer.payouts}
    assert standing["po_1"].arrived and not standing["po_1"].missing
    assert standing["po_2"].missing and not standing["po_2"].arrived
    text = answer.text()
    assert "carried by payout po_1: EUR" in text and "arrived in the bank 2026-11-23" in text
    assert "pending: EUR 10.00 (1 charge(s)) in no payout yet" in text
    assert "Missing: po_2" in text


def test_a_range_older_than_the_records_kept_says_what_it_covers(aws_env: dict[str, Any]) -> None:
    TenantDirectory(TABLE).save(ACME)
    years = ACME.retention.financial_years
    first = date(TODAY.year - years, 11, 25)
    answer = _paid(first, first + timedelta(days=10))
    assert f"records are kept from {date(TODAY.year - years, 12, 1)}" in answer.text()
    assert not answer.days[0].covered and answer.days[-1].covered


def test_a_bad_range_says_every_reason(aws_env: dict[str, Any]) -> None:
    with pytest.raises(
        Unsearchable,
        match=r"ends \(2027-01-01\) before it starts \(2027-02-01\); 2027-02-01 has not begun",
    ):
        _paid(date(2027, 2, 1), date(2027, 1, 1))
    with pytest.raises(Unsearchable, match="at most 31 days"):
        _paid(date(2026, 1, 1), date(2026, 11, 1))
