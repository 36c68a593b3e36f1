"""The simulator's Bitfinex: WS v2 at ``/ws/2`` (stream.py), public REST v2 (rest.py) and the
signed private REST v2 (private.py), on the paths of the real exchange."""

from __future__ import annotations

from aiohttp import web

from arb_venues.bitfinex.sim.private import BitfinexPrivate
from arb_venues.bitfinex.sim.rest import BitfinexRest, error_response
from arb_venues.bitfinex.sim.stream import BitfinexStream
from arb_venues.simapi import ERROR_RESPONSE, RECONNECT_NOTICE, SimMarket

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
    return app
