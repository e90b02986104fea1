"""What a payout cycle tells people: the summary (per vendor and currency), the detailed report
(one row per ledger entry), the instruction to finance (a SEPA credit-transfer file for EUR bank
payouts, a CSV for the rest) and each vendor's statement. Plain data and text; no I/O."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TextIO

from functions.payouts.domain.cycles import Cycle, CycleLine, LineStatus
from functions.payouts.domain.ledger import Account, Book, Entry, EntryKind
from shared.money import Money

_REFUNDS = frozenset({EntryKind.REFUND, EntryKind.RETURN, EntryKind.VOID})
_ADJUSTMENTS = frozenset(
    {EntryKind.ADJUSTMENT, EntryKind.CARRIER_CLAIM, EntryKind.SUSPENSE_ASSIGNED}
)


@dataclass(frozen=True, slots=True)
class SummaryRow:
    vendor_id: str
    name: str
    currency: str
    gross: int = 0
    discounts: int = 0
    commission: int = 0
    fees: int = 0
    refunds: int = 0
    chargebacks: int = 0
    adjustments: int = 0
    carried: int = 0
    net_payable: int = 0
    held: int = 0
    held_why: str = ""
    status: str = ""


SUMMARY_COLUMNS = tuple(SummaryRow.__dataclass_fields__)
MONEY_COLUMNS = (
    "gross",
    "discounts",
    "commission",
    "fees",
    "refunds",
    "chargebacks",
    "adjustments",
    "carried",
    "net_payable",
    "held",
)
DETAIL_COLUMNS = (
    "cycle",
    "vendor_id",
    "currency",
    "occurred_at",
    "kind",
    "order_id",
    "line",
    "sku",
    "amount",
    "release_date",
    "refund",
    "dispute",
    "claim",
    "reason",
    "actor",
    "entry",
)


def _vendor_amount(item: Entry, vendor_id: str) -> int:
    return sum(amount for account, amount in item.moves() if account.holder == vendor_id)


_SUMMED = ("gross", "discounts", "fees", "commission", "refunds", "chargebacks", "adjustments")
_GROSS, _DISCOUNTS, _FEES, _COMMISSION = 0, 1, 2, 3
# Where an entry kind's vendor amount is summed, and its sign there.
_SUMMED_AS: dict[EntryKind, tuple[int, int]] = {
    **dict.fromkeys(_REFUNDS, (4, -1)),
    EntryKind.CHARGEBACK_LOST: (5, -1),
    **dict.fromkeys(_ADJUSTMENTS, (6, 1)),
}


class CycleReport:
    """Both reports of a cycle in one pass, fed one vendor at a time (``add``) so that only
    one vendor's entries need be held: the detailed report's rows are written to
    ``detail_out`` as they come (``DETAIL_COLUMNS``, amounts as decimals of their currency),
    the summary's sums are kept per vendor and currency, and ``summary`` adds what the cycle
    decided (its lines)."""

    def __init__(self, cycle_id: str, detail_out: TextIO | None = None) -> None:
        self.cycle_id = cycle_id
        self._out = detail_out
        if detail_out is not None:
            detail_out.write(",".join(DETAIL_COLUMNS) + "\n")
        self._sums: dict[tuple[str, str], list[int]] = {}
        self._texts: dict[str, Callable[[int], str]] = {}
        self._times = _TimeText()
        self._layouts: dict[tuple[str, ...], tuple[int, int, int, int, int, bool]] = {}
        self.rows = 0

    def add(self, vendor_id: str, items: Iterable[Entry]) -> None:
        """One vendor's entries of the period (each vendor once, in the order wanted)."""
        sums_of = self._sums
        texts = self._texts
        summed_as = _SUMMED_AS
        sale, release, commission_book, suspense_book = (
            EntryKind.SALE,
            EntryKind.RELEASE,
            Book.COMMISSION,
            Book.SUSPENSE,
        )
        cycle_id = self.cycle_id
        iso = self._times.text
        layouts = self._layouts
        rows: list[str] = []
        keep = rows.append
        write = self._out is not None
        separators = len(DETAIL_COLUMNS) - 1
        last_currency = ""
        sums: list[int] = []
        text: Callable[[int], str] = str
        last_at: datetime | None = None
        at_text = ""
        for item in items:
            currency = item.currency
            if currency != last_currency:
                last_currency = currency
                sums = sums_of.setdefault((vendor_id, currency), [0] * len(_SUMMED))
                text = texts.get(currency) or texts.setdefault(
                    currency, Money.decimal_text_for(currency)
                )
            moved = commission = suspense = 0
            flat = item.flat()
            for i in range(0, len(flat), 2):
                account: Account = flat[i]  # type: ignore[assignment]
                if account.holder == vendor_id:
                    moved += flat[i + 1]  # type: ignore[operator]
                elif account.book is commission_book:
                    commission += flat[i + 1]  # type: ignore[operator]
                elif account.book is suspense_book:
                    suspense += flat[i + 1]  # type: ignore[operator]
            # The references where this entry's names put them (a few layouts in all, read
            # by position: a dict per row was a fifth of the pass); a name missing reads "".
            pairs = item.flat_refs()
            names = pairs[::2]
            at_ = layouts.get(names) or layouts.setdefault(names, _layout(names))
            values = pairs + _MISSING
            amount = suspense if at_[5] else moved
            kind = item.kind
            sums[_COMMISSION] += commission
            if kind is sale:
                gross, discount, _, _, _, _, vendor_fee = values[at_[4]].split(",")
                sums[_GROSS] += int(gross)
                sums[_DISCOUNTS] += int(discount)
                sums[_FEES] += int(vendor_fee)
            elif kind is not release:  # releases move nothing the summary sums
                field = summed_as.get(kind)
                if field is not None:
                    sums[field[0]] += field[1] * amount
            if not write:
                continue
            at = item.occurred_at
            if at is not last_at:  # an order's entries share their time: format it once
                last_at, at_text = at, iso(at)
            row = (
                cycle_id,
                vendor_id,
                currency,
                at_text,
                kind,  # a StrEnum: written as its value
                item.order_id,
                item.line,
                values[at_[0]],
                text(amount),
                at_text[:10] if kind is release else "",
                values[at_[1]],
                values[at_[2]],
                values[at_[3]],
                item.reason,
                item.actor,
                item.key,
            )
            text_row = ",".join(row)
            # csv's quoting is needed only when a cell holds a comma, a quote or a line break
            # (a shop's SKU, an operator's reason): rare, and the plain join is 4x faster.
            if (
                text_row.count(",") != separators
                or '"' in text_row
                or "\n" in text_row
                or "\r" in text_row
            ):
                text_row = _quoted(row)
            keep(text_row)
        if rows and self._out is not None:
            rows.append("")
            self._out.write("\n".join(rows))
            self.rows += len(rows) - 1

    def summary(self, lines: Sequence[CycleLine]) -> list[SummaryRow]:
        """Per vendor and currency: what the entries did, and what the cycle decided."""
        names = {line.vendor_id: line.name for line in lines}
        rows: dict[tuple[str, str], dict[str, Any]] = {
            (v, c): {
                "vendor_id": v,
                "name": names.get(v, ""),
                "currency": c,
                **dict(zip(_SUMMED, totals, strict=True)),
            }
            for (v, c), totals in self._sums.items()
        }
        for line in lines:
            decided = rows.setdefault(
                (line.vendor_id, line.currency),
                {"vendor_id": line.vendor_id, "name": line.name, "currency": line.currency},
            )
            payable = line.status in (LineStatus.PAYABLE, LineStatus.PAID)
            why = [line.reason] if line.reason and not payable else []
            if line.held_back:
                why.append("released within the delay days")
            decided.update(
                name=line.name,
                carried=line.carried,
                net_payable=line.amount if payable else 0,
                held=(0 if payable else max(0, line.amount)) + line.held_back,
                held_why="; ".join(why),
                status=line.status.value,
            )
        return [SummaryRow(**rows[key]) for key in sorted(rows)]


