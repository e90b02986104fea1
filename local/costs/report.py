"""The bill of a metered day as lines of text: per service, month 1 and month 12."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from local.costs.bill import Bill, Usage, Volume, load_prices, per_1000_orders
from local.costs.lambda_time import FunctionTime, LatencyTable


def by_service(bill: Bill) -> dict[str, float]:
    totals: dict[str, float] = {}
    for part in (bill.per_1000_traffic, bill.per_1000_storage, bill.per_1000_fixed):
        for price, usd in part.items():
            service = price.split("_", 1)[0]
            totals[service] = totals.get(service, 0.0) + usd
    return totals


def bills(usage: Usage, volume: Volume) -> tuple[Bill, Bill]:
    prices = load_prices()
    return (
        per_1000_orders(usage, prices, month=1, volume=volume),
        per_1000_orders(usage, prices, month=12, volume=volume),
    )


def bill_lines(usage: Usage, volume: Volume) -> list[str]:
    first, twelfth = bills(usage, volume)
    one, twelve = by_service(first), by_service(twelfth)
    lines = [
        f"what AWS would bill for this day, per 1,000 orders ({usage.orders} orders metered; "
        f"{volume.tenants} tenants x {volume.orders_per_tenant_month} orders a month):",
        f"  {'service (USD)':30} {'month 1':>9} {'month 12':>9}",
    ]
    for service in sorted(twelve, key=lambda s: -twelve[s]):
        lines.append(f"  {service:30} {one.get(service, 0.0):9.4f} {twelve[service]:9.4f}")
    lines.append(f"  {'total':30} {first.total:9.4f} {twelfth.total:9.4f}")
    return lines


def later_lines(
    usage: Usage,
    volume: Volume,
    months: tuple[int, ...] = (1, 12, 24, 48, 84),
    title: str = "the same day in later months (storage grows until records expire):",
) -> list[str]:
    """The day's bill in later months: storage keeps growing until what was stored expires
    (financial records after the tenant's years: seven by default, month 84)."""
    prices = load_prices()
    line = title
    for month in months:
        bill = per_1000_orders(usage, prices, month=month, volume=volume)
        stored = sum(bill.per_1000_storage.values())
        line += f" month {month} {bill.total:.3f} (storage {stored:.3f});"
    return [line.rstrip(";")]


def audience(kind: str) -> str:
    """Whom an e-mail of ``kind`` is for: the shop's ``customers``, its ``vendors`` (a
    marketplace's sellers), or the client's own ``teams`` (operations and finance)."""
    from shared.notify.render import TEAM_KINDS, EmailKind

    if kind in set(EmailKind) - TEAM_KINDS:
        return "customers"
    if kind.startswith("vendor_"):
        return "vendors"
    return "teams"


def by_audience(emails_by_kind: Mapping[str, int]) -> dict[str, int]:
    counted = {"customers": 0, "vendors": 0, "teams": 0}
    for kind, count in emails_by_kind.items():
        counted[audience(kind)] += count
    return counted


@dataclass(frozen=True)
class Floor:
    """What the mission's own shape costs on a day, whatever the design: every customer e-mail
    the day sent, every vendor e-mail, one Standard execution per order through the happy
    path's states (the fewest different states an order entered that day to release its
    funds), and what is paid monthly (keys, alarms); per 1,000 orders at month 12. (Cancelled
    orders take shorter paths; review holds and exceptions longer ones.)"""

    customer_emails: float
    vendor_emails: float
    lifecycle: float
    fixed: float
    happy_path_states: int
    # The day's e-mails per order by whom they are for, and the whole month-12 bill beside it.
    emails_per_order: dict[str, float]
    month12_total: float

    @property
    def total(self) -> float:
        return self.customer_emails + self.vendor_emails + self.lifecycle + self.fixed


def floor_of(
    usage: Usage, volume: Volume, emails_by_kind: Mapping[str, int], happy_path_states: int
) -> Floor:
    prices = load_prices()
    thousands = 1000 / usage.orders
    by_whom = by_audience(emails_by_kind)
    _, twelfth = bills(usage, volume)
    return Floor(
        customer_emails=prices["ses_email"].of(by_whom["customers"] * thousands),
        vendor_emails=prices["ses_email"].of(by_whom["vendors"] * thousands),
        lifecycle=prices["stepfunctions_transition"].of(happy_path_states * 1000),
        # Keys, alarms and metrics; not the teams' digests (priced per month too).
        fixed=sum(v for k, v in twelfth.per_1000_fixed.items() if k != "ses_email"),
        happy_path_states=happy_path_states,
        emails_per_order={who: n / usage.orders for who, n in by_whom.items()},
        month12_total=twelfth.total,
    )


def floor_lines(floor: Floor) -> list[str]:
    return [
        "e-mails per order by whom they are for: "
        + ", ".join(f"{who} {n:.2f}" for who, n in floor.emails_per_order.items()),
        "what the mission's shape costs at least (month 12, per 1,000 orders):",
        f"  customers' e-mails          {floor.customer_emails:9.4f}",
        f"  vendors' e-mails            {floor.vendor_emails:9.4f}",
        f"  a Standard execution an order ({floor.happy_path_states} states, the happy "
        f"path) {floor.lifecycle:9.4f}",
        f"  paid monthly (keys, alarms) {floor.fixed:9.4f}",
        f"  floor                       {floor.total:9.4f}   "
        f"(left to design: {floor.month12_total - floor.total:.4f})",
    ]


def short_name(function: str) -> str:
    """EcomOps-OrdersRefundsStepsA9015D9B-LJJ5AI1R76YN → OrdersRefundsSteps"""
    parts = function.split("-")
    return parts[1][:-8] if len(parts) >= 3 and len(parts[1]) > 8 else function


def lambda_total_line(times: Mapping[str, FunctionTime], orders: int) -> str:
    price = load_prices()["lambda_gb_second_arm"]
    thousands = 1000 / max(1, orders)
    measured = sum(t.measured_gb_s for t in times.values()) * thousands
    modelled = sum(t.modelled_gb_s for t in times.values()) * thousands
    return (
        f"Lambda duration per 1,000 orders: as timed in-process ${price.of(measured):.4f}, "
        f"as modelled ${price.of(modelled):.4f} (billed; docs/cost.md)"
    )


def lambda_lines(
    times: Mapping[str, FunctionTime], orders: int, latencies: LatencyTable
) -> list[str]:
    """Lambda both ways: as timed in-process and as modelled (what the bill uses)."""
    lines = [
        "Lambda, in-process and as modelled (billed): per invocation the wall time, of it "
        "the own work (outside calls) and the thread's CPU, calls out, the modelled duration; "
        "GB-seconds per order both ways:",
        f"  {'function':28} {'inv/order':>9} {'wall ms':>8} {'own ms':>7} {'cpu ms':>7} "
        f"{'calls':>5} {'model ms':>8} {'GB-s meas.':>10} {'GB-s model':>10}",
    ]
    for function, t in sorted(times.items(), key=lambda kv: -kv[1].modelled_gb_s):
        n = t.invocations
        lines.append(
            f"  {short_name(function):28} {n / orders:9.2f} {t.wall_ms / n:8.1f} "
            f"{t.own_ms / n:7.1f} {t.cpu_ms / n:7.1f} {t.calls / n:5.1f} "
            f"{t.modelled_ms / n:8.1f} {t.measured_gb_s / orders:10.4f} "
            f"{t.modelled_gb_s / orders:10.4f}"
        )
    lines.append("  " + lambda_total_line(times, orders))
    calls: Counter[tuple[str, str]] = Counter()
    for t in times.values():
        calls.update(t.by_call)
    lines.append(
        f"  model: own work x max(1, {latencies.full_vcpu_mb} MB / memory) + per call its "
        "latency (local/costs/latencies.json); calls per order:"
    )
    for (service, operation), n in calls.most_common():
        lines.append(
            f"    {service + ':' + operation:40} {n / max(1, orders):7.2f} "
            f"x {latencies.of(service, operation).ms:g} ms"
        )
    return lines
