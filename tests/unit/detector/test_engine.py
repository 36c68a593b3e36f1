"""The detector engine: gates (freshness, state, in flight, cooldown), emission, sharding."""

from __future__ import annotations

import zlib

import msgspec
import pytest
from arb_detector.emission import opportunity_id
from arb_detector.errors import DetectorConfigError
from arb_detector.sharding import Shard, parse_shard, shard_of
from arb_structs.market import BookState
from arb_structs.trading import ExecutionStatus

from tests.unit.detector.factories import MS, NOW, detector, instrument, result, view

pytestmark = pytest.mark.unit

# binance asks 100 x 1, okx bids 101 x 1, 10 bps taker on both:
# net per unit 101 * 0.999 - 100 * 1.001 = 0.799 -> 79.9 bps
CHEAP = [(100.0, 1.0), (105.0, 1.0)]
DEAR = [(101.0, 1.0), (95.0, 1.0)]
FLAT_ASKS = [(102.0, 1.0)]
FLAT_BIDS = [(99.0, 1.0)]


def feed(engine, *views, now=NOW):
    for v in views:
        engine.apply_view(v)
    return engine.detect(now)


def test_buy_cheap_sell_dear_emits_exact_text_and_the_latency_chain():
    engine = detector()
    buy = view("binance", asks=CHEAP, bids=FLAT_BIDS, seq=7, age_ms=30)
    sell = view("okx", asks=FLAT_ASKS, bids=DEAR, seq=9, age_ms=20)
    [opp] = feed(engine, buy, sell)
    assert (opp.buy_venue, opp.sell_venue, opp.symbol, opp.quote) == (
        "binance",
        "okx",
        "BTC-USDT",
        "USDT",
    )
    assert (opp.size, opp.buy_price, opp.sell_price) == ("1.0000", "100.00", "101.00")
    assert opp.net_profit == pytest.approx(0.799)
    assert opp.gross_profit == pytest.approx(1.0)
    assert opp.edge_bps == pytest.approx(79.9)
    assert (opp.buy_vwap, opp.sell_vwap) == (pytest.approx(100.0), pytest.approx(101.0))
    assert (opp.buy_seq, opp.sell_seq) == (7, 9)
    assert (opp.buy_fee, opp.sell_fee) == (0.001, 0.001)
    assert opp.ts_detect == NOW
    assert opp.expires_ns == NOW + 500 * MS
    assert (opp.ts_event_buy, opp.ts_event_sell) == (buy.ts_event, sell.ts_event)
    assert opp.ts_recv == max(buy.ts_recv, sell.ts_recv) == sell.ts_recv
    assert opp.ts_book == max(buy.ts_book, sell.ts_book) == sell.ts_book
    assert opp.id == opportunity_id(
        "BTC-USDT", "binance", "okx", 7, 9, "1.0000", "100.00", "101.00"
    )
    assert engine.emitted_total[("binance", "okx")] == 1


def test_same_inputs_give_the_same_id_on_another_instance_and_a_new_seq_a_new_id():
    views = (view("binance", asks=CHEAP, seq=7), view("okx", bids=DEAR, seq=9))
    [first] = feed(detector(), *views)
    [again] = feed(detector(), *views)
    assert first.id == again.id
    [other] = feed(detector(), view("binance", asks=CHEAP, seq=8), views[1])
    assert other.id != first.id


def detector_paying(fees: dict[str, str]):
    """A detector whose instruments carry these taker fees (as ingest publishes them)."""
    engine = detector()
    for venue, fee in fees.items():
        engine.set_instrument(instrument(venue, fee=fee))
    return engine


def test_each_leg_is_priced_at_its_instrument_fee_which_can_remove_the_edge():
    # 45 bps each side: 101 * 0.9955 - 100 * 1.0045 = 100.5455 - 100.45 = 0.0955 -> 9.55 bps
    engine = detector_paying({"binance": "0.0045", "okx": "0.0045"})
    [opp] = feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR))
    assert opp.net_profit == pytest.approx(0.0955)
    assert (opp.buy_fee, opp.sell_fee) == (0.0045, 0.0045)
    # 50 bps each side: 101 * 0.995 - 100 * 1.005 = 100.495 - 100.5 < 0
    engine = detector_paying({"binance": "0.005", "okx": "0.005"})
    assert feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR)) == []
    assert engine.gated_total["no_edge"] == 2  # both directions


@pytest.mark.parametrize("state", [BookState.SUSPECT, BookState.SYNCING, BookState.HALTED])
def test_a_book_that_is_not_live_gives_nothing(state):
    engine = detector()
    out = feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR, state=state))
    assert out == []
    assert engine.gated_total["not_live"] == 2


