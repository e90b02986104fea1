"""Rows as CSV: every export of the reports is a header and plain cells (money as the
currency's decimal text, times in UTC ISO 8601, days in the tenant's zone)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from shared.money import Money


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def money_cell(amount: int | None, currency: str | None) -> str:
    return "" if amount is None or currency is None else Money.of(amount, currency).decimal_text()


def time_cell(at: datetime | None) -> str:
    return "" if at is None else at.isoformat()
