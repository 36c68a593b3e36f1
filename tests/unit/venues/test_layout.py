"""Every venue folder has the one layout of ``arb_venues.spec`` (VENUE_FILES), nothing the
layout does not name, its spec under its own name, and a live side that never reaches into
its ``sim/`` package."""

from __future__ import annotations

import ast
import fnmatch
import importlib
from pathlib import Path

import arb_venues
import pytest
from arb_venues import VENUE_NAMES, get_venue
from arb_venues.spec import OPTIONAL_VENUE_FILES, VENUE_FILES, VenueSpec

pytestmark = pytest.mark.unit

PACKAGE = Path(arb_venues.__file__).parent
# Folders of arb_venues that are shared code, not venues.
SHARED = {"common", "__pycache__"}


def venue_files(venue: str) -> list[str]:
    folder = PACKAGE / venue
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def test_every_folder_of_the_package_is_a_registered_venue() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir()} - SHARED
    assert folders == set(VENUE_NAMES), "a venue folder must have its line in VENUE_NAMES"


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_venue_folder_has_every_canonical_file(venue: str) -> None:
    missing = [name for name in VENUE_FILES if not (PACKAGE / venue / name).is_file()]
    assert missing == [], f"{venue} lacks {missing} (layout: arb_venues.spec docstring)"


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_venue_folder_holds_nothing_the_layout_does_not_name(venue: str) -> None:
    def allowed(name: str) -> bool:
        if name in VENUE_FILES or (name.startswith("sim/") and name.endswith(".py")):
            return "/" not in name.removeprefix("sim/")  # no deeper packages
        return any(fnmatch.fnmatch(name, pattern) for pattern in OPTIONAL_VENUE_FILES)

    odd = [name for name in venue_files(venue) if not allowed(name)]
    assert odd == [], f"{venue}: {odd} are not in the layout (VENUE_FILES, OPTIONAL_VENUE_FILES)"


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_spec_is_the_folders_own_and_complete(venue: str) -> None:
    spec = get_venue(venue)
    assert isinstance(spec, VenueSpec) and spec.name == venue
    assert spec.market.venue == venue
    assert spec.trading is None or spec.trading.venue == venue
    assert spec.docs.title and spec.taker_fee and spec.maker_fee
    app = importlib.import_module(f"arb_venues.{venue}.sim.app")
    assert callable(app.create_app), f"{venue}/sim/app.py must define create_app(market)"
    checksum = PACKAGE / venue / "checksum.py"
    if checksum.is_file():
        module = importlib.import_module(f"arb_venues.{venue}.checksum")
        assert spec.checksum is module.CHECKSUM, "the spec must carry checksum.py's CHECKSUM"
    else:
        assert spec.checksum is None, "a venue with a checksum keeps it in checksum.py"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_live_modules_never_import_the_sim_side(venue: str) -> None:
    sim = f"arb_venues.{venue}.sim"
    offenders = [
        name
        for name in venue_files(venue)
        if name.endswith(".py") and not name.startswith("sim/")
        and any(n == sim or n.startswith(sim + ".") for n in _imports(PACKAGE / venue / name))
    ]  # fmt: skip
    assert offenders == [], f"{offenders} import {sim}: only the simulator may (VenueSpec.sim_app)"