def test_a_stale_book_gives_nothing_and_the_bound_is_per_venue():
    engine = detector(max_book_age_ns=2_000 * MS)
    assert feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR, age_ms=2_500)) == []
    assert engine.gated_total["stale"] == 2
    engine = detector(max_book_age_ns=2_000 * MS, max_book_age_ns_by_venue={"okx": 3_000 * MS})
    assert len(feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR, age_ms=2_500))) == 1


def test_staleness_is_judged_at_detection_time():
    engine = detector(max_book_age_ns=2_000 * MS)
    engine.apply_view(view("okx", bids=DEAR))
    assert feed(engine, view("binance", asks=CHEAP), now=NOW + 2_100 * MS) == []  # okx aged


def test_in_flight_pair_is_quiet_until_its_execution_result_arrives():
    engine = detector()
    [opp] = feed(engine, view("binance", asks=CHEAP, seq=1), view("okx", bids=DEAR, seq=1))
    # the books tick (new seqs) at the same prices: the same trade is still being executed
    assert feed(engine, view("binance", asks=CHEAP, seq=2), now=NOW + 50 * MS) == []
    assert engine.gated_total["in_flight"] == 1
    # a result for some other id does not clear it
    engine.resolve(result("someone-else", ExecutionStatus.FILLED), NOW + 60 * MS)
    assert feed(engine, view("binance", asks=CHEAP, seq=3), now=NOW + 70 * MS) == []
    engine.resolve(result(opp.id, ExecutionStatus.FILLED), NOW + 80 * MS)
    [again] = feed(engine, view("binance", asks=CHEAP, seq=4), now=NOW + 90 * MS)
    assert again.id != opp.id


def test_in_flight_gives_way_when_top_prices_move_materially():
    engine = detector(reprice_fraction=0.0005)  # 5 bps
    feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR))
    # ask 100.00 -> 100.04 is 4 bps: not material
    assert feed(engine, view("binance", asks=[(100.04, 1.0)], seq=2)) == []
    # ask 100.00 -> 99.90 is 10 bps: a new opportunity
    [opp] = feed(engine, view("binance", asks=[(99.9, 1.0)], seq=3))
    assert opp.buy_price == "99.90"


def test_in_flight_times_out():
    engine = detector(timeout_ns=2_000 * MS, max_book_age_ns=10_000 * MS)
    feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR))
    assert feed(engine, view("binance", asks=CHEAP, seq=2), now=NOW + 1_999 * MS) == []
    assert len(feed(engine, view("binance", asks=CHEAP, seq=3), now=NOW + 2_000 * MS)) == 1


def test_one_rich_bid_is_sold_into_by_one_pair_at_a_time():
    # okx's rich bid is the sell leg of binance->okx and bybit->okx: sending both would sell
    # the same liquidity twice, and only the first could fill.
    engine = detector(venues=("binance", "bybit", "okx"))
    emitted = feed(engine, view("binance", asks=CHEAP), view("bybit", asks=CHEAP),
                   view("okx", bids=DEAR))  # fmt: skip
    assert len(emitted) == 1
    first = emitted[0]
    assert first.sell_venue == "okx"
    other = "bybit" if first.buy_venue == "binance" else "binance"
    assert feed(engine, view(other, asks=CHEAP, seq=2), now=NOW + 10 * MS) == []
    assert engine.gated_total["leg_in_flight"] >= 1
    # a fresh bid at another price is new liquidity: offered again
    [moved] = feed(engine, view("okx", bids=[(101.2, 1.0)], seq=2), now=NOW + 20 * MS)
    assert moved.sell_price == "101.20"
    # once the first trade is reported, its leg is free
    engine.resolve(result(first.id, ExecutionStatus.FILLED, buy=first.buy_venue), NOW + 30 * MS)
    engine.resolve(result(moved.id, ExecutionStatus.FILLED, buy=moved.buy_venue), NOW + 30 * MS)
    [again] = feed(engine, view(other, asks=CHEAP, seq=3), now=NOW + 40 * MS)
    assert again.buy_venue == other


@pytest.mark.parametrize(
    "status", [ExecutionStatus.FAILED, ExecutionStatus.UNHEDGED, ExecutionStatus.NOT_FILLED]
)
def test_a_failed_execution_puts_the_pair_in_cooldown(status):
    engine = detector(cooldown_ns=3_000 * MS, max_book_age_ns=10_000 * MS)
    [opp] = feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR))
    engine.resolve(result(opp.id, status), NOW + 100 * MS)
    # even with moved prices the pair rests for 3 s
    assert feed(engine, view("binance", asks=[(99.0, 1.0)], seq=2), now=NOW + 3_099 * MS) == []
    assert engine.gated_total["cooldown"] == 1
    # the reverse direction is another pair and is not affected (it has no edge here)
    assert len(feed(engine, view("binance", asks=[(99.0, 1.0)], seq=3), now=NOW + 3_100 * MS)) == 1


