"""The peers, measured live: cryptofeed and ccxt in their own environment, fed the same frames.

``env``: the separate bench environment (``.bench-peers``, pinned versions, never the
engine's ``.venv`` and never a runtime dependency). ``worker.py``: one process per
implementation (ours, cryptofeed, ccxt) that replays a recording on request and times itself;
``drive_*.py``: what each implementation's replay is. Only ``env`` runs in the engine's
interpreter; the worker and the peer drivers import nothing of the engine.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "worker.py"
