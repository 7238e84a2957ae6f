"""Facet counts and story lists from a column snapshot of the research data (numpy).

The story list's facets count, for any filter, how many stories have each theme, team,
municipality, month, role, signifier range and tag source. In SQL that is a dozen passes
over the selected stories and their themes: about a second for the whole corpus at 100,000
stories, and every new story invalidates it. Here the few columns those counts need live in
memory as arrays (about 5 MB at 100,000 stories: ids, team, municipality, month, role,
signifiers, and per tag source a bit set of themes), so a filter is a handful of vectorised
comparisons and each facet a `bincount`: milliseconds for any filter.

The snapshot is one cached value of the research cache (filters.cached): rebuilt when the
data change, lagging behind new stories by at most a few seconds on a large corpus and
never behind a withdrawal, deletion or edit. Full-text search stays in SQLite's FTS5: the
matching ids (with their bm25 rank) are fetched once per search and intersected here.

`StoryFilter.where()` (the SQL) remains the one definition of a selection for exports, the
API's SQL paths and patterns; tests/test_columns.py checks on random filters that the
counts and lists here equal what that SQL selects.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import numpy as np

from .db import Database, patient
from .filters import (
    SIGNIFIER_BUCKETS,
    SOURCE_COLUMN,
    StoryFilter,
    cached,
    ids_and_names,
    note_corpus_size,
    parse_range,
)

SNAPSHOT_PATIENCE = 5  # times the query time limit
BUCKET_TOPS = np.array([int(b.split("-")[1]) for b in SIGNIFIER_BUCKETS])


@dataclass
class Snapshot:
    """One row per confirmed story, in list order: newest month first, then highest id."""

    ids: np.ndarray  # int64
    team: np.ndarray  # int64 team id
    municipality: np.ndarray  # int64
    month: np.ndarray  # int64, YYYYMM
    month_code: np.ndarray  # int64 index into months
    months: list[str]
    role: np.ndarray  # int64 index into roles
    roles: list[str]
    difference: np.ndarray  # float64, nan where not given
    outcome: np.ndarray
    difference_bucket: np.ndarray  # int64 index into SIGNIFIER_BUCKETS, -1 where not given
    outcome_bucket: np.ndarray
    nlp_done: np.ndarray  # bool
    bits: dict[str, np.ndarray]  # "teller" / "nlp" / "reviewed" / "any": uint64 theme bits
    theme_bit: dict[str, int]
    team_ids_by_name: dict[str, list[int]]
    municipality_of_team: dict[int, int]
    municipality_ids_by_name: dict[str, list[int]]

    def __len__(self) -> int:
        return len(self.ids)


def month_number(month: str) -> int:
    return int(month[:4]) * 100 + int(month[5:7])


def month_text(number: int) -> str:
    return f"{number // 100:04d}-{number % 100:02d}"


def _read(connection: sqlite3.Connection) -> Snapshot:
    conn = connection.cursor()
    conn.row_factory = None  # plain tuples: sqlite3.Row objects double the time for 100,000
    teams = conn.execute("SELECT id, name, municipality_id FROM teams").fetchall()
    municipalities = conn.execute("SELECT id, name FROM municipalities").fetchall()
    themes = [r[0] for r in conn.execute("SELECT DISTINCT theme FROM story_effective_themes")]
    themes = sorted(themes)[:63]  # bits of an SQLite integer; a taxonomy has ten or so
    theme_bit = {theme: i for i, theme in enumerate(themes)}
    rows = conn.execute(
        "SELECT id, team_id, month, teller_role, signifier_difference, signifier_outcome,"
        " nlp_status = 'done' FROM stories WHERE status = 'confirmed'"
        " ORDER BY month DESC, id DESC"
    ).fetchall()
    n = len(rows)
    columns = list(zip(*rows, strict=True)) if rows else [()] * 7
    ids = np.array(columns[0], dtype=np.int64)
    team = np.array(columns[1], dtype=np.int64)
    municipality_of_team = {team_id: municipality for team_id, _, municipality in teams}
    roles = sorted(set(columns[3]))
    role_index = {r: i for i, r in enumerate(roles)}

    def signifier(values) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    bits = {name: np.zeros(n, dtype=np.uint64) for name in (*SOURCE_COLUMN, "any")}
    if themes:
        case = " ".join(f"WHEN ? THEN {1 << i}" for i in range(len(themes)))
        tagged = conn.execute(
            "SELECT story_id, sum(bit * by_teller), sum(bit * by_nlp), sum(bit * reviewed),"
            f" sum(bit) FROM (SELECT story_id, CASE theme {case} ELSE 0 END AS bit,"
            " by_teller, by_nlp, reviewed FROM story_effective_themes) GROUP BY story_id",
            themes,
        ).fetchall()
        if tagged and n:
            tagged_ids = np.array([r[0] for r in tagged], dtype=np.int64)
            order = np.argsort(ids)
            found = np.searchsorted(ids, tagged_ids, sorter=order)
            found = np.minimum(found, n - 1)
            rows_of = order[found]
            present = ids[rows_of] == tagged_ids  # themes of stories not confirmed: ignored
            for column, name in enumerate((*SOURCE_COLUMN, "any"), start=1):
                values = np.array([r[column] for r in tagged], dtype=np.uint64)
                bits[name][rows_of[present]] = values[present]
    month = np.array([month_number(m) for m in columns[2]], dtype=np.int64)
    months, month_code = np.unique(month, return_inverse=True)
    difference, outcome = signifier(columns[4]), signifier(columns[5])
    return Snapshot(
        ids=ids,
        team=team,
        municipality=np.array(
            [municipality_of_team.get(t, 0) for t in columns[1]], dtype=np.int64
        ),
        month=month,
        month_code=month_code.astype(np.int64),
        months=[month_text(m) for m in months.tolist()],
        role=np.array([role_index[r] for r in columns[3]], dtype=np.int64),
        roles=roles,
        difference=difference,
        outcome=outcome,
        difference_bucket=_buckets(difference),
        outcome_bucket=_buckets(outcome),
        nlp_done=np.array(columns[6], dtype=bool),
        bits=bits,
        theme_bit=theme_bit,
        team_ids_by_name=_by_name(teams),
        municipality_of_team=municipality_of_team,
        municipality_ids_by_name=_by_name(municipalities),
    )


def _buckets(values: np.ndarray) -> np.ndarray:
    out = np.searchsorted(BUCKET_TOPS, np.nan_to_num(values, nan=0), side="left")
    return np.where(np.isnan(values), -1, out).astype(np.int64)


def _by_name(rows) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row_id, name, *_ in rows:
        out.setdefault(name, []).append(row_id)
    return out


async def snapshot(db: Database) -> Snapshot:
    async def read() -> Snapshot:
        # Every facet needs it: on a busy machine let it take longer than one query may.
        with patient(SNAPSHOT_PATIENCE):
            snap = await db.run(_read, time_limit=True)
        note_corpus_size(db, len(snap))
        return snap

    return await cached(db, ("columns",), read)


# --- selecting ---------------------------------------------------------------------------


def _ids(values, by_name: dict[str, list[int]]) -> list[int]:
    """Ids given as numbers or exact names, as StoryFilter.where() reads them."""
    ids, names = ids_and_names(values)
    return ids + [i for name in names for i in by_name.get(name, [])]


def _theme_mask(snap: Snapshot, flt: StoryFilter) -> np.ndarray:
    """Bits of each story's themes that count under the chosen sources."""
    if not flt.sources:
        return snap.bits["any"]
    out = np.zeros(len(snap), dtype=np.uint64)
    for source in flt.sources:
        out |= snap.bits[source]
    return out


