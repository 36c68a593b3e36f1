"""Reference data: fetch a venue's instruments, pick ours, publish them for every service."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from arb_runtime.shards import shard_of
from arb_runtime.streams import StreamProducer
from arb_structs import Instrument
from arb_structs.codec import INSTRUMENT
from arb_structs.constants import INSTRUMENTS_STREAM, instruments_key
from arb_venues.fees import with_account_fees

from arb_ingest.errors import NoInstruments

log = logging.getLogger("arb.ingest.instruments")


def select(
    available: list[Instrument],
    wanted: list[str],
    *,
    shard_index: int = 0,
    shard_count: int = 1,
    taker_fees: Mapping[str, str] | None = None,
) -> list[Instrument]:
    """The wanted symbols of this shard, carrying the fees the account pays (the venue's
    default, or ``taker_fees``: ARB_TAKER_FEES). Unknown symbols are named."""
    by_symbol = {i.symbol: i for i in available}
    venue = available[0].venue if available else "?"
    missing = [s for s in wanted if s not in by_symbol]
    if missing:
        log.error("%s: no such symbols on the venue: %s (skipped); e.g. %s", venue,
                  ", ".join(missing), ", ".join(sorted(by_symbol)[:8]))  # fmt: skip
    chosen = [
        by_symbol[s] for s in wanted
        if s in by_symbol and shard_of(s, shard_count, wanted) == shard_index
    ]  # fmt: skip
    if not chosen and not [s for s in wanted if s in by_symbol]:
        raise NoInstruments(
            f"{venue}: none of ARB_INGEST_SYMBOLS={','.join(wanted)} is listed by the venue; "
            f"it lists e.g. {', '.join(sorted(by_symbol)[:8])}"
        )
    return with_account_fees(chosen, taker_fees)


def publish(producer: StreamProducer, instruments: list[Instrument]) -> None:
    """Latest reference data per venue in a hash (late joiners) and a change stream."""
    for instrument in instruments:
        payload = INSTRUMENT.encode(instrument)
        producer.hset(instruments_key(instrument.venue), instrument.symbol, payload)
        producer.xadd(INSTRUMENTS_STREAM, payload, maxlen=10_000)
