"""The business summary of one tenant's period, each figure beside the previous period's.

Figures follow Shopify's definitions (net sales = gross sales - discounts - returns; total
sales = net sales + taxes + shipping; average order value = (gross sales - discounts) /
orders), kept per currency: a tenant selling in two currencies gets two sections, never a
sum. A period that has not ended is summarised "so far".
"""

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from functions.reports.domain.periods import Period
from functions.reports.domain.tally import (
    REVIEW_OUTCOMES,
    SCREENING_DECISIONS,
    CurrencyTally,
    Tally,
    top,
)
from shared.money import Money

Unit = Literal["money", "count", "share", "days"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Figure(_Model):
    key: str
    label: str
    unit: Unit
    current: int | float | None
    previous: int | float | None
    currency: str | None = None

    @property
    def change(self) -> float | None:
        """The change against the previous period: relative, except for a share (conversion,
        within SLA), whose change is the difference in points (0.6 against 0.5: +0.1). None
        when there is nothing to compare with."""
        if self.current is None or self.previous is None:
            return None
        if self.unit == "share":
            return self.current - self.previous
        if self.previous == 0:
            return None
        return (self.current - self.previous) / abs(self.previous)

    def change_text(self) -> str | None:
        change = self.change
        if change is None:
            return None
        if self.unit == "share":
            return f"{change * 100:+.1f} pt"
        return f"{change:+.1%}"

    def text(self, value: int | float | None) -> str:
        if value is None:
            return "—"
        match self.unit:
            case "money":
                assert self.currency is not None
                return Money.of(int(value), self.currency).format(grouping=True)
            case "share":
                return f"{value:.1%}"
            case "days":
                return f"{value:.2f} d"
        return f"{int(value):,}"

    def cell(self, value: int | float | None) -> str:
        """The value as a CSV cell: money as decimal text, shares as fractions."""
        if value is None:
            return ""
        if self.unit == "money":
            assert self.currency is not None
            return Money.of(int(value), self.currency).decimal_text()
        if self.unit == "share":
            return f"{value:.4f}"
        return str(value)


class Ranked(_Model):
    name: str
    detail: str
    gross: int
    quantity: int | None = None
    # The same product's (vendor's) gross sales in the previous period.
    previous_gross: int = 0


class CurrencySection(_Model):
    currency: str
    figures: tuple[Figure, ...]
    top_products: tuple[Ranked, ...]
    top_vendors: tuple[Ranked, ...]
    # Net sales of each span of the period (a day; a month for a year), for the chart (None:
    # a span not covered yet).
    daily_net: tuple[tuple[date, int | None], ...] = ()


class BusinessSummary(_Model):
    tenant: str
    period: Period
    previous_period: Period
    timezone: str
    so_far: bool
    # The first day the tenant's records still cover (its retention of financial records),
    # when the period or the one before reaches further back: earlier days count nothing.
    covered_from: date | None = None
    as_of: datetime
    sections: tuple[CurrencySection, ...]
    figures: tuple[Figure, ...]

    @property
    def title(self) -> str:
        words = f"{self.period.kind.value.capitalize()} summary {self.period.label}"
        return f"{words} (so far)" if self.so_far else words


_MONEY = (
    ("gross", "Gross sales"),
    ("discounts", "Discounts"),
    ("returns", "Returns"),
    ("net", "Net sales"),
    ("shipping", "Shipping"),
    ("tax", "Taxes"),
    ("total", "Total sales"),
    ("average_order_value", "Average order value"),
    ("chargeback_amount", "Chargebacks (amount)"),
    ("chargeback_lost_amount", "Chargebacks lost (amount)"),
    ("failed_amount", "Payments failed (amount)"),
)
_COUNTS = (
    ("orders", "Orders (paid)"),
    ("refunds", "Refunds"),
    ("chargebacks", "Chargebacks"),
    ("chargebacks_lost", "Chargebacks lost"),
    ("failed_payments", "Payments failed"),
)


def _currency_figures(code: str, now: CurrencyTally, before: CurrencyTally) -> list[Figure]:
    rows = [
        Figure(
            key=key,
            label=label,
            unit="count",
            current=getattr(now, key),
            previous=getattr(before, key),
            currency=code,
        )
        for key, label in _COUNTS
    ]
    rows += [
        Figure(
            key=key,
            label=label,
            unit="money",
            current=getattr(now, key),
            previous=getattr(before, key),
            currency=code,
        )
        for key, label in _MONEY
    ]
    return rows


def _ranked(
    figures: CurrencyTally, before: CurrencyTally, n: int
) -> tuple[tuple[Ranked, ...], tuple[Ranked, ...]]:
    products = sorted(
        figures.products.items(), key=lambda kv: (-kv[1].gross, -kv[1].quantity, kv[0])
    )[:n]
    return (
        tuple(
            Ranked(
                name=p.name,
                detail=f"{key} · {p.vendor}",
                gross=p.gross,
                quantity=p.quantity,
                previous_gross=before.products[key].gross if key in before.products else 0,
            )
            for key, p in products
        ),
        tuple(
            Ranked(name=v, detail="", gross=g, previous_gross=before.vendors.get(v, 0))
            for v, g in top(figures.vendors, n)
        ),
    )


Reading = Callable[[Tally], int | float | None]


def _counted(attribute: str, key: str) -> Reading:
    return lambda t: getattr(t, attribute).get(key, 0)


def _general_figures(now: Tally, before: Tally) -> list[Figure]:
    readings: list[tuple[str, str, Unit, Reading]] = [
        ("placed", "Orders placed", "count", lambda t: t.placed),
        ("conversion", "Placed → paid", "share", lambda t: t.conversion),
    ]
    readings += [
        (f"screening_{d}", f"Screening: {d}", "count", _counted("screening", d))
        for d in SCREENING_DECISIONS
    ]
    readings += [
        (
            f"review_{o}",
            f"Reviews: {o.replace('_', ' ')}",
            "count",
            _counted("reviews", o),
        )
        for o in REVIEW_OUTCOMES
    ]
    readings += [
        ("dispatched", "Orders dispatched", "count", lambda t: t.dispatched),
        ("dispatched_in_sla", "Dispatched within SLA", "share", lambda t: t.dispatch_sla_share),
        ("delivered", "Orders delivered", "count", lambda t: t.delivered),
        ("exceptions", "Delivery exceptions", "count", lambda t: t.exceptions),
        ("claims", "Carrier claims (lost or damaged)", "count", lambda t: t.claims),
        (
            "median_days_to_deliver",
            "Median days to deliver",
            "days",
            lambda t: t.median_days_to_deliver(),
        ),
    ]
    return [
        Figure(key=key, label=label, unit=unit, current=read(now), previous=read(before))
        for key, label, unit, read in readings
    ]


def summarise(
    tenant: str,
    timezone: str,
    period: Period,
    days: Iterable[tuple[date, Tally | None]],
    previous: Tally,
    *,
    now: datetime,
    top_n: int = 10,
    kept_from: date | None = None,
) -> BusinessSummary:
    """The summary of ``period`` from its ``days`` (its spans: days, or months for a year; one
    not covered yet is None), added up as they come, against the ``previous`` period's total."""
    current = Tally()
    # Each day's net sales per currency (for the chart): all that is kept of a day.
    nets: list[tuple[date, dict[str, int] | None]] = []
    for day, tally in days:
        if tally is None:
            nets.append((day, None))
            continue
        current.add(tally)
        nets.append((day, {code: f.net for code, f in tally.currencies.items()}))
    sections = []
    for code in sorted(set(current.currencies) | set(previous.currencies)):
        now_figures = current.currencies.get(code, CurrencyTally())
        before = previous.currencies.get(code, CurrencyTally())
        products, vendors = _ranked(now_figures, before, top_n)
        sections.append(
            CurrencySection(
                currency=code,
                figures=tuple(_currency_figures(code, now_figures, before)),
                top_products=products,
                top_vendors=vendors,
                daily_net=tuple(
                    (day, None if net is None else net.get(code, 0)) for day, net in nets
                ),
            )
        )
    return BusinessSummary(
        tenant=tenant,
        period=period,
        previous_period=period.previous(),
        timezone=timezone,
        so_far=not period.ended(timezone, now),
        covered_from=(
            kept_from if kept_from is not None and kept_from > period.previous().first else None
        ),
        as_of=now,
        sections=tuple(sections),
        figures=tuple(_general_figures(current, previous)),
    )


CSV_HEADER = ("period", "so_far", "currency", "figure", "label", "current", "previous", "change")


def summary_csv(summary: BusinessSummary) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    rows = [f for s in summary.sections for f in s.figures] + list(summary.figures)
    for figure in rows:
        change = figure.change
        writer.writerow(
            (
                summary.period.slug,
                "yes" if summary.so_far else "no",
                figure.currency or "",
                figure.key,
                figure.label,
                figure.cell(figure.current),
                figure.cell(figure.previous),
                "" if change is None else f"{change:.4f}",
            )
        )
    return out.getvalue()


def summary_json(summary: BusinessSummary) -> dict[str, object]:
    def figure(f: Figure) -> dict[str, object]:
        return {
            "key": f.key,
            "unit": f.unit,
            "currency": f.currency,
            "current": f.current,
            "previous": f.previous,
            "change": f.change,
        }

    return {
        "tenant": summary.tenant,
        "period": {
            "kind": summary.period.kind.value,
            "first": summary.period.first.isoformat(),
            "last": summary.period.last.isoformat(),
            "label": summary.period.label,
        },
        "previous_period": {
            "first": summary.previous_period.first.isoformat(),
            "last": summary.previous_period.last.isoformat(),
        },
        "timezone": summary.timezone,
        "so_far": summary.so_far,
        "covered_from": summary.covered_from.isoformat() if summary.covered_from else None,
        "as_of": summary.as_of.isoformat(),
        "currencies": {
            s.currency: {
                "figures": [figure(f) for f in s.figures],
                "top_products": [p.model_dump() for p in s.top_products],
                "top_vendors": [v.model_dump() for v in s.top_vendors],
            }
            for s in summary.sections
        },
        "figures": [figure(f) for f in summary.figures],
    }
