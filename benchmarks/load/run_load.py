"""Load: 20 concurrent users for 60 s against 100,000 stories, on loopback only.

    .venv/bin/python benchmarks/load/run_load.py                 # the figures in README.md
    .venv/bin/python benchmarks/load/run_load.py --users 20 --seconds 60 --think 0

What it does:
1. Takes a database of N generated stories (benchmarks/generate_stories.py; made once and
   kept in --cache, default /tmp/vertelpunt-load/base-N.db) and copies it, so every run
   starts from the same data.
2. Adds tellers (with a team) and researchers, and starts the app as `make run` does
   (`python -m vertelpunt serve`, uvicorn, one process, background worker on) on 127.0.0.1.
3. Runs --users virtual users for --seconds (a closed loop: each user sends its next request
   when the last one is answered, after --think seconds). Tellers go through the real story
   form: form page, submit, masked preview, confirm. Researchers browse, click facets,
   search, open stories, look at patterns and download exports, in a fixed mix.
4. Afterwards counts the load's stories in the database: every submission answered with the
   preview and every confirmation answered with the thanks page must be there.

Prints requests/s, p50/p95/p99 per endpoint and errors, and checks the targets: zero errors,
zero lost submissions, p95 of every page < 200 ms, p99 of submissions < 750 ms. Bounded in
time (--seconds) and count (--max-requests); it only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from live_server import LiveServer  # noqa: E402

PASSWORD = "load-test-wachtwoord-2026"
THEMES = ["veiligheid", "armoede", "informeel-netwerk", "samenwerking", "werkdruk", "privacy",
          "vakmanschap", "wonen", "opvoeding", "gezondheid"]
SEARCHES = ["schulden", "buurvrouw", "huurachterstand", "school", "wachtlijst", "mantelzorg",
            "huisarts", "privacy", "opvoeding", "eenzaam", '"vaste lasten"', "schuld buurvrouw",
            "veilig thuis", "deurwaarder", "jeugdzorg"]
STORY = (
    "Lastverhaal {n}: ik kwam bij mevrouw Jansen aan de Lindelaan 4 in Zwolle. Haar zoon "
    "sliep slecht sinds de huurachterstand en de brieven van de deurwaarder. Samen met de "
    "buurvrouw maakten we een plan voor de vaste lasten; de schuldhulpverlening nam het over. "
    "Wat ik leerde: begin bij wat het gezin zelf al doet, en vraag wie er al helpt."
)
# What researchers do, and how often (weights).
RESEARCH_MIX = [("list", 25), ("facet", 20), ("search", 25), ("detail", 17), ("patterns", 5),
                ("export_summary", 4), ("export_stories", 4)]
PAGE = "page"
SUBMISSION = "submission"
EXPORT = "export"


class Stats:
    def __init__(self, max_requests: int):
        self.times: dict[str, list[float]] = defaultdict(list)
        self.kinds: dict[str, str] = {}
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.max_requests = max_requests
        self.count = 0

    def full(self) -> bool:
        return self.count >= self.max_requests

    def record(self, name: str, kind: str, seconds: float, problem: str | None) -> None:
        self.count += 1
        self.kinds[name] = kind
        self.times[name].append(seconds)
        if problem:
            self.errors[name].append(problem)


async def timed(stats: Stats, client: httpx.AsyncClient, name: str, kind: str, method: str,
                url: str, expect: int, **kwargs) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        stats.record(name, kind, time.perf_counter() - started, f"{type(error).__name__}")
        return None
    problem = None if response.status_code == expect else f"{response.status_code} {url}"
    stats.record(name, kind, time.perf_counter() - started, problem)
    return response if problem is None else None


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def log_in(client: httpx.AsyncClient, email: str) -> None:
    page = await client.get("/inloggen")
    done = await client.post("/inloggen", data={"email": email, "password": PASSWORD,
                                               "csrf_token": csrf(page.text)})
    if done.status_code != 303:
        raise RuntimeError(f"login as {email} failed: {done.status_code}")


# --- the users ----------------------------------------------------------------------------


class Run:
    def __init__(self, args, url: str, teams: list[int], municipalities: list[int],
                 max_story: int):
        self.args, self.url = args, url
        self.teams, self.municipalities, self.max_story = teams, municipalities, max_story
        self.stats = Stats(args.max_requests)
        self.deadline = 0.0
        self.submitted: dict[int, str] = {}  # story id -> title, answered with the preview
        self.confirmed: set[int] = set()  # answered with the thanks page

    def going(self) -> bool:
        return time.monotonic() < self.deadline and not self.stats.full()

    async def think(self, rng: random.Random) -> None:
        if self.args.think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * self.args.think)

    async def teller(self, number: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(number)
        n = 0
        while self.going():
            n += 1
            title = f"Lastverhaal {number}-{n}"
            form = await timed(self.stats, client, "GET /vertel", PAGE, "GET", "/vertel", 200)
            if form is None:
                continue
            await self.think(rng)
            data = {"csrf_token": csrf(form.text), "title": title,
                    "text": STORY.format(n=f"{number}-{n}"), "team": str(self.teams[0]),
                    "month": "2025-03", "role": "wijkcoach", "lesson": "Vraag wie er al helpt.",
                    "themes": ["armoede", "informeel-netwerk"], "signifier_difference": "30",
                    "signifier_outcome": "70"}
            sent = await timed(self.stats, client, "POST /vertel (verhaal insturen)", SUBMISSION,
                               "POST", "/vertel", 303, data=data)
            if sent is None:
                continue
            preview_url = sent.headers["location"]
            story_id = int(re.search(r"/vertel/(\d+)/", preview_url).group(1))
            self.submitted[story_id] = title
            preview = await timed(self.stats, client, "GET /vertel/{id}/controle", PAGE, "GET",
                                  preview_url, 200)
            if preview is None or "Bevestig en verstuur" not in preview.text:
                continue  # still being de-identified: the worker will do it
            await self.think(rng)
            masks = re.findall(r'name="mask" value="(\d+)"', preview.text)
            thanks = await timed(
                self.stats, client, "POST /vertel/{id}/controle (bevestigen)", SUBMISSION,
                "POST", preview_url, 200,
                data={"csrf_token": csrf(preview.text), "action": "confirm", "mask": masks},
            )
            if thanks is not None and "Bedankt voor je verhaal" in thanks.text:
                self.confirmed.add(story_id)
            await self.think(rng)

    async def researcher(self, number: int, client: httpx.AsyncClient) -> None:
        rng = random.Random(1000 + number)
        actions, weights = zip(*RESEARCH_MIX, strict=True)
        while self.going():
            action = rng.choices(actions, weights)[0]
            theme = rng.choice(THEMES)
            if action == "list":
                params = {"pagina": str(rng.randint(1, 50))} if rng.random() < 0.3 else {}
                await timed(self.stats, client, "GET /verhalen", PAGE, "GET", "/verhalen", 200,
                            params=params)
            elif action == "facet":
                params = {"theme": theme}
                if rng.random() < 0.5:
                    params["team"] = str(rng.choice(self.teams))
                if rng.random() < 0.3:
                    params["from"], params["to"] = "2023-01", "2024-06"
                await timed(self.stats, client, "GET /verhalen?facetten", PAGE, "GET",
                            "/verhalen", 200, params=params)
            elif action == "search":
                params = {"q": rng.choice(SEARCHES)}
                if rng.random() < 0.4:
                    params["theme"] = theme
                await timed(self.stats, client, "GET /verhalen?q=zoeken", PAGE, "GET",
                            "/verhalen", 200, params=params)
            elif action == "detail":
                story = rng.randint(1, self.max_story)
                await timed(self.stats, client, "GET /verhalen/{id}", PAGE, "GET",
                            f"/verhalen/{story}", 200)
            elif action == "patterns":
                params = {"theme": theme} if rng.random() < 0.7 else {}
                await timed(self.stats, client, "GET /patronen", PAGE, "GET", "/patronen", 200,
                            params=params)
            elif action == "export_summary":
                params = {"theme": theme, "team": str(rng.choice(self.teams))}
                await timed(self.stats, client, "GET /export/samenvatting.csv", EXPORT, "GET",
                            "/export/samenvatting.csv", 200, params=params)
            else:
                params = {"theme": theme, "team": str(rng.choice(self.teams)),
                          "from": "2024-01", "to": "2024-06"}
                await timed(self.stats, client, "GET /export/verhalen.csv", EXPORT, "GET",
                            "/export/verhalen.csv", 200, params=params)
            await self.think(rng)

    async def run(self, tellers: list[str], researchers: list[str]) -> float:
        clients = [httpx.AsyncClient(base_url=self.url, timeout=30) for _ in range(self.args.users)]
        try:
            emails = [(True, e) for e in tellers] + [(False, e) for e in researchers]
            for client, (_, email) in zip(clients, emails, strict=True):
                await log_in(client, email)
            started = time.monotonic()
            self.deadline = started + self.args.seconds
            jobs = [
                self.teller(i, c) if is_teller else self.researcher(i, c)
                for i, (c, (is_teller, _)) in enumerate(zip(clients, emails, strict=True))
            ]
            await asyncio.gather(*jobs)
            return time.monotonic() - started
        finally:
            for client in clients:
                await client.aclose()


# --- set-up and report ----------------------------------------------------------------------


def base_database(cache: Path, n: int) -> Path:
    path = cache / f"base-{n}.db"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"generating {n} stories into {path} (once; takes minutes) ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate_stories.py"),
                        "--db", str(path), "-n", str(n)], check=True)
    return path


def add_users(db: Path, tellers: int, researchers: int) -> tuple[list[str], list[str], list[int]]:
    import asyncio as aio

    from vertelpunt import taxonomy as taxonomy_store
    from vertelpunt.accounts import create_user
    from vertelpunt.db import Database, migrate
    from vertelpunt.events import CLI

    async def work():
        migrate(db)
        database = Database(db, readers=1)
        await database.open()
        try:
            await taxonomy_store.ensure_default_taxonomy(database)
            teams = [r["id"] for r in await database.fetchall("SELECT id FROM teams ORDER BY id")]
            teller_emails = [f"verteller{i}@load.example" for i in range(tellers)]
            researcher_emails = [f"onderzoeker{i}@load.example" for i in range(researchers)]
            for email in teller_emails:
                await create_user(database, email, "verteller", PASSWORD, [teams[0]], CLI)
            for email in researcher_emails:
                await create_user(database, email, "onderzoeker", PASSWORD, [], CLI)
            return teller_emails, researcher_emails, teams
        finally:
            await database.close()

    return aio.run(work())


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def report(run: Run, seconds: float, db: Path, args) -> bool:
    stats = run.stats
    total = sum(len(v) for v in stats.times.values())
    errors = sum(len(v) for v in stats.errors.values())
    print(f"\n{args.users} users ({args.tellers} tellers), {seconds:.1f} s, think time "
          f"{args.think} s, {args.stories} stories: {total} requests, {total / seconds:.1f}"
          f" requests/s, {errors} errors")
    print(f"{'endpoint':44} {'n':>6} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
          f" {'max ms':>7} {'errors':>6}")
    rows = {}
    for name in sorted(stats.times, key=lambda k: (stats.kinds[k], k)):
        ms = [t * 1000 for t in stats.times[name]]
        row = {"kind": stats.kinds[name], "n": len(ms), "per_s": len(ms) / seconds,
               "p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
               "max": max(ms), "mean": statistics.fmean(ms), "errors": len(stats.errors[name])}
        rows[name] = row
        print(f"{name:44} {row['n']:>6} {row['per_s']:>6.1f} {row['p50']:>7.1f}"
              f" {row['p95']:>7.1f} {row['p99']:>7.1f} {row['max']:>7.0f} {row['errors']:>6}")
    for name, problems in stats.errors.items():
        if problems:
            print(f"  errors on {name}: {sorted(set(problems))[:5]}")

    conn = sqlite3.connect(db)
    try:
        found = dict(conn.execute(
            "SELECT id, title FROM stories WHERE title LIKE 'Lastverhaal %'").fetchall())
        statuses = dict(conn.execute(
            "SELECT id, status FROM stories WHERE title LIKE 'Lastverhaal %'").fetchall())
        integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        conn.close()
    lost = [i for i, title in run.submitted.items() if found.get(i) != title]
    unconfirmed = [i for i in run.confirmed if statuses.get(i) != "confirmed"]
    print(f"submissions answered with the preview: {len(run.submitted)}; in the database:"
          f" {len(found)}; lost: {len(lost)}. Confirmations answered: {len(run.confirmed)};"
          f" lost: {len(unconfirmed)}. quick_check: {integrity}")

    pages = [r for r in rows.values() if r["kind"] == PAGE]
    submissions = [t * 1000 for n, v in stats.times.items() if stats.kinds[n] == SUBMISSION
                   for t in v]
    worst_page = max(pages, key=lambda r: r["p95"])
    checks = {
        "zero errors": errors == 0,
        "zero lost submissions": not lost and not unconfirmed,
        f"p95 of every page < 200 ms (worst {worst_page['p95']:.0f} ms)":
            worst_page["p95"] < 200,
        f"p99 of submissions < 750 ms ({percentile(submissions, 99):.0f} ms)":
            percentile(submissions, 99) < 750,
    }
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "args": vars(args) | {"json": str(args.json)}, "seconds": seconds,
            "requests": total, "requests_per_s": total / seconds, "errors": errors,
            "endpoints": rows, "submitted": len(run.submitted), "lost": len(lost),
            "confirmed": len(run.confirmed), "unconfirmed": len(unconfirmed),
            "checks": checks}, indent=2, default=str))
    return all(checks.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--tellers", type=int, default=5, help="of the users (default 5)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean think time between a user's requests, s (default 0)")
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir())
                        / "vertelpunt-load")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    base = base_database(args.cache, args.stories)
    work = Path(tempfile.mkdtemp(prefix="vertelpunt-load-"))
    db = work / "load.db"
    shutil.copy(base, db)
    tellers, researchers, teams = add_users(db, args.tellers, args.users - args.tellers)
    conn = sqlite3.connect(db)
    (max_story,) = conn.execute("SELECT max(id) FROM stories").fetchone()
    municipalities = [r[0] for r in conn.execute("SELECT id FROM municipalities")]
    conn.close()
    server = LiveServer(work, db).start(timeout=300)
    assert server.url.startswith("http://127.0.0.1:")  # loopback only
    try:
        # De-identification loads in the background at start-up; wait for it, as a teller
        # who arrives a minute after a restart would.
        run = Run(args, server.url, teams, municipalities, max_story)
        if tellers:
            asyncio.run(warm_up(server.url, tellers[0]))
        waited = asyncio.run(research_views_warm(server.url))
        print(f"research views warm {waited:.0f} s after the de-identifier", flush=True)
        seconds = asyncio.run(run.run(tellers, researchers))
    finally:
        server.stop()
    ok = report(run, seconds, db, args)
    log = server.log_path.read_text(errors="replace").splitlines()
    debug = sum(1 for line in log if line.startswith("DEBUG"))
    print(f"server log: {len(log)} lines, {debug} of them DEBUG")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


async def research_views_warm(url: str, timeout: float = 300) -> float:
    """Steady state: wait for the app's start-up warm-up of the research views (/gezond)."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while time.monotonic() - started < timeout:
            if (await client.get("/gezond")).json()["warm"]:
                break
            await asyncio.sleep(0.5)
    return time.monotonic() - started


async def warm_up(url: str, email: str, timeout: float = 120) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await log_in(client, email)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            page = await client.get("/vertel")
            sent = await client.post("/vertel", data={
                "csrf_token": csrf(page.text), "title": "Opwarmen", "text": STORY.format(n=0),
                "team": re.search(r'<option value="(\d+)" selected', page.text).group(1),
                "month": "2025-03", "role": "wijkcoach"})
            preview = await client.get(sent.headers["location"])
            if "Bevestig en verstuur" in preview.text:
                return
            await asyncio.sleep(1)
        raise RuntimeError("the de-identifier did not get ready")


if __name__ == "__main__":
    raise SystemExit(main())
