"""The bill of a metered day as lines of text: per service, month 1 and month 12."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from local.costs.bill import Bill, Usage, Volume, load_prices, per_1000_orders


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
        fixed=sum(twelfth.per_1000_fixed.values()),
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
