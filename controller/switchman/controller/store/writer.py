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
import errno
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from switchman.controller.store.abc import StoreFull

log = logging.getLogger(__name__)

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
# after-commit and after-rollback hooks a job may register via Writer.on_commit/on_rollback
Hook = Callable[[], None]

MAX_JOBS_PER_COMMIT = 256
SLOW_COMMIT_SECONDS = 0.025


def out_of_space(exc: BaseException) -> bool:
    """SQLite's "database or disk is full" (SQLITE_FULL), or ENOSPC from the file system."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == sqlite3.SQLITE_FULL) or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno == errno.ENOSPC


class Writer:
    def __init__(self, conn: sqlite3.Connection, name: str = "the database") -> None:
        """``name`` (the database file) is named in the errors and log lines."""
        self._conn = conn
        self._name = name
        # the last transaction failed for lack of disk space; the next that commits clears it
        self.full = False
        # (job, future, outside): an ``outside`` job runs alone, between two transactions
        self._queue: queue.SimpleQueue[tuple[Job, Future[Any], bool] | None] = queue.SimpleQueue()
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
        self._queue.put((job, fut, False))
        return fut

    def checkpoint(self) -> Future[tuple[int, int, int]]:
        """``PRAGMA wal_checkpoint(PASSIVE)`` on the writer's own connection,
        between two transactions: no commit lands while it copies, so the WAL
        ends fully copied and the next transaction starts it again from the
        top (a checkpoint from another connection never catches up with a
        writer that commits every few milliseconds, and the WAL only grows).
        Call it after such a checkpoint has copied the bulk: this one then
        copies only what came since. Resolves to (busy, WAL frames, copied)."""
        fut: Future[tuple[int, int, int]] = Future()

        def job(conn: sqlite3.Connection) -> tuple[int, int, int]:
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return int(busy), int(frames), int(copied)

        self._queue.put((job, fut, True))
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
            jobs: list[tuple[Job, Future[Any]]] = []
            stop = False
            while True:
                job, fut, outside = item
                if outside:
                    if jobs:
                        self._transaction(jobs)
                        jobs = []
                    self._outside(job, fut)
                else:
                    jobs.append((job, fut))
                if len(jobs) >= MAX_JOBS_PER_COMMIT:
                    break
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                item = nxt
            if jobs:
                self._transaction(jobs)
            if stop:
                return

    def _abort(self, exc: BaseException, jobs: list[tuple[Job, Future[Any]]], rollback_hooks: list[Hook]) -> None:
        """The transaction failed as a whole: roll it back and fail every job."""
        self._failed(exc, len(jobs))
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error as again:
                log.error("rollback failed: %s", again)
        for hook in rollback_hooks:
            hook()
        error: BaseException = exc
        if out_of_space(exc):
            error = StoreFull(f"{self._name}: the disk is full ({exc}); nothing of this write was stored")
        for _, fut in jobs:
            if not fut.done():
                fut.set_exception(error)

    def _failed(self, exc: BaseException, jobs: int) -> None:
        if not out_of_space(exc):
            log.error("write transaction failed, %d jobs rolled back: %s", jobs, exc)
        elif not self.full:
            self.full = True
            log.error(
                "%s: the disk is full (%s): pushes and other writes are refused until space returns; "
                "reads still answer",
                self._name,
                exc,
            )

    def _outside(self, job: Job, fut: Future[Any]) -> None:
        if not fut.set_running_or_notify_cancel():
            return
        started = time.perf_counter()
        try:
            fut.set_result(job(self._conn))
        except BaseException as exc:  # handed to the caller
            fut.set_exception(exc)
        took = time.perf_counter() - started
        if took > SLOW_COMMIT_SECONDS:
            log.info("slow checkpoint between transactions: %.0f ms", took * 1000)

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
                    if out_of_space(exc):
                        raise  # the whole transaction goes: nothing more fits
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
            committing = time.perf_counter()
            conn.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            self._abort(exc, jobs, rollback_hooks + self._rollback_hooks)  # with the job that ran out of space
            return
        finally:
            self._commit_hooks, self._rollback_hooks = [], []
        if self.full:
            self.full = False
            log.warning("%s: writes succeed again (disk space is back)", self._name)
        for hook in commit_hooks:
            hook()
        self.commits += 1
        self.last_commit_seconds = time.perf_counter() - started
        if self.last_commit_seconds > SLOW_COMMIT_SECONDS:
            log.info(
                "slow write transaction: %d jobs in %.0f ms (COMMIT %.0f ms)",
                len(jobs),
                self.last_commit_seconds * 1000,
                (time.perf_counter() - committing) * 1000,
            )
        for fut, value, err in results:
            if err is not None:
                fut.set_exception(err)
            else:
                fut.set_result(value)
