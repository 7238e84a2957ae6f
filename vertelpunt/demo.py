"""Loading the demo stories (vertelpunt/demo/*.jsonl), once.

The demo stories are fictional, written for this project, and some contain fictional personal
details on purpose. They go through the same path as a teller's story: stored, de-identified,
confirmed (with the de-identifier's proposal as it is; there is no teller to check it), then
tagged by the worker. The themes their writers intended are recorded as the teller's themes.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from nlp import deidentify as deid

from . import accounts, privacy, stories
from . import taxonomy as taxonomy_store
from .db import Database
from .events import SYSTEM

DEMO_DIR = Path(__file__).resolve().parent / "demo"


# Demo accounts, created by `vertelpunt demo` only (never in a real installation's set-up).
DEMO_PASSWORD = "demo-vertelpunt-2026"
DEMO_USERS = (
    ("verteller@demo.vertelpunt.nl", "verteller", "Wijkteam Holtenbroek"),
    ("onderzoeker@demo.vertelpunt.nl", "onderzoeker", None),
    ("beheerder@demo.vertelpunt.nl", "beheerder", None),
)


async def ensure_demo_users(db: Database) -> None:
    for email, role, team in DEMO_USERS:
        if await db.fetchone("SELECT 1 FROM users WHERE email = ?", (email,)):
            continue
        team_ids = [await ensure_team(db, team, "Zwolle")] if team else []
        await accounts.create_user(db, email, role, DEMO_PASSWORD, team_ids, SYSTEM)


def read_demo_stories(directory: Path = DEMO_DIR) -> list[dict]:
    found = []
    for path in sorted(directory.glob("stories_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found.append(json.loads(line))
    return found


async def ensure_team(db: Database, team: str, municipality: str) -> int:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO municipalities (name) VALUES (?) ON CONFLICT(name) DO NOTHING",
            (municipality,),
        )
        await conn.execute(
            "INSERT INTO teams (name, municipality_id)"
            " SELECT ?, id FROM municipalities WHERE name = ? ON CONFLICT(name) DO NOTHING",
            (team, municipality),
        )
        cursor = await conn.execute("SELECT id FROM teams WHERE name = ?", (team,))
        return (await cursor.fetchone())[0]


async def load_demo(db: Database, directory: Path = DEMO_DIR) -> int:
    """Load the demo stories not loaded before; return how many were added."""
    demo = read_demo_stories(directory)
    loaded = {
        row["demo_slug"]
        for row in await db.fetchall("SELECT demo_slug FROM stories WHERE demo_slug IS NOT NULL")
    }
    todo = [item for item in demo if item["slug"] not in loaded]
    await ensure_demo_users(db)
    if not todo:
        return 0
    await asyncio.to_thread(deid.warm)
    taxonomy = await taxonomy_store.active_taxonomy(db)
    for item in todo:
        team_id = await ensure_team(db, item["team"], item["municipality"])
        choices = await stories.load_choices(db, [t.id for t in taxonomy.themes])
        story = stories.validate_story({**item, "team": team_id}, choices)
        story_id = await stories.create_story(
            db, story, taxonomy.version, SYSTEM, origin="demo", demo_slug=item["slug"]
        )
        if not await privacy.deidentify_story(db, story_id):
            raise RuntimeError(f"de-identification of demo story {item['slug']} failed")
        proposed = await db.fetchone(
            "SELECT proposed_entities FROM stories WHERE id = ?", (story_id,)
        )
        entities = privacy.entities_from_json(proposed["proposed_entities"])
        await privacy.confirm_story(db, story_id, entities, SYSTEM)
    return len(todo)
