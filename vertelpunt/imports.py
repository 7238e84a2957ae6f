"""Importing existing stories from a file: CSV, XLSX or JSON Lines.

Columns (names in English or Dutch, any case): title/titel, text/tekst, month/maand
(YYYY-MM), role/rol, and optionally themes/thema's (ids or Dutch labels, separated by ; or ,
in CSV and XLSX, a list in JSON Lines), lesson/les, signifier_difference, signifier_outcome.
All stories of one file belong to the team chosen for the import.

Every row goes the way a demo story goes (demo.py): validated like a teller's form
(stories.validate_story), de-identified, the masks confirmed automatically (there is no
teller to check them), stored as confirmed with origin 'import', and tagged by the worker.

"Nothing half": the import runs in two phases.
1. Read and check everything before writing anything. A file that cannot be read as a whole
   (too big, too many rows, not UTF-8 text, broken CSV/XLSX/JSON, required columns missing)
   is refused with one Dutch message and nothing is imported. Each row is then checked on
   its own: unreadable characters, missing text, a duplicate (the same text, after masking,
   as a story already stored or an earlier row in the file), or any validate_story error
   refuses that row, with the reason in the report.
2. All accepted rows are inserted in ONE transaction: either every accepted row is stored
   (with its themes, lesson and an audit event) or, on any error, none is.
With `all_or_nothing`, a single refused row refuses the whole file.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from starlette.requests import Request
from starlette.responses import RedirectResponse

from nlp import deidentify as deid

from . import privacy, stories
from . import taxonomy as taxonomy_store
from .db import Database
from .events import Actor, log_event

MAX_IMPORT_BYTES = 1_500_000  # below the web app's body limit, so the page can explain
MAX_IMPORT_ROWS = 1_000
FORMATS = ("csv", "xlsx", "jsonl")
COLUMN_ALIASES = {
    "title": "title",
    "titel": "title",
    "text": "text",
    "tekst": "text",
    "verhaal": "text",
    "month": "month",
    "maand": "month",
    "role": "role",
    "rol": "role",
    "teller_role": "role",
    "themes": "themes",
    "themas": "themes",
    "thema's": "themes",
    "thema": "themes",
    "lesson": "lesson",
    "les": "lesson",
    "signifier_difference": "signifier_difference",
    "signifier_outcome": "signifier_outcome",
}
REQUIRED = ("title", "text", "month", "role")
_SURROGATE = re.compile(r"[\udc80-\udcff]")
_THEME_SPLIT = re.compile(r"[;,|]")


class ImportRefused(ValueError):
    """The file as a whole cannot be imported; the message is Dutch, for the person."""


@dataclass
class RowResult:
    row: int  # the row's line in the file (CSV/JSONL) or sheet row (XLSX)
    status: str  # imported | refused | not_imported
    reason: str = ""
    story_id: int | None = None
    title: str = ""  # the masked title, for imported rows only


@dataclass
class ImportReport:
    file: str
    team: str
    rows: list[RowResult] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(r.status == "imported" for r in self.rows)

    @property
    def refused(self) -> int:
        return sum(r.status == "refused" for r in self.rows)

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "team": self.team,
            "imported": self.imported,
            "refused": self.refused,
            "report": {"rows": [asdict(r) for r in self.rows]},
        }


# --- phase 1a: reading the file ------------------------------------------------------------


def detect_format(name: str, data: bytes) -> str:
    lower = name.lower()
    if data[:4] == b"PK\x03\x04" or lower.endswith(".xlsx"):
        return "xlsx"
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    raise ImportRefused(
        "Dit bestandstype kennen we niet. Gebruik CSV (.csv), Excel (.xlsx) of JSON Lines (.jsonl)."
    )


def read_rows(name: str, data: bytes) -> list[dict]:
    """The file's rows as dicts with canonical column names and `_row` (line number).
    Raises ImportRefused when the file as a whole cannot be used."""
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(
            f"Het bestand is te groot ({len(data) / 1_000_000:.1f} MB). Importeer hoogstens"
            f" {MAX_IMPORT_BYTES / 1_000_000:.1f} MB per keer: verdeel het over meer bestanden."
            " Er is niets geïmporteerd."
        )
    if not data.strip():
        raise ImportRefused("Het bestand is leeg. Er is niets geïmporteerd.")
    fmt = detect_format(name, data)
    if fmt == "xlsx":
        rows = _read_xlsx(data)
    else:
        if b"\x00" in data:
            raise ImportRefused(
                "Dit is geen gewoon tekstbestand (het bevat nul-bytes; misschien UTF-16)."
                " Sla het op als UTF-8 en probeer het opnieuw. Er is niets geïmporteerd."
            )
        # Undecodable bytes are kept as surrogates, so the rows that hold them can be refused
        # one by one (and the report says which), instead of failing the whole file.
        text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
        rows = _read_csv(text) if fmt == "csv" else _read_jsonl(text)
    if not rows:
        raise ImportRefused("Het bestand bevat geen verhalen. Er is niets geïmporteerd.")
    if len(rows) > MAX_IMPORT_ROWS:
        raise ImportRefused(
            f"Het bestand bevat meer dan {MAX_IMPORT_ROWS} verhalen. Verdeel het over meer"
            " bestanden. Er is niets geïmporteerd."
        )
    return rows


def _canonical(header) -> dict[int, str]:
    columns = {}
    for i, raw in enumerate(header):
        key = COLUMN_ALIASES.get(str(raw or "").strip().lower().removeprefix("\ufeff"))
        if key and key not in columns.values():
            columns[i] = key
    missing = [c for c in REQUIRED if c not in columns.values()]
    if missing:
        raise ImportRefused(
            "De eerste regel moet de kolomnamen bevatten; deze ontbreken: "
            + ", ".join(missing)
            + " (of in het Nederlands: titel, tekst, maand, rol). Er is niets geïmporteerd."
        )
    return columns


def _read_csv(text: str) -> list[dict]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return []
        columns = _canonical(header)
        rows = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            row = {key: values[i] if i < len(values) else "" for i, key in columns.items()}
            row["_row"] = reader.line_num
            rows.append(row)
            if len(rows) > MAX_IMPORT_ROWS:
                break
    except csv.Error as error:
        raise ImportRefused(
            f"Het CSV-bestand klopt niet bij regel {reader.line_num}: {error}."
            " Er is niets geïmporteerd."
        ) from None
    return rows


def _read_jsonl(text: str) -> list[dict]:
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ImportRefused(
                f"Regel {number} is geen geldige JSON ({error.msg}). Er is niets geïmporteerd."
            ) from None
        if not isinstance(record, dict):
            raise ImportRefused(
                f"Regel {number} is geen JSON-object met de velden van een verhaal."
                " Er is niets geïmporteerd."
            )
        row = {
            COLUMN_ALIASES[k.lower()]: v
            for k, v in record.items()
            if isinstance(k, str) and k.lower() in COLUMN_ALIASES
        }
        row["_row"] = number
        rows.append(row)
        if len(rows) > MAX_IMPORT_ROWS:
            break
    if rows:  # the required fields must occur in the file at all
        _canonical(sorted({key for r in rows for key in r if key != "_row"}))
    return rows


def _read_xlsx(data: bytes) -> list[dict]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as error:
        raise ImportRefused(
            f"Het Excel-bestand kan niet worden gelezen ({type(error).__name__})."
            " Sla het opnieuw op als .xlsx. Er is niets geïmporteerd."
        ) from None
    try:
        ws = wb.worksheets[0]
        values = ws.iter_rows(values_only=True)
        header = next(values, None)
        if header is None:
            return []
        columns = _canonical(header)
        rows = []
        for number, cells in enumerate(values, start=2):
            if not any(c not in (None, "") for c in cells):
                continue
            row = {key: _cell(cells[i]) if i < len(cells) else "" for i, key in columns.items()}
            row["_row"] = number
            rows.append(row)
            if len(rows) > MAX_IMPORT_ROWS:
                break
        return rows
    finally:
        wb.close()


def _cell(value) -> str:
    """A spreadsheet cell as the text a form would send. Excel turns "2025-03" into a date."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- phase 1b: checking each row -----------------------------------------------------------


