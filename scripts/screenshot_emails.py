"""Render every e-mail kind with realistic sample data and screenshot it with headless Chromium.

    .venv/bin/python scripts/screenshot_emails.py [--out docs/emails] [--chromium PATH]

Writes ``<kind>.png`` for each kind (a USD tenant) plus ``order_confirmation_kwd.png`` and
``refund_issued_jpy.png`` (currencies with three and zero minor digits), and ``README.md``
listing them. Needs Debian's ``chromium`` package (``apt-get install -y chromium``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.money import Money
from shared.notify.render import TEAM_KINDS, EmailKind, render
from shared.tenants import Branding, TenantSettings

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 700
HEIGHT = 1400  # the window; a longer e-mail gets a taller one (see content_height)

PLACED = datetime(2026, 3, 2, 14, 37, tzinfo=UTC)

USD_TENANT = TenantSettings(
    id="northwind",
    name="Northwind Outfitters",
    currency="USD",
    timezone="America/New_York",
    customer_sender="orders@northwind.example",
    alert_emails=("ops@northwind.example",),
    branding=Branding(
        display_name="Northwind Outfitters",
        primary_color="#1f4e79",
        support_email="help@northwind.example",
    ),
    return_window_days=30,
    review_timeout_hours=24,
)

KWD_TENANT = TenantSettings(
    id="souq-alwaha",
    name="Souq Al Waha",
    currency="KWD",
    timezone="Asia/Kuwait",
    customer_sender="Souq Al Waha <orders@souq-alwaha.example>",
    branding=Branding(
        display_name="Souq Al Waha",
        primary_color="#0f766e",
        support_email="care@souq-alwaha.example",
    ),
)

JPY_TENANT = TenantSettings(
    id="sakura-tea",
    name="Sakura Tea House",
    currency="JPY",
    timezone="Asia/Tokyo",
    customer_sender="shop@sakura-tea.example",
    branding=Branding(
        display_name="Sakura Tea House",
        primary_color="#f9c9d4",  # light: the header text turns dark
        support_email="otoiawase@sakura-tea.example",
    ),
)


def usd(amount: int) -> Money:
    return Money.of(amount, "USD")


ADDRESS = {
    "name": "Maria Garcia",
    "line1": "1200 Pine Street",
    "line2": "Apt 4B",
    "city": "Seattle",
    "state": "WA",
    "postal_code": "98101",
    "country": "US",
}

ORDER: dict[str, Any] = {
    "order_id": "NW-10482",
    "customer_name": "Maria Garcia",
    "customer_email": "maria.garcia@example.com",
    "placed_at": PLACED,
    "lines": [
        {
            "name": "Alpine Trail Jacket — Navy, M",
            "quantity": 1,
            "unit_price": usd(18900),
            "vendor": "Summit Gear Co.",
            "sku": "ATJ-NV-M",
        },
        {
            "name": "Merino Hiking Socks (3-pack)",
            "quantity": 2,
            "unit_price": usd(2450),
            "vendor": "Woolworks",
        },
        {
            "name": "Insulated Steel Bottle 750 ml",
            "quantity": 1,
            "unit_price": usd(3200),
            "vendor": "Summit Gear Co.",
        },
    ],
    "shipping": usd(995),
    "tax": usd(2211),
    "discount": usd(1500),
    "total": usd(28706),
    "shipping_address": ADDRESS,
    "order_url": "https://northwind.example/account/orders/NW-10482",
}

TRACKING = {
    "carrier": "UPS",
    "tracking_code": "1Z999AA10123456784",
    "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
}


def samples() -> dict[EmailKind, dict[str, Any]]:
    expires = PLACED + timedelta(hours=24)
    return {
        EmailKind.ORDER_CONFIRMATION: ORDER,
        EmailKind.PAYMENT_VERIFICATION: {**ORDER, "days": 3},
        EmailKind.ORDER_SHIPPED: {**ORDER, **TRACKING, "estimated_delivery": date(2026, 3, 6)},
        EmailKind.ORDER_DELIVERED: {
            **ORDER,
            "delivered_at": datetime(2026, 3, 5, 17, 12, tzinfo=UTC),
        },
        EmailKind.DELIVERY_PROBLEM: {
            **ORDER,
            **TRACKING,
            "problem": "returned_to_sender",
            "next_update_days": 2,
        },
        EmailKind.ORDER_CANCELLED: {
            **ORDER,
            "reason": "one of the items is no longer available",
            "refund": usd(28706),
        },
        EmailKind.REFUND_ISSUED: {
            **ORDER,
            "cause": "return",
            "refund_lines": [
                {"name": "Alpine Trail Jacket — Navy, M", "quantity": 1, "amount": usd(18900)},
                {"name": "Merino Hiking Socks (3-pack)", "quantity": 1, "amount": usd(2450)},
            ],
        },
        EmailKind.RETURN_OPENED: {
            **ORDER,
            "return_id": "RMA-20931",
            "return_by": date(2026, 4, 4),
            "label_url": "https://northwind.example/returns/RMA-20931/label.pdf",
            "return_address": {
                "name": "Northwind Returns",
                "line1": "77 Harbor Way, Dock 3",
                "city": "Tacoma",
                "state": "WA",
                "postal_code": "98421",
                "country": "US",
            },
            "return_lines": ORDER["lines"][:1],
        },
        EmailKind.ORDER_HISTORY: {
            "customer_name": "Maria Garcia",
            "orders": [
                {
                    "order_id": "NW-10482",
                    "placed_at": PLACED,
                    "status": "shipped",
                    "total": usd(28706),
                    "url": "https://northwind.example/account/orders/NW-10482",
                },
                {
                    "order_id": "NW-09811",
                    "placed_at": datetime(2026, 1, 14, 9, 5, tzinfo=UTC),
                    "status": "delivered",
                    "total": usd(6480),
                },
                {
                    "order_id": "NW-08877",
                    "placed_at": datetime(2025, 11, 28, 20, 41, tzinfo=UTC),
                    "status": "refunded",
                    "total": usd(12900),
                },
                {
                    "order_id": "NW-07302",
                    "placed_at": datetime(2025, 8, 3, 12, 0, tzinfo=UTC),
                    "status": "cancelled",
                    "total": usd(3950),
                },
            ],
        },
        EmailKind.REVIEW_NEEDED: {
            **ORDER,
            "reasons": [
                "Billing country (NG) differs from shipping country (US)",
                "Card issued in a different country than the customer's IP address",
                "3 orders from this card in the last hour",
            ],
            "risk_score": 82,
            "customer_ip": "203.0.113.45",
            "payment_method": "Visa •••• 4242",
            "approve_url": "https://api.ecomops.example/links/northwind/NW-10482/approve?t=v1.abc",
            "reject_url": "https://api.ecomops.example/links/northwind/NW-10482/reject?t=v1.abc",
            "expires_at": expires,
        },
        EmailKind.NOT_DISPATCHED: {
            **ORDER,
            "days": 5,
            "vendors": ["Summit Gear Co.", "Woolworks"],
            "console_url": "https://console.ecomops.example/northwind/orders/NW-10482",
        },
        EmailKind.REFUND_STUCK: {
            **ORDER,
            "refund": usd(18900),
            "refund_id": "re_3PqX2L2eZvKYlo2C1a9fGx7Q",
            "gateway": "Stripe",
            "requested_at": datetime(2026, 3, 10, 8, 30, tzinfo=UTC),
            "waited_hours": 48,
            "console_url": "https://console.ecomops.example/northwind/orders/NW-10482",
        },
        EmailKind.DELIVERY_EXCEPTION_OPS: {
            **ORDER,
            **TRACKING,
            "status": "return_to_sender",
            "detail": "Address incomplete: apartment number not found",
            "occurred_at": datetime(2026, 3, 5, 15, 2, tzinfo=UTC),
            "console_url": "https://console.ecomops.example/northwind/orders/NW-10482",
        },
        EmailKind.DISPUTE_OPENED: {
            "dispute_id": "dp_1QmZ8r2eZvKYlo2C",
            "order_id": "NW-10482",
            "amount": {"amount": 18900, "currency": "USD"},
            "reason": "product_not_received",
            "network_reason_code": "13.1",
            "card_brand": "visa",
            "due_by_local": "Mon 16 Mar 2026 23:59 EDT",
            "suggestion": "fight: the carrier scanned the parcel as delivered to the address",
            "console_url": "https://console.ecomops.example/northwind/disputes/dp_1QmZ8r2eZvKYlo2C",
        },
        EmailKind.TEAM_NOTICE: {
            "heading": "Refund of USD 189.00 for order NW-10482 failed: the customer has not "
            "been paid back",
            "label": "Refund failed",
            "severity": "critical",
            "order_id": "NW-10482",
            "details": [
                ("Order", "NW-10482"),
                ("Refund", "r-2f9c"),
                ("Amount", "USD 189.00"),
                ("Reason", "GatewayRefused: charge ch_3PqX has already been refunded"),
            ],
            "to_act": [
                {
                    "label": "Look at the order",
                    "url": "https://api.ecomops.example/ops/tenants/northwind/orders/NW-10482",
                    "command": "ecomops orders show --tenant northwind NW-10482",
                },
                {
                    "label": "Request the refund again once the cause is fixed",
                    "request": "POST https://api.ecomops.example/ops/tenants/northwind/orders/"
                    "NW-10482/refunds",
                },
            ],
        },
        EmailKind.TEAM_DIGEST: {
            "period": "hour",
            "since": PLACED,
            "until": PLACED + timedelta(hours=1),
            "lines": [
                _digest_line(
                    "not_dispatched",
                    f"Order {order} not dispatched after 3 days",
                    order,
                    [
                        (
                            "What to do",
                            "check with the warehouse or vendor; tell the customer if late",
                        )
                    ],
                    minutes,
                )
                for order, minutes in (("NW-10417", 4), ("NW-10431", 26), ("NW-10452", 51))
            ]
            + [
                _digest_line(
                    "delivery_problem",
                    "Delivery problem: order NW-10398, parcel 1Z999AA10123456784: exception",
                    "NW-10398",
                    [("Carrier", "UPS"), ("What to do", "contact the carrier about the address")],
                    38,
                ),
                _digest_line(
                    "return_to_inspect",
                    "Return received, to inspect: order NW-10077",
                    "NW-10077",
                    [("Return", "RMA-311")],
                    44,
                ),
            ],
        },
    }


def _digest_line(
    kind: str, headline: str, order: str, details: list[tuple[str, str]], minutes: int
) -> dict[str, Any]:
    return {
        "kind": kind,
        "label": kind.replace("_", " ").capitalize(),
        "headline": headline,
        "order_id": order,
        "details": details,
        "to_act": [
            {
                "label": "Look at the order",
                "url": f"https://api.ecomops.example/ops/tenants/northwind/orders/{order}",
                "command": f"ecomops orders show --tenant northwind {order}",
            }
        ],
        "held_at": PLACED + timedelta(minutes=minutes),
    }


def currency_samples() -> list[tuple[str, EmailKind, TenantSettings, dict[str, Any]]]:
    kwd = Money.of
    jpy = Money.of
    return [
        (
            "order_confirmation_kwd",
            EmailKind.ORDER_CONFIRMATION,
            KWD_TENANT,
            {
                "order_id": "SW-2291",
                "customer_name": "Fatima Al-Sabah",
                "placed_at": PLACED,
                "lines": [
                    {"name": "Oud incense set", "quantity": 2, "unit_price": kwd(12750, "KWD")},
                    {
                        "name": "Brass dallah coffee pot",
                        "quantity": 1,
                        "unit_price": kwd(34500, "KWD"),
                    },
                ],
                "shipping": kwd(1250, "KWD"),
                "total": kwd(61250, "KWD"),
                "shipping_address": {
                    "name": "Fatima Al-Sabah",
                    "line1": "Block 3, Street 14, House 22",
                    "city": "Salmiya",
                    "country": "KW",
                },
            },
        ),
        (
            "refund_issued_jpy",
            EmailKind.REFUND_ISSUED,
            JPY_TENANT,
            {
                "order_id": "ST-5530",
                "customer_name": "Yuki Tanaka",
                "refund_lines": [
                    {"name": "Gyokuro green tea 100 g", "quantity": 1, "amount": jpy(3240, "JPY")},
                    {"name": "Tokoname teapot", "quantity": 1, "amount": jpy(12800, "JPY")},
                ],
                "refund": jpy(16040, "JPY"),
                "reason": "damaged in transit",
            },
        ),
    ]


def _flags(profile: Path, height: int) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{height}",
    ]


def content_height(chromium: Path, html: Path, profile: Path) -> int:
    """The page's height at our width, so long e-mails are not cut off at the window's edge.

    A copy of the page stamps its own scrollHeight into the DOM that --dump-dom prints.
    """
    probe = html.with_name(f"{html.stem}.probe.html")
    stamp = (
        "<script>document.body.setAttribute('data-height',"
        " String(document.documentElement.scrollHeight));</script>"
    )
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", stamp + "</body>"))
    command = [str(chromium), *_flags(profile, HEIGHT), "--dump-dom", probe.as_uri()]
    done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        command, check=True, capture_output=True, text=True, timeout=120
    )
    found = re.search(r'data-height="(\d+)"', done.stdout)
    return int(found.group(1)) if found else HEIGHT


def screenshot(chromium: Path, html: Path, png: Path, height: int, profile: Path) -> None:
    command = [str(chromium), *_flags(profile, height), f"--screenshot={png}", html.as_uri()]
    subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot for {html.name}")


WHAT = {
    "order_confirmation": "order received: lines, totals, shipping address",
    "payment_verification": 'the customer side of a fraud hold: "a minor issue", contact us',
    "order_shipped": "carrier, tracking number and link",
    "order_delivered": "delivered, with the return window",
    "delivery_problem": "lost / returned / failed parcel: we're on it",
    "order_cancelled": "cancelled, with the refund if any",
    "refund_issued": "refund amount, per line or in total",
    "return_opened": "return instructions, label and address",
    "order_history": "a customer's orders and their statuses",
    "review_needed": "held order: reasons and signed Approve / Reject links",
    "not_dispatched": "no shipment N days after confirmation",
    "refund_stuck": "the gateway has not confirmed a refund",
    "delivery_exception_ops": "carrier exception for the team to act on",
    "dispute_opened": "a chargeback's case: amount, reason, the evidence deadline in the tenant's "
    "time zone, fight or accept",
    "team_notice": "any other notice (refund failed, reconciliation breaks, bank files, call "
    "the customer, authorisation ending): headline, details, what to do",
    "team_digest": "the hour's routine notices in one e-mail (late orders, parcel problems, "
    "returns to inspect), by kind, each with how to act",
    "order_confirmation_kwd": "KWD: three minor digits, Kuwait time",
    "refund_issued_jpy": "JPY: no minor digits; a light brand colour gets dark header text",
}


def write_readme(out: Path, shots: list[tuple[str, str]]) -> None:
    rows = "\n".join(
        f'| `{name}` | {who} | {WHAT.get(name, "")} | <a href="{name}.png">'
        f'<img src="{name}.png" width="280" alt="{name}"></a> |'
        for name, who in shots
    )
    out.joinpath("README.md").write_text(
        "# E-mails\n\n"
        "Every e-mail the back office sends, rendered from `shared/notify/templates/` with sample\n"
        "data and screenshotted by `scripts/screenshot_emails.py` (headless Chromium, 700 px\n"
        "wide; click a thumbnail for the full size). Regenerate after changing a template:\n\n"
        "```sh\n.venv/bin/python scripts/screenshot_emails.py\n```\n\n"
        "The samples use a USD tenant (Northwind Outfitters, New York time); the last two show\n"
        "a three-decimal currency (KWD) and a zero-decimal one (JPY).\n\n"
        "| kind | to | what | screenshot |\n|---|---|---|---|\n" + rows + "\n"
    )


def find_chromium(given: Path) -> Path | None:
    """``given``, else the ``chromium`` on the PATH; None (and why) when there is none."""
    if given.is_file():
        return given
    found = shutil.which("chromium")
    if not found:
        print(f"no chromium at {given}: apt-get install -y chromium", file=sys.stderr)
        return None
    return Path(found)


def shot_arguments(description: str, out: Path, argv: list[str] | None) -> tuple[Path, Path] | None:
    """``--out`` and ``--chromium`` as the screenshot scripts take them: (chromium, out), or
    None (and why) when there is no chromium."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    return None if chromium is None else (chromium, args.out)


