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
import math
from collections import Counter

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import charts, observations, search
from .app_settings import get_app_setting
from .browse import (
    Labels,
    build_facets,
    facet_counts,
    labels,
    request_filter,
    selected_chips,
    theme_label,
    to_jsonable,
    too_slow,
    wants_json,
)
from .db import Database, QueryTooSlow
from .filters import StoryFilter, cached, period_label, period_of, resolve_interval
from .story_pages import render

SAMPLE = 4_000  # stories read for distinctive terms; above this a seeded sample
TERMS_PER_THEME = 10
LESSONS_PER_THEME = 5


def _with_f(flt: StoryFilter, columns: str = "s.id, s.month, s.team_id, s.nlp_status"):
    where, params = flt.where("s")
    return f"WITH f AS MATERIALIZED (SELECT {columns} FROM stories s WHERE {where}) ", params


# --- counts --------------------------------------------------------------------------------


async def theme_counts(db: Database, flt: StoryFilter) -> dict:
    """{'total': stories in the filter, 'themes': {theme: stories with it}}."""
    head, params = _with_f(flt)
    rows = await db.fetchall(
        head + "SELECT 'total', NULL, count(*) FROM f UNION ALL"
        " SELECT 'theme', e.theme, count(*) FROM f JOIN story_effective_themes e"
        f" ON e.story_id = f.id WHERE {flt.theme_condition('e')} GROUP BY e.theme",
        params,
        time_limit=True,
    )
    out = {"total": 0, "themes": {}}
    for kind, theme, n in rows:
        if kind == "total":
            out["total"] = n
        else:
            out["themes"][theme] = n
    return out


async def theme_over_time(db: Database, flt: StoryFilter) -> dict:
    """Stories per theme per period (month or quarter, as flt.interval), every period from
    the first to the last present, in date order."""
    head, params = _with_f(flt)
    rows = await db.fetchall(
        head + "SELECT e.theme, f.month, count(*) FROM f JOIN story_effective_themes e"
        f" ON e.story_id = f.id WHERE {flt.theme_condition('e')} GROUP BY e.theme, f.month"
        " UNION ALL SELECT NULL, f.month, count(*) FROM f GROUP BY f.month",
        params,
        time_limit=True,
    )
    counts: dict[str, Counter] = {}
    totals: Counter = Counter()
    interval = resolve_interval(flt.interval, {month for _, month, _ in rows})
    for theme, month, n in rows:
        period = period_of(month, interval)
        if theme is None:
            totals[period] += n
        else:
            counts.setdefault(theme, Counter())[period] += n
    return {
        "periods": _all_periods(list(totals), interval),
        "counts": counts,
        "totals": totals,
        "interval": interval,
    }


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
    head, params = _with_f(flt)
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


async def theme_by(db: Database, flt: StoryFilter, by: str) -> dict[tuple[str, int], int]:
    """Stories per (theme, team id) or (theme, municipality id)."""
    column = "f.team_id" if by == "team" else "t.municipality_id"
    head, params = _with_f(flt)
    rows = await db.fetchall(
        head + f"SELECT e.theme, {column}, count(*) FROM f"
        " JOIN teams t ON t.id = f.team_id"
        " JOIN story_effective_themes e ON e.story_id = f.id"
        f" WHERE {flt.theme_condition('e')} GROUP BY 1, 2",
        params,
        time_limit=True,
    )
    return {(theme, key): n for theme, key, n in rows}


async def disagreements(db: Database, flt: StoryFilter) -> dict[str, dict[str, int]]:
    """Per theme, over tagged stories: teller only, tagger only, both."""
    head, params = _with_f(flt)
    rows = await db.fetchall(
        head + "SELECT theme, sum(t AND NOT n), sum(n AND NOT t), sum(t AND n) FROM ("
        " SELECT st.story_id, st.theme, max(st.source = 'teller') AS t,"
        " max(st.source GLOB 'nlp:*') AS n FROM f JOIN story_themes st ON st.story_id = f.id"
        " WHERE f.nlp_status = 'done' GROUP BY st.story_id, st.theme) GROUP BY theme",
        params,
        time_limit=True,
    )
    return {
        theme: {"teller_only": a or 0, "nlp_only": b or 0, "both": c or 0}
        for theme, a, b, c in rows
    }


