"""The column snapshot (vertelpunt/columns.py) selects, counts and lists exactly what the SQL
of StoryFilter.where() selects, on random filters over a generated corpus with withdrawn
stories, missing signifiers, reviewed and disagreeing tags, and a search index."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
from pathlib import Path

import pytest

from vertelpunt import columns, filters
from vertelpunt.db import Database
from vertelpunt.filters import SIGNIFIER_BUCKETS, SOURCE_COLUMN, StoryFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate_stories import generate  # noqa: E402

THEMES = ["veiligheid", "armoede", "informeel-netwerk", "samenwerking", "wonen", "onbekend"]
TERMS = ["schulden", "buurvrouw", "school", "huur schulden", "wachtlijst", "de", "!!"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("columns") / "c.db"
    generate(path, 400, seed=3, email="o@example.nl", password="een lang wachtwoord 123")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    rng = random.Random(5)
    ids = [r[0] for r in conn.execute("SELECT id FROM stories")]
    for story in rng.sample(ids, 30):
        conn.execute("UPDATE stories SET status = 'withdrawn' WHERE id = ?", (story,))
    for story in rng.sample(ids, 40):
        conn.execute("UPDATE stories SET signifier_outcome = NULL WHERE id = ?", (story,))
    for story in rng.sample(ids, 60):
        conn.execute("UPDATE stories SET nlp_status = 'waiting' WHERE id = ?", (story,))
    for story in rng.sample(ids, 120):  # reviewers' decisions
        conn.execute(
            "INSERT OR IGNORE INTO story_themes"
            " (story_id, theme, source, score, evidence, decision)"
            " VALUES (?, ?, 'human:test', 1.0, '[]', ?)",
            (story, rng.choice(THEMES[:5]), rng.choice(["accept", "add", "reject"])),
        )
    conn.close()
    return path


def sql_counts(conn, flt: StoryFilter, facets: list[str]) -> dict:
    """The facet counts in plain SQL: the definition the snapshot must match."""
    where, params = flt.where("s")
    source = flt.theme_condition("e")

    def bucket(column):
        tops = [(b, b.split("-")[1]) for b in SIGNIFIER_BUCKETS]
        cases = " ".join(f"WHEN {column} <= {top} THEN '{b}'" for b, top in tops)
        return f"CASE WHEN {column} IS NULL THEN NULL {cases} END"

    exists = (
        "SELECT 'bron', '{0}', count(*) FROM f WHERE EXISTS (SELECT 1 FROM"
        " story_effective_themes e WHERE e.story_id = f.id AND e.{1} = 1)"
    )
    sql_of = {
        "total": "SELECT 'total', NULL, count(*) FROM f",
        "theme": "SELECT 'theme', e.theme, count(*) FROM f JOIN story_effective_themes e"
        f" ON e.story_id = f.id WHERE {source} GROUP BY e.theme",
        "bron": " UNION ALL ".join(exists.format(s, c) for s, c in SOURCE_COLUMN.items()),
        "team": "SELECT 'team', f.team_id, count(*) FROM f GROUP BY f.team_id",
        "municipality": "SELECT 'municipality', t.municipality_id, count(*) FROM f"
        " JOIN teams t ON t.id = f.team_id GROUP BY t.municipality_id",
        "period": "SELECT 'period', f.month, count(*) FROM f GROUP BY f.month",
        "role": "SELECT 'role', f.teller_role, count(*) FROM f GROUP BY f.teller_role",
        "difference": f"SELECT 'difference', {bucket('f.d')}, count(*) FROM f GROUP BY 2",
        "outcome": f"SELECT 'outcome', {bucket('f.o')}, count(*) FROM f GROUP BY 2",
    }
    sql = (
        "WITH f AS MATERIALIZED (SELECT s.id, s.team_id, s.month, s.teller_role,"
        " s.signifier_difference AS d, s.signifier_outcome AS o"
        f" FROM stories s WHERE {where}) " + " UNION ALL ".join(sql_of[name] for name in facets)
    )
    counts: dict = {name: {} for name in facets}
    for kind, value, n in conn.execute(sql, params):
        if value is not None:
            counts[kind][value] = n
        elif kind == "total":
            counts["total"] = n
    return counts


def sql_list(conn, flt: StoryFilter) -> list[int]:
    match = flt.match()
    where, params = flt.where("s", with_search=not match)
    if match:
        sql = (
            "SELECT s.id FROM stories s JOIN (SELECT rowid AS id, bm25(story_fts, 2.0, 1.0)"
            " AS rank FROM story_fts WHERE story_fts MATCH ?) r ON r.id = s.id"
            f" WHERE {where} ORDER BY r.rank, s.id DESC"
        )
        params = [match, *params]
    else:
        sql = f"SELECT s.id FROM stories s WHERE {where} ORDER BY s.month DESC, s.id DESC"
    return [r[0] for r in conn.execute(sql, params)]


def random_filter(rng: random.Random, teams: list, municipalities: list, roles: list):
    def some(values, k=2):
        return tuple(rng.sample(values, rng.randint(1, min(k, len(values)))))

    chosen = {}
    if rng.random() < 0.5:
        chosen["themes"] = some(THEMES)
    if rng.random() < 0.3:
        chosen["sources"] = some(list(SOURCE_COLUMN))
    if rng.random() < 0.3:
        chosen["teams"] = some(teams, 3)
    if rng.random() < 0.2:
        chosen["municipalities"] = some(municipalities)
    if rng.random() < 0.2:
        chosen["roles"] = some(roles)
    if rng.random() < 0.3:
        chosen["start"] = f"{rng.randint(2021, 2025)}-{rng.randint(1, 12):02d}"
    if rng.random() < 0.3:
        chosen["end"] = f"{rng.randint(2022, 2026)}-{rng.randint(1, 12):02d}"
    if rng.random() < 0.2:
        chosen["difference"] = some(list(SIGNIFIER_BUCKETS) + ["35-64"])
    if rng.random() < 0.2:
        chosen["outcome"] = some(list(SIGNIFIER_BUCKETS))
    if rng.random() < 0.4:
        chosen["q"] = rng.choice(TERMS)
    if rng.random() < 0.15:
        chosen["disagreement"] = some(THEMES[:5], 1)
    if rng.random() < 0.2:
        chosen["scope"] = some([int(t) for t in teams if t.isdecimal()], 4)
    return StoryFilter(**chosen)


def test_counts_and_lists_equal_the_sql_on_random_filters(corpus):
    conn = sqlite3.connect(corpus)
    teams = [str(r[0]) for r in conn.execute("SELECT id FROM teams")]
    teams += [r[0] for r in conn.execute("SELECT name FROM teams LIMIT 2")] + ["Geen team"]
    municipalities = [str(r[0]) for r in conn.execute("SELECT id FROM municipalities")]
    municipalities += [r[0] for r in conn.execute("SELECT name FROM municipalities LIMIT 1")]
    roles = [r[0] for r in conn.execute("SELECT DISTINCT teller_role FROM stories")] + ["x"]
    facets = ["total", "theme", "bron", "team", "municipality", "period", "role"]
    facets += ["difference", "outcome"]

    async def check():
        db = Database(corpus, readers=2)
        await db.open()
        try:
            await filters.begin(db)
            snap = await columns.snapshot(db)
            assert len(snap) == 370  # 400 generated, 30 withdrawn
            rng = random.Random(11)
            nonempty = 0
            for _ in range(300):
                flt = random_filter(rng, teams, municipalities, roles)
                matches = await columns.search_matches(db, flt)
                keep = columns.select(snap, flt, matches)
                expected = sql_counts(conn, flt, facets)
                assert columns.count(snap, keep, facets, flt) == expected, flt
                listed = sql_list(conn, flt)
                assert columns.listed_ids(snap, keep, matches, 10_000, 0) == listed, flt
                assert columns.listed_ids(snap, keep, matches, 7, 3) == listed[3:10], flt
                nonempty += bool(listed)
            assert nonempty > 100  # the filters are not all empty
        finally:
            await db.close()
            conn.close()

    asyncio.run(check())
