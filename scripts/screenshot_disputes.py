"""Render the chargeback desk's evidence packet (first page) and its monthly ratio report, and
save them as images for the docs.

    .venv/bin/python scripts/screenshot_disputes.py [--out docs] [--chromium PATH]

The packet is drafted by the desk's own code (``functions.disputes.domain.evidence.assemble``,
rendered by ``adapters.packet_pdf``) from a delivered order built of the events the processor
applies, and its first page rasterized with PDFium (pypdfium2). The ratio report is what
``ecomops disputes ratios`` prints for a planted month (Visa and Mastercard, half of November
counted), screenshotted with headless Chromium (Debian's ``chromium``).
"""

from __future__ import annotations

import argparse
import html
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from functions.disputes.adapters.packet_pdf import render_packet  # noqa: E402
from functions.disputes.domain.evidence import (  # noqa: E402
    Policies,
    SentEmail,
    assemble,
)
from functions.disputes.domain.ratios import BrandMonth, Programmes, ratio_report  # noqa: E402
from functions.disputes.domain.register import ratio_json, ratio_report_text  # noqa: E402
from shared.events import (  # noqa: E402
    Address,
    Card,
    Customer,
    LineItem,
    OrderFulfilled,
    OrderPlaced,
    PaymentSucceeded,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.money import Money  # noqa: E402
from shared.order_aggregate import OrderState, apply  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from screenshot_emails import CHROMIUM, find_chromium, screenshot  # noqa: E402

PLACED = datetime(2026, 10, 28, 14, 12, tzinfo=UTC)
ORDER_ID = "NW-10482"
TRACKING = "1Z999AA10123456784"
RATIO_HEIGHT = 330


def usd(amount: int) -> Money:
    return Money.of(amount, "USD")


def delivered_order() -> OrderState:
    def ids(name: str) -> dict[str, str]:
        return {
            "tenant": "northwind",
            "source_event_id": f"{ORDER_ID}-{name}",
            "order_id": ORDER_ID,
        }

    home = Address(
        name="Maria Garcia",
        line1="245 Park Avenue",
        line2="Apt 12B",
        city="New York",
        state="NY",
        postal_code="10167",
        country="US",
    )
    state = OrderState(tenant="northwind", order_id=ORDER_ID)
    events = [
        OrderPlaced(
            **ids("placed"),
            source=Source.SHOP,
            occurred_at=PLACED,
            currency="USD",
            total=usd(18900),
            lines=(
                LineItem(
                    line_id="l1",
                    sku="TB-42",
                    name="Trail boots, size 42",
                    quantity=1,
                    unit_price=usd(14900),
                    vendor_id="summit",
                ),
                LineItem(
                    line_id="l2",
                    sku="WS-3",
                    name="Merino hiking socks (3 pairs)",
                    quantity=2,
                    unit_price=usd(2000),
                    vendor_id="summit",
                ),
            ),
            customer=Customer(
                email="maria.garcia@example.com",
                name="Maria Garcia",
                ip="198.51.100.23",
                user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
            ),
            billing_address=home,
            shipping_address=home,
        ),
        PaymentSucceeded(
            **ids("paid"),
            source=Source.STRIPE,
            occurred_at=PLACED + timedelta(seconds=40),
            payment_id="pi_3QmZ8r2eZvKYlo2C",
            charge_id="ch_3QmZ8r2eZvKYlo2C",
            amount=usd(18900),
            amount_captured=usd(18900),
            card=Card(fingerprint="Xt5EWLLDS7FJjR1c", brand="visa", last4="4242"),
        ),
        OrderFulfilled(
            **ids("fulfilled"),
            source=Source.SHOP,
            occurred_at=PLACED + timedelta(days=1, hours=3),
            tracking_code=TRACKING,
            carrier="UPS",
        ),
    ]
    day = timedelta(days=1)
    scans = [
        (ShipmentStatus.IN_TRANSIT, day + timedelta(hours=9), "Departed facility, Secaucus NJ"),
        (ShipmentStatus.OUT_FOR_DELIVERY, 3 * day + timedelta(hours=1), "New York NY"),
        (ShipmentStatus.DELIVERED, 3 * day + timedelta(hours=6, minutes=41), "Front desk, NY"),
    ]
    for status, after, where in scans:
        events.append(
            ShipmentUpdated(
                **ids(f"scan-{status}"),
                source=Source.EASYPOST,
                occurred_at=PLACED + after,
                tracking_code=TRACKING,
                carrier="UPS",
                status=status,
                status_detail=where,
                location=where,
            )
        )
    for event in events:
        state = apply(state, event)
    return state


def packet_png(out: Path) -> None:
    import io

    import pypdfium2  # type: ignore[import-untyped]

    state = delivered_order()
    emails = [
        SentEmail(kind=kind, at=PLACED + after, message_id=message)
        for kind, after, message in (
            ("order_confirmation", timedelta(minutes=1), "0100019a2f"),
            ("order_shipped", timedelta(days=1, hours=3, minutes=2), "0100019a41"),
            ("order_delivered", timedelta(days=3, hours=6, minutes=50), "0100019a77"),
        )
    ]
    draft = assemble(
        reason="product_not_received",
        card_brand="visa",
        network_reason_code="13.1",
        charge_id="ch_3QmZ8r2eZvKYlo2C",
        state=state,
        emails=emails,
        policies=Policies(
            refund_policy_disclosure="Returns and refunds within 30 days of delivery, shown at "
            "checkout and in the order confirmation.",
        ),
    )
    pdf = render_packet(
        "Dispute dp_1QmZ8r2eZvKYlo2C (northwind): evidence packet",
        draft.files["uncategorized_file"],
        datetime(2026, 11, 20, 9, tzinfo=UTC),
    )
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    image = document[0].render(scale=1.6).to_pil()
    # The page's upper part holds the packet; the rest of the A4 page is white.
    image.crop((0, 0, image.width, int(image.height * 0.62))).save(out)


def ratio_png(out: Path, chromium: Path) -> None:
    programmes = Programmes.model_validate(
        __import__("yaml").safe_load((ROOT / "functions/disputes/programmes.yaml").read_text())
    )
    november = date(2026, 11, 1)
    figures = [
        BrandMonth("visa", november, disputes=612, fraud_reports=288, settled=40_250,
                   previous_month_settled=78_900, days_counted=15),
        BrandMonth("mastercard", november, disputes=41, fraud_reports=0, settled=4_870,
                   previous_month_settled=5_120, days_counted=15),
    ]  # fmt: skip
    lines = [ratio_json(line) for line in ratio_report(programmes, figures)]
    typed = "$ ecomops disputes ratios --tenant northwind --month 2026-11"
    text = "\n".join([typed, "", *ratio_report_text("northwind", "2026-11", lines)])
    page = (
        "<!DOCTYPE html><html><body style='margin:0;background:#1e1e1e'>"
        "<pre style='margin:0;padding:18px 22px;color:#e5e5e5;font:13px/1.5 monospace;"
        f"white-space:pre-wrap'>{html.escape(text)}</pre></body></html>"
    )
    with tempfile.TemporaryDirectory(prefix="ratios-") as tmp:
        source = Path(tmp) / "ratios.html"
        source.write_text(page, encoding="utf-8")
        screenshot(chromium, source, out, RATIO_HEIGHT, Path(tmp) / "profile")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        return 2
    out: Path = args.out
    packet_png(out / "disputes-evidence-packet.png")
    ratio_png(out / "disputes-ratio-report.png", chromium)
    print(out / "disputes-evidence-packet.png", out / "disputes-ratio-report.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
