"""The taker fee an account pays on each venue, with one owner.

The venue's default is ``VenueSpec.taker_fee`` (its entry tier, with the page it comes from);
the operator overrides it per venue with one setting, ``ARB_TAKER_FEES`` (JSON
``{"<venue>": "<fraction>"}``), which ingest and the simulator both read. Ingest publishes
the result on every ``Instrument`` of ``arb:ref:instruments``; the detector prices that fee,
the paper executor charges it and the simulator's accounts are charged it (the simulator
lists its instruments through the same function), so in a simulated run the fee priced is
the fee paid. Nothing else defines a taker fee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

import msgspec
from arb_core.variables import TAKER_FEES
from arb_structs import Instrument

from arb_venues import get_venue

SETTING = TAKER_FEES  # its one home: arb_core.variables


def check_fee(where: str, text: str) -> str:
    """``text`` if it is a fee fraction in [0, 1) (0.001 = 10 bps); ValueError otherwise."""
    try:
        fee = Decimal(text)
    except (InvalidOperation, TypeError):
        fee = Decimal("NaN")
    if not fee.is_finite() or not 0 <= fee < 1:
        raise ValueError(f"taker fee {where}={text!r} is not a fraction in [0, 1) (0.001 = 10 bps)")
    return text


def taker_fee(venue: str, overrides: Mapping[str, str] | None = None) -> str:
    """What an account pays as taker on ``venue``: the operator's override, else the
    venue's default."""
    override = (overrides or {}).get(venue)
    return override if override is not None else get_venue(venue).taker_fee


def with_account_fees(
    instruments: Iterable[Instrument], overrides: Mapping[str, str] | None = None
) -> list[Instrument]:
    """The instruments carrying the fees the account pays (taker: ``taker_fee``; maker: the
    venue's default), whatever the venue's reference data said."""
    out = []
    for instrument in instruments:
        spec = get_venue(instrument.venue)
        fee = taker_fee(instrument.venue, overrides)
        if instrument.taker_fee != fee or instrument.maker_fee != spec.maker_fee:
            instrument = msgspec.structs.replace(
                instrument, taker_fee=fee, maker_fee=spec.maker_fee
            )
        out.append(instrument)
    return out
