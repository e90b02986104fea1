"""Finance marks a cycle, or one vendor's line of it, paid or failed (docs/payouts.md, "Marking
a cycle paid"): a failed line's money is back in the vendor's balance through a new ledger
entry and paid by the next cycle; the cycle moves to confirmed / partly confirmed / failed once
every line is answered; an answer given twice changes nothing. And the links that carry those
answers in the instruction to finance: signed per cycle and per line, bound to what they mark.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.payouts.adapters.finance_links import SignedFinanceLinks
from functions.payouts.domain.cycles import MARKS, CycleStatus, LineStatus, link_subject
from functions.payouts.domain.ledger import Account, Book, EntryKind
from functions.payouts.domain.postings import Refused
from functions.payouts.use_cases.cycles import mark_cycle, mark_line, run_cycle, show
from functions.payouts.use_cases.outputs import send_outputs
from shared.signed_links import (
    LinkMalformed,
    LinkWrongAction,
    LinkWrongSubject,
    keyring,
    verify_action_link,
    verify_link,
)
from tests.orders_fakes import FakeMailer
from tests.unit.test_payouts_cycles import TENANT, _at, _setup

SENT_AT = datetime(2026, 11, 2, 7, tzinfo=UTC)
KEY = "links-acme"


def _sent() -> tuple[Any, Any]:
    ports, ledger, _ = _setup()
    _at(ports, SENT_AT)
    run_cycle(ports, TENANT)
    return ports, ledger


def _line(ports: Any, vendor_id: str) -> Any:
    return next(x for x in show(ports, "acme", "2026-11-02")[1] if x.vendor_id == vendor_id)


def test_a_failed_line_gives_its_money_back_and_the_next_cycle_pays_it() -> None:
    ports, ledger = _sent()
    book = ledger.ledger("acme")
    owed = _line(ports, "v-b").amount
    cycle = mark_line(ports, "acme", "2026-11-02", "EUR", "v-b", "failed", "finance", "IBAN shut")
    assert cycle.status is CycleStatus.SENT  # v-a is not answered yet
    assert _line(ports, "v-b").status is LineStatus.FAILED
    assert _line(ports, "v-b").reason == "IBAN shut"
    assert book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE)) == owed
    assert book.balance("EUR", Account.vendor("v-b", Book.PAID)) == 0
    assert [e.kind for e in book.entries].count(EntryKind.PAYOUT_FAILED) == 1
    assert book.total("EUR") == 0
    done = mark_line(ports, "acme", "2026-11-02", "EUR", "v-a", "paid", "finance")
    assert done.status is CycleStatus.PARTLY_CONFIRMED
    assert done.confirmed_by == "finance"
    # The next cycle pays the money that came back (no new release needed).
    _at(ports, datetime(2026, 11, 9, 7, tzinfo=UTC))
    second = run_cycle(ports, TENANT)
    again = next(x for x in show(ports, "acme", second.cycle_id)[1] if x.vendor_id == "v-b")
    assert (again.status, again.amount) == (LineStatus.PAYABLE, owed)
    assert book.balance("EUR", Account.vendor("v-b", Book.PAID)) == owed


def test_the_same_answer_twice_changes_nothing_and_another_answer_is_refused() -> None:
    ports, ledger = _sent()
    book = ledger.ledger("acme")
    mark_line(ports, "acme", "2026-11-02", "EUR", "v-b", "failed", "finance")
    entries = len(book.entries)
    mark_line(ports, "acme", "2026-11-02", "EUR", "v-b", "failed", "finance")
    assert len(book.entries) == entries
    with pytest.raises(Refused) as refused:
        mark_line(ports, "acme", "2026-11-02", "EUR", "v-b", "paid", "finance")
    assert refused.value.reasons == ["v-b (EUR) is failed in 2026-11-02 already"]
    assert _line(ports, "v-b").status is LineStatus.FAILED


def test_a_mark_names_a_line_that_exists_an_answer_we_know_and_who_gives_it() -> None:
    ports, _ = _sent()
    with pytest.raises(Refused) as refused:
        mark_line(ports, "acme", "2026-11-02", "USD", "v-zz", "lost", " ")
    assert refused.value.reasons == [
        "an answer names who gives it",
        "a line is marked paid or failed, not 'lost'",
        "v-zz (USD) has no line in 2026-11-02",
    ]


def test_the_whole_cycle_paid_keeps_the_lines_answered_before() -> None:
    ports, ledger = _sent()
    mark_line(ports, "acme", "2026-11-02", "EUR", "v-b", "failed", "finance")
    cycle = mark_cycle(ports, "acme", "2026-11-02", "paid", "finance")
    assert cycle.status is CycleStatus.PARTLY_CONFIRMED
    assert _line(ports, "v-a").status is LineStatus.PAID
    assert _line(ports, "v-b").status is LineStatus.FAILED
    book = ledger.ledger("acme")
    assert [e.kind for e in book.entries].count(EntryKind.PAYOUT_FAILED) == 1
    with pytest.raises(Refused):  # answered: a second click of the cycle's link changes nothing
        mark_cycle(ports, "acme", "2026-11-02", "paid", "finance")


def test_the_whole_cycle_failed_gives_every_vendor_its_money_back() -> None:
    ports, ledger = _sent()
    owed = {v: _line(ports, v).amount for v in ("v-a", "v-b")}
    cycle = mark_cycle(ports, "acme", "2026-11-02", "failed", "finance")
    assert cycle.status is CycleStatus.FAILED
    book = ledger.ledger("acme")
    for vendor_id, amount in owed.items():
        assert book.balance("EUR", Account.vendor(vendor_id, Book.AVAILABLE)) == amount
        assert book.balance("EUR", Account.vendor(vendor_id, Book.PAID)) == 0


class _Secrets:
    def __init__(self, *keys: str) -> None:
        self.keys = list(keys)

    def get(self, tenant: str) -> dict[str, Any]:
        return {"links": {"signing_keys": self.keys}}


def _token(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)["token"][0]


def test_finance_links_are_bound_to_their_cycle_or_line_and_answer() -> None:
    links = SignedFinanceLinks(_Secrets(KEY), "https://api.example/")
    expires = int(SENT_AT.timestamp()) + 3600
    now = int(SENT_AT.timestamp())
    cycle = links.cycle_links("acme", "2026-11-02", expires)
    line = links.line_links("acme", "2026-11-02", "EUR", "v-b", expires)
    assert set(cycle) == set(line) == set(MARKS)
    path, token = _token(line["failed"])
    assert path == "/links/acme/payouts/2026-11-02/EUR/v-b/failed"
    assert _token(cycle["paid"])[0] == "/links/acme/payouts/2026-11-02/paid"

    def verify(token: str, subject: str, action: str) -> Any:
        return verify_action_link(
            token,
            keys=keyring(KEY),
            tenant="acme",
            subject=subject,
            action=action,
            actions=MARKS,
            now=now,
        )

    claims = verify(token, link_subject("2026-11-02", "EUR", "v-b"), "failed")
    assert claims.action == "failed"
    # The paid and failed links of one line share a nonce: one click spends both.
    assert verify(_token(line["paid"])[1], claims.subject, "paid").nonce == claims.nonce
    with pytest.raises(LinkWrongSubject):  # another vendor's line, or the whole cycle
        verify(token, link_subject("2026-11-02", "EUR", "v-a"), "failed")
    with pytest.raises(LinkWrongSubject):
        verify(token, link_subject("2026-11-02"), "failed")
    with pytest.raises(LinkWrongAction):
        verify(token, claims.subject, "paid")
    # A payout link is no review link, whatever it is pasted on.
    with pytest.raises(LinkMalformed):
        verify_link(
            token,
            keys=keyring(KEY),
            tenant="acme",
            order_id=claims.subject,
            decision="approve",
            now=now,
        )
    assert SignedFinanceLinks(_Secrets(), "https://api.example").cycle_links("acme", "c", 9) == {}


def test_the_instruction_to_finance_carries_the_links_of_the_cycle_and_of_each_line() -> None:
    from dataclasses import replace

    ports, _ = _sent()
    mailer = FakeMailer()
    finance = TENANT.model_copy(update={"finance_emails": ("finance@acme.example",)})
    ports = replace(
        ports, mailer=mailer, finance_links=SignedFinanceLinks(_Secrets(KEY), "https://api.ex")
    )
    cycle, lines = show(ports, "acme", "2026-11-02")
    send_outputs(ports, finance, cycle, lines)
    (instruction,) = [m for m in mailer.sent if m.kind == "payout_instruction"]
    for vendor_id in ("v-a", "v-b"):
        assert f"https://api.ex/links/acme/payouts/2026-11-02/EUR/{vendor_id}/failed?token=" in (
            instruction.text
        )
    assert "everything was paid:   https://api.ex/links/acme/payouts/2026-11-02/paid?token=" in (
        instruction.text
    )
    assert "Nothing could be paid" in instruction.html
    # Valid for the tenant's finance_link_days (30 by default) from the cycle's run.
    assert "The links work until Dec 2, 2026" in instruction.text