_MISSING = ("",)


def _layout(names: tuple[str, ...]) -> tuple[int, int, int, int, int, bool]:
    """Where an entry's references (``flat_refs``: name, value, … ) hold the SKU, refund,
    dispute, claim and allocation (-1: the ``_MISSING`` appended), and whether it is a
    suspense line's."""

    def at(name: str) -> int:
        return 2 * names.index(name) + 1 if name in names else -1

    return (
        at("sku"),
        at("refund"),
        at("dispute"),
        at("claim"),
        at("allocation"),
        "suspense" in names,
    )


class _TimeText:
    """``datetime.isoformat`` of the entries' times (UTC, whole seconds), twice as fast: the
    day's part kept per day, the time of day from a table of its 86,400 texts. Any other time
    (another offset, microseconds) is ``isoformat``'s own."""

    _CLOCK: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._days: dict[int, str] = {}
        if not _TimeText._CLOCK:
            _TimeText._CLOCK = tuple(
                f"{h:02d}:{m:02d}:{s:02d}+00:00"
                for h in range(24)
                for m in range(60)
                for s in range(60)
            )

    def text(self, at: datetime) -> str:
        if at.tzinfo is not UTC or at.microsecond:
            return at.isoformat()
        day = self._days.get(at.toordinal())
        if day is None:
            day = self._days[at.toordinal()] = at.date().isoformat() + "T"
        return day + self._CLOCK[at.hour * 3600 + at.minute * 60 + at.second]


