"""The append-only audit log: who did what, when and from where.

Events are written inside the same transaction as the change they describe, so the log
never claims a change that was rolled back. They never hold story text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True)
class Actor:
    """Who is acting: a logged-in user, the CLI, the system itself or an anonymous visitor."""

    label: str
    user_id: int | None = None
    ip: str | None = None


SYSTEM = Actor("systeem")
CLI = Actor("cli")


async def log_event(
    conn: aiosqlite.Connection,
    actor: Actor,
    action: str,
    subject: str | None = None,
    **detail,
) -> None:
    await conn.execute(
        "INSERT INTO events (actor_id, actor, action, subject, detail, ip)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            actor.user_id,
            actor.label,
            action,
            subject,
            json.dumps(detail, ensure_ascii=False, sort_keys=True),
            actor.ip,
        ),
    )
