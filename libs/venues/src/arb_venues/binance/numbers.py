"""Decimal text helpers: Binance sends every price and quantity as text with 8 decimals."""

from __future__ import annotations

from decimal import Decimal

EIGHT = Decimal("0.00000001")


def decimal_text(value: str | Decimal) -> str:
    """ "0.01000000" -> "0.01"; "10.00000000" -> "10" (exact, never an exponent)."""
    return format(Decimal(value).normalize(), "f")


def decimals_of(step: str) -> int:
    """Decimal places of a step: "0.00100000" -> 3; "1.00000000" -> 0."""
    exponent = Decimal(step).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 8


def wire8(value: Decimal) -> str:
    """A number as Binance writes it: "0.01000000" (8 decimals, no exponent)."""
    return format(value.quantize(EIGHT), "f")
