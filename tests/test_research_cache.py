"""The research cache (vertelpunt/filters.py): fresh on small data, a bounded lag behind new
stories for slow values, and never a value from before a removal."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from conftest import opened

from vertelpunt import filters
from vertelpunt.db import Database, migrate


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "cache.db"
    migrate(path)
    conn = sqlite3.connect(path)
    conn.executescript(
        "INSERT INTO municipalities (name) VALUES ('Zwolle');"
        "INSERT INTO teams (name, municipality_id) VALUES ('Noord', 1);"
    )
    conn.close()
    return path


@pytest.fixture(autouse=True)
def empty_cache():
    filters._cache.clear()
    yield
    filters._cache.clear()


def add_story(db_path, title: str) -> int:
    conn = sqlite3.connect(db_path)
    with conn:
        cursor = conn.execute(
            "INSERT INTO stories (title, text, team_id, month, teller_role, status)"
            " VALUES (?, 'tekst', 1, '2025-03', 'wijkcoach', 'confirmed')",
            (title,),
        )
    conn.close()
    return cursor.lastrowid


def withdraw(db_path, story_id: int) -> None:
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE stories SET status = 'withdrawn' WHERE id = ?", (story_id,))
    conn.close()


def titles_counter(db: Database, calls: list, delay: float):
    async def compute():
        calls.append(1)
        await asyncio.sleep(delay)  # stands in for a slow query on a large corpus
        rows = await db.fetchall("SELECT title FROM stories WHERE status = 'confirmed'")
        return sorted(r["title"] for r in rows)

    return compute


async def read(db: Database, compute):
    await filters.begin(db)
    return await filters.cached(db, ("titles",), compute)


def test_a_quick_value_follows_every_change(db_path):
    async def check():
        async with opened(db_path) as db:
            calls = []
            compute = titles_counter(db, calls, delay=0)
            add_story(db_path, "een")
            assert await read(db, compute) == ["een"]
            assert await read(db, compute) == ["een"] and len(calls) == 1  # cached
            add_story(db_path, "twee")
            assert await read(db, compute) == ["een", "twee"]

    asyncio.run(check())


def test_a_slow_value_lags_behind_additions_but_not_behind_removals(db_path, monkeypatch):
    monkeypatch.setattr(filters, "SLOW_COMPUTE", 0.05)
    monkeypatch.setattr(filters, "MIN_LAG", 1.0)
    monkeypatch.setattr(filters, "LAG_PER_COST", 1)

    async def check():
        async with opened(db_path) as db:
            calls = []
            compute = titles_counter(db, calls, delay=0.06)
            first = add_story(db_path, "een")
            assert await read(db, compute) == ["een"]

            # A new story: the slow value is served as it was, without recomputing...
            add_story(db_path, "twee")
            assert await read(db, compute) == ["een"]
            assert len(calls) == 1
            # ... until it is older than its lag; then it is refreshed in the background.
            await asyncio.sleep(1.05)
            assert await read(db, compute) == ["een"]
            await asyncio.gather(*filters._background)
            assert await read(db, compute) == ["een", "twee"]
            assert len(calls) == 2

            # A withdrawal: never served from before it, not even once.
            withdraw(db_path, first)
            assert await read(db, compute) == ["twee"]

    asyncio.run(check())


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE stories SET text = 'ander' WHERE id = {id}",
        "UPDATE stories SET team_id = 1, month = '2024-01' WHERE id = {id}",
        "DELETE FROM stories WHERE id = {id}",
        "UPDATE teams SET name = 'Noord-Oost'",
        "INSERT INTO app_settings (key, value) VALUES ('min_cell', '10')",
    ],
)
def test_every_kind_of_removal_raises_the_removals_counter(db_path, change):
    story = add_story(db_path, "een")
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA foreign_keys = ON")
    (before,) = conn.execute("SELECT removals FROM research_state").fetchone()
    with conn:
        conn.execute(change.format(id=story))
    (after,) = conn.execute("SELECT removals FROM research_state").fetchone()
    # ... and adding a story or a tag does not.
    with conn:
        conn.execute(
            "INSERT INTO stories (title, text, team_id, month, teller_role, status)"
            " VALUES ('nieuw', 'x', 1, '2025-04', 'wijkcoach', 'confirmed')"
        )
    (unchanged,) = conn.execute("SELECT removals FROM research_state").fetchone()
    conn.close()
    assert after == before + 1
    assert unchanged == after


def test_a_lagging_value_is_refreshed_by_one_task_at_a_time(db_path, monkeypatch):
    monkeypatch.setattr(filters, "SLOW_COMPUTE", 0.05)
    monkeypatch.setattr(filters, "MIN_LAG", 0)
    monkeypatch.setattr(filters, "LAG_PER_COST", 0)

    async def check():
        async with opened(db_path) as db:
            calls = []
            compute = titles_counter(db, calls, delay=0.2)
            add_story(db_path, "een")
            await read(db, compute)
            # Stories keep arriving while the refresh runs: each read sees a new version,
            # but they share the one refresh instead of starting one each.
            for n in range(5):
                add_story(db_path, f"nieuw {n}")
                assert await read(db, compute) == ["een"]
            await asyncio.gather(*filters._background)
            assert len(calls) == 2

    asyncio.run(check())


def test_start_up_warms_the_landing_views_of_a_large_corpus(db_path, monkeypatch):
    from vertelpunt import patterns
    from vertelpunt import taxonomy as taxonomy_store
    from vertelpunt.app import make_templates

    async def check(threshold: int) -> set:
        filters._cache.clear()
        monkeypatch.setattr(patterns, "WARM_UP_FROM", threshold)
        templates = make_templates().env
        async with opened(db_path, readers=2) as db:
            await taxonomy_store.ensure_default_taxonomy(db)
            await patterns.warm_up(db, "/verhalen", templates)
        pattern_keys = [key for key in filters._cache if key[1] == "pattern tables"]
        # key: (database, "pattern tables", filter key (themes first), ...)
        themes = {t for key in pattern_keys for t in key[2][0]}
        compiled = {key[1] for key in templates.cache}  # jinja's cache: (loader, name)
        return {key[1] for key in filters._cache}, themes, compiled

    add_story(db_path, "een")
    kinds, themes, compiled = asyncio.run(check(threshold=2))  # "small": nothing computed
    assert kinds == set() and themes == set() and compiled == set()
    add_story(db_path, "twee")
    kinds, themes, compiled = asyncio.run(check(threshold=2))
    assert {"browse", "facets", "pattern tables"} <= kinds
    assert {"patterns.html", "_patterns_tables.html", "story_form.html"} <= compiled
    assert {"veiligheid", "armoede", "informeel-netwerk", "samenwerking"} <= themes


def test_on_a_large_corpus_even_quick_values_lag_behind_additions(db_path, monkeypatch):
    monkeypatch.setattr(filters, "MIN_LAG", 60)

    async def check():
        async with opened(db_path) as db:
            try:
                calls = []
                compute = titles_counter(db, calls, delay=0)
                add_story(db_path, "een")
                filters.note_corpus_size(db, 10)  # small: always fresh
                assert await read(db, compute) == ["een"]
                add_story(db_path, "twee")
                assert await read(db, compute) == ["een", "twee"]
                filters.note_corpus_size(db, filters.LARGE_CORPUS)  # large: may lag
                add_story(db_path, "drie")
                assert await read(db, compute) == ["een", "twee"]
                assert len(calls) == 2
            finally:
                filters._large.clear()

    asyncio.run(check())
