"""The store: migrations, pragmas, the writer lock and the time limit on analytical queries."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from conftest import opened

from vertelpunt.db import (
    DatabaseTooNew,
    QueryTooSlow,
    available_migrations,
    migrate,
    patient,
    schema_version,
)


def test_migrations_apply_to_an_empty_file_and_rerun_is_a_no_op(tmp_path):
    db = tmp_path / "new.db"
    applied = migrate(db)
    assert applied == [v for v, _ in available_migrations()]
    assert schema_version(db) == applied[-1]
    assert migrate(db) == []
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "stories",
        "teams",
        "municipalities",
        "story_themes",
        "lessons",
        "events",
        "taxonomy_versions",
        "themes",
        "users",
    } <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_refuses_a_database_newer_than_the_code(tmp_path):
    db = tmp_path / "future.db"
    migrate(db)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseTooNew, match="schema version 999"):
        migrate(db)


def test_a_failing_migration_leaves_the_database_at_the_previous_version(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_a.sql").write_text("CREATE TABLE a (x INTEGER);\n")
    (folder / "0002_b.sql").write_text(
        "CREATE TABLE b (x INTEGER);\nINSERT INTO nope VALUES (1);\n"
    )
    db = tmp_path / "m.db"
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, folder)
    assert schema_version(db) == 1
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "a" in tables and "b" not in tables


def test_migration_files_must_be_numbered_without_gaps(tmp_path):
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match="without gaps"):
        available_migrations(tmp_path)


def test_events_are_append_only(tmp_path):
    db = tmp_path / "e.db"
    migrate(db)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO events (actor, action) VALUES ('cli', 'test')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET action = 'changed'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")


def run(coro):
    return asyncio.run(coro)


def test_every_connection_has_foreign_keys_and_readers_cannot_write(tmp_path):
    path = tmp_path / "c.db"
    migrate(path)

    async def check():
        async with opened(path, readers=2) as db:
            assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                await db.run(
                    lambda conn: conn.execute("INSERT INTO municipalities (name) VALUES ('x')")
                )
            with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
                async with db.write() as conn:
                    await conn.execute("INSERT INTO teams (name, municipality_id) VALUES ('t', 42)")

    run(check())


def test_a_failed_write_rolls_back_and_concurrent_writes_all_land(tmp_path):
    path = tmp_path / "w.db"
    migrate(path)

    async def check():
        async with opened(path, readers=1) as db:
            with pytest.raises(RuntimeError):
                async with db.write() as conn:
                    await conn.execute("INSERT INTO municipalities (name) VALUES ('weg')")
                    raise RuntimeError("halfway")

            async def add(i):
                async with db.write() as conn:
                    await conn.execute("INSERT INTO municipalities (name) VALUES (?)", (f"m{i}",))

            await asyncio.gather(*(add(i) for i in range(40)))
            rows = await db.fetchall("SELECT name FROM municipalities")
            names = {r["name"] for r in rows}
            assert "weg" not in names and len(names) == 40

    run(check())


def test_analytical_queries_are_stopped_at_the_time_limit(tmp_path):
    path = tmp_path / "slow.db"
    migrate(path)

    async def check():
        async with opened(path, readers=1, query_time_limit_ms=100) as db:
            slow = (
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
                " SELECT count(*) FROM n"
            )
            with pytest.raises(QueryTooSlow):
                await db.fetchall(slow, time_limit=True)
            # The reader is back in the pool and usable without a limit.
            assert (await db.fetchall("SELECT 1 AS one"))[0]["one"] == 1

    run(check())


def test_a_slow_analytical_query_does_not_hold_up_quick_reads(tmp_path):
    path = tmp_path / "b.db"
    migrate(path)

    async def check():
        async with opened(path, readers=2) as db:  # one quick reader, one analytical
            started = asyncio.Event()

            def slow(conn):
                started_loop.call_soon_threadsafe(started.set)
                time.sleep(1.0)  # an analytical query holding its reader
                return conn.execute("SELECT 1").fetchone()[0]

            started_loop = asyncio.get_running_loop()
            heavy = [asyncio.ensure_future(db.run(slow, time_limit=True)) for _ in range(2)]
            await started.wait()
            t0 = time.monotonic()
            assert (await db.fetchone("SELECT 2"))[0] == 2
            assert time.monotonic() - t0 < 0.5  # did not queue behind the heavy ones
            assert not any(h.done() for h in heavy)
            assert await asyncio.gather(*heavy) == [1, 1]

    run(check())


COUNT_HIGH = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
    " SELECT count(*) FROM n"
)


def test_time_limited_queries_stop_unless_run_patiently(tmp_path):
    path = tmp_path / "t.db"
    migrate(path)

    async def check():
        async with opened(path, readers=2, query_time_limit_ms=20) as db:
            with pytest.raises(QueryTooSlow):
                await db.fetchall(COUNT_HIGH, time_limit=True)
            assert (await db.fetchall(COUNT_HIGH))[0][0] == 3_000_000  # no limit asked
            with patient(1000):
                assert (await db.fetchall(COUNT_HIGH, time_limit=True))[0][0] == 3_000_000

    run(check())


def test_an_export_does_not_hold_up_analytical_queries(tmp_path):
    path = tmp_path / "e.db"
    migrate(path)

    async def check():
        async with opened(path, readers=2) as db:  # lanes: one quick, one analytical, one export
            loop = asyncio.get_running_loop()
            started = asyncio.Event()

            def long_export(conn):
                loop.call_soon_threadsafe(started.set)
                time.sleep(1.0)
                return conn.execute("SELECT 1").fetchone()[0]

            exports = [
                asyncio.ensure_future(db.run(long_export, time_limit=True, lane="export"))
                for _ in range(2)
            ]
            await started.wait()
            t0 = time.monotonic()
            assert (await db.fetchall("SELECT 3", time_limit=True))[0][0] == 3
            assert time.monotonic() - t0 < 0.5
            assert await asyncio.gather(*exports) == [1, 1]

    run(check())
