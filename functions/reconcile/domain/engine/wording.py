"""How breaks are worded: amounts through ``Money`` (``domain.amounts``), counts, and the
charges a break is about."""

from __future__ import annotations

from collections.abc import Sequence

from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.model import ChargeRecord


def counted(count: int, noun: str) -> str:
    """``1 balance transaction``, ``1,204 balance transactions``."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def stake(preferred: str | None, owed: Sequence[tuple[ChargeRecord, int]]) -> tuple[str, int]:
    """The currency a break is told in (``preferred`` when some of the money is in it) and the
    money at stake in that currency: amounts of different currencies are never added."""
    currencies = {c.currency for c, _ in owed}
    currency = preferred if preferred in currencies else min(currencies)
    assert currency is not None
    return currency, sum(amount for c, amount in owed if c.currency == currency)


def charges_text(owed: Sequence[tuple[ChargeRecord, int]]) -> str:
    """``ch_1 EUR 30.00, ch_2 EUR 10.00 of EUR 30.00``: each charge and what of it is at stake."""
    return ", ".join(
        f"{c.charge_id} {money(amount, c.currency).format(grouping=True)}"
        if amount == c.captured
        else f"{c.charge_id} {money(amount, c.currency).format(grouping=True)} "
        f"of {money(c.captured, c.currency).format(grouping=True)}"
        for c, amount in owed
    )
