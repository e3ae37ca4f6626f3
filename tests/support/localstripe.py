"""The localstripe emulator as a subprocess on 127.0.0.1 and a free port, for the test suite."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "sk_test_exchange_localstripe"
WEBHOOK_SECRET = "whsec_exchange_localstripe_test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalStripe:
    """A running emulator; `url` is the API base the stripe SDK is pointed at."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "localstripe_server.py"),
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("localstripe exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("localstripe did not start within 30 s")

    def register_webhook(self, url: str, secret: str = WEBHOOK_SECRET, name: str = "tests") -> None:
        """Ask the emulator to POST its signed events to `url`."""
        response = requests.post(
            f"{self.url}/_config/webhooks/{name}",
            data={"url": url, "secret": secret},
            headers={"Authorization": f"Bearer {SECRET_KEY}"},
            timeout=5,
        )
        response.raise_for_status()

    def unregister_webhooks(self) -> None:
        # localstripe has no delete: point the hook at a closed port (delivery fails quietly).
        self.register_webhook(f"http://127.0.0.1:{free_port()}/nowhere")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
