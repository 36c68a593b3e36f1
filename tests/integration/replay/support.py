"""Running `arb replay` in this process, for the replay tests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from arb_cli.main import main


def arb_replay(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    """``arb replay ... --json`` through the real command: exit code, summary, stderr."""
    with pytest.raises(SystemExit) as exited:
        main(["replay", *args, "--json"])
    captured = capsys.readouterr()
    code = exited.value.code
    return int(code) if isinstance(code, int) else 1, json.loads(captured.out), captured.err