@dataclass
class Prepared:
    row: int
    story: stories.StoryInput
    masked: dict[str, str]


def text_hash(text: str) -> str:
    """Duplicates are the same words, whatever the case or spacing."""
    return hashlib.sha256(" ".join((text or "").casefold().split()).encode()).hexdigest()


async def stored_text_hashes(db: Database, batch: int = 2_000) -> set[str]:
    """Hashes of every stored story text (masked, or the original while not yet confirmed),
    read in id-ordered batches so memory stays small on a large database."""
    hashes, last = set(), 0
    while True:
        rows = await db.fetchall(
            "SELECT id, coalesce(text, original_text) AS body FROM stories"
            " WHERE status != 'withdrawn' AND id > ? ORDER BY id LIMIT ?",
            (last, batch),
        )
        if not rows:
            return hashes
        hashes.update(text_hash(r["body"]) for r in rows if r["body"])
        last = rows[-1]["id"]


def _themes_of(raw, labels: dict[str, str]):
    if isinstance(raw, str):
        raw = [t for t in _THEME_SPLIT.split(raw) if t.strip()]
    if not isinstance(raw, list):
        return raw
    return [labels.get(str(t).strip().casefold(), str(t).strip()) for t in raw]


def _masked(story: stories.StoryInput) -> dict[str, str]:
    """De-identify title, text and lesson as one document, masks confirmed as proposed."""
    document = privacy.join_fields(story.title, story.text, story.lesson)
    entities = [
        e for e in deid.find_entities(document) if privacy.SEPARATOR.strip("\n") not in e.text
    ]
    return privacy.split_fields(deid.mask(document, entities))


