"""The SQLite store: connections, pragmas and the migration runner.

One writer connection behind an asyncio lock (SQLite allows one writer at a time; queueing
in-process avoids `database is locked` errors); read-only connections in lanes (quick reads,
analytical queries, exports), so a slow search or a download never holds up a cheap page; and
group commit for small bookkeeping writes (`append`). WAL mode lets readers work while the
writer writes. `synchronous=FULL` makes every committed story durable before its response is
sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TypeVar

import aiosqlite

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA synchronous = FULL",
    "PRAGMA secure_delete = ON",
)


class DatabaseTooNew(RuntimeError):
    """The database was migrated by a newer Vertelpunt than this one."""


class QueryTooSlow(RuntimeError):
    """An analytical query ran past its time limit and was stopped."""


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file name not understood: {path.name}")
        found.append((int(match.group(1)), path))
    versions = [v for v, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 0001, 0002, ... without gaps: {versions}")
    return found


def migrate(db_path: Path | str, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations; return the versions applied.

    Each migration runs in its own transaction, so a failing one leaves the database at the
    previous version. A database newer than the code is refused rather than guessed at.
    """
    migrations = available_migrations(directory)
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        for pragma in PRAGMAS:
            conn.execute(pragma)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        newest_known = migrations[-1][0] if migrations else 0
        if applied and max(applied) > newest_known:
            raise DatabaseTooNew(
                f"database {db_path} is at schema version {max(applied)}, "
                f"this Vertelpunt knows up to {newest_known}: upgrade Vertelpunt first"
            )
        done = []
        for version, path in migrations:
            if version in applied:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                _executescript_in_transaction(conn, path.read_text(encoding="utf-8"))
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at)"
                    " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                    (version, path.name),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            done.append(version)
        return done
    finally:
        conn.close()


def _executescript_in_transaction(conn: sqlite3.Connection, script: str) -> None:
    # sqlite3.executescript() commits first; split on complete statements instead so the
    # whole migration stays inside our transaction.
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            if statement.strip():
                conn.execute(statement)
            statement = ""
    if statement.strip() and not statement.strip().startswith("--"):
        raise ValueError("migration ends with an incomplete SQL statement")


LANES = ("quick", "analytic", "export")
_patience: ContextVar[float] = ContextVar("query_patience", default=1.0)


@contextlib.contextmanager
def patient(factor: float):
    """Time-limited queries started inside may run `factor` times longer than the limit."""
    token = _patience.set(factor)
    try:
        yield
    finally:
        _patience.reset(token)


def _run_on(conn: sqlite3.Connection, work, seconds: float | None):
    if seconds is None:
        return work(conn)
    deadline = time.monotonic() + seconds
    conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        return work(conn)
    except sqlite3.OperationalError as error:
        if "interrupted" in str(error):
            raise QueryTooSlow(str(error)) from error
        raise
    finally:
        conn.set_progress_handler(None, 0)


def _settle(batch: list, error: Exception | None, cancelled: bool = False) -> None:
    for *_, done in batch:
        if done.done():
            continue  # its caller went away
        if cancelled:
            done.cancel()
        elif error is not None:
            done.set_exception(error)
        else:
            done.set_result(None)


