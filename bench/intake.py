"""Lead intake throughput against the bare Flask stack, on SQLite and (if available) Postgres.

    make bench        or    python -m bench.intake [--requests N] [--concurrency C]

Each target runs under the same gunicorn settings on 127.0.0.1; the load comes from a
separate process (bench/load.py). Postgres is used when TEST_POSTGRES_URL points at a server
(`make bench` starts a throwaway one). Prints a table of leads/s, p50/p99 and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN = ["--workers", "2", "--threads", "4", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), *GUNICORN, "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=1)
                break
            except OSError as exc:
                if getattr(exc, "code", None):  # an HTTP error means the server is up
                    break
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def load(url: str, key: str, requests: int, concurrency: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.load", url, key, str(requests), str(concurrency)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def prepare(database_url: str, tmp: Path) -> tuple[dict[str, str], str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "FLASK_APP": "app:create_app",
        "DEMO_KEYS_FILE": str(tmp / f"keys-{uuid.uuid4().hex}.json"),
        "RATELIMIT_ENABLED": "0",
    }
    flask = str(BIN / "flask")
    subprocess.run([flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    out = subprocess.run(
        [flask, "exchange", "demo", "--json"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = next(a["api_key"] for a in json.loads(out.stdout) if a["role"] == "publisher")
    return env, key


def postgres_database() -> str | None:
    admin = os.environ.get("TEST_POSTGRES_URL")
    if not admin:
        return None
    import psycopg

    name = f"exchange_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with serve("bench.bare:app", dict(os.environ)) as base:
            bare = load(base + "/bare", "-", args.requests, args.concurrency)
        rows.append(("bare Flask JSON", bare))
        targets = [("intake, SQLite", f"sqlite:///{tmp / 'bench.db'}")]
        pg = postgres_database()
        if pg:
            targets.append(("intake, Postgres", pg))
        for label, url in targets:
            env, key = prepare(url, tmp)
            with serve("wsgi:app", env) as base:
                load(base + "/api/v1/leads", key, 100, args.concurrency)  # warm-up
                rows.append(
                    (label, load(base + "/api/v1/leads", key, args.requests, args.concurrency))
                )
    print(
        f"\n{args.requests} POSTs per target, {args.concurrency} concurrent connections, "
        f"gunicorn {' '.join(GUNICORN[:4])}, {os.cpu_count()} cores\n"
    )
    print(f"{'target':<18} {'ok':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs bare':>8}")
    for label, r in rows:
        ratio = r["per_second"] / bare["per_second"]
        print(
            f"{label:<18} {r['ok']:>6} {r['per_second']:>8.0f} {r['p50_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f} {ratio:>8.2f}"
        )


if __name__ == "__main__":
    main()
