"""Bitfinex v2 private REST: IOC exchange orders with integer client ids, balances, history.

Docs (every call a signed POST, signing.py):
- https://docs.bitfinex.com/reference/rest-auth-submit-order: ``/v2/auth/w/order/submit``
  {type "EXCHANGE IOC", symbol, price, amount (> 0 buys, < 0 sells), cid}; the answer is a
  notification ``[MTS, "on-req", MESSAGE_ID, null, [ORDER], CODE, STATUS, TEXT]`` (STATUS
  SUCCESS / ERROR). An order array: [0] ID, [2] CID, [3] SYMBOL, [4] MTS_CREATE, [6] AMOUNT
  (what is left, signed), [7] AMOUNT_ORIG, [8] ORDER_TYPE, [13] ORDER_STATUS ("ACTIVE",
  "EXECUTED @ PRICE(AMOUNT)", "PARTIALLY FILLED @ ...", "CANCELED", "IOC CANCELED was:
  PARTIALLY FILLED @ ..."), [16] PRICE, [17] PRICE_AVG.
- ``cid`` is an integer (int45) that "should be unique in the day (UTC)"; with its date it
  names the order. The engine's string ids are mapped to it and back (``to_cid`` /
  ``from_cid``, below), so an order found at the venue is recognisably ours.
- https://docs.bitfinex.com/reference/rest-auth-retrieve-orders: ``/v2/auth/r/orders`` and
  ``/v2/auth/r/orders/{symbol}`` (active orders only);
  https://docs.bitfinex.com/reference/rest-auth-orders-history: ``/v2/auth/r/orders/hist``
  and ``.../{symbol}/hist`` {start, end, limit <= 2500} (closed and cancelled orders of about
  the last two weeks, newest first);
  https://docs.bitfinex.com/reference/rest-auth-order-trades:
  ``/v2/auth/r/order/{symbol}:{id}/trades`` and https://docs.bitfinex.com/reference/rest-auth-trades:
  ``/v2/auth/r/trades/hist`` {start, limit}: trade arrays [0] ID, [1] SYMBOL, [2] MTS,
  [3] ORDER_ID, [4] EXEC_AMOUNT, [5] EXEC_PRICE, [9] FEE (negative when charged),
  [10] FEE_CURRENCY. An order array has no fee: fees come from its trades.
- https://docs.bitfinex.com/reference/rest-auth-cancel-order: ``/v2/auth/w/order/cancel`` {id}.
- https://docs.bitfinex.com/reference/rest-auth-wallets: ``/v2/auth/r/wallets``: [WALLET_TYPE,
  CURRENCY, BALANCE, UNSETTLED_INTEREST, AVAILABLE_BALANCE, ...]; spot is the "exchange" wallet.
Rate limits are per endpoint (10-90 requests a minute, market.py): one bucket each.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import msgspec
from arb_structs import (
    Balance,
    BalanceSnapshot,
    ClientOrderId,
    OrderIntent,
    OrderReport,
    OrderStatus,
    Side,
    VenueOrderId,
    VenueSymbol,
)

from arb_venues.base import SignRequest, TradingClient
from arb_venues.bitfinex import symbols as bitfinex_symbols
from arb_venues.bitfinex.errors import GENERIC, error_for
from arb_venues.bitfinex.numbers import js_text
from arb_venues.bitfinex.signing import sign
from arb_venues.common.clientids import text_client_order_id
from arb_venues.common.ratelimit import BucketLimit
from arb_venues.errors import BadRequest, MalformedFrame, OrderRejected, UnknownOrder

VENUE = "bitfinex"
ORDER_TYPES = {"IOC": "EXCHANGE IOC", "FOK": "EXCHANGE FOK", "GTC": "EXCHANGE LIMIT"}
HISTORY_LIMIT = 2500
HISTORY_MAX_PAGES = 10
LOOKUP_WINDOW_MS = 2 * 86_400_000  # get_order looks two days back (cid_date: today or before)
_PER_ENDPOINT = BucketLimit(10, 1.5)  # 90 a minute, the top of Bitfinex's 10-90

_DECODER = msgspec.json.Decoder(float_hook=Decimal)

# -- client ids: the engine's strings <-> Bitfinex's int45 cid --------------------------------
#
# A cid is below 2**45. Its top two bits say what it holds:
#   11  the engine's id "arb" + 7 hex (saga group, 28 bits) + 4 hex (leg, 15 bits)
#   10  a short text id (up to 8 of [0-9a-z], base 37), e.g. one set by hand
#   0x  a plain number (what other clients send, e.g. a millisecond time): its decimal text
# A plain number of another client stays below 2**44 (a millisecond time does until the year
# 2527), so it never reads as the engine's.
CID_LIMIT = 1 << 45
ENGINE_MARK = 0b11 << 43
TEXT_MARK = 0b10 << 43
PLAIN_LIMIT = 1 << 44
LEG_BITS = 15
_ENGINE = re.compile(r"^arb([0-9a-f]{7})([0-7][0-9a-f]{3})$")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_TEXT_MAX = 8


def to_cid(client_order_id: str) -> int:
    """The cid that carries ``client_order_id``; BadRequest when none can (``from_cid`` gives
    the same string back)."""
    engine = _ENGINE.fullmatch(client_order_id)
    if engine:
        return ENGINE_MARK | int(engine.group(1), 16) << LEG_BITS | int(engine.group(2), 16)
    if client_order_id.isascii() and client_order_id.isdigit():
        number = int(client_order_id)
        if 0 < number < PLAIN_LIMIT and str(number) == client_order_id:
            return number
    if 0 < len(client_order_id) <= _TEXT_MAX and all(c in _ALPHABET for c in client_order_id):
        value = 0
        for char in client_order_id:
            value = value * 37 + _ALPHABET.index(char) + 1
        return TEXT_MARK | value
    raise BadRequest(
        VENUE,
        f"client order id {client_order_id!r} cannot be a Bitfinex cid (an integer below "
        f"2**45): use the engine's ids, a number below 2**44 or up to {_TEXT_MAX} of [0-9a-z]",
    )


def from_cid(cid: object) -> str:
    """The string id a cid carries ("" for none)."""
    if not isinstance(cid, int) or isinstance(cid, bool) or not 0 < cid < CID_LIMIT:
        return ""
    if cid >= ENGINE_MARK:
        value = cid - ENGINE_MARK
        return f"arb{value >> LEG_BITS:07x}{value & ((1 << LEG_BITS) - 1):04x}"
    if cid >= TEXT_MARK:
        value, chars = cid - TEXT_MARK, []
        while value:
            value, digit = divmod(value, 37)
            if digit == 0:
                return str(cid)  # not a text this module wrote: its number, then
            chars.append(_ALPHABET[digit - 1])
        return "".join(reversed(chars))
    return str(cid)


# -- reading the venue's arrays ---------------------------------------------------------------


def _at(row: Sequence[Any], index: int) -> Any:
    return row[index] if len(row) > index else None


def _dec(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return Decimal(0)


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def status_of(text: str) -> OrderStatus:
    """ORDER_STATUS text -> our status: "EXECUTED @ 60001.0(0.002)" is filled, "IOC CANCELED
    was: PARTIALLY FILLED @ ..." cancelled (its fills are in the amounts)."""
    head = text.split(" was:")[0].split(" @ ")[0].strip().upper()
    if head.startswith("ACTIVE"):
        return OrderStatus.NEW
    if head.startswith("EXECUTED"):
        return OrderStatus.FILLED
    if head.startswith("PARTIALLY FILLED"):
        return OrderStatus.PARTIALLY_FILLED
    if "CANCELED" in head:
        return OrderStatus.CANCELED
    if head.startswith("INSUFFICIENT") or head.startswith("RSN_"):
        return OrderStatus.REJECTED
    return OrderStatus.UNKNOWN


