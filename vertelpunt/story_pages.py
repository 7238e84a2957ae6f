"""The teller's pages (form, masked preview, thanks) and the story list and detail pages.

Handlers keep one shape: load & authorise -> validate -> change -> respond. The work itself
is in stories.py and privacy.py.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from nlp import deidentify as deid

from . import privacy, stories
from . import taxonomy as taxonomy_store
from .events import Actor, log_event_alone
from .stories import ValidationError


def visible_team_ids(user) -> list[int] | None:
    """The teams whose de-identified stories this user may read (None: all of them)."""
    if user.role == "onderzoeker":
        return None
    if user.role == "verteller":
        return list(user.team_ids)
    return []


async def readable_story(request: Request, story_id: int) -> dict:
    """A confirmed story this user may read, or 404 (never telling whether it exists)."""
    return check_readable(request, await stories.get_story(request.app.state.db, story_id))


def check_readable(request: Request, story: dict | None) -> dict:
    teams = visible_team_ids(request.state.user)
    if story is None or story["status"] != "confirmed":
        raise HTTPException(404)
    if teams is not None and story["team_id"] not in teams:
        raise HTTPException(404)
    return story


async def own_story(request: Request, story_id: int, with_original: bool = False) -> dict:
    """A story told by this user, or 404."""
    story = await stories.get_story(request.app.state.db, story_id, with_original=with_original)
    if story is None or story["teller_id"] != request.state.user.id:
        raise HTTPException(404)
    return story


async def teller_choices(request: Request, taxonomy) -> stories.Choices:
    """A teller may only tell stories for their own team(s)."""
    choices = await stories.load_choices(request.app.state.db, [t.id for t in taxonomy.themes])
    allowed = set(request.state.user.team_ids)
    choices.teams = {tid: name for tid, name in choices.teams.items() if tid in allowed}
    return choices


def actor_of(request: Request) -> Actor:
    user = request.state.user
    ip = request.client.host if request.client else None
    if user is None:
        return Actor("anoniem", None, ip)
    return Actor(user["email"], user["id"], ip)


def render(request: Request, template: str, context: dict, status_code: int = 200):
    # A copy: TemplateResponse adds "request" to the dict it gets, and a view's data may be
    # cached and rendered as JSON next (tests/test_fuzz.py found the 500 that caused).
    return request.app.state.templates.TemplateResponse(
        request, template, dict(context), status_code=status_code
    )


async def form_context(request: Request, values: dict, errors: dict) -> dict:
    taxonomy = await taxonomy_store.active_taxonomy(request.app.state.db)
    choices = await teller_choices(request, taxonomy)
    return {
        "values": values,
        "errors": errors,
        "teams": choices.teams,
        "themes": taxonomy.themes,
        "roles": stories.ROLES,
        "text_min": stories.TEXT_MIN,
        "text_max": stories.TEXT_MAX,
    }


async def story_form(request: Request):
    db = request.app.state.db
    if request.method == "GET":
        values = {"signifier_difference": "50", "signifier_outcome": "50", "themes": []}
        context = await form_context(request, values, {})
        if len(context["teams"]) == 1:
            values["team"] = next(iter(context["teams"]))
        return render(request, "story_form.html", context)

    form = await request.form()
    values = {key: form.get(key, "") for key in form if key != "themes"}
    values["themes"] = form.getlist("themes")
    taxonomy = await taxonomy_store.active_taxonomy(db)
    choices = await teller_choices(request, taxonomy)
    try:
        story = stories.validate_story(values, choices)
    except ValidationError as error:
        # Re-render with everything the person typed: nothing is lost on an error.
        context = await form_context(request, values, error.fields)
        return render(request, "story_form.html", context, status_code=422)
    story_id = await stories.create_story(db, story, taxonomy.version, actor_of(request))
    if deid.is_ready():
        # Warm de-identification takes milliseconds; a cold one is left to the worker.
        await privacy.deidentify_story(db, story_id)
    else:
        request.app.state.worker.wake()
    return RedirectResponse(request.url_for("story_preview", id=story_id), status_code=303)


async def story_preview(request: Request):
    db = request.app.state.db
    story_id = request.path_params["id"]
    story = await own_story(request, story_id, with_original=True)
    if story["status"] == "confirmed":
        return RedirectResponse(request.url_for("story_thanks", id=story_id), status_code=303)
    if story["status"] != "preview":
        return render(request, "story_waiting.html", {"story": story})

    document = privacy.join_fields(story["title"], story["original_text"], story["lesson"])
    entities = [deid.Entity(**e) for e in story["proposed_entities"]]
    if request.method == "POST":
        form = await request.form()
        keep = {int(i) for i in form.getlist("mask") if i.isdecimal() and len(i) < 10}
        label = form.get("extra_label", "PERSOON")
        extra = [(line, label) for line in str(form.get("extra", "")).splitlines()]
        entities = privacy.adjust_entities(document, entities, keep, extra)
        if form.get("action") == "confirm":
            code = await privacy.confirm_story(
                db, story_id, entities, actor_of(request), request.app.state.secret_key
            )
            request.app.state.worker.wake()
            story = await stories.get_story(db, story_id)
            return render(request, "story_thanks.html", {"story": story, "code": code})
        await privacy.save_proposal(db, story_id, entities)

    return render(request, "story_preview.html", preview_context(story, document, entities))


def preview_context(story: dict, document: str, entities: list) -> dict:
    """The original with each mask marked, and the masked result, field by field."""
    masked = privacy.split_fields(deid.mask(document, entities))
    fields, offset = [], 0
    for name, text in zip(privacy.FIELDS, document.split(privacy.SEPARATOR), strict=False):
        pieces, cursor = [], 0
        for index, entity in enumerate(entities):
            start, end = entity.start - offset, entity.end - offset
            if start < 0 or end > len(text):
                continue
            pieces.append({"text": text[cursor:start]})
            pieces.append({"text": text[start:end], "entity": entity, "index": index})
            cursor = end
        pieces.append({"text": text[cursor:]})
        fields.append({"name": name, "pieces": pieces, "masked": masked[name]})
        offset += len(text) + len(privacy.SEPARATOR)
    return {"story": story, "fields": fields, "entities": entities}


async def story_thanks(request: Request):
    story = await own_story(request, request.path_params["id"])
    if story["status"] != "confirmed":
        raise HTTPException(404)
    return render(request, "story_thanks.html", {"story": story, "code": None})


async def my_stories(request: Request):
    rows = await stories.list_stories(
        request.app.state.db, status=None, teller_id=request.state.user.id, limit=500
    )
    return render(request, "my_stories.html", {"stories": rows})


async def kept_original(request: Request):
    """A teller reads the original of their own story, when an admin chose to keep originals."""
    story = await own_story(request, request.path_params["id"])
    original = await privacy.read_kept_original(
        request.app.state.db, story["id"], request.app.state.secret_key
    )
    if original is None:
        raise HTTPException(404, "Van dit verhaal is geen origineel bewaard.")
    return render(request, "kept_original.html", {"story": story, "original": original})


async def story_list(request: Request):
    rows = await stories.list_stories(
        request.app.state.db, team_ids=visible_team_ids(request.state.user)
    )
    return render(request, "story_list.html", {"stories": rows})


async def story_detail(request: Request):
    story = await readable_story(request, request.path_params["id"])
    await log_story_view(request, story["id"])
    return render(request, "story_detail.html", {"story": story})


async def log_story_view(request: Request, story_id: int) -> None:
    """Every view of a story by a researcher is in the audit log."""
    if request.state.user.role == "onderzoeker":
        await log_event_alone(
            request.app.state.db, actor_of(request), "story.view", f"story:{story_id}"
        )


async def withdraw(request: Request):
    """Anyone with a story's withdrawal code may withdraw it, without an account."""
    if request.method == "GET":
        return render(request, "withdraw.html", {"done": False, "error": None})
    form = await request.form()
    code = str(form.get("code", "")).strip()[:40]
    story_id = await privacy.withdraw_story(request.app.state.db, code, actor_of(request))
    if story_id is None:
        return render(
            request,
            "withdraw.html",
            {
                "done": False,
                "code": code,
                "error": "Deze intrekcode kennen we niet. Controleer de code en probeer het"
                " opnieuw.",
            },
            status_code=422,
        )
    return render(request, "withdraw.html", {"done": True, "error": None})
