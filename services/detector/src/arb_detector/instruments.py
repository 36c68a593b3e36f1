"""Instrument rules turned into what the search and the emitter need (pure).

The search works in floats; what goes to a venue is exact decimal text on the grid. So each
leg keeps its tick and lot both as ``Decimal`` (for emission) and as ``float`` (for search),
and a pair keeps the one lot step valid on both venues: the least common multiple of the two
lot sizes (0.001 and 0.0001 -> 0.001; 0.002 and 0.003 -> 0.006).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from arb_structs.market import Instrument

from arb_detector.errors import InstrumentError


@dataclass(frozen=True, slots=True)
class LegSpec:
    """One venue's rules for one symbol, with the taker fee actually paid there (the
    instrument's: ingest publishes the account's fee on it, arb_venues.fees)."""

    venue: str
    symbol: str
    base: str
    quote: str
    fee: float  # taker fee fraction
    tick: Decimal
    lot: Decimal
    tick_float: float
    min_size: float
    min_notional: float


@dataclass(frozen=True, slots=True)
class PairSpec:
    """Buy on ``buy``'s asks, sell on ``sell``'s bids: the shared lot grid and minimums."""

    buy: LegSpec
    sell: LegSpec
    step: Decimal  # common lot step
    step_float: float
    step_exponent: int  # decimal places of the step, for formatting
    min_size: float  # the larger minimum of the two


def _decimal(instrument: Instrument, name: str, text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise InstrumentError(
            f"instrument {instrument.venue}:{instrument.symbol} {name}={text!r} is not a "
            "non-negative decimal; fix the reference data the ingest service publishes"
        )
    return value


def leg_spec(instrument: Instrument) -> LegSpec:
    """The leg rules of ``instrument``, priced at its taker fee.

    A zero tick or lot falls back to one unit of the instrument's price/size decimals.
    """
    tick = _decimal(instrument, "tick_size", instrument.tick_size)
    lot = _decimal(instrument, "lot_size", instrument.lot_size)
    if tick == 0:
        tick = Decimal(1).scaleb(-instrument.price_decimals)
    if lot == 0:
        lot = Decimal(1).scaleb(-instrument.size_decimals)
    fee_text = instrument.taker_fee
    fee = _decimal(instrument, "taker_fee", fee_text)
    if fee >= 1:
        raise InstrumentError(
            f"instrument {instrument.venue}:{instrument.symbol} taker_fee={fee_text!r} is "
            "100% or more; fees are fractions (0.001 = 10 bps)"
        )
    return LegSpec(
        venue=instrument.venue,
        symbol=instrument.symbol,
        base=instrument.base,
        quote=instrument.quote,
        fee=float(fee),
        tick=tick.normalize(),
        lot=lot.normalize(),
        tick_float=float(tick),
        min_size=float(_decimal(instrument, "min_size", instrument.min_size)),
        min_notional=float(_decimal(instrument, "min_notional", instrument.min_notional)),
    )


def common_step(first: Decimal, second: Decimal) -> Decimal:
    """The least common multiple of two positive decimal steps."""
    exponent = min(
        int(first.normalize().as_tuple().exponent), int(second.normalize().as_tuple().exponent), 0
    )
    scaled_first = int(first.scaleb(-exponent))
    scaled_second = int(second.scaleb(-exponent))
    return Decimal(math.lcm(scaled_first, scaled_second)).scaleb(exponent).normalize()


def _places(value: Decimal) -> int:
    exponent = int(value.normalize().as_tuple().exponent)
    return -exponent if exponent < 0 else 0


def pair_spec(buy: LegSpec, sell: LegSpec) -> PairSpec:
    step = common_step(buy.lot, sell.lot)
    return PairSpec(
        buy=buy,
        sell=sell,
        step=step,
        step_float=float(step),
        step_exponent=_places(step),
        min_size=max(buy.min_size, sell.min_size),
    )


def format_size(lots: int, step: Decimal, places: int) -> str:
    """``lots`` whole steps as exact decimal text (never through a float)."""
    return f"{(step * lots):.{places}f}"


def format_price(price: float, leg: LegSpec, round_up: bool) -> str:
    """A book price as exact text on the leg's tick: up for a buy limit, down for a sell.

    Book prices are on the tick already; the rounding direction only matters if the tick
    changed, and then it keeps the limit at least as far as the level it must reach.
    """
    ticks_exact = price / leg.tick_float
    if round_up:  # noqa: SIM108 - the two directions read better apart
        ticks = math.ceil(ticks_exact - _TICK_EPS)
    else:
        ticks = math.floor(ticks_exact + _TICK_EPS)
    return f"{(leg.tick * ticks):.{_places(leg.tick)}f}"


_TICK_EPS = 1e-6  # in ticks: float noise only, prices on the grid stay on their tick
