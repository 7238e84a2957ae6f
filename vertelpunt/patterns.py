"""Patterns across stories: themes over time, together, per team and municipality, their
distinctive words, lessons, and where teller and tagger disagree.

Every computation is a plain function of (db, StoryFilter) returning numbers, so the page,
its JSON and the exports share them. Numbers are raw here; `protect()` applies small-number
protection (k = admin setting min_cell) when a view or export shows them: any count from
fewer than k stories becomes "< k", and quotes or words drawn from fewer than k stories are
left out. Suppression happens on output, so changing k never needs a recount.

Analytical queries run with the database's time limit (db.fetchall(..., time_limit=True));
a QueryTooSlow reaches the page as a Dutch message (browse.too_slow).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections import Counter

import jinja2
import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from starlette.requests import Request
from starlette.responses import JSONResponse

from . import charts, observations, search
from . import taxonomy as taxonomy_store
from .app_settings import get_app_setting
from .browse import (
    Labels,
    build_facets,
    facet_counts,
    labels,
    rendered_once,
    request_filter,
    selected_chips,
    theme_label,
    to_jsonable,
    too_slow,
    wants_json,
)
from .browse import browse as browse_view
from .db import Database, QueryTooSlow
from .filters import (
    StoryFilter,
    background_turn,
    begin,
    cached,
    period_label,
    period_of,
    resolve_interval,
)
from .story_pages import render

log = logging.getLogger(__name__)

SAMPLE = 4_000  # stories read for distinctive terms; above this a seeded sample
TERMS_PER_THEME = 10
LESSONS_PER_THEME = 5


def _with_f(flt: StoryFilter, columns: str = "s.id, s.month, s.team_id, s.nlp_status"):
    where, params = flt.where("s")
    return f"WITH f AS MATERIALIZED (SELECT {columns} FROM stories s WHERE {where}) ", params


# --- counts --------------------------------------------------------------------------------


def read_facts(conn: sqlite3.Connection, flt: StoryFilter) -> dict:
    """One pass over (filtered story x effective theme), grouped by theme, month and team:
    every count of the page (per theme, over time, per team and municipality, teller vs
    tagger) is a sum over these rows, so the expensive join runs once, not five times.

    {'months': {month: stories}, 'teams': {team: municipality},
     'rows': [(theme, month, team_id, stories, teller_only, nlp_only, both)]}
    """
    head, params = _with_f(flt)
    rows = conn.execute(
        head + "SELECT e.theme, f.month, f.team_id,"
        f" sum({flt.theme_condition('e')}),"
        " sum(f.nlp_status = 'done' AND e.by_teller AND NOT e.by_nlp),"
        " sum(f.nlp_status = 'done' AND e.by_nlp AND NOT e.by_teller),"
        " sum(f.nlp_status = 'done' AND e.by_teller AND e.by_nlp)"
        " FROM f JOIN story_effective_themes e ON e.story_id = f.id GROUP BY 1, 2, 3"
        " UNION ALL SELECT NULL, f.month, NULL, count(*), 0, 0, 0 FROM f GROUP BY f.month",
        params,
    ).fetchall()
    return {
        "months": {r[1]: r[3] for r in rows if r[0] is None},
        "teams": dict(conn.execute("SELECT id, municipality_id FROM teams").fetchall()),
        "rows": [tuple(r) for r in rows if r[0] is not None],
    }


def summarise(facts: dict, interval: str) -> dict:
    """The page's counts from read_facts(), in one pass over its rows:

    counts: {'total': stories in the filter, 'themes': {theme: stories with it}}
    over_time: stories per theme per period (month or quarter: `interval`, or chosen by the
        span), every period from the first to the last present, in date order
    by_team / by_municipality: stories per (theme, team id) / (theme, municipality id)
    disagreements: per theme, over tagged stories, whether the teller only, the tagger only
        or both gave it (among effective themes: a reviewer's reject settles a disagreement)
    """
    interval = resolve_interval(interval, facts["months"])
    period = {month: period_of(month, interval) for month in facts["months"]}
    totals: Counter = Counter()
    for month, n in facts["months"].items():
        totals[period[month]] += n
    themes: Counter = Counter()
    over: dict[str, Counter] = {}
    by_team: Counter = Counter()
    by_municipality: Counter = Counter()
    disagree: dict[str, dict[str, int]] = {}
    for theme, month, team, n, teller_only, nlp_only, both in facts["rows"]:
        if n:
            themes[theme] += n
            over.setdefault(theme, Counter())[period[month]] += n
            by_team[(theme, team)] += n
            by_municipality[(theme, facts["teams"][team])] += n
        d = disagree.setdefault(theme, {"teller_only": 0, "nlp_only": 0, "both": 0})
        d["teller_only"] += teller_only
        d["nlp_only"] += nlp_only
        d["both"] += both
    return {
        "counts": {"total": sum(facts["months"].values()), "themes": dict(themes)},
        "over_time": {
            "periods": _all_periods(list(totals), interval),
            "counts": over,
            "totals": totals,
            "interval": interval,
        },
        "by_team": dict(by_team),
        "by_municipality": dict(by_municipality),
        "disagreements": disagree,
    }


async def theme_summary(db: Database, flt: StoryFilter) -> dict:
    """summarise(read_facts()) in a reader thread: at 100,000 stories the rows number tens
    of thousands, and summing them on the event loop would hold up every other request."""
    return await db.run(
        lambda conn: summarise(read_facts(conn, flt), flt.interval), time_limit=True
    )


def _all_periods(present: list[str], interval: str) -> list[str]:
    if not present:
        return []
    first, last = min(present), max(present)
    out, period = [], first
    while period <= last:
        out.append(period)
        period = _next_period(period, interval)
    return out


def _next_period(period: str, interval: str) -> str:
    if interval == "quarter":
        year, q = period.split("-K")
        return f"{int(year) + 1}-K1" if q == "4" else f"{year}-K{int(q) + 1}"
    year, month = map(int, period.split("-"))
    return f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}"


async def cooccurrence(db: Database, flt: StoryFilter) -> dict[tuple[str, str], int]:
    """Stories with both themes, per pair (a <= b; (a, a) is the theme's own count)."""
    head, params = _with_f(flt, "s.id")
    source_a, source_b = flt.theme_condition("a"), flt.theme_condition("b")
    rows = await db.fetchall(
        head + "SELECT a.theme, b.theme, count(*) FROM f"
        " JOIN story_effective_themes a ON a.story_id = f.id"
        " JOIN story_effective_themes b ON b.story_id = f.id AND a.theme <= b.theme"
        f" WHERE {source_a} AND {source_b} GROUP BY a.theme, b.theme",
        params,
        time_limit=True,
    )
    return {(a, b): n for a, b, n in rows}


async def lessons_by_theme(
    db: Database, flt: StoryFilter, per_theme: int = LESSONS_PER_THEME
) -> dict[str, list[dict]]:
    """The lessons of the most recently told stories with each theme: {theme: [...]}.
    Walks each theme's index from the newest story down and stops after `per_theme`
    stories, so it costs the same for 100 or 100,000 stories."""
    where, params = flt.where("s")
    taxonomy = await taxonomy_store.active_taxonomy(db)
    arms, values = [], []
    for theme in taxonomy.ids:
        arms.append(
            "SELECT * FROM (SELECT e.theme, s.id, s.title FROM story_effective_themes e"
            " JOIN stories s ON s.id = e.story_id"
            f" WHERE e.theme = ? AND {flt.theme_condition('e')} AND {where}"
            " AND EXISTS (SELECT 1 FROM lessons l WHERE l.story_id = s.id)"
            " ORDER BY e.story_id DESC LIMIT ?)"
        )
        values += [theme, *params, per_theme]
    if not arms:
        return {}
    stories = await db.fetchall(" UNION ALL ".join(arms), values, time_limit=True)
    ids = sorted({r["id"] for r in stories})
    lessons: dict[int, list] = {}
    if ids:
        for row in await db.fetchall(
            "SELECT story_id, source, text FROM lessons"
            f" WHERE story_id IN ({','.join('?' * len(ids))}) ORDER BY id",
            ids,
        ):
            lessons.setdefault(row["story_id"], []).append(row)
    out: dict[str, list[dict]] = {}
    for row in stories:
        for lesson in lessons.get(row["id"], [])[:1]:
            out.setdefault(row["theme"], []).append(
                {
                    "story_id": row["id"],
                    "title": row["title"],
                    "source": lesson["source"],
                    "text": lesson["text"],
                }
            )
    return out


# --- distinctive terms ---------------------------------------------------------------------


async def distinctive_terms(
    db: Database, flt: StoryFilter, per_theme: int = TERMS_PER_THEME, sample: int = SAMPLE
) -> dict:
    """Words that set each theme's stories apart from the other stories in the filter:
    weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
    "Fightin' Words"), on Snowball stems without stop words (the stems the search index
    already holds). Above `sample` stories a seeded sample is used (the page says so). Each
    term: its most common word form, z-score, and in how many of the theme's stories (in the
    sample) it occurs (`stories`)."""
    where, params = flt.where("s")
    sampled = await db.fetchall(
        f"SELECT s.id FROM stories s WHERE {where}"
        " ORDER BY (s.id * 2654435761) % 4294967296 LIMIT ?",
        [*params, sample],
        time_limit=True,
    )
    ids = sorted(r["id"] for r in sampled)
    themes: dict[int, set[str]] = {i: set() for i in ids}
    stems: dict[int, str] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for row in await db.fetchall(
            "SELECT e.story_id, e.theme FROM story_effective_themes e"
            f" WHERE e.story_id IN ({marks}) AND {flt.theme_condition('e')}",
            chunk,
        ):
            themes[row["story_id"]].add(row["theme"])
        # The index's own copy of the stems (FTS5 keeps them in story_fts_content, c1 being
        # text_stems): a plain table read by id, where a join on the virtual table would
        # run one full-text lookup per story.
        for row in await db.fetchall(
            f"SELECT id, c1 FROM story_fts_content WHERE id IN ({marks})", chunk
        ):
            stems[row["id"]] = row["c1"] or ""
    ids = [i for i in ids if i in stems]
    scored = await asyncio.to_thread(
        lambda: log_odds([stems[i].split() for i in ids], [themes[i] for i in ids], per_theme * 3)
    )
    # Show each stem as the word form the stories use most (from a few hundred of them).
    texts = await db.fetchall(
        f"SELECT text FROM stories WHERE id IN ({','.join('?' * len(ids[:300]))})", ids[:300]
    )
    forms = await asyncio.to_thread(
        word_forms, [t["text"] or "" for t in texts], {t[0] for ts in scored.values() for t in ts}
    )
    out = {
        theme: [
            {"stem": stem, "term": forms.get(stem, stem), "z": round(z, 2), "stories": n}
            for stem, z, n in terms
        ]
        for theme, terms in scored.items()
    }
    return {"themes": out, "sample": len(ids)}


def log_odds(
    docs: list[list[str]], labels: list[set[str]], top: int
) -> dict[str, list[tuple[str, float, int]]]:
    """Per theme, up to `top` (stem, z, stories) with z > 1.96, highest first.

    docs[i] are story i's stems, labels[i] its themes. The informative prior is the counts
    of all stories read (alpha_w = y_w, alpha_0 = all words), so a theme's counts are shrunk
    towards the whole selection's, as in Monroe et al. Computed as sparse matrix products:
    milliseconds for thousands of stories."""
    docs = [
        [t for t in d if len(t) > 2 and not t.isdigit() and t not in search.STOP_STEMS]
        for d in docs
    ]
    theme_ids = sorted({t for ts in labels for t in ts})
    if not docs or not theme_ids or not any(docs):
        return {}
    counts = CountVectorizer(analyzer=lambda d: d).fit(docs)
    X = counts.transform(docs)  # stories x stems
    vocab = counts.get_feature_names_out()
    rows = [i for i, ts in enumerate(labels) for _ in ts]
    cols = [theme_ids.index(t) for ts in labels for t in sorted(ts)]
    T = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(docs), len(theme_ids)))
    inside = np.asarray((T.T @ X).todense(), dtype=float)  # themes x stems
    df = np.asarray((T.T @ (X > 0).astype(float)).todense())
    alpha = np.asarray(X.sum(axis=0), dtype=float)[0]
    prior = alpha.sum()
    out: dict[str, list[tuple[str, float, int]]] = {}
    for k, theme in enumerate(theme_ids):
        y_i = inside[k]
        y_j = alpha - y_i
        n_i, n_j = y_i.sum(), prior - y_i.sum()
        if not n_i or not n_j:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = np.log((y_i + alpha) / (n_i + prior - y_i - alpha)) - np.log(
                (y_j + alpha) / (n_j + prior - y_j - alpha)
            )
            z = delta / np.sqrt(1 / (y_i + alpha) + 1 / (y_j + alpha))
        z = np.where((y_i > 0) & np.isfinite(z), z, -np.inf)
        best = [j for j in np.argsort(-z, kind="stable")[:top] if z[j] > 1.96]
        out[theme] = [(str(vocab[j]), float(z[j]), int(df[k, j])) for j in best]
    return out


