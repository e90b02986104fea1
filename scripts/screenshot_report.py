"""Render a realistic daily reconciliation report and screenshot it with headless Chromium.

    .venv/bin/python scripts/screenshot_report.py [--out docs/reconciliation-report.png]
        [--html report.html] [--chromium PATH] [--seed 11]

The day is generated (``local.sandboxes.recon_day.ReconDay``), not drawn: two thousand orders
of a USD shop with their charges, refunds and disputes, six payouts sweeping them (fees,
refunds, disputes, a reserve released) and a bank account that received most of them among its
other traffic. Breaks are planted (a duplicate payment, cancelled orders still holding money, a
shipped order never paid, a short and a missing settlement, an unknown credit, …) and
yesterday's run of the same shop gives the carry-forward, so the report shows ages, new and
closed breaks. The engine reconciles both days; the daily run's refunds are simulated with one
of each outcome. Needs Debian's ``chromium`` package.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from functions.reconcile.domain.actions import ActionStatus  # noqa: E402
from functions.reconcile.domain.engine import carry_forward, reconcile  # noqa: E402
from functions.reconcile.domain.model import BreakClass, DayInputs, PayoutStatus  # noqa: E402
from functions.reconcile.domain.report.rendering import render_report  # noqa: E402
from local.sandboxes.recon_day import (  # noqa: E402
    US_CARDS,
    Movement,
    ReconDay,
    StatementFile,
    refund_outcomes,
)
from shared.tenants import Branding, TenantSettings  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 700
DAY = date(2026, 3, 16)
CURRENCY = "USD"
ACCOUNT = "021000021-4471882093"
# Where the bank lines say they come from: a camt.053 entry takes 31 lines of the file.
STATEMENT = StatementFile(
    "bank-statements/northwind/2026-03-16.camt053.xml",
    "ab" * 32,
    "camt053",
    "STMT-0316",
    first_line=40,
    lines_per_entry=31,
)

TENANT = TenantSettings(
    id="northwind",
    name="Northwind Outfitters",
    currency=CURRENCY,
    timezone="America/New_York",
    customer_sender="orders@northwind.example",
    finance_emails=("finance@northwind.example",),
    branding=Branding(display_name="Northwind Outfitters", primary_color="#1f4e79"),
)


def scenario(day: date, seed: int, *, yesterday: bool) -> DayInputs:
    """The shop as seen on ``day``. Yesterday's view differs the way a real day does: two
    problems were since fixed (a late charge arrived, a dispute got its case) and three are new
    today (a settlement arrived short, an unknown credit was booked, a cancelled order)."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    start = datetime.combine(DAY - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    shop = ReconDay(
        TENANT.id,
        day,
        CURRENCY,
        start,
        fee=US_CARDS,
        account=ACCOUNT,
        statement=STATEMENT,
        key_prefix="3Pq",
    )

    def at() -> datetime:
        return start + timedelta(seconds=rng.randrange(86_400))

    def amount() -> int:
        return rng.choice((1_995, 2_450, 3_200, 4_900, 6_480, 8_900, 12_900, 18_900, 28_706))

    for n in range(2_000):
        oid = f"NW-{20_000 + n}"
        value = amount() + rng.randrange(0, 900, 5)
        roll = rng.random()
        when = at()
        if roll < 0.04:  # cancelled and refunded in full: clean
            shop.order(oid, value, "cancelled", when)
            shop.charge(f"{n:06d}", oid, value, when, refunded=value)
        elif roll < 0.20:  # accepted, payment not through yet: clean
            shop.order(oid, value, "placed", when)
        elif roll < 0.23:  # a returned item refunded: clean
            shop.order(oid, value, "completed", when)
            shop.charge(f"{n:06d}", oid, value, when, refunded=value // 3)
        else:
            shop.order(oid, value, "completed", when)
            shop.charge(f"{n:06d}", oid, value, when)

    # Planted problems.
    shop.order("NW-19871", 24_350, "completed", at())  # shipped, never charged
    shop.order("NW-19902", 12_900, "completed", at())
    shop.charge("DUP1a", "NW-19902", 12_900, at())
    shop.charge("DUP1b", "NW-19902", 12_900, at())  # the customer pressed pay twice
    shop.order("NW-19950", 6_480, "cancelled", at())
    shop.charge("CXL01", "NW-19950", 6_480, at())  # cancelled, money kept
    shop.order("NW-19955", 31_900, "cancelled", at())
    shop.charge("CXL02", "NW-19955", 31_900, at())  # cancelled, money kept, above the limit
    shop.order("NW-19961", 8_900, "completed", at())
    shop.charge("MIS01", "NW-19961", 8_400, at())  # a discount the gateway never saw
    shop.order("NW-19977", 18_900, "completed", at())
    shop.charge("RFD01", "NW-19977", 18_900, at(), refunded=18_900)  # refunded, still shipping
    shop.order("NW-19990", 4_900, "failed", at())
    shop.charge("FLD01", "NW-19990", 4_900, at())  # checkout failed after the charge
    shop.charge("ORPH1", None, 5_500, at())  # a payment link with no order behind it
    if not yesterday:
        shop.order("NW-19996", 3_950, "cancelled", at())
        shop.charge("CXL03", "NW-19996", 3_950, at())  # cancelled today, not refunded yet
    # Fixed since yesterday: the charge for NW-19888 came through today.
    shop.order("NW-19888", 6_480, "completed", at())
    if not yesterday:
        shop.charge("LATE1", "NW-19888", 6_480, at())
    clean = [c for c in shop.charges if c.order_id and not c.refunded]
    shop.dispute("dp_1Qa7", clean[40], has_case=False, at=at())  # nobody opened a case
    shop.dispute("dp_1Qb2", clean[41], has_case=not yesterday, at=at())  # opened today
    shop.dispute("dp_1Qc9", clean[42], has_case=True, at=at(), reason="product_not_received")

    _settle(shop, yesterday=yesterday)
    return shop.inputs()


def _settle(shop: ReconDay, *, yesterday: bool) -> None:
    """Six payouts sweep the charges, each with its balance transactions, and the bank
    account books what arrived among its other traffic."""
    charges = sorted(shop.charges, key=lambda c: c.charge_id)
    plan: list[tuple[str, int, PayoutStatus, str]] = [
        # payout id, days before DAY it arrives, status, what the bank did with it
        ("po_1OvT3a", 4, "paid", "trace"),
        ("po_1OvU8k", 3, "paid", "amount"),
        ("po_1OvW2c", 2, "paid", "odd"),  # the gateway's payout disagrees with its txns
        ("po_1OvX5m", 5, "paid", "missing"),
        ("po_1OvY9p", 1, "paid", "short" if not yesterday else "later"),
        ("po_1OvZ4r", 0, "paid", "later"),  # arrives today: the bank has not booked it yet
    ]
    size = (len(charges) + len(plan) - 1) // len(plan)
    # A rolling reserve released into the second payout.
    reserve = Movement("txn_rsv_0316", "reserve_release", 25_000)
    for k, (payout_id, back, status, fate) in enumerate(plan):
        arrival = DAY - timedelta(days=back)
        trace = f"0210000{k}4471{k:03d}" if fate == "trace" else None
        payout = shop.settle(
            payout_id,
            charges[k * size : (k + 1) * size],
            arrival=arrival,
            status=status,
            trace=trace,
            extra=1_200 if fate == "odd" else 0,
            movements=[reserve] if k == 1 else (),
        )
        if fate in ("missing", "later"):
            continue
        credit = payout.amount - (2_500 if fate == "short" else 0)  # the receiving bank's fee
        shop.line(
            credit,
            arrival + timedelta(days=1 if fate == "amount" else 0),
            f"STRIPE {payout_id}" if fate != "amount" else "STRIPE TRANSFER",
            counterparty="STRIPE PAYMENTS COMPANY",
            trace_id=trace,
        )

    # The account's other traffic: customers paying invoices, card-terminal takings, rent.
    rng = random.Random(5)  # noqa: S311 - sample data, not secrets
    for n in range(40):
        booked = DAY - timedelta(days=n % 5)
        if n % 4 == 0:
            shop.line(
                rng.randrange(50_000, 900_000, 100),
                booked,
                f"RENT MARCH UNIT {n}",
                counterparty="MERIDIAN PROPERTY LLC",
                direction="debit",
            )
        else:
            shop.line(
                rng.randrange(2_000, 250_000, 5),
                booked,
                f"INVOICE NW-INV-{4_000 + n}",
                counterparty=f"WHOLESALE CUSTOMER {n % 7}",
                end_to_end_id=f"E2E{n:08d}",
            )
    if not yesterday:
        shop.line(
            48_210,
            DAY - timedelta(days=1),
            "STRIPE TRANSFER REF 88231",
            counterparty="STRIPE PAYMENTS COMPANY",
            end_to_end_id="NOTPROVIDED",
        )


# What the daily run did with each suggested refund (automatic refunds on, limit USD 250.00):
# one of each outcome a finance reader meets.
OUTCOMES: dict[str, tuple[ActionStatus, str]] = {
    "ch_3PqDUP1b": ("refunded", "re_3PqDUP1b0xKz"),
    "ch_3PqCXL01": ("refunded", "re_3PqCXL01aa7Q"),
    "ch_3PqCXL02": ("skipped_over_max", "above the USD 250.00 automatic limit: refund by hand"),
    "ch_3PqCXL03": ("failed", "charge_expired_for_refund: refund by bank transfer"),
    "ch_3PqFLD01": ("requested", "re_3PqFLD01pNd2"),
}


def build(seed: int) -> tuple[str, str, str]:
    before = reconcile(scenario(DAY - timedelta(days=1), seed, yesterday=True))
    today = reconcile(scenario(DAY, seed, yesterday=False))
    # Some of yesterday's breaks were older still: they carry the day they were first seen.
    older = {BreakClass.COMPLETED_NOT_PAID: 6, BreakClass.MISSING_SETTLEMENT: 3}
    previous = [
        replace(brk, first_seen=DAY - timedelta(days=older[brk.break_class]))
        if brk.break_class in older
        else brk
        for brk in before.breaks
    ]
    carried = carry_forward(previous, today.breaks, DAY)
    actions = refund_outcomes(
        today.breaks, lambda refund: OUTCOMES.get(refund.charge_id, ("dry_run", ""))
    )
    return render_report(today, carried, actions, TENANT)


# -- Chromium --------------------------------------------------------------------------------


def _chromium_flags(profile: Path, height: int) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{height}",
    ]


