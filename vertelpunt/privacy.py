"""The privacy step between a teller's text and research: de-identify, preview, confirm.

A story's title, text and lesson are de-identified as one document, so a person is
[PERSOON-1] in the title and in the text alike. The teller sees the proposed masks, may undo
one or mask more, and confirms; only then is the masked text stored for research and the
original dropped (data minimisation: by default Vertelpunt does not keep it; see
confirm_story for the admin setting that keeps it encrypted for a while).

If the de-identifier fails, the story stays 'pending': stored for its teller only, never
visible for research, and retried by the worker.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import re
from dataclasses import asdict

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from nlp import deidentify as deid

from . import search
from .app_settings import get_app_setting
from .db import Database
from .events import Actor, log_event
from .stories import hash_withdrawal_code, new_withdrawal_code

# Joins the fields into one document; clean_text() strips this control character from input,
# so it can only come from here.
SEPARATOR = "\n\x1e\n"
FIELDS = ("title", "text", "lesson")
MAX_ATTEMPTS = 5


def join_fields(title: str, text: str, lesson: str) -> str:
    return SEPARATOR.join((title, text, lesson))


def split_fields(document: str) -> dict[str, str]:
    parts = document.split(SEPARATOR)
    if len(parts) != len(FIELDS):
        raise ValueError("masked document lost its field separators")
    return dict(zip(FIELDS, parts, strict=False))


def entities_to_json(entities) -> str:
    return json.dumps([asdict(e) for e in entities], ensure_ascii=False)


def entities_from_json(raw: str | None) -> list[deid.Entity]:
    return [deid.Entity(**item) for item in json.loads(raw or "[]")]


async def deidentify_story(db: Database, story_id: int) -> bool:
    """Propose masks for a pending story; True when it is ready for the teller's preview."""
    row = await db.fetchone(
        "SELECT title, original_text, lesson, status FROM stories WHERE id = ?", (story_id,)
    )
    if row is None or row["status"] != "pending":
        return False
    document = join_fields(row["title"], row["original_text"], row["lesson"])
    try:
        entities = await asyncio.to_thread(deid.find_entities, document)
        entities = [e for e in entities if SEPARATOR.strip("\n") not in e.text]
    except Exception as error:  # any failure: keep the story, never expose unmasked text
        async with db.write() as conn:
            await conn.execute(
                "UPDATE stories SET deid_attempts = deid_attempts + 1, deid_error = ? WHERE id = ?",
                (f"{type(error).__name__}: {error}"[:500], story_id),
            )
        return False
    async with db.write() as conn:
        await conn.execute(
            "UPDATE stories SET status = 'preview', proposed_entities = ?, deid_error = NULL"
            " WHERE id = ? AND status = 'pending'",
            (entities_to_json(entities), story_id),
        )
    return True


def adjust_entities(
    document: str,
    proposed: list[deid.Entity],
    keep_indexes: set[int],
    extra_phrases: list[tuple[str, str]],
) -> list[deid.Entity]:
    """The teller's corrections: keep only the chosen proposals, then mask extra phrases.

    Every occurrence (case-insensitive, whole words) of an extra phrase is masked unless it
    overlaps a mask already there.
    """
    chosen = [e for i, e in enumerate(proposed) if i in keep_indexes]
    for phrase, label in extra_phrases:
        phrase = phrase.strip()
        if not phrase or label not in deid.LABELS:
            continue
        pattern = re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)", re.IGNORECASE)
        for match in pattern.finditer(document):
            if SEPARATOR.strip("\n") in match.group():
                continue
            if any(match.start() < e.end and e.start < match.end() for e in chosen):
                continue
            chosen.append(deid.Entity(match.start(), match.end(), label, match.group()))
    return sorted(chosen, key=lambda e: e.start)


async def save_proposal(db: Database, story_id: int, entities: list[deid.Entity]) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE stories SET proposed_entities = ? WHERE id = ? AND status = 'preview'",
            (entities_to_json(entities), story_id),
        )


