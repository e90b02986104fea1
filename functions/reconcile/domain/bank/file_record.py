"""What the file record and the operators' alert say about a parsed bank file."""

from __future__ import annotations

import dataclasses
from typing import Any

from functions.reconcile.domain.bank.model import ParsedFile

QUARANTINE_KEPT = 500  # lines listed on the file record; the count is always complete


def file_summary(parsed: ParsedFile) -> dict[str, Any]:
    """What the file record and the operator alert say about a parsed file."""
    failed_controls = [s for s in parsed.statements if s.control_ok is False]
    return {
        "format": parsed.format,
        "lines": len(parsed.lines),
        "totals": parsed.totals(),
        "statements": [dataclasses.asdict(s) for s in parsed.statements],
        "failed_controls": len(failed_controls),
        "quarantined_count": len(parsed.quarantined),
        "quarantined": [dataclasses.asdict(q) for q in parsed.quarantined[:QUARANTINE_KEPT]],
        "status": ("stored_with_quarantine" if parsed.quarantined or failed_controls else "stored"),
    }