class _Trades:
    """Fills of orders, by order id: quote amount, fee cost and fee currency."""

    def __init__(self, rows: object) -> None:
        self.quote: dict[int, Decimal] = {}
        self.fee: dict[int, Decimal] = {}
        self.fee_asset: dict[int, str] = {}
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, list) or not isinstance(_at(row, 3), int):
                continue
            order_id = row[3]
            amount, price = abs(_dec(_at(row, 4))), _dec(_at(row, 5))
            self.quote[order_id] = self.quote.get(order_id, Decimal(0)) + amount * price
            self.fee[order_id] = self.fee.get(order_id, Decimal(0)) - _dec(_at(row, 9))
            if isinstance(_at(row, 10), str):
                self.fee_asset[order_id] = bitfinex_symbols.asset(row[10])


class BitfinexTrading(TradingClient):
    venue: ClassVar[str] = VENUE
    client_order_id_max_len: ClassVar[int] = 14  # the engine's "arb" + 7 + 4 hex
    # The nonce only has to grow (no expiry): a request still in flight can land until the
    # key's next request with a higher nonce reaches Bitfinex. The most conservative bound.
    request_window_s: ClassVar[float] = 120.0
    nonce_ordered: ClassVar[bool] = True  # the nonce must grow with every request of the key
    # A reconciliation reads three endpoints (orders, orders hist, trades hist) once each.
    reconcile_min_interval_s: ClassVar[float] = 10.0
    rest_limits: ClassVar[Mapping[str, BucketLimit]] = {
        name: _PER_ENDPOINT
        for name in ("submit", "cancel", "orders", "orders_hist", "trades", "wallets")
    }

    @classmethod
    def client_order_id(cls, opportunity_id: str, leg: str) -> ClientOrderId:
        """``arb`` + saga group + 15 bits of the leg hash (14 characters), which fits a cid."""
        text = text_client_order_id(opportunity_id, leg, 20)  # arb + 7 group + 10 leg hex
        leg_bits = int(text[10:14], 16) & ((1 << LEG_BITS) - 1)
        return ClientOrderId(f"{text[:10]}{leg_bits:04x}")

    # -- plumbing ---------------------------------------------------------------------------

    def _venue_symbol(self, symbol: str) -> VenueSymbol:
        instrument = self.instruments.get(symbol)
        if instrument is not None:
            return instrument.venue_symbol
        base, _, quote = symbol.partition("-")
        return VenueSymbol(bitfinex_symbols.spell(base, quote))

    def _symbol(self, venue_symbol: str) -> str | None:
        for symbol, instrument in self.instruments.items():
            if instrument.venue_symbol == venue_symbol:
                return symbol
        return bitfinex_symbols.normalise(venue_symbol)

    async def _call(self, path: str, payload: Mapping[str, object], bucket: str,
                    *, retry: bool = True) -> Any:  # fmt: skip
        body = msgspec.json.encode(payload).decode()

        def signer() -> tuple[str, bytes | str | None, Mapping[str, str]]:
            signed = sign(self.credentials, SignRequest(method="POST", path=path, body=body))
            return "", body, signed.headers

        async with self.in_nonce_order():
            response = await self.rest.request("POST", path, bucket=bucket, retry=retry,
                                               sign=signer)  # fmt: skip
        try:
            return _DECODER.decode(response.body)
        except msgspec.DecodeError as exc:
            raise MalformedFrame(VENUE, "rest", f"POST {path}: {exc}") from None

    async def _orders(
        self, path: str, payload: Mapping[str, object], bucket: str
    ) -> list[list[Any]]:
        rows = await self._call(path, payload, bucket)
        if not isinstance(rows, list):
            raise MalformedFrame(VENUE, "rest", f"POST {path}: not a list of orders")
        return [r for r in rows if isinstance(r, list) and isinstance(_at(r, 0), int)]

    def _report(self, row: list[Any], trades: _Trades) -> OrderReport:
        order_id = row[0]
        venue_symbol = str(_at(row, 3) or "")
        symbol = self._symbol(venue_symbol) or venue_symbol
        remaining, original = _dec(_at(row, 6)), _dec(_at(row, 7))
        filled = abs(original) - abs(remaining)
        fee = trades.fee.get(order_id, Decimal(0))
        quote = trades.quote.get(order_id)
        created = _at(row, 4)
        return OrderReport(
            venue=VENUE,
            symbol=symbol,
            side=Side.SELL if original < 0 else Side.BUY,
            client_order_id=ClientOrderId(from_cid(_at(row, 2))),
            status=status_of(str(_at(row, 13) or "")),
            price=_text(_dec(_at(row, 16))),
            size=_text(abs(original)),
            filled_size=_text(filled),
            avg_price=_text(_dec(_at(row, 17))),
            fee=_text(fee),
            fee_asset=trades.fee_asset.get(order_id, ""),
            venue_order_id=VenueOrderId(str(order_id)),
            quote_filled=_text(quote) if quote is not None and filled else "",
            ts_created=created * 1_000_000 if isinstance(created, int) else 0,
        )

    async def _order_trades(self, venue_symbol: str, order_id: int) -> _Trades:
        path = f"/v2/auth/r/order/{venue_symbol}:{order_id}/trades"
        return _Trades(await self._call(path, {}, "trades"))

    async def _find(self, venue_symbol: str, cid: int) -> list[Any] | None:
        """The newest order of ``venue_symbol`` with this cid: active first, then history."""
        active = await self._orders(f"/v2/auth/r/orders/{venue_symbol}", {}, "orders")
        for row in active:
            if _at(row, 2) == cid:
                return row
        start = time.time_ns() // 1_000_000 - LOOKUP_WINDOW_MS
        history = await self._orders(
            f"/v2/auth/r/orders/{venue_symbol}/hist",
            {"start": start, "limit": HISTORY_LIMIT},
            "orders_hist",
        )
        matches = [row for row in history if _at(row, 2) == cid]
        return max(matches, key=lambda r: _at(r, 4) or 0) if matches else None

    async def _read_back(self, venue_symbol: str, order_id: int) -> list[Any] | None:
        for path, bucket in ((f"/v2/auth/r/orders/{venue_symbol}/hist", "orders_hist"),
                             (f"/v2/auth/r/orders/{venue_symbol}", "orders")):  # fmt: skip
            for row in await self._orders(path, {"id": [order_id]}, bucket):
                if row[0] == order_id:
                    return row
        return None

    # -- TradingClient ------------------------------------------------------------------------

    async def place_order(self, intent: OrderIntent) -> OrderReport:
        order_type = ORDER_TYPES.get(intent.time_in_force.upper())
        if intent.order_type != "limit" or order_type is None:
            raise OrderRejected(
                VENUE,
                f"{intent.client_order_id}: {intent.order_type} {intent.time_in_force} is not "
                "supported; use limit IOC",
            )
        venue_symbol = self._venue_symbol(intent.symbol)
        size = Decimal(intent.size)
        amount = js_text(-size if intent.side is Side.SELL else size)
        payload = {"type": order_type, "symbol": venue_symbol, "price": intent.price,
                   "amount": amount, "cid": to_cid(intent.client_order_id)}  # fmt: skip
        ts_sent = time.time_ns()
        answer = await self._call("/v2/auth/w/order/submit", payload, "submit", retry=False)
        ts_ack = time.time_ns()
        if not isinstance(answer, list) or len(answer) < 8:
            raise MalformedFrame(VENUE, "rest", f"order submit: not a notification: {answer!r}")
        if str(answer[6]).upper() != "SUCCESS":
            code = answer[5] if isinstance(answer[5], int) else GENERIC
            raise error_for(code, str(answer[7] or answer[6]))
        orders = answer[4] if isinstance(answer[4], list) else []
        row = orders[0] if orders and isinstance(orders[0], list) else orders
        if not row or not isinstance(_at(row, 0), int):
            raise MalformedFrame(VENUE, "rest", f"order submit: no order in {answer!r}"[:200])
        order_id = row[0]
        try:
            latest = await self._read_back(venue_symbol, order_id) or row
            report = self._report(latest, await self._order_trades(venue_symbol, order_id))
        except (MalformedFrame, UnknownOrder) as exc:
            return OrderReport(
                venue=VENUE, symbol=intent.symbol, side=intent.side,
                client_order_id=intent.client_order_id, status=OrderStatus.UNKNOWN,
                price=intent.price, size=intent.size, venue_order_id=VenueOrderId(str(order_id)),
                reason=f"accepted; state not read back: {exc}", ts_sent=ts_sent, ts_ack=ts_ack,
            )  # fmt: skip
        return msgspec.structs.replace(report, ts_sent=ts_sent, ts_ack=ts_ack)

    async def get_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        venue_symbol = self._venue_symbol(symbol)
        row = await self._find(venue_symbol, to_cid(client_order_id))
        if row is None:
            raise UnknownOrder(VENUE, f"{symbol}: no order with client id {client_order_id} "
                               "in the active orders or the last two days' history")  # fmt: skip
        return self._report(row, await self._order_trades(venue_symbol, row[0]))

    async def cancel_order(self, symbol: str, client_order_id: ClientOrderId) -> OrderReport:
        report = await self.get_order(symbol, client_order_id)
        if report.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            try:
                await self._call("/v2/auth/w/order/cancel", {"id": int(report.venue_order_id)},
                                 "cancel")  # fmt: skip
            except UnknownOrder:
                pass  # closed meanwhile: the read-back says how
            return await self.get_order(symbol, client_order_id)
        return report

    async def balances(self) -> BalanceSnapshot:
        rows = await self._call("/v2/auth/r/wallets", {}, "wallets")
        balances: dict[str, Balance] = {}
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, list) or _at(row, 0) != "exchange":
                continue
            asset = bitfinex_symbols.asset(str(_at(row, 1)))
            total = _dec(_at(row, 2))
            available = _at(row, 4)
            free = _dec(available) if available is not None else total
            balances[asset] = Balance(asset=asset, free=_text(free), locked=_text(total - free))
        return BalanceSnapshot(venue=VENUE, balances=balances, ts=time.time_ns())

    async def recent_orders(self, symbols: Sequence[str], since_ns: int) -> list[OrderReport]:
        """Every order on ``symbols`` since ``since_ns``: the history (all pairs, newest first,
        paged by ``end``), the active orders, and the trades since then for their fees."""
        wanted = {self._venue_symbol(s) for s in symbols}
        since_ms = since_ns // 1_000_000
        rows: dict[int, list[Any]] = {}
        end: int | None = None
        for _ in range(HISTORY_MAX_PAGES):
            query: dict[str, object] = {"start": since_ms, "limit": HISTORY_LIMIT}
            if end is not None:
                query["end"] = end
            page = await self._orders("/v2/auth/r/orders/hist", query, "orders_hist")
            rows.update((row[0], row) for row in page)
            if len(page) < HISTORY_LIMIT:
                break
            end = min(_at(row, 4) or 0 for row in page) - 1
        for row in await self._orders("/v2/auth/r/orders", {}, "orders"):
            if isinstance(_at(row, 4), int) and row[4] >= since_ms:
                rows[row[0]] = row
        trades = _Trades(await self._call(
            "/v2/auth/r/trades/hist", {"start": since_ms, "limit": HISTORY_LIMIT}, "trades"
        ))  # fmt: skip
        return [
            self._report(row, trades)
            for row in rows.values()
            if _at(row, 3) in wanted and (_at(row, 4) or 0) >= since_ms
        ]