async def prepare_rows(
    db: Database,
    rows: list[dict],
    team_id: int,
    team_name: str,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Prepared], list[RowResult]]:
    """Check and de-identify every row; nothing is written. Returns the rows ready to insert
    and a result for every refused row."""
    taxonomy = await taxonomy_store.active_taxonomy(db)
    labels = {t.label_nl.casefold(): t.id for t in taxonomy.themes}
    labels.update({t.id.casefold(): t.id for t in taxonomy.themes})
    choices = stories.Choices(teams={team_id: team_name}, theme_ids=taxonomy.ids)
    known = await stored_text_hashes(db)
    seen: dict[str, int] = {}
    ready, refused = [], []
    await asyncio.to_thread(deid.warm)
    for done, row in enumerate(rows):
        if on_progress:
            on_progress(done, len(rows))
        number = row["_row"]
        if any(isinstance(v, str) and _SURROGATE.search(v) for v in row.values()):
            refused.append(
                RowResult(
                    number,
                    "refused",
                    "Onleesbare tekens: deze rij is geen UTF-8. Sla het bestand"
                    " op als UTF-8 (in Excel: 'CSV UTF-8').",
                )
            )
            continue
        data = {key: value for key, value in row.items() if key != "_row"}
        data["team"] = team_id
        data["themes"] = _themes_of(data.get("themes"), labels)
        if not str(data.get("text") or "").strip():
            refused.append(RowResult(number, "refused", "De tekst van het verhaal ontbreekt."))
            continue
        try:
            story = stories.validate_story(data, choices)
        except stories.ValidationError as invalid:
            refused.append(
                RowResult(
                    number,
                    "refused",
                    " ".join(f"{name}: {message}" for name, message in invalid.fields.items()),
                )
            )
            continue
        masked = await asyncio.to_thread(_masked, story)
        digest = text_hash(masked["text"])
        if digest in known or text_hash(story.text) in known:
            refused.append(
                RowResult(number, "refused", "Dubbel: dit verhaal staat al in Vertelpunt.")
            )
        elif digest in seen:
            refused.append(
                RowResult(
                    number,
                    "refused",
                    f"Dubbel: dit verhaal staat al eerder in het bestand (regel {seen[digest]}).",
                )
            )
        else:
            seen[digest] = number
            ready.append(Prepared(number, story, masked))
    if on_progress:
        on_progress(len(rows), len(rows))
    return ready, refused


# --- phase 2: one transaction --------------------------------------------------------------


async def insert_prepared(
    db: Database, ready: list[Prepared], taxonomy_version: str, actor: Actor, file_name: str
) -> list[int]:
    """Store every prepared row as a confirmed story, in one transaction; return the ids."""
    ids = []
    async with db.write() as conn:
        for item in ready:
            story, masked = item.story, item.masked
            cursor = await conn.execute(
                "INSERT INTO stories (status, title, text, team_id, month, teller_role,"
                " teller_id, lesson, signifier_difference, signifier_outcome, origin,"
                " nlp_status, confirmed_at) VALUES ('confirmed', ?, ?, ?, ?, ?, NULL, ?, ?, ?,"
                " 'import', 'waiting', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                (
                    masked["title"],
                    masked["text"],
                    story.team_id,
                    story.month,
                    story.teller_role,
                    masked["lesson"],
                    story.signifier_difference,
                    story.signifier_outcome,
                ),
            )
            story_id = cursor.lastrowid
            await conn.executemany(
                "INSERT INTO story_themes (story_id, theme, source, taxonomy_version)"
                " VALUES (?, ?, 'teller', ?)",
                [(story_id, theme, taxonomy_version) for theme in story.themes],
            )
            if masked["lesson"]:
                await conn.execute(
                    "INSERT INTO lessons (story_id, source, text) VALUES (?, 'teller', ?)",
                    (story_id, masked["lesson"]),
                )
            await log_event(
                conn, actor, "story.import", f"story:{story_id}", file=file_name, row=item.row
            )
            ids.append(story_id)
        await log_event(conn, actor, "import.file", None, file=file_name, imported=len(ids))
    return ids


