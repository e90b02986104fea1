"""camt's tree path, for every document the lean path does not read.

lxml's ``iterparse`` hands over each ``<Ntry>`` once complete and it is dropped after reading,
so memory stays flat. A document that breaks off (a truncated upload) lands what came before
the break and quarantines the break itself.
"""

from __future__ import annotations

import io
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from functions.reconcile.domain.bank.camt_common import SAFE_XML
from functions.reconcile.domain.bank.camt_reader import CamtReader
from functions.reconcile.domain.bank.common import RAW_LIMIT, BankFileError
from functions.reconcile.domain.bank.model import QuarantinedLine


def read_tree(reader: CamtReader) -> None:
    t = reader.t
    container = getattr(t, reader.container)
    events = etree.iterparse(
        io.BytesIO(reader.data),
        events=("end",),
        tag=(t.Ntry, t.Bal, t.TxsSummry, container),
        **SAFE_XML,
    )
    ntry, bal, summary = t.Ntry, t.Bal, t.TxsSummry
    try:
        for _, element in events:
            tag = element.tag
            if tag == ntry:
                reader.read_entry(element, reader.open_statement(element.getparent()))
                element.clear()
                parent = element.getparent()
                while element.getprevious() is not None:
                    del parent[0]
            elif tag == bal:
                reader.read_balance(element)
            elif tag == summary:
                reader.read_summary(element)
            else:
                reader.finish(reader.open_statement(element))
                element.clear()
                parent = element.getparent()
                if parent is not None:
                    parent.remove(element)
    except etree.XMLSyntaxError as error:
        _broken(reader, error)


def _broken(reader: CamtReader, error: Any) -> None:
    line_no = int(getattr(error, "lineno", 0) or 0)
    if not reader.seen_statements and reader.statement is None:
        raise BankFileError(f"not well-formed XML: {error.msg}", line_no=line_no) from None
    lines = reader.data.decode("utf-8", "replace").splitlines()
    raw = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    reader.out.quarantined.append(
        QuarantinedLine(
            line_no=line_no,
            reason=f"XML breaks off here ({error.msg}); nothing after it was read",
            raw=raw[:RAW_LIMIT],
        )
    )
    if reader.statement is not None:
        reader.statement.summary.problems.append(
            f"statement incomplete: the file breaks off at line {line_no}"
        )
        reader.finish(reader.statement)
