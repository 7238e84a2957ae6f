"""How long `vertelpunt retag` takes on a large corpus, and whether memory stays flat.

    .venv/bin/python benchmarks/retag_speed.py [--stories 100000] [--processes 2]

Builds a throw-away database with N confirmed stories of about 400 words (sentences drawn at
random, with a fixed seed, from the demo stories), then re-tags them all through the same code
as the CLI and reports stories/s, the total time, and the peak resident memory of the main
process and of the tagging processes. Target (issue 5): 100,000 stories in under 5 minutes
on this 2-core machine, memory flat (peak RSS does not grow with N: compare two sizes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vertelpunt import retag  # noqa: E402
from vertelpunt import taxonomy as taxonomy_store  # noqa: E402
from vertelpunt.db import Database, migrate  # noqa: E402
from vertelpunt.demo import read_demo_stories  # noqa: E402


def build(db_path: Path, n: int, seed: int = 7) -> None:
    sentences = [
        s.strip()
        for story in read_demo_stories()
        for s in re.split(r"(?<=[.!?])\s+", story["text"])
        if len(s.split()) > 3
    ]
    rng = random.Random(seed)
    migrate(db_path)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("INSERT INTO municipalities (name) VALUES ('Bench')")
    conn.execute("INSERT INTO teams (name, municipality_id) VALUES ('Bench team', 1)")
    batch = []
    for i in range(n):
        words, parts = 0, []
        while words < 400:
            sentence = rng.choice(sentences)
            parts.append(sentence)
            words += len(sentence.split())
        month = f"{2024 + i % 2}-{1 + i % 12:02d}"
        batch.append((f"Verhaal {i}", " ".join(parts), month))
        if len(batch) == 5000:
            _insert(conn, batch)
            batch = []
    _insert(conn, batch)
    conn.commit()
    conn.close()


def _insert(conn, batch) -> None:
    conn.executemany(
        "INSERT INTO stories (status, title, text, team_id, month, teller_role, nlp_status)"
        " VALUES ('confirmed', ?, ?, 1, ?, 'wijkcoach', 'done')",
        batch,
    )


async def run(db_path: Path, data_dir: Path, processes: int) -> dict:
    db = Database(db_path, readers=2)
    await db.open()
    try:
        await taxonomy_store.ensure_default_taxonomy(db)
        taxonomy = await taxonomy_store.active_taxonomy(db)
        start = time.perf_counter()
        report = await retag.retag(
            db, taxonomy, data_dir / "models", data_dir / "retag", processes=processes
        )
        seconds = time.perf_counter() - start
    finally:
        await db.close()
    return {"stories": report.total, "seconds": round(seconds, 1),
            "stories_per_second": round(report.total / seconds, 1),
            "model_version": report.model_version, "processes": processes,
            "peak_rss_main_mb": round(_rss(resource.RUSAGE_SELF), 1),
            "peak_rss_children_mb": round(_rss(resource.RUSAGE_CHILDREN), 1)}


def _rss(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data",
                        help="where the active model is (default ./data)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        build(db_path, args.stories)
        print(f"built {args.stories} stories in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        result = asyncio.run(run(db_path, args.data_dir, args.processes))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
