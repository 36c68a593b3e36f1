"""The "one folder per venue" promise, made checkable: outside ``arb_venues/<venue>/`` no code
under ``libs/`` or ``services/`` imports a venue package by name or spells a venue name. The
registry line (``arb_venues/__init__.py``) is the one place that may; docstrings and comments
are prose, not code, and may name venues as examples; generated files and tests are not
scanned. So adding a venue touches nothing outside its folder but that line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from arb_venues import VENUE_NAMES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
VENUES_PACKAGE = ROOT / "libs" / "venues" / "src" / "arb_venues"
REGISTRY = VENUES_PACKAGE / "__init__.py"
NAME = re.compile(r"\b(" + "|".join(VENUE_NAMES) + r")\b", re.IGNORECASE)


def sources() -> list[Path]:
    venue_dirs = [VENUES_PACKAGE / venue for venue in VENUE_NAMES]
    out = []
    for top in ("libs", "services"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if ".venv" in path.parts or "__pycache__" in path.parts or path == REGISTRY:
                continue
            if any(path.is_relative_to(d) for d in venue_dirs):
                continue
            out.append(path)
    return out


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    docs = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for module in modules:
            parts = module.split(".")
            if len(parts) > 1 and parts[0] == "arb_venues" and parts[1] in VENUE_NAMES:
                found.append(f"line {node.lineno}: imports {module}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            match = NAME.search(node.value)
            if match:
                found.append(f"line {node.lineno}: spells {match.group(0)!r} in {node.value!r}")
    return found


def test_no_code_outside_a_venue_folder_names_a_venue() -> None:
    files = sources()
    assert len(files) > 100  # the scan sees the code base
    problems = {str(path.relative_to(ROOT)): v for path in files if (v := violations(path))}
    assert problems == {}, "move these venue facts into the venue's folder / VenueSpec"


def test_the_scan_catches_an_import_and_a_spelled_name(tmp_path: Path) -> None:
    """Negative control on a file written to break both rules (and one prose mention)."""
    venue = VENUE_NAMES[0]
    bad = tmp_path / "bad.py"
    bad.write_text(
        f'"""Docstrings may say {venue}."""\n'
        f"from arb_venues.{venue}.market import X  # noqa\n"
        f'FEES = {{"{venue.upper()}": "0.001"}}\n'
        f"# a comment may say {venue} too\n"
    )
    found = violations(bad)
    assert len(found) == 3, found  # the module, the imported name and the string
    assert any("imports" in f for f in found) and any("spells" in f for f in found)
