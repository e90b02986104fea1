"""Vendors told on moto, as the orders composition wires them: the lifecycle's confirmation
e-mails each vendor (a .eml file from the mailer the deployment uses) and records it beside the
order in the notification log (``NOTIFY#vendor_order:<vendor>`` and a timeline entry), so a
retried step sends nothing twice; the customer's own e-mail is untouched."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest

from functions.orders import contracts as c
from functions.orders.composition import ports_with
from functions.orders.use_cases import lifecycle
from functions.payouts.composition import build_ports
from functions.payouts.use_cases.vendors import save_vendor
from shared import keys
from shared.tenants import TenantDirectory
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock
from tests.component.conftest import TABLE
from tests.component.test_operator_api import (  # noqa: F401 (fixtures)
    T0,
    env,
    moto,
    place,
    table_items,
)
from tests.unit.test_payouts_cycles import TENANT
from tests.unit.test_payouts_flows import vendor


def test_the_confirmation_tells_the_vendor_once_through_the_orders_log(
    env: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    TenantDirectory(TABLE).save(TENANT.model_copy(update={"id": "acme"}))
    save_vendor(build_ports(TABLE, FixedClock(T0), FakeAlerts()), "acme", vendor("v1"), "ops")
    place("acme", "o-1")
    orders = ports_with(clock=FixedClock(T0), table_name=TABLE, mail_dir=str(tmp_path))
    step = c.StageInput(
        tenant="acme", order_id="o-1", action=c.LifecycleAction.STAGE, stage=c.Stage.CONFIRMED
    )
    lifecycle.stage(orders, step)
    lifecycle.stage(orders, step)  # the step retried
    mails = sorted(tmp_path.glob("vendor_order-*.eml"))
    assert len(mails) == 1
    message = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "v1@example.com"
    assert message["Subject"] == "[Acme] New order o-1: please pack and ship"
    assert message["From"] == "Ecom OPS <ops@ecomops.example>"
    assert len(sorted(tmp_path.glob("order_confirmation-*.eml"))) == 1
    items = {(i["PK"]["S"], i["SK"]["S"]): i for i in table_items(env)}
    logged = items[(keys.order_pk("acme", "o-1"), keys.notify_sk("vendor_order:v1"))]
    assert logged["status"]["S"] == "sent"
    timeline = [
        i["summary"]["S"]
        for (pk, sk), i in items.items()
        if pk == keys.order_pk("acme", "o-1") and sk.startswith("TL#") and "summary" in i
    ]
    assert "e-mail vendor_order:v1: [Acme] New order o-1: please pack and ship" in timeline
