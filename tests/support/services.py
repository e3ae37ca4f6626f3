"""Real services for the tests, each a subprocess on 127.0.0.1: Redis, Celery workers,
gunicorn and a private Postgres cluster that a test can stop and start."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
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
            # Its own process group: `--beat` runs the scheduler in a child process, which a
            # SIGKILL of the worker alone would leave behind, still sending tasks.
            start_new_session=True,
        )

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, whatever it was doing is cut off."""
        self._signal_group(signal.SIGKILL)
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
        self._signal_group(signal.SIGKILL)  # whatever of it is left (the beat child)
        self._out.close()


def postgres_bindir() -> str | None:
    """The directory of pg_ctl and initdb (as scripts/with-postgres.sh looks for them)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parent)
    if found:
        return str(found[-1].parent)
    pg_ctl = shutil.which("pg_ctl")
    return str(Path(pg_ctl).resolve().parent) if pg_ctl else None


class PostgresCluster:
    """A private Postgres cluster on 127.0.0.1 and a free port, that a test may stop and start
    (as scripts/with-postgres.sh; as root the server runs as the postgres user)."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="exchange-pgfault-"))
        self.run: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.run = ["runuser", "-u", "postgres", "--"]
        self.data = self.dir / "data"
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self.start()

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.run, f"{self.bindir}/{tool}", *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        log = str(self.dir / "log")
        self._pg("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl -m fast|immediate stop`: sessions are cut, open transactions lost."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py wsgi:app` on 127.0.0.1 and a free port, as production
    runs it (gthread workers, the app loaded in each worker after the fork)."""

    def __init__(self, log: Path, *, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.workers = workers
        self._out = log.open("ab")
        metrics = log.parent / f"{log.stem}-metrics"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "WEB_CONCURRENCY": str(workers),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                "RATELIMIT_ENABLED": "0",
                "LOG_LEVEL": "WARNING",
                "ACCESS_LOG": "0",
                **env,
            },
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        try:
            self.wait_ready(60)
        except BaseException:
            self.stop()
            raise

    def worker_pids(self) -> list[int]:
        """The master's children: its worker processes."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in children.split()]

    def wait_ready(self, seconds: float) -> None:
        """Until every worker is up and /healthz answers."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited at start:\n{self.output()}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn not ready within {seconds:g} s:\n{self.output()}")

    def kill_worker(self, pid: int) -> None:
        """SIGKILL one worker: its requests in flight are cut off; the master forks another."""
        os.kill(pid, signal.SIGKILL)

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._out.close()
