"""Ledger reasons as a person reads them.

Entries store a compact machine reason ("order #1042: 1200 bps of 2890 item revenue"); pages and
CSVs show "order #1042: 12% of $28.90 item revenue". Rewriting at display time reads old and new
entries alike; the machine form stays in the database and in the CSVs' machine columns.
"""

from __future__ import annotations

import re
from decimal import Decimal

from plugin.domain.money import currency_exponent

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$", "INR": "₹"}

_RATE_OF = re.compile(r"(?P<bps>\d+) bps of (?P<base>-?\d+) item revenue")
_EXTRA = re.compile(r"(?P<bps>\d+) bps extra")
_PART_OF = re.compile(r": (?P<part>-?\d+) of (?P<base>-?\d+) item revenue refunded")


def amount(minor: int, currency: str) -> str:
    """2890, "USD" -> "$28.90"; currencies without a symbol here read "SEK 28.90"."""
    exponent = currency_exponent(currency)
    value = Decimal(abs(minor)).scaleb(-exponent)
    text = f"{value:,.{exponent}f}"
    symbol = SYMBOLS.get(currency)
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{currency} {text}"


def percent(bps: int) -> str:
    """1200 -> "12%", 1250 -> "12.5%", 1234 -> "12.34%"."""
    value = Decimal(bps) / 100
    return f"{value.normalize():f}%"


def readable(reason: str, currency: str) -> str:
    text = _RATE_OF.sub(
        lambda m: f"{percent(int(m['bps']))} of {amount(int(m['base']), currency)} item revenue",
        reason,
    )
    text = _EXTRA.sub(lambda m: f"{percent(int(m['bps']))} extra", text)
    return _PART_OF.sub(
        lambda m: (
            f": {amount(int(m['part']), currency)} of "
            f"{amount(int(m['base']), currency)} item revenue refunded"
        ),
        text,
    )


def machine_parts(reason: str) -> tuple[int | None, int | None]:
    """(rate in basis points, base in minor units) of a commission reason, else (None, None)."""
    match = _RATE_OF.search(reason)
    if match is None:
        return None, None
    return int(match["bps"]), int(match["base"])
