"""Binance instruments on their real grids, for the simulator market the tests run on."""

from __future__ import annotations

from arb_structs import Instrument


def instrument(
    base: str, quote: str, tick: str = "0.01", lot: str = "0.001", min_notional: str = "5"
) -> Instrument:
    return Instrument(
        venue="binance", symbol=f"{base}-{quote}", venue_symbol=f"{base}{quote}", base=base,
        quote=quote, tick_size=tick, lot_size=lot, min_size=lot, min_notional=min_notional,
        price_decimals=len(tick.split(".")[1]), size_decimals=len(lot.split(".")[1]),
        maker_fee="0.001", taker_fee="0.001",
    )  # fmt: skip
