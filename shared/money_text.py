"""Money as customers read it: the locale's currency pattern (CLDR, through babel).

Kept apart from ``shared.money`` so that code which only adds and compares amounts never loads
babel; ``Money.localized`` reaches it on first use.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import format_currency

from shared.money import exponent

# Between a letter symbol and a digit, either way round ("KWD1.250", "1.250KWD").
_LETTER_DIGIT = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")


@cache
def locale_named(name: str) -> Locale:
    return Locale.parse(name)


def localized(amount: int, currency: str, locale: str) -> str:
    """``$1,234.50``, ``¥1,500``, ``KWD 1.250``: the locale's pattern with exactly the
    currency's minor digits (CLDR rounds some currencies to fewer digits than ISO 4217 gives
    them, and an amount in minor units must never be rounded away)."""
    loc = locale_named(locale)
    pattern = copy.copy(loc.currency_formats["standard"])
    digits = exponent(currency)
    pattern.frac_prec = (digits, digits)
    text = format_currency(
        Decimal(amount).scaleb(-digits),
        currency,
        format=pattern,
        locale=loc,
        currency_digits=False,
    )
    # CLDR asks for a space between a letter symbol and the number ("KWD 1.250"); babel does
    # not apply that rule, and a no-break space keeps the two on one line.
    return _LETTER_DIGIT.sub("\u00a0", text)
