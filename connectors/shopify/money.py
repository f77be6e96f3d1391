"""Shopify decimal strings to integer minor units, by the currency's ISO-4217 exponent.

Connectors do not import the core, so this mirrors the exponent table of plugin.domain.money
(a test keeps the two in agreement).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"}
    | {"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}
)
THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def exponent(currency: str) -> int:
    code = currency.upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"not an ISO-4217 currency code: {currency!r}")
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_minor(amount: object, currency: str) -> int:
    """ "12.50" USD -> 1250. Floats are refused: Shopify sends money as strings."""
    if isinstance(amount, float | bool) or amount is None:
        raise ValueError(f"money must be a decimal string, got {amount!r}")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    scaled = value.scaleb(exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_minor(minor: int, currency: str) -> str:
    """1250 USD -> "12.50", the decimal form GraphQL Money inputs take."""
    places = exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"