def schema_version(db_path: Path | str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return row[0] or 0
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


class Database:
    """The app's connections: `db.write()` for changes, `db.run()` / `db.fetchall()` /
    `db.fetchone()` for queries.

    Readers are plain sqlite3 connections used from a small thread pool, one task at a time
    each: a query costs one hop to a thread and back. (aiosqlite, which the writer uses, costs
    three hops for execute, fetch and close; under load every hop waits its turn on the event
    loop, which made a story page with a dozen queries slow.) `run()` does several queries in
    one hop.
    """

    def __init__(self, path: Path | str, readers: int = 4, query_time_limit_ms: int = 2000):
        self.path = Path(path)
        self.reader_count = readers
        self.query_time_limit_ms = query_time_limit_ms
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # Lanes (a bulkhead): analytical queries, the ones run with a time limit, get half
        # the readers and can never take the connections that page loads, logins and story
        # pages need for their quick indexed reads; exports, which read for seconds, get one
        # connection of their own, so a download never holds up a page.
        self._analytic = max(1, readers // 2)
        self._pools: dict[str, asyncio.Queue[sqlite3.Connection]] = {
            lane: asyncio.Queue() for lane in LANES
        }
        self._all_readers: list[sqlite3.Connection] = []
        self._reader_threads: ThreadPoolExecutor | None = None
        self._appends: list[tuple[str, tuple, asyncio.Future]] = []
        self._append_task: asyncio.Task | None = None
        # Group commits go through their own connection and thread, under the same write
        # lock as the writer, so a batch is a single hop (see _append_all).
        self._appender: sqlite3.Connection | None = None
        self._append_thread: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        self._appender = self._plain_connection()
        # Its commits are not fsynced (WAL + NORMAL): a logged view survives a crash of the
        # app at once, and a power cut from the next fsync (a story's commit, a checkpoint,
        # or the kernel's write-back within about 30 s). That is the trade for keeping
        # page views off the disk's fsync queue; stories and decisions stay FULL.
        self._appender.execute("PRAGMA synchronous = NORMAL")
        self._append_thread = ThreadPoolExecutor(1, "vertelpunt-append")
        quick = max(1, self.reader_count - self._analytic)
        lanes = ["quick"] * quick + ["analytic"] * self._analytic + ["export"]
        self._reader_threads = ThreadPoolExecutor(len(lanes), "vertelpunt-reader")
        for lane in lanes:
            reader = self._plain_connection()
            reader.execute("PRAGMA query_only = ON")
            self._all_readers.append(reader)
            self._pools[lane].put_nowait(reader)

    async def close(self) -> None:
        if self._append_task is not None:
            with contextlib.suppress(Exception):
                await self._append_task
        if self._reader_threads is not None:
            self._reader_threads.shutdown(wait=True)
            self._reader_threads = None
        for reader in self._all_readers:
            reader.close()
        self._all_readers.clear()
        if self._append_thread is not None:
            self._append_thread.shutdown(wait=True)
            self._append_thread = None
            self._appender.close()
            self._appender = None
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

    def _plain_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            conn.execute(pragma)
        return conn

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        return conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: BEGIN IMMEDIATE ... COMMIT, one at a time."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
                await self._writer.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def append(self, sql: str, params: tuple = ()) -> None:
        """One small write (an audit line, a last-seen time) committed together with the
        others that arrive while the writer is busy: group commit. Each caller still returns
        only once its row is durable, but twenty page views share one transaction and one
        fsync instead of queueing for twenty. A failing batch fails every caller in it."""
        done = asyncio.get_running_loop().create_future()
        self._appends.append((sql, tuple(params), done))
        if self._append_task is None or self._append_task.done():
            self._append_task = asyncio.create_task(self._commit_appends())
        await done

    async def _commit_appends(self) -> None:
        loop = asyncio.get_running_loop()
        while self._appends:
            async with self._write_lock:
                # Taken under the lock: what arrived while waiting for it joins this batch.
                batch, self._appends = self._appends, []
                try:
                    await loop.run_in_executor(self._append_thread, self._append_all, batch)
                except Exception as error:  # a full disk, a constraint: every caller hears it
                    _settle(batch, error)
                    continue
                except BaseException:
                    _settle(batch, None, cancelled=True)
                    raise
            _settle(batch, None)

    def _append_all(self, batch: list) -> None:
        """The whole batch in one call on the appender's thread (one hop, not 2 + n)."""
        conn = self._appender
        conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, params, _ in batch:
                conn.execute(sql, params)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.OperationalError):
                    conn.execute("ROLLBACK")
            raise

    async def _rollback(self) -> None:
        """Roll back after an error, including a failed COMMIT (a full disk): otherwise the
        writer stays inside the broken transaction and every later write fails. SQLite may
        already have rolled back by itself; then there is nothing left to do."""
        if self._writer is not None and self._writer.in_transaction:
            # Keep the original error, which the caller re-raises.
            with contextlib.suppress(sqlite3.OperationalError):
                await self._writer.execute("ROLLBACK")

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and empty it: after a deletion, the removed
        text is then gone from both files (secure_delete zeroes the freed space)."""
        async with self._write_lock:
            await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def run(
        self,
        work: Callable[[sqlite3.Connection], T],
        time_limit: bool = False,
        lane: str | None = None,
    ) -> T:
        """work(conn) on a read-only connection, in a reader thread.

        With time_limit=True it runs in the analytical lane (or `lane`, e.g. "export"), and
        a progress handler stops it after the configured limit (raising QueryTooSlow), so one
        heavy query cannot occupy a reader for long. Inside `patient()` the limit is longer:
        for background work that nobody waits for.
        """
        if self._reader_threads is None:
            raise RuntimeError("database is not open")
        seconds = self.query_time_limit_ms / 1000 * _patience.get() if time_limit else None
        pool = self._pools[lane or ("analytic" if time_limit else "quick")]
        conn = await pool.get()
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._reader_threads, _run_on, conn, work, seconds
            )
        finally:
            pool.put_nowait(conn)

    async def fetchall(
        self, sql: str, params=(), time_limit: bool = False, lane: str | None = None
    ) -> list[sqlite3.Row]:
        return await self.run(lambda conn: conn.execute(sql, params).fetchall(), time_limit, lane)

    async def fetchone(self, sql: str, params=()) -> sqlite3.Row | None:
        return await self.run(lambda conn: conn.execute(sql, params).fetchone())
