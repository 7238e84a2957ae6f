"""Re-tagging the whole corpus with the active taxonomy and model, with a diff afterwards.

Runs as a background job in the web app (progress on the admin page) and as
`vertelpunt retag` (a rich progress bar). Stories go through in batches by id, so memory stays
flat however large the corpus; each batch is written in one transaction. With `processes > 1`
the tagging itself runs in worker processes (the CPU-bound part), the writing in this one.

The diff says which stories gained or lost which theme: counts per theme in the report, and
one JSON line per changed story in a file under the data folder.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from nlp.pipeline import Tagger
from nlp.taxonomy import Taxonomy

from .db import Database
from .tagging import write_tags

BATCH = 500


@dataclass
class RetagReport:
    total: int = 0
    done: int = 0
    model_version: str = ""
    taxonomy_version: str = ""
    gained: Counter = field(default_factory=Counter)  # theme -> stories that gained it
    lost: Counter = field(default_factory=Counter)
    changed_stories: int = 0
    diff_path: str | None = None

    def summary(self) -> dict:
        return {
            "total": self.total,
            "model_version": self.model_version,
            "taxonomy_version": self.taxonomy_version,
            "changed_stories": self.changed_stories,
            "gained": dict(self.gained),
            "lost": dict(self.lost),
            "diff_file": self.diff_path,
        }


# A tagger per worker process, built once by the pool's initializer.
_process_tagger: Tagger | None = None


def _init_process(taxonomy_toml: str, models_dir: str | None) -> None:
    global _process_tagger
    _process_tagger = Tagger.load(models_dir, Taxonomy.from_toml(taxonomy_toml))


def _tag_in_process(texts: list[str]) -> list[dict]:
    return [result.to_dict() for result in _process_tagger.tag_many(texts)]


async def retag(
    db: Database,
    taxonomy: Taxonomy,
    models_dir: Path | None,
    diff_dir: Path,
    on_progress: Callable[[int, int], None] | None = None,
    processes: int = 1,
) -> RetagReport:
    report = RetagReport(taxonomy_version=taxonomy.version)
    row = await db.fetchone("SELECT count(*) AS n FROM stories WHERE status = 'confirmed'")
    report.total = row["n"]
    tagger = Tagger.load(models_dir, taxonomy)
    report.model_version = tagger.model_version
    diff_dir.mkdir(parents=True, exist_ok=True)
    diff_path = diff_dir / f"retag-{taxonomy.version}-{tagger.model_version}.jsonl"
    report.diff_path = str(diff_path)

    pool: Executor | None = None
    if processes > 1:
        pool = ProcessPoolExecutor(
            processes,
            initializer=_init_process,
            initargs=(taxonomy.to_toml(), str(models_dir) if models_dir else None),
        )
    loop = asyncio.get_running_loop()
    try:
        with open(diff_path, "w", encoding="utf-8") as diff_file:
            last_id, in_flight = 0, []
            while True:
                rows = await db.fetchall(
                    "SELECT id, text FROM stories WHERE status = 'confirmed' AND id > ?"
                    " ORDER BY id LIMIT ?",
                    (last_id, BATCH),
                )
                if rows:
                    last_id = rows[-1]["id"]
                    texts = [r["text"] for r in rows]
                    if pool is not None:
                        job = loop.run_in_executor(pool, _tag_in_process, texts)
                    else:
                        job = asyncio.to_thread(
                            lambda t=texts: [r.to_dict() for r in tagger.tag_many(t)]
                        )
                    in_flight.append(([r["id"] for r in rows], job))
                # Keep as many batches in flight as there are processes, then write in order.
                if in_flight and (len(in_flight) >= max(processes, 1) or not rows):
                    ids, job = in_flight.pop(0)
                    results = await job
                    await _store_batch(db, ids, results, tagger, taxonomy, report, diff_file)
                    if on_progress:
                        on_progress(report.done, report.total)
                if not rows and not in_flight:
                    break
    finally:
        if pool is not None:
            pool.shutdown()
    return report


async def _store_batch(db, ids, results, tagger, taxonomy, report, diff_file) -> None:
    placeholders = ",".join("?" * len(ids))
    before: dict[int, set[str]] = {story_id: set() for story_id in ids}
    for row in await db.fetchall(
        f"SELECT story_id, theme FROM story_themes WHERE source GLOB 'nlp:*'"
        f" AND story_id IN ({placeholders})",
        ids,
    ):
        before[row["story_id"]].add(row["theme"])
    async with db.write() as conn:
        for story_id, result in zip(ids, results, strict=True):
            await write_tags(conn, story_id, result, tagger.model_version, taxonomy.version)
    for story_id, result in zip(ids, results, strict=True):
        after = {tag["theme"] for tag in result["themes"]}
        gained, lost = after - before[story_id], before[story_id] - after
        if gained or lost:
            report.changed_stories += 1
            report.gained.update(gained)
            report.lost.update(lost)
            diff_file.write(
                json.dumps({"story": story_id, "gained": sorted(gained), "lost": sorted(lost)})
                + "\n"
            )
    report.done += len(ids)
