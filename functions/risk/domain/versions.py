"""A tenant's rules and lists are immutable versions: each save is version n+1, carrying who
saved it and when, so the versions are the audit trail (before = version n, after = n+1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredVersion:
    subject: str  # "rules:<category>" or "lists"
    version: int
    body: dict[str, Any]
    saved_by: str
    saved_at: str
    change: dict[str, Any]
