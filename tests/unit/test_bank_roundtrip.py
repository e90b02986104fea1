"""Writer → parser round trips, property-based: whatever a format can carry comes back as it
went in, statements check out, and camt's lean and tree reading paths agree."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.reconcile.domain.bank import CSV_PRESETS, ParsedFile, parse
from functions.reconcile.domain.bank.camt import parse_camt
from functions.reconcile.domain.bank.common import find_trace
from local.sandboxes.bank import (
    CAMT_DEFAULT_CODES,
    MT940_DEFAULT_CODES,
    Entry,
    Statement,
    bai2_type_code,
    write_bai2,
    write_camt053,
    write_csv,
    write_mt940,
)
from shared.bank_csv import CsvMapping

CHECKS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DAY = date(2026, 3, 2)

# What each format can carry, letter by letter.
SWIFT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-:().,' "  # no ? or +
ASCII = "".join(chr(c) for c in range(32, 127))
XML = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs", "Co"))


def words(
    alphabet: str | st.SearchStrategy[str], *, most: int, word: int = 12
) -> st.SearchStrategy[str]:
    """Text as banks keep it: words of the alphabet's non-space letters, single spaces."""
    letters = (
        alphabet if not isinstance(alphabet, str) else st.sampled_from(alphabet.replace(" ", ""))
    )
    return (
        st.lists(st.text(letters, min_size=1, max_size=word), min_size=1, max_size=most)
        .map(" ".join)
        .filter(lambda text: find_trace(text) is None)
    )


def refs(alphabet: str, *, size: int) -> st.SearchStrategy[str]:
    letters = alphabet.replace(" ", "")
    return st.text(st.sampled_from(letters), min_size=1, max_size=size).filter(
        lambda ref: ref.upper() not in ("NONREF", "NOTPROVIDED")
    )


# Traces as banks print them (ACH trace numbers, gateway trace ids): six or more letters/digits.
TRACES = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), min_size=6, max_size=16)


@st.composite
def entries(
    draw: st.DrawFn,
    *,
    text: st.SearchStrategy[str],
    ref: st.SearchStrategy[str],
    short_ref: st.SearchStrategy[str],
    name: st.SearchStrategy[str],
    codes: st.SearchStrategy[str | None],
    same_day: bool = False,
) -> Entry:
    booking = DAY if same_day else DAY + timedelta(days=draw(st.integers(-3, 3)))
    valued = draw(st.none() | st.integers(-4, 4).map(lambda d: booking + timedelta(days=d)))
    return Entry(
        amount=draw(st.integers(min_value=1, max_value=10**11)),
        direction=draw(st.sampled_from(("credit", "debit"))),
        booking_date=booking,
        value_date=valued,
        end_to_end_id=draw(st.none() | ref),
        bank_ref=draw(st.none() | short_ref),
        customer_ref=draw(st.none() | ref),
        trace_id=draw(st.none() | TRACES),
        counterparty=draw(st.none() | name),
        remittance=draw(st.just("") | text),
        bank_code=draw(codes),
    )


def statements(
    entry: st.SearchStrategy[Entry], *, currencies: tuple[str, ...] = ("EUR", "USD", "JPY", "KWD")
) -> st.SearchStrategy[Statement]:
    return st.builds(
        Statement,
        account=st.sampled_from(("DE89370400440532013000", "000123456789")),
        currency=st.sampled_from(currencies),
        statement_id=st.text(st.sampled_from("ABCDEFGHIJ0123456789"), min_size=1, max_size=16),
        opening_balance=st.integers(min_value=-(10**12), max_value=10**12),
        entries=st.lists(entry, min_size=1, max_size=8),
    )


def came_back(parsed: ParsedFile) -> list[Entry]:
    return [Entry.from_line(line) for line in parsed.lines]


def assert_checks_out(parsed: ParsedFile, statement: Statement) -> None:
    assert parsed.quarantined == []
    for summary in parsed.statements:
        assert summary.control_ok is True, summary.problems
    assert parsed.statements[0].opening_balance == statement.opening_balance
    assert parsed.statements[-1].closing_balance == statement.closing_balance


CAMT_ENTRY = entries(
    text=words(XML, most=30),
    ref=st.text(XML, min_size=1, max_size=35).filter(lambda r: r != "NOTPROVIDED"),
    short_ref=st.text(XML, min_size=1, max_size=35),
    name=words(XML, most=4),
    codes=st.sampled_from((None, "PMNT/RCDT/ESCT", "ACMT/MDOP/CHRG", "544")),
)