def word_forms(texts: list[str], stems: set[str]) -> dict[str, str]:
    """The most frequent word in `texts` for each stem."""
    seen: dict[str, Counter] = {}
    stem_of: dict[str, str] = {}
    stem_words = search._stemmer().stemWords
    for text in texts:
        words = search.words(text)
        new = [w for w in set(words) if w not in stem_of]
        if new:
            stem_of.update(zip(new, stem_words(new), strict=True))
        for word in words:
            stem = stem_of[word]
            if stem in stems:
                seen.setdefault(stem, Counter())[word] += 1
    return {stem: c.most_common(1)[0][0] for stem, c in seen.items()}


# --- all patterns, and small-number protection ---------------------------------------------


async def compute_patterns(db: Database, flt: StoryFilter) -> dict:
    """The raw numbers of the patterns page (cached per data version and filter)."""

    async def compute():
        summary, pairs, lessons, terms = await asyncio.gather(
            theme_summary(db, flt),
            cooccurrence(db, flt),
            lessons_by_theme(db, flt),
            distinctive_terms(db, flt),
        )
        return {**summary, "pairs": pairs, "lessons": lessons, "terms": terms}

    return await cached(db, ("patterns", flt.cache_key(), flt.interval), compute)


def protect(n: int, k: int) -> int | str:
    """A count as it may be shown: itself, or "< k" when from 1 to k - 1 stories (an
    empty cell says nothing about anyone, so 0 stays 0)."""
    return n if n >= k or n == 0 else f"< {k}"


