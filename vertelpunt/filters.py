"""What a researcher has selected: `StoryFilter`, from a query string to SQL and back.

One plain object serves every research view: the story list and its facets, the patterns,
the JSON API (`GET /api/v1/stories?theme=&q=&team=&municipality=&from=&to=`) and exports, so
"export what is on screen" means: the same StoryFilter, the same SQL.

Query string (repeat a key for several values):
    theme=armoede&theme=wonen    stories with ALL these themes (effective themes: see
                                 migrations/0003_research.sql, view effective_themes)
    bron=teller|nlp|reviewed     count a theme only when it comes from these sources (any)
    team=, municipality=         ids, or exact names (the API accepts names); any of them
    role=                        teller roles; any of them
    from=YYYY-MM, to=YYYY-MM     period, inclusive
    difference=0-19, outcome=    signifier ranges (0-100); any of them
    q=                           full-text search (vertelpunt/search.py)
    disagreement=armoede         stories where teller and tagger disagree on this theme
    per=month|quarter            how periods are shown (does not change which stories);
                                 without it: months, or quarters when they span > 2 years
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from urllib.parse import urlencode

from . import search
from .db import Database, patient

SOURCES = ("teller", "nlp", "reviewed")
SOURCE_COLUMN = {"teller": "by_teller", "nlp": "by_nlp", "reviewed": "reviewed"}
SIGNIFIER_BUCKETS = ("0-19", "20-39", "40-59", "60-79", "80-100")
INTERVALS = ("month", "quarter")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_RANGE = re.compile(r"^(\d{1,3})-(\d{1,3})$")
MAX_VALUES = 20  # per key: a query string cannot make the SQL arbitrarily long
MAX_VALUE_LEN = 120

# query-string key -> StoryFilter field, for the multi-valued keys
MULTI = {
    "theme": "themes",
    "bron": "sources",
    "team": "teams",
    "municipality": "municipalities",
    "role": "roles",
    "difference": "difference",
    "outcome": "outcome",
    "disagreement": "disagreement",
}


@dataclass(frozen=True)
class StoryFilter:
    themes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    start: str = ""  # from, YYYY-MM
    end: str = ""  # to, YYYY-MM
    difference: tuple[str, ...] = ()
    outcome: tuple[str, ...] = ()
    q: str = ""
    disagreement: tuple[str, ...] = ()
    interval: str = ""  # "month", "quarter", or "" to choose by the span (resolve_interval)
    # The teams this reader may see (None: all). Set by the handler, never from the URL.
    scope: tuple[int, ...] | None = None

    # --- from and to the query string -------------------------------------------------------

    @classmethod
    def from_params(cls, params: Mapping, scope: list[int] | None = None) -> StoryFilter:
        """From request.query_params (or any mapping with getlist); bad values are dropped."""

        def many(key: str) -> list[str]:
            values = (
                params.getlist(key) if hasattr(params, "getlist") else _as_list(params.get(key))
            )
            out = []
            for value in values:
                value = str(value).strip()[:MAX_VALUE_LEN]
                if value and value not in out:
                    out.append(value)
            return out[:MAX_VALUES]

        def month(key: str) -> str:
            value = (many(key) or [""])[0]
            return value if _MONTH.match(value) else ""

        values = {field: tuple(many(key)) for key, field in MULTI.items()}
        values["sources"] = tuple(s for s in values["sources"] if s in SOURCES)
        values["difference"] = tuple(r for r in values["difference"] if parse_range(r))
        values["outcome"] = tuple(r for r in values["outcome"] if parse_range(r))
        interval = (many("per") or [""])[0]
        return cls(
            **values,
            start=month("from"),
            end=month("to"),
            q=" ".join((many("q") or [""])[0].split())[:200],
            interval=interval if interval in INTERVALS else "",
            scope=tuple(scope) if scope is not None else None,
        )

    def to_params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if self.q:
            params.append(("q", self.q))
        for key, field in MULTI.items():
            params += [(key, value) for value in getattr(self, field)]
        if self.start:
            params.append(("from", self.start))
        if self.end:
            params.append(("to", self.end))
        if self.interval:
            params.append(("per", self.interval))
        return params

    def query_string(self) -> str:
        return urlencode(self.to_params())

    def url(self, base: str) -> str:
        query = self.query_string()
        return f"{base}?{query}" if query else base

    # --- changing the selection ---------------------------------------------------------

    def toggle(self, key: str, value: str) -> StoryFilter:
        """The filter with `value` of a multi-valued key switched on or off."""
        field = MULTI[key]
        current = getattr(self, field)
        new = tuple(v for v in current if v != value) if value in current else (*current, value)
        return replace(self, **{field: new})

    def with_values(self, **changes) -> StoryFilter:
        return replace(self, **changes)

    def without(self, facet: str) -> StoryFilter:
        """The filter without one facet's selection ('period' clears from and to)."""
        if facet == "period":
            return replace(self, start="", end="")
        return replace(self, **{MULTI[facet]: ()})

    def is_empty(self) -> bool:
        return not self.to_params() or self.to_params() == [("per", self.interval)]

    def cache_key(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self) if f.name != "interval")

    # --- SQL -----------------------------------------------------------------------------

    def theme_condition(self, alias: str = "e") -> str:
        """SQL on a story_effective_themes row: does it count under the chosen sources?"""
        if not self.sources:
            return "1"
        return "(" + " OR ".join(f"{alias}.{SOURCE_COLUMN[s]} = 1" for s in self.sources) + ")"

    def where(self, alias: str = "s", with_search: bool = True) -> tuple[str, list]:
        """A WHERE clause on `stories AS alias` selecting exactly the filtered stories."""
        s = alias
        sql, params = [f"{s}.status = 'confirmed'"], []
        if self.scope is not None:
            sql.append(f"{s}.team_id IN ({_marks(self.scope)})")
            params += list(self.scope)
        source = self.theme_condition("e")
        for theme in self.themes:
            sql.append(
                f"{s}.id IN (SELECT e.story_id FROM story_effective_themes e"
                f" WHERE e.theme = ? AND {source})"
            )
            params.append(theme)
        if self.sources and not self.themes:
            sql.append(
                f"{s}.id IN (SELECT e.story_id FROM story_effective_themes e WHERE {source})"
            )
        if self.teams:
            ids, names = ids_and_names(self.teams)
            sql.append(
                f"{s}.team_id IN (SELECT id FROM teams WHERE id IN ({_marks(ids)})"
                f" OR name IN ({_marks(names)}))"
            )
            params += ids + names
        if self.municipalities:
            ids, names = ids_and_names(self.municipalities)
            sql.append(
                f"{s}.team_id IN (SELECT t.id FROM teams t JOIN municipalities m"
                f" ON m.id = t.municipality_id WHERE m.id IN ({_marks(ids)})"
                f" OR m.name IN ({_marks(names)}))"
            )
            params += ids + names
        if self.roles:
            sql.append(f"{s}.teller_role IN ({_marks(self.roles)})")
            params += list(self.roles)
        if self.start:
            sql.append(f"{s}.month >= ?")
            params.append(self.start)
        if self.end:
            sql.append(f"{s}.month <= ?")
            params.append(self.end)
        for column, ranges in (
            ("signifier_difference", self.difference),
            ("signifier_outcome", self.outcome),
        ):
            if ranges:
                sql.append("(" + " OR ".join(f"{s}.{column} BETWEEN ? AND ?" for _ in ranges) + ")")
                for r in ranges:
                    params += list(parse_range(r))
        for theme in self.disagreement:
            # Teller and tagger disagree on an effective theme: exactly one of them gave it.
            sql.append(
                f"({s}.nlp_status = 'done' AND {s}.id IN (SELECT e.story_id FROM"
                " story_effective_themes e WHERE e.theme = ? AND e.by_teller != e.by_nlp))"
            )
            params.append(theme)
        match = self.match()
        if with_search and match:
            sql.append(f"{s}.id IN (SELECT rowid FROM story_fts WHERE story_fts MATCH ?)")
            params.append(match)
        elif with_search and self.q:
            sql.append("0")  # only stop signs or punctuation: nothing matches
        return " AND ".join(sql), params

    def match(self) -> str | None:
        return search.fts_query(self.q) if self.q else None


