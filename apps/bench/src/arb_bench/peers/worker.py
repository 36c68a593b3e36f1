"""One replay worker process: ``python worker.py DRIVER`` (DRIVER: arb, cryptofeed or ccxt).

The replay bench starts one worker per implementation, each with its own interpreter (ours in
the engine's environment, the peers in the separate bench environment), and asks them in turn
over stdin/stdout, one JSON line each way:

    -> {"set": "okx", "venue": "okx", "protocol": null, "frames": "/tmp/.../okx.jsonl", "loops": 3}
       (ours only: "tops": false, no untimed pass for the final books)
    <- {"seconds": [0.0071, 0.0069, 0.0070], "checks": {...}, "measures": "..."}
    <- {"unsupported": "why"}  |  {"error": "what went wrong"}

``frames`` is the recording as the replay bench merged it (one JSON object per line: ``kind``
ws|rest, ``url``, ``ts``, ``raw``), the same file for every worker. Each loop is one pass from
fresh state, timed by the driver around the frame loop only (as ``arb replay`` times itself).
This file and the peer drivers import nothing from the engine: they run in the peers'
interpreter, where only the standard library and the peer are installed.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any

# The peers' interpreter has none of the engine installed: the folder holding arb_bench goes on
# its path, so the drivers import as arb_bench.peers.* (those import only the standard library
# and their peer; arb_bench's and arb_bench.peers' own __init__ import nothing).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

DRIVERS = {"arb": "drive_arb", "cryptofeed": "drive_cryptofeed", "ccxt": "drive_ccxt"}


def read_frames(path: str) -> list[tuple[str, str, float, str]]:
    """(kind, url, ts, raw) of every frame, in order."""
    out = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            out.append((item["kind"], item["url"], item["ts"], item["raw"]))
    return out


def serve(driver_name: str) -> None:
    driver: Any = importlib.import_module(f"arb_bench.peers.{DRIVERS[driver_name]}")
    cache: dict[str, list[tuple[str, str, float, str]]] = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            frames = cache.get(request["frames"])
            if frames is None:
                frames = cache[request["frames"]] = read_frames(request["frames"])
            extra = {"want_tops": bool(request["tops"])} if "tops" in request else {}
            answer = driver.measure(request["venue"], request.get("protocol"), frames,
                                    int(request["loops"]), **extra)  # fmt: skip
        except Exception as exc:  # one set failing must not end the others
            answer = {"error": f"{type(exc).__name__}: {exc}",
                      "trace": traceback.format_exc()[-1500:]}  # fmt: skip
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def versions() -> dict[str, str]:
    """Versions of what the peer drivers use, for the report."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in ("cryptofeed", "ccxt", "order-book", "yapic.json", "orjson"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


if __name__ == "__main__":
    if sys.argv[1:] == ["--versions"]:
        print(json.dumps(versions()))
    else:
        serve(sys.argv[1])