async def resolve_team(db: Database, team: str | int) -> tuple[int, str]:
    row = await db.fetchone(
        "SELECT id, name FROM teams WHERE name = ? OR CAST(id AS TEXT) = ?",
        (str(team).strip(), str(team).strip()),
    )
    if row is None:
        raise ImportRefused(f"Het team “{team}” bestaat niet. Er is niets geïmporteerd.")
    return row["id"], row["name"]


async def import_rows(
    db: Database,
    file_name: str,
    rows: list[dict],
    team: str | int,
    actor: Actor,
    all_or_nothing: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Phases 1b and 2 for rows read by read_rows()."""
    team_id, team_name = await resolve_team(db, team)
    report = ImportReport(file_name, team_name)
    ready, refused = await prepare_rows(db, rows, team_id, team_name, on_progress)
    if all_or_nothing and refused:
        report.rows = refused + [
            RowResult(
                p.row,
                "not_imported",
                "Niet geïmporteerd: andere rijen zijn geweigerd en je koos voor alles of niets.",
            )
            for p in ready
        ]
    else:
        taxonomy = await taxonomy_store.active_taxonomy(db)
        ids = await insert_prepared(db, ready, taxonomy.version, actor, file_name)
        report.rows = refused + [
            RowResult(p.row, "imported", story_id=i, title=p.masked["title"])
            for p, i in zip(ready, ids, strict=True)
        ]
    report.rows.sort(key=lambda r: r.row)
    return report


async def import_file(
    db: Database,
    file_name: str,
    data: bytes,
    team: str | int,
    actor: Actor,
    all_or_nothing: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Read, check and import a file; ImportRefused when the file as a whole is refused."""
    rows = read_rows(file_name, data)
    await resolve_team(db, team)
    return await import_rows(db, file_name, rows, team, actor, all_or_nothing, on_progress)


# --- the admin's upload page ---------------------------------------------------------------


async def import_page(request: Request, error: str | None = None, status_code: int = 200):
    """The upload form, the running import's progress and the last import's report."""
    from .story_pages import render

    db = request.app.state.db
    jobs = request.app.state.jobs
    running = jobs.running if jobs.running and jobs.running.kind == "import" else None
    teams = await db.fetchall("SELECT id, name FROM teams ORDER BY name")
    response = render(
        request,
        "import.html",
        {
            "teams": teams,
            "error": error,
            "running": running,
            "last": jobs.last.get("import"),
            "max_rows": MAX_IMPORT_ROWS,
            "max_mb": MAX_IMPORT_BYTES / 1_000_000,
        },
        status_code=status_code,
    )
    if running:
        response.headers["Refresh"] = "2"  # the progress updates without JavaScript
    return response


async def upload(request: Request):
    """Read and check the file at once (a refused file is answered right away), then import
    it as a background job whose progress and report the import page shows."""
    from .jobs import JobBusy
    from .story_pages import actor_of

    app = request.app
    form = await request.form()
    try:
        upload_file = form.get("file")
        team = str(form.get("team", ""))
        if upload_file is None or isinstance(upload_file, str) or not upload_file.filename:
            return await import_page(request, "Kies een bestand om te importeren.", 422)
        data = await upload_file.read(MAX_IMPORT_BYTES + 1)
        name = upload_file.filename[:200]
    finally:
        await form.close()  # the upload's temporary file
    try:
        rows = read_rows(name, data)
        await resolve_team(app.state.db, team)
    except ImportRefused as refused:
        return await import_page(request, str(refused), 422)
    actor = actor_of(request)
    all_or_nothing = form.get("all_or_nothing") == "1"

    async def work(job):
        report = await import_rows(
            app.state.db, name, rows, team, actor, all_or_nothing, on_progress=job.progress
        )
        return report.to_dict()

    try:
        app.state.jobs.start("import", actor, work, on_done=app.state.worker.wake)
    except JobBusy as busy:
        return await import_page(request, f"Probeer het straks opnieuw: {busy}.", 409)
    return RedirectResponse(request.url_for("admin_import").path, status_code=303)
