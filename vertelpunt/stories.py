"""Stories: validating what a teller sends, storing it, and reading it back.

Plain functions over the Database, used by the web pages, the JSON API, the CLI and tests
alike. Nothing here knows about HTTP.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import unicodedata
from dataclasses import dataclass, field

from .db import Database
from .events import Actor, log_event

TEXT_MIN, TEXT_MAX = 50, 10_000
TITLE_MIN, TITLE_MAX = 3, 200
ROLE_MAX = 80
LESSON_MAX = 2_000
ROLES = (
    "wijkcoach",
    "jeugdverpleegkundige",
    "schuldhulpverlener",
    "maatschappelijk werker",
    "gezinscoach",
    "ambulant hulpverlener",
    "jongerenwerker",
    "wmo-consulent",
    "praktijkondersteuner jeugd",
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Control characters other than newline and tab say nothing in a story and break exports.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ValidationError(ValueError):
    """Bad input; `fields` maps each field name to a Dutch message for the person."""

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class StoryInput:
    title: str
    text: str
    team_id: int
    month: str
    teller_role: str
    lesson: str = ""
    themes: tuple[str, ...] = ()
    signifier_difference: int | None = None
    signifier_outcome: int | None = None


@dataclass
class Choices:
    """What a story may refer to: the teams (id -> name) and the theme ids of the taxonomy."""

    teams: dict[int, str]
    theme_ids: list[str] = field(default_factory=list)


def clean_text(value) -> str:
    text = unicodedata.normalize("NFC", str(value or ""))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def validate_story(data: dict, choices: Choices, today: dt.date | None = None) -> StoryInput:
    """Check a submitted story; raise ValidationError with a Dutch message per bad field.

    `data` holds strings as a form sends them (the API may send numbers and lists too).
    """
    today = today or dt.date.today()
    errors: dict[str, str] = {}

    title = clean_text(data.get("title"))
    if not title:
        errors["title"] = "Geef je verhaal een titel."
    elif len(title) < TITLE_MIN:
        errors["title"] = f"Maak de titel wat langer (minstens {TITLE_MIN} tekens)."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Maak de titel korter (hoogstens {TITLE_MAX} tekens)."

    text = clean_text(data.get("text"))
    if not text:
        errors["text"] = "Vertel je verhaal: dit veld is nog leeg."
    elif len(text) < TEXT_MIN:
        errors["text"] = (
            f"Je verhaal is nog kort ({len(text)} tekens). Schrijf er minstens {TEXT_MIN}."
        )
    elif len(text) > TEXT_MAX:
        errors["text"] = (
            f"Je verhaal is te lang ({len(text)} tekens). Het mag hoogstens {TEXT_MAX} tekens"
            " zijn; kort het in of verdeel het over twee verhalen."
        )
    elif not any(ch.isalpha() for ch in text):
        errors["text"] = "Je verhaal bevat geen woorden. Schrijf het in gewone tekst."

    team_id = _to_int(data.get("team"))
    if team_id is None and isinstance(data.get("team"), str):
        by_name = {name.casefold(): tid for tid, name in choices.teams.items()}
        team_id = by_name.get(data["team"].strip().casefold())
    if team_id is None or team_id not in choices.teams:
        errors["team"] = "Kies het team waarin je werkt."

    month = clean_text(data.get("month"))
    match = _MONTH.match(month)
    if not match or not 1 <= int(match.group(2)) <= 12:
        errors["month"] = "Kies de maand waarin het gebeurde (jaar en maand)."
    elif int(match.group(1)) < 2000:
        errors["month"] = "Kies een maand vanaf het jaar 2000."
    elif month > today.strftime("%Y-%m"):
        errors["month"] = "Die maand ligt in de toekomst. Kies de maand waarin het gebeurde."

    role = clean_text(data.get("role"))
    if not role:
        errors["role"] = "Vul je rol in, bijvoorbeeld wijkcoach."
    elif len(role) > ROLE_MAX:
        errors["role"] = f"Houd je rol kort (hoogstens {ROLE_MAX} tekens)."

    lesson = clean_text(data.get("lesson"))
    if len(lesson) > LESSON_MAX:
        errors["lesson"] = f"Houd de les korter (hoogstens {LESSON_MAX} tekens)."

    themes = data.get("themes") or []
    if isinstance(themes, str):
        themes = [themes]
    if not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
        errors["themes"] = "Thema's moeten een lijst van thema-namen zijn."
        themes = []
    unknown = [t for t in themes if t not in choices.theme_ids]
    if unknown:
        errors["themes"] = f"Onbekend thema: {', '.join(unknown)}."

    signifiers = {}
    for name in ("signifier_difference", "signifier_outcome"):
        raw = data.get(name)
        if raw in (None, ""):
            signifiers[name] = None
            continue
        value = _to_int(raw)
        if value is None or not 0 <= value <= 100:
            errors[name] = "Kies een waarde op de schuifbalk (0 tot en met 100)."
        signifiers[name] = value

    if errors:
        raise ValidationError(errors)
    return StoryInput(
        title=title,
        text=text,
        team_id=team_id,
        month=month,
        teller_role=role,
        lesson=lesson,
        themes=tuple(dict.fromkeys(themes)),
        **signifiers,
    )


def _to_int(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        return int(value)
    return None


# --- storing -------------------------------------------------------------------------------


def new_withdrawal_code() -> str:
    """A code the teller keeps to withdraw the story later without an account."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def hash_withdrawal_code(code: str) -> str:
    # The code has 60 random bits, so a plain hash is enough (no password stretching needed).
    normalized = re.sub(r"[^A-Z0-9]", "", code.upper())
    return hashlib.sha256(normalized.encode()).hexdigest()