def _in_ranges(values: np.ndarray, ranges) -> np.ndarray:
    keep = np.zeros(len(values), dtype=bool)
    for r in ranges:
        low, high = parse_range(r)
        keep |= (values >= low) & (values <= high)  # nan compares False: not given
    return keep


def select(snap: Snapshot, flt: StoryFilter, matches) -> np.ndarray:
    """A boolean mask over the snapshot: exactly the stories flt.where() selects.
    `matches`: what search_matches() found (None without a search)."""
    keep = np.ones(len(snap), dtype=bool)
    if flt.scope is not None:
        keep &= np.isin(snap.team, list(flt.scope))
    counted = _theme_mask(snap, flt)
    for theme in flt.themes:
        bit = snap.theme_bit.get(theme)
        if bit is None:
            return np.zeros(len(snap), dtype=bool)
        keep &= (counted & np.uint64(1 << bit)) != 0
    if flt.sources and not flt.themes:
        keep &= counted != 0
    if flt.teams:
        keep &= np.isin(snap.team, _ids(flt.teams, snap.team_ids_by_name))
    if flt.municipalities:
        wanted = _ids(flt.municipalities, snap.municipality_ids_by_name)
        keep &= np.isin(snap.municipality, wanted)
    if flt.roles:
        codes = [i for i, role in enumerate(snap.roles) if role in flt.roles]
        keep &= np.isin(snap.role, codes)
    if flt.start:
        keep &= snap.month >= month_number(flt.start)
    if flt.end:
        keep &= snap.month <= month_number(flt.end)
    if flt.difference:
        keep &= _in_ranges(snap.difference, flt.difference)
    if flt.outcome:
        keep &= _in_ranges(snap.outcome, flt.outcome)
    for theme in flt.disagreement:
        bit = snap.theme_bit.get(theme)
        if bit is None:
            return np.zeros(len(snap), dtype=bool)
        differ = (snap.bits["teller"] ^ snap.bits["nlp"]) & np.uint64(1 << bit)
        keep &= snap.nlp_done & (differ != 0)
    if flt.q:
        if matches is None:  # only stop signs or punctuation: nothing matches
            return np.zeros(len(snap), dtype=bool)
        keep &= np.isin(snap.ids, matches[0])
    return keep


