"""Which shard owns a symbol: a configured universe dealt out by rank, else CRC-32."""

from __future__ import annotations

import zlib

import pytest
from arb_runtime.shards import shard_of

pytestmark = pytest.mark.unit


def test_a_configured_universe_is_dealt_out_evenly_and_other_symbols_hash() -> None:
    demo = ["SOL-USDT", "BTC-USDT", "ETH-USDT"]  # CRC-32 puts all three on shard 1 of 2
    assert {zlib.crc32(s.encode()) % 2 for s in demo} == {1}
    assert [shard_of(s, 2, demo) for s in sorted(demo)] == [0, 1, 0]
    for count in (2, 3, 4):
        loads = [sum(shard_of(s, count, demo) == i for s in demo) for i in range(count)]
        assert max(loads) - min(loads) <= 1, (count, loads)
    assert shard_of("XRP-USDT", 7, demo) == zlib.crc32(b"XRP-USDT") % 7
    assert shard_of("BTC-USDT", 2, reversed(demo)) == shard_of("BTC-USDT", 2, demo)
