"""A cycle's reports written one vendor at a time (``CycleReport``): the detailed report's rows
are what the csv module writes (quoted where a cell needs it), the summary does not depend on
how the entries were fed, and amounts are ``Money``'s text."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from functions.payouts.domain.ledger import Account, Book, Entry, EntryKind
from functions.payouts.domain.postings import (
    Context,
    FeeBearer,
    OrderLine,
    Rate,
    adjustment,
    allocate,
    refund_by_amount,
    release,
    sale,
)
from functions.payouts.domain.reports import DETAIL_COLUMNS, CycleReport, cycle_reports
from shared.money import Money

AT = datetime(2026, 10, 2, 9, 30, tzinfo=UTC)


def _entries(sku: str = "A", reason: str = "goodwill") -> dict[str, list[Entry]]:
    ctx = Context("t1", "EUR", "o-1")
    lines = allocate(
        [
            OrderLine("l1", "v-a", 2, 1999, sku=sku),
            OrderLine("l2", "v-b", 1, 500, sku="B"),
            OrderLine("l3", None, 1, 700, sku="C", named_vendor="v-a"),
        ],
        discount=300,
        shipping=495,
        tax=0,
        gateway_fee=131,
        rates={"l1": Rate(1000), "l2": Rate(1500, 25)},
        fees_borne_by=FeeBearer.VENDOR,
    )
    made: list[Entry | None] = [sale(ctx, "paid", line, AT) for line in lines]
    made += [release(ctx, "release", line, AT + timedelta(days=20)) for line in lines]
    made += refund_by_amount(ctx, "re_1", lines, 1200, AT + timedelta(days=21))
    made.append(
        adjustment("t1", "USD", "adj-1", "v-a", -250, AT, reason=reason, actor="ops, night")
    )
    by_vendor: dict[str, list[Entry]] = {}
    for item in made:
        if item is not None:
            by_vendor.setdefault(item.ref("vendor"), []).append(item)
    return by_vendor


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_row_is_what_the_csv_module_writes_quoted_where_a_cell_needs_it() -> None:
    out = io.StringIO()
    entries = _entries(sku='12" vinyl, red', reason="late\nparcel")
    cycle_reports("2026-11-02", [], entries, out)
    rows = _rows(out.getvalue())
    assert tuple(rows[0]) == DETAIL_COLUMNS
    cells = [dict(zip(DETAIL_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [c["sku"] for c in cells if c["kind"] == "sale" and c["line"] == "l1"] == [
        '12" vinyl, red'
    ]
    (adjusted,) = [c for c in cells if c["kind"] == "adjustment"]
    assert (adjusted["reason"], adjusted["actor"], adjusted["amount"]) == (
        "late\nparcel",
        "ops, night",
        "-2.50",
    )
    # every row the reader gives back is the one the csv module writes for the same cells
    reference = io.StringIO()
    csv.writer(reference, lineterminator="\n").writerows(rows)
    assert out.getvalue() == reference.getvalue()
    released = [c for c in cells if c["kind"] == "release"]
    assert released and {c["release_date"] for c in released} == {"2026-10-22"}
    # the suspense line (vendor unknown, filed under the named one) shows what suspense holds
    (held,) = [e for e in entries["v-a"] if e.line == "l3" and e.kind is EntryKind.SALE]
    in_suspense = held.amount_for(Account.platform(Book.SUSPENSE))
    assert in_suspense > 0
    assert [c["amount"] for c in cells if c["line"] == "l3" and c["kind"] == "sale"] == [
        Money.of(in_suspense, "EUR").decimal_text()
    ]


def test_the_summary_is_the_same_fed_whole_or_vendor_by_vendor_in_pieces() -> None:
    entries = _entries()
    whole = cycle_reports("c", [], entries)
    pieces = CycleReport("c", io.StringIO())
    for vendor_id in sorted(entries):
        items = entries[vendor_id]
        pieces.add(vendor_id, items[:2])
        pieces.add(vendor_id, items[2:])
    assert pieces.summary([]) == whole
    assert pieces.rows == sum(len(v) for v in entries.values())
    by = {(r.vendor_id, r.currency): r for r in whole}
    assert by[("v-a", "EUR")].gross == 3998 + 700  # its suspense line is filed under it
    assert by[("v-a", "USD")].adjustments == -250
    assert by[("v-b", "EUR")].refunds > 0


@given(
    st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
    st.sampled_from(["EUR", "JPY", "KWD", "usd", "CLF"]),
)
def test_a_currencys_text_is_money_s_text(amount: int, currency: str) -> None:
    assert Money.decimal_text_for(currency)(amount) == Money.of(amount, currency).decimal_text()


def test_entries_of_kinds_the_summary_does_not_sum_are_still_rows() -> None:
    entries = _entries()
    out = io.StringIO()
    report = CycleReport("c", out)
    report.add("v-a", entries["v-a"])
    kinds = {row[4] for row in _rows(out.getvalue())[1:]}
    assert kinds == {EntryKind.SALE, EntryKind.RELEASE, EntryKind.REFUND, EntryKind.ADJUSTMENT}


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), ZoneInfo("UTC")]),
    )
)
def test_an_entrys_time_is_written_as_isoformat_writes_it(at: datetime) -> None:
    from functions.payouts.domain.reports import _TimeText

    times = _TimeText()
    assert times.text(at) == at.isoformat()
    assert times.text(at.replace(microsecond=0)) == at.replace(microsecond=0).isoformat()
