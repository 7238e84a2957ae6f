"""Reviewing the tagger: a queue of its least certain tags, one-click decisions, agreement.

The queue puts first the NLP tags whose score is nearest the threshold: scores are mapped
so that every theme's threshold is 0.5 (nlp/model.py), and the tagger stores applied themes
only, so these are the tags it was least sure to apply. A decision (accept, reject, or add
a theme the tagger missed) is a story_themes row with source 'human:<user id>', decision,
reason and time, plus an audit event; a later decision by the same reviewer replaces theirs
(the audit log keeps the history). The triggers of migrations/0003_research.sql update the
story's effective themes at once, and `vertelpunt train` learns from the same rows
(vertelpunt/training.py).

Agreement per theme is Cohen's kappa between the tagger and the reviewers over the reviewed
stories: the reviewers' labels are what they left standing (the tagger's themes they did not
reject, plus what they accepted or added), the same labels training uses. Review numbers
are about the tagger, not about families, so they are not subject to small-number
protection.
"""

from __future__ import annotations

import json
import warnings

from sklearn.metrics import cohen_kappa_score
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse

from . import taxonomy as taxonomy_store
from .browse import labels, to_jsonable, too_slow, wants_json
from .db import Database, QueryTooSlow
from .events import Actor, log_event
from .stories import clean_text
from .story_pages import actor_of, render

THRESHOLD = 0.5
QUEUE_SIZE = 20
DECISIONS = ("accept", "reject", "add")
REASON_MAX = 1_000


async def queue(db: Database, limit: int = QUEUE_SIZE) -> list[dict]:
    """Unreviewed NLP tags of confirmed stories, least certain first, grouped by story."""
    rows = await db.fetchall(
        "SELECT st.story_id, st.theme, st.score, st.evidence, st.source, s.title, s.text"
        " FROM story_themes st JOIN stories s ON s.id = st.story_id"
        " WHERE st.source GLOB 'nlp:*' AND s.status = 'confirmed'"
        " AND NOT EXISTS (SELECT 1 FROM story_themes h WHERE h.story_id = st.story_id"
        "  AND h.theme = st.theme AND h.source GLOB 'human:*')"
        " ORDER BY abs(st.score - 0.5), st.story_id LIMIT ?",
        (limit,),
        time_limit=True,
    )
    items = []
    for row in rows:
        text = row["text"] or ""
        evidence = [text[e["start"] : e["end"]] for e in json.loads(row["evidence"])]
        items.append(
            {
                "story_id": row["story_id"],
                "title": row["title"],
                "theme": row["theme"],
                "score": row["score"],
                "margin": round(abs((row["score"] or 0) - THRESHOLD), 4),
                "source": row["source"],
                "evidence": evidence,
            }
        )
    ids = sorted({i["story_id"] for i in items})
    current: dict[int, set[str]] = {i: set() for i in ids}
    if ids:
        for row in await db.fetchall(
            "SELECT story_id, theme FROM story_effective_themes"
            f" WHERE story_id IN ({','.join('?' * len(ids))})",
            ids,
        ):
            current[row["story_id"]].add(row["theme"])
    for item in items:
        item["themes"] = sorted(current[item["story_id"]])
    return items


async def decide(
    db: Database,
    actor: Actor,
    story_id: int,
    theme: str,
    decision: str,
    reason: str = "",
) -> None:
    """Store one reviewer decision (replacing this reviewer's earlier one on the theme)."""
    if decision not in DECISIONS:
        raise ValueError("unknown decision")
    taxonomy = await taxonomy_store.active_taxonomy(db)
    if theme not in taxonomy.ids:
        raise ValueError("unknown theme")
    reason = clean_text(reason)[:REASON_MAX] or None
    async with db.write() as conn:
        cursor = await conn.execute(
            "SELECT 1 FROM stories WHERE id = ? AND status = 'confirmed'", (story_id,)
        )
        if await cursor.fetchone() is None:
            raise LookupError("story not found")
        await conn.execute(
            "INSERT INTO story_themes (story_id, theme, source, taxonomy_version, decision,"
            " reason) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (story_id, theme, source) DO UPDATE SET decision = excluded.decision,"
            " reason = excluded.reason, taxonomy_version = excluded.taxonomy_version,"
            " created_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (story_id, theme, f"human:{actor.user_id}", taxonomy.version, decision, reason),
        )
        await log_event(
            conn,
            actor,
            "review.decide",
            f"story:{story_id}",
            theme=theme,
            decision=decision,
            with_reason=reason is not None,
        )


