"""OKX v5 wire structs, with OKX's own field names. Decoders are built once, here.

Docs: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
      https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-order-book

A book level is ``[px, sz, "0", numOrders]``, every element a JSON string. The hot path
decodes the strings straight into checked floats (msgspec ``strict=False`` into
``arb_venues.common.levels`` Price/Size: about 3 us per 25-level update instead of 14 us with
``float()`` per level; a NaN, infinite, negative or zero price, or a NaN, infinite or negative
size, fails the decode); only frames whose checksum must be verified are decoded a second time
as text (the 2022 recordings; OKX sends ``checksum: 0`` since 2026-06-23).
"""

from __future__ import annotations

import msgspec

from arb_venues.common.levels import Price, Size


class FloatLevel(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """``[px, sz, deprecated "0", order count]``: only px and sz are read; the array may be
    longer or lose its deprecated tail without breaking the decode."""

    px: Price
    sz: Size


TextLevel = tuple[str, ...]


class Arg(msgspec.Struct, frozen=True):
    channel: str = ""
    instId: str = ""  # OKX's name


class Envelope(msgspec.Struct, frozen=True):
    """Any public WS frame: a push (arg + data), an event (subscribe/error/notice)."""

    event: str | None = None
    arg: Arg | None = None
    action: str | None = None  # "snapshot" | "update" on incremental book channels
    data: msgspec.Raw = msgspec.Raw()  # empty when absent (msgspec: no Raw in unions)
    code: str | None = None
    msg: str | None = None
    connId: str | None = None


class BookData(msgspec.Struct, frozen=True):
    """One entry of ``data`` on books / books5 / bbo-tbt, prices and sizes as floats."""

    asks: list[FloatLevel]
    bids: list[FloatLevel]
    ts: str = "0"
    checksum: int | None = None
    seqId: int | None = None  # absent in recordings before 2022-06
    prevSeqId: int | None = None
    instId: str | None = None  # books5 / bbo-tbt carry it


class LooseBook(msgspec.Struct, frozen=True):
    """The same entry with untyped levels: read only to say which level a refused frame broke."""

    asks: list[object] = []
    bids: list[object] = []


class BookText(msgspec.Struct, frozen=True):
    """The same entry with the exact level text (checksums are computed from it)."""

    asks: list[TextLevel]
    bids: list[TextLevel]


class TextPair(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """A level's exact ``px`` and ``sz`` text, the two the checksum reads (the rest of the
    array is skipped unread: the float read of the same frame ignores it too)."""

    px: str
    sz: str


class BookTextPairs(msgspec.Struct, frozen=True):
    """The hot path's text read of a book entry: each level's px and sz text only."""

    asks: list[TextPair]
    bids: list[TextPair]


class BookFrame(msgspec.Struct, frozen=True):
    """The hot path's read of a whole book push, levels as checked floats. A frame this
    refuses, or that is not an incremental book push, is read the ``Envelope`` way."""

    arg: Arg
    data: list[BookData]
    action: str | None = None
    event: str | None = None


class BookTextFrame(msgspec.Struct, frozen=True):
    """The same frame's level text, px and sz only (read when an entry has a checksum)."""

    data: list[BookTextPairs]


class RestBook(msgspec.Struct, frozen=True):
    """``data[0]`` of GET /api/v5/market/books. ``seqId`` joins it to the WS stream."""

    asks: list[TextLevel]
    bids: list[TextLevel]
    ts: str = "0"
    seqId: int | None = None


class RestEnvelope(msgspec.Struct, frozen=True):
    """Every OKX REST answer: ``{"code": "0", "msg": "", "data": [...]}``."""

    code: str = "0"
    msg: str = ""
    data: msgspec.Raw = msgspec.Raw()


class RestInstrument(msgspec.Struct, frozen=True):
    """One row of GET /api/v5/public/instruments?instType=SPOT."""

    instId: str
    instType: str = "SPOT"
    baseCcy: str = ""
    quoteCcy: str = ""
    tickSz: str = "0"
    lotSz: str = "0"
    minSz: str = "0"
    state: str = "live"


class OrderAck(msgspec.Struct, frozen=True):
    """``data[i]`` of place-order / cancel-order answers: per-order sCode/sMsg."""

    ordId: str = ""
    clOrdId: str = ""
    sCode: str = "0"
    sMsg: str = ""
    ts: str = ""


class OrderDetail(msgspec.Struct, frozen=True):
    """``data[0]`` of GET /api/v5/trade/order."""

    instId: str
    ordId: str = ""
    clOrdId: str = ""
    px: str = ""
    sz: str = "0"
    side: str = "buy"
    ordType: str = "ioc"
    state: str = "live"
    accFillSz: str = "0"
    avgPx: str = ""
    fee: str = "0"  # negative = charged
    feeCcy: str = ""
    cTime: str = "0"
    uTime: str = "0"


class BalanceDetail(msgspec.Struct, frozen=True):
    ccy: str
    availBal: str = "0"
    frozenBal: str = "0"
    cashBal: str = "0"
    eq: str = "0"


class AccountBalance(msgspec.Struct, frozen=True):
    """``data[0]`` of GET /api/v5/account/balance."""

    details: list[BalanceDetail] = []
    uTime: str = "0"


def present(raw: msgspec.Raw) -> bool:
    """A ``data`` field that was sent and is not null."""
    return len(raw) > 0 and bytes(raw) != b"null"


ENVELOPE = msgspec.json.Decoder(Envelope)
BOOK_DATA = msgspec.json.Decoder(list[BookData], strict=False)
BOOK_TEXT = msgspec.json.Decoder(list[BookText])
BOOK_TEXT_PAIRS = msgspec.json.Decoder(list[BookTextPairs])
BOOK_FRAME = msgspec.json.Decoder(BookFrame, strict=False)  # lax as BOOK_DATA: text numbers
BOOK_TEXT_FRAME = msgspec.json.Decoder(BookTextFrame)
LOOSE_BOOKS = msgspec.json.Decoder(list[LooseBook])
REST_ENVELOPE = msgspec.json.Decoder(RestEnvelope)
REST_BOOKS = msgspec.json.Decoder(list[RestBook])
REST_INSTRUMENTS = msgspec.json.Decoder(list[RestInstrument])
ORDER_ACKS = msgspec.json.Decoder(list[OrderAck])
ORDER_DETAILS = msgspec.json.Decoder(list[OrderDetail])
ACCOUNT_BALANCES = msgspec.json.Decoder(list[AccountBalance])
