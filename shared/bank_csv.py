"""A bank's CSV export layout: which column means what (``docs/bank-files.md``).

In the shared kernel because a tenant's settings name one (``ReconciliationSettings.bank_csv``,
a preset name or a full mapping) and are validated on load, while the reconciliation context
reads statements with it (``functions/reconcile/domain/bank/csv_statements``).
"""

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

SignConvention = Literal["negative_is_debit", "negative_is_credit", "indicator"]


class CsvMapping(BaseModel):
    """Which column of a bank's CSV export means what. Column names match the header
    case-insensitively, surrounding spaces ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "custom"
    delimiter: str = Field(",", min_length=1, max_length=1)
    quotechar: str = Field('"', min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    header_row: int = Field(
        1,
        ge=1,
        description="1-based line of the header; lines above it (a bank's banner) are skipped",
    )
    booking_date: str
    value_date: str | None = None
    date_format: str = "%Y-%m-%d"
    amount: str | None = None
    credit: str | None = None
    debit: str | None = None
    sign: SignConvention = "negative_is_debit"
    indicator: str | None = None
    credit_marks: tuple[str, ...] = ("C", "CR", "CRDT", "CREDIT", "H")
    debit_marks: tuple[str, ...] = ("D", "DR", "DBIT", "DEBIT", "S")
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: Literal["", ",", ".", " ", "'"] = ""
    currency_column: str | None = None
    currency: str | None = None
    account_column: str | None = None
    account: str | None = None
    end_to_end_id: str | None = None
    bank_ref: str | None = None
    customer_ref: str | None = None
    trace_id: str | None = None
    counterparty: str | None = None
    remittance: tuple[str, ...] = ()
    bank_code: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.amount is None) == (self.credit is None or self.debit is None):
            raise ValueError("give either an amount column or both credit and debit columns")
        if (self.credit is None) != (self.debit is None):
            raise ValueError("credit and debit columns go together")
        if self.sign == "indicator" and not self.indicator:
            raise ValueError("sign 'indicator' needs the indicator column")
        if self.currency_column is None and self.currency is None:
            raise ValueError("give a currency column or a fixed currency")
        if self.decimal_separator == self.thousands_separator:
            raise ValueError("decimal and thousands separators must differ")
        return self

    def with_account(self, account: str) -> "CsvMapping":
        """The same mapping for an export without an account column."""
        return self.model_copy(update={"account": account})


CSV_PRESETS: dict[str, CsvMapping] = {
    # Our own layout, and what the bank sandbox writes: ISO dates, signed amounts with a point.
    "generic": CsvMapping(
        name="generic",
        booking_date="booking_date",
        value_date="value_date",
        amount="amount",
        currency_column="currency",
        account_column="account",
        end_to_end_id="end_to_end_id",
        bank_ref="bank_ref",
        customer_ref="customer_ref",
        trace_id="trace_id",
        counterparty="counterparty",
        remittance=("remittance",),
        bank_code="bank_code",
    ),
    # German savings banks' "CSV-CAMT V2" export: semicolons, Windows-1252, dd.mm.yy, signed
    # amounts with a decimal comma (a point between thousands is read too).
    "de_sparkasse_csv_camt": CsvMapping(
        name="de_sparkasse_csv_camt",
        delimiter=";",
        encoding="cp1252",
        booking_date="Buchungstag",
        value_date="Valutadatum",
        date_format="%d.%m.%y",
        amount="Betrag",
        decimal_separator=",",
        thousands_separator=".",
        currency_column="Waehrung",
        account_column="Auftragskonto",
        end_to_end_id="Kundenreferenz (End-to-End)",
        counterparty="Beguenstigter/Zahlungspflichtiger",
        remittance=("Verwendungszweck",),
        bank_code="Buchungstext",
    ),
    # UK high-street style (Date, Type, Description, Paid out, Paid in, Balance): dd/mm/yyyy,
    # separate money-in and money-out columns, pounds, no account column (give it with
    # ``with_account``).
    "uk_paid_in_out": CsvMapping(
        name="uk_paid_in_out",
        booking_date="Date",
        date_format="%d/%m/%Y",
        credit="Paid in",
        debit="Paid out",
        thousands_separator=",",
        currency="GBP",
        remittance=("Description",),
        bank_code="Type",
    ),
    # US online-banking style (Details, Posting Date, Description, Amount, Type, Balance,
    # Check or Slip #): MM/DD/YYYY, CREDIT/DEBIT in "Details", dollars, no account column.
    "us_credit_debit": CsvMapping(
        name="us_credit_debit",
        booking_date="Posting Date",
        date_format="%m/%d/%Y",
        amount="Amount",
        sign="indicator",
        indicator="Details",
        thousands_separator=",",
        currency="USD",
        bank_ref="Check or Slip #",
        remittance=("Description",),
        bank_code="Type",
    ),
}
