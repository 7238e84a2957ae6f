"""Researchers' observations on patterns, and stories marked "most significant" for a theme.

An observation keeps the query string of the filtered view it is about, so anyone can open
exactly that view again, and one or more interpretations: what a pattern means is seldom
one thing, and keeping rival readings side by side is part of the method (as in
sensemaking with the Most Significant Change technique). Plain functions read them for the
patterns page and for exports.
"""

from __future__ import annotations

import sqlite3

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from .db import Database
from .events import Actor, log_event
from .filters import StoryFilter
from .stories import clean_text

TEXT_MAX = 4_000
REASON_MAX = 2_000
MAX_INTERPRETATIONS = 5


class ObservationError(ValueError):
    """Bad input, with a Dutch message."""


async def add_observation(
    db: Database, actor: Actor, text: str, query: str, interpretations: list[str]
) -> int:
    text = clean_text(text)
    readings = [clean_text(i) for i in interpretations if clean_text(i)]
    if not text:
        raise ObservationError("Beschrijf wat je ziet in het patroon.")
    if not readings:
        raise ObservationError("Geef minstens één interpretatie van wat je ziet.")
    if len(text) > TEXT_MAX or any(len(r) > TEXT_MAX for r in readings):
        raise ObservationError(f"Houd elke tekst korter dan {TEXT_MAX} tekens.")
    # Keep only what StoryFilter understands: the stored view is always a valid one.
    from urllib.parse import parse_qs

    parsed = parse_qs(query or "", keep_blank_values=False)
    query = StoryFilter.from_params({k: v for k, v in parsed.items()}).query_string()
    async with db.write() as conn:
        cursor = await conn.execute(
            "INSERT INTO observations (author_id, text, query) VALUES (?, ?, ?)",
            (actor.user_id, text, query),
        )
        observation_id = cursor.lastrowid
        await conn.executemany(
            "INSERT INTO observation_interpretations (observation_id, position, text)"
            " VALUES (?, ?, ?)",
            [(observation_id, i, r) for i, r in enumerate(readings[:MAX_INTERPRETATIONS], 1)],
        )
        await log_event(
            conn, actor, "observation.add", f"observation:{observation_id}", query=query
        )
    return observation_id


async def list_observations(db: Database) -> list[dict]:
    def read(conn):  # one trip to a reader thread for both
        rows = conn.execute(
            "SELECT o.id, o.text, o.query, o.created_at, u.email AS author FROM observations o"
            " LEFT JOIN users u ON u.id = o.author_id ORDER BY o.id DESC"
        ).fetchall()
        readings = conn.execute(
            "SELECT observation_id, position, text FROM observation_interpretations"
            " ORDER BY observation_id, position"
        ).fetchall()
        return rows, readings

    rows, readings = await db.run(read)
    by_observation: dict[int, list[str]] = {}
    for r in readings:
        by_observation.setdefault(r["observation_id"], []).append(r["text"])
    return [{**dict(r), "interpretations": by_observation.get(r["id"], [])} for r in rows]


async def mark_significant(
    db: Database, actor: Actor, story_id: int, theme: str, reason: str
) -> None:
    reason = clean_text(reason)
    if not reason:
        raise ObservationError("Schrijf op waarom dit verhaal het meest betekenisvol is.")
    if len(reason) > REASON_MAX:
        raise ObservationError(f"Houd de reden korter dan {REASON_MAX} tekens.")
    has_theme = await db.fetchone(
        "SELECT 1 FROM story_effective_themes WHERE story_id = ? AND theme = ?",
        (story_id, theme),
    )
    if has_theme is None:
        raise ObservationError("Kies een thema dat dit verhaal heeft.")
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO significant_stories (story_id, theme, reason, author_id)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (story_id, theme, author_id) DO UPDATE SET"
            " reason = excluded.reason, created_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (story_id, theme, reason, actor.user_id),
        )
        await log_event(conn, actor, "story.significant", f"story:{story_id}", theme=theme)


async def significant_stories(db: Database, flt: StoryFilter | None = None) -> list[dict]:
    """Marked stories (within the filter, if given), grouped by theme in the caller."""
    where, params = (flt or StoryFilter()).where("s")
    rows = await db.fetchall(
        # CROSS JOIN keeps the few marked stories as the outer loop: otherwise SQLite may
        # walk every confirmed story looking for marks (20 ms at 100,000 stories).
        "SELECT g.story_id, g.theme, g.reason, g.created_at, s.title, u.email AS author"
        " FROM significant_stories g CROSS JOIN stories s ON s.id = g.story_id"
        " LEFT JOIN users u ON u.id = g.author_id"
        f" WHERE {where} ORDER BY g.theme, g.created_at DESC",
        params,
    )
    return [dict(r) for r in rows]


def significant_rows(conn: sqlite3.Connection, story_id: int) -> list[dict]:
    """The marks on one story (on a reader connection, so a page can batch its reads)."""
    rows = conn.execute(
        "SELECT g.theme, g.reason, g.created_at, u.email AS author FROM significant_stories g"
        " LEFT JOIN users u ON u.id = g.author_id WHERE g.story_id = ? ORDER BY g.theme",
        (story_id,),
    )
    return [dict(r) for r in rows]


# --- handlers ------------------------------------------------------------------------------


async def add_observation_page(request: Request):
    from .story_pages import actor_of

    form = await request.form()
    query = str(form.get("query", ""))
    try:
        await add_observation(
            request.app.state.db,
            actor_of(request),
            str(form.get("text", "")),
            query,
            [str(v) for v in form.getlist("interpretation")],
        )
    except ObservationError as error:
        raise HTTPException(
            422, f"{error} Ga terug: je tekst staat nog in het formulier."
        ) from None
    target = request.url_for("patterns").path
    clean = StoryFilter.from_params(_parse(query)).query_string()
    return RedirectResponse(
        f"{target}?{clean}#observaties" if clean else f"{target}#observaties", status_code=303
    )


async def mark_significant_page(request: Request):
    from .story_pages import actor_of, readable_story

    story = await readable_story(request, request.path_params["id"])
    form = await request.form()
    try:
        await mark_significant(
            request.app.state.db,
            actor_of(request),
            story["id"],
            str(form.get("theme", "")),
            str(form.get("reason", "")),
        )
    except ObservationError as error:
        raise HTTPException(422, f"{error} Ga terug naar het verhaal.") from None
    url = request.url_for("story_detail", id=story["id"]).path
    return RedirectResponse(f"{url}#betekenisvol", status_code=303)


def _parse(query: str) -> dict:
    from urllib.parse import parse_qs

    return parse_qs(query or "")
