"""The theme summary of a filtered selection, and its CSV, JSON and XLSX renderings.

`theme_summary()` is the one data function; the CSV, JSON, XLSX, the printable report
(report.py) and the API all render its result. It reads the same numbers as the patterns page
(patterns.compute_patterns with the same StoryFilter) and applies the same small-number
protection (patterns.protect, k = admin setting min_cell): a count from fewer than k stories
is shown as "< k", and words, lessons, quotes and marked stories are only shown for a theme
with at least k stories.

Quotes are evidence sentences the tagger found, cut from the stored masked text by their
offsets; every quote is checked to be a verbatim substring of its story's stored text
(`verified_quote`) before it is exported, so no quote is ever paraphrased or unmasked.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from urllib.parse import parse_qs

from .. import observations, patterns
from .. import taxonomy as taxonomy_store
from ..app_settings import get_app_setting
from ..browse import labels, theme_label
from ..db import Database
from ..filters import StoryFilter, period_label
from .common import describe_filter, filter_record, model_quality, now_stamp, safe_row

QUOTES_PER_THEME = 5
QUOTE_CANDIDATES = 20  # evidence rows read per theme to find 5 good quotes
QUOTE_MIN, QUOTE_MAX = 30, 400  # characters: a quote must say something, and fit in a cell
COOCCURRING_PER_THEME = 5


class QuoteMismatch(AssertionError):
    """A quote that is not a verbatim substring of its stored story: never exported."""


def verified_quote(text: str | None, start: int, end: int) -> str | None:
    """The evidence span text[start:end] when it is a sensible verbatim quote, else None."""
    if not text or not (0 <= start < end <= len(text)):
        return None
    quote = text[start:end]
    if quote != quote.strip() or not QUOTE_MIN <= len(quote) <= QUOTE_MAX:
        return None
    if quote not in text:  # cannot fail after slicing; kept as the contract, tested
        raise QuoteMismatch(quote)
    return quote


async def representative_quotes(db: Database, flt: StoryFilter) -> dict[str, list[dict]]:
    """Per theme, up to QUOTES_PER_THEME evidence sentences from different stories in the
    filter: the tagger's most confident evidence for the theme first."""
    where, params = flt.where("s")
    rows = await db.fetchall(
        f"WITH f AS MATERIALIZED (SELECT s.id FROM stories s WHERE {where}) "
        "SELECT theme, story_id, score, evidence FROM ("
        " SELECT st.theme, st.story_id, st.score, st.evidence, row_number() OVER ("
        "   PARTITION BY st.theme ORDER BY st.score DESC, st.story_id) AS n"
        " FROM f JOIN story_effective_themes e ON e.story_id = f.id"
        " JOIN story_themes st ON st.story_id = f.id AND st.theme = e.theme"
        "  AND st.source GLOB 'nlp:*'"
        f" WHERE st.evidence != '[]' AND {flt.theme_condition('e')}"
        ") WHERE n <= ?",
        [*params, QUOTE_CANDIDATES],
        time_limit=True,
        lane="export",
    )
    ids = sorted({r["story_id"] for r in rows})
    texts: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for r in await db.fetchall(
            f"SELECT id, title, text FROM stories WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        ):
            texts[r["id"]] = (r["title"], r["text"])
    out: dict[str, list[dict]] = {}
    for r in sorted(rows, key=lambda r: (r["theme"], -(r["score"] or 0), r["story_id"])):
        chosen = out.setdefault(r["theme"], [])
        if len(chosen) >= QUOTES_PER_THEME or any(q["story_id"] == r["story_id"] for q in chosen):
            continue
        title, text = texts.get(r["story_id"], ("", None))
        for span in json.loads(r["evidence"]):
            quote = verified_quote(text, int(span["start"]), int(span["end"]))
            if quote:
                chosen.append(
                    {
                        "story_id": r["story_id"],
                        "title": title,
                        "text": quote,
                        "start": int(span["start"]),
                        "end": int(span["end"]),
                        "score": r["score"],
                    }
                )
                break
    return out


def _observations_by_theme(all_observations: list[dict]) -> dict[str, list[dict]]:
    by_theme: dict[str, list[dict]] = {}
    for o in all_observations:
        view = StoryFilter.from_params(parse_qs(o["query"] or ""))
        for theme in view.themes:
            by_theme.setdefault(theme, []).append(o)
    return by_theme


async def theme_summary(db: Database, flt: StoryFilter, models_dir: Path | None) -> dict:
    """Everything a theme summary shows, small-number protection applied."""
    from .. import search

    await search.sync_search_index(db)
    k = await get_app_setting(db, "min_cell")
    raw = await patterns.compute_patterns(db, flt)
    names = await labels(db, flt.scope)
    taxonomy = await taxonomy_store.active_taxonomy(db)
    definitions = {t.id: t.definition for t in taxonomy.themes}
    quality = model_quality(models_dir)
    quotes = await representative_quotes(db, flt)
    significant = await observations.significant_stories(db, flt)
    all_observations = [
        {
            "id": o["id"],
            "text": o["text"],
            "query": o["query"],
            "created_at": o["created_at"],
            "interpretations": o["interpretations"],
        }
        for o in await observations.list_observations(db)
    ]
    observed = _observations_by_theme(all_observations)

    total = raw["counts"]["total"]
    counts = raw["counts"]["themes"]
    ordered = [t for t in names.themes if counts.get(t)] + sorted(
        t for t in counts if t not in names.themes
    )
    over = raw["over_time"]
    protect, shown = patterns.protect, patterns.shown

    themes = []
    for t in ordered:
        n = counts[t]
        visible = shown(n, k)
        pairs = []
        for other in ordered:
            if other == t:
                continue
            both = raw["pairs"].get((t, other) if t <= other else (other, t), 0)
            if both and shown(both, k):
                union = n + counts[other] - both
                pairs.append(
                    {
                        "theme": other,
                        "label": theme_label(names, other),
                        "stories": both,
                        "jaccard": round(both / union, 2),
                    }
                )
        pairs.sort(key=lambda p: (-p["stories"], p["theme"]))
        terms = [
            {"term": term["term"], "z": term["z"], "stories": term["stories"]}
            for term in raw["terms"]["themes"].get(t, [])
            if shown(term["stories"], k)
        ][: patterns.TERMS_PER_THEME]
        themes.append(
            {
                "theme": t,
                "label": theme_label(names, t),
                "definition": definitions.get(t, ""),
                "stories": protect(n, k),
                "share": round(n / total, 3) if visible and total else protect(n, k),
                "suppressed": not visible,
                "trend": [
                    {
                        "period": p,
                        "label": period_label(p),
                        "stories": protect(over["counts"].get(t, {}).get(p, 0), k),
                    }
                    for p in over["periods"]
                ],
                "cooccurring": pairs[:COOCCURRING_PER_THEME] if visible else [],
                "terms": terms if visible else [],
                "lessons": raw["lessons"].get(t, []) if visible else [],
                "quotes": quotes.get(t, []) if visible else [],
                "significant": [
                    {
                        "story_id": s["story_id"],
                        "title": s["title"],
                        "reason": s["reason"],
                        "created_at": s["created_at"],
                    }
                    for s in significant
                    if s["theme"] == t
                ]
                if visible
                else [],
                "observations": observed.get(t, []),
                "quality": quality["per_theme"].get(t),
            }
        )
    return {
        "generated_at": now_stamp(),
        "filter": {**filter_record(flt), "description": describe_filter(flt)},
        "k": k,
        "total": protect(total, k),
        "interval": flt.interval,
        "periods": [
            {"period": p, "label": period_label(p), "stories": protect(over["totals"].get(p, 0), k)}
            for p in over["periods"]
        ],
        "taxonomy_version": taxonomy.version,
        "quality": {key: quality[key] for key in ("model_version", "source")}
        | {"macro_f1": quality.get("macro_f1")},
        "terms_sample": raw["terms"]["sample"],
        "themes": themes,
        "observations": all_observations,
    }


# --- renderings ----------------------------------------------------------------------------

CSV_COLUMNS = (
    "theme",
    "label",
    "stories",
    "share",
    "trend",
    "cooccurring",
    "terms",
    "lessons",
    "quotes",
    "significant",
    "observations",
    "quality_precision",
    "quality_recall",
    "quality_f1",
    "quality_support",
    "quality_source",
    "k",
    "filter",
)


def _joined(items, render) -> str:
    return " | ".join(render(item) for item in items)


def summary_rows(summary: dict) -> list[list]:
    """One row per theme, as the CSV and the XLSX summary sheet show it."""
    rows = []
    for t in summary["themes"]:
        q = t["quality"] or {}
        rows.append(
            [
                t["theme"],
                t["label"],
                t["stories"],
                t["share"],
                _joined(t["trend"], lambda p: f"{p['period']}: {p['stories']}"),
                _joined(t["cooccurring"], lambda p: f"{p['theme']} ({p['stories']})"),
                _joined(t["terms"], lambda w: w["term"]),
                _joined(t["lessons"], lambda lesson: lesson["text"]),
                _joined(
                    t["quotes"], lambda quote: f"“{quote['text']}” (verhaal {quote['story_id']})"
                ),
                _joined(t["significant"], lambda s: f"verhaal {s['story_id']}: {s['reason']}"),
                _joined(t["observations"], lambda o: o["text"]),
                q.get("precision"),
                q.get("recall"),
                q.get("f1"),
                q.get("support"),
                summary["quality"]["source"],
                summary["k"],
                summary["filter"]["query"],
            ]
        )
    return rows


def summary_csv(summary: dict) -> str:
    """UTF-8 CSV with a byte-order mark (so Excel shows accents), one row per theme."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in summary_rows(summary):
        writer.writerow(safe_row(row))
    return out.getvalue()


def summary_json(summary: dict) -> str:
    return json.dumps(summary, ensure_ascii=False, indent=2)


def summary_xlsx(summary: dict, target) -> None:
    """One sheet per part of the summary; every text cell neutralised (common.neutralise)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)

    def sheet(title: str, header: list, rows) -> None:
        ws = wb.create_sheet(title)
        ws.append(header)
        for row in rows:
            ws.append(safe_row(row))

    themes = summary["themes"]
    sheet("Samenvatting", list(CSV_COLUMNS), summary_rows(summary))
    periods = summary["periods"]
    sheet(
        "Trend",
        ["theme", "label", *[p["period"] for p in periods]],
        [[t["theme"], t["label"], *[c["stories"] for c in t["trend"]]] for t in themes]
        + [["totaal", "alle verhalen", *[p["stories"] for p in periods]]],
    )
    sheet(
        "Samen voorkomend",
        ["theme", "with_theme", "with_label", "stories", "jaccard"],
        [
            [t["theme"], p["theme"], p["label"], p["stories"], p["jaccard"]]
            for t in themes
            for p in t["cooccurring"]
        ],
    )
    sheet(
        "Kenmerkende woorden",
        ["theme", "term", "z", "stories"],
        [[t["theme"], w["term"], w["z"], w["stories"]] for t in themes for w in t["terms"]],
    )
    sheet(
        "Lessen",
        ["theme", "story_id", "title", "source", "lesson"],
        [
            [t["theme"], x["story_id"], x["title"], x["source"], x["text"]]
            for t in themes
            for x in t["lessons"]
        ],
    )
    sheet(
        "Citaten",
        ["theme", "story_id", "title", "start", "end", "score", "quote"],
        [
            [t["theme"], x["story_id"], x["title"], x["start"], x["end"], x["score"], x["text"]]
            for t in themes
            for x in t["quotes"]
        ],
    )
    sheet(
        "Betekenisvol",
        ["theme", "story_id", "title", "reason", "marked_at"],
        [
            [t["theme"], x["story_id"], x["title"], x["reason"], x["created_at"]]
            for t in themes
            for x in t["significant"]
        ],
    )
    sheet(
        "Observaties",
        ["id", "observation", "interpretations", "view", "created_at"],
        [
            [o["id"], o["text"], " | ".join(o["interpretations"]), o["query"], o["created_at"]]
            for o in summary["observations"]
        ],
    )
    sheet(
        "Over deze export",
        ["item", "value"],
        [
            ["gemaakt op", summary["generated_at"]],
            ["filter", summary["filter"]["description"]],
            ["filter (query string)", summary["filter"]["query"]],
            ["verhalen in de selectie", summary["total"]],
            ["kleinste getoonde aantal (k)", summary["k"]],
            ["taxonomie", summary["taxonomy_version"]],
            ["kwaliteit van de automatische analyse", summary["quality"]["source"]],
            [
                "formules",
                "Tekst die met = + - @ begint, krijgt een apostrof ervoor zodat een"
                " spreadsheet er geen formule van maakt.",
            ],
        ],
    )
    wb.save(target)
