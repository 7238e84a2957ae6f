"""`vertelpunt backup PATH`: a consistent copy made with SQLite's backup API while the app runs
and takes submissions; restoring it gives the same stories."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
from live_server import LiveServer, Submitter, prepare_database, wait_until_warm

from vertelpunt.backup import BackupError, backup
from vertelpunt.cli import main as cli


def rows(db_path, sql, params=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_backup_while_the_app_takes_stories(tmp_path):
    db = tmp_path / "live.db"
    ids = prepare_database(db)
    server = LiveServer(tmp_path, db).start()
    submitter = Submitter(server.url, ids["teller_token"], ids["team"])
    try:
        wait_until_warm(server.url, ids["teller_token"], ids["team"])
        submitter.start()
        while len(submitter.acked) < 10 and submitter.is_alive():
            time.sleep(0.05)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "vertelpunt", "backup", str(tmp_path / "copy.db"),
             "--db", str(db)],
            capture_output=True, text=True, timeout=60,
        )
        time.sleep(0.3)  # submissions go on after the backup
    finally:
        submitter.stop.set()
        submitter.join(timeout=60)
        server.stop()
    assert done.returncode == 0, done.stderr
    assert "integrity ok" in done.stdout
    assert not submitter.errors, submitter.errors
    copy = tmp_path / "copy.db"
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    assert rows(copy, "PRAGMA journal_mode") == [("delete",)]
    assert not (tmp_path / ".copy.db.partial").exists()

    # Everything acknowledged before the backup began is in it, exactly as in the database.
    in_copy = dict(rows(copy, "SELECT id, title FROM stories"))
    before = [(i, t) for i, t, at in submitter.acked if at < started]
    assert before and all(in_copy.get(i) == t for i, t in before)
    assert len(in_copy) < len(submitter.acked), "the app should have gone on after the backup"
    live = dict(rows(db, "SELECT id, title FROM stories"))
    assert all(live[i] == t for i, t in in_copy.items())

    # Restore: the app on the copy serves the same confirmed stories, text for text.
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(copy, restored / "vertelpunt.db")
    confirmed = dict(
        rows(copy, "SELECT id, text FROM stories WHERE status = 'confirmed' ORDER BY id")
    )
    assert confirmed
    server = LiveServer(restored, restored / "vertelpunt.db", worker=False).start()
    try:
        headers = {"authorization": f"Bearer {ids['researcher_token']}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            listed = client.get("/api/v1/stories", params={"limit": 500}).json()["stories"]
            assert {s["id"] for s in listed} == set(confirmed)
            some = next(iter(confirmed))
            assert client.get(f"/api/v1/stories/{some}").json()["text"] == confirmed[some]
    finally:
        server.stop()


def test_backup_of_a_closed_database_and_into_a_folder(tmp_path):
    db = tmp_path / "a.db"
    prepare_database(db)
    folder = tmp_path / "backups"
    folder.mkdir()
    report = backup(db, folder)
    assert report.path.parent == folder and report.path.name.startswith("vertelpunt-")
    assert rows(report.path, "SELECT count(*) FROM users") == [(2,)]


@pytest.mark.parametrize(
    ("db", "target", "message"),
    [
        ("missing.db", "copy.db", "no database"),
        ("a.db", "nowhere/copy.db", "does not exist"),
        ("a.db", "a.db", "must not overwrite"),
    ],
)
def test_backup_refuses_bad_paths(tmp_path, db, target, message, capsys):
    prepare_database(tmp_path / "a.db")
    with pytest.raises(BackupError, match=message):
        backup(tmp_path / db, tmp_path / target)
    assert cli(["backup", str(tmp_path / target), "--db", str(tmp_path / db)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()
