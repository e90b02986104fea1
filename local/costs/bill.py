"""Pricing a metered day: what it costs per 1,000 orders in the first month and in month 12.

A day's usage is quantities of the price table's units (write units, transitions, e-mails…),
what stays stored (bytes and how long they are kept) and what is paid per month whatever the
traffic (keys, alarms, custom metrics). The deployment it is priced for runs ``tenants`` shops
of ``orders_per_tenant_month`` orders each; the day's per-order figures scale to that volume.
Storage at the end of month *m* holds what was written over the last ``min(30·m, kept)`` days.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PRICES = Path(__file__).with_name("prices.json")
GB = 1024**3
# DynamoDB bills 100 bytes of overhead for every item stored, in the table and in each index.
ITEM_OVERHEAD_BYTES = 100


@dataclass(frozen=True)
class Price:
    usd: float
    per: float
    unit: str
    source: str

    def of(self, quantity: float) -> float:
        return self.usd * quantity / self.per


def load_prices(path: Path = PRICES) -> dict[str, Price]:
    table = json.loads(path.read_text())["prices"]
    return {key: Price(**entry) for key, entry in table.items()}


@dataclass(frozen=True)
class Stored:
    """Bytes one day leaves stored under a storage price, kept ``kept_days`` (None: for good)."""

    price: str
    bytes: int
    kept_days: float | None = None
    # What was stored (a table item's kind, a bucket): to say where month 12's storage goes.
    what: str = ""


@dataclass
class Usage:
    orders: int
    quantities: dict[str, float] = field(default_factory=dict)
    stored: list[Stored] = field(default_factory=list)
    monthly: dict[str, float] = field(default_factory=dict)  # price key → count per month

    def add(self, price: str, quantity: float) -> None:
        self.quantities[price] = self.quantities.get(price, 0.0) + quantity


@dataclass(frozen=True)
class Volume:
    tenants: int = 10
    orders_per_tenant_month: int = 3000

    @property
    def orders_per_month(self) -> int:
        return self.tenants * self.orders_per_tenant_month


# DynamoDB's table classes: what a table's requests and storage are priced as. Standard-IA
# (``STANDARD_INFREQUENT_ACCESS``) stores for 40 % of Standard's price and serves requests for
# 125 %; continuous backups cost the same in both.
TABLE_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")
_IA_PRICED = ("dynamodb_write_unit", "dynamodb_read_unit", "dynamodb_storage_gb_month")


def in_table_class(usage: Usage, table_class: str) -> Usage:
    """``usage`` (metered on a Standard table) priced as if the table were of ``table_class``."""
    if table_class not in TABLE_CLASSES:
        raise ValueError(f"no such table class: {table_class}")
    if table_class == "STANDARD":
        return usage

    def key(price: str) -> str:
        return f"{price}_ia" if price in _IA_PRICED else price

    return Usage(
        orders=usage.orders,
        quantities={key(k): v for k, v in usage.quantities.items()},
        stored=[Stored(key(s.price), s.bytes, s.kept_days, s.what) for s in usage.stored],
        monthly=dict(usage.monthly),
    )


def day_costs(usage: Usage, prices: Mapping[str, Price]) -> dict[str, float]:
    """What the day's traffic costs, per price key."""
    unknown = sorted(set(usage.quantities) - set(prices))
    if unknown:
        raise KeyError(f"no price for {', '.join(unknown)}")
    return {key: prices[key].of(qty) for key, qty in sorted(usage.quantities.items())}


def stored_gb_at_month(usage: Usage, month: int, volume: Volume) -> dict[str, float]:
    """GB held per storage price at the end of ``month`` at the deployment's volume."""
    orders_per_day = volume.orders_per_month / 30
    held: dict[str, float] = {}
    for item in usage.stored:
        days = 30.0 * month if item.kept_days is None else min(30.0 * month, item.kept_days)
        per_order = item.bytes / usage.orders
        held[item.price] = held.get(item.price, 0.0) + per_order * orders_per_day * days / GB
    return held


def storage_by_what(
    usage: Usage, prices: Mapping[str, Price], month: int, volume: Volume = Volume()
) -> dict[str, float]:
    """What holding each kind of stored thing costs at the end of ``month``, per 1,000 orders
    (its storage prices together: a table item's bytes and their backup)."""
    thousands_a_month = volume.orders_per_month / 1000
    costs: dict[str, float] = {}
    for item in usage.stored:
        alone = Usage(orders=usage.orders, stored=[item])
        for key, gb in stored_gb_at_month(alone, month, volume).items():
            costs[item.what] = costs.get(item.what, 0.0) + prices[key].of(gb) / thousands_a_month
    return costs


@dataclass(frozen=True)
class Bill:
    per_1000_traffic: dict[str, float]
    per_1000_storage: dict[str, float]
    per_1000_fixed: dict[str, float]

    @property
    def total(self) -> float:
        return (
            sum(self.per_1000_traffic.values())
            + sum(self.per_1000_storage.values())
            + sum(self.per_1000_fixed.values())
        )


def per_1000_orders(
    usage: Usage, prices: Mapping[str, Price], month: int, volume: Volume = Volume()
) -> Bill:
    if usage.orders <= 0:
        raise ValueError("a metered day needs at least one order")
    traffic = {k: v / usage.orders * 1000 for k, v in day_costs(usage, prices).items()}
    thousands_a_month = volume.orders_per_month / 1000
    storage = {
        key: prices[key].of(gb) / thousands_a_month
        for key, gb in stored_gb_at_month(usage, month, volume).items()
    }
    fixed = {key: prices[key].of(count) / thousands_a_month for key, count in usage.monthly.items()}
    return Bill(traffic, storage, fixed)