@CHECKS
@given(statement=statements(CAMT_ENTRY), version=st.sampled_from((2, 8)))
def test_camt053_round_trip(statement: Statement, version: int) -> None:
    data = write_camt053([statement], version=version)
    parsed = parse(data, tenant="acme", file="s.xml")
    assert parsed.format == "camt053"
    expected = [
        replace(
            e,
            bank_code=e.bank_code or CAMT_DEFAULT_CODES[e.direction],
            trace_id=e.trace_id or find_trace(e.remittance),
        )
        for e in statement.entries
    ]
    assert came_back(parsed) == expected
    assert_checks_out(parsed, statement)
    tree = parse_camt(data, tenant="acme", file="s.xml", sha=parsed.file_sha256, lean=False)
    assert tree.lines == parsed.lines
    assert tree.statements == parsed.statements


@CHECKS
@given(
    batch=st.lists(
        entries(
            text=words(XML, most=5),
            ref=st.text(XML, min_size=1, max_size=20).filter(lambda r: r != "NOTPROVIDED"),
            short_ref=st.text(XML, min_size=1, max_size=20),
            name=words(XML, most=3),
            codes=st.none(),
            same_day=True,
        ),
        min_size=2,
        max_size=5,
    ),
    version=st.sampled_from((2, 8)),
)
def test_camt053_batch_booking_splits_into_its_transactions(
    batch: list[Entry], version: int
) -> None:
    members = [replace(e, direction="credit", value_date=DAY, batch="BATCH-1") for e in batch]
    statement = Statement("DE89370400440532013000", "EUR", "S1", 0, members)
    parsed = parse(write_camt053([statement], version=version), tenant="acme", file="b.xml")
    expected = [
        replace(
            e,
            batch=None,
            bank_ref=e.bank_ref or "BATCH-1",
            bank_code=CAMT_DEFAULT_CODES["credit"],
            trace_id=e.trace_id or find_trace(e.remittance),
        )
        for e in members
    ]
    assert came_back(parsed) == expected
    summary = parsed.statements[0]
    assert summary.control_ok is True
    assert summary.declared["credit_count"] == 1  # one booked entry…
    assert summary.credit_count == len(members)  # …that is several lines


MT940_ENTRY = entries(
    text=words(SWIFT, most=20, word=8),
    ref=refs(SWIFT, size=30),
    short_ref=refs(SWIFT.replace("/", ""), size=16),
    name=words(SWIFT, most=4, word=10).filter(lambda n: len(n) <= 54),
    codes=st.sampled_from((None, "NTRF/166", "NMSC/079", "NCHG/805")),
)


@CHECKS
@given(statement=statements(MT940_ENTRY))
def test_mt940_round_trip(statement: Statement) -> None:
    parsed = parse(write_mt940([statement]), tenant="acme", file="s.sta")
    assert parsed.format == "mt940"

    def expect(e: Entry) -> Entry:
        remittance = e.remittance
        if e.trace_id:
            remittance = f"{remittance} TRACE NO: {e.trace_id}".strip()
        return replace(
            e,
            value_date=e.value_date or e.booking_date,
            bank_code=e.bank_code or MT940_DEFAULT_CODES[e.direction],
            remittance=remittance,
        )

    assert came_back(parsed) == [expect(e) for e in statement.entries]
    assert_checks_out(parsed, statement)


BAI2_ENTRY = entries(
    text=words(ASCII, most=25),
    ref=refs(ASCII.replace(",", "").replace("/", ""), size=20),
    short_ref=refs(ASCII.replace(",", "").replace("/", ""), size=16),
    name=st.just("unused"),
    codes=st.sampled_from((None, "142", "165", "195", "469", "495", "699", "PMNT/RCDT/ESCT")),
)


@CHECKS
@given(statement=statements(BAI2_ENTRY, currencies=("USD", "CAD", "JPY")))
def test_bai2_round_trip(statement: Statement) -> None:
    parsed = parse(write_bai2([statement]), tenant="acme", file="s.bai2")
    assert parsed.format == "bai2"
    by_day = sorted(statement.entries, key=lambda e: e.booking_date)  # one group per day

    def expect(e: Entry) -> Entry:
        remittance = e.remittance
        if e.trace_id:
            remittance = f"{remittance} TRACE NO: {e.trace_id}".strip()
        return replace(
            e,
            end_to_end_id=None,  # BAI2 has no field for these
            counterparty=None,
            bank_code=bai2_type_code(e),
            remittance=remittance,
        )

    assert came_back(parsed) == [expect(e) for e in by_day]
    assert parsed.quarantined == []
    assert all(summary.control_ok for summary in parsed.statements)
    assert parsed.statements[0].opening_balance == statement.opening_balance
    assert parsed.statements[-1].closing_balance == statement.closing_balance


