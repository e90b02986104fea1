"""Bank statement files (CSV, MT940, camt.053/054, BAI2) into normalised bank lines.

``parse`` reads a whole file: the lines that landed, the quarantined ones (with line numbers
and reasons), entries deliberately skipped (not booked, zero), and per statement what the file
declares and whether the lines agree with it. A file that cannot be read at all raises
``BankFileError``. See ``docs/bank-files.md``.
"""

from __future__ import annotations

import gc
import re
from typing import Literal

from functions.reconcile.domain.bank.common import BankFileError, sha256_hex
from functions.reconcile.domain.bank.csv_statements import preset
from functions.reconcile.domain.bank.model import (
    BankLine,
    FileFormat,
    ParsedFile,
    QuarantinedLine,
    SourcePosition,
    StatementSummary,
)
from shared.bank_csv import CSV_PRESETS, CsvMapping

FormatChoice = Literal["auto", "csv", "mt940", "camt", "camt053", "camt054", "bai2"]
FORMAT_CHOICES: tuple[str, ...] = ("auto", "csv", "mt940", "camt", "camt053", "camt054", "bai2")

_MT940_REFERENCE = re.compile(rb"(?m)^:20:")
_MT940_BODY = re.compile(rb"(?m)^:(?:60[FM]|61|62[FM]|25):")


def detect_format(data: bytes) -> FileFormat:
    """Which format a file is, from its first bytes. XML must be camt.053 or camt.054 (by the
    namespace); a ``01,`` header is BAI2; ``:20:`` with balance or statement-line tags is
    MT940; anything else is taken for CSV (the mapping then decides whether it reads)."""
    head = data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        from functions.reconcile.domain.bank.camt import message_type

        return message_type(data)[0]
    first = head.split(b"\n", 1)[0].strip()
    if first.startswith(b"01,"):
        return "bai2"
    if head.startswith(b"{1:") or (_MT940_REFERENCE.search(head) and _MT940_BODY.search(head)):
        return "mt940"
    return "csv"


def parse(
    data: bytes,
    *,
    tenant: str,
    file: str,
    format: str = "auto",
    csv_mapping: CsvMapping | None = None,
) -> ParsedFile:
    """Parse one bank file of ``tenant`` (``file``: its S3 key or path, kept on every line).

    ``format``: ``auto`` (detect), ``csv``, ``mt940``, ``camt`` (053 or 054 by namespace),
    ``camt053``, ``camt054`` or ``bai2``. CSV files use ``csv_mapping`` (default: the
    ``generic`` preset)."""
    if format not in FORMAT_CHOICES:
        raise BankFileError(f"unknown format {format!r} (one of {', '.join(FORMAT_CHOICES)})")
    if not data.strip():
        raise BankFileError("the file is empty")
    # A large file makes hundreds of thousands of small objects that never form cycles; the
    # cycle collector would rescan the growing list of them every few hundred allocations
    # (a fifth of the parse time), so it pauses for the parse and resumes as it was.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse(data, tenant=tenant, file=file, format=format, csv_mapping=csv_mapping)
    finally:
        if collecting:
            gc.enable()


def _parse(
    data: bytes, *, tenant: str, file: str, format: str, csv_mapping: CsvMapping | None
) -> ParsedFile:
    sha = sha256_hex(data)
    chosen = detect_format(data) if format == "auto" else format
    if chosen in ("camt", "camt053", "camt054"):
        from functions.reconcile.domain.bank.camt import message_type, parse_camt

        actual = message_type(data)[0]
        if chosen not in ("camt", actual):
            raise BankFileError(f"the file is {actual}, not {chosen}")
        return parse_camt(data, tenant=tenant, file=file, sha=sha)
    if chosen == "mt940":
        from functions.reconcile.domain.bank.mt940 import parse_mt940

        return parse_mt940(data, tenant=tenant, file=file, sha=sha)
    if chosen == "bai2":
        from functions.reconcile.domain.bank.bai2 import parse_bai2

        return parse_bai2(data, tenant=tenant, file=file, sha=sha)
    from functions.reconcile.domain.bank.csv_statements import parse_csv

    return parse_csv(data, csv_mapping or CSV_PRESETS["generic"], tenant=tenant, file=file, sha=sha)


__all__ = [
    "CSV_PRESETS",
    "FORMAT_CHOICES",
    "BankFileError",
    "BankLine",
    "CsvMapping",
    "FileFormat",
    "FormatChoice",
    "ParsedFile",
    "QuarantinedLine",
    "SourcePosition",
    "StatementSummary",
    "detect_format",
    "parse",
    "preset",
]
