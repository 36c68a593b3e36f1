"""Hedge and unwind orders on the instrument's grid: prices on its tick, sizes on its lot.

A hedge/unwind limit is the leg's price moved ``bps`` against us (the loss bound). Rounded
onto the tick in the safe direction: a buy limit rounds down and a sell limit rounds up, so
the order can never fill worse than the bound (it may be up to one tick less aggressive).
A size rounds down to the lot (never more than is open); what is below the lot, the venue's
minimum size or its minimum notional cannot be sent and stays open (reported as unhedged exposure).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation

from arb_structs import Instrument

ZERO = Decimal(0)


def text(value: Decimal) -> str:
    """Exact decimal text without exponent or trailing zeros."""
    out = format(value.normalize(), "f")
    return "0" if out in ("-0", "") else out


def _step(value: str | None) -> Decimal | None:
    try:
        step = Decimal(value) if value else None
    except InvalidOperation:
        return None
    return step if step is not None and step > 0 else None


def bound_price(price: str, bps: Decimal, buy: bool, tick: str | None = None) -> str:
    """``price`` moved ``bps`` against us (up for a buy, down for a sell), on ``tick``'s grid
    rounded so the limit stays inside the bound; without a tick, on the price's own grid."""
    base = Decimal(price)
    raw = base * (1 + bps / 10_000) if buy else base * (1 - bps / 10_000)
    step = _step(tick) or Decimal(1).scaleb(base.as_tuple().exponent)  # type: ignore[arg-type]
    units = (raw / step).to_integral_value(rounding=ROUND_FLOOR if buy else ROUND_CEILING)
    limit = units * step
    if limit <= 0:
        limit = step
    return text(limit)


def lot_size(size: Decimal, instrument: Instrument | None, price: Decimal | None = None) -> Decimal:
    """``size`` rounded down to the lot; 0 when below the lot or the venue's minimum size, or
    (given the order's ``price``) when its notional is below the venue's minimum notional."""
    if instrument is None:
        return size
    lot = _step(instrument.lot_size)
    if lot is not None:
        size = (size / lot).to_integral_value(rounding=ROUND_FLOOR) * lot
    minimum = _step(instrument.min_size)
    if minimum is not None and size < minimum:
        return ZERO
    notional = _step(instrument.min_notional)
    if price is not None and notional is not None and size * price < notional:
        return ZERO
    return size
