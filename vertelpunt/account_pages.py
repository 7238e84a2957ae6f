"""Pages for logging in and out, invites, password resets and one's own account."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from . import accounts, auth
from .story_pages import actor_of, render

log = logging.getLogger("vertelpunt.links")


def safe_next(value: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        auth.SESSION_COOKIE,
        token,
        max_age=auth.ABSOLUTE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.https,
        path="/",
    )


async def log_in_and_redirect(request: Request, user_id: int, target: str) -> Response:
    token = await auth.start_session(request.app.state.db, user_id, actor_of(request).ip)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, token)
    return response


async def login(request: Request):
    db = request.app.state.db
    next_path = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "login.html", {"next": next_path, "email": "", "error": None})
    form = await request.form()
    email = str(form.get("email", "")).strip()[:254]
    password = str(form.get("password", ""))[: auth.PASSWORD_MAX + 1]
    next_path = safe_next(form.get("next"))
    if not email or not password:
        return render(
            request,
            "login.html",
            {
                "next": next_path,
                "email": email,
                "error": "Vul je e-mailadres en je wachtwoord in.",
            },
            status_code=422,
        )
    result = await accounts.authenticate(db, email, password, actor_of(request).ip)
    if result.message:
        return render(
            request,
            "login.html",
            {
                "next": next_path,
                "email": email,
                "error": result.message,
            },
            status_code=401,
        )
    old = request.state.user
    if old is not None and old.session_hash:
        await accounts.end_session(db, old.session_hash)
    return await log_in_and_redirect(request, result.user_id, next_path)


async def logout(request: Request):
    user = request.state.user
    if user is not None and user.session_hash:
        await accounts.end_session(request.app.state.db, user.session_hash)
    response = RedirectResponse(request.url_for("home"), status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


async def accept_link(request: Request):
    """/uitnodiging/{token} and /wachtwoord-herstellen/{token}: choose a password."""
    purpose = "invite" if request.url.path.startswith("/uitnodiging") else "reset"
    db = request.app.state.db
    token = request.path_params["token"]
    link = await accounts.find_link(db, token, purpose)
    context = {"purpose": purpose, "link": link, "error": None}
    if link is None:
        return render(request, "set_password.html", context, status_code=410)
    if request.method == "POST":
        form = await request.form()
        password, repeat = str(form.get("password", "")), str(form.get("password2", ""))
        if password != repeat:
            context["error"] = "De twee wachtwoorden zijn niet gelijk."
        else:
            try:
                user_id = await accounts.use_link(
                    db, token, purpose, password, actor_of(request).ip
                )
            except accounts.AccountError as error:
                context["error"] = str(error)
            else:
                return await log_in_and_redirect(request, user_id, "/")
        return render(request, "set_password.html", context, status_code=422)
    return render(request, "set_password.html", context)


async def forgot_password(request: Request):
    if request.method == "GET":
        return render(request, "forgot_password.html", {"sent": False})
    form = await request.form()
    email = str(form.get("email", "")).strip()[:254]
    token = await accounts.create_reset(request.app.state.db, email, actor_of(request))
    if token:
        # No mail server in development: the link goes to the console log.
        link = request.url_for("reset_password", token=token)
        log.warning("wachtwoord-herstellink voor %s: %s", email, link)
    # The same answer whether or not the account exists.
    return render(request, "forgot_password.html", {"sent": True})


async def account(request: Request):
    user = request.state.user
    tokens = await request.app.state.db.fetchall(
        "SELECT id, name, created_at, last_used_at FROM api_tokens"
        " WHERE user_id = ? AND revoked_at IS NULL ORDER BY id",
        (user.id,),
    )
    return render(request, "account.html", {"tokens": tokens, "new_token": None, "error": None})


async def change_password(request: Request):
    db = request.app.state.db
    user = request.state.user
    form = await request.form()
    current = await db.fetchone("SELECT password_hash FROM users WHERE id = ?", (user.id,))
    error = None
    if not auth.verify_password(current["password_hash"], str(form.get("current", ""))):
        error = "Je huidige wachtwoord klopt niet."
    elif form.get("password") != form.get("password2"):
        error = "De twee nieuwe wachtwoorden zijn niet gelijk."
    else:
        try:
            await accounts.set_password(
                db, user.id, str(form.get("password", "")), actor_of(request)
            )
        except accounts.AccountError as problem:
            error = str(problem)
    if error:
        return render(
            request,
            "account.html",
            {"tokens": [], "new_token": None, "error": error},
            status_code=422,
        )
    # Every session ended, this one too: start a fresh one so the person stays logged in here.
    return await log_in_and_redirect(request, user.id, str(request.url_for("account")))


async def create_token(request: Request):
    user = request.state.user
    form = await request.form()
    token = await accounts.create_api_token(
        request.app.state.db, user.id, str(form.get("name", "")), actor_of(request)
    )
    tokens = await request.app.state.db.fetchall(
        "SELECT id, name, created_at, last_used_at FROM api_tokens"
        " WHERE user_id = ? AND revoked_at IS NULL ORDER BY id",
        (user.id,),
    )
    return render(request, "account.html", {"tokens": tokens, "new_token": token, "error": None})


async def revoke_token(request: Request):
    user = request.state.user
    done = await accounts.revoke_api_token(
        request.app.state.db, user.id, request.path_params["id"], actor_of(request)
    )
    if not done:
        raise HTTPException(404)
    return RedirectResponse(request.url_for("account"), status_code=303)
