"""A buyer's webhook endpoint on 127.0.0.1 that checks the exchange's signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


class Receiver:
    """A buyer's endpoint: verifies X-Exchange-Signature, answers `script` codes in turn."""

    def __init__(self) -> None:
        self.secret = ""
        self.script: list[int] = []
        self.accepted: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.bad_signatures = 0
        self.hang_first = 0.0  # seconds the first request waits before it is answered
        self.hanging = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.keys.append(self.headers["Idempotency-Key"])
                if receiver.hang_first and len(receiver.keys) == 1:
                    receiver.hanging.set()
                    time.sleep(receiver.hang_first)
                code = receiver.script.pop(0) if receiver.script else 200
                if not receiver.verify(body, self.headers.get("X-Exchange-Signature", "")):
                    receiver.bad_signatures += 1
                    code = 400
                elif code == 200 and self.headers["Idempotency-Key"] not in {
                    a["key"] for a in receiver.accepted
                }:
                    receiver.accepted.append(
                        {"key": self.headers["Idempotency-Key"], "body": json.loads(body)}
                    )
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/leads"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, body: bytes, header: str) -> bool:
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        expected = hmac.new(
            self.secret.encode(), f"{parts.get('t')}.".encode() + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, parts.get("v1", ""))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
