"""Who is asking, and may they: sessions, API tokens, passwords, CSRF and the route rules.

- Passwords: argon2id (argon2-cffi) with t=2, m=19 MiB, p=1, OWASP's minimum for argon2id.
- Sessions live in the database (revocable, logged out everywhere on a password change); the
  cookie holds a random token, the database only its SHA-256. Idle timeout 30 min, absolute
  12 h. A teller whose session ends while writing keeps the text: the form keeps a draft in
  the browser (static/vertelpunt.js) and the story form is never cleared by a login.
- API tokens for scripts: `Authorization: Bearer vp_...`, hashed in the database, revocable.
- CSRF: a token in a hidden form field, bound to the session (or, before login, to a random
  cookie), plus an Origin / Sec-Fetch-Site check. Works for plain HTML forms without JS.
- Every route has a rule in RULES (route name -> roles); create_app() refuses a route without
  one, and tests/test_access.py requests every route as every role.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .db import Database

ROLES = ("verteller", "onderzoeker", "beheerder")
SESSION_COOKIE = "vertelpunt_sessie"
ANON_COOKIE = "vertelpunt_anoniem"
IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 12 * 60 * 60
TOUCH_EVERY_SECONDS = 60  # how stale last_seen_at may get before a request writes it
PASSWORD_MIN, PASSWORD_MAX = 12, 128

hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


# --- secrets and hashes --------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_secret_key(configured: str, data_dir: Path) -> bytes:
    """The configured key, or one made once and kept (mode 600) in the data folder."""
    if configured:
        return configured.encode()
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        # Spend the same time as a real check, so timing does not reveal unknown accounts.
        _burn(password)
        return False
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = hasher.hash("vertelpunt-dummy-password")


def _burn(password: str) -> None:
    with contextlib.suppress(VerificationError):
        hasher.verify(_DUMMY_HASH, password)


COMMON_PASSWORDS = {
    "wachtwoord123",
    "welkom123456",
    "password1234",
    "123456789012",
    "qwertyuiop12",
    "wachtwoord12",
    "vertelpunt12",
    "zomer2024!!!",
    "winter2025!!",
}


def password_problem(password: str, email: str = "") -> str | None:
    """A Dutch message when a new password is not good enough, else None (ASVS V6.2)."""
    if len(password) < PASSWORD_MIN:
        return f"Kies een wachtwoord van minstens {PASSWORD_MIN} tekens."
    if len(password) > PASSWORD_MAX:
        return f"Kies een wachtwoord van hoogstens {PASSWORD_MAX} tekens."
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 5:
        return "Dit wachtwoord is te makkelijk te raden. Kies een ander."
    if email and email.split("@")[0].lower() in lowered and len(email.split("@")[0]) > 3:
        return "Gebruik je e-mailadres niet in je wachtwoord."
    return None


# --- the current user ----------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: int
    email: str
    role: str
    team_ids: tuple[int, ...]
    session_hash: str | None = None  # None for API-token requests

    def __getitem__(self, key):  # templates and older code read user["email"]
        return getattr(self, key)


_USER_COLUMNS = (
    "u.id, u.email, u.role, u.active,"
    " (SELECT group_concat(team_id) FROM user_teams WHERE user_id = u.id) AS teams"
)


def _user(row, session_hash: str | None) -> User | None:
    if row is None or not row["active"]:
        return None
    teams = tuple(sorted(int(t) for t in row["teams"].split(","))) if row["teams"] else ()
    return User(row["id"], row["email"], row["role"], teams, session_hash)


async def load_user(db: Database, user_id: int, session_hash: str | None) -> User | None:
    row = await db.fetchone(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = ?", (user_id,))
    return _user(row, session_hash)


async def user_from_session(db: Database, token: str, now: float | None = None) -> User | None:
    """The user of a session cookie: one query for session, user and teams, as it runs on
    every request."""
    now = now or time.time()
    hashed = token_hash(token)
    row = await db.fetchone(
        f"SELECT s.created_at, s.last_seen_at, {_USER_COLUMNS}"
        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        (hashed,),
    )
    if row is None:
        return None
    if now - row["last_seen_at"] > IDLE_SECONDS or now - row["created_at"] > ABSOLUTE_SECONDS:
        async with db.write() as conn:
            await conn.execute("DELETE FROM sessions WHERE token_hash = ?", (hashed,))
        return None
    if now - row["last_seen_at"] > TOUCH_EVERY_SECONDS:
        await bookkeeping(
            db, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", (now, hashed)
        )
    return _user(row, hashed)


async def user_from_api_token(db: Database, token: str) -> User | None:
    row = await db.fetchone(
        "SELECT id, user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
        (token_hash(token),),
    )
    if row is None:
        return None
    await bookkeeping(
        db,
        "UPDATE api_tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
        (row["id"],),
    )
    return await load_user(db, row["user_id"], None)


async def bookkeeping(db: Database, sql: str, params) -> None:
    """A write that only keeps track (last seen, last used): on a full disk it is skipped,
    so reading goes on (tests/test_faults.py)."""
    try:
        await db.append(sql, params)
    except sqlite3.OperationalError as error:
        if "database or disk is full" not in str(error):
            raise


async def start_session(db: Database, user_id: int, ip: str | None) -> str:
    """A new session (a new id on every login: no session fixation); returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, ip)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash(token), user_id, now, now, ip),
        )
        await conn.execute(
            "UPDATE users SET last_login_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
            (user_id,),
        )
    return token


