"""The JSON API, /api/v1 (contract in shared/DESIGN.md). Errors are JSON with a 4xx status."""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from nlp import deidentify as deid

from . import privacy, stories
from . import taxonomy as taxonomy_store
from .auth import LOGGED_IN, READERS, TELLER
from .routing import endpoint
from .stories import ValidationError
from .story_pages import (
    actor_of,
    log_story_view,
    own_story,
    readable_story,
    teller_choices,
    visible_team_ids,
)


def error(message: str, status: int = 422, fields: dict | None = None) -> JSONResponse:
    body = {"error": message}
    if fields:
        body["fields"] = fields
    return JSONResponse(body, status_code=status)


async def read_json(request: Request) -> dict:
    try:
        body = json.loads(await request.body() or b"null")
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, 5,000-digit numbers, [[[[...
        raise HTTPException(400, "De inhoud is geen geldige JSON.") from None
    if not isinstance(body, dict):
        raise HTTPException(422, "Stuur een JSON-object met de velden van het verhaal.")
    return body


async def create_story(request: Request):
    db = request.app.state.db
    body = await read_json(request)
    taxonomy = await taxonomy_store.active_taxonomy(db)
    choices = await teller_choices(request, taxonomy)
    try:
        story = stories.validate_story(body, choices)
    except ValidationError as invalid:
        return error("Het verhaal is niet compleet of niet juist.", 422, invalid.fields)
    story_id = await stories.create_story(db, story, taxonomy.version, actor_of(request), "api")
    if deid.is_ready():
        await privacy.deidentify_story(db, story_id)
    else:
        request.app.state.worker.wake()
    return JSONResponse(await preview_json(request, story_id), status_code=201)


async def preview_json(request: Request, story_id: int) -> dict:
    story = await own_story(request, story_id, with_original=True)
    body = {"id": story_id, "status": story["status"]}
    if story["status"] == "preview":
        document = privacy.join_fields(story["title"], story["original_text"], story["lesson"])
        entities = [deid.Entity(**e) for e in story["proposed_entities"]]
        body["preview"] = privacy.split_fields(deid.mask(document, entities))
        body["entities"] = story["proposed_entities"]
    body["confirm_url"] = str(request.url_for("api:confirm_story", id=story_id))
    return body


async def confirm_story(request: Request):
    """Confirm the proposed masks, or a corrected list of entities sent as {"entities": [...]}."""
    db = request.app.state.db
    story_id = request.path_params["id"]
    story = await own_story(request, story_id, with_original=True)
    if story["status"] != "preview":
        return error("Dit verhaal wacht niet op bevestiging.", 409)
    body = await read_json(request)
    raw = body.get("entities", story["proposed_entities"])
    try:
        entities = [deid.Entity(**e) for e in raw]
        document = privacy.join_fields(story["title"], story["original_text"], story["lesson"])
        deid.mask(document, entities)  # validates bounds, overlaps and labels
    except (TypeError, ValueError) as invalid:
        return error(f"De lijst met te verbergen stukken klopt niet: {invalid}", 422)
    code = await privacy.confirm_story(
        db, story_id, entities, actor_of(request), request.app.state.secret_key
    )
    request.app.state.worker.wake()
    return JSONResponse({"id": story_id, "status": "confirmed", "withdrawal_code": code})


async def list_stories(request: Request):
    """The stories a StoryFilter selects (the same filter as /verhalen and exports)."""
    from .browse import TOO_SLOW, filtered_stories
    from .db import QueryTooSlow
    from .filters import StoryFilter
    from .search import sync_search_index

    db = request.app.state.db
    flt = StoryFilter.from_params(request.query_params, visible_team_ids(request.state.user))
    limit, offset = request.query_params.get("limit", "50"), request.query_params.get("offset", "0")
    # isdecimal and a length limit: int() refuses '²' and over 4300 digits, SQLite over 2**63.
    limit = int(limit) if limit.isdecimal() and len(limit) < 10 else 0
    limit = min(limit, 500) if limit > 0 else 50
    offset = int(offset) if offset.isdecimal() and len(offset) < 10 else 0
    await sync_search_index(db)
    try:
        rows = await filtered_stories(db, flt, limit, offset)
    except QueryTooSlow:
        return error(TOO_SLOW, 503)
    return JSONResponse(
        {
            "stories": [stories.public(row) for row in rows],
            "filter": flt.query_string(),
            "limit": limit,
            "offset": offset,
        }
    )


async def get_story(request: Request):
    try:
        story = await readable_story(request, request.path_params["id"])
    except HTTPException:
        raise HTTPException(404, "Dit verhaal bestaat niet.") from None
    await log_story_view(request, story["id"])
    return JSONResponse(stories.public(story))


async def list_themes(request: Request):
    taxonomy = await taxonomy_store.active_taxonomy(request.app.state.db)
    return JSONResponse(
        {"version": taxonomy.version, "themes": taxonomy_store.themes_json(taxonomy)}
    )


routes = [
    endpoint("/stories", create_story, "create_story", TELLER, ["POST"]),
    endpoint("/stories", list_stories, "list_stories", READERS),
    endpoint("/stories/{id:int}", get_story, "get_story", READERS),
    endpoint("/stories/{id:int}/confirm", confirm_story, "confirm_story", TELLER, ["POST"]),
    endpoint("/themes", list_themes, "list_themes", LOGGED_IN),
]
