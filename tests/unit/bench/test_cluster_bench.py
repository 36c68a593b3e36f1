"""The pipeline_cluster section's arithmetic and rows (arb_bench.cluster): pure, no I/O."""

from __future__ import annotations

from arb_bench.cluster import versus_standalone
from arb_bench.report import parse_sections, table


def _point(p50: float, p99: float, book_p50: float) -> dict[str, object]:
    book = {"p50_ms": book_p50, "p99_ms": 4.0}
    return {"delivered_per_s": 1001, "p50_ms": p50, "p99_ms": p99, "opportunities": 12,
            "backlog_growing": False, "ws_to_book": book}  # fmt: skip


def test_cluster_over_server_at_p50_and_p99_and_nothing_for_an_error() -> None:
    assert versus_standalone(_point(3.0, 9.0, 2.0), _point(1.5, 3.0, 1.0)) == {
        "ws_to_opportunity_p50": 2.0, "ws_to_opportunity_p99": 3.0,
        "ws_to_book_p50": 2.0, "ws_to_book_p99": 1.0,
    }  # fmt: skip
    assert versus_standalone({"error": "books not LIVE"}, _point(1.5, 3.0, 1.0)) == {}


def test_two_rows_per_rate_side_by_side() -> None:
    assert "pipeline_cluster" in parse_sections("pipeline,pipeline_cluster")
    point = {"rate": 1000, "standalone": _point(1.5, 3.0, 1.0), "cluster": _point(3.0, 9.0, 2.0),
             "cluster_nodes": "3 primaries + 3 replicas",
             "cluster_vs_standalone": versus_standalone(_point(3.0, 9.0, 2.0),
                                                        _point(1.5, 3.0, 1.0))}  # fmt: skip
    rows = table({"pipeline_cluster": [point]}).splitlines()[2:]
    assert len(rows) == 2
    assert rows[0].startswith("| pipeline 1,000 msgs/s on one Redis server | ws -> opportunity "
                              "p50 1.5 ms, p99 3.0 ms (n=12)")  # fmt: skip
    assert "on a Redis Cluster (3 primaries + 3 replicas)" in rows[1]
    assert "cluster / server: ws -> opportunity p50 2.0x, p99 3.0x, ws -> book view p50 2.0x" \
        in rows[1]  # fmt: skip
