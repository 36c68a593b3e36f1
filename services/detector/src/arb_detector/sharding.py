"""Which symbols this detector instance owns.

Instances split the symbols between them, either by shard (``index/count``: the symbols of
``ARB_DETECTOR_UNIVERSE`` dealt out by rank, any other symbol by its CRC-32 modulo
``count``, the same answer on every host and Python version) or by an explicit list. Every
instance reads every book stream and drops the views of symbols it does not own before any
work.

``auto/count`` leaves the index to a shard lease in Redis (arb_runtime.shards): replicas
started with identical settings (``docker compose up --scale detector=3``) claim distinct
indices, and extra replicas stand by.
"""

from __future__ import annotations

from arb_runtime.shards import shard_of

from arb_detector.errors import DetectorConfigError


def parse_auto(text: str) -> int | None:
    """``"auto/count"`` -> count; None for anything else (an explicit ``index/count``)."""
    head, slash, count_text = text.partition("/")
    if head.strip().lower() != "auto":
        return None
    try:
        count = int(count_text) if slash else 0
    except ValueError:
        count = 0
    if count < 1:
        raise DetectorConfigError(
            f"ARB_DETECTOR_SHARD={text!r}: expected auto/count with count >= 1, e.g. auto/3 "
            "for three replicas that claim their shard index from Redis"
        )
    return count


def parse_shard(text: str) -> tuple[int, int]:
    """``"index/count"`` -> (index, count), with 0 <= index < count."""
    index_text, slash, count_text = text.partition("/")
    try:
        index, count = int(index_text), int(count_text)
    except ValueError:
        index, count = -1, 0
    if not slash or count < 1 or not 0 <= index < count:
        raise DetectorConfigError(
            f"ARB_DETECTOR_SHARD={text!r}: expected index/count with 0 <= index < count, "
            "e.g. 0/1 for a single instance or 1/3 for the second of three (or auto/3 to let "
            "three replicas claim their index from Redis)"
        )
    return index, count


class Shard:
    """Symbol ownership with a per-symbol cache (the check sits on the per-view path)."""

    __slots__ = ("_cache", "count", "index", "symbols", "universe")

    def __init__(
        self,
        index: int = 0,
        count: int = 1,
        symbols: frozenset[str] = frozenset(),
        universe: tuple[str, ...] = (),
    ):
        self.index = index
        self.count = count
        self.symbols = symbols
        self.universe = universe  # symbols dealt out by rank (see arb_runtime.shards)
        self._cache: dict[str, bool] = {}

    def owns(self, symbol: str) -> bool:
        owned = self._cache.get(symbol)
        if owned is None:
            if self.symbols:
                owned = symbol in self.symbols
            else:
                owned = shard_of(symbol, self.count, self.universe) == self.index
            self._cache[symbol] = owned
        return owned