def shoot(chromium: Path, page_html: str, png: Path) -> int:
    """One page, written aside and screenshot at its own height; the height."""
    with tempfile.TemporaryDirectory(prefix="shot-") as tmp:
        page = Path(tmp) / f"{png.stem}.html"
        page.write_text(page_html, encoding="utf-8")
        profile = Path(tmp) / "profile"
        height = content_height(chromium, page, profile)
        screenshot(chromium, page, png, height, profile)
    return height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "emails")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    jobs: list[tuple[str, EmailKind, TenantSettings, dict[str, Any]]] = [
        (str(kind), kind, USD_TENANT, context) for kind, context in samples().items()
    ]
    jobs += currency_samples()
    shots: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="emails-") as tmp:
        work = Path(tmp)
        for name, kind, tenant, context in jobs:
            team = kind in TEAM_KINDS
            to = (tenant.alert_emails or ("ops@example.com",)) if team else ("maria@example.com",)
            email = render(kind, context, tenant, to)
            html = work / f"{name}.html"
            html.write_text(email.html, encoding="utf-8")
            png = out / f"{name}.png"
            png.unlink(missing_ok=True)
            height = max(HEIGHT, content_height(chromium, html, work / "profile"))
            screenshot(chromium, html, png, height, work / "profile")
            shots.append((name, "client team" if team else "customer"))
            print(f"{png.relative_to(ROOT) if png.is_relative_to(ROOT) else png}  {email.subject}")
    write_readme(out, shots)
    return 0


if __name__ == "__main__":
    sys.exit(main())