def parse_range(value: str) -> tuple[int, int] | None:
    m = _RANGE.match(value or "")
    if not m:
        return None
    low, high = int(m.group(1)), int(m.group(2))
    return (low, high) if 0 <= low <= high <= 100 else None


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _marks(values) -> str:
    return ",".join("?" * len(values)) or "NULL"


def ids_and_names(values) -> tuple[list, list]:
    # isdecimal and a length limit: int() refuses '²' and numbers over 4300 digits, and
    # SQLite integers over 2**63 (found by tests/test_fuzz.py).
    ids = [int(v) for v in values if v.isdecimal() and len(v) < 10]
    names = [v for v in values if not (v.isdecimal() and len(v) < 10)]
    return ids, names


# --- periods -------------------------------------------------------------------------------


def quarter_of(month: str) -> str:
    """'2025-05' -> '2025-K2' (K for kwartaal)."""
    year, mm = month.split("-")
    return f"{year}-K{(int(mm) - 1) // 3 + 1}"


def quarter_range(quarter: str) -> tuple[str, str]:
    year, q = quarter.split("-K")
    first = (int(q) - 1) * 3 + 1
    return f"{year}-{first:02d}", f"{year}-{first + 2:02d}"


AUTO_QUARTERS_AFTER = 24  # months: a longer span is shown per quarter unless asked otherwise


