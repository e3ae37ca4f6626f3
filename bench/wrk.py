"""Load from wrk (Debian's `wrk` package), a separate C process, with per-request bodies.

The bodies are written one JSON per line; each wrk thread takes its own slice and sends its
lines in turn (so every lead is a different person and no two threads repeat one). wrk's Lua
`done` hook prints one JSON line of figures, which `run` returns.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

SCRIPT = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local bodies = {}
local sent = 0
function init(args)
  local i = 0
  for line in io.lines(args[1]) do
    if i % tonumber(args[2]) == tid then bodies[#bodies + 1] = line end
    i = i + 1
  end
end
function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil, bodies[((sent - 1) % #bodies) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\n{"requests": %d, "duration_us": %d, "bad_status": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: apt-get install wrk (make bench does it)")
    return found


def run(
    url: str,
    bodies: list[str],
    *,
    key: str | None = None,
    seconds: int = 10,
    connections: int = 8,
    threads: int = 2,
) -> dict[str, Any]:
    """Load `url` for `seconds`; returns requests, requests/s, p50/p99 ms, bad statuses."""
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp) / "bodies.lua", Path(tmp) / "bodies.jsonl"
        script.write_text(SCRIPT)
        data.write_text("\n".join(bodies) + "\n")
        command = [wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
        command += ["--timeout", "10s", "-s", str(script)]
        if key:
            command += ["-H", f"Authorization: Bearer {key}"]
        command += [url, "--", str(data), str(threads)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    seconds_run = figures["duration_us"] / 1e6
    figures["per_second"] = figures["requests"] / seconds_run
    figures["p50_ms"] = figures["p50_us"] / 1000
    figures["p99_ms"] = figures["p99_us"] / 1000
    return figures
