"""Bitget frames for tests, built from the docs' own examples (no recording of Bitget exists).

https://www.bitget.com/api-doc/spot/websocket/public/Depth-Channel gives the push shape and
its example levels (asks ``26274.9``/``0.0009``, ``26275.0``/``0.0500``; bids
``26274.8``/``0.0009``, ``26274.7``/``0.0027``; ``seq`` 123) and the checksum's worked
strings. The checksums of the frames here come from ``reference_crc32``, a bitwise CRC-32
written from the polynomial, not from the code under test.
"""

from __future__ import annotations

import json

from arb_structs import Instrument

BTC_USDT = Instrument(
    venue="bitget", symbol="BTC-USDT", venue_symbol="BTCUSDT", base="BTC", quote="USDT",
    tick_size="0.1", lot_size="0.0001", min_size="0.0001", min_notional="1",
    price_decimals=1, size_decimals=4,
)  # fmt: skip
ARG = {"instType": "SPOT", "channel": "books", "instId": "BTCUSDT"}
DOCS_ASKS = [["26274.9", "0.0009"], ["26275.0", "0.0500"]]
DOCS_BIDS = [["26274.8", "0.0009"], ["26274.7", "0.0027"]]
DOCS_TS = "1695710946294"


def reference_crc32(text: str) -> int:
    """CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) bit by bit, as a signed int32."""
    crc = 0xFFFFFFFF
    for byte in text.encode():
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
    crc ^= 0xFFFFFFFF
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def checksum_text(bids: list[list[str]], asks: list[list[str]]) -> str:
    """The docs' string: bid1:ask1:bid2:ask2..., the shorter side running out, top 25."""
    parts: list[str] = []
    for i in range(max(len(bids[:25]), len(asks[:25]))):
        if i < len(bids):
            parts += bids[i][:2]
        if i < len(asks):
            parts += asks[i][:2]
    return ":".join(parts)


class DocsBook:
    """A book built from the docs' example, producing Bitget frames with true checksums."""

    def __init__(self) -> None:
        self.bids = {p: s for p, s in DOCS_BIDS}
        self.asks = {p: s for p, s in DOCS_ASKS}
        self.seq = 123

    def _sides(self) -> tuple[list[list[str]], list[list[str]]]:
        bids = sorted(self.bids.items(), key=lambda kv: -float(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: float(kv[0]))
        return [list(b) for b in bids], [list(a) for a in asks]

    def checksum(self) -> int:
        bids, asks = self._sides()
        return reference_crc32(checksum_text(bids, asks))

    def snapshot(self) -> str:
        bids, asks = self._sides()
        data = {"asks": asks, "bids": bids, "checksum": self.checksum(), "seq": self.seq,
                "ts": DOCS_TS}  # fmt: skip
        return json.dumps({"action": "snapshot", "arg": ARG, "data": [data],
                           "ts": int(DOCS_TS)})  # fmt: skip

    def update(self, bids: list[list[str]], asks: list[list[str]], step: int = 7) -> str:
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for price, size in changes:
                if float(size) == 0:
                    side.pop(price, None)
                else:
                    side[price] = size
        self.seq += step  # Bitget's seq rises, by no documented step
        data = {"asks": asks, "bids": bids, "checksum": self.checksum(), "seq": self.seq,
                "ts": DOCS_TS}  # fmt: skip
        return json.dumps({"action": "update", "arg": ARG, "data": [data],
                           "ts": int(DOCS_TS)})  # fmt: skip


def docs_session() -> tuple[str, list[str]]:
    """(the snapshot, four updates) of the docs' example book."""
    book = DocsBook()
    snapshot = book.snapshot()
    updates = [
        book.update([["26274.8", "0.0100"]], []),
        book.update([], [["26274.9", "0"], ["26275.1", "1.2000"]]),
        book.update([["26274.6", "0.3000"]], [["26275.0", "0.0400"]]),
        book.update([["26274.7", "0"]], []),
    ]
    return snapshot, updates
