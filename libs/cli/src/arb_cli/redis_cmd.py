"""arb redis: a private Redis for experiments; prints its URL, stops on Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import threading

from arb_runtime.embedded import EmbeddedRedis


def run(args: argparse.Namespace) -> int:
    server = EmbeddedRedis(port=args.port or None).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(server.url, flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