def original_cipher(secret_key: bytes) -> Fernet:
    """The key for kept originals, derived from the app's secret key (never stored apart)."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"vertelpunt kept originals v1"
    ).derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(key))


async def confirm_story(
    db: Database,
    story_id: int,
    entities: list[deid.Entity],
    actor: Actor,
    secret_key: bytes | None = None,
) -> str:
    """Store the masked text for research and drop the original; return the withdrawal code.

    By default the original is not kept (data minimisation). When an admin turned on
    `keep_original`, it is kept encrypted (Fernet: AES-128-CBC + HMAC-SHA256), readable only
    by its teller, and deleted after `retention_days` by the worker.
    """
    row = await db.fetchone(
        "SELECT title, original_text, lesson, status FROM stories WHERE id = ?", (story_id,)
    )
    if row is None or row["status"] != "preview":
        raise ValueError("story is not waiting for confirmation")
    document = join_fields(row["title"], row["original_text"], row["lesson"])
    masked = split_fields(deid.mask(document, entities))
    code = new_withdrawal_code()
    kept, delete_after = None, None
    if secret_key and await get_app_setting(db, "keep_original"):
        kept = original_cipher(secret_key).encrypt(document.encode())
        days = await get_app_setting(db, "retention_days")
        delete_after = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    async with db.write() as conn:
        await conn.execute(
            "UPDATE stories SET status = 'confirmed', title = ?, text = ?, lesson = ?,"
            " original_text = NULL, proposed_entities = NULL, withdrawal_hash = ?,"
            " original_encrypted = ?, original_delete_after = ?,"
            " nlp_status = 'waiting', confirmed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
            " WHERE id = ? AND status = 'preview'",
            (
                masked["title"],
                masked["text"],
                masked["lesson"],
                hash_withdrawal_code(code),
                kept,
                delete_after,
                story_id,
            ),
        )
        if masked["lesson"]:
            await conn.execute(
                "INSERT INTO lessons (story_id, source, text) VALUES (?, 'teller', ?)",
                (story_id, masked["lesson"]),
            )
        labels: dict[str, int] = {}
        for entity in entities:
            labels[entity.label] = labels.get(entity.label, 0) + 1
        await log_event(conn, actor, "story.confirm", f"story:{story_id}", masked=labels)
    return code


async def withdraw_story(db: Database, code: str, actor: Actor) -> int | None:
    """Withdraw the story behind a withdrawal code: all of its text is removed from the
    database file. Returns the story id, or None for an unknown code."""
    row = await db.fetchone(
        "SELECT id FROM stories WHERE withdrawal_hash = ? AND status != 'withdrawn'",
        (hash_withdrawal_code(code),),
    )
    if row is None:
        return None
    await delete_story_text(db, row["id"], actor, "story.withdraw")
    return row["id"]


async def delete_story_text(db: Database, story_id: int, actor: Actor, action: str) -> None:
    """Remove every piece of a story's text, keep a bare row so counts and the audit log
    still add up, and checkpoint so the text is not left behind in the WAL file."""
    async with db.write() as conn:
        await conn.execute("DELETE FROM story_themes WHERE story_id = ?", (story_id,))
        await conn.execute("DELETE FROM lessons WHERE story_id = ?", (story_id,))
        await conn.execute(
            "UPDATE stories SET status = 'withdrawn', title = '', text = NULL, lesson = '',"
            " original_text = NULL, proposed_entities = NULL, withdrawal_hash = NULL,"
            " original_encrypted = NULL, original_delete_after = NULL"
            " WHERE id = ?",
            (story_id,),
        )
        await log_event(conn, actor, action, f"story:{story_id}")
    # A trigger removed the story from the search index; rewrite the index so its terms are
    # gone from the file too (vertelpunt/search.py).
    await search.purge_deleted_terms(db)
    await db.checkpoint()


async def read_kept_original(db: Database, story_id: int, secret_key: bytes) -> dict | None:
    """The teller's kept original (title, text, lesson), or None when not kept."""
    row = await db.fetchone("SELECT original_encrypted FROM stories WHERE id = ?", (story_id,))
    if row is None or row["original_encrypted"] is None:
        return None
    try:
        document = original_cipher(secret_key).decrypt(row["original_encrypted"]).decode()
    except InvalidToken:
        return None  # the secret key changed: the original cannot be read any more
    return split_fields(document)


async def purge_expired_originals(db: Database) -> int:
    """Delete kept originals past their retention date; return how many."""
    async with db.write() as conn:
        cursor = await conn.execute(
            "UPDATE stories SET original_encrypted = NULL, original_delete_after = NULL"
            " WHERE original_delete_after IS NOT NULL"
            " AND original_delete_after <= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')"
        )
        purged = cursor.rowcount
    if purged:
        await db.checkpoint()
    return purged
