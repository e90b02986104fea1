"""Hostile numbers in bank files: a field of 100,000 digits, more digits than any amount has,
digits that are not ASCII. Each makes its entry quarantined (or its statement's check fail) with
its line number and a short reason; the rest of the file lands, and no unexpected exception
(Python's "Exceeds the limit (4300 digits) for integer string conversion") leaves the parser."""

from __future__ import annotations

import time
from datetime import date

import pytest

from functions.reconcile.domain.bank import ParsedFile, parse
from functions.reconcile.domain.bank.camt import parse_camt
from functions.reconcile.domain.bank.common import RAW_LIMIT, AmountError, minor_units
from local.sandboxes.bank import Entry, Statement, write_camt053, write_mt940
from tests.samples import SAMPLES

BANK = SAMPLES / "bank"
HUGE = "1" * 100_000
# Longest reason or problem a hostile field may produce: it names the field and shows its
# start and length, never the whole of it.
REASON_WIDTH = 200

BAI2 = (BANK / "bai2/sample1.txt").read_text()
# Line 6 of sample1.txt: the second detail record of the first account (a 900.00 CAD debit).
DETAIL = "16,409,000000000090000,V,060316,,,,RTN-UNKNOWN"


def bounded(parsed: ParsedFile) -> None:
    """No reason, problem or kept raw text carries a hostile field whole."""
    for q in [*parsed.quarantined, *parsed.skipped]:
        assert len(q.reason) < REASON_WIDTH, q.reason[:300]
        assert len(q.raw) <= RAW_LIMIT + 1
    for statement in parsed.statements:
        for problem in statement.problems:
            assert len(problem) < REASON_WIDTH, problem[:300]


def bai2(old: str, new: str) -> ParsedFile:
    """sample1.txt with the first ``old`` made ``new``."""
    assert old in BAI2, old
    parsed = parse(BAI2.replace(old, new, 1).encode(), tenant="acme", file="hostile.bai2")
    bounded(parsed)
    return parsed


# -- BAI2 -----------------------------------------------------------------------------------------


def test_bai2_type_code_of_100000_digits_is_quarantined_and_the_rest_lands() -> None:
    parsed = bai2(DETAIL, DETAIL.replace("16,409,", f"16,{HUGE},"))
    (bad,) = parsed.quarantined
    assert bad.line_no == 6
    assert "detail record (16) unreadable: type code" in bad.reason
    assert "(100,000 characters) is not 3 digits" in bad.reason
    assert bad.raw.startswith("16,1111")
    assert len(parsed.lines) == 16
    first, second = parsed.statements
    # The account's control total and debit summary no longer add up; the other account's do.
    assert first.control_ok is False
    assert any("control total" in p for p in first.problems)
    assert second.control_ok is True


@pytest.mark.parametrize("code", ["4090", "40", "", "\u0664\u0660\u0669", "4O9"])
def test_bai2_type_code_must_be_three_ascii_digits(code: str) -> None:
    parsed = bai2(DETAIL, DETAIL.replace("16,409,", f"16,{code},"))
    (bad,) = parsed.quarantined
    assert bad.line_no == 6
    assert "is not 3 digits" in bad.reason
    assert len(parsed.lines) == 16


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        (HUGE, "(100,000 characters)"),
        ("1" * 19, "has more than 18 digits"),  # 19 digits of minor units: no real amount
        ("0" * 41, "is over 40 characters"),  # padding past any layout
        ("\u0663\u0663\u0663", "is not a number"),  # Arabic-Indic 333: not ASCII digits
        ("9\u00b2", "is not a number"),  # a superscript two
    ],
)
def test_bai2_hostile_amount_is_quarantined_and_the_rest_lands(amount: str, why: str) -> None:
    parsed = bai2(DETAIL, DETAIL.replace("000000000090000", amount))
    (bad,) = parsed.quarantined
    assert bad.line_no == 6
    assert "detail record (16) unreadable: amount" in bad.reason and why in bad.reason
    assert len(parsed.lines) == 16
    assert [s.control_ok for s in parsed.statements] == [False, True]


def test_bai2_largest_amount_lands() -> None:
    # 18 digits of minor units (zero-padded to 21 characters) is still an amount.
    parsed = bai2(DETAIL, DETAIL.replace("000000000090000", "000" + "9" * 18))
    assert parsed.quarantined == []
    assert max(line.amount for line in parsed.lines) == 999_999_999_999_999_999


