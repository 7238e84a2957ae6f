"""The append-only audit log: who did what, when and from where.

Events are written inside the same transaction as the change they describe, so the log
never claims a change that was rolled back. They never hold story text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiosqlite

from .db import Database


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, the CLI, the system itself or an anonymous visitor."""

    label: str
    user_id: int | None = None
    ip: str | None = None


SYSTEM = Actor("systeem")
CLI = Actor("cli")


INSERT_EVENT = (
    "INSERT INTO events (actor_id, actor, action, subject, detail, ip) VALUES (?, ?, ?, ?, ?, ?)"
)


def _event_row(actor: Actor, action: str, subject: str | None, detail: dict) -> tuple:
    detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    return (actor.user_id, actor.label, action, subject, detail_json, actor.ip)


async def log_event(
    conn: aiosqlite.Connection,
    actor: Actor,
    action: str,
    subject: str | None = None,
    **detail,
) -> None:
    await conn.execute(INSERT_EVENT, _event_row(actor, action, subject, detail))


async def log_event_alone(
    db: Database, actor: Actor, action: str, subject: str | None = None, **detail
) -> None:
    """An event that is not part of a change (a story was read): committed by group commit
    with others of the same moment; durable when this returns."""
    await db.append(INSERT_EVENT, _event_row(actor, action, subject, detail))
