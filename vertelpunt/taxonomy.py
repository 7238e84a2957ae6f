"""The theme taxonomy as the app keeps it: every saved version in the database, one active.

The taxonomy itself (parsing, validation) lives in nlp.taxonomy; this module only stores
versions and hands the active one to pages, the API and the tagger.
"""

from __future__ import annotations

import json
import re

from nlp.taxonomy import DEFAULT_PATH, Taxonomy

from .db import Database

_parsed: dict[str, Taxonomy] = {}


async def ensure_default_taxonomy(db: Database) -> None:
    """On a fresh database, make the shipped taxonomy file the active version."""
    row = await db.fetchone("SELECT 1 FROM taxonomy_versions WHERE active = 1")
    if row is None:
        text = DEFAULT_PATH.read_text(encoding="utf-8")
        await save_taxonomy(db, Taxonomy.from_toml(text), created_by=None, toml=text)


def with_version(toml: str, version: str) -> str:
    """The same TOML text (comments kept) with its top-level version replaced."""
    line = f"version = {json.dumps(version)}"
    new, count = re.subn(r"(?m)^version\s*=.*$", line, toml, count=1)
    return new if count else f"{line}\n{toml}"


async def save_taxonomy(
    db: Database, taxonomy: Taxonomy, created_by: int | None, toml: str | None = None
) -> None:
    """Store a version and make it the active one. `toml` keeps the editor's text (with
    comments); without it the taxonomy's own rendering is stored."""
    toml = with_version(toml, taxonomy.version) if toml else taxonomy.to_toml()
    async with db.write() as conn:
        await conn.execute("UPDATE taxonomy_versions SET active = 0 WHERE active = 1")
        await conn.execute(
            "INSERT INTO taxonomy_versions (version, toml, active, created_by) VALUES (?, ?, 1, ?)"
            " ON CONFLICT(version) DO UPDATE SET active = 1",
            (taxonomy.version, toml, created_by),
        )
        await conn.execute("DELETE FROM themes WHERE taxonomy_version = ?", (taxonomy.version,))
        await conn.executemany(
            "INSERT INTO themes (taxonomy_version, id, label_nl, label_en, definition, position)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (taxonomy.version, t.id, t.label_nl, t.label_en, t.definition, position)
                for position, t in enumerate(taxonomy.themes)
            ],
        )


async def active_toml(db: Database) -> str:
    row = await db.fetchone("SELECT toml FROM taxonomy_versions WHERE active = 1")
    return row["toml"]


async def active_taxonomy(db: Database) -> Taxonomy:
    row = await db.fetchone("SELECT version, toml FROM taxonomy_versions WHERE active = 1")
    if row is None:
        raise RuntimeError("no active taxonomy: run `vertelpunt migrate` first")
    if row["version"] not in _parsed:
        _parsed[row["version"]] = Taxonomy.from_toml(row["toml"])
    return _parsed[row["version"]]


def themes_json(taxonomy: Taxonomy) -> list[dict]:
    return [
        {
            "id": t.id,
            "label_nl": t.label_nl,
            "label_en": t.label_en,
            "definition": t.definition,
        }
        for t in taxonomy.themes
    ]
