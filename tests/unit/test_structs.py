"""Round-trip and schema-evolution tests for the wire schema."""

from __future__ import annotations

import msgspec
import pytest
from arb_structs import BookDelta, BookSnapshot, BookState, BookView, Opportunity, VenueStatus
from arb_structs import codec as codecs
from arb_structs import constants as names

pytestmark = pytest.mark.unit


def _delta(**overrides: object) -> BookDelta:
    fields: dict[str, object] = dict(
        venue="binance", symbol="BTC-USDT", prev_seq=9, seq=10,
        bids=[(100.5, 1.25)], asks=[(100.6, 0.0)], ts_event=1, ts_recv=2,
    )  # fmt: skip
    fields.update(overrides)
    return BookDelta(**fields)  # type: ignore[arg-type]


def test_md_union_round_trips_each_member() -> None:
    messages = [
        _delta(),
        BookSnapshot(
            venue="okx",
            symbol="BTC-USDT",
            seq=5,
            bids=[(1.0, 2.0)],
            asks=[],
            ts_event=0,
            ts_recv=3,
            checksum=-12,
            bids_text=[("1.0", "2")],
        ),
        VenueStatus(venue="okx", status="down", reason="closed"),
    ]
    for message in messages:
        assert codecs.MD.decode(codecs.MD.encode(message)) == message


def test_md_decoder_rejects_a_message_of_another_stream() -> None:
    view = BookView(
        venue="x",
        symbol="A-B",
        state=BookState.LIVE,
        seq=1,
        bids=[],
        asks=[],
        ts_event=0,
        ts_recv=0,
        ts_book=0,
    )
    with pytest.raises(msgspec.ValidationError):
        codecs.MD.decode(codecs.BOOK.encode(view))


def test_old_reader_decodes_message_with_appended_field() -> None:
    class NewerDelta(msgspec.Struct, frozen=True, kw_only=True, tag="delta"):
        venue: str
        symbol: str
        prev_seq: int
        seq: int
        bids: list[tuple[float, float]]
        asks: list[tuple[float, float]]
        ts_event: int
        ts_recv: int
        checksum: int | None = None
        bids_text: list[tuple[str, str]] | None = None
        asks_text: list[tuple[str, str]] | None = None
        venue_flags: int = 7  # appended by a newer writer

    newer = NewerDelta(
        venue="bybit", symbol="XRP-USDT", prev_seq=1, seq=2, bids=[], asks=[], ts_event=5, ts_recv=6
    )
    decoded = codecs.MD.decode(msgspec.msgpack.encode(newer))
    assert decoded == _delta(
        venue="bybit", symbol="XRP-USDT", prev_seq=1, seq=2, bids=[], asks=[], ts_event=5, ts_recv=6
    )


def test_new_reader_fills_defaults_for_message_from_old_writer() -> None:
    class OlderView(msgspec.Struct, frozen=True, kw_only=True, tag="view"):
        venue: str
        symbol: str
        state: str
        seq: int
        bids: list[tuple[float, float]]
        asks: list[tuple[float, float]]
        ts_event: int
        ts_recv: int
        ts_book: int

    old = OlderView(
        venue="kraken",
        symbol="BTC-USD",
        state="LIVE",
        seq=3,
        bids=[],
        asks=[],
        ts_event=1,
        ts_recv=2,
        ts_book=3,
    )
    decoded = codecs.BOOK.decode(msgspec.msgpack.encode(old))
    assert decoded.state is BookState.LIVE
    assert decoded.reason == "" and decoded.ts_update == 0


def test_opportunity_round_trip_keeps_exact_decimal_text() -> None:
    opp = Opportunity(
        id="o1",
        symbol="BTC-USDT",
        buy_venue="okx",
        sell_venue="binance",
        size="0.01000",
        buy_price="100.10",
        sell_price="100.90",
        buy_vwap=100.1,
        sell_vwap=100.9,
        gross_profit=0.008,
        net_profit=0.006,
        edge_bps=6.0,
        buy_seq=1,
        sell_seq=2,
        expires_ns=10,
        ts_event_buy=1,
        ts_event_sell=1,
        ts_recv=2,
        ts_book=3,
        ts_detect=4,
    )
    decoded = codecs.OPPORTUNITY.decode(codecs.OPPORTUNITY.encode(opp))
    assert decoded.size == "0.01000" and decoded.buy_price == "100.10"


def test_per_venue_names_carry_the_cluster_hash_tag() -> None:
    for name in (
        names.md_stream("okx"),
        names.book_stream("okx"),
        names.ctl_stream("okx"),
        names.balances_key("okx"),
        names.book_latest_key("okx"),
    ):
        assert "{okx}" in name


def test_codec_for_unknown_name_lists_the_choices() -> None:
    with pytest.raises(KeyError, match="choose one of"):
        codecs.codec_for("nope")


def test_exposure_event_round_trips_and_an_old_result_decodes_with_open_fields_zero() -> None:
    from arb_structs import ExecutionResult, ExecutionStatus, ExposureEvent, ExposureKind

    event = ExposureEvent(id="x1", venue="binance", asset="BTC", kind=ExposureKind.UNEXPLAINED,
                          size="-0.5", quote_value="-30000", ts=7)  # fmt: skip
    assert codecs.EXPOSURE.decode(codecs.EXPOSURE.encode(event)) == event
    assert codecs.codec_for("exposure") is codecs.EXPOSURE

    class OldResult(msgspec.Struct, frozen=True, kw_only=True, tag="execution"):
        opportunity_id: str
        symbol: str
        buy_venue: str
        sell_venue: str
        status: str
        mode: str

    old_result = OldResult(opportunity_id="o", symbol="BTC-USDT", buy_venue="a", sell_venue="b",
                           status="filled", mode="paper")  # fmt: skip
    old = msgspec.msgpack.encode(old_result)
    decoded = codecs.EXECUTION.decode(old)
    assert decoded.status is ExecutionStatus.FILLED
    assert (decoded.unrealised_pnl, decoded.mark_price, decoded.executor) == ("0", "0", "")
    assert isinstance(decoded, ExecutionResult)
