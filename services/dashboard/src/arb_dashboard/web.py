"""The dashboard's HTTP side: the page and its assets, the live WebSocket, the history APIs
(the recorder's database) and the kill switch.

- ``GET /`` the page; ``GET /static/...`` its script and style (inside this package).
- ``GET /ws`` the live WebSocket (``hello`` first, then pushes; see ``live``).
- ``GET /api/state`` the latest state as JSON.
- ``GET /api/trades?venue=&symbol=&status=&since=&until=&limit=&format=csv`` results with legs.
- ``GET /api/pnl?by=day,pair,symbol&...`` the same PnL report as ``arb pnl``.
- ``POST /api/kill`` ``{"reason": ...}`` / ``POST /api/resume``: the kill switch, with header
  ``Authorization: Bearer <ARB_DASHBOARD_KILL_TOKEN>``. A header (not a cookie) so another site
  cannot make a browser send it; off (403) when no token is configured.
"""

from __future__ import annotations

import asyncio
import csv
import hmac
import io
import json
import logging
import time
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from arb_history.database import Database, SqliteDatabase, open_database
from arb_history.errors import HistoryError
from arb_history.migrations import schema_version
from arb_history.pnl import GROUPINGS, report
from arb_history.queries import TradeFilter, fetch_trades, open_parts, parse_time
from arb_structs import KillSwitch
from arb_structs.codec import KILL
from arb_structs.constants import KILL_KEY

from arb_dashboard import metrics
from arb_dashboard.config import DashboardSettings
from arb_dashboard.live import LiveState

log = logging.getLogger("arb.dashboard")

STATIC_DIR = Path(__file__).parent / "static"
WRONG_TOKEN_PAUSE_S = 0.5
MAX_TRADES = 5000
TRADE_CSV_COLUMNS = (
    "time", "result_id", "symbol", "buy_venue", "sell_venue", "status", "realised_pnl",
    "fees_quote", "expected_pnl", "unhedged_size", "unrealised_pnl", "reason",
)  # fmt: skip
# The page loads nothing from elsewhere: a deployment may have no internet.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class History:
    """The recorder's database, opened on first use and kept."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db: Database | None = None
        self._lock = asyncio.Lock()

    async def db(self) -> Database:
        async with self._lock:
            if self._db is None:
                db = open_database(self.url)
                if isinstance(db, SqliteDatabase) and not await asyncio.to_thread(db.path.exists):
                    await db.close()
                    raise HistoryError(
                        f"no trade history yet at {self.url}: the recorder creates it (arb run "
                        "starts one)"
                    )
                if await schema_version(db) == 0:
                    await db.close()
                    raise HistoryError(f"no trade history yet at {db.shown}: no schema")
                self._db = db
            return self._db

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()


def _filter(query: Any) -> TradeFilter:
    statuses = tuple(s for s in (query.get("status") or "").split(",") if s)
    since, until = query.get("since"), query.get("until")
    return TradeFilter(
        venue=query.get("venue") or None, symbol=query.get("symbol") or None, statuses=statuses,
        since_ns=parse_time(since, what="since") if since else None,
        until_ns=parse_time(until, what="until") if until else None,
    )  # fmt: skip


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def build_app(live: LiveState, settings: DashboardSettings, history: History) -> web.Application:
    token = settings.kill_token.get_secret_value() if settings.kill_token else ""

    @web.middleware
    async def headers(request: web.Request, handler: Any) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        return response

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    async def state(_: web.Request) -> web.Response:
        return web.json_response(live.hello(), dumps=lambda o: json.dumps(o, default=str))

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20.0)
        await ws.prepare(request)
        await ws.send_str(json.dumps(live.hello(), default=str))
        live.clients.add(ws)
        metrics.CLIENTS.set(len(live.clients))
        try:
            async for message in ws:  # the page sends nothing; this waits for the close
                if message.type == WSMsgType.ERROR:
                    break
        finally:
            live.clients.discard(ws)
            metrics.CLIENTS.set(len(live.clients))
        return ws

    async def trades(request: web.Request) -> web.Response:
        try:
            where = _filter(request.query)
            limit = min(int(request.query.get("limit") or 500), MAX_TRADES)
            found = await fetch_trades(await history.db(), where, limit=limit)
        except ValueError as exc:
            return _error(400, str(exc))
        except HistoryError as exc:
            return _error(503, str(exc))
        if request.query.get("format") == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(TRADE_CSV_COLUMNS), extrasaction="ignore",
                                    lineterminator="\n")  # fmt: skip
            writer.writeheader()
            writer.writerows(found)
            return web.Response(text=out.getvalue(), content_type="text/csv", headers={
                "Content-Disposition": 'attachment; filename="trades.csv"'})  # fmt: skip
        return web.json_response({"trades": found})

    async def pnl(request: web.Request) -> web.Response:
        chosen = [g for g in (request.query.get("by") or ",".join(GROUPINGS)).split(",") if g]
        unknown = [g for g in chosen if g not in GROUPINGS]
        if unknown:
            return _error(400, f"by={','.join(unknown)}: choose from {', '.join(GROUPINGS)}")
        try:
            where = _filter(request.query)
            db = await history.db()
            found = await fetch_trades(db, where)
            counted = await open_parts(db, found)
        except ValueError as exc:
            return _error(400, str(exc))
        except HistoryError as exc:
            return _error(503, str(exc))
        return web.json_response(report(found, counted, chosen))

    async def guarded(request: web.Request, action: str) -> web.Response | None:
        """None when the request carries the token; else the refusal to send."""
        if not token:
            metrics.KILL_REQUESTS.labels(action, "off").inc()
            return _error(403, "the kill switch button is off: start the dashboard with "
                               "ARB_DASHBOARD_KILL_TOKEN set (or use `arb kill`)")  # fmt: skip
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            metrics.KILL_REQUESTS.labels(action, "refused").inc()
            log.warning("kill switch %s refused: wrong token", action,
                        extra={"remote": request.remote or ""})  # fmt: skip
            await asyncio.sleep(WRONG_TOKEN_PAUSE_S)  # slows guessing down
            return _error(401, "wrong kill switch token")
        return None

    async def kill(request: web.Request) -> web.Response:
        refused = await guarded(request, "engage")
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            body = {}
        reason = str(body.get("reason") or "dashboard")[:200] if isinstance(body, dict) else ""
        engaged = KillSwitch(reason=reason or "dashboard", ts=time.time_ns(),
                             by=f"dashboard@{request.remote or '?'}")  # fmt: skip
        await live.redis.set(KILL_KEY, KILL.encode(engaged))
        metrics.KILL_REQUESTS.labels("engage", "done").inc()
        log.warning("kill switch engaged from the dashboard: %s", engaged.reason,
                    extra={"remote": request.remote or "", "reason": engaged.reason})  # fmt: skip
        return web.json_response({"engaged": True, "reason": engaged.reason})

    async def resume(request: web.Request) -> web.Response:
        refused = await guarded(request, "release")
        if refused is not None:
            return refused
        await live.redis.delete(KILL_KEY)
        metrics.KILL_REQUESTS.labels("release", "done").inc()
        log.warning("kill switch released from the dashboard",
                    extra={"remote": request.remote or ""})  # fmt: skip
        return web.json_response({"engaged": False})

    app = web.Application(middlewares=[headers])
    app.router.add_get("/", index)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/trades", trades)
    app.router.add_get("/api/pnl", pnl)
    app.router.add_post("/api/kill", kill)
    app.router.add_post("/api/resume", resume)
    app.router.add_static("/static", STATIC_DIR)
    return app
