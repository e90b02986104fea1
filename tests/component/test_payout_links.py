"""The finance e-mail's signed payout links on moto (``functions/api/handlers/payout_links.py``):
the GET shows what the link would do and changes nothing; the POST marks the line (or the
cycle) through the payouts use cases — a failed line's money back in the vendor's balance —
and spends the link; a second use, its companion, a tampered, expired or misplaced link change
nothing and say why on a plain page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from functions.payouts.adapters.finance_links import SignedFinanceLinks
from functions.payouts.composition import build_ports
from functions.payouts.domain.ledger import Book
from functions.payouts.use_cases.cycles import run_cycle, show
from functions.payouts.use_cases.flows import order_released, order_sold
from functions.payouts.use_cases.vendors import save_vendor
from shared.tenant_secrets import LINKS, TenantSecrets
from shared.tenants import TenantDirectory
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock
from tests.component.conftest import PREFIX, TABLE
from tests.component.test_operator_api import (  # noqa: F401 (fixtures)
    _Context,
    env,
    http_event,
    moto,
    table_items,
)
from tests.unit.test_payouts_cycles import SOLD_AT, TENANT
from tests.unit.test_payouts_flows import order, vendor

RUN_AT = datetime(2026, 11, 2, 7, tzinfo=UTC)
CYCLE = "2026-11-02"


@pytest.fixture
def sent(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:  # noqa: F811
    """A cycle sent to finance paying v-a and v-b, and its signed links."""
    from functions.api.composition import services

    clock = FixedClock(SOLD_AT)
    monkeypatch.setattr(services(), "clock", clock)
    TenantDirectory(TABLE).save(TENANT)
    ports = build_ports(TABLE, clock, FakeAlerts())
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    save_vendor(ports, "acme", vendor("v-b", "20"), "ops")
    state = order()
    order_sold(ports, TENANT, state)
    clock.set(datetime(2026, 10, 28, 12, tzinfo=UTC))
    order_released(ports, TENANT, state, ["l1", "l2"])
    clock.set(RUN_AT)
    run_cycle(ports, TENANT)
    signer = SignedFinanceLinks(TenantSecrets(parts=LINKS, prefix=PREFIX), "https://api.test")
    expires = int((RUN_AT + timedelta(days=30)).timestamp())
    return {
        **env,
        "ports": ports,
        "clock": clock,
        "cycle": signer.cycle_links("acme", CYCLE, expires),
        "v-a": signer.line_links("acme", CYCLE, "EUR", "v-a", expires),
        "v-b": signer.line_links("acme", CYCLE, "EUR", "v-b", expires),
        "expired": signer.line_links("acme", CYCLE, "EUR", "v-b", int(RUN_AT.timestamp()) - 1),
    }


def _params(url: str) -> tuple[str, dict[str, str], str]:
    parts = urlsplit(url)
    segments = parts.path.strip("/").split("/")  # links/<t>/payouts/<cycle>[/<cur>/<v>]/<mark>
    params = {"tenant": segments[1], "cycle_id": segments[3], "mark": segments[-1]}
    if len(segments) == 7:
        params |= {"currency": segments[4], "vendor_id": segments[5]}
    return parts.path, params, parse_qs(parts.query)["token"][0]


def click(
    method: str, url: str, *, token: str | None = None, reason: str | None = None
) -> tuple[int, str]:
    from functions.api.handlers import payout_links

    path, params, signed = _params(url)
    token = signed if token is None else token
    if method == "GET":
        event = http_event("GET", path, query={"token": token}, path_parameters=params)
    else:
        body = f"token={quote(token)}" + (f"&reason={quote(reason)}" if reason else "")
        event = http_event(
            "POST",
            path,
            body=body,
            path_parameters=params,
            content_type="application/x-www-form-urlencoded",
        )
    answer = payout_links.handler(event, _Context())
    assert answer["headers"]["content-type"].startswith("text/html")
    assert answer["headers"]["cache-control"] == "no-store"
    assert "Traceback" not in answer["body"]
    return answer["statusCode"], answer["body"]


def _line(sent: dict[str, Any], vendor_id: str) -> Any:
    return next(x for x in show(sent["ports"], "acme", CYCLE)[1] if x.vendor_id == vendor_id)


def _available(sent: dict[str, Any], vendor_id: str) -> int:
    balances: dict[Any, int] = sent["ports"].ledger.balances("acme", vendor_id)
    return balances.get(("EUR", Book.AVAILABLE), 0)


def test_opening_a_link_shows_what_it_does_and_changes_nothing(sent: dict[str, Any]) -> None:
    before = table_items(sent)
    status, page = click("GET", sent["v-b"]["failed"])
    assert status == 200
    assert "Mark the payout to v-b (EUR) of cycle 2026-11-02 failed?" in page
    assert '<form method="post" action="failed">' in page and 'name="reason"' in page
    assert "V-B (v-b)" in page and "payable" in page
    assert table_items(sent) == before  # nothing written, no link spent


def test_failed_gives_the_money_back_once_and_the_link_is_spent(sent: dict[str, Any]) -> None:
    owed = _line(sent, "v-b").amount
    assert _available(sent, "v-b") == 0
    status, page = click("POST", sent["v-b"]["failed"], reason="account closed")
    assert status == 200 and "is marked failed. The cycle is sent." in page
    assert _available(sent, "v-b") == owed
    line = _line(sent, "v-b")
    assert (line.status.value, line.reason) == ("failed", "account closed")
    after = table_items(sent)
    # Clicked again, or its companion: already used, nothing more posted.
    assert click("POST", sent["v-b"]["failed"])[0] == 409
    assert click("GET", sent["v-b"]["failed"])[0] == 409
    status, page = click("POST", sent["v-b"]["paid"])
    assert status == 409 and "already been used" in page
    assert table_items(sent) == after
    assert _available(sent, "v-b") == owed


def test_the_cycle_paid_link_confirms_the_rest(sent: dict[str, Any]) -> None:
    click("POST", sent["v-b"]["failed"])
    status, page = click("POST", sent["cycle"]["paid"])
    assert status == 200 and "The cycle is partly confirmed." in page
    cycle, lines = show(sent["ports"], "acme", CYCLE)
    assert cycle.confirmed_by == "finance (signed link)"
    assert {x.vendor_id: x.status.value for x in lines} == {"v-a": "paid", "v-b": "failed"}
    # A line link opened after the cycle was answered: nothing left to mark.
    status, page = click("GET", sent["v-a"]["failed"])
    assert status == 409 and "marked paid already" in page
    status, page = click("POST", sent["v-a"]["failed"])
    assert status == 409 and "Nothing was changed" in page
    assert _line(sent, "v-a").status.value == "paid"


def test_tampered_expired_and_misplaced_links_are_refused(sent: dict[str, Any]) -> None:
    before = table_items(sent)
    _, _, token = _params(sent["v-b"]["failed"])
    head, _, signature = token.rpartition(".")
    tampered = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    status, page = click("POST", sent["v-b"]["failed"], token=tampered)
    assert status == 403 and "altered" in page
    status, page = click("POST", sent["expired"]["failed"])
    assert status == 403 and "expired" in page
    # v-b's token on v-a's route, or on the whole cycle's; the failed token on the paid route.
    moved = sent["v-a"]["failed"]
    assert click("POST", moved, token=token)[0] == 403
    assert click("POST", sent["cycle"]["failed"], token=token)[0] == 403
    status, page = click("POST", sent["v-b"]["paid"], token=token)
    assert status == 403 and "other answer" in page
    assert table_items(sent) == before


def test_an_unknown_answer_or_cycle_is_a_plain_page(sent: dict[str, Any]) -> None:
    url = sent["v-b"]["failed"].replace("/failed?", "/lost?")
    assert click("GET", url)[0] == 404
    signer = SignedFinanceLinks(TenantSecrets(parts=LINKS, prefix=PREFIX), "https://api.test")
    ghost = signer.cycle_links("acme", "1999-01-01", int(RUN_AT.timestamp()) + 60)
    status, page = click("GET", ghost["paid"])
    assert status == 404 and "not known" in page


def test_the_instruction_links_verify_on_the_public_route(sent: dict[str, Any]) -> None:
    """The cycle's own signing (ports from the environment) and the route agree."""
    from functions.payouts.composition import ports_from_env

    deployed = {"TABLE_NAME": TABLE, "TENANT_SECRET_PREFIX": PREFIX}
    assert ports_from_env(sent["clock"], deployed).finance_links is None  # no public API
    public = deployed | {"PUBLIC_API_URL": "https://x.y"}
    built = ports_from_env(sent["clock"], public).finance_links
    assert built is not None
    links = built.line_links("acme", CYCLE, "EUR", "v-a", int(RUN_AT.timestamp()) + 3600)
    assert click("GET", links["paid"])[0] == 200
