"""Render a customer query's answer ("was I charged twice?") and screenshot it with headless
Chromium.

    .venv/bin/python scripts/screenshot_queries.py [--out docs] [--chromium PATH]

The order is built from the gateway's events (not drawn): placed, paid, and paid again two
minutes later because the customer pressed "pay" twice. The answer comes from the same domain
function the operator API and CLI call; the page is the one `make demo` writes for each answer
(local/demo_desks.py). Needs Debian's ``chromium`` package.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from screenshot_emails import shoot, shot_arguments  # noqa: E402

from functions.reports.queries.domain.customer import charged_twice  # noqa: E402
from local.demo_desks import answer_page  # noqa: E402
from shared.events import (  # noqa: E402
    Card,
    Customer,
    LineItem,
    OrderPlaced,
    PaymentSucceeded,
    Source,
)
from shared.money import Money  # noqa: E402
from shared.order_aggregate import OrderState, apply  # noqa: E402

PLACED_AT = datetime(2026, 11, 20, 9, 41, tzinfo=UTC)
TOTAL = Money.of(13800, "EUR")
CUSTOMER = Customer(email="marta.jansen@example.nl", name="Marta Jansen", ip="84.241.0.17")
LINES = (
    ("Rain shell", Money.of(12900, "EUR"), "alpine-gear"),
    ("Hiking socks (3)", Money.of(900, "EUR"), "woolworks"),
)
CARD = Card(fingerprint="fp_demo", brand="mastercard", bin="535522", last4="4418")


def _event(event_id: str, minutes: float, source: Source = Source.STRIPE) -> dict[str, Any]:
    return {
        "tenant": "northwind-eu",
        "source": source,
        "source_event_id": event_id,
        "occurred_at": PLACED_AT + timedelta(minutes=minutes),
    }


def order() -> OrderState:
    pay = {"order_id": "NW-10482", "amount": TOTAL, "customer": CUSTOMER, "card": CARD}
    events = [
        OrderPlaced(
            **_event("placed", 0, Source.SHOP),
            order_id="NW-10482",
            currency="EUR",
            total=TOTAL,
            lines=tuple(
                LineItem(line_id=f"l{n}", name=name, quantity=1, unit_price=price, vendor_id=vendor)
                for n, (name, price, vendor) in enumerate(LINES, start=1)
            ),
            customer=CUSTOMER,
        ),
        PaymentSucceeded(**_event("s1", 1.5), **pay, payment_id="pi_3QxA1", charge_id="ch_3QxA1"),
        PaymentSucceeded(**_event("s2", 3.25), **pay, payment_id="pi_3QxB7", charge_id="ch_3QxB7"),
    ]
    state = OrderState(tenant="northwind-eu", order_id="NW-10482")
    for event in events:
        state = apply(state, event)
    return state


def _trim(png: Path, margin: int = 24) -> int:
    """An answer is shorter than the window: cut the empty page background below it."""
    from PIL import Image, ImageChops

    with Image.open(png) as shot:
        image = shot.convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((0, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    bottom = min(image.height, (box[3] if box else image.height) + margin)
    image.crop((0, 0, image.width, bottom)).save(png)
    return bottom


def main(argv: list[str] | None = None) -> int:
    found = shot_arguments(__doc__.splitlines()[0], ROOT / "docs", argv)
    if found is None:
        return 2
    chromium, out = found
    answer = charged_twice(order(), [], PLACED_AT + timedelta(hours=26))
    page = answer_page(
        "“Was I charged twice?”",
        answer.text(),
        subtitle=f"order {answer.order_id}: {answer.finding.value}",
    )
    png = out / "queries-answer.png"
    shoot(chromium, page, png)
    print(f"{png}: {_trim(png)} px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
