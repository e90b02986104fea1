"""Bank statement parsing on the real sample files: every one reads, counts and sums agree with
what the file declares, the fields land where they should, and bad input is quarantined with
its line number instead of being dropped."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from functions.reconcile.domain.bank import (
    CSV_PRESETS,
    BankFileError,
    ParsedFile,
    detect_format,
    parse,
    preset,
)
from functions.reconcile.domain.bank.camt import parse_camt
from local.sandboxes.bank import Entry, Statement, write_camt053, write_mt940
from tests.samples import SAMPLES

BANK = SAMPLES / "bank"


def bank_samples() -> list[str]:
    """Every bank sample file; missing samples fail the run rather than testing nothing."""
    if not BANK.is_dir():
        raise FileNotFoundError(f"bank samples not found at {BANK}")
    names = sorted(p.relative_to(BANK).as_posix() for p in BANK.rglob("*") if p.is_file())
    if not names:
        raise FileNotFoundError(f"no bank samples under {BANK}")
    return names


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th occurrence of ``needle``."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def read(name: str, tenant: str = "acme") -> ParsedFile:
    return parse((BANK / name).read_bytes(), tenant=tenant, file=f"bank-statements/{name}")


# Parser fixtures copied from other projects whose numbers were edited by hand, so their
# balances do not add up; the parser must say so (False), not hide it.
INCONSISTENT = {
    "mt940/abnamro.sta": {0, 1},
    "mt940/rabobank.sta": {0, 2},
    "mt940/triodos.sta": {0},
    # OPBD in EUR, CLBD in SEK and DBIT: a fixture for parsing balances, not a statement.
    "camt053/camt053.v2.minimal.xml": {0},
    "camt053/camt053.v4.xml": {0},
    "camt053/camt053.v8.xml": {0},
}


@pytest.mark.parametrize("name", bank_samples())
def test_every_sample_parses_and_checks_out(name: str) -> None:
    parsed = read(name)
    assert parsed.lines, name
    assert parsed.quarantined == []
    assert detect_format((BANK / name).read_bytes()) == parsed.format
    for n, statement in enumerate(parsed.statements):
        lines = [
            line for line in parsed.lines if line.source.statement_id == statement.statement_id
        ]
        credits = [line.amount for line in lines if line.direction == "credit"]
        debits = [line.amount for line in lines if line.direction == "debit"]
        assert (statement.credit_count, statement.credit_total) == (len(credits), sum(credits))
        assert (statement.debit_count, statement.debit_total) == (len(debits), sum(debits))
        if n in INCONSISTENT.get(name, set()):
            assert statement.control_ok is False, (name, n)
            assert statement.problems
        elif statement.declared:
            assert statement.control_ok is True, (name, n, statement.problems)
        else:
            assert statement.control_ok is None
    for line in parsed.lines:
        assert line.amount > 0
        assert line.tenant == "acme"
        assert line.source.file == f"bank-statements/{name}"
        assert line.source.line_no > 0


def test_mt940_sepa_statements_balance_and_carry_eref_kref() -> None:
    parsed = read("mt940/sepa_mt9401.sta")
    assert parsed.format == "mt940"
    assert len(parsed.statements) == 26
    assert len(parsed.lines) == 97
    assert all(s.control_ok for s in parsed.statements)
    assert parsed.totals() == {
        "EUR": {"credit_count": 41, "credit": 518847494, "debit_count": 56, "debit": 1445761084}
    }
    first = parsed.statements[0]
    assert first.account == "50880050/0194774600888"
    assert (first.opening_balance, first.closing_balance) == (-123471836, -123762823)
    by_line = {line.source.line_no: line for line in parsed.lines}
    # EREF in ?20, free text (MTLG:) after a short sub-field is remittance, not reference.
    returned = by_line[5]
    assert (returned.direction, returned.amount, returned.currency) == ("credit", 30000, "EUR")
    assert returned.end_to_end_id == "TFNR 40005 00005"
    assert returned.customer_ref == "TFNr 40005 MSGID"  # from :61:, there is no KREF
    assert returned.bank_ref == "0724710345313905"
    assert (
        returned.remittance == "MTLG:Grund nicht spezifiziert Reject aus SEPA-Ueberweisungsauftrag"
    )
    assert returned.booking_date == date(2007, 9, 4)
    assert returned.bank_code == "NTRF/159"
    # KREF in :86: continues across a full ?20 into ?21; :61: only says KREF+.
    batch = by_line[38]
    assert (batch.direction, batch.amount) == ("debit", 50025000)
    assert batch.customer_ref == "TFNr 01005 PayId CTSc-01 EBB"
    assert batch.end_to_end_id is None
    assert batch.bank_ref == "BD7CFA74485E7E69"
    # EREF and KREF together, counterparty from ?32 and ?33.
    both = by_line[103]
    assert both.end_to_end_id == "TFNR 21005 EndToEndId 00001"
    assert both.customer_ref == "TFNR 21005 Instruction Id 00001"
    assert both.counterparty == "Empfaenger Florian Frech UK 01"
    assert both.remittance == "Verwend CTSc-01 eBB TFNr 21005"
    # RC: the reversal of a credit is money going out.
    assert (by_line[101].direction, by_line[101].amount) == ("debit", 20488)


def test_mt940_unstructured_details_and_inline_counterparty() -> None:
    rabobank = read("mt940/rabobank.sta")
    first = rabobank.lines[0]
    assert first.customer_ref == "0121470966"
    assert first.remittance.startswith("W.P. Jansen Terugboeking NIET AKKOORD")
    triodos = read("mt940/triodos.sta")  # ">" as the sub-field separator
    assert triodos.lines[0].remittance == (
        "ALGEMENE TUSSENREKENING KOSTEN VAN 01-10-2010 TOT EN MET 31-12-2010"
    )
    abn = read("mt940/abnamro.sta")  # one :20: for two statements: :28C: keeps them apart
    assert len({line.source.statement_id for line in abn.lines}) == 2
    assert len({line.line_id for line in abn.lines}) == len(abn.lines)


def test_camt053_multi_statement_balances() -> None:
    parsed = read("camt053/camt053.v2.multi.statement.xml")
    assert [s.statement_id for s in parsed.statements] == [
        "253EURNL26VAYB8060476890",
        "254EURNL26VAYB8060476890",
    ]
    assert [(s.opening_balance, s.closing_balance) for s in parsed.statements] == [
        (1815, 2700),
        (2700, 2000),
    ]
    credit, debit = parsed.lines
    assert (credit.direction, credit.amount, credit.end_to_end_id) == ("credit", 885, "000000001")
    assert credit.remittance == "Transaction Description 1"
    assert credit.counterparty is None  # only the creditor (us) is named
    assert (debit.direction, debit.amount, debit.counterparty) == ("debit", 700, "Company Name 2")
    assert debit.bank_code == "544"
    assert (credit.booking_date, credit.value_date) == (date(2014, 12, 31), date(2015, 1, 2))


def test_camt053_v8_fields() -> None:
    line = read("camt053/camt053.v8.xml").lines[0]
    assert line.end_to_end_id == "MUELL/FINP/RA12345"
    assert line.bank_ref == "AAAASESS-FP-CN_98765/01"
    assert line.counterparty == "NAME NAME"  # Dbtr/Pty/Nm, v8's party choice
    assert line.remittance == "4654654654654654"  # structured creditor reference
    assert line.bank_code == "PMNT/RCDT/BOOK"
    assert line.booking_date == date(2014, 12, 31)  # from BookgDt/DtTm
    assert line.source.statement_id == "253EURNL26VAYB8060476890/2"  # page 2 of the statement


def test_camt054_batch_without_amounts_is_one_line() -> None:
    parsed = read("camt053/camt054.v2.xml")
    assert parsed.format == "camt054"
    (line,) = parsed.lines
    assert (line.direction, line.amount, line.currency) == ("debit", 20000000, "SEK")
    assert line.end_to_end_id == "MUELL/FINP/RA12345"  # shared by all three transactions
    assert "Unstructured Remittance Information V1" in line.remittance
    assert "Ref number V3 block 2" in line.remittance


def test_camt054_batch_with_amounts_is_one_line_per_transaction() -> None:
    """The camt.054 sample's three transactions, each given its amount (summing to the
    entry): one line each, at its TxDtls line, with its own reference."""
    text = (BANK / "camt053/camt054.v2.xml").read_text()
    amounts = iter(("50000", "100000", "50000"))
    counter = iter(range(1, 4))

    def with_amount(match: re.Match[str]) -> str:
        return (
            f"{match.group(0)}<Refs><AcctSvcrRef>TX{next(counter)}</AcctSvcrRef></Refs>"
            f'<AmtDtls><TxAmt><Amt Ccy="SEK">{next(amounts)}</Amt></TxAmt></AmtDtls>'
        )

    text = re.sub(r"<TxDtls>", with_amount, text)
    text = re.sub(r"</Refs>\s*<Refs>", "", text)  # one Refs per transaction
    parsed = parse(text.encode(), tenant="acme", file="split.xml")
    assert [line.amount for line in parsed.lines] == [5000000, 10000000, 5000000]
    assert [line.bank_ref for line in parsed.lines] == ["TX1", "TX2", "TX3"]
    assert [line.source.entry_index for line in parsed.lines] == [0, 1, 2]
    lines = text.splitlines()
    for line in parsed.lines:
        assert "<TxDtls>" in lines[line.source.line_no - 1]
    assert parsed.statements[0].debit_total == 20000000


def test_bai2_continuations_and_control_totals() -> None:
    citi = read("bai2/citi_example.bai2")
    (line,) = citi.lines
    assert (line.direction, line.amount, line.currency) == ("credit", 1, "GBP")
    assert (line.bank_ref, line.customer_ref, line.bank_code) == (
        "1234567890",
        "RP12312312312312",
        "191",
    )
    # Seven 88 records of text joined onto their 16.
    assert line.remittance == (
        "FR:FP SIP INCOMING ENDT:20150715 TRID:RP12312312312312 "
        "PY:RP1231231231231200 A1234BC 22/03/66 BI:22222222 "
        "OB:111111 BUCKINGHAM PALACE OB3:BARCLAYS BANK PLC BO:11111111 BO1:DOE JO"
    )
    assert line.value_date == date(2015, 7, 15)
    assert citi.statements[0].declared["control_total"] == 20001
    assert citi.statements[0].declared["record_count"] == 10
    sample = read("bai2/sample1.txt")
    first = sample.statements[0]
    # 100/400 summaries arrive in an 88 continuation of the 03 record.
    assert first.declared["credit_total"] == 208500
    assert first.declared["credit_count"] == 3
    assert first.declared["debit_count"] == 8
    assert first.control_ok is True
    assert len(sample.lines) == 17
    svb = read("bai2/svb_us_example.bai2")
    assert [s.opening_balance for s in svb.statements] == [34726979, 35217175]
    assert [line.booking_date for line in svb.lines] == [date(2022, 2, 1), date(2022, 2, 2)]


# -- quarantine ----------------------------------------------------------------------------------


def test_mt940_corrupted_amount_is_quarantined_and_the_rest_lands() -> None:
    text = (BANK / "mt940/sepa_mt9401.sta").read_text()
    broken = text.replace(":61:0709040904CR335,33NTRF", ":61:0709040904CR335,3XNTRF", 1)
    parsed = parse(broken.encode(), tenant="acme", file="broken.sta")
    (bad,) = parsed.quarantined
    assert bad.line_no == 8
    assert ":61:" in bad.reason
    assert bad.raw.startswith(":61:0709040904CR335,3X")
    assert ":86:" in bad.raw  # its details go with it
    assert len(parsed.lines) == 96
    assert parsed.statements[0].control_ok is False
    assert all(s.control_ok for s in parsed.statements[1:])
    assert not parsed.clean


def test_mt940_truncated_file() -> None:
    text = (BANK / "mt940/sepa_mt9401.sta").read_text()
    cut = text[: text.index(":62F:D070904EUR1455749,85")]
    parsed = parse(cut.encode(), tenant="acme", file="cut.sta")
    assert [s.control_ok for s in parsed.statements] == [True, False]
    assert "truncated" in parsed.quarantined[-1].reason
    assert len(parsed.lines) == 9


def test_camt_corrupted_amount_is_quarantined() -> None:
    text = (BANK / "camt053/camt053.v2.multi.statement.xml").read_text()
    broken = text.replace('<Amt Ccy="EUR">7.00</Amt>', '<Amt Ccy="EUR">7.0O</Amt>')
    parsed = parse(broken.encode(), tenant="acme", file="broken.xml")
    (bad,) = parsed.quarantined
    assert bad.line_no == line_of(broken, "<Ntry>", 2)
    assert "7.0O" in bad.reason and "<Ntry" in bad.raw
    assert len(parsed.lines) == 1
    assert [s.control_ok for s in parsed.statements] == [True, False]


def test_camt_truncated_file_keeps_what_came_before() -> None:
    day = date(2026, 3, 2)
    entries = [Entry(100 * (n + 1), "credit", day, remittance=f"ORDER {n}") for n in range(40)]
    data = write_camt053([Statement("DE89370400440532013000", "EUR", "S1", 0, entries)])
    cut = data[: data.index(b"ORDER 25")]
    parsed = parse(cut, tenant="acme", file="cut.xml")
    assert [line.remittance for line in parsed.lines] == [f"ORDER {n}" for n in range(25)]
    (bad,) = parsed.quarantined
    assert "breaks off" in bad.reason and bad.line_no > 0
    assert parsed.statements[0].control_ok is False


def test_bai2_corrupted_amount_and_truncation() -> None:
    text = (BANK / "bai2/sample1.txt").read_text()
    broken = text.replace(
        "16,409,000000000090000,V,060316,,,,RTN-UNKNOWN",
        "16,409,0000000X0090000,V,060316,,,,RTN-UNKNOWN",
    )
    parsed = parse(broken.encode(), tenant="acme", file="broken.bai2")
    (bad,) = parsed.quarantined
    assert bad.line_no == 6 and "RTN-UNKNOWN" in bad.raw
    assert len(parsed.lines) == 16
    assert parsed.statements[0].control_ok is False
    assert parsed.statements[1].control_ok is True
    cut = "\n".join(text.splitlines()[:-3])
    truncated = parse(cut.encode(), tenant="acme", file="cut.bai2")
    assert len(truncated.lines) == 17
    assert any("truncated" in q.reason for q in truncated.quarantined)
    assert all(s.control_ok is False for s in truncated.statements)


def test_csv_bad_rows_are_quarantined_with_their_lines() -> None:
    data = (
        "booking_date,value_date,amount,currency,account,end_to_end_id,bank_ref,customer_ref,"
        "trace_id,counterparty,remittance,bank_code\n"
        "2026-03-02,2026-03-02,120.50,EUR,DE01,E1,B1,,,ACME,invoice 1,\n"
        "2026-03-02,,12.3.4,EUR,DE01,,,,,,bad amount,\n"
        "2026-13-02,,10.00,EUR,DE01,,,,,,bad date,\n"
        '2026-03-03,,-80.00,EUR,DE01,,,,,,"fee, monthly",\n'
        "2026-03-03,,5.00\n"
    )
    parsed = parse(data.encode(), tenant="acme", file="x.csv")
    assert [(line.direction, line.amount) for line in parsed.lines] == [
        ("credit", 12050),
        ("debit", 8000),
    ]
    assert [q.line_no for q in parsed.quarantined] == [3, 4, 6]
    assert "12.3.4" in parsed.quarantined[0].reason
    assert "2026-13-02" in parsed.quarantined[1].reason
    assert parsed.quarantined[1].raw.startswith("2026-13-02")
    assert parsed.lines[1].remittance == "fee, monthly"
    assert parsed.statements[0].control_ok is None  # a CSV declares nothing to check


# -- files that cannot be read -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "format", "reason"),
    [
        (b"", "auto", "empty"),
        (b"   \n", "auto", "empty"),
        (b"<?xml version='1.0'?><Document/>", "auto", "camt namespace"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><Document '
            b'xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>',
            "auto",
            "DTD",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>',
            "auto",
            "intraday",
        ),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">', "auto", "XML"),
        (b"01,A,B,260101,0000,1,,,3/\n99,0,0,2/", "auto", "version"),
        (b"hello\nworld\n", "bai2", "01 file header"),
        (b"hello\nworld\n", "mt940", "no MT940 statement"),
        (b"date;betrag\n01.01.26;5\n", "auto", "lacks"),
        (b"x", "ofx", "unknown format"),
    ],
)
def test_unreadable_files_raise_a_clear_error(data: bytes, format: str, reason: str) -> None:
    with pytest.raises(BankFileError, match=reason):
        parse(data, tenant="acme", file="f", format=format)


def test_explicit_camt_message_must_match() -> None:
    data = (BANK / "camt053/camt054.v2.xml").read_bytes()
    with pytest.raises(BankFileError, match="camt054, not camt053"):
        parse(data, tenant="acme", file="f", format="camt053")
    assert parse(data, tenant="acme", file="f", format="camt").format == "camt054"


def test_csv_in_the_wrong_encoding_is_refused() -> None:
    data = "Buchungstag;Betrag;Waehrung;Auftragskonto;Valutadatum;Buchungstext;Verwendungszweck;"
    data += "Beguenstigter/Zahlungspflichtiger;Kundenreferenz (End-to-End)\n"
    data += "02.03.26;-1,00;EUR;DE01;02.03.26;x;y;M\u00fcller;\n"
    with pytest.raises(BankFileError, match="encoding"):
        parse(data.encode("utf-16"), tenant="acme", file="f", csv_mapping=preset("generic"))


# -- line identity -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", bank_samples())
def test_same_file_same_line_ids_and_all_distinct(name: str) -> None:
    first, again = read(name), read(name)
    assert [line.line_id for line in first.lines] == [line.line_id for line in again.lines]
    assert len({line.line_id for line in first.lines}) == len(first.lines)
    other_tenant = read(name, tenant="globex")
    assert not {line.line_id for line in first.lines} & {
        line.line_id for line in other_tenant.lines
    }


@pytest.mark.parametrize("writer", [write_camt053, write_mt940])
def test_two_identical_payments_get_two_line_ids(writer: object) -> None:
    day = date(2026, 3, 2)
    payment = Entry(12_500, "credit", day, day, "E2E1", None, None, None, "ACME", "INVOICE 7", None)
    data = writer([Statement("DE89370400440532013000", "EUR", "S1", 0, [payment, payment])])  # type: ignore[operator]
    parsed = parse(data, tenant="acme", file="twice")
    one, two = parsed.lines
    assert Entry.from_line(one) == Entry.from_line(two)
    assert one.line_id != two.line_id
    assert parse(data, tenant="acme", file="again").lines[1].line_id == two.line_id


# -- CSV presets ---------------------------------------------------------------------------------


def test_csv_preset_sparkasse() -> None:
    data = (
        '"Auftragskonto";"Buchungstag";"Valutadatum";"Buchungstext";"Verwendungszweck";'
        '"Glaeubiger ID";"Mandatsreferenz";"Kundenreferenz (End-to-End)";"Sammlerreferenz";'
        '"Lastschrift Ursprungsbetrag";"Auslagenersatz Ruecklastschrift";'
        '"Beguenstigter/Zahlungspflichtiger";"Kontonummer/IBAN";"BIC (SWIFT-Code)";"Betrag";'
        '"Waehrung";"Info"\n'
        '"DE89370400440532013000";"02.03.26";"02.03.26";"GUTSCHR. UEBERWEISUNG";'
        '"STRIPE PAYOUT po_123";"";"";"po_123";"";"";"";"Stripe Payments Europe Ltd";'
        '"IE00";"X";"1.234,56";"EUR";"Umsatz gebucht"\n'
        '"DE89370400440532013000";"03.03.26";"03.03.26";"ENTGELTABSCHLUSS";"Kontof\u00fchrung";'
        '"";"";"";"";"";"";"";"";"";"-7,90";"EUR";"Umsatz gebucht"\n'
    ).encode("cp1252")
    parsed = parse(data, tenant="acme", file="s.csv", csv_mapping=preset("de_sparkasse_csv_camt"))
    credit, fee = parsed.lines
    assert (credit.direction, credit.amount, credit.end_to_end_id) == ("credit", 123456, "po_123")
    assert credit.counterparty == "Stripe Payments Europe Ltd"
    assert credit.booking_date == date(2026, 3, 2)
    assert (fee.direction, fee.amount, fee.remittance) == ("debit", 790, "Kontof\u00fchrung")
    assert fee.bank_code == "ENTGELTABSCHLUSS"


def test_csv_preset_uk_and_us() -> None:
    uk = (
        b"Date,Type,Description,Paid out,Paid in,Balance\n"
        b'04/03/2026,BGC,STRIPE PAYMENTS UK,,"1,250.00","3,000.00"\n'
        b"05/03/2026,DD,RENT,950.00,,2050.00\n"
    )
    mapping = preset("uk_paid_in_out").with_account("20-00-00 12345678")
    parsed = parse(uk, tenant="acme", file="uk.csv", csv_mapping=mapping)
    assert [(line.direction, line.amount, line.currency) for line in parsed.lines] == [
        ("credit", 125000, "GBP"),
        ("debit", 95000, "GBP"),
    ]
    assert parsed.lines[0].account == "20-00-00 12345678"
    assert parsed.lines[0].booking_date == date(2026, 3, 4)
    us = (
        b"Details,Posting Date,Description,Amount,Type,Balance,Check or Slip #\n"
        b"CREDIT,03/02/2026,STRIPE TRANSFER ST-ABC TRACE NO: 091000019876543,"
        b'"2,500.00",ACH_CREDIT,"9,000.00",\n'
        b"DEBIT,03/02/2026,CHECK 1042,-120.00,CHECK_PAID,8880.00,1042\n"
    )
    mapping = preset("us_credit_debit").with_account("000123456789")
    parsed = parse(us, tenant="acme", file="us.csv", csv_mapping=mapping)
    credit, check = parsed.lines
    assert (credit.direction, credit.amount, credit.trace_id) == (
        "credit",
        250000,
        "091000019876543",
    )
    assert (check.direction, check.amount, check.bank_ref) == ("debit", 12000, "1042")


def test_csv_presets_need_an_account_when_the_export_has_none() -> None:
    data = "Date,Type,Description,Paid out,Paid in,Balance\n04/03/2026,BGC,X,,1.00,1.00\n"
    with pytest.raises(BankFileError, match="account"):
        parse(data.encode(), tenant="acme", file="f", csv_mapping=preset("uk_paid_in_out"))


def test_csv_indicator_and_custom_mapping() -> None:
    mapping = CSV_PRESETS["generic"].model_copy(
        update={
            "name": "indicator",
            "delimiter": ";",
            "sign": "indicator",
            "indicator": "cd",
            "decimal_separator": ",",
            "thousands_separator": ".",
            "header_row": 3,
        }
    )
    data = (
        b"Export of account DE01\nCreated 2026-03-03\n"
        b"booking_date;value_date;amount;cd;currency;account;end_to_end_id;bank_ref;"
        b"customer_ref;trace_id;counterparty;remittance;bank_code\n"
        b"2026-03-02;;1.000,10;C;EUR;DE01;;;;;;a;\n"
        b"2026-03-02;;2,00;D;EUR;DE01;;;;;;b;\n"
        b"2026-03-02;;3,00;X;EUR;DE01;;;;;;c;\n"
    )
    parsed = parse(data, tenant="acme", file="f", csv_mapping=mapping)
    assert [(line.direction, line.amount) for line in parsed.lines] == [
        ("credit", 100010),
        ("debit", 200),
    ]
    assert [q.line_no for q in parsed.quarantined] == [6]


def test_csv_mapping_is_validated() -> None:
    with pytest.raises(ValueError, match="amount column"):
        type(CSV_PRESETS["generic"])(booking_date="d", currency="EUR")
    with pytest.raises(ValueError, match="currency"):
        type(CSV_PRESETS["generic"])(booking_date="d", amount="a")
    with pytest.raises(BankFileError, match="known"):
        preset("nope")


# -- camt reading paths --------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in bank_samples() if n.startswith("camt053/")])
def test_camt_lean_and_tree_paths_agree_on_samples(name: str) -> None:
    data = (BANK / name).read_bytes()
    lean = parse_camt(data, tenant="acme", file=name, sha="s")
    tree = parse_camt(data, tenant="acme", file=name, sha="s", lean=False)
    assert lean.lines == tree.lines
    assert lean.statements == tree.statements
    assert lean.quarantined == tree.quarantined


def test_camt_prefixed_and_commented_documents_read_alike() -> None:
    """A namespace prefix, comments and CDATA leave the lean path; the result is the same."""
    plain = (BANK / "camt053/camt053.v2.multi.statement.xml").read_text()
    prefixed = re.sub(r"<(/?)([A-Za-z])", r"<\1c:\2", plain).replace('xmlns="urn:', 'xmlns:c="urn:')
    commented = plain.replace("<Ntry>", "<Ntry><!-- booked -->").replace(
        "<Ustrd>Transaction Description 1</Ustrd>",
        "<Ustrd><![CDATA[Transaction Description 1]]></Ustrd>",
    )

    def seen(text: str) -> list[tuple[Entry, int, int, str | None]]:
        parsed = parse(text.encode(), tenant="acme", file="f")
        assert [s.control_ok for s in parsed.statements] == [True, True]
        return [
            (
                Entry.from_line(line),
                line.source.line_no,
                line.source.entry_index,
                line.source.statement_id,
            )
            for line in parsed.lines
        ]

    expected = seen(plain)
    assert seen(prefixed) == expected
    assert seen(commented) == expected


def test_not_booked_entries_are_listed_as_skipped() -> None:
    text = (BANK / "camt053/camt053.v2.multi.statement.xml").read_text()
    pending = text.replace("<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>", 1)
    parsed = parse(pending.encode(), tenant="acme", file="f")
    assert len(parsed.lines) == 1
    (skipped,) = parsed.skipped
    assert "PDNG" in skipped.reason and skipped.line_no == line_of(text, "<Ntry>")
    assert parsed.quarantined == []


def test_sample_files_stay_where_the_helper_says() -> None:
    assert Path(BANK).is_dir()
