"""Checksum building blocks venues share: the interleaved ``price:size`` CRC-32 that OKX and
Bitfinex both compute (a venue's own ``checksum.py`` says which levels and sign it uses)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from arb_structs.market import LevelText


def signed32(value: int) -> int:
    """An unsigned 32-bit value as the signed int a venue that uses Java-style CRCs sends."""
    return value - 0x1_0000_0000 if value >= 0x8000_0000 else value


def interleaved_text(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> str:
    """bid0.px:bid0.sz:ask0.px:ask0.sz:bid1... with the shorter side simply running out."""
    parts: list[str] = []
    extend = parts.extend
    for i in range(max(len(bids), len(asks))):
        if i < len(bids):
            extend(bids[i])
        if i < len(asks):
            extend(asks[i])
    return ":".join(parts)


def interleaved_crc32(bids: Sequence[LevelText], asks: Sequence[LevelText], levels: int) -> int:
    """Signed CRC-32 of the top ``levels`` per side, interleaved bid/ask as ``px:sz``."""
    text = interleaved_text(bids[:levels], asks[:levels])
    return signed32(zlib.crc32(text.encode()))
