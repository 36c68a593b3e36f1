"""Book engine benchmark: level updates/s and µs per message, best bid/ask read after each.

``run(fixtures_dir, seconds)`` decodes recorded sessions once, up front, into BookSnapshot /
BookDelta events, then replays them through a fresh ``BookSet`` again and again for about
``seconds`` each, reading the best bid and ask after every message. Without the recorded data
it runs a synthetic random-walk session instead. ``arb bench`` puts the dict in its report.

The small decoders below exist only to feed this benchmark from the raw captures; the venue
parsers in ``arb_venues`` are the real ones (swap them in once they are importable).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from arb_structs.market import BookDelta, BookSnapshot, Level, LevelText

from arb_orderbook.bookset import BookSet

Event = BookSnapshot | BookDelta


def _frames(path: Path, kinds: tuple[str, ...] = ("recv",)) -> Iterator[tuple[float, Any]]:
    with path.open() as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("type") in kinds:
                yield float(record.get("local_ts", 0)), json.loads(record["raw"])


def _levels(rows: list[list[str]]) -> tuple[list[Level], list[LevelText]]:
    return [(float(r[0]), float(r[1])) for r in rows], [(r[0], r[1]) for r in rows]


def _okx(fixtures: Path) -> list[Event]:
    """OKX v5 ``books`` (2022: checksums, no seqId; seq = message count per symbol)."""
    events: list[Event] = []
    seqs: dict[str, int] = {}
    for ts, msg in _frames(fixtures / "okx" / "cryptofeed_OKX.ws.1.0.jsonl"):
        if not isinstance(msg, dict) or msg.get("arg", {}).get("channel") != "books":
            continue
        if "data" not in msg:
            continue
        symbol = msg["arg"]["instId"]
        data = msg["data"][0]
        bids, bids_text = _levels(data["bids"])
        asks, asks_text = _levels(data["asks"])
        seq = seqs.get(symbol, 0) + 1
        seqs[symbol] = seq
        common: dict[str, Any] = dict(
            venue="okx", symbol=symbol, bids=bids, asks=asks, ts_event=int(data["ts"]) * 10**6,
            ts_recv=int(ts * 1e9), checksum=int(data["checksum"]), bids_text=bids_text,
            asks_text=asks_text,
        )  # fmt: skip
        if msg.get("action") == "snapshot":
            events.append(BookSnapshot(seq=seq, **common))
        else:
            events.append(BookDelta(prev_seq=seq - 1, seq=seq, **common))
    return events


def _bybit(fixtures: Path) -> list[Event]:
    """Bybit v5 ``orderbook.500`` (one raw message per line; ``u`` +1 per message)."""
    events: list[Event] = []
    last_u = 0
    with (fixtures / "bybit" / "nautilus_2024-12-01_XRPUSDT_ob500.jsonl").open() as lines:
        for line in lines:
            msg = json.loads(line)
            data = msg["data"]
            u = int(data["u"])
            bids = [(float(p), float(s)) for p, s in data["b"]]
            asks = [(float(p), float(s)) for p, s in data["a"]]
            ts = int(msg["ts"]) * 10**6
            if msg["type"] == "snapshot":
                events.append(
                    BookSnapshot(venue="bybit", symbol="XRP-USDT", seq=u, bids=bids,
                                 asks=asks, ts_event=ts, ts_recv=ts)
                )  # fmt: skip
            else:
                events.append(
                    BookDelta(venue="bybit", symbol="XRP-USDT", prev_seq=last_u, seq=u,
                              bids=bids, asks=asks, ts_event=ts, ts_recv=ts)
                )  # fmt: skip
            last_u = u
    return events


def _coinbase(fixtures: Path) -> list[Event]:
    """Coinbase legacy ``level2`` (no sequence on updates: seq = message count per product)."""
    events: list[Event] = []
    seqs: dict[str, int] = {}
    for ts, msg in _frames(fixtures / "coinbase" / "cryptofeed_COINBASE.ws.28.0.jsonl"):
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind not in ("snapshot", "l2update"):
            continue
        symbol = msg["product_id"]
        seq = seqs.get(symbol, 0) + 1
        seqs[symbol] = seq
        recv = int(ts * 1e9)
        if kind == "snapshot":
            bids = [(float(p), float(s)) for p, s in msg["bids"]]
            asks = [(float(p), float(s)) for p, s in msg["asks"]]
            events.append(
                BookSnapshot(venue="coinbase", symbol=symbol, seq=seq, bids=bids, asks=asks,
                             ts_event=recv, ts_recv=recv)
            )  # fmt: skip
            continue
        bids, asks = [], []
        for side, price, size in msg["changes"]:
            (bids if side == "buy" else asks).append((float(price), float(size)))
        events.append(
            BookDelta(venue="coinbase", symbol=symbol, prev_seq=seq - 1, seq=seq, bids=bids,
                      asks=asks, ts_event=recv, ts_recv=recv)
        )  # fmt: skip
    return events


def _binance(fixtures: Path) -> list[Event]:
    """Binance spot diffs (``prev_seq=U-1, seq=u``) merged in time with REST snapshots."""
    timed: list[tuple[float, int, Event]] = []
    folder = fixtures / "binance"
    for ts, msg in _frames(folder / "cryptofeed_BINANCE.ws.1.0.jsonl"):
        data = msg.get("data") if isinstance(msg, dict) else None
        if not isinstance(data, dict) or data.get("e") != "depthUpdate":
            continue
        bids = [(float(p), float(s)) for p, s in data["b"]]
        asks = [(float(p), float(s)) for p, s in data["a"]]
        ev = int(data["E"]) * 10**6
        delta = BookDelta(venue="binance", symbol=data["s"], prev_seq=int(data["U"]) - 1,
                          seq=int(data["u"]), bids=bids, asks=asks, ts_event=ev,
                          ts_recv=int(ts * 1e9))  # fmt: skip
        timed.append((ts, len(timed), delta))
    with (folder / "cryptofeed_BINANCE.http.0.0.jsonl").open() as lines:
        for line in lines:
            record = json.loads(line)
            symbol = record["url"].split("symbol=")[1].split("&")[0]
            body = json.loads(record["raw"])
            ts = float(record["local_ts"])
            snapshot = BookSnapshot(
                venue="binance", symbol=symbol, seq=int(body["lastUpdateId"]),
                bids=[(float(p), float(s)) for p, s in body["bids"]],
                asks=[(float(p), float(s)) for p, s in body["asks"]],
                ts_event=0, ts_recv=int(ts * 1e9),
            )  # fmt: skip
            timed.append((ts, len(timed), snapshot))
    timed.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in timed]


RECORDED: dict[str, Callable[[Path], list[Event]]] = {
    "okx": _okx,
    "bybit": _bybit,
    "coinbase": _coinbase,
    "binance": _binance,
}


def synthetic(messages: int = 20_000, levels: int = 200, seed: int = 7) -> list[Event]:
    """A random walk around a mid price: one snapshot, then deltas of 1-10 level changes."""
    rng = random.Random(seed)
    tick = 0.01
    mid = 10_000
    bids = [((mid - i) * tick, rng.uniform(0.1, 5)) for i in range(1, levels + 1)]
    asks = [((mid + i) * tick, rng.uniform(0.1, 5)) for i in range(1, levels + 1)]
    events: list[Event] = [
        BookSnapshot(venue="synthetic", symbol="BTC-USDT", seq=1, bids=bids, asks=asks,
                     ts_event=1, ts_recv=1)
    ]  # fmt: skip
    for seq in range(2, messages + 2):
        mid += rng.choice((-1, 0, 0, 1))
        changes_b: list[Level] = []
        changes_a: list[Level] = []
        for _ in range(rng.randint(1, 10)):
            offset = int(rng.expovariate(0.2)) + 1
            size = 0.0 if rng.random() < 0.3 else round(rng.uniform(0.1, 5), 3)
            if rng.random() < 0.5:
                changes_b.append(((mid - offset) * tick, size))
            else:
                changes_a.append(((mid + offset) * tick, size))
        # Keep the walk uncrossed: clear the other side at the new touch.
        changes_b.append((mid * tick, 0.0))
        changes_a.append((mid * tick, 0.0))
        events.append(
            BookDelta(venue="synthetic", symbol="BTC-USDT", prev_seq=seq - 1, seq=seq,
                      bids=changes_b, asks=changes_a, ts_event=seq, ts_recv=seq)
        )  # fmt: skip
    return events


def _runs(events: list[Event]) -> list[tuple[bool, list[Event]]]:
    """Consecutive events split into runs of deltas and runs of snapshots."""
    runs: list[tuple[bool, list[Event]]] = []
    for event in events:
        is_delta = type(event) is BookDelta
        if runs and runs[-1][0] == is_delta:
            runs[-1][1].append(event)
        else:
            runs.append((is_delta, [event]))
    return runs


def _measure(events: list[Event], seconds: float) -> dict[str, Any]:
    """Replay ``events`` through fresh BookSets until ``seconds`` have passed (>= 1 pass).

    Delta runs and snapshot runs are timed apart (one clock read per run, not per message),
    so the delta-only rate is reported too: a snapshot's levels are far cheaper to load.
    """
    runs = _runs(events)
    delta_messages = sum(len(run) for is_delta, run in runs if is_delta)
    passes = levels_all = levels_delta = 0
    elapsed = elapsed_delta = 0.0
    counts: dict[str, int] = {}
    perf = time.perf_counter
    while passes == 0 or elapsed < seconds:
        books = BookSet()
        book_of = books.book
        for is_delta, run in runs:
            levels = 0
            start = perf()
            for event in run:
                book = book_of(event.venue, event.symbol)
                result = book.apply(event)
                levels += result.levels
                book.best_bid()
                book.best_ask()
            spent = perf() - start
            elapsed += spent
            levels_all += levels
            if is_delta:
                elapsed_delta += spent
                levels_delta += levels
        passes += 1
        if passes == 1:
            for book in books:
                counts[book.state.value] = counts.get(book.state.value, 0) + 1
            counts.update(_checks(events))
    messages = len(events) * passes
    return {
        "messages": len(events),
        "level_updates_per_pass": levels_all // passes,
        "passes": passes,
        "seconds": round(elapsed, 4),
        "level_updates_per_second": round(levels_all / elapsed) if elapsed else None,
        "messages_per_second": round(messages / elapsed) if elapsed else None,
        "microseconds_per_message": round(elapsed / messages * 1e6, 3),
        "delta_level_updates_per_second": round(levels_delta / elapsed_delta)
        if elapsed_delta
        else None,
        "delta_microseconds_per_message": round(elapsed_delta / (delta_messages * passes) * 1e6, 3)
        if delta_messages
        else None,
        "books_final_state": counts,  # plus sanity counts of one pass and its level mix
    }


def _checks(events: list[Event]) -> dict[str, int]:
    """One counted pass (outside the timing): gaps and checksums, to show the run was sane."""
    books = BookSet()
    for event in events:
        books.apply(event)
    out = {"gaps": 0, "checksums_ok": 0, "checksum_failures": 0, "dropped_stale": 0}
    out["snapshot_levels"] = sum(
        len(e.bids) + len(e.asks) for e in events if isinstance(e, BookSnapshot)
    )
    out["delta_levels"] = sum(len(e.bids) + len(e.asks) for e in events if isinstance(e, BookDelta))
    for counts in books.counts.values():
        out["gaps"] += counts.gaps
        out["checksums_ok"] += counts.checksums_ok
        out["checksum_failures"] += counts.checksum_failures
        out["dropped_stale"] += counts.dropped_stale
    return out


def run(fixtures_dir: Path | None, seconds: float = 2.0) -> dict[str, Any]:
    """Benchmark the engine; recorded sessions when ``fixtures_dir`` has them, else synthetic."""
    datasets: dict[str, list[Event]] = {}
    if fixtures_dir is not None and fixtures_dir.is_dir():
        for name, load in RECORDED.items():
            try:
                datasets[name] = load(fixtures_dir)
            except FileNotFoundError:
                continue
    mode = "recorded" if datasets else "synthetic"
    if not datasets:
        datasets["synthetic"] = synthetic()
    share = seconds / len(datasets)
    results = {name: _measure(events, share) for name, events in datasets.items()}
    levels = sum(r["level_updates_per_pass"] * r["passes"] for r in results.values())
    messages = sum(r["messages"] * r["passes"] for r in results.values())
    elapsed = sum(r["seconds"] for r in results.values())
    delta_rates = [r["delta_level_updates_per_second"] for r in results.values()]
    return {
        "mode": mode,
        "read_best_after_each_message": True,
        "datasets": results,
        "level_updates_per_second": round(levels / elapsed) if elapsed else None,
        "microseconds_per_message": round(elapsed / messages * 1e6, 3) if messages else None,
        "slowest_delta_level_updates_per_second": min((r for r in delta_rates if r), default=None),
    }


if __name__ == "__main__":  # python -m arb_orderbook.bench [fixtures_dir] [seconds]
    import sys

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print(json.dumps(run(folder, float(sys.argv[2]) if len(sys.argv) > 2 else 2.0), indent=2))
