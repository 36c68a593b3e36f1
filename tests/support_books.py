"""An independent model of an L2 book for the tests: plain dicts folded from events."""

from __future__ import annotations

from collections.abc import Iterable

from arb_structs import BookDelta, BookSnapshot, MdEvent


def rebuilt(events: Iterable[MdEvent]) -> tuple[dict[float, float], dict[float, float]]:
    """The book the events make, in the order given: each snapshot starts it again, each delta
    after it sets its levels (size 0 deletes); other events are ignored."""
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    for event in events:
        if isinstance(event, BookSnapshot):
            bids, asks = dict(event.bids), dict(event.asks)
        elif isinstance(event, BookDelta):
            for side, levels in ((bids, event.bids), (asks, event.asks)):
                for price, size in levels:
                    if size:
                        side[price] = size
                    else:
                        side.pop(price, None)
    return bids, asks
