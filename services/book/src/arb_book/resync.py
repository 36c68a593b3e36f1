"""Resync requests to ingest, at most one per symbol per interval."""

from __future__ import annotations

import logging

from arb_runtime.streams import StreamProducer
from arb_structs.codec import CTL
from arb_structs.constants import CTL_MAXLEN, ctl_stream
from arb_structs.control import ResyncRequest

from arb_book import metrics

log = logging.getLogger("arb.book.resync")


class Resyncer:
    """Sends ``ResyncRequest`` on ``arb:ctl:{venue}``; remembers when each symbol was asked.

    ``request`` sends unless the symbol was asked less than ``interval`` ns ago; ``defer``
    starts a symbol's clock without sending (a new book gives ingest's own snapshot one
    interval to arrive). ``due`` says whether a book still waiting should be asked again.
    """

    def __init__(self, producer: StreamProducer, interval: int) -> None:
        self.producer = producer
        self.interval = interval
        self._last: dict[tuple[str, str], int] = {}
        self.sent = 0

    def defer(self, venue: str, symbol: str, now: int) -> None:
        self._last.setdefault((venue, symbol), now)

    def due(self, venue: str, symbol: str, now: int) -> bool:
        last = self._last.get((venue, symbol))
        return last is None or now - last >= self.interval

    def request(self, venue: str, symbol: str, reason: str, now: int, *, force: bool = False
                ) -> bool:  # fmt: skip
        """Send one request, unless asked less than ``interval`` ago (``force``: send even
        then, e.g. over a ``defer`` that a first read started)."""
        if not force and not self.due(venue, symbol, now):
            return False
        self._last[(venue, symbol)] = now
        message = ResyncRequest(venue=venue, symbol=symbol, reason=reason, ts=now)
        self.producer.xadd(ctl_stream(venue), CTL.encode(message), maxlen=CTL_MAXLEN)
        self.sent += 1
        metrics.RESYNC_REQUESTS.labels(venue).inc()
        log.info("%s %s: resync requested (%s)", venue, symbol, reason)
        return True