async def search_matches(db: Database, flt: StoryFilter) -> tuple[np.ndarray, np.ndarray] | None:
    """(ids, bm25 ranks) of every story the search matches, best first; None without one."""
    match = flt.match()
    if match is None:
        return None

    def read(conn):
        rows = conn.execute(
            "SELECT rowid, bm25(story_fts, 2.0, 1.0) FROM story_fts WHERE story_fts MATCH ?",
            (match,),
        ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        ranks = np.array([r[1] for r in rows], dtype=np.float64)
        order = np.lexsort((-ids, ranks))  # rank, then newest id: as the SQL list orders
        return ids[order], ranks[order]

    return await cached(db, ("fts", match), lambda: db.run(read, time_limit=True))


# --- counting and listing ----------------------------------------------------------------


def _by_code(codes: np.ndarray, label=lambda code: code) -> dict:
    """{label(code): count} for codes that occur (small non-negative integers)."""
    counts = np.bincount(codes[codes >= 0]) if len(codes) else np.zeros(0, dtype=np.int64)
    return {label(code): int(counts[code]) for code in np.flatnonzero(counts).tolist()}


def count(snap: Snapshot, keep: np.ndarray, facets: list[str], flt: StoryFilter) -> dict:
    """Per facet value, how many kept stories have it (as browse's facets expect)."""
    out: dict = {}
    for facet in facets:
        if facet == "total":
            out["total"] = int(keep.sum())
        elif facet == "theme":
            counted = _theme_mask(snap, flt)[keep]
            out["theme"] = {
                theme: n
                for theme, bit in snap.theme_bit.items()
                if (n := int(np.count_nonzero(counted & np.uint64(1 << bit))))
            }
        elif facet == "bron":
            out["bron"] = {s: int(np.count_nonzero(snap.bits[s][keep])) for s in SOURCE_COLUMN}
        elif facet == "team":
            out["team"] = _by_code(snap.team[keep])
        elif facet == "municipality":
            out["municipality"] = _by_code(snap.municipality[keep])
        elif facet == "period":
            out["period"] = _by_code(snap.month_code[keep], lambda i: snap.months[i])
        elif facet == "role":
            out["role"] = _by_code(snap.role[keep], lambda i: snap.roles[i])
        elif facet in ("difference", "outcome"):
            codes = getattr(snap, f"{facet}_bucket")[keep]
            out[facet] = _by_code(codes, lambda i: SIGNIFIER_BUCKETS[i])
    return out


def listed_ids(
    snap: Snapshot, keep: np.ndarray, matches, limit: int, offset: int
) -> list[int]:
    """The ids of one page: best match first when searching, else newest first."""
    if matches is None:
        return snap.ids[keep][offset : offset + limit].tolist()
    ids, _ = matches
    kept = ids[np.isin(ids, snap.ids[keep])]
    return kept[offset : offset + limit].tolist()
