"""The web app: `create_app(settings)` with the whole URL surface on one screen."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import sqlite3
from pathlib import Path

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from . import (
    account_pages,
    admin,
    api,
    auth,
    browse,
    demo,
    imports,
    model_admin,
    observations,
    pages,
    patterns,
    review,
    story_pages,
)
from . import taxonomy as taxonomy_store
from .auth import ADMIN, LOGGED_IN, PUBLIC, READERS, RESEARCHER, TELLER
from .db import Database, migrate
from .exports import pages as export_pages
from .jobs import Jobs
from .routing import endpoint, page
from .security import BodyLimitMiddleware, SecurityHeadersMiddleware
from .settings import Settings
from .tagging import TaggingService
from .worker import Worker

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)
# aiosqlite logs every statement at DEBUG; deduce briefly sets the root logger to DEBUG while
# it loads (nlp/deid/engine.py undoes that), so keep this noisy logger quiet regardless.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()

    # Each route names the roles that may use it (vertelpunt/auth.py); a route without a
    # rule cannot be added, and tests/test_access.py requests every route as every role.
    routes = [
        # Public pages, logging in and out
        page("/", pages.home, "home", PUBLIC),
        page("/toegankelijkheid", pages.accessibility, "accessibility", PUBLIC),
        endpoint("/gezond", pages.health, "health", PUBLIC),
        page("/inloggen", account_pages.login, "login", PUBLIC, ["GET", "POST"]),
        page("/uitloggen", account_pages.logout, "logout", PUBLIC, ["POST"]),
        page(
            "/wachtwoord-vergeten",
            account_pages.forgot_password,
            "forgot_password",
            PUBLIC,
            ["GET", "POST"],
        ),
        page(
            "/wachtwoord-herstellen/{token}",
            account_pages.accept_link,
            "reset_password",
            PUBLIC,
            ["GET", "POST"],
        ),
        page(
            "/uitnodiging/{token}",
            account_pages.accept_link,
            "accept_invite",
            PUBLIC,
            ["GET", "POST"],
        ),
        # One's own account
        page("/account", account_pages.account, "account", LOGGED_IN),
        page(
            "/account/wachtwoord",
            account_pages.change_password,
            "change_password",
            LOGGED_IN,
            ["POST"],
        ),
        page("/account/tokens", account_pages.create_token, "create_token", LOGGED_IN, ["POST"]),
        page(
            "/account/tokens/{id:int}/intrekken",
            account_pages.revoke_token,
            "revoke_token",
            LOGGED_IN,
            ["POST"],
        ),
        # Telling a story: form -> preview of the masked text -> confirm -> thanks
        page("/vertel", story_pages.story_form, "story_form", TELLER, ["GET", "POST"]),
        page(
            "/vertel/{id:int}/controle",
            story_pages.story_preview,
            "story_preview",
            TELLER,
            ["GET", "POST"],
        ),
        page("/vertel/{id:int}/bedankt", story_pages.story_thanks, "story_thanks", TELLER),
        page("/mijn-verhalen", story_pages.my_stories, "my_stories", TELLER),
        page(
            "/mijn-verhalen/{id:int}/origineel", story_pages.kept_original, "kept_original", TELLER
        ),
        page("/intrekken", story_pages.withdraw, "withdraw", PUBLIC, ["GET", "POST"]),
        # Research workspace: browse & search, patterns, review, observations (issue 6).
        # Each list or pattern view is also JSON at the same URL + ".json".
        page("/verhalen", browse.story_list, "story_list", READERS),
        page("/verhalen.json", browse.story_list, "story_list_json", READERS),
        page("/verhalen/{id:int}", browse.story_detail, "story_detail", READERS),
        page(
            "/verhalen/{id:int}/betekenisvol",
            observations.mark_significant_page,
            "mark_significant",
            RESEARCHER,
            ["POST"],
        ),
        page("/patronen", patterns.patterns_page, "patterns", RESEARCHER),
        page("/patronen.json", patterns.patterns_page, "patterns_json", RESEARCHER),
        page(
            "/observaties",
            observations.add_observation_page,
            "add_observation",
            RESEARCHER,
            ["POST"],
        ),
        page("/review", review.review_page, "review", RESEARCHER),
        page("/review.json", review.review_page, "review_json", RESEARCHER),
        page("/review/{id:int}", review.review_decide, "review_decide", RESEARCHER, ["POST"]),
        # --- Exports and imports (issue 7): researchers export the current filter's stories
        # and theme summary; admins import story files. See vertelpunt/exports/.
        page("/export", export_pages.export_page, "export", RESEARCHER),
        page("/export/rapport", export_pages.export_report, "export_report", RESEARCHER),
        page(
            "/export/samenvatting.{fmt}", export_pages.export_summary, "export_summary", RESEARCHER
        ),
        page("/export/verhalen.{fmt}", export_pages.export_stories, "export_stories", RESEARCHER),
        page("/beheer/import", imports.import_page, "admin_import", ADMIN),
        page("/beheer/import", imports.upload, "admin_import_upload", ADMIN, ["POST"]),
        # The same exports in the JSON API; listed before the /api/v1 mount, which would
        # otherwise answer these paths with a 404.
        endpoint(
            "/api/v1/themes/summary",
            export_pages.api_themes_summary,
            "api_themes_summary",
            RESEARCHER,
        ),
        endpoint(
            "/api/v1/export/summary.{fmt}",
            export_pages.api_export_summary,
            "api_export_summary",
            RESEARCHER,
        ),
        endpoint(
            "/api/v1/export/stories.{fmt}",
            export_pages.api_export_stories,
            "api_export_stories",
            RESEARCHER,
        ),
        # --- end of exports and imports
        # Administration
        page("/beheer", admin.overview, "admin", ADMIN),
        page("/beheer/uitnodigingen", admin.invite, "admin_invite", ADMIN, ["POST"]),
        page(
            "/beheer/gebruikers/{id:int}", admin.update_user, "admin_update_user", ADMIN, ["POST"]
        ),
        page("/beheer/teams", admin.add_team, "admin_add_team", ADMIN, ["POST"]),
        page("/beheer/instellingen", admin.update_settings, "admin_settings", ADMIN, ["POST"]),
        page("/beheer/logboek", admin.event_log, "admin_events", ADMIN),
        page("/beheer/taxonomie", model_admin.taxonomy_page, "admin_taxonomy", ADMIN),
        page(
            "/beheer/taxonomie", model_admin.save_taxonomy, "admin_save_taxonomy", ADMIN, ["POST"]
        ),
        page("/beheer/hertaggen", model_admin.start_retag, "admin_retag", ADMIN, ["POST"]),
        page("/beheer/trainen", model_admin.start_training, "admin_train", ADMIN, ["POST"]),
        # JSON API
        Mount("/api/v1", routes=api.routes, name="api"),
        # Static assets, served by the app itself (no CDN)
        Mount("/static", StaticFiles(directory=ROOT / "vertelpunt" / "static"), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.db_path)
        db = Database(settings.db_path, settings.readers, settings.query_time_limit_ms)
        await db.open()
        await taxonomy_store.ensure_default_taxonomy(db)
        app.state.db = db
        app.state.tagging = TaggingService(settings.data_dir / "models")
        app.state.worker = Worker(db, app.state.tagging)
        app.state.jobs = Jobs(db)
        if settings.load_demo:
            await demo.load_demo(db)
        if settings.worker:
            app.state.worker.start()
        warming = asyncio.create_task(
            patterns.warm_up(db, app.url_path_for("story_list"), app.state.templates.env)
        )
        app.state.warming = warming
        try:
            yield
        finally:
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warming
            await app.state.jobs.stop()
            await app.state.worker.stop()
            await db.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeadersMiddleware, https=settings.https),
            Middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes),
            Middleware(auth.AuthMiddleware, https=settings.https),
        ],
        exception_handlers={
            HTTPException: http_error,
            sqlite3.OperationalError: storage_error,
            OSError: storage_error,
            Exception: server_error,
        },
        lifespan=lifespan,
    )
    unguarded = [r.path for r in iter_routes(routes) if not hasattr(r, "allowed_roles")]
    if unguarded:
        raise RuntimeError(f"routes without an access rule: {unguarded}")
    app.state.settings = settings
    app.state.secret_key = auth.load_secret_key(settings.secret_key, settings.data_dir)
    app.state.templates = make_templates()
    app.state.url_paths = {}
    return app


def iter_routes(routes, prefix=""):
    """Every Route with its full path (static files excepted: they are public by design)."""
    for route in routes:
        if isinstance(route, Mount) and route.name != "static":
            yield from iter_routes(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            route.full_path = prefix + route.path
            yield route


@jinja2.pass_context
def url_path_for(context, name: str, /, **params) -> str:
    """Links in pages are paths, not absolute URLs: they work behind any proxy or host name.

    Remembered per app: Starlette tries every route in turn for each link, and a page with
    twenty links spent more time there than in its queries."""
    app = context["request"].app
    key = (name, *sorted(params.items()))
    paths = app.state.url_paths
    if key not in paths:
        if len(paths) > 100_000:  # links to single stories: bounded, not kept forever
            paths.clear()
        paths[key] = str(app.url_path_for(name, **params))
    return paths[key]


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(
        directory=ROOT / "templates",
        context_processors=[
            lambda request: {
                "user": getattr(request.state, "user", None),
                "csrf_token": auth.csrf_token(request),
            }
        ],
    )
    templates.env.autoescape = True  # every template, whatever its file name
    templates.env.globals["url_for"] = url_path_for
    templates.env.globals["labels"] = pages.LABELS
    templates.env.tests["startswith"] = lambda value, prefix: str(value).startswith(prefix)
    return templates


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


MESSAGES = {
    400: "Dit verzoek kunnen we niet verwerken.",
    403: "Je hebt geen toegang tot deze pagina.",
    404: "Deze pagina bestaat niet (meer).",
    405: "Deze actie kan hier niet.",
    413: "Wat je stuurde is te groot. Maak het kleiner en probeer het opnieuw.",
}


async def http_error(request: Request, exc: HTTPException):
    message = (
        exc.detail
        if exc.detail and exc.detail != _default_phrase(exc.status_code)
        else (MESSAGES.get(exc.status_code, "Er ging iets mis."))
    )
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)
    return request.app.state.templates.TemplateResponse(
        request,
        "error.html",
        {"status": exc.status_code, "message": message},
        status_code=exc.status_code,
        headers=exc.headers,
    )


DISK_FULL = (
    "De opslag van Vertelpunt is vol, dus er kon nu niets worden opgeslagen. Er is ook niets"
    " half opgeslagen. Een verhaal dat je schreef, staat nog in je browser: probeer het later"
    " opnieuw. Lezen en zoeken gaan gewoon door. De beheerder moet ruimte vrijmaken."
)


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL, or the operating system's "no space left on device"."""
    if isinstance(exc, sqlite3.OperationalError):
        return "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


async def storage_error(request: Request, exc: Exception):
    """A full disk is not a bug: say so plainly, with 507 Insufficient Storage (found by
    tests/test_faults.py; the write was rolled back, see Database.write). Handled here and
    not as a 500, so the connection stays open and the app serves the next request."""
    if not is_disk_full(exc):
        raise exc  # to server_error
    log.critical("disk full: could not write on %s: %s", request.url.path, exc)
    if wants_json(request):
        return JSONResponse({"error": DISK_FULL}, status_code=507)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": 507, "message": DISK_FULL}, status_code=507
    )


async def server_error(request: Request, exc: Exception):
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    message = "Er ging iets mis aan onze kant. Wat al was opgeslagen, blijft bewaard."
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=500)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": 500, "message": message}, status_code=500
    )


def _default_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
