"""Money as integer minor units plus an ISO-4217 code.

Rounding rule (used everywhere money is divided or multiplied by a rate): round half to even on the
exact rational result, in the currency's own minor unit. Banker's rounding keeps a long series of
commissions unbiased, and doing it once, on the exact value, means no double rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction

# ISO 4217 minor-unit exponents that differ from the default of 2.
_EXPONENT_EXCEPTIONS: dict[str, int] = {
    **dict.fromkeys(
        [
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
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


class MoneyError(ValueError):
    """An amount or currency that cannot be represented exactly."""


def currency_exponent(currency: str) -> int:
    code = currency.upper()
    if len(code) != 3 or not code.isalpha():
        raise MoneyError(f"not an ISO-4217 currency code: {currency!r}")
    return _EXPONENT_EXCEPTIONS.get(code, 2)


def to_minor_units(amount: str | Decimal | int, currency: str) -> int:
    """Parse a platform decimal string ("12.50") into minor units, refusing hidden precision."""
    if isinstance(amount, float):
        raise MoneyError("floats are not accepted for money")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise MoneyError(f"not a decimal amount: {amount!r}") from None
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {amount!r}")
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        # Platforms sometimes send more digits than the currency has ("1.005"): round, don't fail.
        scaled = scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return int(scaled)


def format_minor_units(minor: int, currency: str) -> str:
    exponent = currency_exponent(currency)
    value = Decimal(minor).scaleb(-exponent)
    return f"{value:.{exponent}f}"


def round_half_even(value: Fraction) -> int:
    """Round an exact rational to the nearest integer, ties to even."""
    floor = value.numerator // value.denominator
    remainder = value - floor
    if remainder > Fraction(1, 2) or (remainder == Fraction(1, 2) and floor % 2 == 1):
        return floor + 1
    return floor


def apply_rate(minor: int, rate_bps: int) -> int:
    """`rate_bps` basis points (1/100 of a percent) of an amount, rounded half to even."""
    return round_half_even(Fraction(minor * rate_bps, 10_000))


def prorate(minor: int, part: int, whole: int) -> int:
    """`minor` scaled by part/whole, rounded half to even; 0 when whole is 0."""
    if whole == 0:
        return 0
    return round_half_even(Fraction(minor * part, whole))


@dataclass(frozen=True, order=True)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        currency_exponent(self.currency)

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{format_minor_units(self.minor, self.currency)} {self.currency}"


def negative_amounts(amounts: Mapping[str, int]) -> list[str]:
    """The names of amounts below zero: an order or refund carrying one is bad input."""
    return [f"{name} {value}" for name, value in amounts.items() if value < 0]
