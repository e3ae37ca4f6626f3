"""Run the localstripe emulator bound to 127.0.0.1 (development and tests only).

localstripe (GPL) is a test dependency: this launcher and the test suite start it as a
separate process; the application never imports it. Its own `localstripe` command listens
on every interface and reloads a pickle from /tmp, so we start its aiohttp app ourselves.

    python scripts/localstripe_server.py --port 8420
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web
from localstripe.resources import store
from localstripe.server import app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    store.clear()
    # Never persist between runs: every start is a clean emulator.
    store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    logging.basicConfig(level=logging.WARNING)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
