"""Render a realistic weekly business summary and logistics log and screenshot them with
headless Chromium.

    .venv/bin/python scripts/screenshot_reports.py [--out docs] [--chromium PATH] [--seed 7]

Two weeks of a shop selling in EUR and USD from Amsterdam are generated (not drawn): orders
placed, paid, dispatched by three carriers, delivered, some refunded later, some failed, a few
disputed, parcels with exceptions and losses. Each day is tallied as the morning tick does,
and the week holding the end of summer time is summarised against the week before, through
the same use cases the reports function runs (over in-memory ports); the logistics log is
one day of that week. Needs Debian's
``chromium`` package.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from screenshot_emails import CHROMIUM, content_height, screenshot  # noqa: E402

from functions.reports.domain.periods import Period, PeriodKind  # noqa: E402
from functions.reports.domain.rendering import render_summary  # noqa: E402
from functions.reports.use_cases.records import logistics_log  # noqa: E402
from functions.reports.use_cases.summary import business_summary  # noqa: E402
from shared.events import ShipmentStatus  # noqa: E402
from shared.tenants import Branding, TenantSettings  # noqa: E402
from tests.reports_fakes import Order, reports_ports  # noqa: E402

TENANT = TenantSettings(
    id="northwind-eu",
    name="Northwind Outfitters EU",
    currency="EUR",
    other_currencies=("USD",),
    timezone="Europe/Amsterdam",
    customer_sender="Northwind <orders@northwind.example>",
    finance_emails=("finance@northwind.example",),
    branding=Branding(display_name="Northwind Outfitters", primary_color="#0f5132"),
    dispatch_sla_days=2,
)
PRODUCTS = [
    ("trail-jacket", "Trail jacket", "alpine-gear", 18900),
    ("merino-tee", "Merino tee", "woolworks", 4900),
    ("rain-shell", "Rain shell", "alpine-gear", 12900),
    ("hiking-socks", "Hiking socks (3)", "woolworks", 1900),
    ("day-pack", "Day pack 24 l", "packhaus", 8900),
    ("headlamp", "Headlamp", "lumen-co", 3900),
    ("bottle", "Steel bottle", "packhaus", 2400),
]
CARRIERS = ["dhl", "postnl", "ups"]
WEEK = Period.containing(PeriodKind.WEEKLY, date(2026, 10, 21))


def generate(seed: int) -> list[Order]:
    rnd = random.Random(seed)  # noqa: S311 - sample data, not secrets
    orders = []
    start = datetime(2026, 10, 11, 22, tzinfo=UTC)
    for n in range(420):
        at = start + timedelta(minutes=rnd.randrange(0, 14 * 24 * 60))
        currency = "USD" if rnd.random() < 0.2 else "EUR"
        picked = rnd.sample(PRODUCTS, rnd.choice([1, 1, 2, 3]))
        lines = [(sku, vendor, rnd.choice([1, 1, 2]), price) for sku, _, vendor, price in picked]
        order = Order(
            TENANT.id,
            f"NW-{10000 + n}",
            at,
            lines,
            currency=currency,
            discount=rnd.choice([0, 0, 0, 500, 1000]),
            shipping=rnd.choice([0, 495, 695]),
            tax=0,
            screening=rnd.choices(["allow", "review", "block"], [90, 8, 2])[0],
        )
        fate = rnd.random()
        if order.screening == "block":
            order.cancelled(at + timedelta(minutes=1), "blocked_by_screening")
        elif fate < 0.05:
            order.failed(at + timedelta(minutes=2), f"pi_{n}_x")
        elif fate < 0.09:
            order.expired(at + timedelta(hours=1))
        else:
            paid = at + timedelta(minutes=rnd.randrange(1, 90))
            order.paid(paid)
            if rnd.random() < 0.85:
                parcel = f"TRK{n:05d}"
                carrier = rnd.choice(CARRIERS)
                sent = paid + timedelta(hours=rnd.randrange(4, 80))
                order.shipped(sent, parcel, carrier)
                fate = rnd.random()
                if fate < 0.04:
                    order.scanned(
                        sent + timedelta(days=2), parcel, ShipmentStatus.EXCEPTION, carrier
                    )
                elif fate < 0.06:
                    order.scanned(sent + timedelta(days=3), parcel, ShipmentStatus.LOST, carrier)
                else:
                    delivered = sent + timedelta(hours=rnd.randrange(20, 100))
                    order.scanned(delivered, parcel, ShipmentStatus.DELIVERED, carrier)
            if rnd.random() < 0.07:
                order.refunded(
                    paid + timedelta(days=rnd.randrange(1, 9)), f"re_{n}", order.total // 2
                )
            if rnd.random() < 0.01:
                order.disputed(paid + timedelta(days=rnd.randrange(2, 9)), order.total)
        orders.append(order)
    return orders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    chromium: Path = args.chromium
    if not chromium.is_file():
        found = shutil.which("chromium")
        if not found:
            print(f"no chromium at {chromium}: apt-get install -y chromium", file=sys.stderr)
            return 2
        chromium = Path(found)
    orders = generate(args.seed)
    ports = reports_ports(TENANT, orders, datetime(2026, 11, 2, 8, tzinfo=UTC))
    # A claim is filed for each lost parcel (as the lifecycle's delivery wait does).
    ports.orders.claimed = {  # type: ignore[attr-defined]
        o.order_id: [{"tracking_code": p.tracking_code, "status": "filed"}]
        for o in orders
        for p in o.state.parcels()
        if any(n.status == ShipmentStatus.LOST for n in p.notices.values())
    }
    summary = business_summary(ports, TENANT.id, PeriodKind.WEEKLY, WEEK.first)
    _, summary_html, _ = render_summary(summary, TENANT)
    # The log of one day of the week: a week's is the same table, 200 rows long.
    log = logistics_log(ports, TENANT.id, Period.containing(PeriodKind.DAILY, date(2026, 10, 22)))
    pages = {"reports-summary.png": summary_html, "reports-logistics.png": log.html}
    with tempfile.TemporaryDirectory(prefix="reports-") as tmp:
        for name, html in pages.items():
            page = Path(tmp) / name.replace(".png", ".html")
            page.write_text(html, encoding="utf-8")
            profile = Path(tmp) / f"profile-{page.stem}"
            height = content_height(chromium, page, profile)
            screenshot(chromium, page, args.out / name, height, profile)
            print(f"{args.out / name}: {height} px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
