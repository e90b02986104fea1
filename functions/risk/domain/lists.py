"""A tenant's block and allow lists, and what a valid change of them is.

A list entry must be an e-mail, a domain, an IP or CIDR, a 6-8 digit BIN, an ISO country code
or a card fingerprint; a change with one bad entry changes nothing (``apply_changes`` checks
every entry before it changes anything). Entries are kept in canonical form (lower-case
e-mails and domains, networks for IPs, upper-case countries).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.risk_lists import ListKind, ListSet, normalise_entry

ListName = Literal["block", "allow"]


class ListChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["add", "remove"]
    list: ListName
    kind: ListKind
    values: tuple[str, ...] = Field(min_length=1)


class Lists(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    block: ListSet = ListSet()
    allow: ListSet = ListSet()


def apply_changes(lists: Lists, changes: Sequence[ListChange]) -> Lists:
    """The lists after ``changes``; every entry is validated first, so it is all or nothing."""
    errors: list[str] = []
    normalised: list[tuple[ListChange, list[str]]] = []
    for change in changes:
        values = []
        for value in change.values:
            try:
                values.append(normalise_entry(change.kind, value))
            except ValueError as error:
                errors.append(f"{change.list}.{change.kind}: {error}")
        normalised.append((change, values))
    if errors:
        raise ValueError("; ".join(errors))
    data = lists.model_dump()
    for change, values in normalised:
        current: list[str] = list(data[change.list][change.kind])
        if change.action == "add":
            current += [v for v in values if v not in current]
        else:
            missing = [v for v in values if v not in current]
            if missing:
                raise ValueError(
                    f"{change.list}.{change.kind}: not on the list: {', '.join(missing)}"
                )
            current = [v for v in current if v not in values]
        data[change.list][change.kind] = current
    return Lists.model_validate(data)


def parse_list_changes(data: Any) -> list[ListChange]:
    """Request bodies of the operator API: one change or a list of them."""
    items = data if isinstance(data, list) else [data]
    try:
        return [ListChange.model_validate(item) for item in items]
    except ValidationError as error:
        raise ValueError(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        ) from error