CSV_ENTRY = entries(
    text=words(XML, most=20),
    ref=st.text(XML, min_size=1, max_size=30),
    short_ref=st.text(XML, min_size=1, max_size=16),
    name=words(XML, most=4),
    codes=st.none() | st.text(XML, min_size=1, max_size=10),
)


def kept(e: Entry, mapping: CsvMapping, currency: str) -> Entry:
    """What a CSV laid out by ``mapping`` keeps of an entry."""
    trace = e.trace_id if mapping.trace_id else None
    return Entry(
        amount=e.amount,
        direction=e.direction,
        booking_date=e.booking_date,
        value_date=e.value_date if mapping.value_date else None,
        end_to_end_id=e.end_to_end_id if mapping.end_to_end_id else None,
        bank_ref=e.bank_ref if mapping.bank_ref else None,
        customer_ref=e.customer_ref if mapping.customer_ref else None,
        trace_id=trace or find_trace(e.remittance if mapping.remittance else ""),
        counterparty=e.counterparty if mapping.counterparty else None,
        remittance=e.remittance if mapping.remittance else "",
        bank_code=e.bank_code if mapping.bank_code else None,
    )


def cp1252(e: Entry) -> Entry:
    """An entry as a Windows-1252 export can hold it."""

    def fit(text: str | None) -> str | None:
        return None if text is None else text.encode("cp1252", "replace").decode("cp1252")

    return replace(
        e,
        remittance=fit(e.remittance) or "",
        counterparty=fit(e.counterparty),
        end_to_end_id=fit(e.end_to_end_id),
        bank_code=fit(e.bank_code),
    )


@CHECKS
@given(
    statement=statements(CSV_ENTRY, currencies=("EUR", "GBP", "USD", "JPY")),
    name=st.sampled_from(sorted(CSV_PRESETS)),
)
def test_csv_round_trip_for_every_preset(statement: Statement, name: str) -> None:
    mapping = CSV_PRESETS[name]
    if mapping.currency:
        statement = replace(statement, currency=mapping.currency)
    if mapping.account_column is None:
        mapping = mapping.with_account(statement.account)
    if mapping.encoding == "cp1252":
        statement = replace(statement, entries=[cp1252(e) for e in statement.entries])
    parsed = parse(
        write_csv([statement], mapping), tenant="acme", file="s.csv", csv_mapping=mapping
    )
    assert parsed.quarantined == []
    assert came_back(parsed) == [kept(e, mapping, statement.currency) for e in statement.entries]
    assert all(line.account == statement.account for line in parsed.lines)


# -- camt: the lean path reads exactly what the tree path reads ------------------------------

_BOUNDARY = "><"


@st.composite
def mangled_camt(draw: st.DrawFn) -> bytes:
    """A written camt.053 with what real files and hostile uploads do to it between elements
    and in text: other whitespace, line ends, comments, escapes, character references, CDATA,
    a cut-off end, a stray character XML forbids."""
    statement = draw(statements(CAMT_ENTRY, currencies=("EUR", "JPY")))
    text = write_camt053([statement], version=draw(st.sampled_from((2, 8)))).decode()
    cuts = text.split(_BOUNDARY)
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(1, len(cuts) - 1))
        cuts[at - 1] += draw(
            st.sampled_from(
                (
                    ">\r\n  ",
                    ">\t",
                    "><!-- note -->",
                    "><?pi x?>",
                    ">\u00a0",
                    "> x ",
                )
            )
        ).removeprefix(">")
    text = _BOUNDARY.join(cuts)
    swaps = {
        "<Ustrd>": ("<Ustrd>&amp; ", "<Ustrd>&#65;", "<Ustrd><![CDATA[]]>", "<Ustrd>]"),
        "<Nm>": ("<Nm>a &lt; b ", "<Nm>\x01", "<Nm>\ufffe"),
        "<AcctSvcrRef>": ("<AcctSvcrRef>&quot;", "<AcctSvcrRef>&bogus;"),
    }
    for needle, options in swaps.items():
        if needle in text and draw(st.booleans()):
            text = text.replace(needle, draw(st.sampled_from(options)), 1)
    data = text.encode()
    if draw(st.booleans()):
        data = data[: draw(st.integers(len(data) // 2, len(data)))]
    return data


@CHECKS
@given(data=mangled_camt())
def test_camt_lean_and_tree_paths_agree_on_mangled_files(data: bytes) -> None:
    def outcome(lean: bool) -> tuple[object, ...]:
        try:
            parsed = parse_camt(data, tenant="acme", file="m.xml", sha="s", lean=lean)
        except Exception as error:  # comparing what each path raises, whatever it is
            return (type(error).__name__, str(error))
        return (parsed.lines, parsed.statements, parsed.quarantined, parsed.skipped)

    assert outcome(lean=True) == outcome(lean=False)
