"""Errors of the risk package that callers catch without loading the rule engine."""

from __future__ import annotations


class RulesetInvalid(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class VersionConflict(RuntimeError):
    """Someone saved a newer version since the caller read theirs."""
