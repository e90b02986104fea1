"""The card networks' dispute ratios per tenant, card brand and month, against their
programmes' thresholds (kept as data with effective dates: ``programmes.yaml``).

Visa VAMP: (fraud reports + disputes) this month / settled transactions this month. Mastercard
ECP: chargebacks this month / sales transactions last month. A level (excessive, high
excessive) is reached when both the ratio and the count reach its minimums. The month's end is
projected from the month so far (counts grow with the days elapsed; ECP's denominator is last
month's, already complete), and the client team is warned at 50 % and 75 % of a level, taken
as the smaller of the ratio's and the count's shares (both must be met).
"""

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Level(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    level: str
    min_ratio_bp: int = Field(ge=0)
    min_count: int = Field(ge=0)


class ProgrammeVersion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    effective_from: date
    excluded_regions: tuple[str, ...] = ()
    levels: tuple[Level, ...]


class Programme(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    brand: str
    measure: Literal["vamp", "ecp"]
    versions: tuple[ProgrammeVersion, ...]

    def version_for(self, month: date, region: str | None = None) -> ProgrammeVersion | None:
        """The version in force on the month's first day (for a region it does not exclude)."""
        found = [
            v
            for v in self.versions
            if v.effective_from <= month and (region is None or region not in v.excluded_regions)
        ]
        return max(found, key=lambda v: v.effective_from, default=None)


class Programmes(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    programmes: tuple[Programme, ...]
    warn_at_percent: tuple[int, ...] = (50, 75)


@dataclass(frozen=True)
class BrandMonth:
    """What we counted for one card brand in one month (``days_counted`` of ``days``)."""

    brand: str
    month: date  # its first day
    disputes: int
    fraud_reports: int
    settled: int
    previous_month_settled: int
    days_counted: int

    @property
    def days(self) -> int:
        return calendar.monthrange(self.month.year, self.month.month)[1]


@dataclass(frozen=True)
class LevelStanding:
    level: str
    min_ratio_bp: int
    min_count: int
    reached: bool
    projected_reached: bool
    # The smaller of the ratio's and the count's shares of the level at the projected month's
    # end, in percent.
    projected_share: int


@dataclass(frozen=True)
class RatioLine:
    programme: str
    title: str
    brand: str
    month: date
    count: int
    denominator: int
    rate_bp: Decimal
    projected_count: int
    projected_denominator: int
    projected_rate_bp: Decimal
    effective_from: date | None
    levels: tuple[LevelStanding, ...]
    warnings: tuple[str, ...]

    @property
    def rate_percent(self) -> str:
        return percent(self.rate_bp)

    @property
    def projected_rate_percent(self) -> str:
        return percent(self.projected_rate_bp)


def percent(bp: Decimal) -> str:
    return f"{(bp / 100).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} %"


def _rate(count: int, denominator: int) -> Decimal:
    return Decimal(count * 10_000) / denominator if denominator else Decimal(0)


def _project(value: int, figures: BrandMonth) -> int:
    if figures.days_counted >= figures.days or figures.days_counted <= 0:
        return value
    return (value * figures.days + figures.days_counted - 1) // figures.days_counted


def _share(have: Decimal | int, need: int) -> Decimal:
    return Decimal(100) if need == 0 else Decimal(have) * 100 / need


def ratio_line(
    programme: Programme, figures: BrandMonth, warn_at: tuple[int, ...], region: str | None = None
) -> RatioLine:
    if programme.measure == "vamp":
        count = figures.disputes + figures.fraud_reports
        denominator = figures.settled
        projected_denominator = _project(denominator, figures)
    else:
        count = figures.disputes
        denominator = projected_denominator = figures.previous_month_settled
    projected_count = _project(count, figures)
    rate = _rate(count, denominator)
    projected_rate = _rate(projected_count, projected_denominator)
    version = programme.version_for(figures.month, region)
    standings = []
    warnings = []
    for level in version.levels if version else ():
        share = min(
            _share(projected_rate, level.min_ratio_bp), _share(projected_count, level.min_count)
        )
        standings.append(
            LevelStanding(
                level=level.level,
                min_ratio_bp=level.min_ratio_bp,
                min_count=level.min_count,
                reached=rate >= level.min_ratio_bp and count >= level.min_count,
                projected_reached=(
                    projected_rate >= level.min_ratio_bp and projected_count >= level.min_count
                ),
                projected_share=int(share),
            )
        )
        crossed = [w for w in warn_at if share >= w]
        if crossed:
            warnings.append(
                f"{programme.title}, {level.level.replace('_', ' ')} "
                f"({percent(Decimal(level.min_ratio_bp))} and {level.min_count:,}): projected "
                f"at {int(share)} % by the month's end "
                f"({projected_count:,} of {projected_denominator:,}, "
                f"{percent(projected_rate)})"
            )
    return RatioLine(
        programme=programme.name,
        title=programme.title,
        brand=figures.brand,
        month=figures.month,
        count=count,
        denominator=denominator,
        rate_bp=rate,
        projected_count=projected_count,
        projected_denominator=projected_denominator,
        projected_rate_bp=projected_rate,
        effective_from=version.effective_from if version else None,
        levels=tuple(standings),
        warnings=tuple(warnings),
    )


def ratio_report(
    programmes: Programmes, figures: list[BrandMonth], region: str | None = None
) -> list[RatioLine]:
    """One line per programme whose brand has figures, by programme."""
    by_brand = {f.brand: f for f in figures}
    return [
        ratio_line(p, by_brand[p.brand], programmes.warn_at_percent, region)
        for p in programmes.programmes
        if p.brand in by_brand
    ]


def warning_level(line: RatioLine, warn_at: tuple[int, ...]) -> int | None:
    """The highest warning share the line's most threatened level has crossed, or None."""
    shares = [s.projected_share for s in line.levels]
    crossed = [w for w in warn_at for share in shares if share >= w]
    return max(crossed, default=None)
