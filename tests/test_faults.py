"""Faults: the server killed with kill -9 mid-submission, a full disk, failing NLP and
de-identification. Each test is bounded in time; benchmarks/crash/kill9.py runs the kill -9
test with 20 cycles (this test runs CRASH_CYCLES, to keep the suite quick)."""

from __future__ import annotations

import contextlib
import errno
import os
import random
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import STORY_TEXT, login, post_form, run_worker, story_form
from live_server import (
    PASSWORD,
    RESEARCHER_EMAIL,
    TELLER_EMAIL,
    LiveServer,
    crash_cycles,
    prepare_database,
    story_json,
    wait_until_warm,
)

from nlp import deidentify as deid
from nlp.pipeline import Tagger

CRASH_CYCLES = int(os.environ.get("VERTELPUNT_CRASH_CYCLES", "6"))
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# --- kill -9 -------------------------------------------------------------------------------


def test_kill_9_never_loses_an_acknowledged_story(tmp_path):
    seed = random.randrange(1_000_000)
    report = crash_cycles(tmp_path, CRASH_CYCLES, seed)
    print(f"seed {seed}: {report.summary()}")
    assert report.integrity == ["ok"]
    assert report.foreign_keys == []
    assert len(report.acked) > CRASH_CYCLES, "too few submissions to say anything"
    assert report.lost() == [], f"seed {seed}: acknowledged but not stored"
    assert report.unconfirmed() == [], f"seed {seed}: confirmation acknowledged but not stored"
    assert report.errors == []

    # After the last kill the app starts on the same file and the worker finishes what the
    # kills interrupted: no story stays stuck before its preview.
    server = LiveServer(tmp_path, tmp_path / "crash.db").start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = count(tmp_path / "crash.db", "status = 'pending'")
            if pending == 0:
                break
            time.sleep(0.5)
        assert pending == 0
    finally:
        server.stop()


