"""Load test of the CDS Hooks service on loopback: p50/p99 latency at a fixed request rate, and the
throughput at saturation. Bounded in count and time; only 127.0.0.1 is ever addressed.

    .venv/bin/python bench/load.py                      # 50 requests/s for 20 s, then saturation
    .venv/bin/python bench/load.py --rate 50 --seconds 20 --saturate 500

The request is a typical patient-view call: the seed patient 1 (6 courses, 7 assessments) as
prefetched FHIR resources.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import tempfile
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.service_helpers import seed_prefetch  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def body() -> dict:
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"patientId": "seed-1", "userId": "Practitioner/1"}, "prefetch": seed_prefetch(1)}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--saturate", type=int, default=500, help="requests sent back to back, 4 at a time")
    args = parser.parse_args()
    port = free_port()
    feedback_db = Path(tempfile.mkdtemp(prefix="ladder-bench-")) / "feedback.sqlite3"  # each call records its cards
    server = subprocess.Popen([sys.executable, "-m", "ladder.cli", "serve", "--port", str(port),
                               "--feedback-db", str(feedback_db)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/cds-services/ladder-patient-view"
    try:
        with httpx.Client(timeout=10) as client:
            for _ in range(100):
                try:
                    client.get(f"http://127.0.0.1:{port}/cds-services")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            payload = body()
            for _ in range(20):  # warm up
                client.post(url, json=payload)
            latencies, failures = [], 0
            start = time.perf_counter()
            for n in range(int(args.rate * args.seconds)):
                due = start + n / args.rate
                time.sleep(max(0.0, due - time.perf_counter()))
                sent = time.perf_counter()
                response = client.post(url, json=payload)
                latencies.append((time.perf_counter() - sent) * 1000)
                failures += response.status_code != 200
        print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"paced {args.rate:g} requests/s for {args.seconds:g} s: {len(latencies)} requests, {failures} failed; "
              f"p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms, "
              f"max {max(latencies):.1f} ms")

        clients = threading.local()

        def one(_: int) -> float:
            if not hasattr(clients, "client"):
                clients.client = httpx.Client(timeout=10)  # one connection per client thread
            sent = time.perf_counter()
            clients.client.post(url, json=payload)
            return (time.perf_counter() - sent) * 1000

        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            burst = list(pool.map(one, range(args.saturate)))
        elapsed = time.perf_counter() - start
        print(f"saturation, 4 concurrent clients: {args.saturate / elapsed:.0f} requests/s, "
              f"p50 {statistics.median(burst):.1f} ms, p99 {percentile(burst, 0.99):.1f} ms")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
