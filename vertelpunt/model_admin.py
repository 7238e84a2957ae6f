"""The admin's NLP pages: edit the taxonomy, re-tag the corpus, train a new model."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, replace

from starlette.requests import Request
from starlette.responses import RedirectResponse

from nlp.taxonomy import Taxonomy, TaxonomyError

from . import retag, training
from . import taxonomy as taxonomy_store
from .events import log_event
from .jobs import JobBusy
from .story_pages import actor_of, render


async def taxonomy_page(
    request: Request, toml: str | None = None, error: str | None = None, status_code: int = 200
):
    db = request.app.state.db
    active = await taxonomy_store.active_taxonomy(db)
    versions = await db.fetchall(
        "SELECT version, active, created_at FROM taxonomy_versions ORDER BY created_at DESC"
    )
    return render(
        request,
        "admin_taxonomy.html",
        {
            "toml": toml if toml is not None else await taxonomy_store.active_toml(db),
            "active": active,
            "versions": versions,
            "error": error,
            "jobs": request.app.state.jobs,
        },
        status_code=status_code,
    )


async def save_taxonomy(request: Request):
    """Saving makes a new version (never overwrites one) and starts re-tagging with it."""
    db = request.app.state.db
    form = await request.form()
    text = str(form.get("toml", ""))
    try:
        taxonomy = Taxonomy.from_toml(text, source="taxonomie")
    except (TaxonomyError, ValueError) as error:
        return await taxonomy_page(
            request, text, f"De taxonomie klopt nog niet: {error}", status_code=422
        )
    known = {r["version"] for r in await db.fetchall("SELECT version FROM taxonomy_versions")}
    if taxonomy.version in known:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        taxonomy = replace(taxonomy, version=f"{taxonomy.version}+{stamp}")
    await taxonomy_store.save_taxonomy(db, taxonomy, request.state.user.id, toml=text)
    async with db.write() as conn:
        await log_event(conn, actor_of(request), "taxonomy.save", None, version=taxonomy.version)
    return await start_retag(request)


async def start_retag(request: Request):
    app = request.app
    db = app.state.db
    settings = app.state.settings

    async def work(job):
        taxonomy = await taxonomy_store.active_taxonomy(db)
        report = await retag.retag(
            db,
            taxonomy,
            settings.data_dir / "models",
            settings.data_dir / "retag",
            on_progress=job.progress,
        )
        return report.summary()

    try:
        app.state.jobs.start("retag", actor_of(request), work, on_done=app.state.tagging.reload)
    except JobBusy as busy:
        return await taxonomy_page(
            request, error=f"Probeer het straks opnieuw: {busy}.", status_code=409
        )
    return RedirectResponse(request.url_for("admin_taxonomy"), status_code=303)


async def start_training(request: Request):
    app = request.app
    db = app.state.db
    models_dir = app.state.settings.data_dir / "models"

    async def work(job):
        taxonomy = await taxonomy_store.active_taxonomy(db)
        return asdict(await training.train_from_reviews(db, taxonomy, models_dir))

    try:
        app.state.jobs.start("train", actor_of(request), work, on_done=app.state.tagging.reload)
    except JobBusy as busy:
        return await taxonomy_page(
            request, error=f"Probeer het straks opnieuw: {busy}.", status_code=409
        )
    return RedirectResponse(request.url_for("admin_taxonomy"), status_code=303)
