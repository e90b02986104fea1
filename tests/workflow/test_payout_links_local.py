"""The vendor side on the local stack: a marketplace order tells each vendor what to ship (the
lifecycle's confirmation step, e-mails in the stack's mail folder); after delivery and the
return window a cycle is sent to finance with signed links; finance opens one vendor's 'failed'
link (a confirmation page through the stack's public API, nothing changed) and confirms it (the
POST): that vendor's money is back in its balance, the cycle's 'paid' link confirms the rest,
and the next cycle pays the vendor again."""

from __future__ import annotations

import email
import email.policy
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.payouts.adapters.finance_links import SignedFinanceLinks
from functions.payouts.composition import build_ports
from functions.payouts.domain.cycles import CycleStatus, LineStatus
from functions.payouts.domain.ledger import Book
from functions.payouts.use_cases.cycles import run_cycle, show
from functions.payouts.use_cases.outputs import send_outputs
from functions.payouts.use_cases.vendors import save_vendor
from shared.clock import SYSTEM_CLOCK
from shared.notify.mailers import FileMailer
from shared.tenant_secrets import LINKS, TenantSecrets
from shared.tenants import TenantDirectory
from tests.alerts_fakes import FakeAlerts
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    finished,
    fulfil,
    make_tenant,
    pay,
    place,
    wait_for_stage,
)

pytestmark = pytest.mark.local
TENANT = "pay-links"
ORDER = "o-links-1"


def _vendor(vendor_id: str) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "name": f"Vendor {vendor_id}",
        "emails": [f"{vendor_id}@vendors.example"],
        "currencies": ["USD"],
        "payout": {
            "method": "stripe_connect",
            "account_id": f"acct_1{vendor_id}links",
            "currency": "USD",
        },
        "commission": [{"percent": "10", "effective_from": "2026-01-01"}],
    }