def page_height(chromium: Path, page: Path, profile: Path) -> int:
    """The rendered page's height at ``WIDTH``: a copy stamps its scrollHeight into the DOM,
    which --dump-dom prints (the report itself carries no script)."""
    probe = page.with_name("probe.html")
    stamp = (
        "<script>document.body.dataset.height ="
        " String(document.documentElement.scrollHeight);</script>"
    )
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", stamp + "</body>"))
    command = [str(chromium), *_chromium_flags(profile, 1_000), "--dump-dom", probe.as_uri()]
    done = subprocess.run(  # noqa: S603 - our own arguments, no shell
        command, check=True, capture_output=True, text=True, timeout=120
    )
    found = re.search(r'data-height="(\d+)"', done.stdout)
    if not found:
        raise RuntimeError("chromium did not report the page height")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reconciliation-report.png")
    parser.add_argument("--html", type=Path, help="also keep the rendered HTML here")
    parser.add_argument("--text", type=Path, help="also keep the text part here")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    chromium: Path = args.chromium
    if not chromium.is_file():
        found = shutil.which("chromium")
        if not found:
            print(f"no chromium at {chromium}: apt-get install -y chromium", file=sys.stderr)
            return 2
        chromium = Path(found)

    subject, html, text = build(args.seed)
    if args.html:
        args.html.write_text(html, encoding="utf-8")
    if args.text:
        args.text.write_text(text, encoding="utf-8")
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        work = Path(tmp)
        page = work / "report.html"
        page.write_text(html, encoding="utf-8")
        height = page_height(chromium, page, work / "profile")
        out.unlink(missing_ok=True)
        command = [
            str(chromium),
            *_chromium_flags(work / "profile", height),
            f"--screenshot={out}",
            page.as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603
    if not out.is_file():
        print("chromium wrote no screenshot", file=sys.stderr)
        return 1
    print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}  {subject}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
