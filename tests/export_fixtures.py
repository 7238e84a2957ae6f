"""A small research database for the export tests, built once per session and copied.

Importing and tagging ten stories takes seconds, so it happens once: `research_db` builds a
database file (teams, imported stories from tests/data/, NLP tags by the rules-only tagger,
k = 2) and `research_settings` copies it into each test's own folder before the app starts.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from vertelpunt import imports
from vertelpunt import taxonomy as taxonomy_store
from vertelpunt.db import Database, migrate
from vertelpunt.demo import ensure_team
from vertelpunt.events import CLI
from vertelpunt.settings import Settings
from vertelpunt.tagging import TaggingService
from vertelpunt.worker import Worker

DATA = Path(__file__).parent / "data"


async def build(path: Path, models_dir: Path) -> None:
    migrate(path)
    db = Database(path, readers=1)
    await db.open()
    try:
        await taxonomy_store.ensure_default_taxonomy(db)
        await ensure_team(db, "Wijkteam Noord", "Zwolle")
        await ensure_team(db, "Buurtteam Zuid", "Tilburg")
        for name, team in (("stories.jsonl", "Wijkteam Noord"),
                           ("stories_nl.csv", "Buurtteam Zuid")):
            report = await imports.import_file(db, name, (DATA / name).read_bytes(), team, CLI)
            assert report.refused == 0, report.to_dict()
        worker = Worker(db, TaggingService(models_dir))
        while await worker.run_once():
            pass
        async with db.write() as conn:
            await conn.execute("INSERT INTO app_settings (key, value) VALUES ('min_cell', '2')")
    finally:
        await db.close()


@pytest.fixture(scope="session")
def research_db(tmp_path_factory, warm_deidentifier) -> Path:
    folder = tmp_path_factory.mktemp("research")
    path = folder / "research.db"
    # In a thread of its own: other tests (the browser tests) may run an event loop here.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(build(path, folder / "models"))).result()
    return path


def copy_database(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


@pytest.fixture
def research_settings(tmp_path, research_db) -> Settings:
    copy_database(research_db, tmp_path / "test.db")
    return Settings.from_env(
        env={}, db_path=tmp_path / "test.db", data_dir=tmp_path / "data", worker=False
    )
