"""MEXC frames for tests: the docs' own example push, and protobuf bytes written by hand.

No recording of MEXC exists in the shared fixtures. The docs' "Diff.Depth Stream" example
(https://www.mexc.com/api-docs/spot-v3/websocket-market-streams, mexcdevelop/apidocs
spot_v3_en) shows one push of ``spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT``: a bid
92877.58 of size 0 in versions 10589632359..10589632359, sendtime 1736411507002.

``wire_push`` encodes a push in the protobuf wire format directly from the field numbers of
MEXC's .proto files (PushDataV3ApiWrapper.proto: channel 1, symbol 3, sendTime 6,
publicAggreDepths 313; PublicAggreDepthsV3Api.proto: asks 1, bids 2, eventType 3,
fromVersion 4, toVersion 5; items: price 1, quantity 2), without the protobuf package: an
independent check of the declarations the adapter decodes with.
"""

from __future__ import annotations

from arb_structs import Instrument

DOCS_CHANNEL = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
DOCS_EVENT_TYPE = "spot@public.aggre.depth.v3.api.pb@100ms"
DOCS_VERSION = 10589632359
DOCS_SEND_TIME = 1736411507002
DOCS_BID = ("92877.58", "0.00000000")

BTC_USDT = Instrument(
    venue="mexc", symbol="BTC-USDT", venue_symbol="BTCUSDT", base="BTC", quote="USDT",
    tick_size="0.01", lot_size="0.000001", min_size="0.000001", min_notional="1",
    price_decimals=2, size_decimals=6,
)  # fmt: skip


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int_field(number: int, value: int) -> bytes:
    """A varint field (wire type 0)."""
    return _varint(number << 3) + _varint(value)


def _item(price: str, quantity: str) -> bytes:
    return _field(1, price.encode()) + _field(2, quantity.encode())


def wire_push(
    channel: str,
    symbol: str,
    from_version: int,
    to_version: int,
    bids: list[tuple[str, str]] = (),  # type: ignore[assignment]
    asks: list[tuple[str, str]] = (),  # type: ignore[assignment]
    send_time: int = DOCS_SEND_TIME,
    event_type: str = "",
) -> bytes:
    """One aggregated depth push on the wire, its fields in number order (as protobuf
    serialisers write them)."""
    body = b"".join(_field(1, _item(*a)) for a in asks)
    body += b"".join(_field(2, _item(*b)) for b in bids)
    body += _field(3, (event_type or channel.rpartition("@")[0]).encode())
    body += _field(4, str(from_version).encode()) + _field(5, str(to_version).encode())
    return (
        _field(1, channel.encode())
        + _field(3, symbol.encode())
        + _int_field(6, send_time)
        + _field(313, body)
    )


def docs_push() -> bytes:
    """The docs' example push on the wire."""
    return wire_push(DOCS_CHANNEL, "BTCUSDT", DOCS_VERSION, DOCS_VERSION, bids=[DOCS_BID],
                     event_type=DOCS_EVENT_TYPE)  # fmt: skip
