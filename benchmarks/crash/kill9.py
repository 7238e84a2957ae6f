"""Crash proof with 20 cycles: kill -9 the server at random moments while clients submit and
confirm stories, restart, and check that every acknowledged story is in the database.

    .venv/bin/python benchmarks/crash/kill9.py                  # 20 cycles, a random seed
    .venv/bin/python benchmarks/crash/kill9.py --cycles 50 --seed 7

The test suite runs the same check with fewer cycles (tests/test_faults.py,
VERTELPUNT_CRASH_CYCLES, default 6) to stay quick; the code is shared
(tests/live_server.py: crash_cycles). Only 127.0.0.1 is used. kill -9 ends the process, not
the machine: what the kernel already holds still reaches the disk, so this proves the app's
transactions (commit before answering, WAL recovery), not the disk's own write cache.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from live_server import crash_cycles  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    workdir = Path(tempfile.mkdtemp(prefix="vertelpunt-kill9-"))
    try:
        report = crash_cycles(workdir, args.cycles, seed, clients=args.clients)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"seed {seed}: {report.summary()}")
    ok = (report.integrity == ["ok"] and not report.foreign_keys and not report.lost()
          and not report.unconfirmed() and not report.errors)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
