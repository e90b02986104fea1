"""What a payout cycle tells people: the summary (per vendor and currency), the detailed report
(one row per ledger entry), the instruction to finance (a SEPA credit-transfer file for EUR bank
payouts, a CSV for the rest) and each vendor's statement. Plain data and text; no I/O."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
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


_FIELD = {
    **dict.fromkeys(_REFUNDS, "refunds"),
    EntryKind.CHARGEBACK_LOST: "chargebacks",
    **dict.fromkeys(_ADJUSTMENTS, "adjustments"),
}
_SIGN = {"refunds": -1, "chargebacks": -1, "adjustments": 1}


def cycle_reports(
    cycle_id: str,
    lines: Sequence[CycleLine],
    entries: Mapping[str, Sequence[Entry]],
    detail_out: TextIO | None = None,
) -> list[SummaryRow]:
    """Both reports in one pass over the period's entries (``entries`` by vendor): the
    detailed report's rows written to ``detail_out`` as they come (``DETAIL_COLUMNS``, amounts
    as decimals of their currency), and the summary per vendor and currency returned (what
    the entries did, and what the cycle decided: its line)."""
    writer = csv.writer(detail_out, lineterminator="\n") if detail_out is not None else None
    if writer is not None:
        writer.writerow(DETAIL_COLUMNS)
    text = Money.decimal_text_of
    release = EntryKind.RELEASE
    sale = EntryKind.SALE
    sums: dict[tuple[str, str], dict[str, int]] = {}
    last_at: datetime | None = None
    last_text = ""
    for vendor_id in sorted(entries):
        for item in entries[vendor_id]:
            currency = item.currency
            kind = item.kind
            moved = commission = suspense = 0
            flat = item.flat()
            for i in range(0, len(flat), 2):
                account: Account = flat[i]  # type: ignore[assignment]
                amount: int = flat[i + 1]  # type: ignore[assignment]
                if account.holder == vendor_id:
                    moved += amount
                elif account.book is Book.COMMISSION:
                    commission += amount
                elif account.book is Book.SUSPENSE:
                    suspense += amount
            sku = refund = dispute = claim = allocation = held = ""
            refs = item.flat_refs()
            for i in range(0, len(refs), 2):
                name = refs[i]
                if name == "sku":
                    sku = refs[i + 1]
                elif name == "allocation":
                    allocation = refs[i + 1]
                elif name == "suspense":
                    held = refs[i + 1]
                elif name == "refund":
                    refund = refs[i + 1]
                elif name == "dispute":
                    dispute = refs[i + 1]
                elif name == "claim":
                    claim = refs[i + 1]
            key = (vendor_id, currency)
            row = sums.get(key)
            if row is None:
                row = sums[key] = defaultdict(int)
            row["commission"] += commission
            if kind is sale:
                gross, discount, _, _, _, _, vendor_fee = allocation.split(",")
                row["gross"] += int(gross)
                row["discounts"] += int(discount)
                row["fees"] += int(vendor_fee)
            field = _FIELD.get(kind)
            if field is not None:
                row[field] += _SIGN[field] * (suspense if held else moved)
            if writer is None:
                continue
            at = item.occurred_at
            if at is not last_at:  # an order's entries share their time: format it once
                last_at, last_text = at, at.isoformat()
            writer.writerow(
                (
                    cycle_id,
                    vendor_id,
                    currency,
                    last_text,
                    kind,  # a StrEnum: written as its value
                    item.order_id,
                    item.line,
                    sku,
                    text(suspense if held else moved, currency),
                    last_text[:10] if kind is release else "",
                    refund,
                    dispute,
                    claim,
                    item.reason,
                    item.actor,
                    item.key,
                )
            )
    names = {line.vendor_id: line.name for line in lines}
    rows: dict[tuple[str, str], dict[str, Any]] = {
        (v, c): {"vendor_id": v, "name": names.get(v, ""), "currency": c, **totals}
        for (v, c), totals in sums.items()
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


def summary_csv(rows: Sequence[SummaryRow]) -> str:
    return to_csv((asdict(r) for r in rows), SUMMARY_COLUMNS)


def to_json(cycle: Cycle, rows: Sequence[SummaryRow], lines: Sequence[CycleLine]) -> str:
    """Amounts in minor units with their currency (machines read this one)."""
    return json.dumps(
        {
            "cycle": json.loads(cycle.model_dump_json()),
            "summary": [asdict(r) for r in rows],
            "lines": [json.loads(line.model_dump_json()) for line in lines],
        },
        indent=1,
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


def sepa_file(cycle: Cycle, lines: Sequence[CycleLine], debtor: Debtor, execution: date) -> bytes:
    """A pain.001.001.03 credit transfer of the cycle's EUR bank payouts, written and validated
    against its schema by sepaxml (which raises when it does not validate)."""
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
    return bytes(transfer.export(validate=True))


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
    return to_csv((json.loads(line.model_dump_json()) for line in lines), OTHER_COLUMNS)


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
