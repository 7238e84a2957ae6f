"""Settings an admin changes in the web app, kept in the database (table app_settings)."""

from __future__ import annotations

from .db import Database

# Admin settings kept in the database: name -> (default, Dutch help, check)
APP_SETTINGS = {
    "min_cell": (
        5,
        "Kleinste aantal verhalen dat in overzichten en exports getoond wordt (k).",
        lambda v: 1 <= v <= 100,
    ),
    "keep_original": (
        0,
        "Originele tekst versleuteld bewaren voor de verteller (1 = ja, 0 = nee).",
        lambda v: v in (0, 1),
    ),
    "retention_days": (
        90,
        "Na hoeveel dagen een bewaard origineel verhaal wordt verwijderd.",
        lambda v: 1 <= v <= 3650,
    ),
}


async def get_app_setting(db: Database, key: str) -> int:
    row = await db.fetchone("SELECT value FROM app_settings WHERE key = ?", (key,))
    return int(row["value"]) if row else APP_SETTINGS[key][0]
