"""Replay mode: serve a recorded capture over the venue's own paths, so ingest runs unchanged
on real data.

WS: every client that connects to a recorded WS path (the URL path of the capture's ``recv``
frames; any path when the capture holds one WS stream, e.g. a plain one-message-per-line
file) gets that stream's frames from the start, at the recorded pace divided by ``speed``
(0 = no pauses). What the client sends (subscriptions, pings) is read and ignored; after the
last frame the connection stays open until the client leaves. REST: a GET on a recorded
``http_response`` path answers with the recorded body whose query matches best (exact query
first, else the most parameters in common); several bodies for one query are served in
recorded order, the last one repeating.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from aiohttp import WSMsgType, web
from arb_venues.capture import Frame, merge_captures
from yarl import URL

from arb_simulator.errors import ReplayError


class ReplayCapture:
    """The frames of one capture, grouped by what serves them."""

    def __init__(self, frames: Iterable[Frame], speed: float = 1.0) -> None:
        if speed < 0:
            raise ReplayError(f"replay speed {speed}: must be >= 0 (0 = no pauses)")
        self.speed = speed
        self.ws: dict[str, list[Frame]] = defaultdict(list)
        self.rest: dict[str, list[tuple[dict[str, str], str]]] = defaultdict(list)
        self._served: dict[tuple[str, str], int] = {}
        for frame in frames:
            if frame.kind == "ws":
                self.ws[URL(frame.url).path if frame.url else ""].append(frame)
            elif frame.kind == "rest":
                url = URL(frame.url)
                self.rest[url.path].append((dict(url.query), frame.raw))
        if not self.ws and not self.rest:
            raise ReplayError("replay: the capture holds no WS or REST frames to serve")
        self.clients = 0
        self.frames_sent = 0

    @classmethod
    def from_files(cls, paths: list[Path], speed: float = 1.0) -> ReplayCapture:
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise ReplayError(f"replay: capture file(s) not found: {', '.join(missing)}")
        return cls(merge_captures(paths), speed)

    def ws_frames(self, path: str) -> list[Frame] | None:
        frames = self.ws.get(path)
        if frames is None and len(self.ws) == 1:
            frames = next(iter(self.ws.values()))
        return frames

    def rest_body(self, path: str, query: dict[str, str]) -> str | None:
        bodies = self.rest.get(path)
        if not bodies:
            return None
        exact = [raw for q, raw in bodies if q == query]
        if exact:
            key = (path, "&".join(f"{k}={v}" for k, v in sorted(query.items())))
            index = self._served.get(key, 0)
            self._served[key] = index + 1
            return exact[min(index, len(exact) - 1)]
        best = max(bodies, key=lambda item: sum(1 for k, v in item[0].items() if query.get(k) == v))
        return best[1]

    def create_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            frames = self.ws_frames(request.path)
            if frames is None:
                raise web.HTTPNotFound(text=f"no recorded WS stream at {request.path}")
            return await self._stream(request, frames)
        body = self.rest_body(request.path, dict(request.query))
        if body is None:
            raise web.HTTPNotFound(text=f"no recorded REST response at {request.path}")
        return web.Response(text=body, content_type="application/json")

    async def _stream(self, request: web.Request, frames: list[Frame]) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.clients += 1
        reader = asyncio.create_task(self._drain(ws))
        try:
            loop = asyncio.get_running_loop()
            start, first_ts = loop.time(), frames[0].ts
            for frame in frames:
                if reader.done() or ws.closed:
                    break
                if self.speed > 0 and frame.ts > 0:
                    delay = start + (frame.ts - first_ts) / self.speed - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await ws.send_str(frame.raw)
                self.frames_sent += 1
            await reader  # stay open until the client leaves
        except ConnectionResetError:
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            self.clients -= 1
        return ws

    @staticmethod
    async def _drain(ws: web.WebSocketResponse) -> None:
        async for message in ws:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
