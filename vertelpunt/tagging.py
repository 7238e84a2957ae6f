"""Tagging confirmed stories with themes and lessons, and storing what the tagger found.

Every tag records its source `nlp:<model version>` and the taxonomy version, so a later
model or taxonomy never silently rewrites the meaning of an old tag.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path

from nlp.pipeline import Tagger

from . import taxonomy as taxonomy_store
from .db import Database

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class TaggingService:
    """Holds one loaded Tagger per process, reloaded when the taxonomy or model changes."""

    def __init__(self, models_dir: Path | None):
        self.models_dir = models_dir
        self._tagger: Tagger | None = None
        self._lock = threading.Lock()

    def tagger_for(self, taxonomy) -> Tagger:
        with self._lock:
            if self._tagger is None or self._tagger.taxonomy.version != taxonomy.version:
                self._tagger = Tagger.load(model_dir=self.models_dir, taxonomy=taxonomy)
            return self._tagger

    def reload(self) -> None:
        with self._lock:
            self._tagger = None

    async def tag_stories(self, db: Database, story_ids: list[int]) -> int:
        taxonomy = await taxonomy_store.active_taxonomy(db)
        tagger = await asyncio.to_thread(self.tagger_for, taxonomy)
        done = 0
        for story_id in story_ids:
            row = await db.fetchone(
                "SELECT text, nlp_attempts FROM stories WHERE id = ? AND status = 'confirmed'",
                (story_id,),
            )
            if row is None:
                continue
            try:
                result = await asyncio.to_thread(tagger.tag, row["text"])
            except Exception as error:
                log.exception("tagging story %s failed", story_id)
                await record_failure(db, story_id, row["nlp_attempts"] + 1, error)
                continue
            await store_tags(db, story_id, result.to_dict(), tagger.model_version, taxonomy.version)
            done += 1
        return done


async def record_failure(db: Database, story_id: int, attempts: int, error: Exception) -> None:
    status = "failed" if attempts >= MAX_ATTEMPTS else "waiting"
    async with db.write() as conn:
        await conn.execute(
            "UPDATE stories SET nlp_attempts = ?, nlp_error = ?, nlp_status = ? WHERE id = ?",
            (attempts, f"{type(error).__name__}: {error}"[:500], status, story_id),
        )


async def store_tags(
    db: Database, story_id: int, result: dict, model_version: str, taxonomy_version: str
) -> None:
    async with db.write() as conn:
        await write_tags(conn, story_id, result, model_version, taxonomy_version)


async def write_tags(
    conn, story_id: int, result: dict, model_version: str, taxonomy_version: str
) -> None:
    """Replace the story's NLP tags and lessons by this result (teller and human tags stay).
    Runs inside the caller's write transaction."""
    source = f"nlp:{model_version}"
    await conn.execute(
        "DELETE FROM story_themes WHERE story_id = ? AND source GLOB 'nlp:*'", (story_id,)
    )
    await conn.execute(
        "DELETE FROM lessons WHERE story_id = ? AND source GLOB 'nlp:*'", (story_id,)
    )
    await conn.executemany(
        "INSERT INTO story_themes (story_id, theme, source, taxonomy_version, score,"
        " evidence, component) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                story_id,
                tag["theme"],
                source,
                taxonomy_version,
                round(float(tag["score"]), 4),
                json.dumps([{"start": e["start"], "end": e["end"]} for e in tag["evidence"]]),
                tag.get("component"),
            )
            for tag in result["themes"]
        ],
    )
    await conn.executemany(
        "INSERT INTO lessons (story_id, source, start, end, text) VALUES (?, ?, ?, ?, ?)",
        [
            (story_id, source, lesson["start"], lesson["end"], lesson["text"])
            for lesson in result["lessons"]
        ],
    )
    await conn.execute(
        "UPDATE stories SET nlp_status = 'done', nlp_error = NULL WHERE id = ?", (story_id,)
    )
