"""The replay bench: one worker process per implementation, the same merged frames for each,
Kraken recorded from the simulator at start, and an honest report when the peers are missing.
(The peers themselves are not installed by the tests: that needs the network; `make bench`
does it.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from arb_bench import recordings
from arb_bench.peers import env
from arb_bench.recordings import fixture_sets, kraken_sets, write_frames
from arb_bench.replay import Worker, bench_replay
from arb_bench.report import table
from arb_cli.replay import load_frames, replay

pytestmark = pytest.mark.integration


@pytest.mark.fixtures
def test_our_worker_runs_arb_replays_own_path_on_the_merged_frames(fixtures_dir, tmp_path):
    sets, missing = fixture_sets(fixtures_dir)
    bybit = next(s for s in sets if s.venue == "bybit")
    assert not missing  # every recording named by a VenueSpec is in the shared fixtures
    frames_file, count = write_frames(bybit, tmp_path)
    direct = replay("bybit", load_frames(list(bybit.paths)))
    assert count == direct["frames"]
    worker = Worker("arb", __import__("sys").executable, tmp_path / "worker.log")
    try:
        answer = worker.ask({"set": "bybit", "venue": "bybit", "protocol": None,
                             "frames": str(frames_file), "loops": 2})  # fmt: skip
        untopped = worker.ask({"set": "bybit", "venue": "bybit", "protocol": None,
                               "frames": str(frames_file), "loops": 1, "tops": False})  # fmt: skip
    finally:
        worker.close()
    # the bench asks for the final books once a round: the other passes make no untimed pass
    assert len(untopped["seconds"]) == 1 and untopped["tops"] is None
    assert len(answer["seconds"]) == 2 and all(s > 0 for s in answer["seconds"])
    for key in ("frames", "level_updates", "gaps", "checksum_failures"):
        assert answer["checks"][key] == direct[key], key
    assert len(answer["tops"]) == direct["books"] == 1
    bid, ask = answer["tops"][0]
    assert 0 < bid < ask


def test_kraken_is_recorded_from_the_simulator_and_replayed_without_peers(tmp_path, monkeypatch):
    monkeypatch.setattr(recordings, "KRAKEN_FRAMES", 300)
    sets, missing = kraken_sets(tmp_path)
    assert missing == {} and [s.name for s in sets] == ["kraken-v2", "kraken-v1"]
    off = env.PeerEnv(None, reason="peers turned off for this test")
    report = bench_replay(sets, {}, off, loops=2, repeats=2, folder=tmp_path)
    for name in ("kraken-v2", "kraken-v1"):
        measured = report[name]
        # a figure per round (the median of its 2 passes, asked one by one)
        assert measured["frames"] == 300 and len(measured["seconds_per_pass"]) == 2
        assert measured["checksums_verified"] > 200, measured  # the simulator's real CRC32s
        assert measured["checksum_failures"] == 0 and measured["gaps"] == 0
        assert measured["peers"] == {} and "vs_best_peer" not in measured
    assert report["peers_environment"] == {"unavailable": "peers turned off for this test"}
    rows = table({"replay": report})
    assert "no peer measured" in rows
    assert "| replay peers | not measured: peers turned off for this test |" in rows


def test_peers_that_cannot_be_installed_say_why(tmp_path, monkeypatch):
    monkeypatch.setenv("UV", "/bin/false")
    got = env.ensure(tmp_path / "peers")
    assert got.python is None
    assert "failed" in got.reason


def test_peer_drivers_say_which_venues_they_cannot_replay() -> None:
    from arb_bench.peers import drive_ccxt, drive_cryptofeed

    assert "Advanced Trade" in drive_cryptofeed.measure("coinbase", None, [], 1)["unsupported"]
    assert "v1 only" in drive_cryptofeed.measure("kraken", "v2", [], 1)["unsupported"]
    assert "v2 only" in drive_ccxt.measure("kraken", "v1", [], 1)["unsupported"]
    assert "depth.step0" in drive_ccxt.measure("htx", None, [], 1)["unsupported"]
    for driver in (drive_ccxt, drive_cryptofeed):
        assert "deribit" in driver.measure("deribit", None, [], 1)["unsupported"]


@pytest.mark.fixtures
@pytest.mark.parametrize(("venue", "first"), [("bitfinex", "tBFTUSD"), ("htx", "trioeth"),
                                              ("gateio", "HAI_ETH"),
                                              ("kucoin", "BCHSV-USDT")])  # fmt: skip
def test_peers_learn_every_book_of_the_recording(fixtures_dir, tmp_path, venue, first) -> None:
    """The peers' symbol tables come from the recording: one id for each book ours builds."""
    from arb_bench.peers import recorded_ids
    from arb_bench.peers.worker import read_frames

    replay_set = next(s for s in fixture_sets(fixtures_dir)[0] if s.venue == venue)
    frames_file, _ = write_frames(replay_set, tmp_path)
    ids = recorded_ids.market_ids(venue, read_frames(str(frames_file)))
    assert len(ids) == len(set(ids)) == replay(venue, load_frames(list(replay_set.paths)))["books"]
    assert first in ids


def test_frames_file_keeps_the_recorders_order(tmp_path: Path) -> None:
    capture = tmp_path / "c.jsonl"
    capture.write_text(
        '{"type": "connect", "url": "wss://x", "local_ts": "1.0"}\n'
        '{"type": "recv", "url": "wss://x", "local_ts": "2.0", "raw": "{\\"a\\":1}"}\n'
        '{"type": "http_response", "url": "https://x/depth", "local_ts": "3.0", "raw": "{}"}\n'
    )
    out, count = write_frames(recordings.ReplaySet("x", "binance", None, (capture,), "t"), tmp_path)
    assert count == 2
    lines = out.read_text().splitlines()
    assert '"kind": "ws"' in lines[0] and '"kind": "rest"' in lines[1]
