"""Money: an integer of minor units and an ISO 4217 currency. Never a float.

Mixing currencies is an error, not a conversion. Decimal strings from shops (``"199.00"``) are
converted exactly or refused.
"""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# ISO 4217 minor-unit exponents that differ from 2. Everything else has two decimals.
_EXPONENTS = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}


# The largest amount, in minor units, that anything here holds: fifteen digits, so every
# amount and every sum of a tenant's year stays exact in a JSON number and in DynamoDB. No real
# payment comes near it (Stripe refuses charges above 99,999,999 minor units); an amount above
# it is refused as malformed input, never stored.
MAX_MINOR_UNITS = 10**15 - 1


class CurrencyMismatch(ValueError):
    pass


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


Currency = Annotated[str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{3}$")]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    amount: int = Field(ge=-MAX_MINOR_UNITS, le=MAX_MINOR_UNITS)  # minor units
    currency: Currency

    @classmethod
    def of(cls, amount: int, currency: str) -> Self:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(f"money amounts are integers of minor units, not {type(amount)!r}")
        return cls(amount=amount, currency=currency.upper())

    @classmethod
    def from_decimal(cls, value: str | Decimal, currency: str) -> Self:
        """``"19.99"`` USD → 1999. Refuses more decimals than the currency has."""
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal amount") from None
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite amount")
        # Refuse absurd magnitudes before int() would build a number of millions of digits.
        if number and number.adjusted() + exponent(currency) >= 15:
            raise ValueError(f"{value} is larger than any amount this system accepts")
        scaled = number.scaleb(exponent(currency))
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more decimals than {currency.upper()} allows")
        return cls.of(int(scaled), currency)

    @classmethod
    def zero(cls, currency: str) -> Self:
        return cls.of(0, currency)

    def _same(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money.of(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money.of(self.amount - other.amount, self.currency)

    def __neg__(self) -> "Money":
        return Money.of(-self.amount, self.currency)

    def __lt__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: "Money") -> bool:
        self._same(other)
        return self.amount <= other.amount

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    # -- the one place money becomes text -----------------------------------------------------

    def decimal_text(self) -> str:
        """``1234.56``, ``1500``, ``1.250``: exactly the currency's digits, no grouping (files,
        CSV cells, the shop format)."""
        digits = exponent(self.currency)
        return f"{self.to_decimal():.{digits}f}"

    @staticmethod
    def decimal_text_of(amount: int, currency: str) -> str:
        """``decimal_text`` of an amount already held as minor units (a report's millions of
        rows): the same text, by integer arithmetic, without building a Money per row."""
        digits = exponent(currency)
        if not digits:
            return str(amount)
        whole, minor = divmod(abs(amount), 10**digits)
        return f"{'-' if amount < 0 else ''}{whole}.{minor:0{digits}d}"

    @staticmethod
    def decimal_text_for(currency: str) -> Callable[[int], str]:
        """``decimal_text_of`` for one currency, its digits looked up once: the same text for
        rows by the million (a payout cycle's detailed report)."""
        digits = exponent(currency)
        if not digits:
            return str
        scale = 10**digits
        pattern = f"%d.%0{digits}d"

        def text(amount: int) -> str:
            shown: str = pattern % divmod(abs(amount), scale)
            return "-" + shown if amount < 0 else shown

        return text

    def format(self, *, signed: bool = False, grouping: bool = False) -> str:
        """``USD 19.99``, ``JPY 1500``, ``KWD 1.250``; with ``grouping`` ``EUR 1,234.56``; with
        ``signed`` ``+EUR 12.00`` / ``-EUR 12.00`` (reports and operators' screens)."""
        digits = exponent(self.currency)
        value = Decimal(abs(self.amount)).scaleb(-digits)
        sign = "-" if self.amount < 0 else "+" if signed else ""
        number = f"{value:,.{digits}f}" if grouping else f"{value:.{digits}f}"
        return f"{sign}{self.currency} {number}"

    def localized(self, locale: str = "en_US") -> str:
        """``$1,234.50``, ``¥1,500``, ``KWD\u00a01.250``: the locale's pattern (CLDR, through
        babel) with exactly the currency's minor digits, for what customers read."""
        from shared.money_text import localized

        return localized(self.amount, self.currency, locale)

    def __str__(self) -> str:
        return self.format()
