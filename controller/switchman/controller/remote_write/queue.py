"""One endpoint's queue: reads the log after its cursor, sends a chunk,
and moves the cursor past it only once every request of the chunk was
answered. The end of the chunk in flight is written before it is sent, so
after a crash the same chunk is sent again as the same requests.

Retryable failures back off exponentially from ``min_backoff`` to
``max_backoff`` and retry without end: the log keeps the samples (within
raw retention). A refused request of several series is sent again one series
per request; what is still refused is counted, logged and dropped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from switchman.controller.remote_write.chunk import Chunk, Request, Shard, make_chunk
from switchman.controller.remote_write.client import Outcome, Post
from switchman.controller.remote_write.config import Endpoint
from switchman.controller.remote_write.encode import LabelPairs
from switchman.controller.remote_write.relabel import keeps
from switchman.controller.store.sqlite import remote_write as sql
from switchman.controller.store.storage import Storage

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often an idle queue looks for new rows (at most; less with a shorter batch_send_deadline)


@dataclass
class Stats:
    samples: int = 0  # answered 2xx
    failed: int = 0  # refused for good, or gone before they could be sent
    pending: int = 0  # logged, not yet answered
    lag_s: float = 0.0  # age of the oldest pending sample
    retries: int = 0
    last_error: str = ""


class EndpointQueue:
    def __init__(
        self,
        endpoint: Endpoint,
        storage: Storage,
        cursor: sql.Cursor,
        clock_ms: Callable[[], int],
        raw_retention_ms: int,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.stats = Stats()
        self.post: Post | None = None
        self._storage = storage
        self._sent, self._inflight = cursor.sent_seq, cursor.inflight_seq
        self._clock_ms, self._monotonic = clock_ms, monotonic
        self._raw_retention_ms = raw_retention_ms
        self._chunk: Chunk | None = None
        self._backoff_ms = 0
        self._waiting_since: float | None = None
        self._labels: dict[int, LabelPairs | None] = {}
        self._expired_until = 0
        self._poll_s = min(POLL_S, endpoint.queue.batch_send_deadline_ms / 4000)

    @property
    def sent_seq(self) -> int:
        return self._sent

    def expired(self, kept_from: int) -> None:
        """Retention deleted the log rows before ``kept_from``: those this
        endpoint had not sent yet are lost (counted as failed, once)."""
        held = self._chunk.end if self._chunk is not None else 0  # read already: it is still sent
        lost = kept_from - 1 - max(self._sent, held, self._expired_until)
        if lost > 0:
            self.stats.failed += lost
            log.error(
                "remote_write %s: %d sample(s) older than raw retention were never sent", self.endpoint.name, lost
            )
        self._expired_until = max(self._expired_until, kept_from - 1)

    async def run(self) -> None:
        """Step until cancelled; an unexpected error is logged and retried after a backoff."""
        while True:
            try:
                delay = await self.step()
            except Exception:
                log.exception("remote_write %s: unexpected error, retrying", self.endpoint.name)
                delay = self._next_backoff()
            await asyncio.sleep(delay)

    async def step(self) -> float:
        """Send what is due; returns the seconds until the next step."""
        head, oldest = await asyncio.to_thread(self._peek)
        self._observe(head, oldest)
        if self._chunk is None:
            wait = self._due_in(head)
            if wait is not None:
                return wait
            chunk = await self._next_chunk(head)
            if chunk is None:
                return 0.0
            self._chunk = chunk
        chunk = self._chunk
        await asyncio.gather(*(self._send_shard(s) for s in chunk.shards if not s.finished))
        if not chunk.finished:
            return self._next_backoff()
        if self._backoff_ms:
            log.info("remote_write %s: sending again after %d retries", self.endpoint.name, self.stats.retries)
        self._backoff_ms = 0
        self._chunk = None
        await self._save(chunk.end, chunk.end)
        return 0.0

    # reading -----------------------------------------------------------------------------
    def _peek(self) -> tuple[int, int | None]:
        conn = self._storage.reader()
        return sql.head(conn), sql.oldest_ts(conn, self._sent)

    def _observe(self, head: int, oldest: int | None) -> None:
        self.stats.pending = max(0, head - self._sent)
        self.stats.lag_s = (
            max(0.0, (self._clock_ms() - oldest) / 1000) if oldest is not None and head > self._sent else 0.0
        )

    def _due_in(self, head: int) -> float | None:
        """None when a chunk is due now, else the seconds to wait: nothing
        pending, or less than a full request that has waited less than
        ``batch_send_deadline``. A chunk left in flight by a crash is due at once."""
        q = self.endpoint.queue
        pending = head - self._sent
        if pending <= 0:
            self._waiting_since = None
            return self._poll_s
        if self._inflight > self._sent or pending >= q.max_samples_per_send:
            return None
        now = self._monotonic()
        if self._waiting_since is None:
            self._waiting_since = now
        left = self._waiting_since + q.batch_send_deadline_ms / 1000 - now
        return min(self._poll_s, left) if left > 0 else None

    async def _next_chunk(self, head: int) -> Chunk | None:
        """The chunk to send (written as in flight first); None when the rows
        turned out to be gone or unsent (the cursor moves past them)."""
        resuming = self._inflight > self._sent
        until = self._inflight if resuming else head
        chunk = await asyncio.to_thread(self._build, until, resuming)
        self._waiting_since = None
        if chunk is None:
            await self._save(until, until)
            return None
        self.stats.failed += chunk.expired
        if not chunk.shards:
            await self._save(chunk.end, chunk.end)
            return None
        if not resuming:
            await self._save(self._sent, chunk.end)
        elif self._sent:
            log.info("remote_write %s: re-sending the chunk in flight before the restart", self.endpoint.name)
        return chunk

    def _build(self, until: int, resuming: bool) -> Chunk | None:
        """Worker thread: read the rows after the cursor, split and encode them
        (tens of milliseconds for a full chunk, kept off the event loop)."""
        q = self.endpoint.queue
        limit = -1 if resuming else q.max_shards * q.max_samples_per_send
        rows = sql.read_log(self._storage.reader(), self._sent, until, limit)
        if not rows:
            return None
        expired_before = self._clock_ms() - self._raw_retention_ms
        chunk = make_chunk(rows, self._labelled, q.max_shards, q.max_samples_per_send, expired_before)
        for shard in chunk.shards:
            for request in shard.requests:
                request.body()
        return chunk

    def _labelled(self, sid: int) -> LabelPairs | None:
        """The labels a series is sent with, sorted by name (None: gone, or
        write_relabel drops it), cached."""
        if sid in self._labels:
            return self._labels[sid]
        info = self._storage.index.info(sid)
        labels: LabelPairs | None = None
        if info is not None:
            # an empty value is no label in Prometheus' data model: not sent
            pairs = tuple(sorted((("__name__", info.name), *((k, v) for k, v in info.labels if v))))
            labels = pairs if keeps(self.endpoint.relabel, dict(pairs)) else None
        self._labels[sid] = labels
        return labels

    # sending -----------------------------------------------------------------------------
    async def _send_shard(self, shard: Shard) -> None:
        """The shard's remaining requests in order; stops at the first that must be retried."""
        assert self.post is not None, "start the queue before stepping it"
        name = self.endpoint.name
        while not shard.finished:
            request = shard.requests[shard.done]
            answer = await self.post(request.body())
            if answer.outcome is Outcome.RETRY:
                self.stats.retries += 1
                if self.stats.last_error != answer.detail or not self._backoff_ms:
                    log.warning("remote_write %s: %s (will retry)", name, answer.detail)
                self.stats.last_error = answer.detail
                return
            if answer.outcome is Outcome.REFUSED and len(request.batches) > 1:
                # the receiver refuses a request whole for one bad series (Prometheus: an
                # out-of-order sample): the series one by one, so only the bad ones are lost
                shard.requests[shard.done : shard.done + 1] = [Request([b]) for b in request.batches]
                log.warning(
                    "remote_write %s: %s; sending its %d series one by one", name, answer.detail, len(request.batches)
                )
                continue
            if answer.outcome is Outcome.REFUSED:
                self.stats.failed += request.samples
                self.stats.last_error = answer.detail
                log.error("remote_write %s: %d sample(s) refused and dropped: %s", name, request.samples, answer.detail)
            else:
                self.stats.samples += request.samples
            shard.done += 1

    def _next_backoff(self) -> float:
        q = self.endpoint.queue
        self._backoff_ms = min(q.max_backoff_ms, max(q.min_backoff_ms, self._backoff_ms * 2))
        return self._backoff_ms / 1000

    async def _save(self, sent: int, inflight: int) -> None:
        cursor = sql.Cursor(self.endpoint.name, self.endpoint.url, sent, inflight)
        now = self._clock_ms()
        await self._storage.run(lambda conn: sql.save_cursor(conn, cursor, now))
        self.stats.pending = max(0, self.stats.pending - (sent - self._sent))
        if not self.stats.pending:
            self.stats.lag_s = 0.0
        self._sent, self._inflight = sent, inflight
