"""Dutch full-text search over the masked stories, and the stored "similar stories".

Why stems, and why Snowball's classic Dutch stemmer (PyStemmer): a researcher who types
"ondersteuning" means stories that say "ondersteunen" or "ondersteund" too. The pipeline's
lemmatizer (simplemma) maps each word to its dictionary form, and the noun and the verb stay
two lemmas ("ondersteuning", "ondersteunen"); a stemmer cuts both to "ondersteun", which is
what retrieval wants. Snowball runs in C (about a million words a second), needs no model
and gives the same stem on every machine. We use the classic algorithm (`dutch_porter` in
Snowball 3, plain `dutch` before): Snowball 3's new default strips the prefix "ge-", so
"gezin" (family) and "zin" (sentence), or "gemeente" and "meen", would become one term,
which is wrong for a corpus about families and municipalities.

The FTS5 table `story_fts` (migrations/0003_research.sql) holds only stems, in two columns
(title, text + lesson), ranked with bm25 (title weighted double). Snippets are cut from the
masked stories.text in Python: the text is escaped first, then the words whose stem matches
are wrapped in <mark>, so nothing a teller typed can ever become markup.

Keeping the index in sync: triggers queue every story that becomes confirmed (search_queue)
and delete a withdrawn story's row from the index; `sync_search_index()` stems and indexes
the queue (the research pages call it before they read, so a search never misses a
confirmed story). FTS5 in SQLite 3.40 keeps a deleted row's terms in its segment b-trees
until they are merged, so `purge_deleted_terms()` runs FTS5's 'optimize' after a withdrawal.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import sqlite3
import threading
import weakref

import Stemmer
from markupsafe import Markup, escape

from nlp import similarity

from .db import Database

log = logging.getLogger(__name__)
WORD = re.compile(r"\w+")
_PHRASE = re.compile(r'"([^"]*)"')
ALGORITHM = "dutch_porter" if "dutch_porter" in Stemmer.algorithms() else "dutch"
MAX_QUERY_TERMS = 12
SNIPPET_CHARS = 240
SMALL_CORPUS = 2_000  # up to here, similar stories are recomputed right after indexing
_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    # A PyStemmer object is not thread-safe; one per thread (its word cache is per object).
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer(ALGORITHM)
    return stemmer


def words(text: str) -> list[str]:
    return WORD.findall((text or "").lower())


def stems(text: str) -> list[str]:
    """The stem of every word, in order (stop words kept: phrases and bm25 need them)."""
    return _stemmer().stemWords(words(text))


def stem_word(word: str) -> str:
    return _stemmer().stemWord(word.lower())


def _stop_stems() -> frozenset[str]:
    from spacy.lang.nl.stop_words import STOP_WORDS

    extra = {
        "persoon",
        "adres",
        "postcode",
        "telefoon",
        "email",
        "url",
        "bsn",
        "iban",
        "kenteken",
        "datum",
        "leeftijd",
        "dossiernummer",
        "instelling",
    }  # mask labels
    return frozenset(Stemmer.Stemmer(ALGORITHM).stemWords(sorted(STOP_WORDS | extra)))


STOP_STEMS = _stop_stems()


def content_stems(text: str) -> list[str]:
    """Stems without stop words, numbers and one-letter words: the terms that carry meaning
    (distinctive terms, similarity)."""
    return [s for s in stems(text) if len(s) > 1 and not s.isdigit() and s not in STOP_STEMS]


# --- queries and snippets ------------------------------------------------------------------


def parse_query(q: str) -> list[list[str]]:
    """The search text as a list of phrases of stems; a single word is a one-stem phrase.
    "schuld eenzaam" finds stories with both; "vaste lasten" in quotes finds the phrase."""
    phrases = [stems(p) for p in _PHRASE.findall(q or "")]
    rest = _PHRASE.sub(" ", q or "")
    phrases += [[s] for s in stems(rest)]
    return [p for p in phrases if p][:MAX_QUERY_TERMS]


def fts_query(q: str) -> str | None:
    """An FTS5 MATCH expression built only from quoted stems, so no search text can be read
    as FTS5 syntax. None when there is nothing to search for."""
    phrases = parse_query(q)
    if not phrases:
        return None
    return " AND ".join('"' + " ".join(p) + '"' for p in phrases)


def query_stems(q: str) -> frozenset[str]:
    return frozenset(s for phrase in parse_query(q) for s in phrase)


def snippet(text: str, q: str, width: int = SNIPPET_CHARS) -> Markup:
    """A piece of the text around the best cluster of matching words, escaped, with the
    matches in <mark>. Without a search, the start of the text."""
    text = text or ""
    wanted = query_stems(q)
    matches = []
    if wanted:
        stemmer = _stemmer()
        matches = [m for m in WORD.finditer(text) if stemmer.stemWord(m.group().lower()) in wanted]
    if not matches:
        cut = text[:width]
        return Markup(escape(cut) + ("…" if len(text) > width else ""))
    # The window of `width` characters that holds the most matches.
    best, best_count = 0, 0
    for i, m in enumerate(matches):
        count = sum(1 for n in matches[i:] if n.end() - m.start() <= width)
        if count > best_count:
            best, best_count = i, count
    start = max(0, matches[best].start() - width // 4)
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = min(len(text), start + width)
    while end < len(text) and not text[end - 1].isspace():
        end += 1
    out, cursor = [], start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        out.append(escape(text[cursor : m.start()]))
        out.append(Markup("<mark>") + escape(m.group()) + Markup("</mark>"))
        cursor = m.end()
    out.append(escape(text[cursor:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return Markup(prefix + "".join(str(piece) for piece in out) + suffix)


# --- keeping the index in sync -------------------------------------------------------------


async def sync_search_index(db: Database, limit: int = 500) -> int:
    """Stem and index confirmed stories waiting in search_queue; return how many.

    Cheap when there is nothing to do (one indexed read), so pages call it before reading.
    """
    queued = await db.fetchall("SELECT story_id FROM search_queue LIMIT ?", (limit,))
    if not queued:
        return 0
    ids = [row["story_id"] for row in queued]
    rows = await db.fetchall(
        f"SELECT id, title, text, lesson FROM stories WHERE status = 'confirmed'"
        f" AND id IN ({','.join('?' * len(ids))})",
        ids,
    )
    docs = await asyncio.to_thread(_stem_rows, rows)
    done = 0
    async with db.write() as conn:
        for story_id in ids:
            # Re-check inside the transaction: another request may have indexed it already,
            # or the story was withdrawn meanwhile (a trigger emptied its queue row).
            cursor = await conn.execute("DELETE FROM search_queue WHERE story_id = ?", (story_id,))
            if cursor.rowcount == 0 or story_id not in docs:
                continue
            await conn.execute("DELETE FROM story_fts WHERE rowid = ?", (story_id,))
            await conn.execute(
                "INSERT INTO story_fts (rowid, title_stems, text_stems) VALUES (?, ?, ?)",
                (story_id, *docs[story_id]),
            )
            done += 1
        if done:
            await conn.execute("UPDATE research_state SET version = version + 1 WHERE id = 1")
    if done:
        total = await db.fetchone("SELECT count(*) AS n FROM story_fts")
        if total["n"] <= SMALL_CORPUS:
            await refresh_neighbours(db)
        else:
            # Tens of milliseconds a story: not on the path of the page that called us.
            task = asyncio.create_task(_add_neighbours_in_turn(db, [i for i in ids if i in docs]))
            _neighbour_tasks.add(task)
            task.add_done_callback(_neighbour_task_done)
    return done


_neighbour_tasks: set[asyncio.Task] = set()
_neighbour_locks: weakref.WeakKeyDictionary[Database, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def _add_neighbours_in_turn(db: Database, story_ids: list[int]) -> None:
    """One batch at a time, so two batches never rewrite the same top-5 lists at once."""
    async with _neighbour_locks.setdefault(db, asyncio.Lock()):
        total = await db.fetchone("SELECT count(*) AS n FROM story_fts")
        await add_neighbours(db, story_ids, total["n"])


async def settle() -> None:
    """Wait until similar stories being added in the background are stored (tests, CLI)."""
    while _neighbour_tasks:
        await asyncio.gather(*list(_neighbour_tasks), return_exceptions=True)


def _neighbour_task_done(task: asyncio.Task) -> None:
    _neighbour_tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        # The nightly batch (python -m vertelpunt.search) fills in what is missing.
        log.warning("similar stories for new stories failed: %s", task.exception())


def _stem_rows(rows) -> dict[int, tuple[str, str]]:
    return {
        row["id"]: (
            " ".join(stems(row["title"])),
            " ".join(stems(f"{row['text'] or ''}\n{row['lesson'] or ''}")),
        )
        for row in rows
    }


async def index_all(db: Database) -> int:
    """Queue every confirmed story and index them all (after a bulk import)."""
    async with db.write() as conn:
        await conn.execute(
            "INSERT OR IGNORE INTO search_queue (story_id)"
            " SELECT id FROM stories WHERE status = 'confirmed'"
        )
    total = 0
    while done := await sync_search_index(db, limit=2_000):
        total += done
    return total


async def purge_deleted_terms(db: Database) -> None:
    """Rewrite the FTS5 index so the terms of deleted rows are gone from the file (FTS5 keeps
    them in older segments until a merge; secure_delete then zeroes the freed pages)."""
    async with db.write() as conn:
        await conn.execute("INSERT INTO story_fts (story_fts) VALUES ('optimize')")


# --- similar stories -----------------------------------------------------------------------


async def refresh_neighbours(db: Database) -> int:
    """Recompute and store the top-5 similar stories of every indexed story; return how
    many stories got neighbours. Minutes at 100,000 stories: a batch job, not a request."""
    rows = await db.fetchall(
        "SELECT f.rowid AS id, f.title_stems || ' ' || f.text_stems AS stems FROM story_fts f"
        " JOIN stories s ON s.id = f.rowid WHERE s.status = 'confirmed' ORDER BY f.rowid"
    )
    ids = [row["id"] for row in rows]
    docs = [row["stems"] for row in rows]
    rows = None
    result = await asyncio.to_thread(_neighbour_rows, ids, docs)
    async with db.write() as conn:
        await conn.execute("DELETE FROM story_neighbours")
        await conn.executemany(
            "INSERT INTO story_neighbours (story_id, rank, neighbour_id, score)"
            " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM stories WHERE id = ?"
            " AND status = 'confirmed')",
            [(*r, r[2]) for r in result],
        )
    return len({r[0] for r in result})


def _neighbour_rows(ids: list[int], docs: list[str]) -> list[tuple[int, int, int, float]]:
    docs = [
        " ".join(s for s in doc.split() if s not in STOP_STEMS and not s.isdigit()) for doc in docs
    ]
    found = similarity.top_neighbours(docs, k=similarity.K)
    return [
        (ids[i], rank, ids[j], round(score, 4))
        for i, neighbours in enumerate(found)
        for rank, (j, score) in enumerate(neighbours, start=1)
    ]


CANDIDATES = 300  # stories shortlisted by the search index for one new story
QUERY_TERMS = 25  # its most distinctive stems, used to shortlist


async def add_neighbours(db: Database, story_ids: list[int], n_docs: int) -> None:
    """Similar stories for stories just indexed in a large corpus, without the batch: the
    search index shortlists the CANDIDATES stories sharing the new story's most distinctive
    stems (bm25), and TF-IDF cosine with the corpus's idf (nlp.similarity.rank_candidates)
    picks the top 5 among them. The new story also enters the lists of shortlisted stories
    it is closer to than their current fifth. Tens of milliseconds a story at 100,000
    stories; the nightly batch (refresh_neighbours) recomputes everything exactly."""
    for story_id in story_ids:
        row = await db.fetchone(
            "SELECT c0 || ' ' || c1 AS stems FROM story_fts_content WHERE id = ?", (story_id,)
        )
        if row is None:
            continue
        query = _content(row["stems"])
        terms = sorted(set(query.split()))
        if not terms:
            continue
        df = await _document_frequencies(db, terms)
        counts = {t: query.split().count(t) for t in terms}
        weight = {
            t: (1 + math.log(counts[t])) * math.log((1 + n_docs) / (1 + df.get(t, 0)))
            for t in terms
        }
        top = sorted(terms, key=lambda t: -weight[t])[:QUERY_TERMS]
        shortlist = await db.fetchall(
            "SELECT f.rowid AS id, c.c0 || ' ' || c.c1 AS stems FROM story_fts f"
            " JOIN story_fts_content c ON c.id = f.rowid"
            " WHERE story_fts MATCH ? AND f.rowid != ? ORDER BY f.rank LIMIT ?",
            (" OR ".join(f'"{t}"' for t in top), story_id, CANDIDATES),
            time_limit=True,
        )
        docs = [_content(r["stems"]) for r in shortlist]
        df.update(await _document_frequencies(db, sorted({t for d in docs for t in d.split()})))
        scores = await asyncio.to_thread(
            similarity.rank_candidates, query, docs, df, n_docs, len(docs)
        )
        ids = [r["id"] for r in shortlist]
        await _store_new_neighbours(db, story_id, [(ids[i], round(sc, 4)) for i, sc in scores])


async def _store_new_neighbours(db: Database, story_id: int, scored: list) -> None:
    """Store a new story's top 5, and put it into the lists it beats a fifth place in."""
    others = [other for other, _ in scored]
    lists: dict[int, list] = {other: [] for other in others}
    for start in range(0, len(others), 900):
        chunk = others[start : start + 900]
        for row in await db.fetchall(
            "SELECT story_id, neighbour_id, score FROM story_neighbours"
            f" WHERE story_id IN ({','.join('?' * len(chunk))}) ORDER BY story_id, rank",
            chunk,
        ):
            if row["neighbour_id"] != story_id:
                lists[row["story_id"]].append((row["neighbour_id"], row["score"]))
    changed = {}
    for other, score in scored:
        current = lists[other]
        if len(current) < similarity.K or current[-1][1] < score:
            merged = sorted([*current, (story_id, score)], key=lambda x: -x[1])
            changed[other] = merged[: similarity.K]
    rows = [(story_id, rank, n, sc) for rank, (n, sc) in enumerate(scored[: similarity.K], 1)]
    for other, merged in changed.items():
        rows += [(other, rank, n, sc) for rank, (n, sc) in enumerate(merged, start=1)]
    async with db.write() as conn:
        await conn.executemany(
            "DELETE FROM story_neighbours WHERE story_id = ?",
            [(story_id,)] + [(other,) for other in changed],
        )
        await conn.executemany(
            "INSERT INTO story_neighbours (story_id, rank, neighbour_id, score)"
            " SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM stories WHERE id = ?"
            " AND status = 'confirmed')",
            [(*r, r[2]) for r in rows],
        )


