"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification), any version.

The message type comes from the document's namespace (``…:camt.053.001.NN``), so versions 02
to 08 and later ones read alike; where versions differ (``Sts`` as text or ``Sts/Cd``, party
names under ``Dbtr/Nm`` or ``Dbtr/Pty/Nm``, transaction amounts under ``TxDtls/Amt`` or
``AmtDtls/TxAmt/Amt``) both shapes are read.

Two ways through a file, with one set of rules for what an entry becomes
(``CamtReader.assemble``, in ``camt_reader``): the lean path (``camt_lean``) for UTF-8
documents, the tree path (``camt_tree``) for everything else and for any document the lean path
gives up on. Tests hold the two paths to the same result. What both share (tags, helpers, the
safe parser settings) is in ``camt_common``.

Safety: no DTD is accepted (a camt file has none; refusing it rules out entity expansion and
external entities), entities are not resolved, nothing is fetched, huge-tree mode stays off.
"""

from __future__ import annotations

from functions.reconcile.domain.bank.camt_common import FORBIDDEN, message_type
from functions.reconcile.domain.bank.camt_lean import NotLean, lean_text, read_lean
from functions.reconcile.domain.bank.camt_reader import CamtReader
from functions.reconcile.domain.bank.camt_tree import read_tree
from functions.reconcile.domain.bank.common import BankFileError
from functions.reconcile.domain.bank.model import ParsedFile

__all__ = ["message_type", "parse_camt"]


def parse_camt(data: bytes, *, tenant: str, file: str, sha: str, lean: bool = True) -> ParsedFile:
    """``lean=False`` forces the tree path (tests hold the two paths to the same result)."""
    reader = CamtReader(data, tenant=tenant, file=file, sha=sha)
    root_at = data.find(b"<Document")
    head = data[: root_at if root_at >= 0 else 65536]
    if FORBIDDEN.search(head):
        raise BankFileError("XML with a DTD or entity declarations is refused")
    text = lean_text(data) if lean else None
    if text is not None:
        try:
            read_lean(reader, text)
        except NotLean:
            # Not what the lean path reads after all: start over on the tree path, which also
            # says where a broken document breaks.
            reader = CamtReader(data, tenant=tenant, file=file, sha=sha)
            text = None
    if text is None:
        read_tree(reader)
    if not reader.seen_statements:
        raise BankFileError(f"no statement ({reader.container}) in the file")
    return reader.out
