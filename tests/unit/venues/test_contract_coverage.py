"""Every venue runs the whole adapter contract: a test_contract module per venue whose
TestContract subclasses AdapterContract and overrides none of its cases."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from arb_venues import VENUE_NAMES

from tests.conftest import IN_CI
from tests.unit.venues.contract import AdapterContract

pytestmark = pytest.mark.unit

CASES = sorted(name for name in dir(AdapterContract) if name.startswith("test_"))


@pytest.mark.parametrize("venue", VENUE_NAMES)
def test_venue_runs_every_contract_case(venue: str, fixtures_dir: Path) -> None:
    assert (Path(__file__).parent / venue / "test_contract.py").is_file()
    try:
        module = importlib.import_module(f"tests.unit.venues.{venue}.test_contract")
    except pytest.skip.Exception:  # its recording is missing
        if IN_CI:
            raise
        pytest.skip(f"{venue}: recorded data missing")
    contract = module.TestContract
    assert issubclass(contract, AdapterContract)
    assert contract.case.venue == venue
    overridden = [n for n in CASES if getattr(contract, n) is not getattr(AdapterContract, n)]
    assert overridden == [], f"{venue} replaces contract cases {overridden}"
    assert len(CASES) >= 10
