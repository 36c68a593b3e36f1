"""Checksum building blocks venues share: the interleaved ``price:size`` CRC-32 that OKX,
Bitget and Bitfinex compute (a venue's own ``checksum.py`` says which levels and sign it
uses), as one piece per level (``interleaved_field``) and the CRC over the pieces of the top
levels (``interleaved_crc32_of_fields``): the two steps ``ChecksumSpec.field`` and
``ChecksumSpec.from_fields`` the book engine runs."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from arb_structs.market import LevelText


def signed32(value: int) -> int:
    """An unsigned 32-bit value as the signed int a venue that uses Java-style CRCs sends."""
    return value - 0x1_0000_0000 if value >= 0x8000_0000 else value


# ``interleaved_field`` and ``interleaved_crc32_of_fields`` as the compiled book's rules
# (ChecksumSpec.native_field, native_join, with native_signed=True).
NATIVE_FIELD = "colon"
NATIVE_JOIN = "interleaved"

# One level's piece: ``px:sz`` (a builtin: storing a level runs no Python frame for it).
interleaved_field = ":".join


def interleaved_join(bids: Sequence[str], asks: Sequence[str]) -> str:
    """bid0:ask0:bid1:ask1... with ':' between pieces, the shorter side simply running out."""
    common = min(len(bids), len(asks))
    parts: list[str] = [""] * (2 * common)
    parts[::2] = bids[:common]
    parts[1::2] = asks[:common]
    parts += bids[common:]  # at most one side has levels left
    parts += asks[common:]
    return ":".join(parts)


def interleaved_text(bids: Sequence[LevelText], asks: Sequence[LevelText]) -> str:
    """bid0.px:bid0.sz:ask0.px:ask0.sz:bid1... with the shorter side simply running out."""
    return interleaved_join(list(map(interleaved_field, bids)), list(map(interleaved_field, asks)))


def interleaved_crc32_of_fields(bids: Sequence[str], asks: Sequence[str]) -> int:
    """Signed CRC-32 of the interleaved pieces (the caller gives the top levels only)."""
    return signed32(zlib.crc32(interleaved_join(bids, asks).encode()))


def interleaved_crc32(bids: Sequence[LevelText], asks: Sequence[LevelText], levels: int) -> int:
    """Signed CRC-32 of the top ``levels`` per side, interleaved bid/ask as ``px:sz``."""
    return interleaved_crc32_of_fields(
        list(map(interleaved_field, bids[:levels])), list(map(interleaved_field, asks[:levels]))
    )
