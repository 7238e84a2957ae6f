"""Story data exports: long CSV, wide CSV/XLSX and JSON Lines, streamed in batches.

`story_batches()` reads the filtered stories in id order, BATCH_SIZE at a time (keyset
pagination: `id > last id`), with their effective themes, tags and lessons. Each renderer
turns one batch into a chunk of output, so a 100,000-story export starts sending at once and
never holds more than one batch in memory (benchmarks/export_speed.py measures this).

Only de-identified data leaves: the masked title, text and lesson, team, municipality, month
and the teller's role. Never `original_text`, never who told a story (`teller_id`).
Columns are documented in README.md ("Exports and imports").
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from .. import search
from ..db import Database
from ..filters import StoryFilter
from ..stories import STORY_FROM
from .common import safe_row

BATCH_SIZE = 500
EXPORT_COLUMNS = (
    "s.id, s.title, s.text, s.lesson, s.month, s.teller_role, s.signifier_difference,"
    " s.signifier_outcome, s.origin, s.confirmed_at, t.name AS team, m.name AS municipality"
)


@dataclass
class ExportStory:
    id: int
    title: str
    text: str
    lesson: str
    month: str
    team: str
    municipality: str
    teller_role: str
    signifier_difference: int | None
    signifier_outcome: int | None
    origin: str
    confirmed_at: str | None
    themes: list[dict] = field(default_factory=list)  # effective themes, with provenance
    lessons: list[dict] = field(default_factory=list)


async def count_stories(db: Database, flt: StoryFilter) -> int:
    await search.sync_search_index(db)
    where, params = flt.where("s")
    row = await db.fetchall(
        f"SELECT count(*) FROM stories s WHERE {where}", params, time_limit=True, lane="export"
    )
    return row[0][0]


async def story_ids(db: Database, flt: StoryFilter) -> list[int]:
    """The ids an export of this filter contains (for tests: equal to the screen's)."""
    ids = []
    async for batch in story_batches(db, flt):
        ids += [s.id for s in batch]
    return ids


async def story_batches(
    db: Database, flt: StoryFilter, batch_size: int = BATCH_SIZE
) -> AsyncIterator[list[ExportStory]]:
    await search.sync_search_index(db)
    where, params = flt.where("s")
    last = 0
    while True:
        rows = await db.fetchall(
            f"SELECT {EXPORT_COLUMNS} FROM {STORY_FROM} WHERE {where} AND s.id > ?"
            " ORDER BY s.id LIMIT ?",
            [*params, last, batch_size],
            time_limit=True,
            lane="export",
        )
        if not rows:
            return
        stories = {
            r["id"]: ExportStory(
                id=r["id"],
                title=r["title"],
                text=r["text"] or "",
                lesson=r["lesson"] or "",
                month=r["month"],
                team=r["team"],
                municipality=r["municipality"],
                teller_role=r["teller_role"],
                signifier_difference=r["signifier_difference"],
                signifier_outcome=r["signifier_outcome"],
                origin=r["origin"],
                confirmed_at=r["confirmed_at"],
            )
            for r in rows
        }
        await _add_themes(db, stories)
        yield list(stories.values())
        last = rows[-1]["id"]
        if len(rows) < batch_size:
            return


async def _add_themes(db: Database, stories: dict[int, ExportStory]) -> None:
    """Every effective theme of each story (as the story page lists them, whatever `bron`
    the filter chose), with where it came from, the tagger's score and evidence."""
    ids = list(stories)
    marks = ",".join("?" * len(ids))
    tags: dict[tuple[int, str], list] = {}
    for r in await db.fetchall(
        "SELECT story_id, theme, source, score, evidence, taxonomy_version FROM story_themes"
        f" WHERE story_id IN ({marks}) ORDER BY story_id, theme, source",
        ids,
    ):
        tags.setdefault((r["story_id"], r["theme"]), []).append(r)
    for r in await db.fetchall(
        "SELECT e.story_id, e.theme, e.by_teller, e.by_nlp, e.reviewed"
        f" FROM story_effective_themes e WHERE e.story_id IN ({marks})"
        " ORDER BY e.story_id, e.theme",
        ids,
    ):
        story = stories[r["story_id"]]
        rows = tags.get((r["story_id"], r["theme"]), [])
        nlp = next((t for t in rows if t["source"].startswith("nlp:")), None)
        evidence = []
        if nlp is not None:
            for span in json.loads(nlp["evidence"]):
                start, end = int(span["start"]), int(span["end"])
                if 0 <= start < end <= len(story.text):  # offsets index the stored text
                    evidence.append({"start": start, "end": end, "text": story.text[start:end]})
        sources = (
            (["teller"] if r["by_teller"] else [])
            + ([nlp["source"]] if r["by_nlp"] and nlp is not None else [])
            + (["review"] if r["reviewed"] else [])
        )
        story.themes.append(
            {
                "theme": r["theme"],
                "by_teller": bool(r["by_teller"]),
                "by_nlp": bool(r["by_nlp"]),
                "reviewed": bool(r["reviewed"]),
                "source": "+".join(sources),
                "score": nlp["score"] if nlp is not None else None,
                "model": nlp["source"][4:] if nlp is not None else None,
                "taxonomy_version": (nlp or (rows[0] if rows else {"taxonomy_version": None}))[
                    "taxonomy_version"
                ],
                "evidence": evidence,
            }
        )
    for r in await db.fetchall(
        f"SELECT story_id, source, start, end, text FROM lessons WHERE story_id IN ({marks})"
        " ORDER BY story_id, start IS NULL, start, id",
        ids,
    ):
        stories[r["story_id"]].lessons.append(
            {
                "source": r["source"] if r["source"] == "teller" else "nlp",
                "start": r["start"],
                "end": r["end"],
                "text": r["text"],
            }
        )


# --- renderers: each turns one batch into text ---------------------------------------------

LONG_COLUMNS = (
    "story_id",
    "month",
    "team",
    "municipality",
    "teller_role",
    "theme",
    "source",
    "by_teller",
    "by_nlp",
    "reviewed",
    "score",
    "model",
    "taxonomy_version",
    "evidence_offsets",
    "evidence",
)


def _csv_text(rows, header=None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    if header is not None:
        writer.writerow(header)
    for row in rows:
        writer.writerow(safe_row(row))
    return out.getvalue()


def long_csv(batch: list[ExportStory], first: bool) -> str:
    """One row per story x effective theme: score, source and evidence."""
    rows = [
        [
            s.id,
            s.month,
            s.team,
            s.municipality,
            s.teller_role,
            t["theme"],
            t["source"],
            int(t["by_teller"]),
            int(t["by_nlp"]),
            int(t["reviewed"]),
            t["score"],
            t["model"],
            t["taxonomy_version"],
            ";".join(f"{e['start']}-{e['end']}" for e in t["evidence"]),
            " […] ".join(e["text"] for e in t["evidence"]),
        ]
        for s in batch
        for t in s.themes
    ]
    return ("\ufeff" if first else "") + _csv_text(rows, LONG_COLUMNS if first else None)


WIDE_FIXED = (
    "story_id",
    "title",
    "month",
    "team",
    "municipality",
    "teller_role",
    "signifier_difference",
    "signifier_outcome",
    "origin",
    "text",
    "lesson",
)


def wide_header(theme_ids: list[str]) -> list[str]:
    return [*WIDE_FIXED, *theme_ids]


def wide_rows(batch: list[ExportStory], theme_ids: list[str]) -> list[list]:
    """One row per story, one 0/1 column per theme (1: the story has the theme)."""
    out = []
    for s in batch:
        has = {t["theme"] for t in s.themes}
        out.append(
            [
                s.id,
                s.title,
                s.month,
                s.team,
                s.municipality,
                s.teller_role,
                s.signifier_difference,
                s.signifier_outcome,
                s.origin,
                s.text,
                s.lesson,
                *[int(t in has) for t in theme_ids],
            ]
        )
    return out


def wide_csv(batch: list[ExportStory], theme_ids: list[str], first: bool) -> str:
    return ("\ufeff" if first else "") + _csv_text(
        wide_rows(batch, theme_ids), wide_header(theme_ids) if first else None
    )


def jsonl(batch: list[ExportStory], taxonomy_version: str) -> str:
    """One JSON object per story: masked text, themes with evidence offsets into `text`,
    lessons, and the taxonomy version the export's theme ids belong to."""
    lines = []
    for s in batch:
        lines.append(
            json.dumps(
                {
                    "id": s.id,
                    "title": s.title,
                    "text": s.text,
                    "lesson": s.lesson,
                    "month": s.month,
                    "team": s.team,
                    "municipality": s.municipality,
                    "teller_role": s.teller_role,
                    "signifier_difference": s.signifier_difference,
                    "signifier_outcome": s.signifier_outcome,
                    "origin": s.origin,
                    "taxonomy_version": taxonomy_version,
                    "themes": s.themes,
                    "lessons": s.lessons,
                },
                ensure_ascii=False,
            )
        )
    return "\n".join(lines) + "\n" if lines else ""


async def theme_columns(db: Database, taxonomy_ids: list[str]) -> list[str]:
    """The taxonomy's theme ids, then any other theme a story still has (older taxonomy)."""
    rows = await db.fetchall("SELECT DISTINCT theme FROM story_effective_themes ORDER BY theme")
    return taxonomy_ids + [r["theme"] for r in rows if r["theme"] not in taxonomy_ids]
