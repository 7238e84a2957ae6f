"""What every export shares: the formula guard, the audit record, the filter in words, and
the tagger's measured quality.

Spreadsheet safety: a cell that starts with = + - @ (or a tab or carriage return) is run as a
formula by Excel, LibreOffice and Google Sheets ("CSV injection", OWASP). Every text cell of
a CSV or XLSX export goes through `neutralise()`, which puts an apostrophe before such a
value. The apostrophe is then part of the text (a story line "- eerst bellen" is exported as
"'- eerst bellen"); numbers stay numbers. JSON and JSON Lines are not spreadsheet formats and
are left exactly as stored.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from nlp import registry

from ..db import Database
from ..events import Actor, log_event
from ..filters import StoryFilter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A cell value that no spreadsheet will run as a formula (see the module docstring)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [neutralise(v) for v in values]


def now_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def file_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")


def filter_record(flt: StoryFilter) -> dict:
    """The filter as the audit log and the export files record it."""
    params: dict[str, list[str]] = {}
    for key, value in flt.to_params():
        params.setdefault(key, []).append(value)
    return {"query": flt.query_string(), "params": params}


def describe_filter(flt: StoryFilter) -> str:
    """The filter in Dutch words, for report headers."""
    parts = []
    if flt.themes:
        parts.append("thema's: " + ", ".join(flt.themes))
    if flt.sources:
        parts.append("bron: " + ", ".join(flt.sources))
    if flt.teams:
        parts.append("teams: " + ", ".join(flt.teams))
    if flt.municipalities:
        parts.append("gemeenten: " + ", ".join(flt.municipalities))
    if flt.roles:
        parts.append("rollen: " + ", ".join(flt.roles))
    if flt.start or flt.end:
        parts.append(f"periode {flt.start or '…'} t/m {flt.end or '…'}")
    if flt.difference:
        parts.append("verschil: " + ", ".join(flt.difference))
    if flt.outcome:
        parts.append("afloop: " + ", ".join(flt.outcome))
    if flt.q:
        parts.append(f"zoekterm “{flt.q}”")
    if flt.disagreement:
        parts.append("verteller en analyse oneens over: " + ", ".join(flt.disagreement))
    return "; ".join(parts) if parts else "alle bevestigde verhalen (geen filter)"


async def log_export(
    db: Database, actor: Actor, what: str, fmt: str, flt: StoryFilter, via: str, **detail
) -> None:
    """Every export is in the audit log with the filter it used (never with story text)."""
    async with db.write() as conn:
        await log_event(
            conn,
            actor,
            f"export.{what}",
            None,
            format=fmt,
            via=via,
            filter=filter_record(flt),
            **detail,
        )


# --- the tagger's measured quality ---------------------------------------------------------


def model_quality(models_dir: Path | None) -> dict:
    """Precision, recall and F1 per theme of the active model, from its meta.json.

    The figures are the ones nlp/train.py measured when the model was trained (out-of-fold
    cross-validated predictions, `metrics.per_theme` in meta.json); `source` says so in
    words for every export that shows them.
    """
    try:
        target = registry.resolve(models_dir)
    except FileNotFoundError:
        target = None
    if target is None:
        return {
            "model_version": None,
            "source": "Geen getraind model actief: de automatische analyse werkt alleen met"
            " regels uit de taxonomie; daarvan is geen kwaliteit gemeten.",
            "per_theme": {},
        }
    meta = json.loads((Path(target) / "meta.json").read_text(encoding="utf-8"))
    metrics = meta.get("metrics") or {}
    version = meta.get("version", Path(target).name)
    note = metrics.get("note", "")
    return {
        "model_version": version,
        "source": (
            f"meta.json van model {version} (metrics.per_theme, gemeten bij het trainen op"
            f" {meta.get('training_size', '?')} voorbeelden op {meta.get('created', '?')}"
            + (f"; {note}" if note else "")
            + ")"
        ),
        "macro_f1": metrics.get("macro_f1"),
        "per_theme": {
            theme: {key: m.get(key) for key in ("precision", "recall", "f1", "support")}
            for theme, m in (metrics.get("per_theme") or {}).items()
        },
    }
