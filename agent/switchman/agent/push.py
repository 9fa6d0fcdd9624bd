"""The agent's link to the controller: register, heartbeat, push the spool.

A down controller never blocks collection: collection only appends to the
spool; this link drains it in sequence order when the controller answers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from switchman.agent.breaker import CircuitBreaker
from switchman.agent.spool import Spool, SpoolEntry
from switchman.proto.v1 import controller_pb2, controller_pb2_grpc

log = logging.getLogger(__name__)

MAX_PUSH_BYTES = 2 * 1024 * 1024


@dataclass
class Identity:
    host_id: str
    hostname: str
    labels: dict[str, str]
    advertise: str
    version: str
    capabilities: list[str] = field(default_factory=list)
    metrics_address: str = ""  # HOST:PORT of /metrics, empty when off
    job: str = "node"


@dataclass
class LinkStats:
    connected: bool = False
    pushes_ok: int = 0
    pushes_failed: int = 0
    samples_sent: int = 0
    heartbeats_ok: int = 0
    last_error: str = ""
    last_push_seconds: float = 0.0


def coalesce(entries: list[SpoolEntry]) -> controller_pb2.TelemetryBatch:
    """Merge consecutive spool entries into one batch: points of the same
    series are joined, events concatenated, the sequence range recorded."""
    if len(entries) == 1:
        return controller_pb2.TelemetryBatch.FromString(entries[0].payload)
    out = controller_pb2.TelemetryBatch(first_sequence=entries[0].seq, sequence=entries[-1].seq)
    index: dict[tuple[str, tuple[tuple[str, str], ...]], controller_pb2.Series] = {}  # type: ignore[name-defined]
    for entry in entries:
        b = controller_pb2.TelemetryBatch.FromString(entry.payload)
        out.dropped_samples += b.dropped_samples
        out.events.extend(b.events)
        for s in b.series:
            key = (s.name, tuple(sorted(s.labels.items())))
            target = index.get(key)
            if target is None:
                target = out.series.add(name=s.name, labels=s.labels)
                index[key] = target
            target.timestamps_ms.extend(s.timestamps_ms)
            target.values.extend(s.values)
    return out


async def controller_serving(channel: grpc.aio.Channel, timeout: float = 0.5) -> bool:
    """Whether the controller's health service says SERVING for the agents'
    service (it says NOT_SERVING while it opens its store)."""
    try:
        resp = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="switchman.v1.Controller"), timeout=timeout
        )
    except grpc.aio.AioRpcError:
        return False
    return bool(resp.status == health_pb2.HealthCheckResponse.SERVING)


PROBE_EVERY_S = 1.0  # while backing off, how often the controller's health is asked (at least)
# a fleet of agents spreads its first retries over this window, or over the longer one the
# controller's last Register reply gave (it grows with the fleet): 2,000 agents coming back to
# a restarted controller within 1 s queued their pushes for seconds
COMEBACK_JITTER_S = 4.0


def probe_every(spread_s: float) -> float:
    """How often, on average, a backing-off agent asks the controller's
    health: every second for a small fleet, and over half the comeback
    spread for a large one. Finding the controller back is then spread over
    half the window and the jittered retry over the other half. 2,000
    agents asking every second met a restarted controller with 2,000 health
    checks in its first second."""
    return max(PROBE_EVERY_S, spread_s / 2)


class ControllerLink:
    """Owns the register/heartbeat/push loops. ``wake()`` after appending to the spool."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        spool: Spool,
        identity: Callable[[], Identity],
        *,
        push_timeout: float = 10.0,
        backoff_cap: float = 30.0,
        heartbeat_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        explain: Callable[[str], Awaitable[str]] | None = None,
        serving: Callable[[], Awaitable[bool]] | None = None,
        stats: LinkStats | None = None,
        registered: Callable[[controller_pb2.RegisterResponse, float], None] | None = None,
    ) -> None:
        """``explain(grpc_message)`` says why the controller cannot be reached (TLS
        mistakes, expired certificates); it is awaited after UNAVAILABLE errors.
        ``serving()`` tells whether the controller is up and serving: while
        the backoff waits it is asked every second, and when the controller
        turns serving after it was not, the next attempt comes within
        :data:`COMEBACK_JITTER_S` (or the spread the controller's last Register
        reply gave) instead of after the grown delay.
        ``registered(response, sent_at)`` is called after each registration,
        with the monotonic time the request was sent."""
        self._registered = registered
        self._explain = explain
        self._serving = serving
        self._was_down = False  # the controller was seen not serving since the last success
        self._comeback_s = COMEBACK_JITTER_S  # or what the last Register reply said
        self._stub = controller_pb2_grpc.ControllerStub(channel)
        self._spool = spool
        self._identity = identity
        self._push_timeout = push_timeout
        self._heartbeat_interval = heartbeat_interval
        self.breaker = CircuitBreaker(clock, cap=backoff_cap)
        self.stats = stats if stats is not None else LinkStats()
        self.partitioned = False  # set by the partition fault
        self._synced = False
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._push_loop(), name="push"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
        ]

    def wake(self) -> None:
        self._wake.set()

    def resync(self) -> None:
        """Register again before the next push (identity or labels changed)."""
        self._synced = False
        self._wake.set()

    async def flush(self, timeout: float) -> bool:
        """Push until the spool is empty or ``timeout`` passes. True when empty."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._spool.peek(1, 1):
                return True
            if self.partitioned or not self.breaker.allow():
                return False
            try:
                if not self._synced:
                    await self._register(min(5.0, deadline - time.monotonic()))
                await self._push_once(min(self._push_timeout, max(0.1, deadline - time.monotonic())))
            except (TimeoutError, grpc.aio.AioRpcError) as exc:
                await self._on_failure(exc, explain=False)  # stopping: no time to probe
                return False
        return False

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # loops -------------------------------------------------------------------
    async def _sleep(self, seconds: float, *, wakeable: bool) -> None:
        waiters = [asyncio.ensure_future(self._stop.wait())]
        if wakeable:
            waiters.append(asyncio.ensure_future(self._wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        if wakeable:
            self._wake.clear()

    async def _push_loop(self) -> None:
        while not self._stop.is_set():
            if self.partitioned:
                self.stats.connected = False
                await self._sleep(0.2, wakeable=False)
                continue
            wait = self.breaker.remaining()
            if wait > 0:
                await self._back_off(wait)
                continue
            try:
                if not self._synced:
                    await self._register(5.0)
                more = await self._push_once(self._push_timeout)
            except (TimeoutError, grpc.aio.AioRpcError) as exc:
                await self._on_failure(exc)
                continue
            if not more:
                await self._sleep(self._heartbeat_interval, wakeable=True)

    async def _back_off(self, wait: float) -> None:
        """Wait ``wait`` seconds, or less once the controller turns serving
        after it was down (a restarted controller): every agent then comes
        back within a jittered second, not after its grown backoff."""
        if self._serving is None:
            await self._sleep(wait, wakeable=False)
            return
        while not self._stop.is_set() and self.breaker.remaining() > 0:
            wait = probe_every(self._comeback_s) * random.uniform(0.5, 1.5)  # jittered: agents drift apart
            await self._sleep(min(wait, self.breaker.remaining()), wakeable=False)
            if self.breaker.remaining() <= 0:
                return
            if not await self._serving():
                self._was_down = True
            elif self._was_down:
                self._was_down = False  # one fast retry per comeback: a controller that serves but refuses backs off
                log.info("the controller serves again: retrying now")
                await self._sleep(self.breaker.retry_soon(self._comeback_s / 2), wakeable=False)
                return

    async def _heartbeat_loop(self) -> None:
        while not self._stop.is_set():
            await self._sleep(self._heartbeat_interval, wakeable=False)
            if self.partitioned or not self._synced or not self.breaker.allow():
                continue
            try:
                resp = await self._stub.Heartbeat(
                    controller_pb2.HeartbeatRequest(
                        host_id=self._identity().host_id, timestamp_ms=int(time.time() * 1000)
                    ),
                    timeout=5.0,
                )
            except grpc.aio.AioRpcError as exc:
                await self._on_failure(exc)
                continue
            self.stats.heartbeats_ok += 1
            self._learn_spread(resp.comeback_spread_ms)
            if resp.reregister:
                log.info("controller asked this agent to register again")
                self._synced = False
                self.wake()

    # calls -------------------------------------------------------------------
    async def _register(self, timeout: float) -> None:
        ident = self._identity()
        sent_at = time.monotonic()
        resp = await self._stub.Register(
            controller_pb2.RegisterRequest(
                host_id=ident.host_id,
                hostname=ident.hostname,
                labels=ident.labels,
                advertise=ident.advertise,
                agent_version=ident.version,
                capabilities=ident.capabilities,
                spool_epoch=self._spool.epoch,
                metrics_address=ident.metrics_address,
                job=ident.job,
            ),
            timeout=timeout,
        )
        if resp.acked_sequence:
            await asyncio.to_thread(self._spool.ack, resp.acked_sequence)
        if resp.heartbeat_interval_ms > 0:
            self._heartbeat_interval = resp.heartbeat_interval_ms / 1000.0
        self._learn_spread(resp.comeback_spread_ms)
        if not self.stats.connected:
            log.info("registered with the controller as %s (acked sequence %d)", ident.host_id, resp.acked_sequence)
        self._synced = True
        self.stats.connected = True
        self.breaker.success()
        self._was_down = False
        if self._registered is not None:
            self._registered(resp, sent_at)

    def _learn_spread(self, spread_ms: int) -> None:
        """Every reply says how long the fleet's comeback should take (0: not said)."""
        if spread_ms > 0:
            self._comeback_s = spread_ms / 1000.0

    async def _push_once(self, timeout: float) -> bool:
        """Push the oldest spooled entries. Returns True when more are waiting."""
        entries = await asyncio.to_thread(self._spool.peek, MAX_PUSH_BYTES)
        if not entries:
            return False
        batch = await asyncio.to_thread(coalesce, entries)
        started = time.perf_counter()
        resp = await self._stub.PushTelemetry(
            controller_pb2.PushTelemetryRequest(
                host_id=self._identity().host_id, spool_epoch=self._spool.epoch, batches=[batch]
            ),
            timeout=timeout,
        )
        self.stats.last_push_seconds = time.perf_counter() - started
        self._learn_spread(resp.comeback_spread_ms)
        await asyncio.to_thread(self._spool.ack, resp.acked_sequence)
        self.stats.pushes_ok += 1
        self.stats.samples_sent += sum(e.n_samples for e in entries)
        self.breaker.success()
        self._was_down = False
        more = len(entries) > 0 and (await asyncio.to_thread(self._spool.peek, 1, 1)) != []
        return more

    async def _on_failure(self, exc: BaseException, *, explain: bool = True) -> None:
        msg = exc.details() if isinstance(exc, grpc.aio.AioRpcError) else type(exc).__name__
        why = ""
        unavailable = isinstance(exc, grpc.aio.AioRpcError) and exc.code() is grpc.StatusCode.UNAVAILABLE
        if explain and self._explain is not None and unavailable:
            why = await self._explain(msg or "")
        self._failed(f"{msg}; likely cause: {why}" if why else msg)

    def _failed(self, msg: str) -> None:
        self._synced = False
        self.stats.connected = False
        self.stats.pushes_failed += 1
        if msg != self.stats.last_error:
            log.warning("controller unreachable or refused: %s", msg)
        self.stats.last_error = msg or ""
        delay = self.breaker.failure()
        log.debug("next attempt in %.2fs", delay)