def test_a_filled_execution_starts_no_cooldown():
    engine = detector()
    [opp] = feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR))
    engine.resolve(result(opp.id, ExecutionStatus.FILLED), NOW + 100 * MS)
    assert len(feed(engine, view("binance", asks=CHEAP, seq=2), now=NOW + 200 * MS)) == 1


def test_in_flight_opportunities_reserve_the_balances_other_pairs_see():
    # 150.15 USDT on binance pays for 150 of notional at 10 bps fee
    symbols = ("BTC-USDT", "ETH-USDT")
    engine = detector(symbols=symbols, quote=150.15)
    [first] = feed(
        engine,
        view("binance", asks=[(100.0, 1.0)], symbol="BTC-USDT"),
        view("okx", bids=[(101.0, 1.0)], symbol="BTC-USDT"),
    )
    # BTC takes 1.0 at 100 -> reserves 100 * 1.001 = 100.1; 50.05 left pays 50 notional
    assert first.size == "1.0000"
    assert engine.available("binance", "USDT") == pytest.approx(150.15 - 100.1)
    [second] = feed(
        engine,
        view("binance", asks=[(100.0, 1.0)], symbol="ETH-USDT"),
        view("okx", bids=[(101.0, 1.0)], symbol="ETH-USDT"),
    )
    assert second.size == "0.5000"
    engine.resolve(result(first.id, ExecutionStatus.FILLED), NOW)
    assert engine.available("binance", "USDT") == pytest.approx(150.15 - 50.05)


def test_a_reservation_ends_with_its_timeout_even_if_the_pair_goes_quiet():
    engine = detector(quote=1_000.0, timeout_ns=2_000 * MS)
    feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR))
    assert engine.available("binance", "USDT") == pytest.approx(1_000.0 - 100.1)
    # the edge goes away and no result ever comes: the next batch after the timeout frees it
    feed(engine, view("binance", asks=FLAT_ASKS, seq=2), now=NOW + 2_000 * MS)
    assert engine.available("binance", "USDT") == pytest.approx(1_000.0)


def test_no_balance_on_either_side_gives_nothing():
    engine = detector(base=0.0)
    assert feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR)) == []
    assert engine.gated_total["no_balance"] == 1


def test_minimum_net_profit_gate():
    engine = detector(min_net_profit=1.0)  # the trade makes 0.799
    assert feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR)) == []
    assert engine.gated_total["below_min_profit"] == 1


def test_different_quote_currencies_are_not_paired():
    engine = detector()
    engine.set_instrument(msgspec.structs.replace(instrument("okx"), quote="USDC"))
    assert feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR)) == []
    assert engine.gated_total["quote_mismatch"] == 1  # (the other direction has no okx asks)


def test_missing_instrument_gives_nothing():
    engine = detector(venues=("binance",))
    engine.set_balances("okx", {"BTC": 1.0, "USDT": 1e6})
    assert feed(engine, view("binance", asks=CHEAP), view("okx", bids=DEAR)) == []
    assert engine.gated_total["no_instrument"] == 2


def test_only_pairs_touching_the_changed_book_are_priced():
    venues = ("binance", "okx", "bybit")
    engine = detector(venues=venues)
    feed(engine, *(view(v, asks=FLAT_ASKS, bids=FLAT_BIDS) for v in venues))
    before = sum(engine.gated_total.values())
    feed(engine, view("bybit", asks=FLAT_ASKS, bids=FLAT_BIDS, seq=2))
    # bybit->binance, binance->bybit, bybit->okx, okx->bybit; never binance<->okx
    assert sum(engine.gated_total.values()) - before == 4


def test_a_batch_conflates_views_of_one_book_and_prices_the_latest():
    engine = detector()
    engine.apply_view(view("okx", bids=DEAR))
    engine.apply_view(view("binance", asks=FLAT_ASKS, seq=1))
    engine.apply_view(view("binance", asks=CHEAP, seq=2))
    [opp] = engine.detect(NOW)
    assert opp.buy_seq == 2
    assert engine.views_total["binance"] == 2


def test_shards_split_symbols_stably_and_an_explicit_list_wins():
    symbols = [f"S{i}-USDT" for i in range(200)]
    owners = [[s for s in symbols if Shard(i, 3).owns(s)] for i in range(3)]
    assert sorted(s for group in owners for s in group) == sorted(symbols)  # each exactly once
    assert all(owners)
    # CRC-32, not Python's per-process randomised hash(): every host agrees
    assert shard_of("BTC-USDT", 1000) == zlib.crc32(b"BTC-USDT") % 1000
    engine = detector(shard=Shard(symbols=frozenset({"ETH-USDT"})))
    assert not engine.apply_view(view("binance", asks=CHEAP))
    assert engine.detect(NOW) == []


@pytest.mark.parametrize("text", ["1", "3/3", "-1/2", "a/b", "0/0"])
def test_bad_shard_setting_is_a_config_error(text):
    with pytest.raises(DetectorConfigError, match="ARB_DETECTOR_SHARD"):
        parse_shard(text)
