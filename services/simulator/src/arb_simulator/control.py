"""The control API, on its own port: arm faults, inject dislocations, read the ground truth.

    GET    /control/status                  clock steps, updates per venue, truth count,
                                            the process's CPU seconds
    GET    /control/urls                    each venue's ws/rest base URL, this API's URL
    GET    /control/truth[?since_ns=N]      injected TruthEvents (JSON list)
    POST   /control/inject                  {"venue","symbol","direction","bps","size"|
                                             "notional","duration_s"} -> the TruthEvent
    POST   /control/faults                  {"venue","kind","symbol"?,"count"?,"duration_s"?,
                                             "retry_after_s"?,"delay_s"?,"status"?}
    GET    /control/faults                  armed faults per venue
    DELETE /control/faults[?venue=&kind=]   disarm
    GET    /control/book/{venue}/{symbol}   top levels of one simulated book (?depth=10)
    GET    /control/connections[?venue=]    every venue's WS connections: open (id, client
                                            address, age), recently closed and by whom,
                                            the lifetime enforced, notices sent
    POST   /control/maintenance             {"venue", "notice_s"?, "gap_s"?}: the venue's
                                            reconnect notice to every open connection (where
                                            it has one), each closed notice_s later; without
                                            one, a rolling restart: each cut, gap_s apart
    POST   /control/halt                    {"venue", "duration_s"}: the venue down for declared
                                            maintenance: every connection closed with 1013,
                                            new ones too, for duration_s
    POST   /control/cut                     {"venue", "id"?}: one WS connection (the oldest
                                            open without "id") closed now, without warning
    GET    /control/ledger/{venue}          the default account's ledger: balances (free,
                                            locked) and every order with its fills and fee
                                            (the ground truth trading is checked against),
                                            and duplicate_attempts: client ids of
                                            placements refused as already used
    POST   /control/clock                   {"venue","skew_s"}: the venue's clock runs skew_s
                                            seconds off wall time (its time endpoint and its
                                            signed-timestamp window use it); 0 resets
    GET    /control/requests/{venue}        REST requests the venue received: total and
                                            per path (requestlog.py)

Bad input gets 400 with a message naming the field and the way out; nothing is armed or
injected then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
import pydantic
from aiohttp import web

from arb_simulator.accounts import default_credentials
from arb_simulator.config import FaultSpec

if TYPE_CHECKING:
    from arb_simulator.app import Simulator

SIMULATOR: web.AppKey[Simulator] = web.AppKey("simulator")
_json = msgspec.json.Encoder()


def _response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=_json.encode(payload), status=status, content_type="application/json")


def _bad(message: str, status: int = 400) -> web.Response:
    return _response({"error": message}, status)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=f'{{"error": "body is not JSON: {exc}"}}', content_type="application/json"
        ) from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return body


async def status(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    return _response(sim.status())


async def urls(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    return _response({"venues": sim.urls, "control": sim.control_url})


async def truth(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    try:
        since = int(request.query.get("since_ns", "0"))
    except ValueError:
        return _bad(f"since_ns={request.query['since_ns']!r}: must be integer nanoseconds")
    return _response([e for e in sim.truth_events() if e.start_ns >= since])


async def inject(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    if sim.market is None:
        return _bad("replay mode: there is no simulated market to dislocate", 409)
    body = await _body(request)
    try:
        venue = str(body["venue"])
        symbol = str(body["symbol"])
        direction = str(body.get("direction", "down"))
        bps = float(body.get("bps", 40.0))
        duration_s = float(body.get("duration_s", 1.0))
        if "size" in body:
            size = float(body["size"])
        else:
            size = float(body.get("notional", 10_000.0)) / sim.market.fair[symbol].price
    except KeyError as exc:
        return _bad(f"inject: missing or unknown {exc.args[0]!r}; give venue and symbol")
    except (TypeError, ValueError) as exc:
        return _bad(f"inject: {exc}")
    try:
        event = sim.market.inject(venue, symbol, direction, bps, size, duration_s)
    except ValueError as exc:
        return _bad(str(exc), 409 if "already" in str(exc) else 400)
    return _response(event)


async def arm_fault(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    body = await _body(request)
    try:
        spec = FaultSpec.model_validate(body)
    except pydantic.ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return _bad(f"fault: {errors}")
    try:
        fault = sim.arm_fault(spec)
    except ValueError as exc:
        return _bad(str(exc))
    return _response({"venue": spec.venue, "armed": fault.describe()})


async def list_faults(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    return _response(
        {venue: [f.describe() for f in faults.armed()] for venue, faults in sim.faults.items()}
    )


async def clear_faults(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    venue = request.query.get("venue")
    kind = request.query.get("kind")
    if venue is not None and venue not in sim.faults:
        return _bad(f"venue {venue!r} is not simulated; venues: {sorted(sim.faults)}")
    cleared = sum(
        faults.clear(kind) for name, faults in sim.faults.items() if venue in (None, name)
    )
    return _response({"cleared": cleared})


async def book(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    venue, symbol = request.match_info["venue"], request.match_info["symbol"]
    market = sim.venue_markets.get(venue)
    if market is None or symbol not in market.instruments:
        return _bad(f"no simulated book {venue}/{symbol}", 404)
    try:
        depth = int(request.query.get("depth", "10"))
    except ValueError:
        return _bad("depth must be an integer")
    snapshot = market.book(symbol)
    return _response(
        {
            "venue": venue,
            "symbol": symbol,
            "seq": snapshot.seq,
            "bids": [[str(p), str(s)] for p, s in snapshot.bids[:depth]],
            "asks": [[str(p), str(s)] for p, s in snapshot.asks[:depth]],
        }
    )


async def ledger(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    venue = request.match_info["venue"]
    market = sim.venue_markets.get(venue)
    if market is None:
        return _bad(f"venue {venue!r} is not simulated; venues: {sorted(sim.venue_markets)}", 404)
    api_key = default_credentials(venue).api_key
    balances = {a: {"free": str(f), "locked": str(lk)}
                for a, (f, lk) in sorted(market.balances(api_key).items())}  # fmt: skip
    orders = [
        {"order_id": o.order_id, "client_order_id": o.client_order_id, "symbol": o.symbol,
         "side": o.side.value, "price": str(o.price), "size": str(o.size), "status": o.status,
         "filled": str(o.filled), "quote_filled": str(o.quote_filled), "fee": str(o.fee),
         "fee_asset": o.fee_asset, "ts_created_ns": o.ts_created_ns,
         "fills": [[str(p), str(q)] for p, q in o.fills]}
        for o in market.orders(api_key)
    ]  # fmt: skip
    return _response({"venue": venue, "balances": balances, "orders": orders,
                      "duplicate_attempts": market.duplicate_attempts(api_key)})  # fmt: skip


async def clock(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    body = await _body(request)
    venue, skew = body.get("venue"), body.get("skew_s")
    market = sim.venue_markets.get(venue) if isinstance(venue, str) else None
    if market is None:
        return _bad(f"venue={venue!r}: not simulated; choose one of {sorted(sim.venue_markets)}")
    if isinstance(skew, bool) or not isinstance(skew, int | float) or abs(skew) > 86_400:
        return _bad(f"skew_s={skew!r}: give the venue clock's offset in seconds, |skew_s| <= 86400")
    market.clock_skew_ns = int(skew * 1e9)
    return _response({"venue": venue, "skew_s": skew})


async def requests(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    venue = request.match_info["venue"]
    log = sim.requests.get(venue)
    if log is None:
        return _bad(f"venue {venue!r} is not served; venues: {sorted(sim.requests)}", 404)
    return _response({"venue": venue, **log.summary()})


async def connections(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    venue = request.query.get("venue")
    if venue is not None and venue not in sim.connections:
        return _bad(f"venue {venue!r} is not served; venues: {sorted(sim.connections)}", 404)
    return _response({name: c.describe() for name, c in sim.connections.items()
                      if venue in (None, name)})  # fmt: skip


async def maintenance(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    body = await _body(request)
    try:
        venue = str(body["venue"])
        notice_s = float(body["notice_s"]) if "notice_s" in body else None
        gap_s = float(body["gap_s"]) if "gap_s" in body else None
    except KeyError:
        return _bad("maintenance: missing 'venue'; give the venue to take down")
    except (TypeError, ValueError) as exc:
        return _bad(f"maintenance: notice_s/gap_s: {exc}; give seconds (>= 0)")
    for name, value in (("notice_s", notice_s), ("gap_s", gap_s)):
        if value is not None and value < 0:
            return _bad(f"maintenance: {name} {value}: must be >= 0")
    try:
        return _response(sim.maintenance(venue, notice_s, gap_s))
    except ValueError as exc:
        return _bad(str(exc), 404)


async def halt(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    body = await _body(request)
    try:
        venue = str(body["venue"])
        duration_s = float(body["duration_s"])
    except KeyError as exc:
        return _bad(f"halt: missing {exc}; give the venue and duration_s (seconds)")
    except (TypeError, ValueError) as exc:
        return _bad(f"halt: duration_s: {exc}; give seconds (> 0)")
    if duration_s <= 0:
        return _bad(f"halt: duration_s {duration_s}: must be > 0")
    try:
        return _response(sim.halt(venue, duration_s))
    except ValueError as exc:
        return _bad(str(exc), 404)


async def cut(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    body = await _body(request)
    try:
        venue = str(body["venue"])
        conn_id = int(body["id"]) if body.get("id") is not None else None
    except KeyError:
        return _bad("cut: missing 'venue'; give the venue whose connection to cut")
    except (TypeError, ValueError) as exc:
        return _bad(f"cut: id: {exc}; give a connection id from GET /control/connections")
    try:
        return _response(sim.cut(venue, conn_id))
    except ValueError as exc:
        return _bad(str(exc), 404)


def create_control_app(sim: Simulator) -> web.Application:
    app = web.Application()
    app[SIMULATOR] = sim
    app.router.add_get("/control/status", status)
    app.router.add_get("/control/urls", urls)
    app.router.add_get("/control/truth", truth)
    app.router.add_post("/control/inject", inject)
    app.router.add_post("/control/faults", arm_fault)
    app.router.add_get("/control/faults", list_faults)
    app.router.add_delete("/control/faults", clear_faults)
    app.router.add_get("/control/book/{venue}/{symbol}", book)
    app.router.add_get("/control/ledger/{venue}", ledger)
    app.router.add_post("/control/clock", clock)
    app.router.add_get("/control/requests/{venue}", requests)
    app.router.add_get("/control/connections", connections)
    app.router.add_post("/control/maintenance", maintenance)
    app.router.add_post("/control/cut", cut)
    app.router.add_post("/control/halt", halt)
    return app