async def _document_frequencies(db: Database, terms: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(terms), 900):
        chunk = terms[start : start + 900]
        rows = await db.fetchall(
            f"SELECT term, doc FROM story_fts_vocab WHERE term IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        out.update({r["term"]: r["doc"] for r in rows})
    return out


def _content(stems: str) -> str:
    return " ".join(s for s in (stems or "").split() if s not in STOP_STEMS and not s.isdigit())


def neighbour_rows(conn: sqlite3.Connection, story_id: int, team_ids) -> list[dict]:
    """The stored similar stories of a story, limited to those this reader may see (on a
    reader connection, so the story page reads them in the same trip as the story)."""
    rows = conn.execute(
        "SELECT n.neighbour_id AS id, n.score, s.title, s.month, s.team_id, t.name AS team"
        " FROM story_neighbours n JOIN stories s ON s.id = n.neighbour_id"
        " JOIN teams t ON t.id = s.team_id"
        " WHERE n.story_id = ? AND s.status = 'confirmed' ORDER BY n.rank",
        (story_id,),
    )
    return [dict(r) for r in rows if team_ids is None or r["team_id"] in team_ids]


# --- batch use: python -m vertelpunt.search [--db PATH] ----------------------------------


def main(argv: list[str] | None = None) -> int:
    """Index every confirmed story and recompute all similar stories (a nightly batch for
    large corpora; small ones are kept up to date by sync_search_index)."""
    import argparse
    import os
    from pathlib import Path

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument(
        "--db", type=Path, default=Path(os.environ.get("VERTELPUNT_DB", "vertelpunt.db"))
    )
    args = parser.parse_args(argv)

    async def run() -> None:
        db = Database(args.db, readers=1)
        await db.open()
        try:
            indexed = await index_all(db)
            neighbours_for = await refresh_neighbours(db)
            print(f"{indexed} stories indexed, similar stories for {neighbours_for} stories")
        finally:
            await db.close()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
