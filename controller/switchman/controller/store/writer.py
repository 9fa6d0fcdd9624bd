"""The single writer thread: every write runs here, in order, and pending
writes are committed together (group commit) so ingest stays fast while the
event loop never touches SQLite.

A job is a function of the connection. Jobs queued while a commit is in
flight run in the next transaction, each inside its own SAVEPOINT so one
failing job does not undo the others. A job's future resolves only after
its transaction has committed: callers acknowledge nothing uncommitted.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
# after-commit and after-rollback hooks a job may register via Writer.on_commit/on_rollback
Hook = Callable[[], None]

MAX_JOBS_PER_COMMIT = 256
SLOW_COMMIT_SECONDS = 0.025


class Writer:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue[tuple[Job, Future[Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._commit_hooks: list[Hook] = []
        self._rollback_hooks: list[Hook] = []
        self.commits = 0
        self.last_commit_seconds = 0.0
        self._thread.start()

    # called from job functions (writer thread) ----------------------------
    def on_commit(self, hook: Hook) -> None:
        self._commit_hooks.append(hook)

    def on_rollback(self, hook: Hook) -> None:
        self._rollback_hooks.append(hook)

    # called from any thread -------------------------------------------------
    def submit(self, job: Job) -> Future[Any]:
        fut: Future[Any] = Future()
        self._queue.put((job, fut))
        return fut

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``job`` in the writer thread; returns after its commit."""
        result: T = await asyncio.wrap_future(self.submit(job))
        return result

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
        self._conn.close()

    # the thread ---------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            jobs = [item]
            stop = False
            while len(jobs) < MAX_JOBS_PER_COMMIT:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                jobs.append(nxt)
            self._transaction(jobs)
            if stop:
                return

    def _transaction(self, jobs: list[tuple[Job, Future[Any]]]) -> None:
        conn = self._conn
        started = time.perf_counter()
        results: list[tuple[Future[Any], Any, BaseException | None]] = []
        commit_hooks: list[Hook] = []
        rollback_hooks: list[Hook] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job, fut in jobs:
                if not fut.set_running_or_notify_cancel():
                    continue
                self._commit_hooks, self._rollback_hooks = [], []
                conn.execute("SAVEPOINT job")
                try:
                    value = job(conn)
                except BaseException as exc:  # the job's own failure: undo only it
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    for hook in self._rollback_hooks:
                        hook()
                    results.append((fut, None, exc))
                    continue
                conn.execute("RELEASE job")
                commit_hooks += self._commit_hooks
                rollback_hooks += self._rollback_hooks
                results.append((fut, value, None))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("write transaction failed, %d jobs rolled back: %s", len(jobs), exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for hook in rollback_hooks:
                hook()
            for _, fut in jobs:
                if not fut.done():
                    fut.set_exception(exc)
            return
        finally:
            self._commit_hooks, self._rollback_hooks = [], []
        for hook in commit_hooks:
            hook()
        self.commits += 1
        self.last_commit_seconds = time.perf_counter() - started
        if self.last_commit_seconds > SLOW_COMMIT_SECONDS:
            log.info("slow write transaction: %d jobs in %.0f ms", len(jobs), self.last_commit_seconds * 1000)
        for fut, value, err in results:
            if err is not None:
                fut.set_exception(err)
            else:
                fut.set_result(value)