@pytest.mark.parametrize(
    ("old", "new", "line_no", "why"),
    [
        # 03 summary amount and item count, availability distribution count
        ("040,+000000000000,,,045", f"040,+{HUGE},,,045", 3, "account record (03) unreadable"),
        (
            "88,100,000000000208500,00003,",
            f"88,100,000000000208500,{HUGE},",
            3,
            "item count of 100",
        ),
        (
            "16,409,000000000090000,V,060316,",
            f"16,409,000000000090000,D,{HUGE},",
            6,
            "availability count",
        ),
        # trailers: control totals and counts
        ("49,+00000000000834000,14/", f"49,+{HUGE},14/", 16, "account trailer (49) unreadable"),
        ("49,+00000000000446000,9/", f"49,+00000000000446000,{HUGE}/", 25, "count"),
        ("98,+00000000001280000,2,25/", f"98,+{HUGE},2,25/", 26, "group trailer (98)"),
        ("99,+00000000001280000,1,27/", f"99,-{HUGE},1,27/", 27, "file trailer (99)"),
    ],
)
def test_bai2_hostile_numbers_in_summary_and_trailer_records(
    old: str, new: str, line_no: int, why: str
) -> None:
    parsed = bai2(old, new)
    assert any(q.line_no == line_no and why in q.reason for q in parsed.quarantined), [
        (q.line_no, q.reason) for q in parsed.quarantined
    ]
    assert all("Exceeds the limit" not in q.reason for q in parsed.quarantined)
    assert len(parsed.lines) >= 15
    assert any(s.control_ok is False for s in parsed.statements)


def test_bai2_unreadable_as_of_date_quarantines_the_group_with_a_short_reason() -> None:
    parsed = bai2("02,12345,0004,1,060317,", f"02,12345,0004,1,{HUGE},")
    assert parsed.quarantined[0].line_no == 2
    assert "is not a YYMMDD date" in parsed.quarantined[0].reason
    assert parsed.lines == []
    assert all(s.control_ok is False for s in parsed.statements)


# -- MT940 ----------------------------------------------------------------------------------------


def mt940_day() -> str:
    day = date(2026, 3, 2)
    entries = [Entry(100 * (n + 1), "credit", day, remittance=f"ORDER {n}") for n in range(4)]
    return write_mt940([Statement("DE89370400440532013000", "EUR", "S1", 0, entries)]).decode()


def test_mt940_statement_line_amount_of_100000_digits_is_quarantined() -> None:
    text = mt940_day()
    broken = text.replace(":61:2603020302C2,00NTRF", f":61:2603020302C{HUGE},00NTRF")
    parsed = parse(broken.encode(), tenant="acme", file="hostile.sta")
    bounded(parsed)
    (bad,) = parsed.quarantined
    assert bad.line_no == 7 and ":61:" in bad.reason
    assert [line.amount for line in parsed.lines] == [100, 300, 400]
    assert parsed.statements[0].control_ok is False


def test_mt940_balance_of_100000_digits_fails_the_check_with_a_short_reason() -> None:
    text = mt940_day()
    broken = text.replace(":62F:C260302EUR10,00", f":62F:C260302EUR{HUGE},00")
    parsed = parse(broken.encode(), tenant="acme", file="hostile.sta")
    bounded(parsed)
    (bad,) = parsed.quarantined
    assert "closing balance unreadable" in bad.reason and "(100,003 characters)" in bad.reason
    assert len(parsed.lines) == 4
    assert parsed.statements[0].control_ok is False


def test_mt940_non_ascii_digits_are_not_read_as_a_date() -> None:
    text = mt940_day()
    arabic = "".join(chr(0x0660 + int(d)) for d in "260302")  # the same date in Arabic-Indic
    broken = text.replace(":61:2603020302C2,00NTRF", f":61:{arabic}0302C2,00NTRF")
    parsed = parse(broken.encode(), tenant="acme", file="hostile.sta")
    (bad,) = parsed.quarantined
    assert bad.line_no == 7
    assert len(parsed.lines) == 3


# -- camt -----------------------------------------------------------------------------------------


def camt_day(count: int = 5) -> bytes:
    day = date(2026, 3, 2)
    entries = [Entry(100 * (n + 1), "credit", day, remittance=f"ORDER {n}") for n in range(count)]
    return write_camt053([Statement("DE89370400440532013000", "EUR", "S1", 0, entries)])


