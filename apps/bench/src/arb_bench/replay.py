"""Replay vs the peers, measured live: ours, cryptofeed and ccxt on the same frames, in turn.

For every replay set (``arb_bench.recordings``) the frames are merged once, as ``arb replay``
merges them, into one file that every implementation reads. One worker process per
implementation (``arb_bench.peers.worker``: ours in the engine's interpreter, the peers in
``.bench-peers``) loads it and, on request, replays it from fresh state, timing only its frame
loop. Passes alternate one by one (ours, cryptofeed, ccxt, ours, cryptofeed, ccxt, ...),
``loops`` each in a round, for ``repeats`` rounds, so each implementation sees the same
machine state (a drift of the machine's speed lands on all of them, not on one's block of
passes), and one round of one set gives one figure per implementation: the median seconds
of its ``loops`` passes.

The report: per set, our frames/s and level updates/s (median over the rounds), each peer's,
each peer's ratio (its seconds / ours in the same round) with its spread (min / median / max
over the rounds), and the ratio against the best peer of each round. Every implementation's
final books (best bid and ask of each) are compared with ours, so a driver that lost frames
shows. Without the peers (no network to install them) the report says so and has no ratios.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from arb_bench.peers import WORKER
from arb_bench.peers.env import PeerEnv
from arb_bench.recordings import ReplaySet, write_frames

PEERS = ("cryptofeed", "ccxt")


class Worker:
    """One replay worker process, asked one JSON line at a time."""

    def __init__(self, name: str, python: str, log: Path) -> None:
        self.name = name
        self._log: IO[bytes] = log.open("ab")
        self.proc = subprocess.Popen([python, str(WORKER), name], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log,
                                     text=True)  # fmt: skip

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            return {"error": f"{self.name} worker gone: {exc}"}
        line = self.proc.stdout.readline()
        if not line:
            return {
                "error": f"{self.name} worker exited ({self.proc.poll()}); see {self._log.name}"
            }
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()


def _failed(passes: list[dict[str, Any]]) -> bool:
    return bool(passes) and "seconds" not in passes[-1]


def _round(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """One round of one implementation from its passes (one request each): the last answer,
    with every pass's seconds; a pass that failed or was refused stands for the round."""
    last = passes[-1]
    if any("seconds" not in p for p in passes):
        return next(p for p in passes if "seconds" not in p)
    return last | {
        "seconds": [s for p in passes for s in p["seconds"]],
        "cpu_seconds": [s for p in passes for s in p.get("cpu_seconds") or []],
    }


def spread(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"min": round(min(values), 2), "median": round(statistics.median(values), 2),
            "max": round(max(values), 2)}  # fmt: skip


def _same_tops(ours: Any, theirs: Any) -> bool:
    def close(a: float | None, b: float | None) -> bool:
        return a == b or (a is not None and b is not None and abs(a - b) <= 1e-9 * abs(a))

    return (
        isinstance(ours, list)
        and isinstance(theirs, list)
        and len(ours) == len(theirs)
        and all(close(a[0], b[0]) and close(a[1], b[1]) for a, b in zip(ours, theirs, strict=True))
    )