class AuthMiddleware:
    """Sets request.state.user (a User or None) from the session cookie or a bearer token,
    and sets the anonymous CSRF cookie when a page handed out a token bound to it."""

    def __init__(self, app: ASGIApp, https: bool = False):
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        db = scope["app"].state.db
        user = None
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            user = await user_from_api_token(db, authorization[7:].strip())
        elif SESSION_COOKIE in request.cookies:
            user = await user_from_session(db, request.cookies[SESSION_COOKIE])
        scope.setdefault("state", {})["user"] = user

        async def send_with_cookie(message) -> None:
            if message["type"] == "http.response.start" and scope.get("vertelpunt_new_anon"):
                cookie = SimpleCookie()
                cookie[ANON_COOKIE] = scope["vertelpunt_new_anon"]
                morsel = cookie[ANON_COOKIE]
                morsel["path"], morsel["httponly"], morsel["samesite"] = "/", True, "Lax"
                if self.https:
                    morsel["secure"] = True
                message.setdefault("headers", []).append(
                    (b"set-cookie", morsel.OutputString().encode("latin-1"))
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


# --- CSRF ----------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """The form token for this session (or, before login, this browser's anonymous cookie)."""
    user = getattr(request.state, "user", None)
    binding = user.session_hash if user and user.session_hash else anon_id(request)
    key = request.app.state.secret_key
    return hmac.new(key, f"csrf:{binding}".encode(), hashlib.sha256).hexdigest()


def anon_id(request: Request) -> str:
    value = request.cookies.get(ANON_COOKIE) or request.scope.get("vertelpunt_new_anon")
    if not value:
        value = secrets.token_urlsafe(24)
        request.scope["vertelpunt_new_anon"] = value  # set as a cookie on the way out
    return value


def same_origin(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return False
    if fetch_site == "same-origin":
        # Only a browser sets Sec-Fetch-Site (a page's scripts cannot), and under our
        # `Referrer-Policy: no-referrer` Chromium sends `Origin: null` with every form POST,
        # so the browser's own word is the check here (found by tests/e2e).
        return True
    origin = request.headers.get("origin")
    if origin and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        return origin == expected
    return origin != "null"


async def check_csrf(request: Request) -> None:
    if not same_origin(request):
        raise HTTPException(
            403, "Dit formulier kwam niet van Vertelpunt zelf. Probeer het opnieuw."
        )
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise HTTPException(
            403,
            "Je formulier was verlopen. Ga terug, vernieuw de pagina en verstuur opnieuw;"
            " je tekst staat nog in het formulier.",
        )


# --- route rules ---------------------------------------------------------------------------

PUBLIC = frozenset({"anoniem", *ROLES})
LOGGED_IN = frozenset(ROLES)
TELLER = frozenset({"verteller"})
RESEARCHER = frozenset({"onderzoeker"})
ADMIN = frozenset({"beheerder"})
READERS = frozenset({"verteller", "onderzoeker"})  # may read de-identified stories


def guard(endpoint, allowed: frozenset[str], api: bool):
    """Wrap an endpoint: role check, then CSRF for unsafe methods (not for bearer tokens)."""

    async def guarded(request: Request):
        user = request.state.user
        role = user.role if user else "anoniem"
        if role not in allowed:
            if user is None:
                if api:
                    return JSONResponse({"error": "Log in of gebruik een API-token."}, 401)
                params = {"next": request.url.path}
                if SESSION_COOKIE in request.cookies:
                    # The session ended (idle or absolute timeout). A story being written is
                    # safe in the browser's draft; the login page says so (WCAG 2.2.1).
                    params["verlopen"] = "1"
                login = request.app.url_path_for("login")
                return RedirectResponse(f"{login}?{urlencode(params)}", status_code=303)
            raise HTTPException(403)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            bearer = user is not None and user.session_hash is None
            if not bearer:
                await check_csrf(request)
        return await endpoint(request)

    guarded.__name__ = getattr(endpoint, "__name__", "endpoint")
    return guarded
