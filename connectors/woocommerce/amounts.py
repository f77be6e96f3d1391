"""WooCommerce money strings ("12.50") to integer minor units and back, never through floats.

Connectors do not import the core, so this is a small twin of plugin.domain.money: the same ISO
4217 exponents and the same half-to-even rounding for stores that send more digits than the
currency has.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# fmt: off
_ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
    "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
})
# fmt: on
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def exponent(currency: str) -> int:
    code = currency.upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"not an ISO-4217 currency code: {currency!r}")
    if code in _ZERO_DECIMAL:
        return 0
    return 3 if code in _THREE_DECIMAL else 2


def to_minor(amount: object, currency: str) -> int:
    """Parse a decimal string (or int) into minor units; floats and garbage raise ValueError."""
    if isinstance(amount, float | bool) or amount is None:
        raise ValueError(f"not a decimal money string: {amount!r}")
    text = str(amount).strip() or "0"
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal money string: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return int(value.scaleb(exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def to_decimal_string(minor: int, currency: str) -> str:
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def percent_string(basis_points: int) -> str:
    """WooCommerce wants percentages as strings too: 1250 bps -> "12.50"."""
    return f"{Decimal(basis_points).scaleb(-2):.2f}"