def count(db_path: Path, where: str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(f"SELECT count(*) FROM stories WHERE {where}").fetchone()[0]
    finally:
        conn.close()


# --- a full disk ---------------------------------------------------------------------------


@contextlib.contextmanager
def small_filesystem(path: Path, size: str = "6m"):
    """A tmpfs of `size` at `path` (needs root and mount rights: CI runs as root)."""
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True, text=True,
    )
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs here: {done.stderr.strip()}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem is full; returns it (delete it to free the space)."""
    filler = directory / "filler"
    # Unbuffered: a buffered file keeps the bytes the full disk refused and tries them again
    # on close, which then fails too (whether it does depends on how much space was left).
    with open(filler, "wb", buffering=0) as handle:
        chunk = b"\0" * 65536
        try:
            while True:
                handle.write(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC
        with contextlib.suppress(OSError):
            os.fsync(handle.fileno())
    return filler


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_full_disk_a_clear_message_reads_go_on_nothing_half_stored(tmp_path):
    disk = small_filesystem(tmp_path / "disk")
    with disk as mounted:
        db = mounted / "vertelpunt.db"
        ids = prepare_database(db)
        server = LiveServer(tmp_path, db).start()
        teller = {"authorization": f"Bearer {ids['teller_token']}"}
        try:
            wait_until_warm(server.url, ids["teller_token"], ids["team"])
            with httpx.Client(base_url=server.url, timeout=30) as web, httpx.Client(
                base_url=server.url, timeout=30
            ) as teller_web, httpx.Client(base_url=server.url, headers=teller, timeout=30) as api:
                # A researcher and a teller logged in before the disk filled up.
                for browser, email in ((web, RESEARCHER_EMAIL), (teller_web, TELLER_EMAIL)):
                    page = browser.get("/inloggen")
                    browser.post("/inloggen", data={"email": email, "password": PASSWORD,
                                                    "csrf_token": csrf_of(page.text)})
                assert web.get("/verhalen").status_code == 200
                story_id = web.get("/verhalen.json").json()["stories"][0]["id"]
                filler = fill(mounted)

                # Submissions now fail, with a clear Dutch message and nothing half-stored.
                failed, stored = [], []
                for n in range(30):
                    title = f"Vol {n}"
                    response = api.post("/api/v1/stories", json=story_json(ids["team"], title,
                                                                            words=1500))
                    assert response.status_code in (201, 507), response.text
                    (stored if response.status_code == 201 else failed).append(title)
                    if response.status_code == 507:
                        assert "opslag van Vertelpunt is vol" in response.json()["error"]
                assert failed, "the disk never filled up"
                # The web form says the same, as a page.
                form = teller_web.get("/vertel")
                assert form.status_code == 200
                title = "Vol via het formulier"
                page = teller_web.post("/vertel", data={
                    "title": title, "text": story_json(ids["team"], title, 1500)["text"],
                    "team": ids["team"], "month": "2025-03", "role": "wijkcoach",
                    "csrf_token": csrf_of(form.text)})
                assert page.status_code == 507
                assert "opslag van Vertelpunt is vol" in page.text and "browser" in page.text
                failed.append(title)

                # Reads go on: pages, search, patterns, the API (with its token).
                for path in ("/verhalen", "/verhalen?q=huurachterstand", "/patronen",
                             "/verhalen.json", "/review"):
                    assert web.get(path).status_code == 200, path
                researcher = {"authorization": f"Bearer {ids['researcher_token']}"}
                listed = api.get("/api/v1/stories", headers=researcher)
                assert listed.status_code == 200, listed.text
                # A researcher's view of a story is audited: if that cannot be written, the
                # story is not shown, and the page says why.
                detail = web.get(f"/verhalen/{story_id}")
                assert detail.status_code in (200, 507)
                if detail.status_code == 507:
                    assert "opslag van Vertelpunt is vol" in detail.text

                # Space again: the app works on without a restart.
                filler.unlink()
                again = api.post("/api/v1/stories", json=story_json(ids["team"], "Weer ruimte"))
                assert again.status_code == 201, again.text
        finally:
            server.stop()
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            titles = {row[0] for row in conn.execute("SELECT title FROM stories")}
        finally:
            conn.close()
        assert not titles & set(failed), "a refused story was stored after all"
        assert set(stored) <= titles and "Weer ruimte" in titles


# --- the NLP worker and the de-identifier failing ------------------------------------------


def test_a_story_whose_deidentification_keeps_failing_stays_stored_and_hidden(
    client, monkeypatch
):
    """Every attempt fails: the story is kept for its teller, never shown for research, and
    the worker stops after MAX_ATTEMPTS with the error recorded (shown to admins)."""
    from vertelpunt import privacy

    def broken(text):
        raise RuntimeError("deduce crashed")

    monkeypatch.setattr(deid, "find_entities", broken)
    monkeypatch.setattr(deid, "is_ready", lambda: True)
    response = post_form(client, "/vertel", story_form(client))
    assert response.status_code == 303
    story_id = int(re.search(r"/vertel/(\d+)/", response.headers["location"]).group(1))
    for _ in range(privacy.MAX_ATTEMPTS + 2):
        run_worker(client)
    row = client.portal.call(
        client.app.state.db.fetchone,
        "SELECT status, deid_attempts, deid_error, original_text FROM stories WHERE id = ?",
        (story_id,),
    )
    assert row["status"] == "pending"
    assert row["deid_attempts"] == privacy.MAX_ATTEMPTS
    assert "deduce crashed" in row["deid_error"]
    assert row["original_text"] == STORY_TEXT  # kept for its teller, not lost
    waiting = client.get(f"/vertel/{story_id}/controle")
    assert waiting.status_code == 200 and "veilig opgeslagen" in waiting.text
    assert "Fatima" not in client.get("/api/v1/stories").text


def test_a_story_the_tagger_chokes_on_does_not_hold_up_the_others(client, monkeypatch):
    """The tagger raising on one story: the other stories in the same round are tagged; the
    bad one stays confirmed and readable, is retried each round and marked failed (shown to
    admins) after MAX_ATTEMPTS."""
    from vertelpunt import tagging

    ids = []
    for title in ("Verhaal dat vastloopt", "Verhaal dat gewoon door kan"):
        text = f"{title}. {STORY_TEXT}"
        preview = post_form(client, "/vertel", story_form(client, title=title, text=text))
        preview = preview.headers["location"]
        post_form(client, preview, {"action": "confirm", "mask": [str(i) for i in range(20)]})
        ids.append(int(re.search(r"/vertel/(\d+)/", preview).group(1)))
    bad, good = ids
    real_tag = Tagger.tag

    def choke(self, text):
        if "vastloopt" in text:
            raise MemoryError("the model ran out of memory on this story")
        return real_tag(self, text)

    monkeypatch.setattr(Tagger, "tag", choke)

    def state(story_id):
        return client.portal.call(
            client.app.state.db.fetchone,
            "SELECT status, nlp_status, nlp_attempts, nlp_error FROM stories WHERE id = ?",
            (story_id,),
        )

    run_worker(client)
    assert state(good)["nlp_status"] == "done"
    assert state(bad)["nlp_status"] == "waiting" and state(bad)["nlp_attempts"] == 1
    for _ in range(tagging.MAX_ATTEMPTS + 1):
        run_worker(client)
    row = state(bad)
    assert row["status"] == "confirmed" and row["nlp_status"] == "failed"
    assert row["nlp_attempts"] == tagging.MAX_ATTEMPTS and "memory" in row["nlp_error"]
    login(client, "researcher")
    assert client.get(f"/verhalen/{bad}").status_code == 200


def test_the_worker_survives_a_failing_round(client, monkeypatch):
    """An error outside any one story (here: the database read) must not end the worker."""
    import asyncio

    from vertelpunt import worker as worker_module

    worker = client.app.state.worker
    rounds = {"n": 0}
    real = worker.run_once

    async def flaky_round():
        rounds["n"] += 1
        if rounds["n"] == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return await real()

    monkeypatch.setattr(worker, "run_once", flaky_round)
    monkeypatch.setattr(worker_module.deid, "warm", lambda: None)

    async def run_two_rounds():
        worker.start()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if rounds["n"] >= 1 and worker.idle.is_set():
                break
        worker.wake()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if rounds["n"] >= 2:
                break
        alive = worker._task is not None and not worker._task.done()
        await worker.stop()
        return alive

    assert client.portal.call(run_two_rounds)
    assert rounds["n"] >= 2
