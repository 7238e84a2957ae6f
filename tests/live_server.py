"""The real app in a subprocess (`python -m vertelpunt serve`, uvicorn) on 127.0.0.1 and a free
port: for the browser tests (tests/e2e) and the fault tests (kill -9, disk full)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = "live-server-test-secret-key-not-for-production"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    """One app process over a database in `workdir`; start() again after a kill."""

    workdir: Path
    db_path: Path
    demo: bool = False
    worker: bool = True
    extra_env: dict = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    _log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    def start(self, timeout: float = 90) -> LiveServer:
        data_dir = self.workdir / "data"
        models = ROOT / "data" / "models"
        if (models / "active").exists() and not (data_dir / "models").exists():
            shutil.copytree(models, data_dir / "models")  # the default model `make setup` made
        self.port = free_port()
        env = {
            **os.environ,
            "VERTELPUNT_DB": str(self.db_path),
            "VERTELPUNT_DATA_DIR": str(data_dir),
            "VERTELPUNT_DEMO": "1" if self.demo else "0",
            "VERTELPUNT_WORKER": "1" if self.worker else "0",
            "VERTELPUNT_SECRET_KEY": SECRET,
            **self.extra_env,
        }
        self._log = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop/kill)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "vertelpunt", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until_up(timeout)
        return self

    def wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the app exited with code {self.process.returncode} at start-up:\n"
                    + self.log_tail()
                )
            with contextlib.suppress(OSError), urllib.request.urlopen(
                self.url + "/inloggen", timeout=2
            ) as response:
                if response.status == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the app did not answer within {timeout} s:\n" + self.log_tail())

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, no lifespan end."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self._reap()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._reap()

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait()
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


PASSWORD = "een lang genoeg testwachtwoord"
TELLER_EMAIL = "verteller@fault.example"
RESEARCHER_EMAIL = "onderzoeker@fault.example"


def prepare_database(db_path: Path) -> dict:
    """A migrated database with a team, a teller and a researcher, and an API token for each
    (made before the app starts, with the app's own functions). Returns the tokens and ids."""
    import asyncio

    from vertelpunt import taxonomy as taxonomy_store
    from vertelpunt.accounts import create_api_token, create_user
    from vertelpunt.db import Database, migrate
    from vertelpunt.demo import ensure_team
    from vertelpunt.events import CLI

    async def work():
        migrate(db_path)
        db = Database(db_path, readers=1)
        await db.open()
        try:
            await taxonomy_store.ensure_default_taxonomy(db)
            team = await ensure_team(db, "Wijkteam Noord", "Zwolle")
            teller = await create_user(db, TELLER_EMAIL, "verteller", PASSWORD, [team], CLI)
            researcher = await create_user(db, RESEARCHER_EMAIL, "onderzoeker", PASSWORD, [], CLI)
            return {
                "team": team,
                "teller": teller,
                "researcher": researcher,
                "teller_token": await create_api_token(db, teller, "faults", CLI),
                "researcher_token": await create_api_token(db, researcher, "faults", CLI),
            }
        finally:
            await db.close()

    return asyncio.run(work())


def story_json(team: int, title: str, words: int = 60) -> dict:
    """A valid story for POST /api/v1/stories, with a personal detail to mask."""
    text = (
        f"{title}: ik sprak met mevrouw Jansen over de huurachterstand en de schulden. "
        + " ".join(["De buurvrouw hielp met de administratie en de post."] * (words // 8))
    )
    return {"title": title, "text": text, "team": team, "month": "2025-03", "role": "wijkcoach",
            "themes": ["armoede"]}


def wait_until_warm(url: str, token: str, team: int, timeout: float = 90) -> int:
    """Submit one story and confirm it as soon as the de-identifier (loaded in the background
    at start-up) has masked it; afterwards submissions get their preview at once."""
    import httpx

    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        created = client.post("/api/v1/stories", json=story_json(team, "Opwarmverhaal"))
        created.raise_for_status()
        confirm = created.json()["confirm_url"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = client.post(confirm, json={})
            if response.status_code == 200:
                return created.json()["id"]
            time.sleep(0.2)
    raise RuntimeError("the de-identifier did not get ready in time")


class Submitter:
    """Submits (and confirms) stories through the API in a thread until stopped, and records
    every answer that said "stored". Connection errors (a killed server) end the thread."""

    def __init__(self, url: str, token: str, team: int, prefix: str = "Verhaal",
                 confirm: bool = True, limit: int = 400):
        import threading

        self.url, self.team, self.prefix, self.confirm, self.limit = (
            url, team, prefix, confirm, limit
        )
        self.headers = {"authorization": f"Bearer {token}"}
        self.acked: list[tuple[int, str, float]] = []  # (id, title, time of the 201)
        self.confirmed: list[int] = []  # ids whose confirmation got a 200
        self.to_confirm: list[str] = []  # confirm paths of acknowledged stories, oldest first
        self.errors: list[str] = []  # answers that were neither success nor a lost connection
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Submitter:
        self._thread.start()
        return self

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self.stop.set()
        self._thread.join(timeout)

    def _confirm_one(self, client) -> None:
        """Confirm the oldest story waiting; one the worker has not masked yet (409) waits."""
        url = self.to_confirm[0]
        confirmed = client.post(url, json={})
        if confirmed.status_code == 200:
            self.confirmed.append(int(url.rstrip("/").split("/")[-2]))
            self.to_confirm.pop(0)
        elif confirmed.status_code != 409:
            self.errors.append(f"confirm {confirmed.status_code}: {confirmed.text[:200]}")
            self.to_confirm.pop(0)

    def _run(self) -> None:
        import httpx

        with httpx.Client(base_url=self.url, headers=self.headers, timeout=30) as client:
            for n in range(1, self.limit + 1):
                if self.stop.is_set():
                    return
                title = f"{self.prefix} {n}"
                try:
                    response = client.post("/api/v1/stories", json=story_json(self.team, title))
                    if response.status_code != 201:
                        self.errors.append(f"{response.status_code}: {response.text[:200]}")
                        continue
                    body = response.json()
                    self.acked.append((body["id"], title, time.monotonic()))
                    if self.confirm:
                        self.to_confirm.append(httpx.URL(body["confirm_url"]).path)
                        self._confirm_one(client)
                except httpx.TransportError:
                    return  # the server is gone


# --- kill -9 at random moments ---------------------------------------------------------------


@dataclass
class CrashReport:
    cycles: int
    acked: dict  # id -> title of every submission answered 201
    confirmed: set  # ids whose confirmation was answered 200
    kill_after: list  # seconds into each cycle at which the server was killed
    errors: list  # answers that were neither a success nor a lost connection
    integrity: list  # PRAGMA integrity_check after the last kill
    foreign_keys: list  # PRAGMA foreign_key_check after the last kill
    in_db: dict  # id -> (title, status) as found in the database afterwards
    seconds: float

    def lost(self) -> list[int]:
        """Submissions answered with a success that are not in the database (must be none)."""
        return [i for i, title in self.acked.items() if self.in_db.get(i, (None,))[0] != title]

    def unconfirmed(self) -> list[int]:
        """Confirmations answered with a success that did not stick (must be none)."""
        return [i for i in self.confirmed if self.in_db.get(i, (None, None))[1] != "confirmed"]

    def summary(self) -> str:
        return (
            f"{self.cycles} kill -9 cycles in {self.seconds:.0f} s: {len(self.acked)} submissions"
            f" and {len(self.confirmed)} confirmations acknowledged, {len(self.lost())} lost,"
            f" {len(self.unconfirmed())} confirmations lost, {len(self.errors)} error answers,"
            f" integrity_check {self.integrity}, foreign_key_check {len(self.foreign_keys)} rows;"
            f" killed after {', '.join(f'{s:.2f}' for s in self.kill_after)} s"
        )


def crash_cycles(workdir: Path, cycles: int, seed: int, clients: int = 2) -> CrashReport:
    """Start the app, let `clients` API clients submit and confirm stories, kill -9 the server
    after a random 0.05-3 s, restart; `cycles` times. Then look at the database file.

    Right after a start the de-identifier is still loading (in the background), so early
    submissions wait as 'pending' for the worker; clients confirm them once masked, in a
    later cycle if need be. Kills thus land in submissions, confirmations, and the worker's
    de-identification and tagging writes."""
    import random
    import sqlite3

    rng = random.Random(seed)
    started = time.monotonic()
    db_path = workdir / "crash.db"
    ids = prepare_database(db_path)
    server = LiveServer(workdir, db_path)
    acked, confirmed, errors, kill_after = {}, set(), [], []
    waiting: list[list[str]] = [[] for _ in range(clients)]  # confirm URLs, per client
    for cycle in range(cycles):
        server.start()
        if cycle == 0 or rng.random() < 0.5:
            # Half of the cycles wait for the de-identifier: their stories get a preview at
            # once and are confirmed in the same cycle.
            wait_until_warm(server.url, ids["teller_token"], ids["team"])
        submitters = []
        for c in range(clients):
            submitter = Submitter(server.url, ids["teller_token"], ids["team"],
                                  f"Crash {cycle}.{c}")
            submitter.to_confirm = waiting[c]
            submitters.append(submitter.start())
        delay = rng.uniform(0.05, 3.0)
        time.sleep(delay)
        server.kill()
        kill_after.append(delay)
        for c, submitter in enumerate(submitters):
            submitter.join(timeout=30)
            waiting[c] = submitter.to_confirm
            acked.update({i: title for i, title, _ in submitter.acked})
            confirmed.update(submitter.confirmed)
            errors += submitter.errors
    conn = sqlite3.connect(db_path)
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        foreign_keys = conn.execute("PRAGMA foreign_key_check").fetchall()
        in_db = {row[0]: (row[1], row[2]) for row in
                 conn.execute("SELECT id, title, status FROM stories")}
    finally:
        conn.close()
    return CrashReport(cycles, acked, confirmed, kill_after, errors, integrity, foreign_keys,
                       in_db, time.monotonic() - started)
