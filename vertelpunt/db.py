"""The SQLite store: connections, pragmas and the migration runner.

One writer connection behind an asyncio lock (SQLite allows one writer at a time; queueing
in-process avoids `database is locked` errors) and a small pool of read-only connections, so
a slow search never holds up a cheap page. WAL mode lets readers work while the writer writes.
`synchronous=FULL` makes every committed story durable before its response is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

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
    """The app's connections: `db.write()` for changes, `db.read()` for queries."""

    def __init__(self, path: Path | str, readers: int = 4, query_time_limit_ms: int = 2000):
        self.path = Path(path)
        self.reader_count = readers
        self.query_time_limit_ms = query_time_limit_ms
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._all_readers: list[aiosqlite.Connection] = []

    async def open(self) -> None:
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        for _ in range(self.reader_count):
            reader = await self._connect()
            await reader.execute("PRAGMA query_only = ON")
            self._all_readers.append(reader)
            self._readers.put_nowait(reader)

    async def close(self) -> None:
        for reader in self._all_readers:
            await reader.close()
        self._all_readers.clear()
        if self._writer is not None:
            await self._writer.close()
            self._writer = None

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

    @asynccontextmanager
    async def read(self, time_limit: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """A read-only connection from the pool.

        With time_limit=True a progress handler stops the query after the configured limit
        (raising QueryTooSlow), so one heavy analytical query cannot occupy a reader for long.
        """
        conn = await self._readers.get()
        try:
            if time_limit:
                deadline = time.monotonic() + self.query_time_limit_ms / 1000
                await conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
            try:
                yield conn
            except sqlite3.OperationalError as error:
                if time_limit and "interrupted" in str(error):
                    raise QueryTooSlow(str(error)) from error
                raise
        finally:
            if time_limit:
                await conn.set_progress_handler(None, 0)
            self._readers.put_nowait(conn)

    async def fetchall(self, sql: str, params=(), time_limit: bool = False) -> list[sqlite3.Row]:
        async with self.read(time_limit) as conn, conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params=()) -> sqlite3.Row | None:
        async with self.read() as conn, conn.execute(sql, params) as cursor:
            return await cursor.fetchone()
