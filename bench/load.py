"""A small HTTP load generator run as its own process: keep-alive connections in threads.

python -m bench.load URL KEY REQUESTS CONCURRENCY  ->  one JSON line of figures
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit


def lead_body(n: int) -> bytes:
    return json.dumps(
        {
            "niche": "solar",
            "external_id": f"bench-{uuid.uuid4().hex}",
            "first_name": "Maria",
            "last_name": "Lopez",
            "email": f"maria.{n}@example.com",
            "phone": "(415) 555-2671",
            "country": "US",
            "postal_code": "94103",
            "fields": {"homeowner": True, "monthly_electric_bill": 150 + n % 100},
        }
    ).encode()


def run(url: str, key: str, total: int, concurrency: int) -> dict[str, float]:
    parts = urlsplit(url)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            body = lead_body(n)
            start = time.perf_counter()
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    ok = statuses.get(201, 0)
    return {
        "requests": total,
        "ok": ok,
        "statuses": statuses,  # type: ignore[dict-item]
        "per_second": ok / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


if __name__ == "__main__":
    url, key, total, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(run(url, key, total, concurrency)))