def _mails(folder: Path, kind: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(folder.glob(f"{kind}-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["X-EcomOps-Tenant"] == TENANT:
            found.append(message)
    return found


def _text(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _open(url: str, token: str | None = None) -> tuple[int, str]:
    """A GET of the link as the e-mail has it, or the POST its confirmation page submits."""
    if token is None:
        request = urllib.request.Request(url)
    else:
        path = url.split("?", 1)[0]
        data = urllib.parse.urlencode({"token": token, "reason": "account closed"}).encode()
        request = urllib.request.Request(
            path,
            data=data,
            method="POST",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _token(url: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]


def test_vendors_told_cycle_sent_finance_marks_one_failed_next_cycle_pays_it(
    local_stack: Any, tmp_path: Path
) -> None:
    make_tenant(
        local_stack,
        tmp_path,
        TENANT,
        payouts={"enabled": True, "schedule": "daily"},
        finance_emails=[f"finance@{TENANT}.example"],
    )
    table = local_stack.deployment.outputs["TableName"]
    ports = build_ports(table, SYSTEM_CLOCK, FakeAlerts())
    for vendor_id in ("v1", "v2"):
        save_vendor(ports, TENANT, _vendor(vendor_id), "test")
    lines = [
        {"line_id": "l1", "sku": "B1", "name": "Boots", "quantity": 1, "unit_price": "30.00"},
        {"line_id": "l2", "sku": "S1", "name": "Socks", "quantity": 2, "unit_price": "10.00"},
    ]
    lines[0]["vendor_id"], lines[1]["vendor_id"] = "v1", "v2"
    place(local_stack, TENANT, ORDER, total="50.00", lines=lines)
    pay(local_stack, TENANT, ORDER, amount=5000)
    wait_for_stage(local_stack, TENANT, ORDER, "awaiting_shipment")

    # Item 4: each vendor was told what to pack and ship, once, by the lifecycle's step.
    told = {m["To"]: _text(m) for m in _mails(local_stack.mail_dir, "vendor_order")}
    assert set(told) == {"v1@vendors.example", "v2@vendors.example"}
    assert "1 \N{MULTIPLICATION SIGN} Boots (SKU B1)" in told["v1@vendors.example"]
    assert "2 \N{MULTIPLICATION SIGN} Socks (SKU S1)" in told["v2@vendors.example"]
    assert "Socks" not in told["v1@vendors.example"]

    fulfil(local_stack, TENANT, ORDER, "1ZLINKS")
    wait_for_stage(local_stack, TENANT, ORDER, "awaiting_delivery")
    carrier_update(local_stack, TENANT, "1ZLINKS", "delivered", 30)
    assert finished(local_stack, TENANT, ORDER)["status"] == "SUCCEEDED"
    owed = {"v1": 2700, "v2": 1800}
    for vendor_id, amount in owed.items():
        assert ports.ledger.balances(TENANT, vendor_id) == {("USD", Book.AVAILABLE): amount}

    # The cycle, as its hourly function sends it: the instruction carries the signed links.
    settings = TenantDirectory(table).get(TENANT)
    assert settings is not None
    signer = SignedFinanceLinks(
        TenantSecrets(parts=LINKS, prefix=local_stack.tenant_secret_prefix), local_stack.base_url
    )
    cycle_ports = replace(ports, mailer=FileMailer(local_stack.mail_dir), finance_links=signer)
    tomorrow = SYSTEM_CLOCK.now() + timedelta(days=1, hours=1)
    cycle = run_cycle(
        cycle_ports,
        settings,
        send=lambda c, ls: send_outputs(cycle_ports, settings, c, ls),
        now=tomorrow,
    )
    assert cycle.status is CycleStatus.SENT and cycle.payable == {"USD": 4500}
    (instruction,) = _mails(local_stack.mail_dir, "payout_instruction")
    text = _text(instruction)
    links = re.findall(r"https?://\S+/links/\S+", text)
    v2_failed = next(u for u in links if f"/{cycle.cycle_id}/USD/v2/failed?" in u)
    cycle_paid = next(u for u in links if u.split("?")[0].endswith(f"/{cycle.cycle_id}/paid"))

    # Finance opens v2's 'failed' link: a page to confirm on, nothing changed.
    status, page = _open(v2_failed)
    assert status == 200 and "Nothing has changed yet" in page
    assert ports.ledger.balances(TENANT, "v2") == {("USD", Book.PAID): 1800}
    # ... and confirms: v2's money is back in its balance.
    status, page = _open(v2_failed, _token(v2_failed))
    assert status == 200 and "is marked failed" in page, page
    assert ports.ledger.balances(TENANT, "v2") == {("USD", Book.AVAILABLE): 1800}
    # A second click is harmless.
    assert _open(v2_failed, _token(v2_failed))[0] == 409
    assert ports.ledger.balances(TENANT, "v2")[("USD", Book.AVAILABLE)] == 1800
    # The cycle's 'paid' link confirms the rest.
    status, page = _open(cycle_paid, _token(cycle_paid))
    assert status == 200 and "The cycle is partly confirmed." in page
    done, answered = show(ports, TENANT, cycle.cycle_id)
    assert done.status is CycleStatus.PARTLY_CONFIRMED
    assert {x.vendor_id: x.status for x in answered} == {
        "v1": LineStatus.PAID,
        "v2": LineStatus.FAILED,
    }

    # The next cycle pays v2 what came back, and v1 nothing more.
    later = run_cycle(ports, settings, now=tomorrow + timedelta(days=1))
    assert later.cycle_id != cycle.cycle_id and later.payable == {"USD": 1800}
    (again,) = [x for x in show(ports, TENANT, later.cycle_id)[1] if x.vendor_id == "v2"]
    assert (again.status, again.amount) == (LineStatus.PAYABLE, 1800)
    assert ports.ledger.balances(TENANT, "v2") == {("USD", Book.PAID): 1800}