def _quoted(row: Sequence[str]) -> str:
    out = io.StringIO()
    # The report's line ending as the writer's: csv quotes a cell holding a character of it.
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue()[:-1]


def cycle_reports(
    cycle_id: str,
    lines: Sequence[CycleLine],
    entries: Mapping[str, Sequence[Entry]],
    detail_out: TextIO | None = None,
) -> list[SummaryRow]:
    """Both reports from every vendor's entries at once (``CycleReport`` fed in vendor order)."""
    report = CycleReport(cycle_id, detail_out)
    for vendor_id in sorted(entries):
        report.add(vendor_id, entries[vendor_id])
    return report.summary(lines)


def summary(lines: Sequence[CycleLine], entries: Mapping[str, Sequence[Entry]]) -> list[SummaryRow]:
    """The summary alone (``cycle_reports`` without the detailed report)."""
    return cycle_reports("", lines, entries)


def detail(cycle_id: str, entries: Mapping[str, Sequence[Entry]]) -> str:
    """The detailed report alone, as CSV text."""
    out = io.StringIO()
    cycle_reports(cycle_id, [], entries, out)
    return out.getvalue()


def write_csv(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)


def _cell(column: str, value: Any, currency: str) -> Any:
    if column in MONEY_COLUMNS or column == "amount":
        return Money.decimal_text_of(int(value), currency)
    return value


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Amounts as decimals of their currency (``Money.decimal_text``)."""
    out = io.StringIO()
    write_csv(out, columns, ([_cell(c, row[c], row["currency"]) for c in columns] for row in rows))
    return out.getvalue()


def _row_dict(row: SummaryRow) -> dict[str, Any]:
    return {column: getattr(row, column) for column in SUMMARY_COLUMNS}


def summary_csv(rows: Sequence[SummaryRow]) -> str:
    return to_csv((_row_dict(r) for r in rows), SUMMARY_COLUMNS)


def to_json(cycle: Cycle, rows: Sequence[SummaryRow], lines: Sequence[CycleLine]) -> str:
    """Amounts in minor units with their currency (machines read this one). Compact: json's
    indented output is written by its pure-Python encoder, ten times slower for 6 MB."""
    return json.dumps(
        {
            "cycle": cycle.model_dump(mode="json"),
            "summary": [_row_dict(r) for r in rows],
            "lines": [line.model_dump(mode="json") for line in lines],
        },
        sort_keys=True,
    )


# -- the instruction to finance ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Debtor:
    """The tenant's own account the payouts leave from (tenant settings)."""

    name: str
    iban: str
    bic: str | None = None


def sepa_lines(lines: Sequence[CycleLine]) -> list[CycleLine]:
    return [
        line
        for line in lines
        if line.status is LineStatus.PAYABLE and line.currency == "EUR" and line.method == "bank"
    ]


def other_lines(lines: Sequence[CycleLine]) -> list[CycleLine]:
    sepa = {(line.currency, line.vendor_id) for line in sepa_lines(lines)}
    return [
        line
        for line in lines
        if line.status is LineStatus.PAYABLE and (line.currency, line.vendor_id) not in sepa
    ]


