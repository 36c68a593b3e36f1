"""What a child of arb run / arb soak is started with: its credentials only, and glibc's
malloc arenas capped unless the operator set their own."""

from __future__ import annotations

import pytest
from arb_cli.supervisor import MALLOC_ARENA_MAX, child_environment

pytestmark = pytest.mark.unit


def test_a_child_gets_capped_malloc_arenas_unless_the_environment_sets_them() -> None:
    assert child_environment({}, base={})["MALLOC_ARENA_MAX"] == MALLOC_ARENA_MAX
    assert child_environment({}, base={"MALLOC_ARENA_MAX": "8"})["MALLOC_ARENA_MAX"] == "8"
    assert child_environment({"MALLOC_ARENA_MAX": "4"}, base={})["MALLOC_ARENA_MAX"] == "4"


def test_a_child_sees_only_the_credentials_it_is_given() -> None:
    base = {"ARB_EXECUTOR_CREDENTIALS__OKX__SECRET": "s", "PATH": "/bin"}
    assert "ARB_EXECUTOR_CREDENTIALS__OKX__SECRET" not in child_environment({}, base=base)
    got = child_environment({}, ["ARB_EXECUTOR_CREDENTIALS__OKX"], base=base)
    assert got["ARB_EXECUTOR_CREDENTIALS__OKX__SECRET"] == "s" and got["PATH"] == "/bin"
