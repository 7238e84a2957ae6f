"""Accounts: users, logging in with throttling, invites and resets, API tokens.

Plain functions over the Database; the pages are in account_pages.py and admin.py.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass

from . import auth
from .db import Database
from .events import Actor, log_event

INVITE_SECONDS = 72 * 3600
RESET_SECONDS = 3600
# Throttling (ASVS V6.3): after ACCOUNT_LIMIT failures for one e-mail address within the
# window, that address is locked for the rest of the window; an IP address gets a larger
# allowance (a team behind one NAT address).
WINDOW_SECONDS = 15 * 60
ACCOUNT_LIMIT = 5
IP_LIMIT = 30

LOGIN_FAILED = "Deze combinatie van e-mailadres en wachtwoord kennen we niet."
LOCKED = (
    "Er is te vaak een verkeerd wachtwoord gebruikt. Wacht een kwartier en probeer het dan"
    " opnieuw, of vraag een nieuw wachtwoord aan."
)


class AccountError(ValueError):
    """Something a person can fix; the message is Dutch and safe to show."""


@dataclass(frozen=True)
class LoginResult:
    user_id: int | None
    message: str | None  # None on success


async def create_user(
    db: Database,
    email: str,
    role: str,
    password: str | None,
    team_ids: list[int],
    actor: Actor,
) -> int:
    email = email.strip()
    if "@" not in email or len(email) > 254:
        raise AccountError("Vul een geldig e-mailadres in.")
    if role not in auth.ROLES:
        raise AccountError(f"Onbekende rol: {role}. Kies uit {', '.join(auth.ROLES)}.")
    if password is not None:
        problem = auth.password_problem(password, email)
        if problem:
            raise AccountError(problem)
    password_hash = await asyncio.to_thread(auth.hash_password, password) if password else None
    async with db.write() as conn:
        cursor = await conn.execute("SELECT 1 FROM users WHERE email = ?", (email,))
        if await cursor.fetchone():
            raise AccountError("Er is al een account met dit e-mailadres.")
        cursor = await conn.execute(
            "INSERT INTO users (email, role, password_hash, password_changed_at)"
            " VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
            (email, role, password_hash),
        )
        user_id = cursor.lastrowid
        await conn.executemany(
            "INSERT INTO user_teams (user_id, team_id) VALUES (?, ?)",
            [(user_id, team_id) for team_id in team_ids],
        )
        await log_event(conn, actor, "user.create", f"user:{user_id}", role=role, teams=team_ids)
    return user_id


async def authenticate(
    db: Database, email: str, password: str, ip: str | None, now: float | None = None
) -> LoginResult:
    """Check a login. Messages never tell whether an account exists."""
    now = now or time.time()
    since = now - WINDOW_SECONDS
    by_email = await db.fetchone(
        "SELECT count(*) AS n FROM login_failures WHERE email = ? AND at > ?", (email, since)
    )
    by_ip = await db.fetchone(
        "SELECT count(*) AS n FROM login_failures WHERE ip = ? AND at > ?", (ip, since)
    )
    user = await db.fetchone(
        "SELECT id, password_hash, active FROM users WHERE email = ?", (email.strip(),)
    )
    if by_email["n"] >= ACCOUNT_LIMIT or by_ip["n"] >= IP_LIMIT:
        await _record_failure(db, email, ip, now, user["id"] if user else None, locked=True)
        return LoginResult(None, LOCKED)
    stored = user["password_hash"] if user and user["active"] else None
    ok = await asyncio.to_thread(auth.verify_password, stored, password)
    if not ok:
        await _record_failure(db, email, ip, now, user["id"] if user else None, locked=False)
        return LoginResult(None, LOGIN_FAILED)
    async with db.write() as conn:
        await conn.execute("DELETE FROM login_failures WHERE email = ?", (email,))
        await log_event(conn, Actor(email, user["id"], ip), "login.success", f"user:{user['id']}")
    return LoginResult(user["id"], None)


async def _record_failure(db, email, ip, now, user_id, locked: bool) -> None:
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO login_failures (email, ip, at) VALUES (?, ?, ?)", (email, ip, now)
        )
        await log_event(
            conn,
            Actor(email[:254], user_id, ip),
            "login.failure",
            f"user:{user_id}" if user_id else None,
            locked=locked,
        )


async def set_password(db: Database, user_id: int, password: str, actor: Actor) -> None:
    """Set a new password and end every session of that user (logged out everywhere)."""
    row = await db.fetchone("SELECT email FROM users WHERE id = ?", (user_id,))
    problem = auth.password_problem(password, row["email"] if row else "")
    if problem:
        raise AccountError(problem)
    password_hash = await asyncio.to_thread(auth.hash_password, password)
    async with db.write() as conn:
        await conn.execute(
            "UPDATE users SET password_hash = ?,"
            " password_changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
            (password_hash, user_id),
        )
        await conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        await log_event(conn, actor, "user.password", f"user:{user_id}")


async def end_session(db: Database, session_hash: str) -> None:
    async with db.write() as conn:
        await conn.execute("DELETE FROM sessions WHERE token_hash = ?", (session_hash,))


# --- invites and resets --------------------------------------------------------------------


async def create_invite(
    db: Database, email: str, role: str, team_id: int | None, actor: Actor
) -> str:
    """An admin invites someone; returns the single-use token for the link."""
    email = email.strip()
    if "@" not in email:
        raise AccountError("Vul een geldig e-mailadres in.")
    if role not in auth.ROLES:
        raise AccountError("Kies een rol.")
    if role == "verteller" and team_id is None:
        raise AccountError("Kies het team van deze verteller.")
    existing = await db.fetchone("SELECT 1 FROM users WHERE email = ?", (email,))
    if existing:
        raise AccountError("Er is al een account met dit e-mailadres.")
    return await _new_link(db, "invite", email, role, team_id, actor, INVITE_SECONDS)


async def create_reset(db: Database, email: str, actor: Actor) -> str | None:
    """A reset link for an existing, active account; None (and nothing said) otherwise."""
    user = await db.fetchone(
        "SELECT id FROM users WHERE email = ? AND active = 1", (email.strip(),)
    )
    if user is None:
        return None
    return await _new_link(db, "reset", email.strip(), None, None, actor, RESET_SECONDS)


async def _new_link(db, purpose, email, role, team_id, actor, lifetime) -> str:
    token = secrets.token_urlsafe(32)
    now = time.time()
    async with db.write() as conn:
        await conn.execute(
            "INSERT INTO invites (token_hash, purpose, email, role, team_id, created_by,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                auth.token_hash(token),
                purpose,
                email,
                role,
                team_id,
                actor.user_id,
                now,
                now + lifetime,
            ),
        )
        await log_event(conn, actor, f"{purpose}.create", None, email=email, role=role)
    return token


async def find_link(db: Database, token: str, purpose: str, now: float | None = None):
    """The invite or reset behind a token, or None when unknown, used or expired."""
    row = await db.fetchone(
        "SELECT * FROM invites WHERE token_hash = ? AND purpose = ?",
        (auth.token_hash(token), purpose),
    )
    if row is None or row["used_at"] is not None or row["expires_at"] < (now or time.time()):
        return None
    return row


async def use_link(db: Database, token: str, purpose: str, password: str, ip: str | None) -> int:
    """Accept an invite (creates the account) or a reset (sets the password); returns user id."""
    link = await find_link(db, token, purpose)
    if link is None:
        raise AccountError("Deze link is verlopen of al gebruikt. Vraag een nieuwe aan.")
    problem = auth.password_problem(password, link["email"])
    if problem:
        raise AccountError(problem)
    actor = Actor(link["email"], None, ip)
    if purpose == "invite":
        teams = [link["team_id"]] if link["team_id"] else []
        user_id = await create_user(db, link["email"], link["role"], password, teams, actor)
    else:
        user = await db.fetchone("SELECT id FROM users WHERE email = ?", (link["email"],))
        user_id = user["id"]
        await set_password(db, user_id, password, Actor(link["email"], user_id, ip))
    async with db.write() as conn:
        await conn.execute(
            "UPDATE invites SET used_at = ? WHERE token_hash = ?",
            (time.time(), auth.token_hash(token)),
        )
    return user_id


# --- API tokens ----------------------------------------------------------------------------


async def create_api_token(db: Database, user_id: int, name: str, actor: Actor) -> str:
    name = name.strip()[:80] or "API-token"
    token = "vp_" + secrets.token_urlsafe(32)
    async with db.write() as conn:
        cursor = await conn.execute(
            "INSERT INTO api_tokens (user_id, name, token_hash) VALUES (?, ?, ?)",
            (user_id, name, auth.token_hash(token)),
        )
        await log_event(conn, actor, "token.create", f"token:{cursor.lastrowid}", name=name)
    return token


async def revoke_api_token(db: Database, user_id: int, token_id: int, actor: Actor) -> bool:
    async with db.write() as conn:
        cursor = await conn.execute(
            "UPDATE api_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
            " WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
            (token_id, user_id),
        )
        if cursor.rowcount:
            await log_event(conn, actor, "token.revoke", f"token:{token_id}")
        return cursor.rowcount == 1