async def create_story(
    db: Database,
    story: StoryInput,
    taxonomy_version: str,
    actor: Actor,
    origin: str = "form",
    demo_slug: str | None = None,
) -> int:
    """Store a submitted story for its teller (status 'pending'); return its id.

    The transaction commits before this returns, so once the teller gets an answer the story
    is on disk. De-identification comes next (see privacy.py); until then the text is only
    the teller's.
    """
    async with db.write() as conn:
        cursor = await conn.execute(
            "INSERT INTO stories (title, original_text, team_id, month, teller_role, teller_id,"
            " lesson, signifier_difference, signifier_outcome, origin, demo_slug)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                story.title,
                story.text,
                story.team_id,
                story.month,
                story.teller_role,
                actor.user_id,
                story.lesson,
                story.signifier_difference,
                story.signifier_outcome,
                origin,
                demo_slug,
            ),
        )
        story_id = cursor.lastrowid
        await conn.executemany(
            "INSERT INTO story_themes (story_id, theme, source, taxonomy_version)"
            " VALUES (?, ?, 'teller', ?)",
            [(story_id, theme, taxonomy_version) for theme in story.themes],
        )
        await log_event(conn, actor, "story.submit", f"story:{story_id}", origin=origin)
    return story_id


# --- reading -------------------------------------------------------------------------------

STORY_COLUMNS = (
    "s.id, s.status, s.title, s.text, s.team_id, t.name AS team, m.name AS municipality,"
    " s.month, s.teller_role, s.teller_id, s.lesson, s.signifier_difference,"
    " s.signifier_outcome, s.origin, s.nlp_status, s.created_at, s.confirmed_at,"
    " s.original_encrypted IS NOT NULL AS kept_original, s.original_delete_after,"
    " s.deid_attempts, s.deid_error"
)
STORY_FROM = (
    "stories s JOIN teams t ON t.id = s.team_id JOIN municipalities m ON m.id = t.municipality_id"
)


PRIVATE_KEYS = (
    "teller_id",
    "original_text",
    "proposed_entities",
    "kept_original",
    "original_delete_after",
)


def public(story: dict) -> dict:
    """A story as others may see it: without who told it or what they first wrote."""
    return {key: value for key, value in story.items() if key not in PRIVATE_KEYS}


def story_dict(row, themes: list[dict] | None = None, lessons: list[dict] | None = None) -> dict:
    story = {key: row[key] for key in row.keys() if key != "original_text"}  # noqa: SIM118
    if themes is not None:
        story["themes"] = themes
    if lessons is not None:
        story["lessons"] = lessons
    return story


async def get_story(db: Database, story_id: int, with_original: bool = False) -> dict | None:
    """One story with its themes and lessons; the original text only when asked for."""
    return await db.run(lambda conn: read_story(conn, story_id, with_original))


def read_story(conn, story_id: int, with_original: bool = False) -> dict | None:
    """get_story() on a reader connection (one trip to a reader thread for all three reads,
    and a page can add its own reads to the same trip)."""
    columns = STORY_COLUMNS + (", s.original_text, s.proposed_entities" if with_original else "")
    row = conn.execute(f"SELECT {columns} FROM {STORY_FROM} WHERE s.id = ?", (story_id,))
    row = row.fetchone()
    if row is None:
        return None
    theme_rows = conn.execute(
        "SELECT theme, source, score, evidence, component, decision, taxonomy_version"
        " FROM story_themes WHERE story_id = ? ORDER BY theme, source",
        (story_id,),
    ).fetchall()
    lesson_rows = conn.execute(
        "SELECT source, start, end, text FROM lessons WHERE story_id = ?"
        " ORDER BY start IS NULL, start",
        (story_id,),
    ).fetchall()
    story = story_dict(
        row,
        themes=[{**dict(r), "evidence": json.loads(r["evidence"])} for r in theme_rows],
        lessons=[dict(r) for r in lesson_rows],
    )
    if with_original:
        story["original_text"] = row["original_text"]
        story["proposed_entities"] = json.loads(row["proposed_entities"] or "[]")
    return story


async def list_stories(
    db: Database,
    status: str | None = "confirmed",
    team_ids: list[int] | None = None,
    teller_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict]:
    where, params = ["1"], []
    if status is not None:
        where.append("s.status = ?")
        params.append(status)
    if team_ids is not None:
        where.append(f"s.team_id IN ({','.join('?' * len(team_ids)) or 'NULL'})")
        params += team_ids
    if teller_id is not None:
        where.append("s.teller_id = ?")
        params.append(teller_id)
    rows = await db.fetchall(
        f"SELECT {STORY_COLUMNS} FROM {STORY_FROM} WHERE {' AND '.join(where)}"
        " ORDER BY s.month DESC, s.id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [story_dict(row) for row in rows]


async def load_choices(db: Database, theme_ids: list[str]) -> Choices:
    rows = await db.fetchall("SELECT id, name FROM teams ORDER BY name")
    return Choices(teams={row["id"]: row["name"] for row in rows}, theme_ids=theme_ids)
