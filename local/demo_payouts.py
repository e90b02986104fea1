"""The demo's marketplace side: the day's vendors are registered before the first order, and
once every lifecycle has run out (delivered, return window over, lines released) the next
morning's payout cycle pays them through the deployed payout-cycles function."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

Echo = Callable[[str], None]

TENANT = "demo"
# The shop sandbox's vendors (local/sandboxes/shop.VENDORS): most paid by bank transfer, two
# through Stripe Connect accounts. The IBANs are the banks' published examples.
_BANKS = (
    ("DE89370400440532013000", "COBADEFFXXX"),
    ("GB29NWBK60161331926819", "NWBKGB2L"),
    ("NL91ABNA0417164300", "ABNANL2A"),
    ("FR1420041010050500013M02606", "PSSTFRPP"),
)
_CONNECTED = ("ven_stark", "ven_wayne")


def vendor_records(vendor_ids: tuple[str, ...], currency: str) -> list[dict[str, Any]]:
    """One record per vendor as an operator enters it (validated by the payouts context)."""
    records = []
    for n, vendor_id in enumerate(vendor_ids):
        name = vendor_id.removeprefix("ven_").title() + " Supply Co."
        if vendor_id in _CONNECTED:
            payout: dict[str, Any] = {
                "method": "stripe_connect",
                "account_id": f"acct_1Demo{vendor_id.removeprefix('ven_').title()}",
                "currency": currency,
            }
        else:
            iban, bic = _BANKS[n % len(_BANKS)]
            payout = {"method": "bank", "holder": name, "iban": iban, "bic": bic}
            payout["currency"] = currency
        records.append(
            {
                "vendor_id": vendor_id,
                "name": name,
                "emails": [f"payouts@{vendor_id.removeprefix('ven_')}.example"],
                "currencies": [currency],
                "payout": payout,
                "commission": [
                    {"category": "apparel", "percent": "15", "effective_from": "2020-01-01"},
                    {"percent": "12", "effective_from": "2020-01-01"},
                ],
                # Under $5 waits for the next cycle.
                "minimum_payout": {currency: 500},
            }
        )
    return records


def install_vendors(table: str, echo: Echo) -> None:
    from functions.payouts.composition import build_ports
    from functions.payouts.use_cases.vendors import save_vendor
    from local.sandboxes.shop import VENDORS
    from shared.tenants import TenantDirectory

    settings = TenantDirectory(table).get(TENANT)
    assert settings is not None and settings.payouts.enabled, "the demo tenant is a marketplace"
    ports = build_ports(table)
    for record in vendor_records(VENDORS, settings.currency):
        save_vendor(ports, TENANT, record, "demo (make demo)")
    echo(
        f"marketplace: {len(VENDORS)} vendors registered for {TENANT} "
        f"({len(VENDORS) - len(_CONNECTED)} paid by bank transfer, {len(_CONNECTED)} by Stripe "
        "Connect; commission 15 % on apparel, 12 % otherwise)"
    )


def next_cutoff_after(now: datetime, zone: str, hour: int) -> datetime:
    """The first daily cut-off after ``now`` in the tenant's zone, plus a minute."""
    local = now.astimezone(ZoneInfo(zone))
    cutoff = datetime.combine(local.date(), time(hour), tzinfo=ZoneInfo(zone))
    if cutoff <= local:
        cutoff = datetime.combine(local.date() + timedelta(days=1), time(hour), ZoneInfo(zone))
    return cutoff + timedelta(minutes=1)


def payout_cycle(stack: Any, outdir: Path, echo: Echo) -> bool:
    """The morning after the day, the hourly tick finds the demo's cut-off passed and runs its
    cycle; what it paid, carried and held is printed, its e-mails kept for the screenshots."""
    from functions.payouts.composition import build_ports
    from functions.payouts.use_cases.cycles import show
    from shared.clock import SYSTEM_CLOCK
    from shared.money import Money
    from shared.tenants import TenantDirectory

    outputs = stack.deployment.outputs
    table = outputs["TableName"]
    settings = TenantDirectory(table).get(TENANT)
    assert settings is not None
    tick = next_cutoff_after(SYSTEM_CLOCK.now(), settings.timezone, settings.payouts.cutoff_hour)
    answer = stack.invoke(
        outputs["PayoutCyclesFunction"], {"time": tick.isoformat(), "tenant": TENANT}
    )
    ran = [c for c in answer["cycles"] if c["tenant"] == TENANT]
    if not ran:
        echo("payout cycle: none ran")
        return False
    cycle, lines = show(build_ports(table), TENANT, ran[0]["cycle"])
    rows = [line.model_dump(mode="json") for line in lines]
    (outdir / "payout-cycle.json").write_text(
        json.dumps({"cycle": cycle.model_dump(mode="json"), "lines": rows}, indent=2)
    )
    payable = ", ".join(
        Money.of(amount, currency).format(grouping=True)
        for currency, amount in sorted(cycle.payable.items())
    )
    echo(
        f"payout cycle {cycle.cycle_id} ({tick:%a %d %b %H:%M %Z} tick): {cycle.status}, "
        f"{len(lines)} vendor lines, payable {payable or 'nothing'}"
    )
    for line in sorted(lines, key=lambda x: (x.status, -x.amount)):
        why = f" — {line.reason}" if line.reason else ""
        amount = Money.of(line.amount, line.currency).format(grouping=True)
        echo(f"  {line.vendor_id:14} {line.status:9} {amount:>13}{why}")
    _keep_emails(stack.mail_dir, outdir / "payout-emails", cycle.cycle_id)
    return cycle.status == "sent" and bool(lines)


def _keep_emails(mail_dir: Path, into: Path, cycle_id: str) -> None:
    """The cycle's report, instruction and statements, for scripts/screenshot_payouts.py."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    for path in Path(mail_dir).glob("*.eml"):
        if path.name.split("-")[0] in ("payout_report", "payout_instruction", "vendor_statement"):
            shutil.copy(path, into / path.name)
