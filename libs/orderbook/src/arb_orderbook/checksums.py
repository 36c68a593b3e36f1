"""Venue order-book checksums: pure functions over the venue's exact level text.

Each function takes the top levels of one book as the venue's own text, best first
(``bids`` price descending, ``asks`` price ascending), and returns the checksum in the
venue's own convention (signed or unsigned 32-bit). ``CHECKSUMS`` maps a venue name to its
spec; adding a venue means adding one function and one entry. The algorithms, their doc
links and worked examples are in ``fixtures/CHECKSUMS.md``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arb_structs.market import LevelText

ChecksumFunction = Callable[[Sequence[LevelText], Sequence[LevelText]], int]


def _signed32(value: int) -> int:
    return value - 0x1_0000_0000 if value >= 0x8000_0000 else value


def _interleaved(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> str:
    """bid0.px:bid0.sz:ask0.px:ask0.sz:bid1... with the shorter side simply running out."""
    parts: list[str] = []
    extend = parts.extend
    for i in range(max(len(bids), len(asks))):
        if i < len(bids):
            extend(bids[i])
        if i < len(asks):
            extend(asks[i])
    return ":".join(parts)


def okx_checksum(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> int:
    """OKX v5 ``books``: top 25 per side interleaved bid/ask as px:sz, CRC32 signed.

    https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
    """
    text = _interleaved(bids[:25], asks[:25])
    return _signed32(zlib.crc32(text.encode()))


def _kraken_field(text: str) -> str:
    return text.replace(".", "").lstrip("0")


def kraken_checksum(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> int:
    """Kraken spot WS v1 and v2 ``book``: top 10 asks ascending then top 10 bids descending,
    each price and quantity with '.' removed and leading zeros stripped; CRC32 unsigned.

    https://docs.kraken.com/api/docs/guides/spot-ws-book-v2 (v1: .../spot-ws-book-v1)
    """
    parts: list[str] = []
    append = parts.append
    for price, size in asks[:10]:
        append(_kraken_field(price))
        append(_kraken_field(size))
    for price, size in bids[:10]:
        append(_kraken_field(price))
        append(_kraken_field(size))
    return zlib.crc32("".join(parts).encode())


def bitfinex_checksum(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> int:
    """Bitfinex WS v2 ``book``: top 25 interleaved bid/ask price:amount, ask amounts negative
    exactly as sent; CRC32 signed. https://docs.bitfinex.com/docs/ws-websocket-checksum
    """
    text = _interleaved(bids[:25], asks[:25])
    return _signed32(zlib.crc32(text.encode()))


@dataclass(frozen=True, slots=True)
class ChecksumSpec:
    """How one venue's checksum is computed and read."""

    function: ChecksumFunction
    levels: int  # levels per side the function reads
    zero_means_absent: bool = False  # the venue sends 0 when it no longer computes one


CHECKSUMS: dict[str, ChecksumSpec] = {
    # OKX sends checksum 0 in production since 2026-06-23 (continuity from seqId instead).
    "okx": ChecksumSpec(okx_checksum, 25, zero_means_absent=True),
    "kraken": ChecksumSpec(kraken_checksum, 10),
    "bitfinex": ChecksumSpec(bitfinex_checksum, 25),
}


def same_checksum(expected: int, computed: int) -> bool:
    """Equal as 32-bit values, whichever sign convention each side used."""
    return (expected & 0xFFFF_FFFF) == (computed & 0xFFFF_FFFF)