def _set_report(
    replay_set: ReplaySet, frames: int, answers: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    ours = answers["arb"]
    failed = next((a for a in ours if "seconds" not in a), None)
    if failed is not None:
        return {"venue": replay_set.venue, "source": replay_set.source, "error": failed}
    our_seconds = [statistics.median(a["seconds"]) for a in ours]
    our_cpu = [statistics.median(a.get("cpu_seconds") or [0.0]) for a in ours]
    checks = ours[-1]["checks"]
    median_s = statistics.median(our_seconds) or 1e-9
    out: dict[str, Any] = {
        "venue": replay_set.venue,
        "protocol": replay_set.protocol,
        "source": replay_set.source,
        **checks,
        "frames_per_s": round(frames / median_s),
        "level_updates_per_s": round(checks["level_updates"] / median_s),
        "seconds_per_pass": [round(s, 6) for s in our_seconds],
        "measures": ours[-1]["measures"],
        "book": ours[-1].get("book", ""),  # native (compiled sides) or pure (docs/native.md)
        "peers": {},
    }
    best: list[float] = []
    best_cpu: list[float] = []
    for name, rounds in answers.items():
        if name == "arb":
            continue
        first = rounds[0] if rounds else {"error": "not asked"}
        if "seconds" not in first or any("seconds" not in r for r in rounds):
            bad = next(r for r in rounds if "seconds" not in r) if rounds else first
            out["peers"][name] = {k: v for k, v in bad.items() if k != "trace"}
            continue
        peer_seconds = [statistics.median(r["seconds"]) for r in rounds]
        peer_cpu = [statistics.median(r.get("cpu_seconds") or [0.0]) for r in rounds]
        ratios = [p / o for p, o in zip(peer_seconds, our_seconds, strict=True)]
        cpu_ratios = [p / o for p, o in zip(peer_cpu, our_cpu, strict=True) if p and o]
        out["peers"][name] = {
            "frames_per_s": round(frames / (statistics.median(peer_seconds) or 1e-9)),
            "seconds_per_pass": [round(s, 6) for s in peer_seconds],
            "ratio": spread(ratios),
            "cpu_ratio": spread(cpu_ratios),
            "same_final_books": _same_tops(ours[-1].get("tops"), rounds[-1].get("tops")),
            "checks": rounds[-1].get("checks", {}),
            "measures": rounds[-1].get("measures", ""),
            **({"note": rounds[-1]["note"]} if rounds[-1].get("note") else {}),
        }
        best = ([min(b, p) for b, p in zip(best, peer_seconds, strict=True)] if best
                else list(peer_seconds))  # fmt: skip
        if all(peer_cpu):
            best_cpu = ([min(b, p) for b, p in zip(best_cpu, peer_cpu, strict=True)] if best_cpu
                        else list(peer_cpu))  # fmt: skip
    if best:
        ratios = [b / o for b, o in zip(best, our_seconds, strict=True)]
        out["vs_best_peer"] = spread(ratios)
        cpu_ratios = [b / o for b, o in zip(best_cpu, our_cpu, strict=True) if b and o]
        out["vs_best_peer_cpu"] = spread(cpu_ratios)
    return out


def bench_replay(
    sets: Sequence[ReplaySet],
    missing: dict[str, str],
    peers: PeerEnv | None,
    loops: int,
    repeats: int,
    folder: Path,
) -> dict[str, Any]:
    """Every set, ``repeats`` rounds of ``loops`` passes per implementation, alternating."""
    workers = [Worker("arb", sys.executable, folder / "worker-arb.log")]
    if peers is not None and peers.python:
        workers += [Worker(name, peers.python, folder / f"worker-{name}.log") for name in PEERS]
    files = {s.name: write_frames(s, folder) for s in sets}
    answers: dict[str, dict[str, list[dict[str, Any]]]] = {
        s.name: {w.name: [] for w in workers} for s in sets
    }
    try:
        for _ in range(repeats):
            for replay_set in sets:
                request = {"set": replay_set.name, "venue": replay_set.venue,
                           "protocol": replay_set.protocol,
                           "frames": str(files[replay_set.name][0]), "loops": 1}  # fmt: skip
                passes: dict[str, list[dict[str, Any]]] = {w.name: [] for w in workers}
                for done in range(loops):  # pass by pass: ours, cryptofeed, ccxt, ours, ...
                    for worker in workers:
                        got = answers[replay_set.name][worker.name]
                        if (got and "unsupported" in got[0]) or _failed(passes[worker.name]):
                            continue  # it will not learn the venue in the next pass or round
                        ask = request | ({"tops": done == loops - 1} if worker.name == "arb"
                                         else {})  # fmt: skip
                        passes[worker.name].append(worker.ask(ask))
                for worker in workers:
                    if passes[worker.name]:
                        answers[replay_set.name][worker.name].append(_round(passes[worker.name]))
    finally:
        for worker in workers:
            worker.close()
        for frames_file, _ in files.values():  # the recordings stay where they were
            frames_file.unlink(missing_ok=True)
    out: dict[str, Any] = {s.name: _set_report(s, files[s.name][1], answers[s.name]) for s in sets}
    out["not_measured"] = missing
    out["peers_environment"] = (
        {"python": peers.python, "versions": peers.versions}
        if peers is not None and peers.python
        else {"unavailable": peers.reason if peers else "peers turned off (--peers off)"}
    )
    out["method"] = (f"{repeats} rounds x {loops} passes per implementation, alternating pass "
                     "by pass (ours, cryptofeed, ccxt, ours, ...); a "
                     "round's figure is the median of its passes; ratio = peer seconds / ours "
                     "in the same round (> 1: we are faster); spread = min/median/max over "
                     "the rounds; cpu_ratio: the same with each worker's own CPU time "
                     "(process_time), which other processes' work does not inflate")  # fmt: skip
    return out
