"""The export handlers: the export page, downloads for the current filter, and the API.

Same shape every time: the filter from the query string (browse.request_filter, exactly as
the story list and the patterns page read it) -> check the format -> log the export with
its filter -> respond. Only researchers reach these routes (app.py: RESEARCHER): tellers
read their own team's stories on screen, but bulk copies of colleagues' stories leave the
system only through a researcher, under small-number protection and the audit log.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .. import taxonomy as taxonomy_store
from ..browse import request_filter, too_slow
from ..db import QueryTooSlow
from ..filters import StoryFilter
from ..story_pages import actor_of, render
from . import (
    STORY_FORMATS,
    SUMMARY_FORMATS,
    story_format,
    story_text_chunks,
    tables,
    write_stories,
)
from .common import describe_filter, file_stamp, log_export
from .report import render_report, report_pdf
from .summary import summary_csv, summary_json, summary_xlsx, theme_summary

CHUNK = 1 << 16


def _models_dir(request: Request):
    return request.app.state.settings.data_dir / "models"


def _attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _with_query(path: str, flt: StoryFilter) -> str:
    return flt.url(path)


async def _file_chunks(handle) -> AsyncIterator[bytes]:
    try:
        handle.seek(0)
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk
    finally:
        handle.close()


# --- the export page -----------------------------------------------------------------------


async def export_page(request: Request):
    """What can be exported for the current filter, with one link per format."""
    db = request.app.state.db
    flt = request_filter(request)
    try:
        count = await tables.count_stories(db, flt)
    except QueryTooSlow:
        return too_slow(request, False)

    def link(name: str, **params) -> str:
        return _with_query(request.url_for(name, **params).path, flt)

    return render(
        request,
        "export.html",
        {
            "filter": flt,
            "description": describe_filter(flt),
            "count": count,
            "report": link("export_report"),
            "summary": {
                fmt: link("export_summary", fmt=fmt) for fmt in ("csv", "xlsx", "json", "pdf")
            },
            "stories": {
                fmt: link("export_stories", fmt=fmt)
                for fmt in ("csv", "breed.csv", "xlsx", "jsonl", "qdpx")
            },
            "back": _with_query(request.url_for("story_list").path, flt),
        },
    )


# --- theme summary -------------------------------------------------------------------------


async def summary_response(request: Request, fmt: str, via: str, download: bool = True):
    db = request.app.state.db
    if fmt not in SUMMARY_FORMATS:
        raise HTTPException(404, "Dit exportformaat bestaat niet.")
    flt = request_filter(request)
    try:
        summary = await theme_summary(db, flt, _models_dir(request))
    except QueryTooSlow:
        return too_slow(request, via == "api" or fmt == "json")
    await log_export(db, actor_of(request), "summary", fmt, flt, via, themes=len(summary["themes"]))
    name = f"vertelpunt-themas-{file_stamp()}"
    if fmt == "json":
        return Response(
            summary_json(summary),
            media_type=SUMMARY_FORMATS["json"],
            headers=_attachment(f"{name}.json") if download else None,
        )
    if fmt == "csv":
        return Response(
            summary_csv(summary),
            media_type=SUMMARY_FORMATS["csv"],
            headers=_attachment(f"{name}.csv"),
        )
    if fmt == "xlsx":
        handle = tempfile.SpooledTemporaryFile(max_size=8 << 20)
        await asyncio.to_thread(summary_xlsx, summary, handle)
        return StreamingResponse(
            _file_chunks(handle),
            media_type=SUMMARY_FORMATS["xlsx"],
            headers=_attachment(f"{name}.xlsx"),
        )
    if fmt == "pdf":
        pdf = await asyncio.to_thread(report_pdf, summary)
        return Response(pdf, media_type=SUMMARY_FORMATS["pdf"], headers=_attachment(f"{name}.pdf"))
    return _report_page(request, flt, summary)


def _report_page(request: Request, flt: StoryFilter, summary: dict):
    def link(fmt: str) -> str:
        return _with_query(request.url_for("export_summary", fmt=fmt).path, flt)

    links = {fmt: link(fmt) for fmt in ("pdf", "csv", "xlsx", "json")}
    links["back"] = _with_query(request.url_for("patterns").path, flt)
    stylesheet = request.url_for("static", path="report.css").path
    return Response(render_report(summary, stylesheet, links), media_type=SUMMARY_FORMATS["html"])


async def export_summary(request: Request):
    return await summary_response(request, request.path_params["fmt"], "web")


async def export_report(request: Request):
    return await summary_response(request, "html", "web")


async def api_themes_summary(request: Request):
    """GET /api/v1/themes/summary?<filter>: the theme summary as JSON (DESIGN.md)."""
    return await summary_response(request, "json", "api", download=False)


async def api_export_summary(request: Request):
    return await summary_response(request, request.path_params["fmt"], "api")


# --- story data ----------------------------------------------------------------------------


async def stories_response(request: Request, requested: str, via: str):
    db = request.app.state.db
    fmt = story_format(requested)
    if fmt is None:
        raise HTTPException(404, "Dit exportformaat bestaat niet.")
    flt = request_filter(request)
    try:
        count = await tables.count_stories(db, flt)
    except QueryTooSlow:
        return too_slow(request, via == "api")
    taxonomy = await taxonomy_store.active_taxonomy(db)
    await log_export(db, actor_of(request), "stories", fmt, flt, via, stories=count)
    media_type, ending, streamed = STORY_FORMATS[fmt]
    headers = {
        **_attachment(f"vertelpunt-verhalen-{file_stamp()}.{ending}"),
        "X-Vertelpunt-Stories": str(count),
    }
    if streamed:
        return StreamingResponse(
            story_text_chunks(db, flt, fmt, taxonomy), media_type=media_type, headers=headers
        )
    # Zip-based formats are written to a temporary file (spilling to disk above 8 MiB) and
    # then streamed: a zip's directory comes last, so it cannot be sent as it is made.
    handle = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    try:
        await write_stories(db, flt, fmt, taxonomy, handle)
    except BaseException:
        handle.close()
        raise
    return StreamingResponse(_file_chunks(handle), media_type=media_type, headers=headers)


async def export_stories(request: Request):
    return await stories_response(request, request.path_params["fmt"], "web")


async def api_export_stories(request: Request):
    return await stories_response(request, request.path_params["fmt"], "api")
