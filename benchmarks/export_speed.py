"""Export speed and memory on a large database: time to first byte, total time, peak RSS.

    .venv/bin/python benchmarks/generate_stories.py --db /tmp/bench.db -n 100000
    .venv/bin/python benchmarks/export_speed.py --db /tmp/bench.db

(without an existing --db, this script generates one with benchmarks/generate_stories.py).
Starts the app with uvicorn on 127.0.0.1 (loopback only; no worker, no demo), logs in as the
generated researcher, and downloads each export with a streaming client, one at a time:
  /export/verhalen.csv             every story, long CSV (story x theme)
  /export/verhalen.breed.csv       every story, wide CSV
  /export/verhalen.jsonl           every story, JSON Lines
  /export/verhalen.csv?theme=...   a filtered export
  /export/samenvatting.json        the theme summary (not streamed: one computation)
For each: status, time to the first body byte, total time, bytes, and the server's resident
memory (RSS, from /proc) before the download and at its highest during it, sampled every
20 ms. Flat memory means the peak stays close to the RSS before, whatever the size.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPORTS = [
    "/export/verhalen.csv",
    "/export/verhalen.breed.csv",
    "/export/verhalen.jsonl",
    "/export/verhalen.csv?theme=armoede&from=2023-01",
    "/export/samenvatting.json",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRSS:
    """Samples a process's RSS in a thread while a download runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self):
        self.before = rss_mb(self.pid)
        self.peak = self.before
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb(self.pid))

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


async def login(client: httpx.AsyncClient, email: str, password: str) -> None:
    page = await client.get("/inloggen")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post(
        "/inloggen", data={"email": email, "password": password, "csrf_token": token}
    )
    if response.status_code != 303:
        raise SystemExit(f"login failed: {response.status_code}")


async def download(client: httpx.AsyncClient, url: str, pid: int) -> dict:
    with PeakRSS(pid) as memory:
        start = time.perf_counter()
        first = None
        size = 0
        async with client.stream("GET", url) as response:
            async for chunk in response.aiter_bytes():
                if first is None and chunk:
                    first = time.perf_counter() - start
                size += len(chunk)
        total = time.perf_counter() - start
    return {"url": url, "status": response.status_code, "ttfb": first or total, "total": total,
            "mb": size / 1e6, "rss_before": memory.before, "rss_peak": memory.peak}


async def run(args) -> None:
    port = free_port()
    env = {**os.environ, "VERTELPUNT_DB": str(args.db), "VERTELPUNT_WORKER": "0",
           "VERTELPUNT_DEMO": "0", "VERTELPUNT_DATA_DIR": str(args.data_dir),
           "VERTELPUNT_QUERY_TIME_LIMIT_MS": "60000"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "vertelpunt.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=args.timeout) as client:
            for _ in range(300):
                try:
                    if (await client.get("/")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            await login(client, args.email, args.password)
            stories = sqlite3.connect(args.db).execute(
                "SELECT count(*) FROM stories WHERE status = 'confirmed'").fetchone()[0]
            print(f"{stories} confirmed stories in {args.db}; server pid {server.pid}")
            print(f"{'export':48} {'status':>6} {'ttfb s':>7} {'total s':>8} {'MB':>7}"
                  f" {'RSS before':>11} {'RSS peak':>9}")
            for url in EXPORTS:
                r = await download(client, url, server.pid)
                print(f"{r['url']:48} {r['status']:>6} {r['ttfb']:>7.3f} {r['total']:>8.2f}"
                      f" {r['mb']:>7.1f} {r['rss_before']:>9.0f}MB {r['rss_peak']:>7.0f}MB")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/bench.db"))
    parser.add_argument("-n", type=int, default=100_000, help="stories, when generating")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/bench-data"))
    parser.add_argument("--email", default="onderzoeker@bench.example")
    parser.add_argument("--password", default="benchmark-wachtwoord-2026")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    if not args.db.exists():
        from benchmarks.generate_stories import generate

        print(f"generating {args.n} stories in {args.db} ...")
        generate(args.db, args.n, 6, args.email, args.password)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