def resolve_interval(interval: str, months) -> str:
    """The chosen interval, or by the span of the months present: per month up to two
    years, per quarter beyond (sixty monthly columns are hard to read and to render)."""
    if interval:
        return interval
    months = list(months)
    if not months:
        return "month"
    (y1, m1), (y2, m2) = (map(int, min(months).split("-"))), (map(int, max(months).split("-")))
    return "quarter" if (y2 - y1) * 12 + m2 - m1 + 1 > AUTO_QUARTERS_AFTER else "month"


def period_of(month: str, interval: str) -> str:
    return quarter_of(month) if interval == "quarter" else month


def period_range(period: str) -> tuple[str, str]:
    return quarter_range(period) if "-K" in period else (period, period)


def period_label(period: str) -> str:
    if "-K" in period:
        year, q = period.split("-K")
        return f"{year} kwartaal {q}"
    year, mm = period.split("-")
    return f"{MONTHS_NL[int(mm) - 1]} {year}"


MONTHS_NL = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]


# --- a cache that follows the data ---------------------------------------------------------

CACHE_SIZE = 512
SLOW_COMPUTE = 0.25  # seconds: a value this costly may lag behind new stories (see cached)
LARGE_CORPUS = 5_000  # confirmed stories: from here on, every cached value may lag
LAG_PER_COST = 10  # ... refreshed at most once per 10 x its cost: at most ~10 % of a core
MIN_LAG = 5  # seconds
MAX_STALE = 300  # seconds: older than this, a changed value is always recomputed first
BACKGROUND_PATIENCE = 10  # background refreshes may take 10 x the query time limit
BACKGROUND_PAUSE = 3  # ... and are followed by a pause of 3 x their duration


@dataclass(frozen=True)
class DataVersion:
    """research_state: `version` changes with any change to what research views show,
    `removals` only when something leaves or changes (migrations/0004)."""

    version: int
    removals: int


@dataclass
class _Entry:
    version: DataVersion
    value: object
    cost: float
    computed_at: float


_cache: OrderedDict[tuple, _Entry] = OrderedDict()
_running: dict[tuple, asyncio.Future] = {}
_background: set[asyncio.Task] = set()
_refreshing: dict[tuple, asyncio.Task] = {}
_large: dict[str, bool] = {}  # per database: is the corpus large? (noted by columns.snapshot)


def note_corpus_size(db: Database, stories: int) -> None:
    _large[str(db.path)] = stories >= LARGE_CORPUS
log = logging.getLogger(__name__)


_request_version: ContextVar[tuple[str, DataVersion] | None] = ContextVar(
    "research_version", default=None
)
_STATE = "SELECT version, removals FROM research_state WHERE id = 1"


async def begin(db: Database) -> DataVersion:
    """Start a research request: index what waits in the search queue, then read the data
    version once for the whole request (one query, where each cached value would otherwise
    ask again). Returns the version."""
    row = await db.fetchone(
        "SELECT version, removals, EXISTS (SELECT 1 FROM search_queue) AS pending"
        " FROM research_state WHERE id = 1"
    )
    if row is not None and row["pending"]:
        await search.sync_search_index(db)
        row = await db.fetchone(_STATE)
    version = _data_version(row)
    _request_version.set((str(db.path), version))
    return version