@pytest.mark.parametrize("lean", [True, False])
def test_camt_entry_amount_of_100000_digits_is_quarantined_and_the_rest_lands(lean: bool) -> None:
    # The third entry shares its date with the first, so the lean path reads it inline: the
    # path that turned the digits into an int with no bound.
    data = camt_day().replace(
        b'<Amt Ccy="EUR">3.00</Amt>', f'<Amt Ccy="EUR">{HUGE}.00</Amt>'.encode()
    )
    parsed = parse_camt(data, tenant="acme", file="hostile.xml", sha="0" * 64, lean=lean)
    bounded(parsed)
    (bad,) = parsed.quarantined
    assert "entry unreadable" in bad.reason and "(100,003 characters)" in bad.reason
    amount_line = data[: data.index(HUGE.encode())].count(b"\n") + 1
    assert bad.line_no == amount_line - 1  # the entry's <Ntry>, the line above its amount
    assert [line.amount for line in parsed.lines] == [100, 200, 400, 500]
    assert parsed.statements[0].control_ok is False


def test_camt_amount_with_more_digits_than_any_amount_is_quarantined() -> None:
    # 17 digits before the point and 2 after: 19 digits of minor units.
    data = camt_day().replace(b">3.00<", b">" + b"1" * 17 + b".00<")
    parsed = parse(data, tenant="acme", file="hostile.xml")
    (bad,) = parsed.quarantined
    assert "more than 18 digits" in bad.reason
    assert len(parsed.lines) == 4


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (b'<Amt Ccy="EUR">15.00</Amt>', f'<Amt Ccy="EUR">{HUGE}</Amt>'.encode(), "CLBD balance"),
        (b"<Sum>15.00</Sum>", f"<Sum>{HUGE}</Sum>".encode(), "transaction summary"),
        (b"<NbOfNtries>5</NbOfNtries>", f"<NbOfNtries>{HUGE}</NbOfNtries>".encode(), "number of"),
    ],
)
def test_camt_hostile_balance_and_summary_fail_the_check(
    old: bytes, new: bytes, problem: str
) -> None:
    data = camt_day()
    assert old in data
    parsed = parse(data.replace(old, new, 1), tenant="acme", file="hostile.xml")
    bounded(parsed)
    assert len(parsed.lines) == 5
    (statement,) = parsed.statements
    assert statement.control_ok is False
    assert any(problem in p and "(100,000 characters)" in p for p in statement.problems)


# -- CSV ------------------------------------------------------------------------------------------

CSV_HEADER = (
    "booking_date,value_date,amount,currency,account,end_to_end_id,bank_ref,customer_ref,"
    "trace_id,counterparty,remittance,bank_code\n"
)


@pytest.mark.parametrize(
    "amount", [HUGE, "1" * 30_000 + "x", "1," * 20_000 + "00", "1" * 17 + ".00", "1." + "0" * 50]
)
def test_csv_hostile_amount_is_quarantined_quickly(amount: str) -> None:
    data = (
        CSV_HEADER
        + "2026-03-02,,120.50,EUR,DE01,,,,,,invoice 1,\n"
        + f"2026-03-02,,{amount},EUR,DE01,,,,,,hostile,\n"
        + "2026-03-03,,-80.00,EUR,DE01,,,,,,fee,\n"
    )
    started = time.perf_counter()
    parsed = parse(data.encode(), tenant="acme", file="hostile.csv")
    # The amount pattern took quadratic time: 30,000 characters cost half a minute.
    assert time.perf_counter() - started < 2
    bounded(parsed)
    (bad,) = parsed.quarantined
    assert bad.line_no == 3
    assert [(line.direction, line.amount) for line in parsed.lines] == [
        ("credit", 12050),
        ("debit", 8000),
    ]


# -- the shared amount reader ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("9999999999999999.99", "EUR", 999_999_999_999_999_999),
        ("999999999999999999", "JPY", 999_999_999_999_999_999),
        ("0000000000000000000001.50", "EUR", 150),  # padding is not digits of the amount
    ],
)
def test_minor_units_reads_up_to_18_digits(text: str, currency: str, minor: int) -> None:
    assert minor_units(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "why"),
    [
        ("10000000000000000.00", "EUR", "more than 18 digits"),
        ("1000000000000000000", "JPY", "more than 18 digits"),
        (HUGE, "EUR", "over 40 characters"),
        ("1." + "0" * 100_000, "EUR", "over 40 characters"),
    ],
)
def test_minor_units_refuses_more(text: str, currency: str, why: str) -> None:
    with pytest.raises(AmountError, match=why) as raised:
        minor_units(text, currency)
    assert len(str(raised.value)) < REASON_WIDTH
