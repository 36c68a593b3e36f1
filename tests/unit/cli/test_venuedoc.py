"""The per-venue parts of docs/venues.md, README.md and docker-compose.yml are what
``arb venues`` generates from the registry: a new venue needs no hand edit there."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from arb_cli import venuedoc
from arb_runtime.errors import ConfigError
from arb_venues import VENUE_NAMES, get_venue

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("relative", "name"),
    [(f, n) for f, regions in venuedoc.REGIONS.items() for n in regions],
)
def test_the_committed_region_is_what_the_registry_generates(relative: str, name: str) -> None:
    prefix, make = venuedoc.REGIONS[relative][name]
    committed = venuedoc.region((ROOT / relative).read_text(), prefix, name)
    assert committed is not None, f"{relative} lost its `arb venues` markers"
    assert committed == make(), "run: uv run arb venues --write (or make generate)"


def test_every_venue_appears_once_in_each_generated_part() -> None:
    sections = venuedoc.venues_markdown()
    readme = venuedoc.readme_table()
    anchors = "x-a: &service {}\nx-b: &ingest {}\nx-c: &env {}\nservices:\n"
    services = yaml.safe_load(anchors + venuedoc.compose_services())
    for venue in VENUE_NAMES:
        spec = get_venue(venue)
        assert sections.count(f"### {spec.docs.title} (`{venue}`)") == 1
        assert sum(line.startswith(f"| {spec.docs.title} |") for line in readme.splitlines()) == 1
        assert services["services"][f"ingest-{venue}"]["environment"]["ARB_INGEST_VENUE"] == venue
        assert spec.taker_fee and f"{float(spec.taker_fee) * 100:g} %" in sections


def test_write_rewrites_only_the_regions(tmp_path: Path) -> None:
    for relative in venuedoc.REGIONS:
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (ROOT / relative).read_text()
        prefix, _ = next(iter(venuedoc.REGIONS[relative].values()))
        name = next(iter(venuedoc.REGIONS[relative]))
        stale = venuedoc.rewrite(text, prefix, name, "stale\n")
        target.write_text("hand-written head\n" + stale)
    assert sorted(venuedoc.write(tmp_path)) == sorted(venuedoc.REGIONS)
    for relative in venuedoc.REGIONS:
        text = (tmp_path / relative).read_text()
        assert text == "hand-written head\n" + (ROOT / relative).read_text()
    assert venuedoc.write(tmp_path) == []  # current now: nothing to rewrite


def test_a_file_without_markers_is_an_error() -> None:
    with pytest.raises(ConfigError, match="markers"):
        venuedoc.rewrite("no markers here\n", "#", "services", "x\n")


def test_each_venue_lists_its_endpoints_from_its_market_class() -> None:
    """The ping, server-time and public-trades rows come from the market class (the paths the
    client calls), the clock table has one row per venue, and a venue whose class names no
    time endpoint says so instead of a path."""
    sections = venuedoc.venues_markdown().split("\n### ")
    clocks = venuedoc.clocks_table().splitlines()
    for venue in VENUE_NAMES:
        market = get_venue(venue).market
        (section,) = [s for s in sections if f"(`{venue}`)" in s.splitlines()[0]]
        assert market.trades_path, f"{venue} names no public trades call"
        assert f"| Public trades | `GET {market.trades_path}` |" in section
        time_row = [line for line in section.splitlines() if line.startswith("| Server time |")]
        if market.server_time_path:
            assert f"`GET {market.server_time_path}`" in time_row[0]
        else:
            assert "none documented" in time_row[0]
        assert sum(line.startswith(f"| {venue} |") for line in clocks) == 1
