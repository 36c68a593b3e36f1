"""What each simulated venue was asked over REST: the independent count a rate-limit test
checks a client's budget against (the venue's side of the limit, not the client's).

The core installs ``request_log_middleware`` as the outermost middleware of every venue app
(before the faults, so a request answered with an injected 429 counts as the venue saw it);
WebSocket upgrades are not REST requests and are not logged. ``GET /control/requests/{venue}``
shows the totals by path and what was
answered 404/405 (a client asking for an endpoint the simulator does not serve).
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class LoggedRequest:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    query: str
    status: int = 0  # the answer's HTTP status (0 while unanswered or when none was sent)


class RequestLog:
    """The last ``maxlen`` REST requests of one venue, oldest first."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self.entries: deque[LoggedRequest] = deque(maxlen=maxlen)
        self.total = 0

    def record(self, request: web.Request) -> LoggedRequest:
        self.total += 1
        entry = LoggedRequest(time.monotonic(), request.method, request.path, request.query_string)
        self.entries.append(entry)
        return entry

    def times(self, path: str | None = None) -> list[float]:
        """Arrival times of the requests (to ``path`` only, when given)."""
        return [e.at for e in self.entries if path is None or e.path == path]

    def most_in_window(self, window_s: float, path: str | None = None) -> int:
        """The most requests that arrived within any ``window_s`` seconds."""
        times = self.times(path)
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] > window_s:
                start += 1
            most = max(most, end - start + 1)
        return most

    def by_path(self) -> dict[str, int]:
        return dict(Counter(e.path for e in self.entries))

    def unserved(self) -> dict[str, int]:
        """``METHOD path -> count`` of the requests answered 404 or 405: what a client asked
        for that this venue's simulator does not serve."""
        return dict(Counter(f"{e.method} {e.path}" for e in self.entries if e.status in (404, 405)))

    def clear(self) -> None:
        self.entries.clear()
        self.total = 0

    def summary(self) -> dict[str, Any]:
        return {"total": self.total, "by_path": self.by_path(), "unserved": self.unserved()}


def request_log_middleware(log: RequestLog) -> Any:
    @web.middleware
    async def note(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await handler(request)
        entry = log.record(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            entry.status = exc.status
            raise
        entry.status = response.status
        return response

    return note


def install_request_log(app: web.Application, log: RequestLog) -> None:
    """Make the request log the outermost middleware of ``app`` (before it is frozen)."""
    app.middlewares.insert(0, request_log_middleware(log))
