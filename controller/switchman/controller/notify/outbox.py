"""Durable delivery. Messages are queued in the store's outbox in the same
transaction as the state that produced them; a worker posts the due ones,
deletes each on success and reschedules it with exponential backoff on
failure, until ``max_age``. A restart loses nothing: the rows are still there.
Evaluation never waits on this: it runs on its own schedule."""

from __future__ import annotations

import asyncio
import logging
import random
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from switchman.controller.store.abc import QueuedMessage, Store, Tx

log = logging.getLogger(__name__)

MAX_BACKOFF_MS = 300_000
DEFAULT_TIMEOUT_MS = 10_000
DEFAULT_MAX_AGE_MS = 86_400_000
BATCH = 32


class DeliveryError(Exception):
    """A post that did not get a 2xx; ``permanent`` for a 4xx other than 408/429."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


Post = Callable[[str, bytes, str, float], None]


def http_post(url: str, body: bytes, content_type: str, timeout_s: float) -> None:
    """Blocking POST (run in a thread). :raises DeliveryError:"""
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type, "User-Agent": "switchman-controller"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            resp.read(4096)
    except urllib.error.HTTPError as exc:
        raise DeliveryError(
            f"HTTP {exc.code}", permanent=400 <= exc.code < 500 and exc.code not in (408, 429)
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(str(getattr(exc, "reason", exc))) from None


def backoff_ms(attempts: int) -> int:
    base = min(MAX_BACKOFF_MS, 1000 * 2 ** min(attempts - 1, 20))
    return int(base * random.uniform(0.8, 1.2))


@dataclass(frozen=True)
class Limits:
    timeout_ms: int = DEFAULT_TIMEOUT_MS
    max_age_ms: int = DEFAULT_MAX_AGE_MS


class Outbox:
    def __init__(self, store: Store, clock_ms: Callable[[], int], post: Post = http_post) -> None:
        self._store = store
        self._clock_ms = clock_ms
        self._post = post
        self.limits: Mapping[str, Limits] = {}
        self.outcomes: Counter[tuple[str, str]] = Counter()  # (notifier, delivered|failed|dropped)
        self.pending = 0

    async def deliver_due(self) -> int:
        """Post every due message once; returns how many were delivered."""
        now = self._clock_ms()
        outbox = self._store.outbox

        def due() -> tuple[list[QueuedMessage], int]:
            return outbox.due(now, BATCH), outbox.pending()

        rows, self.pending = await asyncio.to_thread(due)
        if not rows:
            return 0
        lanes: dict[tuple[str, str], list[QueuedMessage]] = {}
        for q in rows:
            lanes.setdefault((q.message.notifier, q.message.url), []).append(q)
        sent = [
            pair for lane in await asyncio.gather(*(self._send_lane(lane) for lane in lanes.values())) for pair in lane
        ]
        outcomes = [o for _, o in sent]
        later = self._clock_ms()
        done = [q.id for q, o in sent if o.finished]
        retry = [(q.id, later + backoff_ms(q.attempts + 1), o.error) for q, o in sent if not o.finished]

        def update(tx: Tx) -> None:
            outbox.remove(tx, done)
            for message_id, next_ms, error in retry:
                outbox.reschedule(tx, message_id, next_ms, error)

        await self._store.write(update)
        self.pending -= len(done)
        return sum(1 for o in outcomes if o.delivered)

    async def _send_lane(self, lane: list[QueuedMessage]) -> list[tuple[QueuedMessage, Outcome]]:
        """One destination's due messages, one after another in queue order;
        after a failure the rest wait (they are not due while it waits)."""
        sent: list[tuple[QueuedMessage, Outcome]] = []
        for queued in lane:
            outcome = await self._send(queued)
            sent.append((queued, outcome))
            if not outcome.finished:
                break
        return sent

    async def _send(self, queued: QueuedMessage) -> Outcome:
        m, attempts = queued.message, queued.attempts
        notifier = m.notifier
        limits = self.limits.get(notifier, Limits())
        try:
            await asyncio.to_thread(self._post, m.url, m.body, m.content_type, limits.timeout_ms / 1000)
        except DeliveryError as exc:
            if exc.permanent or self._clock_ms() - queued.created_ms >= limits.max_age_ms:
                log.error("notifier %s: dropping a message after %d attempt(s): %s", notifier, attempts + 1, exc)
                self.outcomes[(notifier, "dropped")] += 1
                return Outcome(finished=True, delivered=False)
            log.warning("notifier %s: delivery failed (attempt %d), will retry: %s", notifier, attempts + 1, exc)
            self.outcomes[(notifier, "failed")] += 1
            return Outcome(finished=False, delivered=False, error=str(exc)[:500])
        self.outcomes[(notifier, "delivered")] += 1
        return Outcome(finished=True, delivered=True)


@dataclass(frozen=True)
class Outcome:
    finished: bool  # delivered, or dropped for good
    delivered: bool
    error: str = ""
