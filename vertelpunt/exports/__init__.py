"""Exports: theme summaries and story data, for researchers, from the web, the API and the CLI.

    summary.py   theme_summary(): the numbers, words, lessons, quotes, observations and the
                 tagger's quality per theme; CSV, JSON and XLSX renderings
    report.py    the printable report (HTML with print CSS, PDF by WeasyPrint)
    tables.py    story data in id-ordered batches: long CSV, wide CSV/XLSX, JSON Lines
    qdpx.py      a REFI-QDA project for ATLAS.ti, NVivo, MAXQDA and QualCoder
    common.py    the formula guard, the audit record, the filter in words, model quality
    pages.py     the web and API handlers

Every export takes a StoryFilter, the same object the story list and the patterns page use,
so an export holds exactly the stories on screen. Every export is logged (event
`export.summary` / `export.stories`, with the filter) before its first byte is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from ..db import Database
from ..filters import StoryFilter
from . import qdpx, tables

# Story data formats, by every name the URL, the API and the CLI use for them.
STORY_FORMAT_ALIASES = {
    "csv": "long-csv",
    "long-csv": "long-csv",
    "lang.csv": "long-csv",
    "wide-csv": "wide-csv",
    "wide.csv": "wide-csv",
    "breed.csv": "wide-csv",
    "xlsx": "xlsx",
    "wide.xlsx": "xlsx",
    "breed.xlsx": "xlsx",
    "jsonl": "jsonl",
    "qdpx": "qdpx",
}
STORY_FORMATS = {
    # name: (media type, file name ending, streamed as text?)
    "long-csv": ("text/csv; charset=utf-8", "lang.csv", True),
    "wide-csv": ("text/csv; charset=utf-8", "breed.csv", True),
    "jsonl": ("application/x-ndjson; charset=utf-8", "jsonl", True),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "breed.xlsx",
        False,
    ),
    "qdpx": ("application/zip", "qdpx", False),
}
SUMMARY_FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}


def story_format(name: str) -> str | None:
    return STORY_FORMAT_ALIASES.get(name)


async def story_text_chunks(
    db: Database,
    flt: StoryFilter,
    fmt: str,
    taxonomy,
    on_progress: Callable[[int], None] | None = None,
) -> AsyncIterator[bytes]:
    """The text formats (long CSV, wide CSV, JSON Lines), one encoded chunk per batch."""
    theme_ids = await tables.theme_columns(db, taxonomy.ids) if fmt == "wide-csv" else []
    first, done = True, 0
    async for batch in tables.story_batches(db, flt):
        if fmt == "long-csv":
            text = tables.long_csv(batch, first)
        elif fmt == "wide-csv":
            text = tables.wide_csv(batch, theme_ids, first)
        else:
            text = tables.jsonl(batch, taxonomy.version)
        first = False
        done += len(batch)
        if on_progress:
            on_progress(done)
        yield text.encode("utf-8")
    if first and fmt == "long-csv":  # no stories: still a header, so the file opens
        yield tables.long_csv([], True).encode("utf-8")
    elif first and fmt == "wide-csv":
        yield tables.wide_csv([], theme_ids, True).encode("utf-8")


async def write_stories(
    db: Database,
    flt: StoryFilter,
    fmt: str,
    taxonomy,
    target,
    on_progress: Callable[[int], None] | None = None,
) -> None:
    """Any story format to `target` (a binary file object; a path for xlsx and qdpx too)."""
    if fmt == "qdpx":
        await qdpx.write_qdpx(db, flt, taxonomy, target, on_progress)
    elif fmt == "xlsx":
        await write_wide_xlsx(db, flt, taxonomy, target, on_progress)
    else:
        async for chunk in story_text_chunks(db, flt, fmt, taxonomy, on_progress):
            target.write(chunk)


async def write_wide_xlsx(db, flt, taxonomy, target, on_progress=None) -> None:
    """One row per story, one 0/1 column per theme; openpyxl's write-only mode keeps rows on
    disk, and each batch is written in a thread so the event loop keeps serving pages."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from .common import safe_row

    theme_ids = await tables.theme_columns(db, taxonomy.ids)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Verhalen")
    ws.append(tables.wide_header(theme_ids))

    def append(rows) -> None:
        for row in rows:
            ws.append(
                [
                    ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                    for v in safe_row(row)
                ]
            )

    done = 0
    async for batch in tables.story_batches(db, flt):
        await asyncio.to_thread(append, tables.wide_rows(batch, theme_ids))
        done += len(batch)
        if on_progress:
            on_progress(done)
    about = wb.create_sheet("Over deze export")
    about.append(["taxonomie", taxonomy.version])
    about.append(["filter", flt.query_string()])
    about.append(["formules", "Tekst die met = + - @ begint, krijgt een apostrof ervoor."])
    await asyncio.to_thread(wb.save, target)
