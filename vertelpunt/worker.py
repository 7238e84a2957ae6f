"""The background worker inside the app process: de-identification and theme tagging.

Neither runs on a request's path. The worker sleeps until woken (a story was submitted or
confirmed) or until its poll interval passes, then handles what is waiting. A failure leaves
the story stored and counts an attempt; after MAX_ATTEMPTS it is marked failed and shown to
admins. Heavy models load in a thread so the event loop keeps serving pages meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nlp import deidentify as deid

from . import privacy, tagging
from .db import Database

log = logging.getLogger(__name__)

POLL_SECONDS = 30


class Worker:
    def __init__(self, db: Database, tagging_service: tagging.TaggingService):
        self.db = db
        self.tagging = tagging_service
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.idle = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="vertelpunt-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        self.idle.clear()
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                if not deid.is_ready():
                    await asyncio.to_thread(deid.warm)
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the worker alive; the stories stay queued
                log.exception("worker round failed")
            self.idle.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=POLL_SECONDS)
            self._wake.clear()

    async def run_once(self) -> int:
        """Handle everything waiting now; return how many stories were handled."""
        handled = await privacy.purge_expired_originals(self.db)
        pending = await self.db.fetchall(
            "SELECT id FROM stories WHERE status = 'pending' AND deid_attempts < ? ORDER BY id",
            (privacy.MAX_ATTEMPTS,),
        )
        for row in pending:
            await privacy.deidentify_story(self.db, row["id"])
            handled += 1
        waiting = await self.db.fetchall(
            "SELECT id FROM stories WHERE status = 'confirmed' AND nlp_status = 'waiting'"
            " ORDER BY id LIMIT 500"
        )
        if waiting:
            handled += await self.tagging.tag_stories(self.db, [row["id"] for row in waiting])
        return handled
