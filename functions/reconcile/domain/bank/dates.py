"""The dates bank files write, read one way each: ``YYMMDD`` (MT940, BAI2), an entry's ``MMDD``
beside its value date (MT940), ISO dates and date-times (camt), and a CSV mapping's
``strptime`` format. Each raises ``ValueError`` saying what was wrong; the parsers quarantine
the entry with it."""

from __future__ import annotations

import calendar
from datetime import date, datetime

from functions.reconcile.domain.bank.common import shown


def yymmdd(text: str, *, month_end_february: bool = False) -> date:
    """``260302`` → 2 March 2026 (years 2000-2099). With ``month_end_february`` the 29th and
    30th of February are its last day: German banks book month-end interest on "30 February"
    (MT940)."""
    if len(text) != 6 or not (text.isascii() and text.isdigit()):
        raise ValueError(f"{shown(text)} is not a YYMMDD date")
    year, month, day = 2000 + int(text[:2]), int(text[2:4]), int(text[4:6])
    if month_end_february and month == 2 and 28 < day <= 30:
        day = calendar.monthrange(year, 2)[1]
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueError(f"{text!r} is not a date ({error})") from None


def entry_date(value: date, mmdd: str) -> date:
    """An MT940 entry date (``MMDD``, no year) beside its value date: across New Year it
    belongs to the neighbouring year."""
    month, day = int(mmdd[:2]), int(mmdd[2:])
    year = value.year
    if month == 1 and value.month == 12:
        year += 1
    elif month == 12 and value.month == 1:
        year -= 1
    return date(year, month, day)


def iso_date(text: str | None) -> date | None:
    """camt's ``Dt`` (``2024-01-31``) or ``DtTm`` (``2024-01-31T13:15:00+01:00``): the bank's
    own date, whatever the time zone."""
    return date.fromisoformat(text.strip()[:10]) if text else None


def formatted_date(text: str, date_format: str, what: str) -> date:
    """A CSV cell in the mapping's ``strptime`` format; ``what`` names the column in the
    error."""
    if not text:
        raise ValueError(f"no {what}")
    try:
        return datetime.strptime(text, date_format).date()
    except ValueError:
        raise ValueError(f"{what} {shown(text)} does not match {date_format!r}") from None
