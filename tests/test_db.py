"""The store: migrations, pragmas, the writer lock and the time limit on analytical queries."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from vertelpunt.db import (
    Database,
    DatabaseTooNew,
    QueryTooSlow,
    available_migrations,
    migrate,
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
        db = Database(path, readers=2)
        await db.open()
        try:
            assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                await db.run(
                    lambda conn: conn.execute("INSERT INTO municipalities (name) VALUES ('x')")
                )
            with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
                async with db.write() as conn:
                    await conn.execute("INSERT INTO teams (name, municipality_id) VALUES ('t', 42)")
        finally:
            await db.close()

    run(check())


def test_a_failed_write_rolls_back_and_concurrent_writes_all_land(tmp_path):
    path = tmp_path / "w.db"
    migrate(path)

    async def check():
        db = Database(path, readers=1)
        await db.open()
        try:
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
        finally:
            await db.close()

    run(check())


def test_analytical_queries_are_stopped_at_the_time_limit(tmp_path):
    path = tmp_path / "slow.db"
    migrate(path)

    async def check():
        db = Database(path, readers=1, query_time_limit_ms=100)
        await db.open()
        try:
            slow = (
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)"
                " SELECT count(*) FROM n"
            )
            with pytest.raises(QueryTooSlow):
                await db.fetchall(slow, time_limit=True)
            # The reader is back in the pool and usable without a limit.
            assert (await db.fetchall("SELECT 1 AS one"))[0]["one"] == 1
        finally:
            await db.close()

    run(check())
