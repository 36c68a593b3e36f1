"""The pipeline on a Redis Cluster next to one Redis server, at the same rates, in one run.

At each rate ``arb_bench.pipeline.pipeline_point`` runs twice, one after the other with the
same simulator settings, venues, symbols and window: first on one embedded Redis server, then
on an embedded cluster of 3 primaries + 3 replicas (``arb_runtime.cluster``, the one ``arb
run --cluster`` starts) through ``redis+cluster://``. Both servers are started before the
first point, so both measurements see the same machine with the same processes. The
``cluster_vs_standalone`` ratios are cluster / server at p50 and p99: what the cluster costs
per hop (one XREAD per slot, a pipeline split per node, replication to a replica).

Redis's own CPU is counted on the server only (a cluster is six processes).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arb_runtime.cluster import EmbeddedCluster
from arb_runtime.embedded import EmbeddedRedis

from arb_bench.pipeline import pipeline_point


def _ratio(ours: float | None, bare: float | None) -> float | None:
    return round(ours / bare, 2) if ours and bare else None


def versus_standalone(cluster: dict[str, Any], standalone: dict[str, Any]) -> dict[str, Any]:
    """Cluster over server, p50 and p99, for ws -> opportunity and ws -> book view."""
    if "error" in cluster or "error" in standalone:
        return {}
    return {
        "ws_to_opportunity_p50": _ratio(cluster["p50_ms"], standalone["p50_ms"]),
        "ws_to_opportunity_p99": _ratio(cluster["p99_ms"], standalone["p99_ms"]),
        "ws_to_book_p50": _ratio(
            cluster["ws_to_book"]["p50_ms"], standalone["ws_to_book"]["p50_ms"]
        ),
        "ws_to_book_p99": _ratio(
            cluster["ws_to_book"]["p99_ms"], standalone["ws_to_book"]["p99_ms"]
        ),
    }


async def bench_cluster(rates: Sequence[int], window_s: float) -> list[dict[str, Any]]:
    log_dir = Path(tempfile.mkdtemp(prefix="arb-bench-cluster-"))
    out: list[dict[str, Any]] = []
    with EmbeddedRedis() as server, EmbeddedCluster(primaries=3, replicas=1) as cluster:
        for rate in rates:
            alone = await pipeline_point(server.url, server.pid, rate, window_s, log_dir)
            spread = await pipeline_point(cluster.url, None, rate, window_s, log_dir)
            out.append({
                "rate": rate, "standalone": alone, "cluster": spread,
                "cluster_nodes": "3 primaries + 3 replicas",
                "cluster_vs_standalone": versus_standalone(spread, alone),
            })  # fmt: skip
    return out


def _line(p: dict[str, Any]) -> str:
    if "error" in p:
        return str(p["error"])
    book = p["ws_to_book"]
    return (f"ws -> opportunity p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms "
            f"(n={p['opportunities']}); ws -> book view p50 {book['p50_ms']} ms, p99 "
            f"{book['p99_ms']} ms; {p['delivered_per_s']:,} delivered/s; backlog growing: "
            f"{'yes' if p['backlog_growing'] else 'no'}")  # fmt: skip


def cluster_rows(points: list[dict[str, Any]]) -> list[str]:
    """The table rows of the ``pipeline_cluster`` section."""
    rows = []
    for p in points:
        rate = f"{p['rate']:,} msgs/s"
        rows.append(f"| pipeline {rate} on one Redis server | {_line(p['standalone'])} |")
        vs = p.get("cluster_vs_standalone", {})
        rows.append(f"| pipeline {rate} on a Redis Cluster ({p['cluster_nodes']}) | "
                    f"{_line(p['cluster'])}; cluster / server: ws -> opportunity p50 "
                    f"{vs.get('ws_to_opportunity_p50')}x, p99 {vs.get('ws_to_opportunity_p99')}x, "
                    f"ws -> book view p50 {vs.get('ws_to_book_p50')}x |")  # fmt: skip
    return rows