async def agreement(db: Database) -> dict:
    """Per theme: Cohen's kappa between tagger and reviewers, and the counts behind it."""
    rows = await db.fetchall(
        "SELECT st.story_id, st.theme, st.source, st.decision FROM story_themes st"
        " JOIN stories s ON s.id = st.story_id WHERE s.status = 'confirmed'"
        " AND s.nlp_status = 'done' AND st.story_id IN"
        " (SELECT story_id FROM story_themes WHERE source GLOB 'human:*')"
        " AND (st.source GLOB 'nlp:*' OR st.source GLOB 'human:*')"
        " ORDER BY st.story_id, st.created_at, st.id",
        time_limit=True,
    )
    tagger: dict[int, set[str]] = {}
    latest: dict[int, dict[str, str]] = {}
    decisions: dict[str, dict[str, int]] = {}
    for row in rows:
        tagger.setdefault(row["story_id"], set())
        if row["source"].startswith("nlp:"):
            tagger[row["story_id"]].add(row["theme"])
        else:
            latest.setdefault(row["story_id"], {})[row["theme"]] = row["decision"]
            per = decisions.setdefault(row["theme"], {d: 0 for d in DECISIONS})
            per[row["decision"]] = per.get(row["decision"], 0) + 1
    stories = sorted(latest)
    reviewer = {
        i: (tagger[i] | {t for t, d in latest[i].items() if d in ("accept", "add")})
        - {t for t, d in latest[i].items() if d == "reject"}
        for i in stories
    }
    taxonomy = await taxonomy_store.active_taxonomy(db)
    per_theme = []
    for theme in taxonomy.ids:
        a = [int(theme in tagger[i]) for i in stories]
        b = [int(theme in reviewer[i]) for i in stories]
        both = sum(x and y for x, y in zip(a, b, strict=True))
        only_tagger = sum(x and not y for x, y in zip(a, b, strict=True))
        only_reviewer = sum(y and not x for x, y in zip(a, b, strict=True))
        per_theme.append(
            {
                "theme": theme,
                "stories": len(stories),
                "both": both,
                "tagger_only": only_tagger,
                "reviewer_only": only_reviewer,
                "neither": len(stories) - both - only_tagger - only_reviewer,
                "decisions": decisions.get(theme, {d: 0 for d in DECISIONS}),
                "kappa": kappa(a, b),
            }
        )
    return {"reviewed_stories": len(stories), "themes": per_theme}


def kappa(a: list[int], b: list[int]) -> float | None:
    """Cohen's kappa, or None when it is undefined (no stories, or no variation at all)."""
    if not a or len(set(a) | set(b)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value = cohen_kappa_score(a, b, labels=[0, 1])
    return None if value != value else round(float(value), 3)  # NaN: undefined


# --- the page ------------------------------------------------------------------------------


async def review_page(request: Request):
    db = request.app.state.db
    as_json = wants_json(request)
    try:
        items = await queue(db)
        agree = await agreement(db)
    except QueryTooSlow:
        return too_slow(request, as_json)
    names = await labels(db, None)
    for row in agree["themes"]:
        row["label"] = names.themes.get(row["theme"], row["theme"])
    for item in items:
        item["label"] = names.themes.get(item["theme"], item["theme"])
        item["missing"] = [
            {"id": t, "label": label}
            for t, label in names.themes.items()
            if t not in item["themes"]
        ]
    data = {"queue": items, "agreement": agree, "threshold": THRESHOLD}
    if as_json:
        return JSONResponse(to_jsonable(data))
    return render(request, "review.html", data)


async def review_decide(request: Request):
    form = await request.form()
    story_id = request.path_params["id"]
    theme = str(form.get("theme", ""))
    decision = str(form.get("decision", ""))
    try:
        await decide(
            request.app.state.db,
            actor_of(request),
            story_id,
            theme,
            decision,
            str(form.get("reason", "")),
        )
    except LookupError:
        raise HTTPException(404) from None
    except ValueError:
        raise HTTPException(
            422, "Kies een thema en een beslissing (akkoord, niet akkoord of toevoegen)."
        ) from None
    return RedirectResponse(request.url_for("review").path + "#wachtrij", status_code=303)
