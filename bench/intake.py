"""The exchange under load, against the bare Flask stack: `make bench`.

    python -m bench.intake [--seconds S] [--connections C] [--sizes 1000,10000]

In one run on 127.0.0.1, each target served by gunicorn with the same settings and loaded by
wrk (a separate C process): the bare Flask JSON endpoint (bench/bare.py); then, on SQLite and
on Postgres (when TEST_POSTGRES_URL is set; `make bench` starts a throwaway server), for
1,000 and 10,000 active campaigns: direct posts of sellable leads (every one a new person in
a state where campaigns buy) and pings, one connection at a time, for their latency. Prints
a table: requests/s, p50/p99 latency, the ratio to the bare endpoint, and the share of posted
leads that sold.
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
from typing import Any

from bench import wrk
from bench.bodies import lead_bodies, ping_bodies

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GUNICORN = ["--workers", "2", "--threads", "4", "--log-level", "warning"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: str, env: dict[str, str]) -> Iterator[str]:
    """gunicorn serving `app` on a free port of 127.0.0.1 until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), *GUNICORN, "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
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
        proc.wait(timeout=30)


def new_database(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
    import psycopg

    admin = os.environ["TEST_POSTGRES_URL"]
    name = f"exchange_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + "/" + name


def seed(url: str, campaigns: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.seed", url, str(campaigns)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def lead_statuses(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    from config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM lead GROUP BY status")).all()
    engine.dispose()
    return {str(status).lower(): int(n) for status, n in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15, help="length of each load run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--sizes", default="1000,10000", help="active campaigns per run")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load = {"seconds": args.seconds, "connections": args.connections, "threads": 2}
    backends = ["sqlite"] + (["postgres"] if os.environ.get("TEST_POSTGRES_URL") else [])
    rows: list[tuple[str, dict[str, Any], str]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with serve("bench.bare:app", dict(os.environ)) as base:
            bare = wrk.run(base + "/bare", lead_bodies(2000, seed=99), **load)  # type: ignore[arg-type]
        rows.append(("bare Flask JSON", bare, ""))
        for backend in backends:
            for size in sizes:
                url = new_database(backend, tmp)
                key = seed(url, size)["publisher_key"]
                env = {**os.environ, "DATABASE_URL": url, "RATELIMIT_ENABLED": "0"}
                leads = lead_bodies(max(3000, 400 * args.seconds * 3), seed=size + len(backend))
                with serve("wsgi:app", env) as base:
                    wrk.run(base + "/api/v1/leads", lead_bodies(300, seed=7), key=key, seconds=3)
                    before = lead_statuses(url)
                    posts = wrk.run(base + "/api/v1/leads", leads, key=key, **load)  # type: ignore[arg-type]
                    after = lead_statuses(url)
                    pings = wrk.run(
                        base + "/api/v1/pings",
                        ping_bodies(2000),
                        key=key,
                        seconds=max(5, args.seconds // 2),
                        connections=1,
                        threads=1,
                    )
                posted = sum(after.values()) - sum(before.values())
                sold = after.get("sold", 0) - before.get("sold", 0)
                share = f"{sold / posted:.0%} sold" if posted else "-"
                label = f"{backend}, {size:,} campaigns"
                rows.append((f"posts: {label}", posts, share))
                rows.append((f"pings: {label}", pings, "1 connection"))
    print(
        f"\nwrk {args.connections} connections x {args.seconds} s per target (pings: 1 "
        f"connection); gunicorn {' '.join(GUNICORN[:4])}; {os.cpu_count()} cores shared by "
        "server, database and load generator\n"
    )
    print(f"{'target':<36} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'vs bare':>7}  note")
    for label, r, note in rows:
        ratio = r["per_second"] / bare["per_second"]
        flag = f" ({r['bad_status']} non-2xx)" if r["bad_status"] else ""
        print(
            f"{label:<36} {r['per_second']:>7.0f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} "
            f"{ratio:>7.2f}  {note}{flag}"
        )


if __name__ == "__main__":
    main()
