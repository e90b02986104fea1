"""What every format's parser shares: the error for unreadable files, exact amounts, trace ids
found in free text, and the statement checks (balances, declared counts and sums)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.bank.model import BankLine, StatementSummary
from shared.money import exponent


class BankFileError(ValueError):
    """The file cannot be read at all: not the format it claims, undecodable, no statement in
    it, or unsafe (an XML DTD). Lines are never half-landed from such a file."""

    def __init__(self, reason: str, *, line_no: int | None = None) -> None:
        self.reason = reason
        self.line_no = line_no
        super().__init__(reason if line_no is None else f"line {line_no}: {reason}")


class AmountError(ValueError):
    pass


# Bounds on what a field read as a number may hold. A file is untrusted input: a 100,000-digit
# amount must become a quarantined entry with a reason, not Python's "Exceeds the limit (4300
# digits) for integer string conversion" escaping from the parser (or a regular expression
# working through it for minutes).
#
# An amount is at most 18 digits of minor units (below 10**18, what a signed 64-bit integer
# holds and as many digits as ISO 20022 allows in an amount): 16 before the decimal point for
# a currency with two decimals, leading zeros not counted. Counts and other whole numbers have
# at most 18 digits too. No number field may be longer than 40 characters in all (padding
# zeros, separators and signs included).
MAX_AMOUNT_DIGITS = 18
MAX_NUMBER_CHARS = 40
# How much of a quarantined entry's text is kept (the reason says what was wrong with it).
RAW_LIMIT = 4000


def shown(text: str | None, width: int = 40) -> str:
    """A value as a reason quotes it: ``repr``, clipped so that a hostile 100,000-character
    field does not make a 100,000-character reason."""
    if text is None or len(text) <= width:
        return repr(text)
    return f"{text[:width]!r}… ({len(text):,} characters)"


def clip_raw(raw: str) -> str:
    """A quarantined entry's text, at most ``RAW_LIMIT`` characters."""
    return raw if len(raw) <= RAW_LIMIT else raw[:RAW_LIMIT] + "…"


def whole_number(text: str, what: str, *, digits: int = MAX_AMOUNT_DIGITS) -> int:
    """A field of plain ASCII digits (leading zeros allowed) to an int, at most ``digits``
    significant digits and ``MAX_NUMBER_CHARS`` characters; ``ValueError`` saying which field
    and why otherwise."""
    body = text.strip()
    if not (body.isascii() and body.isdigit()):
        raise ValueError(f"{what} {shown(text)} is not a number")
    if len(body) > MAX_NUMBER_CHARS:
        raise ValueError(f"{what} {shown(text)} is over {MAX_NUMBER_CHARS} characters")
    if len(body.lstrip("0")) > digits:
        raise ValueError(f"{what} {shown(text)} has more than {digits} digits")
    return int(body)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_CURRENCY = re.compile(r"[A-Z]{3}")


# Decimals of each currency code met so far (only valid codes get in): a dict lookup on the
# hot path instead of validating the code again.
CURRENCY_PLACES: dict[str, int] = {}


def check_currency(code: str | None) -> str:
    if code in CURRENCY_PLACES:
        return code  # only valid codes get in
    if code is None or not _CURRENCY.fullmatch(code):
        raise AmountError(f"{shown(code)} is not an ISO 4217 currency code")
    CURRENCY_PLACES[code] = exponent(code)
    return code


def minor_units(text: str | None, currency: str) -> int:
    """``"1234.5"`` EUR → 123450, exactly: digit strings and integers, never a float. Refuses
    signs, exponents, non-ASCII digits, more decimals than the currency has (trailing zeros
    aside), and amounts of more than ``MAX_AMOUNT_DIGITS`` digits in minor units."""
    if text is None:
        raise AmountError("no amount")
    body = text.strip()
    if len(body) > MAX_NUMBER_CHARS:
        raise AmountError(f"{shown(text)} is not an amount (over {MAX_NUMBER_CHARS} characters)")
    whole, _, fraction = body.partition(".")
    if not (
        body.isascii()
        and (whole or fraction)
        and (not whole or whole.isdigit())
        and (not fraction or fraction.isdigit())
    ):
        raise AmountError(f"{shown(text)} is not an amount")
    fraction = fraction.rstrip("0")
    places = CURRENCY_PLACES.get(currency)
    if places is None:
        places = exponent(currency)
    if len(fraction) > places:
        raise AmountError(f"{shown(text)} has more decimals than {currency} has ({places})")
    if len(whole.lstrip("0")) + places > MAX_AMOUNT_DIGITS:
        raise AmountError(
            f"{shown(text)} is too large: more than {MAX_AMOUNT_DIGITS} digits in minor units"
        )
    scale: int = 10**places
    return int(whole or "0") * scale + int(fraction.ljust(places, "0") or "0")


