"""OKX v5 ``books`` checksum: the top 25 levels per side interleaved bid/ask as ``px:sz``,
CRC-32 signed (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel).
OKX sends 0 in production since 2026-06-23 (continuity comes from seqId instead); recorded
sessions still carry real values (fixtures/CHECKSUMS.md section 1)."""

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
    return interleaved_crc32(bids, asks, LEVELS)


CHECKSUM = ChecksumSpec(
    checksum,
    LEVELS,
    zero_means_absent=True,
    on_every_update=False,
    field=interleaved_field,
    from_fields=interleaved_crc32_of_fields,
    native_field=NATIVE_FIELD,
    native_join=NATIVE_JOIN,
    native_signed=True,
)
