"""Speed of the research workspace under load: browse + facets + search, patterns, story pages.

    .venv/bin/python benchmarks/generate_stories.py --db /tmp/bench.db -n 100000
    .venv/bin/python benchmarks/research_speed.py --db /tmp/bench.db

Starts the app with uvicorn on 127.0.0.1 (loopback only; no worker, no demo), logs in as
the generated researcher once per client, measures each distinct URL once while the server
is otherwise idle ("cold": the first request for that selection, caches empty), and then
runs CLIENTS concurrent clients (httpx.AsyncClient) for a bounded number of requests and a
bounded time, each picking an endpoint in turn:
  browse   /verhalen with two facets (a theme and a team, or a theme and a period) and a
           search term, from a set of combinations;
  patterns /patronen for a few filters;
  detail   /verhalen/{id} for random stories.
Prints p50 / p95 / max per endpoint in milliseconds and the target (p95 < 150 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TERMS = [
    "schulden",
    "deurwaarder",
    "mantelzorger",
    "wachtlijst",
    "scheiding",
    "schimmel",
    "toestemming",
    "ondersteuning",
    "voedselbank",
    "intervisie",
]
THEMES = ["armoede", "samenwerking", "informeel-netwerk", "opvoeding", "wonen", "gezondheid"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def urls(db: Path, rng: random.Random) -> dict[str, list[str]]:
    conn = sqlite3.connect(db)
    teams = [r[0] for r in conn.execute("SELECT id FROM teams ORDER BY id")]
    max_id = conn.execute("SELECT max(id) FROM stories WHERE status = 'confirmed'").fetchone()[0]
    conn.close()
    browse = []
    for i in range(30):
        theme, term = rng.choice(THEMES), rng.choice(TERMS)
        if i % 2:
            browse.append(f"/verhalen?theme={theme}&team={rng.choice(teams)}&q={term}")
        else:
            year = rng.choice((2022, 2023, 2024, 2025))
            browse.append(f"/verhalen?theme={theme}&from={year}-01&to={year}-12&q={term}")
    patterns = [
        "/patronen",
        "/patronen?per=quarter",
        f"/patronen?team={teams[0]}",
        "/patronen?theme=armoede",
        "/patronen?from=2025-01&to=2025-12",
    ]
    detail = [f"/verhalen/{rng.randint(1, max_id)}" for _ in range(200)]
    return {"browse": browse, "patterns": patterns, "detail": detail}


async def login(client: httpx.AsyncClient, email: str, password: str) -> None:
    page = await client.get("/inloggen")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = await client.post(
        "/inloggen", data={"email": email, "password": password, "csrf_token": token}
    )
    if response.status_code != 303:
        raise SystemExit(f"login failed: {response.status_code}")


async def timed(client: httpx.AsyncClient, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = await client.get(url)
    await response.aread()
    return (time.perf_counter() - started) * 1000, response.status_code


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:10s} no requests"
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * len(values))) - 1)]
    return (
        f"{name:10s} n={len(values):5d}  p50={statistics.median(values):7.1f}"
        f"  p95={p95:7.1f}  max={values[-1]:7.1f}  {'ok' if p95 < 150 else 'SLOW'}"
    )


async def run(args) -> None:
    rng = random.Random(args.seed)
    targets = urls(args.db, rng)
    port = free_port()
    env = {
        **os.environ,
        "VERTELPUNT_DB": str(args.db),
        "VERTELPUNT_WORKER": "0",
        "VERTELPUNT_DEMO": "0",
        "VERTELPUNT_DATA_DIR": str(args.data_dir),
        "VERTELPUNT_READERS": str(args.readers),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "vertelpunt.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(args.workers),
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as probe:
            for _ in range(200):
                try:
                    if (await probe.get("/")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            # Steady state: wait until the start-up warm-up of the landing views is done.
            started = time.perf_counter()
            while not (await probe.get("/gezond")).json()["warm"]:
                await asyncio.sleep(0.5)
            print(f"start-up warm-up done after {time.perf_counter() - started:.0f} s more")
        limits = httpx.Limits(max_connections=1)
        clients = [
            httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits)
            for _ in range(args.clients)
        ]
        for client in clients:
            await login(client, args.email, args.password)

        print(f"cold (first request for each selection, one at a time), {args.db}:")
        cold: dict[str, list[float]] = {"browse": [], "patterns": []}
        for kind in ("browse", "patterns"):
            for url in targets[kind]:
                ms, status = await timed(clients[0], url)
                if status != 200:
                    print(f"  {status} {url}")
                cold[kind].append(ms)
        for kind, values in cold.items():
            print("  " + summary(kind, values))

        results: dict[str, list[float]] = {"browse": [], "patterns": [], "detail": []}
        errors: list[tuple[int, str]] = []
        deadline = time.perf_counter() + args.seconds
        kinds = ["browse", "patterns", "detail"]

        async def client_loop(index: int, client: httpx.AsyncClient) -> None:
            local = random.Random(args.seed + index)
            for n in range(args.requests):
                if time.perf_counter() > deadline:
                    return
                kind = kinds[(index + n) % len(kinds)]
                url = local.choice(targets[kind])
                ms, status = await timed(client, url)
                if status == 200:
                    results[kind].append(ms)
                else:
                    errors.append((status, url))

        started = time.perf_counter()
        await asyncio.gather(*(client_loop(i, c) for i, c in enumerate(clients)))
        elapsed = time.perf_counter() - started
        total = sum(len(v) for v in results.values())
        print(
            f"under load: {args.clients} concurrent clients, {total} requests in"
            f" {elapsed:.1f} s ({total / elapsed:.0f} requests/s):"
        )
        for kind, values in results.items():
            print("  " + summary(kind, values))
        if errors:
            print(f"  {len(errors)} non-200 responses, e.g. {errors[:3]}")
        for client in clients:
            await client.aclose()
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/vertelpunt-bench-data"))
    parser.add_argument("--email", default="onderzoeker@bench.example")
    parser.add_argument("--password", default="benchmark-wachtwoord-2026")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=60, help="per client, at most")
    parser.add_argument("--seconds", type=float, default=60, help="at most, for the load part")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
