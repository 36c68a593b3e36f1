"""arb redis: a private Redis (or, with --cluster, a Redis Cluster) for experiments; prints
its URL (for ARB_REDIS_URL), stops every server it started on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from arb_runtime.cluster import EmbeddedCluster
from arb_runtime.embedded import EmbeddedRedis
from arb_runtime.errors import EmbeddedRedisError


def run(args: argparse.Namespace) -> int:
    server: EmbeddedRedis | EmbeddedCluster
    try:
        if args.cluster:
            if args.port:
                print("arb redis: --port and --cluster do not go together (cluster nodes take "
                      "free ports); drop --port", file=sys.stderr)  # fmt: skip
                return 2
            server = EmbeddedCluster(primaries=args.primaries, replicas=args.replicas,
                                     host=args.host).start()  # fmt: skip
        else:
            server = EmbeddedRedis(port=args.port or None, host=args.host).start()
    except EmbeddedRedisError as exc:
        print(f"arb redis: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the address is not one of this host's
        print(f"arb redis: --host {args.host}: {exc.strerror or exc}; give an address of this "
              "host (ip -brief address lists them)", file=sys.stderr)  # fmt: skip
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(server.url, flush=True)
    if isinstance(server, EmbeddedCluster):
        for node in server.topology():
            role = "primary" if node.primary else f"replica of {node.primary_id}"
            print(f"  {server.host}:{node.port} {node.node_id[:8]} {role}", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
