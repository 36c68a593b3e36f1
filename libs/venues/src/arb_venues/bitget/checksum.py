"""Bitget v2 ``books`` checksum: the top 25 bids and asks interleaved
``bid1.price:bid1.amount:ask1.price:ask1.amount:bid2...`` (the shorter side simply runs out),
CRC-32 as a signed 32-bit int, over the price and amount text exactly as pushed.

Docs: https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel ("Checksum": the
worked strings ``43231.1:4:43232.8:9:43231:6:43232.9:8`` and, with one bid against three
asks, ``3366.1:7:3366.8:9:3368:8:3372:8``). The pushed value is signed (the channel's own
example carries ``"checksum": -1367582038``). Every ``books`` push carries one, so the book
engine checks it on every update (``on_every_update``).
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
    """Signed CRC-32 of the best-first level text, interleaved bid/ask."""
    return interleaved_crc32(bids, asks, LEVELS)


CHECKSUM = ChecksumSpec(
    checksum,
    LEVELS,
    field=interleaved_field,
    from_fields=interleaved_crc32_of_fields,
    native_field=NATIVE_FIELD,
    native_join=NATIVE_JOIN,
    native_signed=True,
)
