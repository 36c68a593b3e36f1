"""Ingest shard settings: explicit index/count as before, or auto with a count."""

from __future__ import annotations

import pytest
from arb_ingest.config import IngestSettings
from arb_runtime.config import load_settings
from arb_runtime.errors import ConfigError

pytestmark = pytest.mark.unit


def test_explicit_shard_settings_still_work(monkeypatch):
    monkeypatch.setenv("ARB_INGEST_SHARD_INDEX", "1")
    monkeypatch.setenv("ARB_INGEST_SHARD_COUNT", "3")
    settings = load_settings(IngestSettings)
    assert (settings.shard_index, settings.shard_count) == (1, 3)


def test_auto_shard_index_is_accepted_with_a_count(monkeypatch):
    monkeypatch.setenv("ARB_INGEST_SHARD_INDEX", "auto")
    monkeypatch.setenv("ARB_INGEST_SHARD_COUNT", "2")
    monkeypatch.setenv("ARB_INGEST_SHARD_LEASE_MS", "3000")
    settings = load_settings(IngestSettings)
    assert (settings.shard_index, settings.shard_count, settings.shard_lease_ms) == (
        "auto",
        2,
        3000,
    )


@pytest.mark.parametrize(
    ("index", "count", "match"),
    [("2", "2", "index must be in 0..count-1"), ("first", "2", "ARB_INGEST_SHARD_INDEX")],
)
def test_a_bad_shard_index_is_one_clear_error(monkeypatch, index, count, match):
    monkeypatch.setenv("ARB_INGEST_SHARD_INDEX", index)
    monkeypatch.setenv("ARB_INGEST_SHARD_COUNT", count)
    with pytest.raises(ConfigError, match=match):
        load_settings(IngestSettings)
