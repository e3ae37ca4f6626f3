"""Real services for the tests, each a subprocess on 127.0.0.1: Redis and Celery workers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.localstripe import free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_ARGS = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"]
WORKER_COMMAND = [
    *(sys.executable, "-m", "celery", "-A", "celery_app:celery", "worker", "--beat"),
    *("--pool", "solo", "--loglevel", "INFO"),
    *("--without-heartbeat", "--without-gossip", "--without-mingle"),
]


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{what} did not start within {seconds:g} s")


def redis_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None
    )


class RedisServer:
    """redis-server from the system packages, in memory only, on a free port."""

    def __init__(self, binary: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process, "redis-server", 15)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class CeleryWorker:
    """`celery -A celery_app:celery worker --beat` against a database and a Redis broker."""

    def __init__(self, database_url: str, redis_url: str, log: Path, **env: str) -> None:
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "celery_app:celery",
                "worker",
                "--beat",
                "--pool",
                "solo",
                "--loglevel",
                "INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-s",
                str(log.with_suffix(".beat")),
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "RATELIMIT_ENABLED": "0",
                **env,
            },
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, whatever it was doing is cut off."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._out.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._out.close()
