"""Test helpers for the OKX adapter: a reference book that checks OKX checksums, the
recorded session, and a small SimMarket (until the simulator core is on main)."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest
from arb_structs import BookDelta, BookSnapshot, Instrument, Side
from arb_venues.capture import CaptureRecord
from arb_venues.simapi import SimBook, SimBookUpdate, SimOrder, SimOrderError

ROOT = Path(__file__).resolve().parents[4]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def fixtures_path() -> Path | None:
    """The recorded data folder; None (skip) when missing, a failure under CI."""
    path = Path(os.environ.get("ARB_FIXTURES_DIR", ROOT.parent / "shared" / "fixtures"))
    if path.is_dir():
        return path
    if IN_CI:
        pytest.fail(f"recorded exchange data missing at {path} (CI must have it)")
    return None


def recorded_ws(fixtures: Path) -> list[str]:
    """Every received WS frame of the 2022 OKX recording, in order.

    Read line by line here: arb_venues.capture.read_capture decides "plain file" from the
    first line, and this recording starts with a ``connect`` record that has no ``raw``.
    """
    path = fixtures / "okx" / "cryptofeed_OKX.ws.1.0.jsonl"
    records = [_record.decode(line) for line in path.read_bytes().splitlines() if line.strip()]
    return [r.raw for r in records if r.type == "recv"]


_record = msgspec.json.Decoder(CaptureRecord)


def okx_checksum(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """CRC32 (signed) of the top 25 bids/asks interleaved, ``px:sz`` exact text
    (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel)."""
    parts: list[str] = []
    for i in range(max(len(bids[:25]), len(asks[:25]))):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    value = zlib.crc32(":".join(parts).encode())
    return value - 2**32 if value >= 2**31 else value


class ReferenceBook:
    """Dict book keyed by price, keeping each level's exact text (tests only)."""

    def __init__(self) -> None:
        self.seq = -1
        self.bids: dict[float, tuple[str, str]] = {}
        self.asks: dict[float, tuple[str, str]] = {}

    def snapshot(self, event: BookSnapshot) -> None:
        assert event.bids_text is not None and event.asks_text is not None
        self.bids = {float(p): (p, s) for p, s in event.bids_text}
        self.asks = {float(p): (p, s) for p, s in event.asks_text}
        self.seq = event.seq

    def apply(self, event: BookDelta) -> str:
        """'stale' | 'gap' | 'applied' per the sequence rule; levels from the exact text."""
        if event.seq <= self.seq:
            return "stale"
        if event.prev_seq > self.seq:
            return "gap"
        assert event.bids_text is not None and event.asks_text is not None
        for side, texts in ((self.bids, event.bids_text), (self.asks, event.asks_text)):
            for p, s in texts:
                if float(s) == 0:
                    side.pop(float(p), None)
                else:
                    side[float(p)] = (p, s)
        self.seq = event.seq
        return "applied"

    def checksum(self) -> int:
        bids = [self.bids[p] for p in sorted(self.bids, reverse=True)[:25]]
        asks = [self.asks[p] for p in sorted(self.asks)[:25]]
        return okx_checksum(bids, asks)


# -- a small SimMarket ------------------------------------------------------------------------

BTC_USDT = Instrument(
    venue="okx",
    symbol="BTC-USDT",
    venue_symbol="BTC-USDT",
    base="BTC",
    quote="USDT",
    tick_size="0.1",
    lot_size="0.00000001",
    min_size="0.00001",
    price_decimals=1,
    size_decimals=8,
    maker_fee="0.0008",
    taker_fee="0.001",
)


class Faults:
    def __init__(self) -> None:
        self.armed: dict[str, int] = {}

    def arm(self, kind: str, times: int = 1) -> None:
        self.armed[kind] = self.armed.get(kind, 0) + times

    def take(self, kind: str, symbol: str | None = None) -> bool:
        if self.armed.get(kind, 0) > 0:
            self.armed[kind] -= 1
            return True
        return False


@dataclass
class Account:
    secret: str
    passphrase: str
    balances: dict[str, Decimal] = field(default_factory=dict)