def shown(n: int, k: int) -> bool:
    return n >= k


WARM_UP_FROM = 5_000  # confirmed stories: smaller corpora compute their views in a blink


async def warm_up(db: Database, base: str, templates: jinja2.Environment) -> None:
    """At start-up, compute the landing views in the background: the whole-corpus story list
    and patterns page, and the patterns page of each theme (seconds each at 100,000 stories),
    so the first researchers after a restart do not wait for them; from then on the research
    cache keeps them fresh (filters.cached). The templates are compiled first: compiling a
    big one takes a fifth of a second, and on first use that would hold up every request."""
    row = await db.fetchone("SELECT count(*) AS n FROM stories WHERE status = 'confirmed'")
    if row["n"] < WARM_UP_FROM:
        return
    try:
        await asyncio.to_thread(compile_templates, templates)
        async with background_turn():
            await browse_view(db, StoryFilter(), 1, base)
        async with background_turn():
            await patterns(db, StoryFilter(), base)
        for theme in (await labels(db, None)).themes:
            async with background_turn():
                await patterns(db, StoryFilter(themes=(theme,)), base)
    except Exception as error:  # a warm-up is a favour, never a reason to stop
        log.warning("warming up the research views failed: %s", error)


def compile_templates(templates: jinja2.Environment) -> None:
    for name in templates.list_templates(["html"]):
        # The printable report is rendered by its own environment (exports/report.py),
        # with filters this one lacks: it fails here and is compiled there on first use.
        with contextlib.suppress(jinja2.TemplateError):
            templates.get_template(name)


