"""The bill of a metered day as lines of text: per service, month 1 and month 12."""

from __future__ import annotations

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
