"""Browsing the confirmed, masked stories: facets, search, story pages, similar stories.

One data function per view (`browse`, `story_view`), several renderings: the HTML page,
the same URL + `.json` (or `Accept: application/json`), and the API list. Researchers see
every story; a teller only the stories of their own teams (story_pages.visible_team_ids).

Facets: themes combine with AND (a story must have every chosen theme); the other facets are
"any of" lists whose counts leave out their own selection, so each count says how many
stories that value would add. Every count comes from the same StoryFilter SQL as the list.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import JSONResponse

from . import columns, observations, search, stories
from . import taxonomy as taxonomy_store
from .db import Database, QueryTooSlow
from .filters import (
    SIGNIFIER_BUCKETS,
    StoryFilter,
    begin,
    cached,
    period_label,
    period_of,
    resolve_interval,
)
from .pages import LABELS
from .story_pages import check_readable, log_story_view, render, visible_team_ids

PAGE_SIZE = 20
SOURCE_LABELS = {
    "teller": "volgens de verteller",
    "nlp": "volgens de automatische analyse",
    "reviewed": "bevestigd of toegevoegd door een onderzoeker",
}
FACET_TITLES = {
    "theme": "Thema's (alle gekozen thema's samen)",
    "bron": "Bron van het thema",
    "team": "Team",
    "municipality": "Gemeente",
    "period": "Periode",
    "role": "Rol van de verteller",
    "difference": "Wie maakte het verschil? (0 = {}, 100 = {})".format(
        *LABELS["signifier_difference"]
    ),
    "outcome": "Hoe liep het af? (0 = {}, 100 = {})".format(*LABELS["signifier_outcome"]),
}
TOO_SLOW = (
    "Deze berekening duurde te lang en is afgebroken. Maak je selectie kleiner, bijvoorbeeld"
    " met een kortere periode, één team of een thema, en probeer het opnieuw."
)

# --- the facet counts ----------------------------------------------------------------------


# Facets whose values are "any of": their counts leave out their own selection.
OR_FACETS = {
    "bron": lambda f: bool(f.sources),
    "team": lambda f: bool(f.teams),
    "municipality": lambda f: bool(f.municipalities),
    "period": lambda f: bool(f.start or f.end),
    "role": lambda f: bool(f.roles),
    "difference": lambda f: bool(f.difference),
    "outcome": lambda f: bool(f.outcome),
}


async def facet_counts(db: Database, flt: StoryFilter) -> dict[str, dict]:
    """Count per facet value (and 'total') for the stories the filter selects. A facet whose
    values are "any of" is counted without its own selection (vertelpunt/columns.py)."""

    def counted(snap, matches) -> dict[str, dict]:
        plain = ["total", "theme"] + [k for k, active in OR_FACETS.items() if not active(flt)]
        merged = columns.count(snap, columns.select(snap, flt, matches), plain, flt)
        for facet, active in OR_FACETS.items():
            if active(flt):
                other = flt.without(facet)
                keep = columns.select(snap, other, matches)
                merged.update(columns.count(snap, keep, [facet], other))
        return merged

    async def compute():
        snap = await columns.snapshot(db)
        matches = await columns.search_matches(db, flt)
        return await asyncio.to_thread(counted, snap, matches)  # off the event loop

    return await cached(db, ("facets", flt.cache_key()), compute)


# --- the list ------------------------------------------------------------------------------


async def filtered_stories(
    db: Database, flt: StoryFilter, limit: int = PAGE_SIZE, offset: int = 0
) -> list[dict]:
    """The stories the filter selects, best match first when searching, else newest first."""
    snap = await columns.snapshot(db)
    matches = await columns.search_matches(db, flt)
    ids = columns.listed_ids(snap, columns.select(snap, flt, matches), matches, limit, offset)
    if not ids:
        return []
    rows = await db.fetchall(
        f"SELECT {stories.STORY_COLUMNS} FROM {stories.STORY_FROM}"
        f" WHERE s.id IN ({','.join('?' * len(ids))}) AND s.status = 'confirmed'",
        ids,
    )
    by_id = {row["id"]: row for row in rows}
    # A story withdrawn since the snapshot is simply left out (the snapshot never lags
    # behind a withdrawal, so this is only the moment in between).
    return [stories.story_dict(by_id[i]) for i in ids if i in by_id]


async def effective_themes_of(db: Database, story_ids: list[int]) -> dict[int, list[dict]]:
    if not story_ids:
        return {}
    return await db.run(lambda conn: effective_rows(conn, story_ids))


def effective_rows(conn: sqlite3.Connection, story_ids: list[int]) -> dict[int, list[dict]]:
    rows = conn.execute(
        "SELECT story_id, theme, by_teller, by_nlp, reviewed FROM story_effective_themes"
        f" WHERE story_id IN ({','.join('?' * len(story_ids))}) ORDER BY theme",
        story_ids,
    )
    out: dict[int, list[dict]] = {i: [] for i in story_ids}
    for row in rows:
        out[row["story_id"]].append(dict(row))
    return out


@dataclass
class Labels:
    themes: dict[str, str]
    teams: dict[int, str]
    municipalities: dict[int, str]


async def labels(db: Database, scope: tuple[int, ...] | None) -> Labels:
    return await cached(db, ("labels", scope), lambda: _labels(db, scope))


async def _labels(db: Database, scope: tuple[int, ...] | None) -> Labels:
    taxonomy = await taxonomy_store.active_taxonomy(db)
    teams = await db.fetchall("SELECT id, name, municipality_id FROM teams ORDER BY name")
    munis = await db.fetchall("SELECT id, name FROM municipalities ORDER BY name")
    visible = [t for t in teams if scope is None or t["id"] in scope]
    return Labels(
        themes={t.id: t.label_nl for t in taxonomy.themes},
        teams={t["id"]: t["name"] for t in visible},
        municipalities={
            m["id"]: m["name"]
            for m in munis
            if any(t["municipality_id"] == m["id"] for t in visible)
        },
    )


def theme_label(names: Labels, theme: str) -> str:
    return names.themes.get(theme, theme)


async def browse(db: Database, flt: StoryFilter, page: int, base: str) -> dict:
    """Everything the story list shows: stories, facets with counts and toggle links."""
    await begin(db)
    key = ("browse", flt.cache_key(), flt.interval, page, base)
    return await cached(db, key, lambda: _browse(db, flt, page, base))


async def _browse(db: Database, flt: StoryFilter, page: int, base: str) -> dict:
    counts = await facet_counts(db, flt)
    total = counts.get("total", 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = await filtered_stories(db, flt, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    names = await labels(db, flt.scope)
    themes = await effective_themes_of(db, [r["id"] for r in rows])
    # Snippets and a hundred facet links: built in a thread, off the event loop.
    return await asyncio.to_thread(
        _browse_view, flt, counts, rows, themes, names, page, pages, base
    )


def _browse_view(flt, counts, rows, themes, names, page, pages, base) -> dict:
    listed = [
        {
            "id": r["id"],
            "title": r["title"],
            "team": r["team"],
            "municipality": r["municipality"],
            "month": r["month"],
            "period": period_label(r["month"]),
            "teller_role": r["teller_role"],
            "themes": [
                {"id": t["theme"], "label": theme_label(names, t["theme"])} for t in themes[r["id"]]
            ],
            "snippet": search.snippet(r["text"], flt.q),
        }
        for r in rows
    ]
    return {
        "filter": flt,
        "total": counts.get("total", 0),
        "page": page,
        "pages": pages,
        "stories": listed,
        "facets": build_facets(flt, counts, names, base),
        "selected": selected_chips(flt, names, base),
        "base": base,
    }


def build_facets(flt: StoryFilter, counts: dict, names: Labels, base: str) -> list[dict]:
    def value(key, val, label, selected, count):
        target = flt.toggle(key, str(val)) if key != "period" else period_toggle(flt, val)
        return {
            "value": str(val),
            "label": label,
            "count": count,
            "selected": selected,
            "url": target.url(base),
        }

    facets = []
    theme_counts = counts.get("theme", {})
    facets.append(
        (
            "theme",
            [
                value("theme", tid, label, tid in flt.themes, theme_counts.get(tid, 0))
                for tid, label in names.themes.items()
            ]
            + [
                value("theme", tid, tid, True, theme_counts.get(tid, 0))
                for tid in flt.themes
                if tid not in names.themes
            ],
        )
    )
    facets.append(
        (
            "bron",
            [
                value("bron", s, label, s in flt.sources, counts.get("bron", {}).get(s, 0))
                for s, label in SOURCE_LABELS.items()
            ],
        )
    )
    for key, table, chosen in (
        ("team", names.teams, flt.teams),
        ("municipality", names.municipalities, flt.municipalities),
    ):
        got = counts.get(key, {})
        facets.append(
            (
                key,
                [
                    value(key, i, label, str(i) in chosen or label in chosen, got.get(i, 0))
                    for i, label in table.items()
                    if got.get(i, 0) or str(i) in chosen or label in chosen
                ],
            )
        )
    periods: dict[str, int] = {}
    interval = resolve_interval(flt.interval, counts.get("period", {}))
    for month, n in counts.get("period", {}).items():
        key = period_of(month, interval)
        periods[key] = periods.get(key, 0) + n
    facets.append(
        (
            "period",
            [
                value("period", p, period_label(p), period_selected(flt, p), n)
                for p, n in sorted(periods.items())
            ],
        )
    )
    roles = counts.get("role", {})
    facets.append(
        (
            "role",
            [value("role", r, r, r in flt.roles, n) for r, n in sorted(roles.items())]
            + [value("role", r, r, True, 0) for r in flt.roles if r not in roles],
        )
    )
    for key, chosen in (("difference", flt.difference), ("outcome", flt.outcome)):
        got = counts.get(key, {})
        buckets = list(SIGNIFIER_BUCKETS) + [r for r in chosen if r not in SIGNIFIER_BUCKETS]
        facets.append(
            (key, [value(key, b, b.replace("-", "–"), b in chosen, got.get(b, 0)) for b in buckets])
        )
    return [{"key": key, "title": FACET_TITLES[key], "values": values} for key, values in facets]


def period_selected(flt: StoryFilter, period: str) -> bool:
    from .filters import period_range

    return (flt.start, flt.end) == period_range(period)


def period_toggle(flt: StoryFilter, period: str) -> StoryFilter:
    from .filters import period_range

    if period_selected(flt, period):
        return flt.without("period")
    start, end = period_range(period)
    return flt.with_values(start=start, end=end)


def selected_chips(flt: StoryFilter, names: Labels, base: str) -> list[dict]:
    """The active selection, each with a link that removes it."""
    chips = []
    if flt.q:
        chips.append({"label": f"zoekterm “{flt.q}”", "url": flt.with_values(q="").url(base)})
    for t in flt.themes:
        chips.append(
            {"label": f"thema {theme_label(names, t)}", "url": flt.toggle("theme", t).url(base)}
        )
    for s in flt.sources:
        chips.append({"label": f"bron: {SOURCE_LABELS[s]}", "url": flt.toggle("bron", s).url(base)})
    for t in flt.teams:
        label = names.teams.get(int(t), t) if t.isdecimal() and len(t) < 10 else t
        chips.append({"label": f"team {label}", "url": flt.toggle("team", t).url(base)})
    for m in flt.municipalities:
        label = names.municipalities.get(int(m), m) if m.isdecimal() and len(m) < 10 else m
        chips.append({"label": f"gemeente {label}", "url": flt.toggle("municipality", m).url(base)})
    if flt.start or flt.end:
        label = f"periode {flt.start or '…'} t/m {flt.end or '…'}"
        chips.append({"label": label, "url": flt.without("period").url(base)})
    for r in flt.roles:
        chips.append({"label": f"rol {r}", "url": flt.toggle("role", r).url(base)})
    for r in flt.difference:
        chips.append({"label": f"verschil {r}", "url": flt.toggle("difference", r).url(base)})
    for r in flt.outcome:
        chips.append({"label": f"afloop {r}", "url": flt.toggle("outcome", r).url(base)})
    for t in flt.disagreement:
        chips.append(
            {
                "label": f"verteller en analyse oneens over {theme_label(names, t)}",
                "url": flt.toggle("disagreement", t).url(base),
            }
        )
    return chips


# --- rendering -----------------------------------------------------------------------------


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.url.path.endswith(".json") or (
        "application/json" in accept and "text/html" not in accept
    )


def to_jsonable(value):
    """Markup becomes its HTML string; filters their query string; tuples lists."""
    if isinstance(value, StoryFilter):
        return {"query": value.query_string(), "params": value.to_params()}
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def too_slow(request: Request, as_json: bool):
    if as_json:
        return JSONResponse({"error": TOO_SLOW}, status_code=503)
    return render(request, "error.html", {"status": 503, "message": TOO_SLOW}, status_code=503)


def request_filter(request: Request) -> StoryFilter:
    return StoryFilter.from_params(request.query_params, scope=visible_team_ids(request.state.user))


def page_number(request: Request) -> int:
    raw = request.query_params.get("pagina", "1")
    return int(raw) if raw.isdecimal() and len(raw) < 6 and int(raw) > 0 else 1


async def story_list(request: Request):
    as_json = wants_json(request)
    flt = request_filter(request)
    base = request.url_for("story_list").path
    try:
        data = await browse(request.app.state.db, flt, page_number(request), base)
    except QueryTooSlow:
        return too_slow(request, as_json)
    if as_json:
        return JSONResponse(to_jsonable(data))
    cards, sidebar = await rendered_once(
        request, (data,), ("_story_cards.html", "_story_sidebar.html"), data
    )
    return render(
        request, "story_list.html", {**data, "cards_html": cards, "sidebar_html": sidebar}
    )


_rendered: OrderedDict = OrderedDict()


async def rendered_once(
    request: Request, sources: tuple, templates: tuple, context, extra: tuple = ()
) -> tuple:
    """Templates rendered once per cached value(s) (`sources`, by identity, plus `extra`)
    and then reused as HTML: lists and tables are the same for every reader of a selection,
    and rendering them costs more than serving the cached numbers. Only user-independent
    parts go here (no csrf token, no role checks). `context` may be a function."""
    key = (*map(id, sources), *extra, templates)
    if key in _rendered:
        _rendered.move_to_end(key)
        return _rendered[key][1]
    env = request.app.state.templates.env

    def render_all() -> tuple:
        values = context() if callable(context) else context
        return tuple(Markup(env.get_template(name).render(values)) for name in templates)

    html = await asyncio.to_thread(render_all)  # tens of ms for a big table: off the loop
    _rendered[key] = (sources, html)  # holding the sources keeps their ids from being reused
    if len(_rendered) > 256:
        _rendered.popitem(last=False)
    return html


# --- one story -----------------------------------------------------------------------------


def story_reads(conn: sqlite3.Connection, story_id: int, team_ids) -> tuple:
    """Everything a story page reads, in one trip to a reader thread (under load every trip
    waits its turn): the story, its effective themes, similar stories, marks."""
    story = stories.read_story(conn, story_id)
    if story is None:
        return None, None
    return story, (
        effective_rows(conn, [story_id])[story_id],
        search.neighbour_rows(conn, story_id, team_ids),
        observations.significant_rows(conn, story_id),
    )


async def story_view(db: Database, story: dict, reads: tuple) -> dict:
    """A story with its evidence marked, its themes by source, lessons and neighbours
    (`reads`: what story_reads() read with the story)."""
    effective, neighbours, significant = reads
    names = await labels(db, None)
    order = list(names.themes)
    tags = story["themes"]
    by_source = {
        "teller": [t for t in tags if t["source"] == "teller"],
        "nlp": [t for t in tags if t["source"].startswith("nlp:")],
        "human": [t for t in tags if t["source"].startswith("human:")],
    }
    evidence = {t["theme"]: t["evidence"] for t in by_source["nlp"] if t["evidence"]}
    lesson_spans = [
        (lesson["start"], lesson["end"])
        for lesson in story["lessons"]
        if lesson["start"] is not None and lesson["source"] != "teller"
    ]
    colour = {theme: order.index(theme) % 10 if theme in order else 9 for theme in evidence}
    return {
        "story": story,
        "effective": [{**e, "label": theme_label(names, e["theme"])} for e in effective],
        "by_source": by_source,
        "theme_labels": names.themes,
        "segments": segments(story["text"] or "", evidence, lesson_spans, names, colour),
        "legend": [
            {"theme": t, "label": theme_label(names, t), "colour": colour[t]}
            for t in sorted(evidence, key=lambda t: colour[t])
        ],
        "neighbours": neighbours,
        "significant": significant,
        "signifiers": [
            {
                "name": "Wie maakte het verschil?",
                "value": story["signifier_difference"],
                "low": LABELS["signifier_difference"][0],
                "high": LABELS["signifier_difference"][1],
            },
            {
                "name": "Hoe liep het af?",
                "value": story["signifier_outcome"],
                "low": LABELS["signifier_outcome"][0],
                "high": LABELS["signifier_outcome"][1],
            },
        ],
    }


def segments(text: str, evidence: dict, lessons: list, names: Labels, colour: dict) -> list[dict]:
    """The text cut at every evidence and lesson boundary; each piece says which themes'
    evidence it is (with their labels, so colour is never the only cue) and if it is a lesson."""
    cuts = {0, len(text)}
    for spans in evidence.values():
        for span in spans:
            cuts.update((span["start"], span["end"]))
    for start, end in lessons:
        cuts.update((start, end))
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    out = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        themes = [
            t
            for t, spans in evidence.items()
            if any(s["start"] <= start and end <= s["end"] for s in spans)
        ]
        themes.sort(key=lambda t: colour[t])
        out.append(
            {
                "text": text[start:end],
                "themes": [
                    {"id": t, "label": theme_label(names, t), "colour": colour[t]} for t in themes
                ],
                "lesson": any(s <= start and end <= e for s, e in lessons),
            }
        )
    return out


async def story_detail(request: Request):
    db = request.app.state.db
    team_ids = visible_team_ids(request.state.user)
    # begin() in this task, not in gather(): the data version it notes is a context
    # variable, which a gathered child task would keep to itself.
    await begin(db)
    story_id = request.path_params["id"]
    story, reads = await db.run(lambda conn: story_reads(conn, story_id, team_ids))
    story = check_readable(request, story)  # 404 before anything read is used
    data, _ = await asyncio.gather(
        story_view(db, story, reads),
        log_story_view(request, story["id"]),  # the page is sent once the view is logged
    )
    if wants_json(request):
        return JSONResponse(
            to_jsonable(
                {
                    **{k: v for k, v in data.items() if k not in ("story", "segments")},
                    "story": stories.public(story),
                }
            )
        )
    return render(request, "story_detail.html", data)


def dumps(value) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False)
