"""A marketplace tenant's vendors: how they are paid, what commission they pay, how long their
money is held, and whether they are paid at all.

Every change is a new version (who and when, what changed), never an edit. Bad input is refused
with every reason at once (``check_vendor``) and nothing is written.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from functions.payouts.domain.postings import Rate, Refused
from shared.money import Currency

Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
VendorId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
ANY_CATEGORY = "*"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BankAccount(_Model):
    method: Literal["bank"] = "bank"
    holder: str = Field(min_length=1, max_length=70)
    iban: str
    bic: str | None = None
    currency: Currency

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        # schwifty (and its bank registry) loads on the first vendor read, not with the module:
        # the orders functions import this context's composition on every cold start.
        from schwifty import IBAN
        from schwifty.exceptions import SchwiftyException

        try:
            return IBAN(value).compact
        except SchwiftyException as error:
            raise ValueError(f"invalid IBAN: {error}") from None

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from schwifty import BIC
        from schwifty.exceptions import SchwiftyException

        try:
            return str(BIC(value))
        except SchwiftyException as error:
            raise ValueError(f"invalid BIC: {error}") from None

    def bic_or_derived(self) -> str | None:
        """The BIC given, or the one the IBAN's bank code names (schwifty's registry)."""
        if self.bic:
            return self.bic
        from schwifty import IBAN

        derived = IBAN(self.iban).bic
        return str(derived) if derived else None


class StripeConnect(_Model):
    method: Literal["stripe_connect"] = "stripe_connect"
    account_id: str = Field(pattern=r"^acct_[A-Za-z0-9]{6,}$")
    currency: Currency


PayoutMethod = Annotated[BankAccount | StripeConnect, Field(discriminator="method")]


class CommissionRule(_Model):
    """Percent of the goods plus a fixed amount per line, for a business category (``*``: any
    category without its own rule), from ``effective_from`` until before ``effective_to``."""

    category: str = Field(default=ANY_CATEGORY, min_length=1)
    percent: Decimal = Field(ge=0, le=100, decimal_places=2)
    fixed: int = Field(default=0, ge=0)  # minor units of the order's currency
    effective_from: date
    effective_to: date | None = None

    def covers(self, category: str, on: date) -> bool:
        return (
            self.category == category
            and self.effective_from <= on
            and (self.effective_to is None or on < self.effective_to)
        )

    def rate(self) -> Rate:
        return Rate(int(self.percent * 100), self.fixed)


class HoldPolicy(_Model):
    """Released after delivery plus the tenant's return window, and paid no sooner than
    ``extra_days`` after that release; ``reserve_percent`` of each release kept back for
    ``reserve_days`` (docs/payouts.md, "Cycles")."""

    extra_days: int = Field(default=0, ge=0, le=365)
    reserve_percent: Decimal = Field(default=Decimal(0), ge=0, le=100, decimal_places=2)
    reserve_days: int = Field(default=0, ge=0, le=365)

    def reserve_basis_points(self) -> int:
        return int(self.reserve_percent * 100)


class VendorStatus(StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"


class Vendor(_Model):
    vendor_id: VendorId
    name: str = Field(min_length=1, max_length=140)
    emails: tuple[Email, ...] = Field(min_length=1)
    currencies: tuple[Currency, ...] = Field(min_length=1)
    payout: PayoutMethod
    commission: tuple[CommissionRule, ...] = ()
    hold: HoldPolicy = HoldPolicy()
    minimum_payout: dict[Currency, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    status: VendorStatus = VendorStatus.ACTIVE
    hold_reason: str | None = None

    def rate_for(self, category: str | None, on: date) -> Rate:
        """The plan's rate for a line of ``category`` sold on ``on``: the category's own rule,
        else the ``*`` rule, else none."""
        for wanted in (category or ANY_CATEGORY, ANY_CATEGORY):
            for rule in self.commission:
                if rule.covers(wanted, on):
                    return rule.rate()
        return Rate()

    def minimum(self, currency: str) -> int:
        return self.minimum_payout.get(currency, 0)

    @property
    def on_hold(self) -> bool:
        return self.status is VendorStatus.ON_HOLD


def _cross_checks(raw: dict[str, Any]) -> list[str]:
    """What no single field can say, read from the raw input so that it is reported even when
    fields are wrong too."""
    problems = []
    currencies = {str(c).upper() for c in raw.get("currencies") or () if isinstance(c, str)}
    payout = raw.get("payout")
    method_currency = payout.get("currency") if isinstance(payout, dict) else None
    if (
        isinstance(method_currency, str)
        and currencies
        and method_currency.upper() not in currencies
    ):
        problems.append(
            f"payout: the payout method is in {method_currency.upper()}, "
            f"which is not one of the vendor's currencies ({', '.join(sorted(currencies))})"
        )
    if raw.get("status") == VendorStatus.ON_HOLD and not str(raw.get("hold_reason") or "").strip():
        problems.append("hold_reason: a vendor on hold needs the reason")
    rules = [r for r in raw.get("commission") or () if isinstance(r, dict)]
    for i, rule in enumerate(rules):
        for later in rules[i + 1 :]:
            if rule.get("category", ANY_CATEGORY) != later.get("category", ANY_CATEGORY):
                continue
            if _overlap(rule, later):
                problems.append(
                    f"commission: two rules for {rule.get('category', ANY_CATEGORY)!r} overlap "
                    f"(from {rule.get('effective_from')} and from {later.get('effective_from')})"
                )
    return problems


def _overlap(one: dict[str, Any], other: dict[str, Any]) -> bool:
    try:
        a0, b0 = (
            date.fromisoformat(str(one["effective_from"])),
            date.fromisoformat(str(other["effective_from"])),
        )
        a1 = date.fromisoformat(str(one["effective_to"])) if one.get("effective_to") else date.max
        b1 = (
            date.fromisoformat(str(other["effective_to"]))
            if other.get("effective_to")
            else date.max
        )
    except (KeyError, ValueError):
        return False  # the field errors say what is wrong with the dates
    return a0 < b1 and b0 < a1


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "vendor"


def check_vendor(raw: dict[str, Any]) -> Vendor:
    """The vendor, or ``Refused`` with every reason (fields and cross-checks together)."""
    problems: list[str] = []
    vendor: Vendor | None = None
    try:
        vendor = Vendor.model_validate(raw)
    except ValidationError as error:
        for item in error.errors():
            message = item["msg"]
            if item["type"] in ("less_than_equal", "le") and "percent" in item["loc"]:
                message = f"{message} (a commission over 100 % is refused)"
            problems.append(f"{_where(item['loc'])}: {message}")
    problems.extend(_cross_checks(raw))
    if problems or vendor is None:
        raise Refused(problems)
    return vendor


class VendorVersion(_Model):
    """One saved version of a vendor: immutable, with who saved it, when, and which fields
    changed from the version before."""

    vendor: Vendor
    version: int = Field(ge=1)
    saved_by: str = Field(min_length=1)
    saved_at: datetime
    changed: tuple[str, ...] = ()


class VersionConflict(RuntimeError):
    """Someone saved the vendor meanwhile: read it again and re-apply the change."""


def changed_fields(before: Vendor | None, after: Vendor) -> tuple[str, ...]:
    if before is None:
        return tuple(sorted(Vendor.model_fields))
    old, new = before.model_dump(mode="json"), after.model_dump(mode="json")
    return tuple(sorted(name for name in new if old.get(name) != new[name]))
