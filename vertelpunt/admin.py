"""The admin's pages: users and invites, teams, settings, the audit log and failed work.

Every change is written to the audit log. An admin manages; an admin does not read stories.
"""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse

from . import accounts, auth
from .app_settings import APP_SETTINGS, get_app_setting
from .demo import ensure_team
from .events import log_event
from .story_pages import actor_of, render

log = logging.getLogger("vertelpunt.links")

EVENTS_PER_PAGE = 50


async def overview(
    request: Request, error: str | None = None, link: str | None = None, status_code: int = 200
):
    db = request.app.state.db
    users = await db.fetchall(
        "SELECT u.id, u.email, u.role, u.active, u.last_login_at,"
        " group_concat(t.name, ', ') AS teams FROM users u"
        " LEFT JOIN user_teams ut ON ut.user_id = u.id LEFT JOIN teams t ON t.id = ut.team_id"
        " GROUP BY u.id ORDER BY u.email"
    )
    teams = await db.fetchall(
        "SELECT t.id, t.name, m.name AS municipality FROM teams t"
        " JOIN municipalities m ON m.id = t.municipality_id ORDER BY m.name, t.name"
    )
    failed = await db.fetchall(
        "SELECT id, status, deid_attempts, deid_error, nlp_status, nlp_attempts, nlp_error"
        " FROM stories WHERE deid_error IS NOT NULL OR nlp_error IS NOT NULL ORDER BY id"
    )
    settings = {key: await get_app_setting(db, key) for key in APP_SETTINGS}
    return render(
        request,
        "admin.html",
        {
            "users": users,
            "teams": teams,
            "failed": failed,
            "error": error,
            "link": link,
            "roles": auth.ROLES,
            "settings": settings,
            "setting_help": APP_SETTINGS,
        },
        status_code=status_code,
    )


async def invite(request: Request):
    form = await request.form()
    team = str(form.get("team", ""))
    try:
        token = await accounts.create_invite(
            request.app.state.db,
            str(form.get("email", "")),
            str(form.get("role", "")),
            int(team) if team.isdecimal() and len(team) < 10 else None,
            actor_of(request),
        )
    except accounts.AccountError as error:
        return await overview(request, error=str(error), status_code=422)
    link = str(request.url_for("accept_invite", token=token))
    log.warning("uitnodiging voor %s: %s", form.get("email"), link)
    return await overview(request, link=link)


async def update_user(request: Request):
    db = request.app.state.db
    user_id = request.path_params["id"]
    form = await request.form()
    role = str(form.get("role", ""))
    if role not in auth.ROLES:
        return await overview(request, error="Kies een geldige rol.", status_code=422)
    active = 1 if form.get("active") == "1" else 0
    if user_id == request.state.user.id and (not active or role != "beheerder"):
        return await overview(
            request,
            error="Je kunt jezelf niet blokkeren of je eigen beheerrol afnemen.",
            status_code=422,
        )
    team_ids = [int(t) for t in form.getlist("teams") if str(t).isdecimal() and len(str(t)) < 10]
    async with db.write() as conn:
        cursor = await conn.execute(
            "UPDATE users SET role = ?, active = ? WHERE id = ?", (role, active, user_id)
        )
        if cursor.rowcount == 0:
            raise HTTPException(404)
        await conn.execute("DELETE FROM user_teams WHERE user_id = ?", (user_id,))
        await conn.executemany(
            "INSERT INTO user_teams (user_id, team_id) SELECT ?, id FROM teams WHERE id = ?",
            [(user_id, team_id) for team_id in team_ids],
        )
        if not active:
            await conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        await log_event(
            conn,
            actor_of(request),
            "user.update",
            f"user:{user_id}",
            role=role,
            active=bool(active),
            teams=team_ids,
        )
    return RedirectResponse(request.url_for("admin"), status_code=303)


async def add_team(request: Request):
    form = await request.form()
    name = str(form.get("name", "")).strip()[:120]
    municipality = str(form.get("municipality", "")).strip()[:120]
    if not name or not municipality:
        return await overview(
            request, error="Vul de naam van het team en de gemeente in.", status_code=422
        )
    db = request.app.state.db
    team_id = await ensure_team(db, name, municipality)
    async with db.write() as conn:
        await log_event(
            conn,
            actor_of(request),
            "team.add",
            f"team:{team_id}",
            name=name,
            municipality=municipality,
        )
    return RedirectResponse(request.url_for("admin"), status_code=303)


async def update_settings(request: Request):
    db = request.app.state.db
    form = await request.form()
    values = {}
    for key, (_default, help_text, check) in APP_SETTINGS.items():
        raw = str(form.get(key, "")).strip()
        if not (raw.isdecimal() and len(raw) < 10) or not check(int(raw)):
            return await overview(
                request, error=f"Ongeldige waarde bij: {help_text}", status_code=422
            )
        values[key] = int(raw)
    async with db.write() as conn:
        for key, value in values.items():
            await conn.execute(
                "INSERT INTO app_settings (key, value, updated_by) VALUES (?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                " updated_by = excluded.updated_by,"
                " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                (key, str(value), request.state.user.id),
            )
        await log_event(conn, actor_of(request), "settings.update", None, **values)
    return RedirectResponse(request.url_for("admin"), status_code=303)


async def event_log(request: Request):
    db = request.app.state.db
    page = request.query_params.get("pagina", "1")
    page = int(page) if page.isdecimal() and len(page) < 6 and int(page) > 0 else 1
    rows = await db.fetchall(
        "SELECT id, at, actor, action, subject, detail, ip FROM events ORDER BY id DESC"
        " LIMIT ? OFFSET ?",
        (EVENTS_PER_PAGE + 1, (page - 1) * EVENTS_PER_PAGE),
    )
    events = [{**dict(r), "detail": json.loads(r["detail"])} for r in rows[:EVENTS_PER_PAGE]]
    return render(
        request,
        "admin_events.html",
        {
            "events": events,
            "page": page,
            "has_next": len(rows) > EVENTS_PER_PAGE,
        },
    )