class InvalidSepaFile(ValueError):
    """The pain.001 file does not validate against its schema (an illegal value in a line)."""


def sepa_file(cycle: Cycle, lines: Sequence[CycleLine], debtor: Debtor, execution: date) -> bytes:
    """A pain.001.001.03 credit transfer of the cycle's EUR bank payouts, written by sepaxml and
    validated against the schema it ships (``InvalidSepaFile`` when it does not validate)."""
    from sepaxml import SepaTransfer

    config: dict[str, Any] = {
        "name": debtor.name,
        "IBAN": debtor.iban,
        "batch": True,
        "currency": "EUR",
    }
    if debtor.bic:
        config["BIC"] = debtor.bic
    transfer = SepaTransfer(config, clean=True)
    for line in sepa_lines(lines):
        payment: dict[str, Any] = {
            "name": line.holder or line.name,
            "IBAN": line.iban,
            "amount": line.amount,
            "execution_date": execution,
            "description": f"Payout {cycle.cycle_id} {line.vendor_id}",
            # End-to-end id: the cycle and vendor, so the bank's report names the line.
            "endtoend_id": f"{cycle.cycle_id}-{line.vendor_id}"[:35],
        }
        if line.bic:
            payment["BIC"] = line.bic
        transfer.add_payment(payment)
    # sepaxml's own validation (xmlschema, pure Python) took 2-3 s for a cycle of 4,000
    # payments; the same schema through libxml2 (lxml) takes milliseconds.
    body = bytes(transfer.export(validate=False))
    _check_sepa(body, transfer.schema)
    return body


def _check_sepa(body: bytes, schema_name: str) -> None:
    from lxml import etree  # type: ignore[import-untyped]

    schema = _sepa_schema(schema_name)
    if not schema.validate(etree.fromstring(body)):
        problems = "; ".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise InvalidSepaFile(f"the {schema_name} file does not validate: {problems}")


@cache
def _sepa_schema(schema_name: str) -> Any:
    from importlib.resources import files

    from lxml import etree

    xsd = files("sepaxml").joinpath("schemas", f"{schema_name}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(xsd))


OTHER_COLUMNS = (
    "vendor_id",
    "name",
    "currency",
    "amount",
    "method",
    "holder",
    "iban",
    "bic",
    "account_id",
)


def payouts_csv(lines: Sequence[CycleLine]) -> str:
    """Payouts for finance to make by hand: what the SEPA file does not carry (other
    currencies, Stripe Connect accounts; every bank payout when there is no SEPA file)."""
    return to_csv((line.model_dump(mode="json") for line in lines), OTHER_COLUMNS)


# -- the vendor's statement ----------------------------------------------------------------------


def statement(
    vendor_id: str,
    items: Sequence[Entry],
    line: CycleLine | None,
    balances: Mapping[tuple[str, Book], int],
) -> dict[str, Any]:
    """What a vendor is told: its entries of the period, this cycle's payout and what is held."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        totals[item.currency][item.kind.value] += _vendor_amount(item, vendor_id)
    return {
        "vendor_id": vendor_id,
        "entries": [
            {
                "occurred_at": i.occurred_at,
                "kind": i.kind.value,
                "order_id": i.order_id,
                "line": i.line,
                "sku": i.refs.get("sku", ""),
                "amount": {"amount": _vendor_amount(i, vendor_id), "currency": i.currency},
            }
            for i in items
            if i.kind not in (EntryKind.PAYOUT, EntryKind.CARRY)
        ],
        "totals": {c: dict(t) for c, t in totals.items()},
        "payout": (
            {"amount": line.amount, "currency": line.currency}
            # PAID already when a Stripe Connect transfer paid it during the cycle.
            if line is not None and line.status in (LineStatus.PAYABLE, LineStatus.PAID)
            else None
        ),
        "held": [
            {"book": book.value, "money": {"amount": amount, "currency": currency}}
            for (currency, book), amount in sorted(balances.items())
            if book is not Book.PAID and amount
        ],
        "reason": line.reason if line is not None else "",
    }
