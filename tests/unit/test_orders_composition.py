"""The orders composition root builds each adapter when a step first uses it, once, and the
adapters that share one (the mailer, the alerts, the notification log) still share it."""

import os
import subprocess
import sys
from pathlib import Path

from functions.orders.composition import OrdersSettings, ports_for

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: this test process may have loaded the modules already.
_FIRST_USE = """
import sys
from functions.orders.composition import OrdersSettings, ports_for

ports = ports_for(OrdersSettings(table_name="first-use"))
assert "shared.order_store" in sys.modules and "shared.lifecycle_store" in sys.modules
late = ("functions.payouts.composition", "functions.risk.composition", "shared.notify.mailers")
assert not [m for m in late if m in sys.modules], [m for m in late if m in sys.modules]
assert ports.vendor_ledger is not None  # what a step asks before it tells the ledger
assert "functions.payouts.composition" not in sys.modules
ports.vendor_ledger.sold
assert "functions.payouts.composition" in sys.modules
assert "functions.risk.composition" not in sys.modules
ports.screening.screen
assert "functions.risk.composition" in sys.modules
print("ok")
"""


def test_an_adapter_is_built_by_the_first_step_that_uses_it() -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "PYDANTIC_DISABLE_PLUGINS": "__all__"}
    command = [sys.executable, "-c", _FIRST_USE]
    out = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_adapters_built_on_first_use_share_the_mailer_and_the_alerts() -> None:
    ports = ports_for(OrdersSettings(table_name="shared-adapters", mail_dir="/tmp/no-mail"))
    alerts = ports.alerts.send.__self__  # type: ignore[attr-defined]
    ledger = ports.vendor_ledger.ports  # type: ignore[union-attr]
    assert ledger.alerts is alerts
    assert ledger.mailer is alerts.mailer
    assert ports.mailer.send.__self__ is alerts.mailer  # type: ignore[attr-defined]
    assert ledger.notifications is alerts.log.notifications
    # Built once: a second read finds the same adapter.
    assert ports.alerts.send.__self__ is alerts  # type: ignore[attr-defined]