async def lessons_by_theme(db: Database, flt: StoryFilter, per_theme: int = LESSONS_PER_THEME):
    """The newest lessons of stories with each theme: {theme: [lesson, ...]}."""
    head, params = _with_f(flt)
    rows = await db.fetchall(
        head + "SELECT theme, story_id, title, source, text FROM ("
        " SELECT e.theme, l.story_id, s.title, l.source, l.text, row_number() OVER ("
        "   PARTITION BY e.theme ORDER BY f.month DESC, l.story_id DESC, l.id) AS n"
        " FROM f JOIN story_effective_themes e ON e.story_id = f.id"
        " JOIN lessons l ON l.story_id = f.id JOIN stories s ON s.id = f.id"
        f" WHERE {flt.theme_condition('e')}) WHERE n <= ?",
        [*params, per_theme],
        time_limit=True,
    )
    out: dict[str, list[dict]] = {}
    for theme, story_id, title, source, text in rows:
        out.setdefault(theme, []).append(
            {"story_id": story_id, "title": title, "source": source, "text": text}
        )
    return out


# --- distinctive terms ---------------------------------------------------------------------


async def distinctive_terms(
    db: Database, flt: StoryFilter, per_theme: int = TERMS_PER_THEME, sample: int = SAMPLE
) -> dict:
    """Words that set each theme's stories apart from the other stories in the filter:
    weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008,
    "Fightin' Words"), on Snowball stems without stop words. Above `sample` stories a
    seeded sample is used (the page says so). Each term: its most common word form, z-score,
    and in how many of the theme's stories it occurs (`stories`)."""
    where, params = flt.where("s")
    rows = await db.fetchall(
        f"SELECT s.id, s.text FROM stories s WHERE {where}"
        " ORDER BY (s.id * 2654435761) % 4294967296 LIMIT ?",
        [*params, sample],
        time_limit=True,
    )
    ids = [r["id"] for r in rows]
    themes: dict[int, set[str]] = {i: set() for i in ids}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for row in await db.fetchall(
            "SELECT e.story_id, e.theme FROM story_effective_themes e"
            f" WHERE e.story_id IN ({','.join('?' * len(chunk))})"
            f" AND {flt.theme_condition('e')}",
            chunk,
            time_limit=True,
        ):
            themes[row["story_id"]].add(row["theme"])
    texts = [(r["id"], r["text"] or "") for r in rows]
    result = await asyncio.to_thread(_log_odds, texts, themes, per_theme)
    result["sample"] = len(ids)
    return result


def _log_odds(texts, themes: dict[int, set[str]], per_theme: int) -> dict:
    stem_of: dict[str, str] = {}
    stemmer_words = search._stemmer().stemWords
    forms: dict[str, Counter] = {}
    story_terms: list[tuple[int, Counter]] = []
    for story_id, text in texts:
        words = Counter(search.words(text))
        new = [w for w in words if w not in stem_of]
        if new:
            stem_of.update(zip(new, stemmer_words(new), strict=True))
        terms: Counter = Counter()
        for word, n in words.items():
            stem = stem_of[word]
            if len(stem) < 3 or stem.isdigit() or stem in search.STOP_STEMS:
                continue
            terms[stem] += n
            forms.setdefault(stem, Counter())[word] += n
        story_terms.append((story_id, terms))

    # The informative prior is the word counts of all stories read: alpha_w = y_w, so a
    # theme's counts are shrunk towards the whole selection's (as in Monroe et al.).
    background: Counter = Counter()
    for _, terms in story_terms:
        background.update(terms)
    prior = sum(background.values())
    out: dict[str, list[dict]] = {}
    for theme in sorted({t for ts in themes.values() for t in ts}):
        inside, outside, df = Counter(), Counter(), Counter()
        for story_id, terms in story_terms:
            if theme in themes[story_id]:
                inside.update(terms)
                df.update(terms.keys())
            else:
                outside.update(terms)
        n_i, n_j = sum(inside.values()), sum(outside.values())
        if not n_i or not n_j:
            continue
        scored = []
        for stem, y_i in inside.items():
            alpha = background[stem]
            y_j = outside.get(stem, 0)
            delta = math.log((y_i + alpha) / (n_i + prior - y_i - alpha)) - math.log(
                (y_j + alpha) / (n_j + prior - y_j - alpha)
            )
            z = delta / math.sqrt(1 / (y_i + alpha) + 1 / (y_j + alpha))
            if z > 1.96:  # different from the rest at the 5 % level
                scored.append((z, stem))
        scored.sort(reverse=True)
        out[theme] = [
            {
                "stem": stem,
                "term": forms[stem].most_common(1)[0][0],
                "z": round(z, 2),
                "stories": df[stem],
            }
            for z, stem in scored[: per_theme * 3]
        ]
    return {"themes": out}