def decimal_text(amount: int, currency: str, separator: str = ".") -> str:
    """Unsigned minor units as the plain decimal bank files carry: 123450 EUR → ``1234.50``,
    with the file's decimal separator (the bank sandbox writes MT940's decimal comma)."""
    return money(abs(amount), currency).decimal_text().replace(".", separator)


def quoted(amount: int, currency: str) -> str:
    """An amount as a statement problem quotes it: -123450 EUR → ``-1234.50 EUR``."""
    return f"{money(amount, currency).decimal_text()} {currency}"


# How banks print an ACH or gateway trace in free text: "TRACE NO: 091000012345678",
# "TRACE# 0910…", "TRACE ID: TRACE0123456789". A label and a colon or hash are required, so
# a company called "Trace Ltd" in the text is not taken for one.
_TRACE = re.compile(
    r"\bTRACE(?:\s*(?:NO|NUMBER|NBR|ID)\b\.?)?\s*[:#]\s*([A-Z0-9][A-Z0-9-]{4,})", re.IGNORECASE
)


def find_trace(text: str | None) -> str | None:
    if not text:
        return None
    match = _TRACE.search(text)
    return match.group(1) if match else None


_SPACES = re.compile(r"\s+")


def squeeze(text: str | None) -> str:
    """Runs of whitespace (line breaks of the format, padding) to one space, ends trimmed."""
    return _SPACES.sub(" ", text).strip() if text else ""


def count_line(summary: StatementSummary, line: BankLine) -> None:
    if line.direction == "credit":
        summary.credit_count += 1
        summary.credit_total += line.amount
    else:
        summary.debit_count += 1
        summary.debit_total += line.amount


_LABELS = {
    "opening_balance": "opening balance",
    "closing_balance": "closing balance",
    "credit_count": "number of credits",
    "credit_total": "sum of credits",
    "debit_count": "number of debits",
    "debit_total": "sum of debits",
    "entry_count": "number of entries",
    "net_total": "net sum of entries",
    "control_total": "control total",
    "record_count": "number of records",
}
_AMOUNTS = {
    "opening_balance",
    "closing_balance",
    "credit_total",
    "debit_total",
    "net_total",
    "control_total",
}


def _show(key: str, value: int, currency: str) -> str:
    if key in _AMOUNTS or key.endswith("_total"):
        return quoted(value, currency)
    return str(value)


def settle(summary: StatementSummary, computed: Mapping[str, int] | None = None) -> None:
    """Compare what the file declares with what landed, and set ``control_ok``.

    ``computed`` holds our own figures for the declared keys (``credit_count``, ``control_total``
    …); where it has none, the statement's line tallies are used. Opening + credits - debits must
    equal the closing balance when the file gives both. Problems already recorded (a truncated
    statement, a foreign currency) make the check fail too. Nothing declared and no problem:
    ``control_ok`` stays None, there was nothing to check against."""
    own = {
        "credit_count": summary.credit_count,
        "credit_total": summary.credit_total,
        "debit_count": summary.debit_count,
        "debit_total": summary.debit_total,
        "entry_count": summary.credit_count + summary.debit_count,
        "net_total": summary.credit_total - summary.debit_total,
    }
    if computed:
        own.update(computed)
    currency = summary.currency
    checked = False
    for key, declared in summary.declared.items():
        if key in ("opening_balance", "closing_balance") or key not in own:
            continue
        checked = True
        if own[key] != declared:
            summary.problems.append(
                f"{_LABELS.get(key, key)}: the file declares {_show(key, declared, currency)}, "
                f"the lines give {_show(key, own[key], currency)}"
            )
    opening = summary.declared.get("opening_balance")
    closing = summary.declared.get("closing_balance")
    summary.opening_balance = opening
    summary.closing_balance = closing
    if opening is not None and closing is not None:
        checked = True
        expected = opening + summary.credit_total - summary.debit_total
        if expected != closing:
            summary.problems.append(
                f"balances: opening {quoted(opening, currency)} + credits "
                f"{quoted(summary.credit_total, currency)} - debits "
                f"{quoted(summary.debit_total, currency)} = "
                f"{quoted(expected, currency)}, but the closing balance is "
                f"{quoted(closing, currency)}"
            )
    if summary.problems:
        summary.control_ok = False
    elif checked:
        summary.control_ok = True
