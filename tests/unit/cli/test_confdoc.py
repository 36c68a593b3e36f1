"""docs/configuration.md is what `arb config` prints: the settings classes themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from arb_cli.confdoc import markdown

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_configuration_doc_is_up_to_date() -> None:
    assert DOC.read_text() == markdown(), "run: uv run arb config > docs/configuration.md"


def test_every_service_and_setting_is_listed() -> None:
    text = markdown()
    for variable in ("ARB_INGEST_VENUE", "ARB_BOOK_VENUES", "ARB_DETECTOR_MIN_EDGE_BPS",
                     "ARB_EXECUTOR_MODE", "ARB_SIMULATOR_RATE", "ARB_REDIS_URL"):  # fmt: skip
        assert f"| `{variable}` |" in text