# --- all patterns, and small-number protection ---------------------------------------------


async def compute_patterns(db: Database, flt: StoryFilter) -> dict:
    """The raw numbers of the patterns page (cached per data version and filter)."""

    async def compute():
        await search.sync_search_index(db)
        counts, over_time, pairs, by_team, by_muni, disagree, lessons, terms = await asyncio.gather(
            theme_counts(db, flt),
            theme_over_time(db, flt),
            cooccurrence(db, flt),
            theme_by(db, flt, "team"),
            theme_by(db, flt, "municipality"),
            disagreements(db, flt),
            lessons_by_theme(db, flt),
            distinctive_terms(db, flt),
        )
        return {
            "counts": counts,
            "over_time": over_time,
            "pairs": pairs,
            "by_team": by_team,
            "by_municipality": by_muni,
            "disagreements": disagree,
            "lessons": lessons,
            "terms": terms,
        }

    return await cached(db, ("patterns", flt.cache_key(), flt.interval), compute)


def protect(n: int, k: int) -> int | str:
    """A count as it may be shown: itself, or "< k" when from 1 to k - 1 stories (an
    empty cell says nothing about anyone, so 0 stays 0)."""
    return n if n >= k or n == 0 else f"< {k}"


def shown(n: int, k: int) -> bool:
    return n >= k


async def patterns(db: Database, flt: StoryFilter, base: str) -> dict:
    """The patterns page's data, with small-number protection applied and each cell's link
    to exactly the stories it counts (`base` is the story list's path), plus the
    observations and the stories marked most significant."""
    k = await get_app_setting(db, "min_cell")
    key = ("pattern tables", flt.cache_key(), flt.interval, k, base)
    tables = await cached(db, key, lambda: pattern_tables(db, flt, base, k))
    significant = [
        s
        for s in await observations.significant_stories(db, flt)
        if shown(tables["theme_counts"].get(s["theme"], 0), k)
    ]
    return {
        **tables,
        "observations": await observations.list_observations(db),
        "significant": significant,
    }


async def pattern_tables(db: Database, flt: StoryFilter, base: str, k: int) -> dict:
    raw = await compute_patterns(db, flt)
    names = await labels(db, flt.scope)
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
        chart = data.pop("chart")
        if not as_json:
            names: Labels = await labels(db, flt.scope)
            here = request.url_for("patterns").path
            data["facets"] = build_facets(flt, await facet_counts(db, flt), names, here)
            for facet in data["facets"]:  # counts beside patterns are protected too
                for value in facet["values"]:
                    value["count"] = protect(value["count"], data["k"])
            data["selected"] = selected_chips(flt, names, here)
    except QueryTooSlow:
        return too_slow(request, as_json)
    if as_json:
        return JSONResponse(to_jsonable(data))
    data["chart"] = chart
    data["query"] = flt.query_string()
    return render(request, "patterns.html", data)
