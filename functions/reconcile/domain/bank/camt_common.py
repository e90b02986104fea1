"""What camt's two ways through a file share: the message type, namespaced tags, the
element helpers, the safe parser settings, and what a transaction and a statement hold while
they are read. The reading itself is in ``camt_reader`` (statements and entries),
``camt_lean`` and ``camt_tree`` (the two paths), ``camt`` (which path, and the result).

Safety: no DTD is accepted (a camt file has none; refusing it rules out entity expansion and
external entities), entities are not resolved, nothing is fetched, huge-tree mode stays off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from functions.reconcile.domain.bank.common import BankFileError, squeeze
from functions.reconcile.domain.bank.model import FileFormat, StatementSummary

Element = Any  # lxml ships no type information

NAMESPACE = re.compile(
    rb"xmlns(?::[\w.-]+)?\s*=\s*[\"']"
    rb"(urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d+))[\"']"
)
FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
CONTAINERS = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
FORMATS: dict[str, FileFormat] = {"053": "camt053", "054": "camt054"}
NOT_BOOKED = {"PDNG": "pending", "INFO": "information only", "FUTR": "future-dated"}
# What every lxml parse of a bank file is held to, on both paths.
SAFE_XML: dict[str, bool] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
    "collect_ids": False,
    "remove_comments": True,
    "remove_pis": True,
}


class Tags:
    """Namespaced tags by local name (``tags.Ntry``), made on first use."""

    def __init__(self, namespace: str) -> None:
        self._prefix = f"{{{namespace}}}"

    def __getattr__(self, name: str) -> str:
        tag = self._prefix + name
        setattr(self, name, tag)
        return tag


def safe_parser() -> Any:
    """An lxml parser under the rules above (``SAFE_XML``)."""
    return etree.XMLParser(**SAFE_XML)


@dataclass(slots=True)
class Tx:
    """What one ``<TxDtls>`` says."""

    line_no: int
    amount: str | None = None
    currency: str | None = None
    direction: str | None = None
    end_to_end_id: str | None = None
    bank_ref: str | None = None
    instruction_id: str | None = None
    trace_id: str | None = None
    debtor: str | None = None
    creditor: str | None = None
    remittance: list[str] = field(default_factory=list)
    bank_code: str | None = None


@dataclass(slots=True)
class CamtStatement:
    element: Element
    summary: StatementSummary
    next_index: int = 0
    # Entry-level tallies (a batch entry counts once), which is what TxsSummry declares.
    entries: dict[str, int] = field(
        default_factory=lambda: {
            "credit_count": 0,
            "credit_total": 0,
            "debit_count": 0,
            "debit_total": 0,
        }
    )
    foreign: set[str] = field(default_factory=set)
    # TxsSummry as written, read once the statement's currency is certain.
    summary_texts: list[tuple[str, str, bool]] = field(default_factory=list)


def message_type(data: bytes) -> tuple[FileFormat, str]:
    """The camt message a document is (from its namespace) and the namespace itself."""
    match = NAMESPACE.search(data[:65536])
    if match is None:
        raise BankFileError("not an ISO 20022 camt document (no camt namespace)")
    namespace, message = match.group(1).decode(), match.group(2).decode()
    if message not in FORMATS:
        hint = " (an intraday report, not a statement)" if message == "052" else ""
        raise BankFileError(f"camt.{message}{hint} is not read here; camt.053 and camt.054 are")
    return FORMATS[message], namespace


def child_of(element: Element, tag: str) -> Element | None:
    """The first child with ``tag``: a plain loop, several times faster than lxml's find()."""
    for child in element:
        if child.tag == tag:
            return child
    return None


def text_of(element: Element | None) -> str | None:
    if element is None:
        return None
    value = element.text
    if value is None:
        return None
    value = value.strip()
    return value or None


def tidy(text: str) -> str:
    """``squeeze`` only when there is something to squeeze (most names have nothing)."""
    if "  " in text or not text.isprintable() or text[:1] == " " or text[-1:] == " ":
        return squeeze(text)
    return text


def stripped(value: str | None) -> str | None:
    if not value:
        return None
    return value.strip() or None