def _data_version(row) -> DataVersion:
    return DataVersion(row["version"], row["removals"]) if row else DataVersion(0, 0)


async def research_version(db: Database) -> DataVersion:
    known = _request_version.get()
    if known is not None and known[0] == str(db.path):
        return known[1]
    return _data_version(await db.fetchone(_STATE))


async def cached(db: Database, key: tuple, compute: Callable[[], Awaitable]):
    """compute() once per (database, data version, key).

    Every change to stories, tags, lessons, names or the search index raises
    research_state.version (triggers), so a cached facet count or pattern follows the data.
    Two refinements keep pages fast under load on a large corpus, where tellers keep adding
    stories and the tagger keeps tagging them:
    - single flight: requests that need a value while it is being computed wait for that
      one computation, so twenty researchers opening the patterns page after a change cost
      one computation, not twenty competing for the readers;
    - bounded lag behind additions: a value that took more than SLOW_COMPUTE seconds, or
      any value of a corpus of LARGE_CORPUS stories or more (there a stream of new stories
      would otherwise recompute a 100 ms search on nearly every request), is
      served as it was after new stories or tags arrive, and refreshed in the background
      once it is older than LAG_PER_COST times its cost (at least MIN_LAG seconds). The
      whole-corpus patterns page (~2 s at 100,000 stories) thus follows new stories within
      about 20 s, at a tenth of a core. Removals are never lagged: once a story is withdrawn,
      deleted or edited, or labels or the small-number threshold change (research_state.
      removals), no value computed before is served again. Small corpora, and so the tests,
      always get fresh values.
    """
    version = await research_version(db)
    full_key = (str(db.path), *key)
    entry = _cache.get(full_key)
    if entry is not None and entry.version == version:
        _cache.move_to_end(full_key)
        return entry.value
    if (
        entry is not None
        and entry.version.removals == version.removals
        and (entry.cost >= SLOW_COMPUTE or _large.get(str(db.path), False))
    ):
        age = time.monotonic() - entry.computed_at
        if age < MAX_STALE:
            _cache.move_to_end(full_key)  # in use: not the least recently used
            due = age >= max(MIN_LAG, LAG_PER_COST * entry.cost)
            if due and full_key not in _refreshing:  # one refresh per value at a time
                task = asyncio.ensure_future(_refresh(full_key, version, compute))
                _refreshing[full_key] = task
                _background.add(task)
                task.add_done_callback(_background_done)
                task.add_done_callback(lambda _: _refreshing.pop(full_key, None))
            return entry.value
    return await _compute(full_key, version, compute)


async def _compute(full_key: tuple, version: DataVersion, compute: Callable[[], Awaitable]):
    running = _running.get((full_key, version))
    if running is None:

        async def run():
            started = time.monotonic()
            value = await compute()
            _cache[full_key] = _Entry(version, value, time.monotonic() - started, started)
            _cache.move_to_end(full_key)
            if len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
            return value

        running = _running[(full_key, version)] = asyncio.ensure_future(run())
        running.add_done_callback(lambda _: _running.pop((full_key, version), None))
    return await asyncio.shield(running)


async def _refresh(full_key: tuple, version: DataVersion, compute: Callable[[], Awaitable]):
    async with background_turn():
        return await _compute(full_key, version, compute)


_turns: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@asynccontextmanager
async def background_turn():
    """Background refreshes (and the start-up warm-up) take turns: one at a time, each
    followed by a pause of BACKGROUND_PAUSE times its duration, so that with many views
    lagging behind a stream of new stories their refreshing takes at most a quarter of a
    core, and pages keep the rest. Queries inside may take longer than the time limit:
    nobody waits for them."""
    lock = _turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        started = time.monotonic()
        try:
            with patient(BACKGROUND_PATIENCE):
                yield
        finally:
            await asyncio.sleep(BACKGROUND_PAUSE * (time.monotonic() - started))


def _background_done(task: asyncio.Task) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("refreshing a research view failed: %s", task.exception())
