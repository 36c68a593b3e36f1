"""The simulator's Bitfinex public REST v2 and the error bodies of the core's HTTP faults.

- ``GET /v2/book/{symbol}/P0?len=25|100`` (https://docs.bitfinex.com/reference/rest-public-book):
  ``[[PRICE, COUNT, AMOUNT], ...]``, bids best first then asks best first, asks negative;
- ``GET /v2/conf/{keys}`` (https://docs.bitfinex.com/reference/rest-public-conf): one answer
  per comma-separated key: ``pub:list:pair:exchange`` ([["BTCUST", ...]]), ``pub:info:pair``
  ([[["BTCUST", [null, null, null, MIN, MAX, ...]], ...]]), the currency lists and maps; an
  unknown key answers ``[]``;
- ``GET /v2/tickers?symbols=ALL|tBTCUST,...`` (https://docs.bitfinex.com/reference/rest-public-tickers):
  [SYMBOL, BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE, DAILY_CHANGE_RELATIVE, LAST_PRICE,
  VOLUME, HIGH, LOW];
- ``GET /v2/platform/status``: ``[1]`` (operative).
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
from aiohttp import web

from arb_venues.bitfinex import errors as codes
from arb_venues.bitfinex import symbols as bitfinex_symbols
from arb_venues.bitfinex.market import DEPTHS
from arb_venues.bitfinex.sim.stream import BitfinexStream, level_text, spelled
from arb_venues.simapi import SimMarket

REST_DEFAULT_LEN = 25
MAX_ORDER_SIZE = "2000.0"
_ENCODER = msgspec.json.Encoder(decimal_format="number")


def json_body(value: object, status: int = 200, headers: dict[str, str] | None = None
              ) -> web.Response:  # fmt: skip
    return web.Response(body=_ENCODER.encode(value), status=status, headers=headers,
                        content_type="application/json")  # fmt: skip


def error_body(entry: tuple[int, int, str], **params: object) -> web.Response:
    code, status, text = entry
    return json_body(["error", code, text.format(**params) if params else text], status=status)


def error_response(kind: str, retry_after_s: float | None = None) -> web.Response:
    """Bitfinex-style bodies for the simulator core's injected HTTP faults."""
    headers = {"Retry-After": f"{retry_after_s:g}"} if retry_after_s is not None else None
    if kind in ("http_429", "http_418"):
        code, _, text = codes.RATE_LIMITED
        return json_body(["error", code, text], status=418 if kind == "http_418" else 429,
                         headers=headers)  # fmt: skip
    if kind == "http_5xx":
        code, _, text = codes.NOT_READY
        return json_body(["error", code, text], status=503, headers=headers)
    raise ValueError(f"bitfinex sim: unknown error kind {kind!r}; use http_429, http_418, "
                     "http_5xx")  # fmt: skip


class BitfinexRest:
    def __init__(self, market: SimMarket, stream: BitfinexStream) -> None:
        self.market = market
        self.stream = stream

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/v2/book/{symbol}/{precision}", self.book)
        app.router.add_get("/v2/conf/{keys}", self.conf)
        app.router.add_get("/v2/tickers", self.tickers)
        app.router.add_get("/v2/platform/status", self.status)

    async def book(self, request: web.Request) -> web.Response:
        instrument = self.stream.instrument(request.match_info["symbol"])
        if instrument is None:
            return error_body(codes.UNKNOWN_PAIR)
        if request.match_info["precision"] != "P0":
            return error_body((10020, 500, "prec: invalid"))
        length = request.query.get("len", str(REST_DEFAULT_LEN))
        if not length.isdigit() or int(length) not in DEPTHS:
            return error_body((10020, 500, "len: invalid"))
        depth = int(length)
        book = self.market.book(instrument.symbol)
        rows = [level_text(p, s) for p, s in book.bids[:depth]]
        rows += [level_text(p, -s) for p, s in book.asks[:depth]]
        return web.Response(text="[" + ",".join(rows) + "]", content_type="application/json")

    def _pairs(self) -> list[str]:
        return [spelled(i).removeprefix(bitfinex_symbols.PREFIX)
                for i in self.market.instruments.values()]  # fmt: skip

    def _answer(self, key: str) -> object:
        instruments = list(self.market.instruments.values())
        if key == "pub:list:pair:exchange":
            return self._pairs()
        if key == "pub:info:pair":
            rows = zip(self._pairs(), instruments, strict=True)
            return [[pair, [None, None, None, i.min_size, MAX_ORDER_SIZE, None, None, None, 0.2,
                            0.1]] for pair, i in rows]  # fmt: skip
        if key == "pub:list:currency":
            return sorted({bitfinex_symbols.currency_code(a) for i in instruments
                           for a in (i.base, i.quote)})  # fmt: skip
        if key == "pub:map:currency:sym":
            return [[code, common] for code, common in bitfinex_symbols.RENAMED.items()]
        return []

    async def conf(self, request: web.Request) -> web.Response:
        answers: list[object] = []
        for key in request.match_info["keys"].split(","):
            answers.append(self._answer(key))
        return json_body(answers)

    async def tickers(self, request: web.Request) -> web.Response:
        wanted = request.query.get("symbols", "ALL")
        rows = []
        for instrument in self.market.instruments.values():
            name = spelled(instrument)
            if wanted != "ALL" and name not in wanted.split(","):
                continue
            book = self.market.book(instrument.symbol)
            bid, bid_size = book.bids[0] if book.bids else (Decimal(0), Decimal(0))
            ask, ask_size = book.asks[0] if book.asks else (Decimal(0), Decimal(0))
            last = (bid + ask) / 2 if bid and ask else bid or ask
            last = last.quantize(Decimal(instrument.tick_size)) if last else last
            rows.append([name, bid, bid_size, ask, ask_size, 0, 0, last, 0, last, last])
        return json_body(rows)

    async def status(self, _request: web.Request) -> web.Response:
        return json_body([1])
