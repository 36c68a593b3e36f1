"""ARB_METRICS_PORT under arb run is a base: one fixed port per process, never two the same,
a taken one refused before anything starts."""

from __future__ import annotations

import socket

import pytest
from arb_cli import metrics_ports
from arb_cli.metrics_ports import HIGHEST_OFFSET, base_port, claim, offset, port_for
from arb_runtime.errors import ConfigError
from arb_venues import VENUE_NAMES

pytestmark = pytest.mark.unit

CHILDREN = [*metrics_ports.OFFSETS, *(f"ingest-{venue}" for venue in VENUE_NAMES)]


def test_every_process_of_arb_run_has_its_own_fixed_offset() -> None:
    offsets = [offset(child) for child in CHILDREN]
    assert None not in offsets and len(set(offsets)) == len(offsets)
    assert max(o for o in offsets if o is not None) == HIGHEST_OFFSET
    assert offset("ingest-okx") == metrics_ports.INGEST_FIRST + VENUE_NAMES.index("okx")
    assert offset("flaky") is None and offset("ingest-nowhere") is None


def test_the_base_is_checked_and_a_services_own_port_wins(monkeypatch) -> None:
    monkeypatch.delenv("ARB_METRICS_PORT", raising=False)
    monkeypatch.delenv("ARB_BOOK_METRICS_PORT", raising=False)
    assert base_port() == 0 and port_for("book", 0) is None
    monkeypatch.setenv("ARB_METRICS_PORT", "9311")
    assert (base_port(), port_for("book", 9311), port_for("ingest-binance", 9311)) == (
        9311, 9312, 9311 + metrics_ports.INGEST_FIRST)  # fmt: skip
    monkeypatch.setenv("ARB_BOOK_METRICS_PORT", "9400")
    assert port_for("book", 9311) == 9400 and claim("book", 9311) == {}
    for bad in ("lots", "-1", "65530"):
        monkeypatch.setenv("ARB_METRICS_PORT", bad)
        with pytest.raises(ConfigError, match=rf"ARB_METRICS_PORT='{bad}': not a base port"):
            base_port()


def test_a_taken_port_is_refused_with_the_process_and_the_way_out(monkeypatch) -> None:
    monkeypatch.delenv("ARB_DETECTOR_METRICS_PORT", raising=False)
    monkeypatch.delenv("ARB_METRICS_HOST", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        base = port - metrics_ports.OFFSETS["detector"]
        with pytest.raises(ConfigError) as refused:
            claim("detector", base)
    assert str(refused.value).startswith(
        f"ARB_METRICS_PORT={base}: port {port} (detector, base + 2) on 127.0.0.1: "
    )
    assert "choose another base" in str(refused.value)
    assert claim("detector", base) == {"ARB_DETECTOR_METRICS_PORT": str(port)}  # free again


def test_the_ports_are_written_as_prometheus_targets_named_like_the_compose_jobs(tmp_path):
    import json

    path = metrics_ports.write_targets(tmp_path, [("simulator", 9311), ("ingest-okx", 9322)])
    assert json.loads(path.read_text()) == [
        {"targets": ["127.0.0.1:9311"], "labels": {"job": "simulator"}},
        {"targets": ["127.0.0.1:9322"], "labels": {"job": "ingest-okx"}},
    ]
    jobs = (metrics_ports.Path(__file__).resolve().parents[3] / "deploy" / "prometheus"
            / "prometheus.yml").read_text()  # fmt: skip
    for job in CHILDREN:  # the same job names as the compose stack's scrape config
        assert f"job_name: {job}\n" in jobs, job
