"""Bitfinex WS v2 ``book`` checksum (flag OB_CHECKSUM, 131072): the top 25 bids and asks
interleaved ``bid.price:bid.amount:ask.price:ask.amount...``, ask amounts negative exactly as
sent, CRC-32 as a signed int32 (https://docs.bitfinex.com/docs/ws-websocket-checksum;
fixtures/CHECKSUMS.md section 4). The levels' text is the JSON number text as received
(JavaScript's number formatting, ``7e-7``), which the parser keeps for every level.

The checksum comes in its own frame, ``[CHAN_ID, "cs", CHECKSUM]``, not on every update: the
parser turns it into an empty delta that carries it, and the updates between two checksum
frames carry none. So a delta without a checksum is normal here, unlike on Kraken, which is
what ``on_every_update=False`` tells the book engine; a checksum of 0 is checked like any
other.
"""

from __future__ import annotations

from collections.abc import Sequence

from arb_orderbook.checksums import ChecksumSpec
from arb_structs.market import LevelText

from arb_venues.common.checksum import (
    NATIVE_FIELD,
    NATIVE_JOIN,
    interleaved_crc32,
    interleaved_crc32_of_fields,
    interleaved_field,
)

LEVELS = 25


def checksum(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> int:
    """Signed CRC-32 of the best-first level text (asks' amounts carry their ``-``)."""
    return interleaved_crc32(bids, asks, LEVELS)


CHECKSUM = ChecksumSpec(
    checksum,
    LEVELS,
    on_every_update=False,
    field=interleaved_field,
    from_fields=interleaved_crc32_of_fields,
    native_field=NATIVE_FIELD,
    native_join=NATIVE_JOIN,
    native_signed=True,
)