async def patterns(db: Database, flt: StoryFilter, base: str) -> dict:
    """The patterns page's data, with small-number protection applied and each cell's link
    to exactly the stories it counts (`base` is the story list's path), plus the
    observations and the stories marked most significant."""
    await begin(db)
    k = await cached(db, ("min_cell",), lambda: get_app_setting(db, "min_cell"))
    key = ("pattern tables", flt.cache_key(), flt.interval, k, base)
    tables = await cached(db, key, lambda: pattern_tables(db, flt, base, k))
    marked, noted = await asyncio.gather(
        observations.significant_stories(db, flt), observations.list_observations(db)
    )
    significant = [s for s in marked if shown(tables["theme_counts"].get(s["theme"], 0), k)]
    return {**tables, "observations": noted, "significant": significant}


async def pattern_tables(db: Database, flt: StoryFilter, base: str, k: int) -> dict:
    raw = await compute_patterns(db, flt)
    names = await labels(db, flt.scope)
    # Thousands of cells with their links: built in a thread, off the event loop.
    return await asyncio.to_thread(build_tables, raw, names, flt, base, k)


def build_tables(raw: dict, names: Labels, flt: StoryFilter, base: str, k: int) -> dict:
    """The patterns page's tables from compute_patterns()' numbers, with small-number
    protection and each cell's link to exactly the stories it counts."""
    counts = raw["counts"]["themes"]
    themes = [t for t in names.themes if counts.get(t)] + sorted(
        t for t in counts if t not in names.themes
    )

    def link(**changes) -> str:
        target = flt
        for theme in changes.pop("themes", ()):
            if theme not in target.themes:
                target = target.toggle("theme", theme)
        if changes:
            target = target.with_values(**changes)
        return target.url(base)

    def cell(n: int, **link_to) -> dict:
        return {"count": protect(n, k), "url": link(**link_to) if shown(n, k) else None}

    theme_rows = [
        {"theme": t, "label": theme_label(names, t), **cell(counts[t], themes=[t])} for t in themes
    ]

    over = raw["over_time"]
    periods = [{"key": p, "label": period_label(p)} for p in over["periods"]]
    over_rows = []
    for t in themes:
        values = []
        for p in over["periods"]:
            start, end = _range(p)
            n = over["counts"].get(t, {}).get(p, 0)
            values.append({"period": p, **cell(n, themes=[t], start=start, end=end)})
        over_rows.append({"theme": t, "label": theme_label(names, t), "values": values})
    period_totals = [
        {"period": p, "count": protect(over["totals"].get(p, 0), k)} for p in over["periods"]
    ]

    matrix = []
    for a in themes:
        row = []
        for b in themes:
            pair = (a, b) if a <= b else (b, a)
            n = raw["pairs"].get(pair, 0)
            union = counts[a] + counts[b] - n
            entry = cell(n, themes=[a, b])
            entry["jaccard"] = round(n / union, 2) if shown(n, k) and union else None
            row.append(entry)
        matrix.append({"theme": a, "label": theme_label(names, a), "cells": row})

    def by_matrix(key: str, table: dict[int, str], data: dict) -> dict:
        columns = [i for i in table if any(data.get((t, i)) for t in themes)]
        rows = []
        for t in themes:
            rows.append(
                {
                    "theme": t,
                    "label": theme_label(names, t),
                    "cells": [
                        cell(data.get((t, i), 0), themes=[t], **{key: (str(i),)}) for i in columns
                    ],
                }
            )
        return {"columns": [{"id": i, "label": table[i]} for i in columns], "rows": rows}

    distinctive = []
    for t in themes:
        if not shown(counts[t], k):
            continue
        terms = [
            {**term, "stories": term["stories"], "url": link(themes=[t], q=term["term"])}
            for term in raw["terms"]["themes"].get(t, [])
            if shown(term["stories"], k)
        ][:TERMS_PER_THEME]
        distinctive.append({"theme": t, "label": theme_label(names, t), "terms": terms})

    lessons = [
        {"theme": t, "label": theme_label(names, t), "lessons": raw["lessons"].get(t, [])}
        for t in themes
        if shown(counts[t], k) and raw["lessons"].get(t)
    ]
    disagree = []
    for t in sorted(raw["disagreements"], key=lambda t: themes.index(t) if t in themes else 99):
        d = raw["disagreements"][t]
        if not (d["teller_only"] or d["nlp_only"]):
            continue
        n = d["teller_only"] + d["nlp_only"]
        disagree.append(
            {
                "theme": t,
                "label": theme_label(names, t),
                "teller_only": protect(d["teller_only"], k),
                "nlp_only": protect(d["nlp_only"], k),
                "both": protect(d["both"], k),
                "url": link(disagreement=(t,)) if shown(n, k) else None,
            }
        )

    return {
        "filter": flt,
        "k": k,
        "total": protect(raw["counts"]["total"], k),
        "stories_url": flt.url(base),
        "themes": theme_rows,
        "over_time": {
            "periods": periods,
            "rows": over_rows,
            "totals": period_totals,
            "interval": over["interval"],
        },
        "cooccurrence": matrix,
        "by_team": by_matrix("teams", names.teams, raw["by_team"]),
        "by_municipality": by_matrix(
            "municipalities", names.municipalities, raw["by_municipality"]
        ),
        "distinctive": distinctive,
        "distinctive_sample": raw["terms"]["sample"],
        "distinctive_sampled": raw["terms"]["sample"] >= SAMPLE,
        "lessons": lessons,
        "disagreements": disagree,
        "theme_counts": counts,
        "chart": charts.small_multiples(periods, over_rows, k),
    }


