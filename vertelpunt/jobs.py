"""Long admin jobs (re-tagging the corpus, training a model) as background tasks in the app.

One job at a time: both are CPU-heavy and both change the tags. The admin page shows the
running job's progress and the last result of each kind; start and end go to the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .db import Database
from .events import Actor, log_event

log = logging.getLogger(__name__)


class JobBusy(RuntimeError):
    """Another job is still running."""


@dataclass
class Job:
    kind: str  # "retag" or "train"
    state: str = "running"  # running | done | failed
    done: int = 0
    total: int = 0
    result: dict = field(default_factory=dict)
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


class Jobs:
    def __init__(self, db: Database):
        self.db = db
        self.running: Job | None = None
        self.last: dict[str, Job] = {}
        self._task: asyncio.Task | None = None

    def start(
        self,
        kind: str,
        actor: Actor,
        work: Callable[[Job], Awaitable[dict]],
        on_done: Callable[[], None] | None = None,
    ) -> Job:
        if self.running is not None:
            raise JobBusy(f"er loopt al een taak ({self.running.kind})")
        job = Job(kind)
        self.running = self.last[kind] = job
        self._task = asyncio.create_task(self._run(job, actor, work, on_done))
        return job

    async def _run(self, job, actor, work, on_done) -> None:
        async with self.db.write() as conn:
            await log_event(conn, actor, f"job.{job.kind}.start")
        try:
            job.result = await work(job)
            job.state = "done"
            if on_done:
                on_done()
        except Exception as error:  # shown to the admin, the app goes on
            log.exception("job %s failed", job.kind)
            job.state, job.error = "failed", f"{type(error).__name__}: {error}"
        finally:
            job.finished_at = time.time()
            self.running = None
            async with self.db.write() as conn:
                await log_event(conn, actor, f"job.{job.kind}.{job.state}", **_brief(job))

    async def wait(self) -> None:
        """For tests and shutdown: until the running job (if any) has finished."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _brief(job: Job) -> dict:
    brief = {key: value for key, value in job.result.items() if not isinstance(value, dict)}
    if job.error:
        brief["error"] = job.error
    return brief
