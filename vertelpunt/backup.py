"""A consistent copy of the database while the app runs: `vertelpunt backup PATH`.

SQLite's online backup API copies the database page by page through an ordinary read
connection. Done in one step, the copy is one read transaction: a snapshot of a single
moment, with everything committed before it and nothing after. In WAL mode a reader does not
block the writer, so the app keeps accepting stories meanwhile. Copying the file with `cp`
would not be safe: committed transactions may still be in the -wal file, and a write during
the copy gives a torn file.

The copy is written next to its target under a temporary name, checked (PRAGMA
integrity_check), switched to a plain rollback journal (one self-contained file), synced and
only then renamed into place: a crash or a full disk never leaves a half backup under the
real name. To restore: stop the app and put the backup file in place of the database file
(and remove any stale -wal/-shm files next to it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path


class BackupError(RuntimeError):
    """The backup could not be made; the message says why, in one line."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    stories: int
    seconds: float

    def summary(self) -> str:
        return (
            f"backup {self.path}: {self.stories} stories, {self.bytes / 1_000_000:.1f} MB,"
            f" {self.seconds:.1f} s, integrity ok"
        )


def target_path(target: Path) -> Path:
    """A directory gets a file named after the moment; anything else is the file itself."""
    if target.is_dir():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        return target / f"vertelpunt-{stamp}.db"
    return target


def backup(db_path: Path, target: Path) -> BackupReport:
    started = time.monotonic()
    db_path, target = Path(db_path), target_path(Path(target))
    if not db_path.is_file():
        raise BackupError(f"no database at {db_path}")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    if target.resolve() == db_path.resolve():
        raise BackupError("the backup must not overwrite the database itself")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # mode=rw: a mistyped path is an error, never a new empty database
    source = sqlite3.connect(db_path.resolve().as_uri() + "?mode=rw", uri=True)
    copy = sqlite3.connect(partial, isolation_level=None)
    try:
        source.execute("PRAGMA busy_timeout = 5000")
        source.backup(copy)  # pages=-1: all pages in one step, one consistent snapshot
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        problems = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {problems[:3]}")
        stories = copy.execute("SELECT count(*) FROM stories").fetchone()[0]
    except BaseException as error:
        copy.close()
        partial.unlink(missing_ok=True)
        if isinstance(error, sqlite3.Error):
            raise BackupError(f"backup failed: {error}") from error
        raise
    finally:
        source.close()
        copy.close()
    try:
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
        _fsync_dir(target.parent)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"could not write {target}: {error.strerror}") from error
    return BackupReport(target, target.stat().st_size, stories, time.monotonic() - started)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
