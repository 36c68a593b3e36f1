"""Ids that are all strings and easy to mix up, as distinct types for mypy (``NewType``: no
cost at run time, the same text on the wire; msgspec encodes and decodes them as str).

- ``ClientOrderId``: the engine's id of an order, made by the venue's
  ``TradingClient.client_order_id`` (deterministic per opportunity and leg);
- ``VenueOrderId``: the venue's own id of the order, from its answers;
- ``VenueSymbol``: the venue's spelling of an instrument (``BTCUSDT``, ``XBT/USDT``), never
  the normalised ``BTC-USDT``.

A plain str becomes one by a call (``ClientOrderId(text)``) where it is read from a venue's
answer or a stream: the call says which id the text is.
"""

from __future__ import annotations

from typing import NewType

ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", str)
VenueSymbol = NewType("VenueSymbol", str)
