"""`arb --version` prints the installed version and exits 0."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from arb_cli.main import main

pytestmark = pytest.mark.unit


def test_arb_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"arb {version('arb-cli')}"
