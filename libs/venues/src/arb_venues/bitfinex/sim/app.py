"""The simulator's Bitfinex: WS v2 at ``/ws/2`` (stream.py), public REST v2 (rest.py) and the
signed private REST v2 (private.py), on the paths of the real exchange."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web
from arb_structs import Instrument, Side

from arb_venues.bitfinex.market import BitfinexMarket
from arb_venues.bitfinex.sim.private import BitfinexPrivate
from arb_venues.bitfinex.sim.rest import BitfinexRest, error_response
from arb_venues.bitfinex.sim.stream import BitfinexStream
from arb_venues.simapi import ERROR_RESPONSE, RECONNECT_NOTICE, SimMarket, SimTrade, trades_handler

STREAM_KEY = web.AppKey("bitfinex_stream", BitfinexStream)


def restart_notice() -> str:
    """Info 20051, "Stop/Restart Websocket Server (please reconnect)"
    (https://docs.bitfinex.com/docs/ws-general, "Info Messages")."""
    return '{"event":"info","code":20051,"msg":"Stopping. Please try to reconnect"}'


def create_app(market: SimMarket) -> web.Application:
    stream = BitfinexStream(market)
    app = web.Application()
    app[STREAM_KEY] = stream
    app[ERROR_RESPONSE] = error_response
    app[RECONNECT_NOTICE] = restart_notice
    app.on_startup.append(stream.start)
    app.on_shutdown.append(stream.stop)
    app.router.add_get("/ws/2", stream.serve)
    BitfinexRest(market, stream).add_routes(app)
    BitfinexPrivate(market, stream).add_routes(app)
    app.router.add_get(BitfinexMarket.trades_path, trades_handler(
        market, lambda r: r.match_info["symbol"], _trades_body,
        lambda: web.json_response(["error", 10020, "symbol: invalid"], status=500),
        default_limit=125, max_limit=10000))  # fmt: skip
    return app


def _trades_body(trades: list[SimTrade], instrument: Instrument) -> object:
    """GET /v2/trades/{symbol}/hist: newest first, ``[ID, MTS, AMOUNT, PRICE]`` (JSON numbers;
    a negative AMOUNT was sold)."""
    return [[t.trade_id, t.ts_ns // 1_000_000,
             float(t.size if t.side is Side.BUY else -t.size), float(t.price)]
            for t in trades]  # fmt: skip


def _num(value: Decimal) -> str:
    """A price or size as the venue writes it: plain decimal text."""
    return "0" if value == 0 else format(value.normalize(), "f")