class TestMarket:
    """A fixed BTC-USDT book, updates on demand, and a naive IOC matcher."""

    __test__ = False  # not a pytest class
    venue = "okx"

    def __init__(self) -> None:
        self.instruments = {"BTC-USDT": BTC_USDT}
        self.faults = Faults()
        self.seq = 100
        self.bids = {Decimal("41006.8"): Decimal("1.5"), Decimal("41006"): Decimal("0.25")}
        self.asks = {Decimal("41007.1"): Decimal("0.5"), Decimal("41010"): Decimal("2")}
        self.listeners: list[Callable[[SimBookUpdate], None]] = []
        self.accounts = {
            "key-1": Account("secret-1", "pass-1", {"USDT": Decimal(100000), "BTC": Decimal(1)})
        }
        self.orders: dict[str, SimOrder] = {}

    def book(self, symbol: str) -> SimBook:
        if symbol not in self.instruments:
            raise KeyError(symbol)
        bids = sorted(self.bids.items(), reverse=True)
        asks = sorted(self.asks.items())
        return SimBook(
            symbol=symbol, seq=self.seq, bids=bids, asks=asks, ts_ns=1_700_000_000_000_000_000
        )

    def subscribe(self, listener: Callable[[SimBookUpdate], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def update(self, bids: list[tuple[str, str]] = (), asks: list[tuple[str, str]] = ()) -> None:
        self.seq += 1
        changes = []
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            parsed = [(Decimal(p), Decimal(s)) for p, s in levels]
            for p, s in parsed:
                if s == 0:
                    side.pop(p, None)
                else:
                    side[p] = s
            changes.append(parsed)
        update = SimBookUpdate(
            symbol="BTC-USDT",
            seq=self.seq,
            bids=changes[0],
            asks=changes[1],
            ts_ns=1_700_000_000_000_000_000 + self.seq * 1_000_000,
        )
        for listener in list(self.listeners):
            listener(update)

    def secret_for(self, api_key: str) -> str | None:
        account = self.accounts.get(api_key)
        return account.secret if account else None

    def passphrase_for(self, api_key: str) -> str | None:
        account = self.accounts.get(api_key)
        return account.passphrase if account else None

    def place_order(
        self,
        api_key: str,
        symbol: str,
        side: Side,
        price: Decimal,
        size: Decimal,
        time_in_force: str,
        client_order_id: str,
    ) -> SimOrder:
        if symbol not in self.instruments:
            raise SimOrderError("unknown_symbol", symbol)
        if client_order_id in self.orders:
            raise SimOrderError("duplicate_client_order_id", client_order_id)
        balances = self.accounts[api_key].balances
        if side is Side.BUY and balances.get("USDT", Decimal(0)) < price * size:
            raise SimOrderError("insufficient_balance", "USDT")
        if side is Side.SELL and balances.get("BTC", Decimal(0)) < size:
            raise SimOrderError("insufficient_balance", "BTC")
        order = SimOrder(
            order_id=str(len(self.orders) + 1000),
            client_order_id=client_order_id,
            symbol=symbol,
            side=side,
            price=price,
            size=size,
            time_in_force=time_in_force,
            status="new",
            ts_created_ns=1,
            ts_updated_ns=2,
        )
        levels = (
            sorted(self.asks.items())
            if side is Side.BUY
            else sorted(self.bids.items(), reverse=True)
        )
        left = size
        for px, available in levels:
            if left == 0 or (px > price if side is Side.BUY else px < price):
                break
            take = min(left, available)
            order.fills.append((px, take))
            order.filled += take
            order.quote_filled += px * take
            left -= take
        if side is Side.BUY:
            order.fee, order.fee_asset = order.filled * Decimal("0.001"), "BTC"
            balances["USDT"] -= order.quote_filled
            balances["BTC"] = balances.get("BTC", Decimal(0)) + order.filled - order.fee
        else:
            order.fee, order.fee_asset = order.quote_filled * Decimal("0.001"), "USDT"
            balances["BTC"] -= order.filled
            balances["USDT"] += order.quote_filled - order.fee
        order.status = "filled" if left == 0 else "canceled"
        self.orders[client_order_id] = order
        return order

    def get_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None:
        return self.orders.get(client_order_id or "")

    def cancel_order(
        self,
        api_key: str,
        symbol: str,
        client_order_id: str | None = None,
        order_id: str | None = None,
    ) -> SimOrder | None:
        order = self.orders.get(client_order_id or "")
        if order is not None and order.status in ("new", "partially_filled"):
            order.status = "canceled"
        return order

    def balances(self, api_key: str) -> dict[str, tuple[Decimal, Decimal]]:
        return {k: (v, Decimal(0)) for k, v in self.accounts[api_key].balances.items()}


def decode_json(raw: str | bytes) -> object:
    return msgspec.json.decode(raw)