def _range(period: str) -> tuple[str, str]:
    from .filters import period_range

    return period_range(period)


# --- the page ------------------------------------------------------------------------------


async def patterns_page(request: Request):
    db = request.app.state.db
    as_json = wants_json(request)
    flt = request_filter(request)
    base = request.url_for("story_list").path
    try:
        data = await patterns(db, flt, base)
        data.pop("theme_counts")
        if as_json:
            data.pop("chart")
            return JSONResponse(to_jsonable(data))
        here = request.url_for("patterns").path
        names = await labels(db, flt.scope)
        counts = await facet_counts(db, flt)
        tables_html, sidebar_html = await _fragments(request, data, counts, flt, names, base, here)
    except QueryTooSlow:
        return too_slow(request, as_json)
    for mark in data["significant"]:
        mark["label"] = theme_label(names, mark["theme"])
    return render(
        request,
        "patterns.html",
        {
            **data,
            "tables_html": tables_html,
            "sidebar_html": sidebar_html,
            "selected": selected_chips(flt, names, here),
            "query": flt.query_string(),
        },
    )


async def _fragments(request: Request, data: dict, counts: dict, flt, names, base, here) -> tuple:
    """The tables and the filters of the patterns page as HTML, rendered once per cached
    numbers (the page holds ~100 kB of tables; see browse.rendered_once)."""

    def context() -> dict:
        facets = build_facets(flt, counts, names, here)
        for facet in facets:  # counts beside patterns are protected too
            for value in facet["values"]:
                value["count"] = protect(value["count"], data["k"])
        return {**data, "filter": flt, "facets": facets, "here": here, "story_path": base}

    templates = ("_patterns_tables.html", "_patterns_sidebar.html")
    extra = (base, here, data["k"])
    return await rendered_once(request, (data["chart"], counts), templates, context, extra)
